/* Finds the host's disks and partitions for the dual-boot source page.
 * Everything here only reads. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  ORIEL_FS_UNKNOWN,
  ORIEL_FS_NTFS,
  ORIEL_FS_BITLOCKER,
  ORIEL_FS_FAT,
  ORIEL_FS_EXT,
  ORIEL_FS_SWAP,
} OrielFsKind;

typedef struct {
  char *name;        /* "sda2" */
  char *device;      /* "/dev/sda2" */
  guint64 size_bytes;
  OrielFsKind fs;
  gboolean readable; /* FALSE when the device could not be opened */
} OrielPartitionInfo;

typedef struct {
  char *name;        /* "sda" */
  char *device;      /* "/dev/sda" */
  char *model;
  guint64 size_bytes;
  GPtrArray *partitions; /* OrielPartitionInfo* */
  /* Filesystem directly on the disk (no partition table), if any. */
  OrielFsKind fs;
  gboolean readable;
} OrielPhysicalDisk;

/* Recognises the filesystem of a partition or disk with libblkid (through
 * liboriel-dualboot); *readable is FALSE when it cannot be opened. */
OrielFsKind oriel_detect_filesystem (const char *device, gboolean *readable);
/* Maps libblkid's TYPE ("ntfs", "BitLocker", "vfat", "ext4", "swap"). */
OrielFsKind oriel_fs_kind_from_blkid_type (const char *type);
const char *oriel_fs_kind_label (OrielFsKind fs);
/* TRUE for partitions that may hold a Windows installation. */
gboolean oriel_fs_kind_is_windows (OrielFsKind fs);

/* sysfs_root is "/sys" normally; dev_root "/dev". Returns OrielPhysicalDisk*. */
GPtrArray *oriel_scan_physical_disks (const char *sysfs_root, const char *dev_root);
void oriel_physical_disk_free (OrielPhysicalDisk *disk);

G_END_DECLS
