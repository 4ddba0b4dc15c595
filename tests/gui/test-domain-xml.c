/* Domain XML from the wizard, for each source kind and OS family, parsed
 * back with libxml2. */
#include "domain-xml-builder.h"
#include "domain-xml-info.h"
#include "dualboot-xml.h"

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <string.h>

typedef struct {
  xmlDocPtr doc;
  xmlXPathContextPtr ctx;
} Parsed;

static Parsed
parse (const char *xml)
{
  Parsed p;

  p.doc = xmlReadMemory (xml, strlen (xml), "domain.xml", NULL, XML_PARSE_NONET);
  g_assert_nonnull (p.doc);
  p.ctx = xmlXPathNewContext (p.doc);
  xmlXPathRegisterNs (p.ctx, BAD_CAST "libosinfo", BAD_CAST ORIEL_LIBOSINFO_XMLNS);
  xmlXPathRegisterNs (p.ctx, BAD_CAST "oriel", BAD_CAST ORIEL_DOMAIN_XMLNS);
  return p;
}

static void
parsed_free (Parsed *p)
{
  xmlXPathFreeContext (p->ctx);
  xmlFreeDoc (p->doc);
}

static char *
xp (Parsed *p, const char *expr)
{
  xmlXPathObjectPtr obj = xmlXPathEvalExpression (BAD_CAST expr, p->ctx);
  xmlChar *s;
  char *r;

  g_assert_nonnull (obj);
  s = xmlXPathCastToString (obj);
  r = g_strdup ((const char *) s);
  xmlFree (s);
  xmlXPathFreeObject (obj);
  return r;
}

static double
xcount (Parsed *p, const char *expr)
{
  g_autofree char *full = g_strdup_printf ("count(%s)", expr);
  xmlXPathObjectPtr obj = xmlXPathEvalExpression (BAD_CAST full, p->ctx);
  double n = xmlXPathCastToNumber (obj);

  xmlXPathFreeObject (obj);
  return n;
}

#define assert_xp(p, expr, expected) \
  G_STMT_START { g_autofree char *_v = xp (p, expr); g_assert_cmpstr (_v, ==, expected); } G_STMT_END

static void
base_spec (OrielVmSpec *spec, OrielOsFamily family)
{
  memset (spec, 0, sizeof *spec);
  spec->name = g_strdup ("guest-1");
  spec->domain_type = g_strdup ("kvm");
  oriel_os_defaults_for_family (family, &spec->hw);
}

static void
test_iso_windows (void)
{
  OrielVmSpec spec;
  g_autofree char *xml = NULL;
  g_autoptr (GError) error = NULL;
  Parsed p;

  base_spec (&spec, ORIEL_OS_FAMILY_WINDOWS);
  spec.source = ORIEL_SOURCE_ISO;
  spec.iso_path = g_strdup ("/isos/Win10 & co.iso");
  spec.new_disk_path = g_strdup ("/var/lib/oriel/images/guest-1.qcow2");
  spec.os_id = g_strdup ("http://microsoft.com/win/10");
  spec.network = g_strdup ("default");
  xml = oriel_domain_xml_build (&spec, &error);
  g_assert_no_error (error);
  p = parse (xml);

  assert_xp (&p, "/domain/@type", "kvm");
  assert_xp (&p, "/domain/name", "guest-1");
  assert_xp (&p, "/domain/memory/@unit", "MiB");
  assert_xp (&p, "/domain/memory", "4096");
  assert_xp (&p, "/domain/vcpu", "2");
  assert_xp (&p, "/domain/metadata/libosinfo:libosinfo/libosinfo:os/@id", "http://microsoft.com/win/10");
  assert_xp (&p, "/domain/clock/@offset", "localtime");
  /* Windows: SATA disk + CD-ROM on the same bus, e1000, USB tablet. */
  assert_xp (&p, "/domain/devices/disk[@device='disk']/target/@bus", "sata");
  assert_xp (&p, "/domain/devices/disk[@device='disk']/target/@dev", "sda");
  assert_xp (&p, "/domain/devices/disk[@device='disk']/driver/@type", "qcow2");
  assert_xp (&p, "/domain/devices/disk[@device='disk']/source/@file", "/var/lib/oriel/images/guest-1.qcow2");
  assert_xp (&p, "/domain/devices/disk[@device='cdrom']/target/@bus", "sata");
  assert_xp (&p, "/domain/devices/disk[@device='cdrom']/target/@dev", "sdb");
  assert_xp (&p, "/domain/devices/disk[@device='cdrom']/source/@file", "/isos/Win10 & co.iso");
  /* Windows 10 keeps the BIOS platform: no Q35, SMM, TPM or Secure Boot. */
  assert_xp (&p, "/domain/os/type/@machine", "pc");
  g_assert_cmpfloat (xcount (&p, "/domain/features/smm"), ==, 0);
  g_assert_cmpfloat (xcount (&p, "/domain/devices/tpm"), ==, 0);
  g_assert_cmpfloat (xcount (&p, "/domain/os/firmware"), ==, 0);
  g_assert_cmpfloat (xcount (&p, "/domain/devices/disk[@device='cdrom']/readonly"), ==, 1);
  /* The installer boots first, the disk after it. */
  assert_xp (&p, "/domain/devices/disk[@device='cdrom']/boot/@order", "1");
  assert_xp (&p, "/domain/devices/disk[@device='disk']/boot/@order", "2");
  assert_xp (&p, "/domain/devices/interface/@type", "network");
  assert_xp (&p, "/domain/devices/interface/source/@network", "default");
  assert_xp (&p, "/domain/devices/interface/model/@type", "e1000");
  assert_xp (&p, "/domain/devices/input[@type='tablet']/@bus", "usb");
  assert_xp (&p, "/domain/devices/graphics/@type", "vnc");
  g_assert_cmpfloat (xcount (&p, "/domain/devices/rng"), ==, 0);
  g_assert_cmpfloat (xcount (&p, "/domain/os/kernel"), ==, 0);
  parsed_free (&p);
  oriel_vm_spec_clear (&spec);
}

static void
test_iso_linux_uefi (void)
{
  OrielVmSpec spec;
  g_autofree char *xml = NULL;
  g_autoptr (GError) error = NULL;
  Parsed p;

  base_spec (&spec, ORIEL_OS_FAMILY_LINUX);
  spec.hw.firmware = ORIEL_FIRMWARE_UEFI;
  spec.source = ORIEL_SOURCE_ISO;
  spec.iso_path = g_strdup ("/isos/debian.iso");
  spec.new_disk_path = g_strdup ("/pool/guest-1.qcow2");
  xml = oriel_domain_xml_build (&spec, &error);
  g_assert_no_error (error);
  p = parse (xml);
  assert_xp (&p, "/domain/os/@firmware", "efi");
  assert_xp (&p, "/domain/clock/@offset", "utc");
  /* virtio disk; the CD-ROM cannot be virtio, so it goes on SATA. */
  assert_xp (&p, "/domain/devices/disk[@device='disk']/target/@bus", "virtio");
  assert_xp (&p, "/domain/devices/disk[@device='disk']/target/@dev", "vda");
  assert_xp (&p, "/domain/devices/disk[@device='cdrom']/target/@bus", "sata");
  assert_xp (&p, "/domain/devices/disk[@device='cdrom']/target/@dev", "sda");
  assert_xp (&p, "/domain/devices/interface/model/@type", "virtio");
  /* No network name: user-mode networking. */
  assert_xp (&p, "/domain/devices/interface/@type", "user");
  assert_xp (&p, "/domain/devices/rng/@model", "virtio");
  g_assert_cmpfloat (xcount (&p, "/domain/metadata"), ==, 0);
  parsed_free (&p);
  oriel_vm_spec_clear (&spec);
}

static void
test_import_other (void)
{
  OrielVmSpec spec;
  g_autofree char *xml = NULL;
  g_autoptr (GError) error = NULL;
  Parsed p;

  base_spec (&spec, ORIEL_OS_FAMILY_OTHER);
  spec.source = ORIEL_SOURCE_IMPORT;
  spec.import_path = g_strdup ("/images/old.img");
  xml = oriel_domain_xml_build (&spec, &error);
  g_assert_no_error (error);
  p = parse (xml);
  g_assert_cmpfloat (xcount (&p, "/domain/devices/disk"), ==, 1);
  assert_xp (&p, "/domain/devices/disk/@device", "disk");
  assert_xp (&p, "/domain/devices/disk/driver/@type", "raw");
  assert_xp (&p, "/domain/devices/disk/source/@file", "/images/old.img");
  assert_xp (&p, "/domain/devices/disk/target/@bus", "ide");
  assert_xp (&p, "/domain/devices/disk/target/@dev", "hda");
  assert_xp (&p, "/domain/devices/interface/model/@type", "e1000");
  g_assert_cmpfloat (xcount (&p, "/domain/devices/disk/readonly"), ==, 0);
  parsed_free (&p);
  oriel_vm_spec_clear (&spec);
}

static void
test_kernel_linux (void)
{
  OrielVmSpec spec;
  g_autofree char *xml = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (OrielDomainInfo) info = NULL;
  Parsed p;

  base_spec (&spec, ORIEL_OS_FAMILY_LINUX);
  spec.domain_type = (g_free (spec.domain_type), g_strdup ("test"));
  spec.source = ORIEL_SOURCE_KERNEL;
  spec.kernel_path = g_strdup ("/boot/vmlinuz");
  spec.initrd_path = g_strdup ("/boot/initrd.img");
  spec.cmdline = g_strdup ("console=ttyS0 root=/dev/vda1");
  spec.os_id = g_strdup ("http://libosinfo.org/linux/2022");
  xml = oriel_domain_xml_build (&spec, &error);
  g_assert_no_error (error);
  p = parse (xml);
  assert_xp (&p, "/domain/@type", "test");
  assert_xp (&p, "/domain/os/kernel", "/boot/vmlinuz");
  assert_xp (&p, "/domain/os/initrd", "/boot/initrd.img");
  assert_xp (&p, "/domain/os/cmdline", "console=ttyS0 root=/dev/vda1");
  assert_xp (&p, "/domain/os/type", "hvm");
  g_assert_cmpfloat (xcount (&p, "/domain/devices/disk"), ==, 0);
  assert_xp (&p, "/domain/devices/console/target/@type", "serial");
  assert_xp (&p, "/domain/devices/serial/@type", "pty");
  parsed_free (&p);

  /* The reader used by the details view sees the same configuration. */
  info = oriel_domain_info_parse (xml, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->name, ==, "guest-1");
  g_assert_cmpstr (info->kernel, ==, "/boot/vmlinuz");
  g_assert_cmpstr (info->os_id, ==, "http://libosinfo.org/linux/2022");
  g_assert_cmpuint (info->memory_kib, ==, 2048 * 1024);
  g_assert_cmpuint (info->vcpus, ==, 2);
  g_assert_cmpstr (info->graphics_type, ==, "vnc");
  g_assert_cmpstr (info->graphics_listen, ==, "127.0.0.1");
  g_assert_cmpuint (info->nics->len, ==, 1);
  oriel_vm_spec_clear (&spec);
}

/* The Windows 11 platform: Q35 with SMM, UEFI with Secure Boot and
 * Microsoft's keys, TPM 2.0 (CRB, emulated), Hyper-V enlightenments with
 * their clock, e1000e, a USB tablet on xHCI, SATA disk and CD-ROM. */
static void
test_iso_windows11 (void)
{
  OrielVmSpec spec;
  g_autofree char *xml = NULL;
  g_autoptr (GError) error = NULL;
  Parsed p;

  base_spec (&spec, ORIEL_OS_FAMILY_WINDOWS);
  spec.hw.firmware = ORIEL_FIRMWARE_UEFI;
  spec.hw.machine = ORIEL_MACHINE_Q35;
  spec.hw.secure_boot = TRUE;
  spec.hw.tpm = TRUE;
  spec.hw.hyperv = TRUE;
  spec.hw.nic_model = ORIEL_NIC_E1000E;
  spec.hw.usb = ORIEL_USB_XHCI;
  spec.source = ORIEL_SOURCE_ISO;
  spec.iso_path = g_strdup ("/isos/Win11.iso");
  spec.new_disk_path = g_strdup ("/var/lib/oriel/images/guest-1.qcow2");
  spec.os_id = g_strdup ("http://microsoft.com/win/11");
  xml = oriel_domain_xml_build (&spec, &error);
  g_assert_no_error (error);
  p = parse (xml);

  assert_xp (&p, "/domain/os/@firmware", "efi");
  assert_xp (&p, "/domain/os/type/@machine", "q35");
  assert_xp (&p, "/domain/os/firmware/feature[@name='secure-boot']/@enabled", "yes");
  assert_xp (&p, "/domain/os/firmware/feature[@name='enrolled-keys']/@enabled", "yes");
  assert_xp (&p, "/domain/features/smm/@state", "on");
  assert_xp (&p, "/domain/features/hyperv/@mode", "custom");
  assert_xp (&p, "/domain/features/hyperv/relaxed/@state", "on");
  assert_xp (&p, "/domain/features/hyperv/spinlocks/@retries", "8191");
  assert_xp (&p, "/domain/features/hyperv/synic/@state", "on");
  assert_xp (&p, "/domain/features/hyperv/stimer/@state", "on");
  assert_xp (&p, "/domain/clock/@offset", "localtime");
  assert_xp (&p, "/domain/clock/timer[@name='hypervclock']/@present", "yes");
  assert_xp (&p, "/domain/devices/tpm/@model", "tpm-crb");
  assert_xp (&p, "/domain/devices/tpm/backend/@type", "emulator");
  assert_xp (&p, "/domain/devices/tpm/backend/@version", "2.0");
  assert_xp (&p, "/domain/devices/interface/model/@type", "e1000e");
  assert_xp (&p, "/domain/devices/controller[@type='usb']/@model", "qemu-xhci");
  assert_xp (&p, "/domain/devices/input[@type='tablet']/@bus", "usb");
  assert_xp (&p, "/domain/devices/disk[@device='disk']/target/@bus", "sata");
  assert_xp (&p, "/domain/devices/disk[@device='cdrom']/target/@bus", "sata");
  parsed_free (&p);
  oriel_vm_spec_clear (&spec);
}

static void
test_physical_windows (void)
{
  OrielVmSpec spec;
  g_autofree char *xml = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (OrielDomainInfo) info = NULL;
  Parsed p;

  base_spec (&spec, ORIEL_OS_FAMILY_WINDOWS);
  spec.source = ORIEL_SOURCE_PHYSICAL;
  spec.physical_device = g_strdup ("/dev/nvme0n1");
  xml = oriel_domain_xml_build (&spec, &error);
  g_assert_no_error (error);
  p = parse (xml);
  assert_xp (&p, "/domain/devices/disk/@type", "block");
  assert_xp (&p, "/domain/devices/disk/source/@dev", "/dev/nvme0n1");
  assert_xp (&p, "/domain/devices/disk/target/@bus", "sata");
  /* Until partition masking lands the host disk is read-only. */
  g_assert_cmpfloat (xcount (&p, "/domain/devices/disk/readonly"), ==, 1);
  parsed_free (&p);

  info = oriel_domain_info_parse (xml, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->disks->len, ==, 1);
  g_assert_true (((OrielDiskInfo *) info->disks->pdata[0])->readonly);
  g_assert_cmpstr (((OrielDiskInfo *) info->disks->pdata[0])->source, ==, "/dev/nvme0n1");
  oriel_vm_spec_clear (&spec);
}

static void
dualboot_spec (OrielVmSpec *spec, const char *mode)
{
  static const OrielDualbootPartition parts[] = {
    { 1, "esp" }, { 2, "msr" }, { 3, "windows" }, { 5, "recovery" },
  };

  base_spec (spec, ORIEL_OS_FAMILY_WINDOWS);
  spec->hw.firmware = ORIEL_FIRMWARE_UEFI;
  spec->hw.machine = ORIEL_MACHINE_Q35;
  spec->hw.hyperv = TRUE;
  spec->hw.nic_model = ORIEL_NIC_E1000E;
  spec->hw.usb = ORIEL_USB_XHCI;
  spec->hw.disk_bus = ORIEL_DISK_BUS_NVME;
  spec->source = ORIEL_SOURCE_DUALBOOT;
  spec->physical_device = g_strdup ("/dev/nvme0n1");
  spec->dualboot_mode = g_strdup (mode);
  spec->dualboot_partitions = g_array_new (FALSE, FALSE, sizeof (OrielDualbootPartition));
  g_array_append_vals (spec->dualboot_partitions, parts, G_N_ELEMENTS (parts));
}

/* The Windows installed on this computer: the whole disk, writable, on the
 * controller its boot driver needs, with Oriel's element naming the mode
 * and the partitions the VM sees (dualboot-interface, section 2). */
static void
test_dualboot_windows (void)
{
  OrielVmSpec spec;
  g_autofree char *xml = NULL, *mode = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (OrielDomainInfo) info = NULL;
  Parsed p;

  dualboot_spec (&spec, "trial");
  xml = oriel_domain_xml_build (&spec, &error);
  g_assert_no_error (error);
  /* Declared on the root element. */
  g_assert_nonnull (strstr (xml, "<domain xmlns:oriel=\"" ORIEL_DOMAIN_XMLNS "\" type=\"kvm\">"));
  p = parse (xml);
  g_assert_cmpfloat (xcount (&p, "/domain/devices/disk"), ==, 1);
  assert_xp (&p, "/domain/devices/disk/@type", "block");
  assert_xp (&p, "/domain/devices/disk/@device", "disk");
  assert_xp (&p, "/domain/devices/disk/driver/@type", "raw");
  assert_xp (&p, "/domain/devices/disk/source/@dev", "/dev/nvme0n1");
  assert_xp (&p, "/domain/devices/disk/target/@bus", "nvme");
  assert_xp (&p, "/domain/devices/disk/target/@dev", "nvme0n1");
  assert_xp (&p, "/domain/devices/disk/boot/@order", "1");
  g_assert_cmpfloat (xcount (&p, "/domain/devices/disk/readonly"), ==, 0);
  assert_xp (&p, "/domain/devices/disk/oriel:dualboot/@mode", "trial");
  g_assert_cmpfloat (xcount (&p, "/domain/devices/disk/oriel:dualboot/@confirm"), ==, 0);
  g_assert_cmpfloat (xcount (&p, "/domain/devices/disk/oriel:dualboot/oriel:partition"), ==, 4);
  assert_xp (&p, "/domain/devices/disk/oriel:dualboot/oriel:partition[1]/@number", "1");
  assert_xp (&p, "/domain/devices/disk/oriel:dualboot/oriel:partition[1]/@role", "esp");
  assert_xp (&p, "/domain/devices/disk/oriel:dualboot/oriel:partition[3]/@role", "windows");
  assert_xp (&p, "/domain/devices/disk/oriel:dualboot/oriel:partition[4]/@number", "5");
  assert_xp (&p, "/domain/devices/disk/oriel:dualboot/oriel:partition[4]/@role", "recovery");
  assert_xp (&p, "/domain/os/@firmware", "efi");
  assert_xp (&p, "/domain/os/type/@machine", "q35");
  assert_xp (&p, "/domain/features/smm/@state", "on");
  /* Secure Boot as this computer boots, here off: said explicitly. */
  assert_xp (&p, "/domain/os/firmware/feature[@name='secure-boot']/@enabled", "no");
  g_assert_cmpfloat (xcount (&p, "/domain/os/firmware/feature"), ==, 1);
  assert_xp (&p, "/domain/clock/@offset", "localtime");
  assert_xp (&p, "/domain/features/hyperv/@mode", "custom");
  assert_xp (&p, "/domain/devices/interface/model/@type", "e1000e");
  assert_xp (&p, "/domain/devices/controller[@type='usb']/@model", "qemu-xhci");
  assert_xp (&p, "/domain/devices/input[@type='tablet']/@bus", "usb");
  parsed_free (&p);

  mode = oriel_dualboot_xml_mode (xml);
  g_assert_cmpstr (mode, ==, "trial");
  info = oriel_domain_info_parse (xml, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->disks->len, ==, 1);
  g_assert_cmpstr (((OrielDiskInfo *) info->disks->pdata[0])->dualboot_mode, ==, "trial");
  g_assert_cmpstr (((OrielDiskInfo *) info->disks->pdata[0])->source, ==, "/dev/nvme0n1");
  g_assert_false (((OrielDiskInfo *) info->disks->pdata[0])->readonly);
  oriel_vm_spec_clear (&spec);

  /* BIOS (MBR) installation on SATA, real mode. */
  dualboot_spec (&spec, "real");
  spec.hw.firmware = ORIEL_FIRMWARE_BIOS;
  spec.hw.disk_bus = ORIEL_DISK_BUS_SATA;
  spec.dualboot_confirm_bitlocker = TRUE;
  g_clear_pointer (&xml, g_free);
  xml = oriel_domain_xml_build (&spec, &error);
  g_assert_no_error (error);
  p = parse (xml);
  g_assert_cmpfloat (xcount (&p, "/domain/os/@firmware"), ==, 0);
  assert_xp (&p, "/domain/devices/disk/target/@bus", "sata");
  assert_xp (&p, "/domain/devices/disk/target/@dev", "sda");
  assert_xp (&p, "/domain/devices/disk/oriel:dualboot/@mode", "real");
  assert_xp (&p, "/domain/devices/disk/oriel:dualboot/@confirm", "bitlocker");
  parsed_free (&p);

  /* Incomplete choices are refused with a reason. */
  g_free (spec.dualboot_mode);
  spec.dualboot_mode = g_strdup ("maybe");
  g_assert_false (oriel_vm_spec_validate (&spec, &error));
  g_assert_error (error, ORIEL_SPEC_ERROR, 0);
  g_clear_error (&error);
  g_free (spec.dualboot_mode);
  spec.dualboot_mode = g_strdup ("trial");
  g_array_set_size (spec.dualboot_partitions, 0);
  g_assert_false (oriel_vm_spec_validate (&spec, &error));
  g_clear_error (&error);
  oriel_vm_spec_clear (&spec);
}

/* The details view's actions redefine the VM with a changed element. */
static void
test_dualboot_update (void)
{
  OrielVmSpec spec;
  g_autofree char *xml = NULL, *real = NULL, *discard = NULL, *mode = NULL;
  g_autoptr (GError) error = NULL;
  Parsed p;

  dualboot_spec (&spec, "trial");
  xml = oriel_domain_xml_build (&spec, &error);
  g_assert_no_error (error);

  real = oriel_dualboot_xml_update (xml, "real", FALSE, &error);
  g_assert_no_error (error);
  p = parse (real);
  assert_xp (&p, "/domain/devices/disk/oriel:dualboot/@mode", "real");
  g_assert_cmpfloat (xcount (&p, "/domain/devices/disk/oriel:dualboot/@discard-trial"), ==, 0);
  g_assert_cmpfloat (xcount (&p, "/domain/devices/disk/oriel:dualboot/oriel:partition"), ==, 4);
  assert_xp (&p, "/domain/name", "guest-1");
  parsed_free (&p);
  mode = oriel_dualboot_xml_mode (real);
  g_assert_cmpstr (mode, ==, "real");

  discard = oriel_dualboot_xml_update (xml, NULL, TRUE, &error);
  g_assert_no_error (error);
  p = parse (discard);
  assert_xp (&p, "/domain/devices/disk/oriel:dualboot/@mode", "trial");
  assert_xp (&p, "/domain/devices/disk/oriel:dualboot/@discard-trial", "yes");
  parsed_free (&p);

  /* Not a dual-boot VM: no mode, and the update says why. */
  g_assert_null (oriel_dualboot_xml_mode ("<domain type='kvm'><name>x</name><devices/></domain>"));
  g_assert_null (oriel_dualboot_xml_mode ("<not xml"));
  g_assert_null (oriel_dualboot_xml_update ("<domain type='kvm'><name>x</name></domain>", "real", FALSE, &error));
  g_assert_error (error, ORIEL_SPEC_ERROR, 0);
  /* Another namespace's element of the same name is not ours. */
  g_assert_null (oriel_dualboot_xml_mode ("<domain xmlns:x='urn:other'><devices><disk><x:dualboot mode='real'/>"
                                          "</disk></devices></domain>"));
  oriel_vm_spec_clear (&spec);
}

static void
test_validation (void)
{
  OrielVmSpec spec;
  g_autoptr (GError) error = NULL;
  char *xml;

  base_spec (&spec, ORIEL_OS_FAMILY_LINUX);
  spec.source = ORIEL_SOURCE_KERNEL;
  /* No kernel chosen. */
  xml = oriel_domain_xml_build (&spec, &error);
  g_assert_null (xml);
  g_assert_error (error, ORIEL_SPEC_ERROR, 0);
  g_clear_error (&error);

  spec.kernel_path = g_strdup ("/boot/vmlinuz");
  g_free (spec.name);
  spec.name = g_strdup ("bad/name");
  g_assert_false (oriel_vm_spec_validate (&spec, &error));
  g_clear_error (&error);

  g_free (spec.name);
  spec.name = g_strdup ("");
  g_assert_false (oriel_vm_spec_validate (&spec, &error));
  g_clear_error (&error);

  g_free (spec.name);
  spec.name = g_strdup ("ok");
  spec.hw.memory_mib = 0;
  g_assert_false (oriel_vm_spec_validate (&spec, &error));
  g_clear_error (&error);
  spec.hw.memory_mib = 512;
  g_assert_true (oriel_vm_spec_validate (&spec, &error));
  g_assert_no_error (error);
  oriel_vm_spec_clear (&spec);
}

static void
test_info_units_and_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (OrielDomainInfo) info = NULL;
  OrielDomainInfo *bad;

  info = oriel_domain_info_parse (
    "<domain type='test'><name>t</name><memory unit='GiB'>2</memory><vcpu>3</vcpu>"
    "<os><type>hvm</type><loader type='pflash'>/x</loader></os>"
    "<devices><graphics type='vnc' port='5901' listen='0.0.0.0'/></devices></domain>", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->memory_kib, ==, 2 * 1024 * 1024);
  g_assert_cmpuint (info->vcpus, ==, 3);
  g_assert_cmpstr (info->firmware, ==, "efi");
  g_assert_cmpint (info->graphics_port, ==, 5901);
  g_assert_cmpstr (info->graphics_listen, ==, "0.0.0.0");

  bad = oriel_domain_info_parse ("<network/>", &error);
  g_assert_null (bad);
  g_assert_nonnull (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/domain-xml/iso-windows", test_iso_windows);
  g_test_add_func ("/domain-xml/iso-linux-uefi", test_iso_linux_uefi);
  g_test_add_func ("/domain-xml/import-other", test_import_other);
  g_test_add_func ("/domain-xml/kernel-linux", test_kernel_linux);
  g_test_add_func ("/domain-xml/iso-windows11", test_iso_windows11);
  g_test_add_func ("/domain-xml/physical-windows", test_physical_windows);
  g_test_add_func ("/domain-xml/dualboot-windows", test_dualboot_windows);
  g_test_add_func ("/domain-xml/dualboot-update", test_dualboot_update);
  g_test_add_func ("/domain-xml/validation", test_validation);
  g_test_add_func ("/domain-xml/info", test_info_units_and_errors);
  return g_test_run ();
}
