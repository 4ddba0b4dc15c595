/* Read-only access to an NTFS volume inside a disk or image, through
 * ntfs-3g's library: never a host mount, never a write. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _OrielNtfsVolume OrielNtfsVolume;

/* Opens the NTFS volume at [offset, offset + size) of fd (fd stays owned by
 * the caller and must outlive the volume). */
OrielNtfsVolume *oriel_ntfs_volume_open (int fd, guint64 offset, guint64 size, GError **error);
void oriel_ntfs_volume_close (OrielNtfsVolume *vol);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrielNtfsVolume, oriel_ntfs_volume_close)

/* Up to len bytes of the file at path ("Windows/System32/config/SYSTEM")
 * from its start; returns the count read, or -1 with G_IO_ERROR_NOT_FOUND
 * when the file does not exist. */
gssize oriel_ntfs_volume_read (OrielNtfsVolume *vol, const char *path, void *buf, gsize len, GError **error);

/* Copies the file at path into out_fd; refuses files above max_len. */
gboolean oriel_ntfs_volume_copy_to_fd (OrielNtfsVolume *vol, const char *path, int out_fd,
                                       guint64 max_len, GError **error);

/* The volume's dirty flag (set while Windows has it mounted, and left set
 * by a crash or by Fast Startup). */
gboolean oriel_ntfs_volume_is_dirty (OrielNtfsVolume *vol);

/* FALSE when $LogFile holds transactions not yet applied; *known is FALSE
 * when $LogFile could not be checked at all. */
gboolean oriel_ntfs_volume_logfile_is_clean (OrielNtfsVolume *vol, gboolean *known);

G_END_DECLS
