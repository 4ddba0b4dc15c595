/* Finds the host's disks and partitions for the dual-boot source page.
 * Everything here only reads. */
#include "physical-disk-scanner.h"

#include <glib/gi18n.h>
#include <string.h>

#include "fs-probe.h"

OrielFsKind
oriel_fs_kind_from_blkid_type (const char *type)
{
  static const struct {
    const char *type;
    OrielFsKind kind;
  } kinds[] = {
    { "ntfs", ORIEL_FS_NTFS },
    { "BitLocker", ORIEL_FS_BITLOCKER },
    { "vfat", ORIEL_FS_FAT },
    { "msdos", ORIEL_FS_FAT },
    { "ext2", ORIEL_FS_EXT },
    { "ext3", ORIEL_FS_EXT },
    { "ext4", ORIEL_FS_EXT },
    { "swap", ORIEL_FS_SWAP },
  };

  for (guint i = 0; type != NULL && i < G_N_ELEMENTS (kinds); i++)
    if (g_str_equal (type, kinds[i].type))
      return kinds[i].kind;
  return ORIEL_FS_UNKNOWN;
}

OrielFsKind
oriel_detect_filesystem (const char *device, gboolean *readable)
{
  g_autofree char *type = oriel_fs_probe_path (device, readable);

  return oriel_fs_kind_from_blkid_type (type);
}

const char *
oriel_fs_kind_label (OrielFsKind fs)
{
  switch (fs)
    {
    case ORIEL_FS_NTFS: return _("NTFS");
    case ORIEL_FS_BITLOCKER: return _("BitLocker (encrypted)");
    case ORIEL_FS_FAT: return _("FAT (EFI system or data)");
    case ORIEL_FS_EXT: return _("Linux ext2/3/4");
    case ORIEL_FS_SWAP: return _("Linux swap");
    case ORIEL_FS_UNKNOWN:
    default: return _("Unknown");
    }
}

gboolean
oriel_fs_kind_is_windows (OrielFsKind fs)
{
  return fs == ORIEL_FS_NTFS || fs == ORIEL_FS_BITLOCKER;
}

static guint64
read_u64 (const char *path)
{
  g_autofree char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  return g_ascii_strtoull (text, NULL, 10);
}

static gboolean
is_disk_name (const char *name)
{
  static const char *const prefixes[] = { "sd", "nvme", "vd", "hd", "xvd", "mmcblk", NULL };

  for (guint i = 0; prefixes[i]; i++)
    if (g_str_has_prefix (name, prefixes[i]))
      return TRUE;
  return FALSE;
}

static void
partition_free (OrielPartitionInfo *p)
{
  g_free (p->name);
  g_free (p->device);
  g_free (p);
}

void
oriel_physical_disk_free (OrielPhysicalDisk *disk)
{
  g_free (disk->name);
  g_free (disk->device);
  g_free (disk->model);
  g_ptr_array_unref (disk->partitions);
  g_free (disk);
}

static gint
compare_partitions (gconstpointer a, gconstpointer b)
{
  const OrielPartitionInfo *pa = *(OrielPartitionInfo **) a, *pb = *(OrielPartitionInfo **) b;
  return strlen (pa->name) != strlen (pb->name)
         ? (gint) strlen (pa->name) - (gint) strlen (pb->name)
         : strcmp (pa->name, pb->name);
}

GPtrArray *
oriel_scan_physical_disks (const char *sysfs_root, const char *dev_root)
{
  GPtrArray *disks = g_ptr_array_new_with_free_func ((GDestroyNotify) oriel_physical_disk_free);
  g_autofree char *block_dir = g_build_filename (sysfs_root, "block", NULL);
  g_autoptr (GDir) dir = g_dir_open (block_dir, 0, NULL);
  const char *name;

  if (dir == NULL)
    return disks;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *disk_dir = NULL, *size_path = NULL, *model_path = NULL, *model = NULL;
      g_autoptr (GDir) sub = NULL;
      OrielPhysicalDisk *disk;
      const char *child;

      if (!is_disk_name (name))
        continue;
      disk_dir = g_build_filename (block_dir, name, NULL);
      size_path = g_build_filename (disk_dir, "size", NULL);
      model_path = g_build_filename (disk_dir, "device", "model", NULL);
      disk = g_new0 (OrielPhysicalDisk, 1);
      disk->name = g_strdup (name);
      disk->device = g_build_filename (dev_root, name, NULL);
      disk->size_bytes = read_u64 (size_path) * 512;
      if (g_file_get_contents (model_path, &model, NULL, NULL))
        disk->model = g_strstrip (g_steal_pointer (&model));
      disk->partitions = g_ptr_array_new_with_free_func ((GDestroyNotify) partition_free);

      sub = g_dir_open (disk_dir, 0, NULL);
      while (sub != NULL && (child = g_dir_read_name (sub)) != NULL)
        {
          g_autofree char *part_marker = g_build_filename (disk_dir, child, "partition", NULL);
          g_autofree char *part_size = NULL;
          OrielPartitionInfo *p;

          if (!g_str_has_prefix (child, name) || !g_file_test (part_marker, G_FILE_TEST_EXISTS))
            continue;
          part_size = g_build_filename (disk_dir, child, "size", NULL);
          p = g_new0 (OrielPartitionInfo, 1);
          p->name = g_strdup (child);
          p->device = g_build_filename (dev_root, child, NULL);
          p->size_bytes = read_u64 (part_size) * 512;
          p->fs = oriel_detect_filesystem (p->device, &p->readable);
          g_ptr_array_add (disk->partitions, p);
        }
      g_ptr_array_sort (disk->partitions, compare_partitions);
      if (disk->partitions->len == 0)
        disk->fs = oriel_detect_filesystem (disk->device, &disk->readable);
      g_ptr_array_add (disks, disk);
    }
  return disks;
}
