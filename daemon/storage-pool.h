/* The 'default' directory storage pool and its raw and qcow2 volumes. */
#pragma once

#include <glib.h>

typedef struct {
  char *name;
  char *path;
  guint8 uuid[16];
} StoragePool;

typedef struct {
  char *name;
  char *path;    /* also the volume key */
  char *format;  /* "raw" or "qcow2" (read from the file, never assumed) */
  guint64 capacity;   /* what the guest sees: a qcow2 image's virtual size */
  guint64 allocation;
  guint64 physical;   /* the file's size */
} StorageVol;

void storage_pool_init (StoragePool *pool, const char *path, const guint8 uuid[16]);
void storage_pool_clear (StoragePool *pool);
gboolean storage_pool_ensure (StoragePool *pool, GError **error);
char *storage_pool_xml (StoragePool *pool);
gboolean storage_pool_space (StoragePool *pool, guint64 *capacity, guint64 *allocation,
                             guint64 *available);

/* Sorted by name. */
GPtrArray *storage_pool_list_vols (StoragePool *pool);
StorageVol *storage_pool_find_vol (StoragePool *pool, const char *name, GError **error);
StorageVol *storage_pool_find_vol_by_path (StoragePool *pool, const char *path, GError **error);
StorageVol *storage_pool_create_vol (StoragePool *pool, const char *xml, GError **error);
/* A new volume from the XML, holding a copy of source's contents
 * (converted when the formats differ), as virsh vol-clone does. */
StorageVol *storage_pool_clone_vol (StoragePool *pool, const char *xml, StorageVol *source,
                                    GError **error);
gboolean storage_pool_delete_vol (StoragePool *pool, const char *name, GError **error);
/* flags: VIR_STORAGE_VOL_RESIZE_DELTA (2), _SHRINK (4); _ALLOCATE (1)
 * is refused. */
gboolean storage_pool_resize_vol (StoragePool *pool, StorageVol *vol, guint64 capacity,
                                  guint flags, GError **error);
char *storage_vol_xml (StoragePool *pool, StorageVol *vol);
void storage_vol_free (StorageVol *vol);
/* Sizes and format of any image file or block device (name: its base
 * name); NULL when it cannot be opened or is neither. */
StorageVol *storage_file_stat (const char *path);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (StorageVol, storage_vol_free)
