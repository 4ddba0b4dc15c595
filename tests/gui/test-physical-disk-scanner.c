/* Filesystem detection (libblkid, on real filesystems) and the sysfs walk
 * behind the physical-disk page. */
#include "physical-disk-scanner.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Formats a file of size bytes with a real mkfs tool (the probing is
 * libblkid's, which checks far more than a magic string). */
static char *
make_fs (const char *dir, const char *name, const char *const *mkfs, gsize size)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *tool = NULL;
  g_autofree char *tool_in_sbin = NULL;
  int status = -1;
  FILE *f = fopen (path, "w");

  g_assert_nonnull (f);
  g_assert_cmpint (ftruncate (fileno (f), (off_t) size), ==, 0);
  fclose (f);
  /* mkfs tools live in /usr/sbin, which a user's PATH may lack. */
  tool = g_find_program_in_path (mkfs[0]);
  tool_in_sbin = g_build_filename ("/usr/sbin", mkfs[0], NULL);
  if (tool == NULL && g_file_test (tool_in_sbin, G_FILE_TEST_IS_EXECUTABLE))
    tool = g_strdup (tool_in_sbin);
  if (tool == NULL)
    return NULL;
  g_ptr_array_add (argv, tool);
  for (guint i = 1; mkfs[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) mkfs[i]);
  g_ptr_array_add (argv, path);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, NULL, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_cmpint (status, ==, 0);
  return g_steal_pointer (&path);
}

static const char *const mkfs_ntfs[] = { "mkntfs", "-F", "-f", "-q", NULL };
static const char *const mkfs_fat[] = { "mkfs.vfat", NULL };
static const char *const mkfs_ext[] = { "mkfs.ext4", "-q", "-F", NULL };
static const char *const mkfs_swap[] = { "mkswap", NULL };

static void
remove_tree (const char *root)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", root);
  g_assert_cmpint (system (cmd), ==, 0);
}

static void
test_signatures (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *root = g_dir_make_tmp ("oriel-fs-XXXXXX", &error);
  g_autofree char *ntfs = make_fs (root, "ntfs", mkfs_ntfs, 2 << 20);
  g_autofree char *fat = make_fs (root, "fat", mkfs_fat, 2 << 20);
  g_autofree char *ext = make_fs (root, "ext", mkfs_ext, 2 << 20);
  g_autofree char *swap = make_fs (root, "swap", mkfs_swap, 1 << 20);
  g_autofree char *zeros = make_fs (root, "zeros", (const char *const[]) { "true", NULL }, 1 << 20);
  g_autofree char *missing = g_build_filename (root, "missing", NULL);
  gboolean readable = FALSE;
  int fd;

  g_assert_no_error (error);
  if (ntfs == NULL || fat == NULL || ext == NULL || swap == NULL)
    {
      g_test_skip ("mkntfs, mkfs.vfat, mkfs.ext4 or mkswap missing");
      remove_tree (root);
      return;
    }
  g_assert_cmpint (oriel_detect_filesystem (zeros, &readable), ==, ORIEL_FS_UNKNOWN);
  g_assert_true (readable);
  g_assert_cmpint (oriel_detect_filesystem (ntfs, &readable), ==, ORIEL_FS_NTFS);
  g_assert_true (oriel_fs_kind_is_windows (ORIEL_FS_NTFS));
  g_assert_cmpint (oriel_detect_filesystem (fat, &readable), ==, ORIEL_FS_FAT);
  g_assert_cmpint (oriel_detect_filesystem (ext, &readable), ==, ORIEL_FS_EXT);
  g_assert_false (oriel_fs_kind_is_windows (ORIEL_FS_EXT));
  g_assert_cmpint (oriel_detect_filesystem (swap, &readable), ==, ORIEL_FS_SWAP);
  /* BitLocker rewrites the NTFS boot sector's OEM id. */
  fd = open (ntfs, O_WRONLY);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (pwrite (fd, "-FVE-FS-", 8, 3), ==, 8);
  close (fd);
  g_assert_cmpint (oriel_detect_filesystem (ntfs, &readable), ==, ORIEL_FS_BITLOCKER);
  g_assert_true (oriel_fs_kind_is_windows (ORIEL_FS_BITLOCKER));
  g_assert_cmpint (oriel_detect_filesystem (missing, &readable), ==, ORIEL_FS_UNKNOWN);
  g_assert_false (readable);
  remove_tree (root);
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
  g_autofree char *ntfs_img = NULL, *ext_img = NULL;
  OrielPhysicalDisk *whole;
  g_autoptr (GPtrArray) disks = NULL;
  OrielPhysicalDisk *disk;
  OrielPartitionInfo *p1, *p2;

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
  ntfs_img = make_fs (dev, "sda1", mkfs_ntfs, 2 << 20);
  /* sda2 has no device node: reported as unreadable, not skipped. */
  /* vdb has no partition table, only an ext4 filesystem. */
  g_assert_cmpint (g_mkdir_with_parents (vdb, 0700), ==, 0);
  write_file (vdb, "size", "4096\n", 5);
  ext_img = make_fs (dev, "vdb", mkfs_ext, 2 << 20);
  if (ntfs_img == NULL || ext_img == NULL)
    {
      g_test_skip ("mkntfs or mkfs.ext4 missing");
      remove_tree (root);
      return;
    }

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

  remove_tree (root);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/physical-disk/signatures", test_signatures);
  g_test_add_func ("/physical-disk/fake-sysfs", test_fake_sysfs);
  return g_test_run ();
}
