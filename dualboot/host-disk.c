/* The disk scan (see host-disk.h): sysfs for the bus, serial and partition
 * nodes, libblkid for the partition table and filesystems, ntfs-3g and
 * hivex for Windows, mtools for the ESP. */
#include "host-disk.h"

#include <blkid.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/fs.h>

#include "esp-files.h"
#include "fs-probe.h"

#define GPT_ESP "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
#define GPT_MSR "e3c9e316-0b5c-4db8-817d-f92df00215ae"
#define GPT_RECOVERY "de94bba4-06d1-4d40-a16a-bfd50179d6ac"
#define GPT_BASIC_DATA "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7"
#define MBR_ESP 0xef
#define MBR_NTFS 0x07
#define MBR_RECOVERY 0x27
#define MBR_ACTIVE 0x80
#define BOOTMGR_PATH "EFI/Microsoft/Boot/bootmgfw.efi"

gboolean
oriel_part_role_is_exposed (OrielPartRole role)
{
  return role != ORIEL_PART_ROLE_OTHER;
}

const char *
oriel_part_role_name (OrielPartRole role)
{
  switch (role)
    {
    case ORIEL_PART_ROLE_ESP: return "esp";
    case ORIEL_PART_ROLE_MSR: return "msr";
    case ORIEL_PART_ROLE_WINDOWS: return "windows";
    case ORIEL_PART_ROLE_RECOVERY: return "recovery";
    case ORIEL_PART_ROLE_OTHER:
    default: return "other";
    }
}

const char *
oriel_part_role_label (OrielPartRole role)
{
  switch (role)
    {
    case ORIEL_PART_ROLE_ESP: return _("EFI system partition");
    case ORIEL_PART_ROLE_MSR: return _("Microsoft reserved partition");
    case ORIEL_PART_ROLE_WINDOWS: return _("Windows");
    case ORIEL_PART_ROLE_RECOVERY: return _("Windows recovery");
    case ORIEL_PART_ROLE_OTHER:
    default: return _("Not shared with the virtual machine");
    }
}

static void
partition_free (OrielHostPartition *p)
{
  g_free (p->type);
  g_free (p->name);
  g_free (p->uuid);
  g_free (p->fs_type);
  g_free (p->fs_label);
  g_free (p->device);
  g_free (p);
}

void
oriel_host_disk_free (OrielHostDisk *disk)
{
  if (disk == NULL)
    return;
  g_free (disk->device);
  g_free (disk->name);
  g_free (disk->bus);
  g_free (disk->serial);
  g_free (disk->model);
  g_free (disk->table_type);
  g_free (disk->table_id);
  g_ptr_array_unref (disk->partitions);
  oriel_windows_install_free (disk->windows);
  g_free (disk->firmware);
  g_free (disk);
}

static char *
read_sysfs (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  g_strstrip (text);
  if (*text == '\0' || !g_utf8_validate (text, -1, NULL))
    g_clear_pointer (&text, g_free);
  return text;
}

static guint64
read_sysfs_u64 (const char *dir, const char *name)
{
  g_autofree char *text = read_sysfs (dir, name);
  return text != NULL ? g_ascii_strtoull (text, NULL, 10) : 0;
}

static dev_t
parse_devnum (const char *text)
{
  guint maj, min;

  if (text == NULL || sscanf (text, "%u:%u", &maj, &min) != 2)
    return 0;
  return makedev (maj, min);
}

const char *
oriel_host_disk_bus_from_sysfs_path (const char *resolved)
{
  g_autofree char *base = g_path_get_basename (resolved);

  if (strstr (resolved, "/nvme/") != NULL || g_str_has_prefix (base, "nvme"))
    return "nvme";
  if (strstr (resolved, "/usb") != NULL)
    return "usb";
  if (strstr (resolved, "/ata") != NULL)
    return "sata";
  if (strstr (resolved, "/virtio") != NULL)
    return "virtio";
  if (g_str_has_prefix (base, "loop"))
    return "loop";
  if (strstr (resolved, "/host") != NULL)
    return "scsi";
  return "unknown";
}

/* udev's record of the disk, for the serial of disks whose sysfs has none
 * (SATA behind libata reports it only through the ATA IDENTIFY data). */
static char *
udev_serial (dev_t devnum)
{
  g_autofree char *path = g_strdup_printf ("/run/udev/data/b%u:%u", major (devnum), minor (devnum));
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  char *found = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL && found == NULL; i++)
    if (g_str_has_prefix (lines[i], "E:ID_SERIAL_SHORT="))
      found = g_strdup (lines[i] + strlen ("E:ID_SERIAL_SHORT="));
  for (guint i = 0; lines[i] != NULL && found == NULL; i++)
    if (g_str_has_prefix (lines[i], "E:ID_SERIAL="))
      found = g_strdup (lines[i] + strlen ("E:ID_SERIAL="));
  if (found != NULL && (*g_strstrip (found) == '\0' || !g_utf8_validate (found, -1, NULL)))
    g_clear_pointer (&found, g_free);
  return found;
}

/* Fills name, bus, serial, model, sector size and the partition nodes from
 * sysfs.  Fails for a partition given where a whole disk is expected. */
static gboolean
read_sysfs_disk (OrielHostDisk *disk, const char *sysfs_root, GHashTable *nodes, GError **error)
{
  g_autofree char *link = g_strdup_printf ("%s/dev/block/%u:%u", sysfs_root, major (disk->devnum),
                                           minor (disk->devnum));
  g_autofree char *dir = realpath (link, NULL);
  g_autofree char *partition_marker = NULL;
  g_autoptr (GDir) entries = NULL;
  const char *child;
  guint64 lbs;

  if (dir == NULL)
    return TRUE; /* no sysfs (a container): the rest still works */
  partition_marker = g_build_filename (dir, "partition", NULL);
  if (g_file_test (partition_marker, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("%s is a partition; give the whole disk it belongs to"), disk->device);
      return FALSE;
    }
  disk->name = g_path_get_basename (dir);
  disk->bus = g_strdup (oriel_host_disk_bus_from_sysfs_path (dir));
  {
    g_autofree char *devdir = g_build_filename (dir, "device", NULL);
    disk->serial = read_sysfs (devdir, "serial");
    disk->model = read_sysfs (devdir, "model");
  }
  if (disk->serial == NULL)
    disk->serial = udev_serial (disk->devnum);
  lbs = read_sysfs_u64 (dir, "queue/logical_block_size");
  if (lbs >= 512 && lbs <= 65536)
    disk->sector_size = (guint) lbs;

  entries = g_dir_open (dir, 0, NULL);
  while (entries != NULL && (child = g_dir_read_name (entries)) != NULL)
    {
      g_autofree char *sub = g_build_filename (dir, child, NULL);
      g_autofree char *number = read_sysfs (sub, "partition");
      g_autofree char *dev = NULL;

      if (number == NULL)
        continue;
      dev = read_sysfs (sub, "dev");
      g_hash_table_insert (nodes, GINT_TO_POINTER ((int) g_ascii_strtoll (number, NULL, 10)),
                           g_strdup_printf ("%s\n%s", child, dev != NULL ? dev : ""));
    }
  return TRUE;
}

static OrielPartRole
role_from_type (const OrielHostPartition *p, gboolean gpt, int mbr_type)
{
  if (gpt)
    {
      if (g_strcmp0 (p->type, GPT_ESP) == 0)
        return ORIEL_PART_ROLE_ESP;
      if (g_strcmp0 (p->type, GPT_MSR) == 0)
        return ORIEL_PART_ROLE_MSR;
      if (g_strcmp0 (p->type, GPT_RECOVERY) == 0)
        return ORIEL_PART_ROLE_RECOVERY;
      return ORIEL_PART_ROLE_OTHER;
    }
  if (mbr_type == MBR_ESP)
    return ORIEL_PART_ROLE_ESP;
  if (mbr_type == MBR_RECOVERY)
    return ORIEL_PART_ROLE_RECOVERY;
  return ORIEL_PART_ROLE_OTHER;
}

static gboolean
read_partition_table (OrielHostDisk *disk, int fd, GHashTable *nodes, GError **error)
{
  blkid_probe pr = blkid_new_probe ();
  blkid_partlist list;
  blkid_parttable table;
  gboolean gpt;
  int n;

  if (pr == NULL || blkid_probe_set_device (pr, fd, 0, 0) != 0)
    {
      if (pr != NULL)
        blkid_free_probe (pr);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("%s: cannot probe the partition table"), disk->device);
      return FALSE;
    }
  blkid_probe_enable_superblocks (pr, 0);
  blkid_probe_enable_partitions (pr, 1);
  blkid_probe_set_partitions_flags (pr, BLKID_PARTS_ENTRY_DETAILS);
  list = blkid_probe_get_partitions (pr);
  table = list != NULL ? blkid_partlist_get_table (list) : NULL;
  if (table == NULL)
    {
      blkid_free_probe (pr);
      return TRUE; /* no partition table: nothing for a dual boot here */
    }
  disk->table_type = g_strdup (blkid_parttable_get_type (table));
  disk->table_id = g_strdup (blkid_parttable_get_id (table));
  gpt = g_strcmp0 (disk->table_type, "gpt") == 0;
  n = blkid_partlist_numof_partitions (list);
  for (int i = 0; i < n; i++)
    {
      blkid_partition par = blkid_partlist_get_partition (list, i);
      OrielHostPartition *p = g_new0 (OrielHostPartition, 1);
      const char *node;
      int mbr_type = 0;

      p->number = blkid_partition_get_partno (par);
      p->start_bytes = (guint64) blkid_partition_get_start (par) * 512;
      p->size_bytes = (guint64) blkid_partition_get_size (par) * 512;
      if (gpt)
        {
          p->type = g_ascii_strdown (blkid_partition_get_type_string (par) ?: "", -1);
          if (blkid_partition_get_name (par) != NULL && *blkid_partition_get_name (par) != '\0')
            p->name = g_utf8_make_valid (blkid_partition_get_name (par), -1);
          p->uuid = g_strdup (blkid_partition_get_uuid (par));
        }
      else
        {
          mbr_type = blkid_partition_get_type (par);
          p->type = g_strdup_printf ("0x%02x", mbr_type);
          p->bootable = (blkid_partition_get_flags (par) & MBR_ACTIVE) != 0;
        }
      p->role = role_from_type (p, gpt, mbr_type);
      /* An extended partition's container holds no filesystem of its own. */
      if (!(!gpt && blkid_partition_is_extended (par)))
        p->fs_type = oriel_fs_probe_fd (fd, p->start_bytes, p->size_bytes, &p->fs_label);
      node = g_hash_table_lookup (nodes, GINT_TO_POINTER (p->number));
      if (node != NULL)
        {
          g_auto (GStrv) parts = g_strsplit (node, "\n", 2);
          p->device = g_build_filename ("/dev", parts[0], NULL);
          p->devnum = parse_devnum (parts[1]);
        }
      g_ptr_array_add (disk->partitions, p);
    }
  blkid_free_probe (pr);
  return TRUE;
}

/* Finds Windows: NTFS partitions holding the SYSTEM hive, else BitLocker
 * volumes (which may hold it, unreadably). */
static void
find_windows (OrielHostDisk *disk, int fd)
{
  for (guint i = 0; i < disk->partitions->len; i++)
    {
      OrielHostPartition *p = disk->partitions->pdata[i];
      g_autoptr (GError) error = NULL;
      OrielWindowsInstall *win;

      if (g_strcmp0 (p->fs_type, "ntfs") == 0)
        {
          win = oriel_windows_install_read (fd, p->start_bytes, p->size_bytes, p->number, &error);
          if (win == NULL)
            continue;
          p->role = ORIEL_PART_ROLE_WINDOWS;
          if (disk->windows == NULL)
            disk->windows = win;
          else
            oriel_windows_install_free (win);
        }
      else if (g_strcmp0 (p->fs_type, "BitLocker") == 0 && p->role == ORIEL_PART_ROLE_OTHER)
        {
          p->role = ORIEL_PART_ROLE_WINDOWS;
          if (disk->windows == NULL)
            {
              disk->windows = oriel_windows_install_new (p->number);
              disk->windows->bitlocker = TRUE;
            }
        }
    }
}

static void
find_firmware (OrielHostDisk *disk)
{
  for (guint i = 0; i < disk->partitions->len; i++)
    {
      OrielHostPartition *p = disk->partitions->pdata[i];
      g_autoptr (GError) error = NULL;

      if (p->role == ORIEL_PART_ROLE_ESP && g_strcmp0 (p->fs_type, "vfat") == 0
          && oriel_esp_has_file (disk->device, p->start_bytes, BOOTMGR_PATH, &error))
        {
          disk->esp_has_bootmgr = TRUE;
          disk->firmware = g_strdup ("uefi");
          return;
        }
    }
  if (g_strcmp0 (disk->table_type, "dos") == 0)
    for (guint i = 0; i < disk->partitions->len; i++)
      {
        OrielHostPartition *p = disk->partitions->pdata[i];

        if (p->bootable && (p->role == ORIEL_PART_ROLE_WINDOWS || g_strcmp0 (p->fs_type, "ntfs") == 0))
          {
            disk->firmware = g_strdup ("bios");
            return;
          }
      }
}

OrielHostDisk *
oriel_host_disk_probe (const char *device, const char *sysfs_root, GError **error)
{
  g_autoptr (OrielHostDisk) disk = g_new0 (OrielHostDisk, 1);
  g_autoptr (GHashTable) nodes = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  struct stat st;
  int fd;
  gboolean ok;

  disk->device = g_strdup (device);
  disk->partitions = g_ptr_array_new_with_free_func ((GDestroyNotify) partition_free);
  disk->sector_size = 512;
  fd = open (device, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _("Cannot open %s: %s"), device,
                   g_strerror (saved));
      return NULL;
    }
  if (fstat (fd, &st) != 0 || !(S_ISBLK (st.st_mode) || S_ISREG (st.st_mode)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("%s is neither a disk nor a disk image file"), device);
      close (fd);
      return NULL;
    }
  if (S_ISBLK (st.st_mode))
    {
      guint64 bytes = 0;

      disk->devnum = st.st_rdev;
      if (ioctl (fd, BLKGETSIZE64, &bytes) == 0)
        disk->size_bytes = bytes;
      if (!read_sysfs_disk (disk, sysfs_root, nodes, error))
        {
          close (fd);
          return NULL;
        }
      if (disk->bus == NULL)
        disk->bus = g_strdup ("unknown");
    }
  else
    {
      disk->size_bytes = (guint64) st.st_size;
      disk->bus = g_strdup ("file");
    }
  ok = read_partition_table (disk, fd, nodes, error);
  if (ok)
    {
      find_windows (disk, fd);
      find_firmware (disk);
    }
  close (fd);
  return ok ? g_steal_pointer (&disk) : NULL;
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

GPtrArray *
oriel_host_disk_list (const char *sysfs_root, gboolean include_loop)
{
  static const char *const never[] = { "ram", "zram", "dm-", "md", "sr", "fd", "nbd", NULL };
  g_autofree char *block = g_build_filename (sysfs_root, "block", NULL);
  g_autoptr (GDir) dir = g_dir_open (block, 0, NULL);
  GPtrArray *disks = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *sub = g_build_filename (block, name, NULL);
      gboolean skip = FALSE;

      for (guint i = 0; never[i] != NULL; i++)
        skip |= g_str_has_prefix (name, never[i]);
      if (g_str_has_prefix (name, "loop"))
        skip |= !include_loop || read_sysfs_u64 (sub, "size") == 0;
      if (!skip)
        g_ptr_array_add (disks, g_build_filename ("/dev", name, NULL));
    }
  g_ptr_array_sort (disks, compare_strings);
  return disks;
}
