/* A physical disk of this computer as the dual-boot feature sees it: bus,
 * serial, size, partition table and each partition's type, filesystem and
 * role.  Everything here only reads. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "windows-install.h"

G_BEGIN_DECLS

typedef enum {
  ORIEL_PART_ROLE_OTHER,    /* Linux root, home, swap, data: never exposed */
  ORIEL_PART_ROLE_ESP,      /* EFI system partition */
  ORIEL_PART_ROLE_MSR,      /* Microsoft reserved */
  ORIEL_PART_ROLE_WINDOWS,  /* holds Windows/System32/config/SYSTEM, or BitLocker */
  ORIEL_PART_ROLE_RECOVERY, /* Windows recovery environment */
} OrielPartRole;

typedef struct {
  int number;            /* 1-based, as in the partition table */
  guint64 start_bytes;
  guint64 size_bytes;
  char *type;            /* GPT type GUID (lower case) or MBR type "0x07" */
  char *name;            /* GPT partition name, or NULL */
  char *uuid;            /* GPT partition GUID, or NULL */
  gboolean bootable;     /* MBR active flag */
  char *fs_type;         /* libblkid TYPE: "ntfs", "vfat", "ext4", "BitLocker", or NULL */
  char *fs_label;
  char *device;          /* the partition's device node, when the kernel made one */
  dev_t devnum;          /* its major:minor, 0 when unknown */
  OrielPartRole role;
} OrielHostPartition;

typedef struct {
  char *device;          /* "/dev/nvme0n1" (or an image file) */
  char *name;            /* "nvme0n1", NULL for a regular file */
  char *bus;             /* "nvme", "sata", "usb", "virtio", "scsi", "loop", "file" or "unknown" */
  char *serial;          /* NULL when the disk reports none */
  char *model;
  guint64 size_bytes;
  guint sector_size;
  dev_t devnum;          /* 0 for a regular file */
  char *table_type;      /* "gpt", "dos" or NULL */
  char *table_id;        /* GPT disk GUID or MBR disk signature */
  GPtrArray *partitions; /* OrielHostPartition* in table order */
  OrielWindowsInstall *windows; /* NULL when no Windows partition was found */
  /* Firmware the installation boots with: "uefi" (GPT, ESP holding
   * EFI/Microsoft/Boot/bootmgfw.efi), "bios" (MBR, active Windows
   * partition) or NULL when neither fits. */
  char *firmware;
  gboolean esp_has_bootmgr;
} OrielHostDisk;

/* Reads everything above from a block device or image file (read-only).
 * sysfs_root is "/sys" normally. */
OrielHostDisk *oriel_host_disk_probe (const char *device, const char *sysfs_root, GError **error);
void oriel_host_disk_free (OrielHostDisk *disk);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrielHostDisk, oriel_host_disk_free)

/* The whole disks under sysfs_root/block as "/dev/NAME" paths, sorted.
 * Loop devices only with include_loop; RAM disks, device-mapper, md, optical
 * and zram devices never. */
GPtrArray *oriel_host_disk_list (const char *sysfs_root, gboolean include_loop);

/* The partitions a VM would see: ESP, MSR, Windows, recovery. */
gboolean oriel_part_role_is_exposed (OrielPartRole role);
const char *oriel_part_role_name (OrielPartRole role); /* "esp", "msr", ... */
const char *oriel_part_role_label (OrielPartRole role); /* translated */

/* The bus from a disk's resolved sysfs path, e.g.
 * "/sys/devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1". */
const char *oriel_host_disk_bus_from_sysfs_path (const char *resolved);

G_END_DECLS
