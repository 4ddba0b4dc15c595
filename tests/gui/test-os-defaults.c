/* Per-OS defaults, from the family alone and from the real osinfo database. */
#include "os-defaults.h"

static OsinfoDb *db;

static void
test_family_defaults (void)
{
  OrielOsDefaults d;

  oriel_os_defaults_for_family (ORIEL_OS_FAMILY_WINDOWS, &d);
  g_assert_cmpint (d.disk_bus, ==, ORIEL_DISK_BUS_SATA);
  g_assert_cmpint (d.nic_model, ==, ORIEL_NIC_E1000);
  g_assert_true (d.usb_tablet);
  g_assert_cmpuint (d.memory_mib, >=, 2048);

  oriel_os_defaults_for_family (ORIEL_OS_FAMILY_LINUX, &d);
  g_assert_cmpint (d.disk_bus, ==, ORIEL_DISK_BUS_VIRTIO);
  g_assert_cmpint (d.nic_model, ==, ORIEL_NIC_VIRTIO);
  g_assert_cmpint (d.firmware, ==, ORIEL_FIRMWARE_BIOS);

  oriel_os_defaults_for_family (ORIEL_OS_FAMILY_OTHER, &d);
  g_assert_cmpint (d.disk_bus, ==, ORIEL_DISK_BUS_IDE);
}

static void
test_family_mapping (void)
{
  g_assert_cmpint (oriel_os_family_from_osinfo ("linux"), ==, ORIEL_OS_FAMILY_LINUX);
  g_assert_cmpint (oriel_os_family_from_osinfo ("winnt"), ==, ORIEL_OS_FAMILY_WINDOWS);
  g_assert_cmpint (oriel_os_family_from_osinfo ("win9x"), ==, ORIEL_OS_FAMILY_WINDOWS);
  g_assert_cmpint (oriel_os_family_from_osinfo ("freebsd"), ==, ORIEL_OS_FAMILY_BSD);
  g_assert_cmpint (oriel_os_family_from_osinfo ("solaris"), ==, ORIEL_OS_FAMILY_OTHER);
  g_assert_cmpint (oriel_os_family_from_osinfo (NULL), ==, ORIEL_OS_FAMILY_OTHER);
}

static OsinfoOs *
need_os (const char *id)
{
  OsinfoOs *os = osinfo_db_get_os (db, id);

  if (os == NULL)
    g_error ("osinfo-db has no %s", id);
  return os;
}

static void
test_windows_from_db (void)
{
  OrielOsDefaults d;

  oriel_os_defaults_for_os (need_os ("http://microsoft.com/win/10"), &d);
  g_assert_cmpint (d.family, ==, ORIEL_OS_FAMILY_WINDOWS);
  g_assert_cmpint (d.disk_bus, ==, ORIEL_DISK_BUS_SATA);
  g_assert_cmpint (d.nic_model, ==, ORIEL_NIC_E1000);
  g_assert_true (d.usb_tablet);
  /* osinfo-db recommends 2 GiB or more for Windows 10. */
  g_assert_cmpuint (d.memory_mib, >=, 2048);
  g_assert_cmpuint (d.disk_gib, >=, 20);

  /* Windows 10 still boots a BIOS: the i440FX platform, as before. */
  g_assert_cmpint (d.machine, ==, ORIEL_MACHINE_PC);
  g_assert_false (d.tpm);

  /* Windows 11: what virt-manager picks for it. */
  oriel_os_defaults_for_os (need_os ("http://microsoft.com/win/11"), &d);
  g_assert_cmpint (d.firmware, ==, ORIEL_FIRMWARE_UEFI);
  g_assert_cmpint (d.machine, ==, ORIEL_MACHINE_Q35);
  g_assert_true (d.secure_boot);
  g_assert_true (d.tpm);
  g_assert_true (d.hyperv);
  g_assert_cmpint (d.disk_bus, ==, ORIEL_DISK_BUS_SATA);
  g_assert_cmpint (d.nic_model, ==, ORIEL_NIC_E1000E);
  g_assert_cmpint (d.usb, ==, ORIEL_USB_XHCI);
  g_assert_cmpuint (d.memory_mib, >=, 4096);
}

static void
test_linux_from_db (void)
{
  OrielOsDefaults d;
  OsinfoOs *debian = need_os ("http://debian.org/debian/11");

  oriel_os_defaults_for_os (debian, &d);
  g_assert_cmpint (d.family, ==, ORIEL_OS_FAMILY_LINUX);
  g_assert_cmpint (d.disk_bus, ==, ORIEL_DISK_BUS_VIRTIO);
  g_assert_cmpint (d.nic_model, ==, ORIEL_NIC_VIRTIO);
  g_assert_cmpint (d.firmware, ==, ORIEL_FIRMWARE_BIOS);
  g_assert_cmpuint (d.vcpus, >=, 1);
  g_assert_cmpuint (d.vcpus, <=, 4);
  g_assert_cmpuint (d.memory_mib, >=, 512);
}

static void
test_detect_missing_media (void)
{
  g_autoptr (GError) error = NULL;
  OsinfoOs *os = oriel_os_detect_media (db, "/nonexistent/installer.iso", &error);

  g_assert_null (os);
  g_assert_nonnull (error);
}

static void
test_detect_debian_volume_id (void)
{
  const char *iso = g_getenv ("ORIEL_TEST_DEBIAN_ISO");
  g_autoptr (GError) error = NULL;
  g_autoptr (OsinfoOs) os = NULL;

  if (iso == NULL)
    {
      g_test_skip ("ORIEL_TEST_DEBIAN_ISO not set (needs xorriso)");
      return;
    }
  os = oriel_os_detect_media (db, iso, &error);
  g_assert_no_error (error);
  g_assert_nonnull (os);
  g_assert_cmpstr (osinfo_product_get_short_id (OSINFO_PRODUCT (os)), ==, "debian11");
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int rc;

  g_test_init (&argc, &argv, NULL);
  db = oriel_os_db_load (&error);
  g_assert_no_error (error);
  g_test_add_func ("/os-defaults/family", test_family_defaults);
  g_test_add_func ("/os-defaults/family-mapping", test_family_mapping);
  g_test_add_func ("/os-defaults/windows", test_windows_from_db);
  g_test_add_func ("/os-defaults/linux", test_linux_from_db);
  g_test_add_func ("/os-defaults/detect-missing", test_detect_missing_media);
  g_test_add_func ("/os-defaults/detect-debian", test_detect_debian_volume_id);
  rc = g_test_run ();
  g_object_unref (db);
  return rc;
}
