/* The dual-boot library's parsers on synthetic input: mountinfo and
 * /proc/swaps text, hiberfil.sys headers, registry hives built with
 * hivexregedit, partition-table fingerprints, the per-disk lock. */
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "disk-lock.h"
#include "host-disk.h"
#include "host-use.h"
#include "partition-fingerprint.h"
#include "safety-checks.h"
#include "windows-install.h"

static void
test_mountinfo (void)
{
  const char *text =
    "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n"
    "30 22 259:1 / /boot/efi rw shared:2 - vfat /dev/nvme0n1p1 rw\n"
    "31 22 259:3 / /media/user/Windows\\040Disk ro shared:3 - fuseblk /dev/nvme0n1p3 ro\n"
    "32 22 259:3 /Users /mnt/users ro shared:4 - fuseblk /dev/nvme0n1p3 ro\n"
    "garbage line\n"
    "33 22 259:30 / /other rw - ext4 /dev/x rw\n"
    "34 22 0:52 / /home/user/win rw,nosuid - fuse /dev/nvme0n1p3 rw,user_id=1000\n";
  g_autoptr (GPtrArray) esp = oriel_mountinfo_mount_points (text, makedev (259, 1), NULL);
  g_autoptr (GPtrArray) win = oriel_mountinfo_mount_points (text, makedev (259, 3), NULL);
  g_autoptr (GPtrArray) win_fuse = oriel_mountinfo_mount_points (text, makedev (259, 3), "/dev/nvme0n1p3");
  g_autoptr (GPtrArray) none = oriel_mountinfo_mount_points (text, makedev (259, 4), "/dev/nvme0n1p4");

  g_assert_cmpuint (esp->len, ==, 1);
  g_assert_cmpstr (esp->pdata[0], ==, "/boot/efi");
  g_assert_cmpuint (win->len, ==, 2);
  g_assert_cmpstr (win->pdata[0], ==, "/media/user/Windows Disk");
  g_assert_cmpstr (win->pdata[1], ==, "/mnt/users");
  /* A user's FUSE mount has an anonymous major:minor; its source names it. */
  g_assert_cmpuint (win_fuse->len, ==, 3);
  g_assert_cmpstr (win_fuse->pdata[2], ==, "/home/user/win");
  g_assert_cmpuint (none->len, ==, 0);
}

static void
test_swaps (void)
{
  const char *text = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
                     "/dev/sda5                               partition\t1000\t0\t-2\n"
                     "/swap\\040file\tfile\t100\t0\t-3\n";
  g_autoptr (GPtrArray) devices = oriel_swaps_devices (text);
  g_autoptr (GPtrArray) empty = oriel_swaps_devices ("Filename\tType\tSize\tUsed\tPriority\n");

  g_assert_cmpuint (devices->len, ==, 2);
  g_assert_cmpstr (devices->pdata[0], ==, "/dev/sda5");
  g_assert_cmpstr (devices->pdata[1], ==, "/swap file");
  g_assert_cmpuint (empty->len, ==, 0);
}

static void
test_hiberfil (void)
{
  static const guint8 zero[4096];

  g_assert_true (oriel_hiberfil_magic_is_hibernated ((const guint8 *) "HIBR\0\0\0\0", 8));
  g_assert_true (oriel_hiberfil_magic_is_hibernated ((const guint8 *) "hibr", 4));
  g_assert_true (oriel_hiberfil_magic_is_hibernated ((const guint8 *) "wake", 4));
  g_assert_false (oriel_hiberfil_magic_is_hibernated (zero, sizeof zero));
  g_assert_false (oriel_hiberfil_magic_is_hibernated ((const guint8 *) "HIB", 3));
  g_assert_false (oriel_hiberfil_magic_is_hibernated ((const guint8 *) "Hibr", 4));
}

static void
test_bus_and_controller (void)
{
  g_assert_cmpstr (oriel_host_disk_bus_from_sysfs_path (
                     "/sys/devices/pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1"), ==, "nvme");
  g_assert_cmpstr (oriel_host_disk_bus_from_sysfs_path (
                     "/sys/devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda"), ==, "sata");
  g_assert_cmpstr (oriel_host_disk_bus_from_sysfs_path (
                     "/sys/devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host4/target4:0:0/4:0:0:0/block/sdb"),
                   ==, "usb");
  g_assert_cmpstr (oriel_host_disk_bus_from_sysfs_path ("/sys/devices/pci0000:00/0000:00:04.0/virtio1/block/vda"),
                   ==, "virtio");
  g_assert_cmpstr (oriel_host_disk_bus_from_sysfs_path ("/sys/devices/virtual/block/loop3"), ==, "loop");

  g_assert_cmpint (oriel_boot_controller_choose ("nvme", 0, 3), ==, ORIEL_BOOT_CONTROLLER_NVME);
  g_assert_cmpint (oriel_boot_controller_choose ("sata", 0, 3), ==, ORIEL_BOOT_CONTROLLER_NVME);
  g_assert_cmpint (oriel_boot_controller_choose ("sata", 0, 0), ==, ORIEL_BOOT_CONTROLLER_AHCI);
  g_assert_cmpint (oriel_boot_controller_choose ("nvme", 0, 0), ==, ORIEL_BOOT_CONTROLLER_NVME);
  g_assert_cmpint (oriel_boot_controller_choose ("nvme", 3, 0), ==, ORIEL_BOOT_CONTROLLER_AHCI);
  g_assert_cmpint (oriel_boot_controller_choose ("nvme", 3, 4), ==, ORIEL_BOOT_CONTROLLER_NONE);
  g_assert_cmpint (oriel_boot_controller_choose ("nvme", -1, -1), ==, ORIEL_BOOT_CONTROLLER_NONE);
}

static char *
hive (const char *name)
{
  return g_build_filename (g_getenv ("ORIEL_TEST_HIVES"), name, NULL);
}

static void
test_registry (void)
{
  g_autoptr (OrielWindowsInstall) win = oriel_windows_install_new (3);
  g_autoptr (OrielWindowsInstall) over = oriel_windows_install_new (3);
  g_autoptr (OrielWindowsInstall) none = oriel_windows_install_new (3);
  g_autoptr (OrielWindowsInstall) bad = oriel_windows_install_new (3);
  g_autoptr (GError) error = NULL;
  g_autofree char *system = NULL, *system_over = NULL, *system_none = NULL, *software = NULL;

  if (g_getenv ("ORIEL_TEST_HIVES") == NULL)
    {
      g_test_skip ("no test hives (hivexregedit missing at build time)");
      return;
    }
  system = hive ("SYSTEM");
  system_over = hive ("SYSTEM-override");
  system_none = hive ("SYSTEM-none");
  software = hive ("SOFTWARE");
  g_assert_true (oriel_windows_read_system_hive (system, win, &error));
  g_assert_no_error (error);
  g_assert_cmpint (win->control_set, ==, 1);
  g_assert_cmpint (win->stornvme_start, ==, 0);
  g_assert_cmpint (win->storahci_start, ==, 3);
  g_assert_true (oriel_windows_read_software_hive (software, win, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (win->product_name, ==, "Windows 10 Pro");
  g_assert_cmpstr (win->edition_id, ==, "Professional");
  g_assert_cmpstr (win->current_build, ==, "19045");
  g_assert_cmpstr (win->display_version, ==, "22H2");

  /* ControlSet002 is current there, and StartOverride\0 wins over Start. */
  g_assert_true (oriel_windows_read_system_hive (system_over, over, &error));
  g_assert_cmpint (over->control_set, ==, 2);
  g_assert_cmpint (over->stornvme_start, ==, 3);
  g_assert_cmpint (over->storahci_start, ==, 0);

  g_assert_true (oriel_windows_read_system_hive (system_none, none, &error));
  g_assert_cmpint (none->stornvme_start, ==, 3);
  g_assert_cmpint (none->storahci_start, ==, 4);

  /* A SOFTWARE hive has no Select key; a text file is no hive. */
  g_assert_false (oriel_windows_read_system_hive (software, bad, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_false (oriel_windows_read_software_hive ("/etc/hostname", bad, &error));
  g_assert_nonnull (error);
}

/* A 34-sector GPT disk image: protective MBR, header, 4 entries. */
static char *
write_gpt (const char *dir, const char *part_name)
{
  g_autofree char *path = g_build_filename (dir, "disk.img", NULL);
  guint8 img[512 * 34] = { 0 };
  guint8 *hdr = img + 512, *entry = img + 1024;
  g_autoptr (GError) error = NULL;

  memcpy (img, "\xfa\x33\xc0", 3); /* boot code */
  img[446 + 4] = 0xee;
  img[510] = 0x55;
  img[511] = 0xaa;
  memcpy (hdr, "EFI PART", 8);
  hdr[12] = 92;  /* header size */
  hdr[72] = 2;   /* entries at LBA 2 */
  hdr[80] = 4;   /* 4 entries */
  hdr[84] = 0x80; /* of 128 bytes */
  memset (entry, 0xab, 16); /* type */
  entry[32] = 34; /* first LBA */
  for (guint i = 0; part_name[i] != '\0'; i++)
    entry[56 + 2 * i] = (guint8) part_name[i];
  g_file_set_contents (path, (const char *) img, sizeof img, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&path);
}

static char *
sha_of (const char *path, gboolean gpt, GError **error)
{
  int fd = open (path, O_RDONLY);
  char *sha;

  g_assert_cmpint (fd, >=, 0);
  sha = oriel_partition_table_sha256 (fd, 512, gpt, error);
  close (fd);
  return sha;
}

static void
test_fingerprint_bytes (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("oriel-fp-XXXXXX", &error);
  g_autofree char *path = write_gpt (dir, "Windows");
  g_autofree char *first = sha_of (path, TRUE, &error);
  g_autofree char *renamed = NULL, *boot_code = NULL, *broken = NULL;
  int fd;

  g_assert_no_error (error);
  g_assert_cmpuint (strlen (first), ==, 64);
  /* A partition name is part of the table. */
  g_free (write_gpt (dir, "Changed"));
  renamed = sha_of (path, TRUE, &error);
  g_assert_cmpstr (first, !=, renamed);
  /* The MBR's boot code is not (GRUB rewrites it). */
  fd = open (path, O_WRONLY);
  g_assert_cmpint (pwrite (fd, "\x90\x90\x90\x90", 4, 0), ==, 4);
  close (fd);
  boot_code = sha_of (path, TRUE, &error);
  g_assert_cmpstr (boot_code, ==, renamed);
  /* A header claiming an absurd entry array is refused, not read. */
  fd = open (path, O_WRONLY);
  g_assert_cmpint (pwrite (fd, "\xff\xff\xff\x7f", 4, 512 + 80), ==, 4);
  close (fd);
  broken = sha_of (path, TRUE, &error);
  g_assert_null (broken);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_fingerprint_compare (void)
{
  const char *recorded =
    "sha256\taaaa\n"
    "table\tgpt\tid=1111\n"
    "partition\t1\tstart=1048576\tsize=100\ttype=esp\tuuid=u1\tname=EFI\tactive=0\n"
    "partition\t3\tstart=2097152\tsize=300\ttype=data\tuuid=u3\tname=Basic data partition\tactive=0\n"
    "partition\t4\tstart=9000000\tsize=400\ttype=linux\tuuid=u4\tname=root\tactive=0\n";
  const char *current =
    "sha256\tbbbb\n"
    "table\tgpt\tid=1111\n"
    "partition\t1\tstart=1048576\tsize=100\ttype=esp\tuuid=u1\tname=EFI\tactive=0\n"
    "partition\t3\tstart=2097152\tsize=300\ttype=data\tuuid=u3\tname=Changed\tactive=0\n"
    "partition\t5\tstart=9500000\tsize=10\ttype=linux\tuuid=u5\tname=new\tactive=0\n";
  g_autofree char *diff = NULL, *same = NULL, *bytes_only = NULL;

  g_assert_true (oriel_partition_fingerprint_compare (recorded, recorded, &same));
  g_assert_null (same);
  g_assert_false (oriel_partition_fingerprint_compare (recorded, current, &diff));
  g_assert_cmpstr (diff, ==,
                   "Partition 3: name changed from “Basic data partition” to “Changed”\n"
                   "Partition 4 was removed (it had 400 bytes at 9000000)\n"
                   "Partition 5 was added (10 bytes at 9500000)");
  /* Same layout, other bytes (an attribute bit): still a change. */
  g_assert_false (oriel_partition_fingerprint_compare (recorded, "sha256\tcccc\n", &bytes_only));
  g_assert_nonnull (bytes_only);
}

static void
test_lock (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("oriel-lock-XXXXXX", &error);
  OrielHostDisk disk = { .device = (char *) "/dev/nvme0n1", .serial = (char *) "S4EW NJ0/N1", .devnum = makedev (259, 0) };
  OrielHostDisk other = { .device = (char *) "/dev/sdb", .table_id = (char *) "a8b51d2d" };
  g_autofree char *name = oriel_disk_lock_name (&disk);
  g_autofree char *other_name = oriel_disk_lock_name (&other);
  OrielDiskLock *lock, *second;
  int holder = -1;

  g_assert_cmpstr (name, ==, "dualboot-serial-S4EW_NJ0_N1.lock");
  g_assert_cmpstr (other_name, ==, "dualboot-table-a8b51d2d.lock");
  lock = oriel_disk_lock_acquire (&disk, dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (lock);
  /* flock() locks belong to the open file, so a second open in this
   * process conflicts as another process would. */
  second = oriel_disk_lock_acquire (&disk, dir, &error);
  g_assert_null (second);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_assert_nonnull (strstr (error->message, "Another virtual machine is using this disk"));
  g_clear_error (&error);
  g_assert_false (oriel_disk_lock_is_free (&disk, dir, &holder, &error));
  g_assert_no_error (error);
  g_assert_cmpint (holder, ==, getpid ());
  g_assert_true (oriel_disk_lock_is_free (&other, dir, &holder, &error));
  oriel_disk_lock_release (lock);
  g_assert_true (oriel_disk_lock_is_free (&disk, dir, &holder, &error));
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
    g_assert_cmpint (system (cmd), ==, 0);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dualboot/mountinfo", test_mountinfo);
  g_test_add_func ("/dualboot/swaps", test_swaps);
  g_test_add_func ("/dualboot/hiberfil", test_hiberfil);
  g_test_add_func ("/dualboot/bus-and-controller", test_bus_and_controller);
  g_test_add_func ("/dualboot/registry", test_registry);
  g_test_add_func ("/dualboot/fingerprint-bytes", test_fingerprint_bytes);
  g_test_add_func ("/dualboot/fingerprint-compare", test_fingerprint_compare);
  g_test_add_func ("/dualboot/lock", test_lock);
  return g_test_run ();
}
