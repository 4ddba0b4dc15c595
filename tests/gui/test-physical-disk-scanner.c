/* Filesystem signatures and the sysfs walk behind the physical-disk page. */
#include "physical-disk-scanner.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

static void
test_signatures (void)
{
  guint8 buf[4096];

  memset (buf, 0, sizeof buf);
  g_assert_cmpint (oriel_detect_filesystem (buf, sizeof buf), ==, ORIEL_FS_UNKNOWN);
  memcpy (buf + 3, "NTFS    ", 8);
  g_assert_cmpint (oriel_detect_filesystem (buf, sizeof buf), ==, ORIEL_FS_NTFS);
  g_assert_true (oriel_fs_kind_is_windows (ORIEL_FS_NTFS));
  memcpy (buf + 3, "-FVE-FS-", 8);
  g_assert_cmpint (oriel_detect_filesystem (buf, sizeof buf), ==, ORIEL_FS_BITLOCKER);
  memset (buf, 0, sizeof buf);
  memcpy (buf + 82, "FAT32   ", 8);
  g_assert_cmpint (oriel_detect_filesystem (buf, sizeof buf), ==, ORIEL_FS_FAT);
  memset (buf, 0, sizeof buf);
  buf[1080] = 0x53;
  buf[1081] = 0xef;
  g_assert_cmpint (oriel_detect_filesystem (buf, sizeof buf), ==, ORIEL_FS_EXT);
  g_assert_false (oriel_fs_kind_is_windows (ORIEL_FS_EXT));
  memset (buf, 0, sizeof buf);
  memcpy (buf + 4086, "SWAPSPACE2", 10);
  g_assert_cmpint (oriel_detect_filesystem (buf, sizeof buf), ==, ORIEL_FS_SWAP);
  /* Short reads never look past the buffer. */
  g_assert_cmpint (oriel_detect_filesystem (buf, 8), ==, ORIEL_FS_UNKNOWN);
}

static void
write_file (const char *dir, const char *name, const void *data, gsize len)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, data, len, &error);
  g_assert_no_error (error);
}

static void
test_fake_sysfs (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *root = g_dir_make_tmp ("oriel-sysfs-XXXXXX", &error);
  g_autofree char *sys = g_build_filename (root, "sys", "block", "sda", "sda1", NULL);
  g_autofree char *sys2 = g_build_filename (root, "sys", "block", "sda", "sda2", NULL);
  g_autofree char *loop = g_build_filename (root, "sys", "block", "loop0", NULL);
  g_autofree char *dev = g_build_filename (root, "dev", NULL);
  g_autofree char *sda = g_build_filename (root, "sys", "block", "sda", NULL);
  g_autofree char *sysroot = g_build_filename (root, "sys", NULL);
  g_autofree char *vdb = g_build_filename (root, "sys", "block", "vdb", NULL);
  guint8 ext[4096] = { 0 };
  OrielPhysicalDisk *whole;
  g_autoptr (GPtrArray) disks = NULL;
  OrielPhysicalDisk *disk;
  OrielPartitionInfo *p1, *p2;
  guint8 ntfs[4096] = { 0 };

  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir_with_parents (sys, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (sys2, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (loop, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (dev, 0700), ==, 0);
  write_file (sda, "size", "2000\n", 5);
  write_file (sys, "size", "1000\n", 5);
  write_file (sys, "partition", "1\n", 2);
  write_file (sys2, "size", "900\n", 4);
  write_file (sys2, "partition", "2\n", 2);
  memcpy (ntfs + 3, "NTFS    ", 8);
  write_file (dev, "sda1", ntfs, sizeof ntfs);
  /* sda2 has no device node: reported as unreadable, not skipped. */
  /* vdb has no partition table, only an ext4 filesystem. */
  g_assert_cmpint (g_mkdir_with_parents (vdb, 0700), ==, 0);
  write_file (vdb, "size", "4096\n", 5);
  ext[1080] = 0x53;
  ext[1081] = 0xef;
  write_file (dev, "vdb", ext, sizeof ext);

  disks = oriel_scan_physical_disks (sysroot, dev);
  g_assert_cmpuint (disks->len, ==, 2); /* loop0 is not a disk */
  disk = g_str_equal (((OrielPhysicalDisk *) disks->pdata[0])->name, "sda") ? disks->pdata[0] : disks->pdata[1];
  whole = disk == disks->pdata[0] ? disks->pdata[1] : disks->pdata[0];
  g_assert_cmpstr (whole->name, ==, "vdb");
  g_assert_cmpuint (whole->partitions->len, ==, 0);
  g_assert_true (whole->readable);
  g_assert_cmpint (whole->fs, ==, ORIEL_FS_EXT);
  g_assert_cmpstr (disk->name, ==, "sda");
  g_assert_cmpuint (disk->size_bytes, ==, 2000 * 512);
  g_assert_cmpuint (disk->partitions->len, ==, 2);
  p1 = disk->partitions->pdata[0];
  p2 = disk->partitions->pdata[1];
  g_assert_cmpstr (p1->name, ==, "sda1");
  g_assert_true (p1->readable);
  g_assert_cmpint (p1->fs, ==, ORIEL_FS_NTFS);
  g_assert_cmpuint (p1->size_bytes, ==, 1000 * 512);
  g_assert_cmpstr (p2->name, ==, "sda2");
  g_assert_false (p2->readable);

  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", root);
    g_assert_cmpint (system (cmd), ==, 0);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/physical-disk/signatures", test_signatures);
  g_test_add_func ("/physical-disk/fake-sysfs", test_fake_sysfs);
  return g_test_run ();
}
