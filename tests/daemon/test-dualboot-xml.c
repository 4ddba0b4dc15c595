/* Dual-boot domain XML: <oriel:dualboot> parsed, formatted and round-
 * tripped, every refusal with its message, the VMM config lines (NVMe,
 * the synthetic disk), and the map's byte ranges on GPT and MBR images
 * made with sfdisk. */
#include "domain-def.h"
#include "dualboot-map.h"
#include "host-disk.h"
#include "virt-error.h"
#include "vmm-config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#define NS "http://oriel.dev/xmlns/domain/1.0"

static char *
domain_xml (const char *disk_type, const char *bus, const char *dualboot)
{
  return g_strdup_printf ("<domain type='kvm' xmlns:o='" NS "'>\n"
                          "  <name>win</name><memory unit='MiB'>256</memory>\n"
                          "  <os><type arch='x86_64' machine='q35'>hvm</type></os>\n"
                          "  <devices>\n"
                          "    <disk type='%s' device='disk'><driver name='qemu' type='raw'/>"
                          "<source %s='/dev/nvme0n1'/><target dev='nvme0n1' bus='%s'/>%s</disk>\n"
                          "  </devices>\n"
                          "</domain>\n",
                          disk_type, g_str_equal (disk_type, "block") ? "dev" : "file", bus, dualboot);
}

static const char *const fp = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static DomainDef *
parse (const char *xml, GError **error)
{
  return domain_def_parse (xml, strlen (xml), DOMAIN_PARSE_DEFAULT, error);
}

static void
test_parse_format (void)
{
  g_autofree char *xml = domain_xml ("block", "nvme",
                                     "<o:dualboot mode='real' fingerprint='0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef' "
                                     "discard-trial='yes' confirm='bitlocker'>"
                                     "<o:partition number='1' role='esp'/><o:partition number='2' role='msr'/>"
                                     "<o:partition number='3' role='windows'/><o:partition number='4' role='recovery'/>"
                                     "</o:dualboot>");
  g_autoptr (GError) error = NULL;
  g_autoptr (DomainDef) def = parse (xml, &error);
  g_assert_no_error (error);
  DomainDisk *d = def->disks->pdata[0];
  g_assert_nonnull (d->dualboot);
  g_assert_cmpstr (d->target_bus, ==, "nvme");
  g_assert_cmpstr (d->dualboot->mode, ==, "real");
  g_assert_cmpstr (d->dualboot->fingerprint, ==, fp);
  g_assert_true (d->dualboot->discard_trial);
  g_assert_true (d->dualboot->confirm_bitlocker);
  g_assert_cmpuint (d->dualboot->partitions->len, ==, 4);
  DomainDualbootPartition *p = d->dualboot->partitions->pdata[3];
  g_assert_cmpint (p->number, ==, 4);
  g_assert_cmpstr (p->role, ==, "recovery");

  /* Formatted with the oriel prefix declared on <domain>; discard-trial
   * is a request, not part of the definition. */
  g_autofree char *out = domain_def_format (def, DOMAIN_FORMAT_INACTIVE, -1);
  g_assert_nonnull (strstr (out, "<domain type='kvm' xmlns:oriel='" NS "'>"));
  g_autofree char *want = g_strdup_printf ("      <oriel:dualboot mode='real' fingerprint='%s' confirm='bitlocker'>\n"
                                           "        <oriel:partition number='1' role='esp'/>\n"
                                           "        <oriel:partition number='2' role='msr'/>\n"
                                           "        <oriel:partition number='3' role='windows'/>\n"
                                           "        <oriel:partition number='4' role='recovery'/>\n"
                                           "      </oriel:dualboot>\n"
                                           "    </disk>\n", fp);
  g_assert_nonnull (strstr (out, want));
  g_assert_null (strstr (out, "discard-trial"));
  g_assert_nonnull (strstr (out, "<source dev='/dev/nvme0n1'/>"));
  g_assert_nonnull (strstr (out, "<target dev='nvme0n1' bus='nvme'/>"));

  /* Round trip: the formatted XML parses to the same text. */
  g_autoptr (DomainDef) again = parse (out, &error);
  g_assert_no_error (error);
  g_autofree char *out2 = domain_def_format (again, DOMAIN_FORMAT_INACTIVE, -1);
  g_assert_cmpstr (out, ==, out2);
  g_autoptr (DomainDef) copy = domain_def_copy (def);
  g_autofree char *out3 = domain_def_format (copy, DOMAIN_FORMAT_LIVE, 3);
  g_assert_nonnull (strstr (out3, want));
}

static void
test_defaults (void)
{
  /* No mode: trial; no fingerprint: none yet (define fills it in). */
  g_autofree char *xml = domain_xml ("block", "sata", "<o:dualboot><o:partition number='3' role='windows'/></o:dualboot>");
  g_autoptr (GError) error = NULL;
  g_autoptr (DomainDef) def = parse (xml, &error);
  g_assert_no_error (error);
  DomainDisk *d = def->disks->pdata[0];
  g_assert_cmpstr (d->dualboot->mode, ==, "trial");
  g_assert_null (d->dualboot->fingerprint);
  g_assert_false (d->dualboot->discard_trial);
  g_autofree char *out = domain_def_format (def, DOMAIN_FORMAT_INACTIVE, -1);
  g_assert_nonnull (strstr (out, "<oriel:dualboot mode='trial'>\n"));

  /* A domain without it declares no namespace. */
  g_autofree char *plain = domain_xml ("file", "nvme", "");
  g_autoptr (DomainDef) pdef = parse (plain, &error);
  g_assert_no_error (error);
  g_autofree char *pout = domain_def_format (pdef, DOMAIN_FORMAT_INACTIVE, -1);
  g_assert_null (strstr (pout, "xmlns:oriel"));
  g_assert_nonnull (strstr (pout, "bus='nvme'"));
  /* nvme* target names default to the NVMe bus. */
  g_autofree char *nobus = g_strdup ("<domain type='kvm'><name>n</name><memory>1024</memory><os><type>hvm</type></os>"
                                     "<devices><disk type='file'><source file='/a.img'/><target dev='nvme0n1'/></disk>"
                                     "</devices></domain>");
  g_autoptr (DomainDef) ndef = parse (nobus, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (((DomainDisk *) ndef->disks->pdata[0])->target_bus, ==, "nvme");
}

static void
refused (const char *disk_type, const char *bus, const char *dualboot, int code, const char *message)
{
  g_autofree char *xml = domain_xml (disk_type, bus, dualboot);
  g_autoptr (GError) error = NULL;
  g_autoptr (DomainDef) def = parse (xml, &error);
  g_assert_null (def);
  g_assert_error (error, VIRT_ERROR, code);
  if (!strstr (error->message, message))
    g_error ("'%s' does not say '%s'", error->message, message);
}

#define WIN "<o:partition number='3' role='windows'/>"

static void
test_refusals (void)
{
  refused ("block", "nvme", "<o:dualboot mode='borrowed'>" WIN "</o:dualboot>", VIR_ERR_XML_ERROR,
           "invalid mode 'borrowed' in <oriel:dualboot> (trial or real)");
  refused ("block", "nvme", "<o:dualboot fingerprint='abc'>" WIN "</o:dualboot>", VIR_ERR_XML_ERROR,
           "invalid fingerprint 'abc'");
  refused ("block", "nvme", "<o:dualboot fingerprint='0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg'>" WIN
           "</o:dualboot>", VIR_ERR_XML_ERROR, "64 hexadecimal digits");
  refused ("block", "nvme", "<o:dualboot discard-trial='maybe'>" WIN "</o:dualboot>", VIR_ERR_XML_ERROR,
           "invalid value 'maybe' for attribute 'discard-trial'");
  refused ("block", "nvme", "<o:dualboot confirm='hibernation'>" WIN "</o:dualboot>", VIR_ERR_XML_ERROR,
           "invalid confirm 'hibernation'");
  refused ("block", "nvme", "<o:dualboot>" WIN "<o:partition number='4' role='linux'/></o:dualboot>",
           VIR_ERR_XML_ERROR, "invalid role 'linux' of partition 4");
  refused ("block", "nvme", "<o:dualboot>" WIN "<o:partition number='4' role='other'/></o:dualboot>",
           VIR_ERR_XML_ERROR, "invalid role 'other' of partition 4");
  refused ("block", "nvme", "<o:dualboot>" WIN "<o:partition role='esp'/></o:dualboot>", VIR_ERR_XML_ERROR,
           "invalid partition number ''");
  refused ("block", "nvme", "<o:dualboot>" WIN "<o:partition number='0' role='esp'/></o:dualboot>",
           VIR_ERR_XML_ERROR, "invalid partition number '0'");
  refused ("block", "nvme", "<o:dualboot>" WIN "<o:partition number='1x' role='esp'/></o:dualboot>",
           VIR_ERR_XML_ERROR, "invalid partition number '1x'");
  refused ("block", "nvme", "<o:dualboot>" WIN "<o:partition number='3' role='recovery'/></o:dualboot>",
           VIR_ERR_XML_ERROR, "partition 3 is listed twice in <oriel:dualboot>");
  refused ("block", "nvme", "<o:dualboot><o:partition number='1' role='esp'/></o:dualboot>", VIR_ERR_XML_ERROR,
           "<oriel:dualboot> lists no partition with role 'windows'");
  refused ("block", "nvme", "<o:dualboot>" WIN "<o:disk/></o:dualboot>", VIR_ERR_CONFIG_UNSUPPORTED,
           "element <disk> in <oriel:dualboot> is not supported");
  refused ("block", "nvme", "<o:dualboot>" WIN "<partition number='1' role='esp'/></o:dualboot>",
           VIR_ERR_CONFIG_UNSUPPORTED, "element <partition> in <oriel:dualboot>");
  refused ("block", "nvme", "<o:dualboot>" WIN "</o:dualboot><o:dualboot>" WIN "</o:dualboot>", VIR_ERR_XML_ERROR,
           "a <disk> has at most one <oriel:dualboot>");
  /* Without the namespace, or in another one, it is an unknown element. */
  refused ("block", "nvme", "<dualboot>" WIN "</dualboot>", VIR_ERR_CONFIG_UNSUPPORTED,
           "element <dualboot> in <disk> is not supported");
  refused ("block", "nvme", "<x:dualboot xmlns:x='http://example.org/x'>" WIN "</x:dualboot>",
           VIR_ERR_CONFIG_UNSUPPORTED, "element <dualboot> in <disk>");
  refused ("file", "nvme", "<o:dualboot>" WIN "</o:dualboot>", VIR_ERR_XML_ERROR,
           "<oriel:dualboot> needs <disk type='block' device='disk'>");
  refused ("block", "ide", "<o:dualboot>" WIN "</o:dualboot>", VIR_ERR_CONFIG_UNSUPPORTED,
           "dual-boot disk bus (nvme, sata or virtio) 'ide'");
  refused ("block", "scsi", "", VIR_ERR_CONFIG_UNSUPPORTED, "disk bus 'scsi'");
  refused ("block", "nvme", "<readonly/><o:dualboot>" WIN "</o:dualboot>", VIR_ERR_XML_ERROR,
           "<readonly/> does not go with <oriel:dualboot>");

  /* Two dual-boot disks in one domain. */
  g_autofree char *two = g_strdup ("<domain type='kvm' xmlns:o='" NS "'><name>w</name><memory>1024</memory>"
                                   "<os><type>hvm</type></os><devices>"
                                   "<disk type='block'><source dev='/dev/sda'/><target dev='sda'/><o:dualboot>" WIN
                                   "</o:dualboot></disk>"
                                   "<disk type='block'><source dev='/dev/sdb'/><target dev='sdb'/><o:dualboot>" WIN
                                   "</o:dualboot></disk></devices></domain>");
  g_autoptr (GError) error = NULL;
  g_assert_null (parse (two, &error));
  g_assert_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR);
  g_assert_nonnull (strstr (error->message, "a domain has at most one disk with <oriel:dualboot>"));
  g_clear_error (&error);
  g_autofree char *relative = g_strdup ("<domain type='kvm' xmlns:o='" NS "'><name>w</name><memory>1024</memory>"
                                        "<os><type>hvm</type></os><devices>"
                                        "<disk type='block'><source dev='sda'/><target dev='sda'/><o:dualboot>" WIN
                                        "</o:dualboot></disk></devices></domain>");
  g_assert_null (parse (relative, &error));
  g_assert_nonnull (strstr (error->message, "<source dev='sda'> is not an absolute path"));
}

static void
test_vmm_config (void)
{
  /* An ordinary image on NVMe. */
  g_autofree char *plain = domain_xml ("file", "nvme", "");
  g_autoptr (GError) error = NULL;
  g_autoptr (DomainDef) pdef = parse (plain, &error);
  g_assert_no_error (error);
  g_autofree char *pconf = vmm_config_build (pdef, "/run/ctl", &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (pconf, "disk = path=/dev/nvme0n1,if=nvme,format=raw\n"));

  /* The dual-boot disk: only its map reaches the VMM, never the device. */
  const char *buses[][2] = { { "nvme", "nvme" }, { "sata", "ahci" }, { "virtio", "virtio" } };
  for (gsize i = 0; i < G_N_ELEMENTS (buses); i++)
    {
      g_autofree char *xml = domain_xml ("block", buses[i][0], "<o:dualboot>" WIN "</o:dualboot>");
      g_autoptr (DomainDef) def = parse (xml, &error);
      g_assert_no_error (error);
      DomainDisk *d = def->disks->pdata[0];
      g_assert_null (vmm_config_build (def, "/run/ctl", &error));
      g_assert_error (error, VIRT_ERROR, VIR_ERR_INTERNAL_ERROR);
      g_clear_error (&error);
      d->live_map = g_strdup ("/var/lib/oriel/dualboot/win/map");
      g_autofree char *conf = vmm_config_build (def, "/run/ctl", &error);
      g_assert_no_error (error);
      g_autofree char *line = g_strdup_printf ("disk = path=/var/lib/oriel/dualboot/win/map,if=%s,format=synthetic\n",
                                               buses[i][1]);
      g_assert_nonnull (strstr (conf, line));
      g_assert_null (strstr (conf, "/dev/nvme0n1"));
      /* Not formatted: the live XML keeps the device. */
      g_autofree char *live = domain_def_format (def, DOMAIN_FORMAT_LIVE, 1);
      g_assert_null (strstr (live, "/map"));
      g_free (d->live_map);
      d->live_map = g_strdup ("/x,y/map");
      g_assert_null (vmm_config_build (def, "/run/ctl", &error));
      g_assert_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED);
      g_clear_error (&error);
    }
}

/* ---- map ranges on disk images ---- */

static char *
make_image (const char *dir, const char *name, guint64 mib, const char *script)
{
  char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *cmd = g_strdup_printf ("sh -c 'truncate -s %" G_GUINT64_FORMAT "M \"%s\" && sfdisk -q \"%s\"'",
                                          mib, path, path);
  g_auto (GStrv) argv = NULL;
  g_assert_true (g_shell_parse_argv (cmd, NULL, &argv, &error));
  GSubprocess *p = g_subprocess_newv ((const char *const *) argv, G_SUBPROCESS_FLAGS_STDIN_PIPE, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (p, script, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_successful (p));
  g_object_unref (p);
  return path;
}

static DomainDualboot *
dualboot_of (const int *numbers, const char *const *roles, guint n)
{
  DomainDualboot *db = g_new0 (DomainDualboot, 1);
  db->mode = g_strdup ("trial");
  db->partitions = g_ptr_array_new ();
  for (guint i = 0; i < n; i++)
    {
      DomainDualbootPartition *p = g_new0 (DomainDualbootPartition, 1);
      p->number = numbers[i];
      p->role = (char *) roles[i];
      g_ptr_array_add (db->partitions, p);
    }
  return db;
}

static void
dualboot_free_test (DomainDualboot *db)
{
  for (guint i = 0; i < db->partitions->len; i++)
    g_free (db->partitions->pdata[i]);
  g_ptr_array_unref (db->partitions);
  g_free (db->mode);
  g_free (db);
}

static char *
ranges_text (const GArray *ranges)
{
  GString *s = g_string_new (NULL);
  for (guint i = 0; i < ranges->len; i++)
    {
      const DualbootRange *r = &g_array_index (ranges, DualbootRange, i);
      g_string_append_printf (s, "%s %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT "\n", r->kind, r->offset, r->length);
    }
  return g_string_free (s, FALSE);
}

static void
test_map_ranges (void)
{
  if (!g_find_program_in_path ("sfdisk") && !g_file_test ("/usr/sbin/sfdisk", G_FILE_TEST_EXISTS)
      && !g_file_test ("/sbin/sfdisk", G_FILE_TEST_EXISTS))
    {
      g_test_skip ("sfdisk (util-linux) is missing");
      return;
    }
  g_setenv ("PATH", "/usr/sbin:/sbin:/usr/bin:/bin", TRUE);
  g_autofree char *dir = g_dir_make_tmp ("dualboot-map-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;

  /* GPT, 32 MiB: ESP, MSR, Windows, Linux; the backup table fills the
   * last 33 sectors. */
  g_autofree char *gpt = make_image (dir, "gpt.img", 32,
                                     "label: gpt\n"
                                     "start=2048, size=4096, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B\n"
                                     "start=6144, size=2048, type=E3C9E316-0B5C-4DB8-817D-F92DF00215AE\n"
                                     "start=8192, size=20480, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\n"
                                     "start=28672, size=32768, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n");
  g_autoptr (OrielHostDisk) hd = oriel_host_disk_probe (gpt, "/sys", &error);
  g_assert_no_error (error);
  const int nums[] = { 1, 2, 3 };
  const char *const roles[] = { "esp", "msr", "windows" };
  DomainDualboot *db = dualboot_of (nums, roles, 3);
  g_autoptr (GArray) ranges = dualboot_map_ranges (hd, db, &error);
  g_assert_no_error (error);
  g_autofree char *text = ranges_text (ranges);
  g_assert_cmpstr (text, ==,
                   "table 0 1048576\n"
                   "esp 1048576 2097152\n"
                   "pass 3145728 1048576\n"
                   "pass 4194304 10485760\n"
                   "table 33537536 16896\n");
  g_autofree char *map = dualboot_map_format (gpt, "trial", "/d/esp.qcow2", "/d/trial.qcow2", ranges);
  g_autofree char *want = g_strdup_printf ("# oriel synthetic disk v1\n"
                                           "# written by virtorield; rewritten at every start\n"
                                           "device = %s\nmode = trial\nesp-overlay = /d/esp.qcow2\n"
                                           "trial-overlay = /d/trial.qcow2\n"
                                           "table = 0 1048576\nesp = 1048576 2097152\npass = 3145728 1048576\n"
                                           "pass = 4194304 10485760\ntable = 33537536 16896\n", gpt);
  g_assert_cmpstr (map, ==, want);
  g_autofree char *real = dualboot_map_format (gpt, "real", "/d/esp.qcow2", NULL, ranges);
  g_assert_null (strstr (real, "trial-overlay"));

  /* A partition the disk lacks is named. */
  const int missing[] = { 3, 7 };
  const char *const mroles[] = { "windows", "recovery" };
  DomainDualboot *db2 = dualboot_of (missing, mroles, 2);
  g_assert_null (dualboot_map_ranges (hd, db2, &error));
  g_assert_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID);
  g_assert_nonnull (strstr (error->message, "has no partition 7"));
  g_clear_error (&error);

  /* MBR with an extended partition: sector 0 and the gap, and each
   * extended boot record (sfdisk puts them at 8192 and 14336). */
  g_autofree char *mbr = make_image (dir, "mbr.img", 32,
                                     "label: dos\n"
                                     "start=2048, size=4096, type=7, bootable\n"
                                     "start=8192, size=40960, type=5\n"
                                     "start=10240, size=4096, type=7\n"
                                     "start=16384, size=4096, type=83\n");
  g_autoptr (OrielHostDisk) mhd = oriel_host_disk_probe (mbr, "/sys", &error);
  g_assert_no_error (error);
  const int mnums[] = { 1, 5 };
  const char *const mr[] = { "windows", "recovery" };
  DomainDualboot *db3 = dualboot_of (mnums, mr, 2);
  g_autoptr (GArray) mranges = dualboot_map_ranges (mhd, db3, &error);
  g_assert_no_error (error);
  g_autofree char *mtext = ranges_text (mranges);
  g_assert_cmpstr (mtext, ==,
                   "table 0 1048576\n"
                   "pass 1048576 2097152\n"
                   "table 4194304 512\n"
                   "pass 5242880 2097152\n"
                   "table 7340032 512\n");

  dualboot_free_test (db);
  dualboot_free_test (db2);
  dualboot_free_test (db3);
  g_autofree char *rm = g_strdup_printf ("rm -rf '%s'", dir);
  g_assert_true (g_spawn_command_line_sync (rm, NULL, NULL, NULL, NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dualboot-xml/parse-format", test_parse_format);
  g_test_add_func ("/dualboot-xml/defaults", test_defaults);
  g_test_add_func ("/dualboot-xml/refusals", test_refusals);
  g_test_add_func ("/dualboot-xml/vmm-config", test_vmm_config);
  g_test_add_func ("/dualboot-xml/map-ranges", test_map_ranges);
  return g_test_run ();
}
