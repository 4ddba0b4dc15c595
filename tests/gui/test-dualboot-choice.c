/* What the assistant says about a disk holding Windows, and what it takes
 * from it for the domain XML: descriptions, exposed partitions, the bus
 * the boot driver needs, and which checks allow real mode. */
#include "dualboot-choice.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

static void
part_free (OrielHostPartition *p)
{
  g_free (p->fs_type);
  g_free (p);
}

static void
add_part (OrielHostDisk *disk, int number, guint64 mib, OrielPartRole role, const char *fs)
{
  OrielHostPartition *p = g_new0 (OrielHostPartition, 1);

  p->number = number;
  p->size_bytes = mib << 20;
  p->role = role;
  p->fs_type = g_strdup (fs);
  g_ptr_array_add (disk->partitions, p);
}

/* A GPT disk like a laptop's: ESP, MSR, Windows, recovery, Linux. */
static OrielHostDisk *
laptop_disk (const char *bus, int stornvme, int storahci)
{
  OrielHostDisk *disk = g_new0 (OrielHostDisk, 1);

  disk->device = g_strdup ("/dev/nvme0n1");
  disk->bus = g_strdup (bus);
  disk->model = g_strdup ("Example SSD");
  disk->size_bytes = 512ull << 30;
  disk->table_type = g_strdup ("gpt");
  disk->firmware = g_strdup ("uefi");
  disk->partitions = g_ptr_array_new_with_free_func ((GDestroyNotify) part_free);
  add_part (disk, 1, 100, ORIEL_PART_ROLE_ESP, "vfat");
  add_part (disk, 2, 16, ORIEL_PART_ROLE_MSR, NULL);
  add_part (disk, 3, 200000, ORIEL_PART_ROLE_WINDOWS, "ntfs");
  add_part (disk, 4, 600, ORIEL_PART_ROLE_RECOVERY, "ntfs");
  add_part (disk, 5, 300000, ORIEL_PART_ROLE_OTHER, "ext4");
  disk->windows = oriel_windows_install_new (3);
  disk->windows->product_name = g_strdup ("Windows 11 Pro");
  disk->windows->edition_id = g_strdup ("Professional");
  disk->windows->current_build = g_strdup ("22631");
  disk->windows->display_version = g_strdup ("23H2");
  disk->windows->stornvme_start = stornvme;
  disk->windows->storahci_start = storahci;
  return disk;
}

static void
add_check (GPtrArray *checks, const char *id, OrielCheckVerdict verdict, const char *message)
{
  OrielSafetyCheck *check = g_new0 (OrielSafetyCheck, 1);

  check->id = id;
  check->verdict = verdict;
  check->message = g_strdup (message);
  g_ptr_array_add (checks, check);
}

static void
check_free (OrielSafetyCheck *check)
{
  g_free (check->message);
  g_free (check->advice);
  g_free (check);
}

static OrielDualbootCandidate *
candidate (OrielHostDisk *disk)
{
  OrielDualbootCandidate *c = g_new0 (OrielDualbootCandidate, 1);

  c->disk = disk;
  c->checks = g_ptr_array_new_with_free_func ((GDestroyNotify) check_free);
  c->controller = oriel_boot_controller_choose (disk->bus, disk->windows->stornvme_start,
                                                disk->windows->storahci_start);
  add_check (c->checks, "windows", ORIEL_CHECK_PASS, "found");
  add_check (c->checks, "activation", ORIEL_CHECK_WARN, "activation");
  return c;
}

static void
test_describe (void)
{
  g_autoptr (OrielDualbootCandidate) c = candidate (laptop_disk ("nvme", 0, 3));
  g_autofree char *windows = oriel_dualboot_describe_windows (c->disk);
  g_autofree char *parts = oriel_dualboot_describe_partitions (c->disk);
  g_autofree char *disk = oriel_dualboot_describe_disk (c->disk);

  g_assert_cmpstr (windows, ==, "Windows 11 Pro, build 22631 (23H2)");
  /* Sizes are g_format_size()'s, with a no-break space. */
  g_assert_nonnull (strstr (parts, "Partition 1: EFI system partition (104.9\u00a0MB, vfat)"));
  g_assert_nonnull (strstr (parts, "Partition 3: Windows ("));
  g_assert_nonnull (strstr (parts, "Partition 5: Not shared with the virtual machine"));
  g_assert_cmpstr (disk, ==, "/dev/nvme0n1 — Example SSD (549.8\u00a0GB), NVMe");
  g_assert_cmpstr (oriel_dualboot_firmware_label (c->disk), ==, "UEFI");
  g_assert_cmpstr (oriel_dualboot_osinfo_id (c->disk), ==, "http://microsoft.com/win/11");

  g_free (c->disk->windows->current_build);
  c->disk->windows->current_build = g_strdup ("19045");
  g_assert_cmpstr (oriel_dualboot_osinfo_id (c->disk), ==, "http://microsoft.com/win/10");
  g_clear_pointer (&c->disk->windows->product_name, g_free);
  g_clear_pointer (&c->disk->windows->display_version, g_free);
  g_free (windows);
  windows = oriel_dualboot_describe_windows (c->disk);
  g_assert_cmpstr (windows, ==, "Windows (Professional), build 19045");

  c->disk->windows->bitlocker = TRUE;
  g_free (windows);
  windows = oriel_dualboot_describe_windows (c->disk);
  g_assert_nonnull (strstr (windows, "BitLocker"));
}

/* Only the Windows partitions reach the VM, in table order. */
static void
test_partitions (void)
{
  g_autoptr (OrielHostDisk) disk = laptop_disk ("nvme", 0, 3);
  g_autoptr (GArray) parts = oriel_dualboot_partitions (disk);
  static const char *const roles[] = { "esp", "msr", "windows", "recovery" };

  g_assert_cmpuint (parts->len, ==, 4);
  for (guint i = 0; i < parts->len; i++)
    {
      g_assert_cmpint (g_array_index (parts, OrielDualbootPartition, i).number, ==, (int) i + 1);
      g_assert_cmpstr (g_array_index (parts, OrielDualbootPartition, i).role, ==, roles[i]);
    }
}

/* The VM's controller follows the boot driver; when none starts at boot
 * the disk's own kind is kept and the explanation is shown. */
static void
test_bus (void)
{
  g_autoptr (OrielDualbootCandidate) nvme = candidate (laptop_disk ("nvme", 0, 3));
  g_autoptr (OrielDualbootCandidate) ahci = candidate (laptop_disk ("nvme", 3, 0));
  g_autoptr (OrielDualbootCandidate) none = candidate (laptop_disk ("sata", 3, 3));
  g_autofree char *text = NULL;

  g_assert_cmpint (oriel_dualboot_disk_bus (nvme), ==, ORIEL_DISK_BUS_NVME);
  g_assert_cmpint (oriel_dualboot_disk_bus (ahci), ==, ORIEL_DISK_BUS_SATA);
  g_assert_cmpint (oriel_dualboot_disk_bus (none), ==, ORIEL_DISK_BUS_SATA);
  add_check (none->checks, "controller", ORIEL_CHECK_REFUSE_REAL, "INACCESSIBLE_BOOT_DEVICE ahead");
  text = oriel_dualboot_describe_controller (none);
  g_assert_cmpstr (text, ==, "Virtual disk controller: SATA (AHCI) controller. INACCESSIBLE_BOOT_DEVICE ahead");
}

/* Real mode needs every check to allow it; BitLocker keeps trial. */
static void
test_modes (void)
{
  g_autoptr (OrielDualbootCandidate) c = candidate (laptop_disk ("nvme", 0, 3));
  const OrielSafetyCheck *blocking;

  g_assert_true (oriel_dualboot_real_allowed (c));
  g_assert_false (oriel_dualboot_needs_confirmation (c));
  g_assert_null (oriel_dualboot_first_blocking (c, ORIEL_DUALBOOT_MODE_REAL, FALSE));

  add_check (c->checks, "hibernation", ORIEL_CHECK_REFUSE_REAL, "hibernated");
  g_assert_false (oriel_dualboot_real_allowed (c));
  g_assert_null (oriel_dualboot_first_blocking (c, ORIEL_DUALBOOT_MODE_TRIAL, FALSE));
  blocking = oriel_dualboot_first_blocking (c, ORIEL_DUALBOOT_MODE_REAL, FALSE);
  g_assert_nonnull (blocking);
  g_assert_cmpstr (blocking->id, ==, "hibernation");

  add_check (c->checks, "bitlocker", ORIEL_CHECK_CONFIRM, "bitlocker");
  g_assert_true (oriel_dualboot_needs_confirmation (c));
  g_assert_cmpstr (oriel_dualboot_first_blocking (c, ORIEL_DUALBOOT_MODE_TRIAL, FALSE)->id, ==, "bitlocker");
  g_assert_null (oriel_dualboot_first_blocking (c, ORIEL_DUALBOOT_MODE_TRIAL, TRUE));

  add_check (c->checks, "host-use", ORIEL_CHECK_REFUSE, "mounted");
  g_assert_cmpstr (oriel_dualboot_first_blocking (c, ORIEL_DUALBOOT_MODE_TRIAL, TRUE)->id, ==, "host-use");
}

/* Secure Boot state from efivarfs: attributes, then the value. */
static void
test_secure_boot (void)
{
  g_autofree char *dir = g_dir_make_tmp ("oriel-efivars-XXXXXX", NULL);
  g_autofree char *var = g_build_filename (dir, "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c", NULL);

  g_assert_false (oriel_dualboot_host_secure_boot (dir));
  g_assert_true (g_file_set_contents (var, "\x06\0\0\0\x01", 5, NULL));
  g_assert_true (oriel_dualboot_host_secure_boot (dir));
  g_assert_true (g_file_set_contents (var, "\x06\0\0\0\0", 5, NULL));
  g_assert_false (oriel_dualboot_host_secure_boot (dir));
  g_assert_true (g_file_set_contents (var, "\x01", 1, NULL));
  g_assert_false (oriel_dualboot_host_secure_boot (dir));
  g_unlink (var);
  g_rmdir (dir);
}

/* Devices that cannot be probed are skipped, not fatal. */
static void
test_scan_missing (void)
{
  const char *const devices[] = { "/nonexistent/disk", NULL };
  guint unreadable = 99;
  g_autoptr (GPtrArray) found = oriel_dualboot_scan_devices (devices, "/sys", NULL, &unreadable);

  g_assert_cmpuint (found->len, ==, 0);
  g_assert_cmpuint (unreadable, ==, 0);
}

int
main (int argc, char **argv)
{
  g_setenv ("LANGUAGE", "C", TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dualboot-choice/describe", test_describe);
  g_test_add_func ("/dualboot-choice/partitions", test_partitions);
  g_test_add_func ("/dualboot-choice/bus", test_bus);
  g_test_add_func ("/dualboot-choice/modes", test_modes);
  g_test_add_func ("/dualboot-choice/secure-boot", test_secure_boot);
  g_test_add_func ("/dualboot-choice/scan-missing", test_scan_missing);
  return g_test_run ();
}
