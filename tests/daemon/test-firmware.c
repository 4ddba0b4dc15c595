/* UEFI firmware for domains: descriptor loading and order, the choice for
 * <os firmware='efi'>, the XML that comes back, the oriel-vmm config
 * lines, the refusals, and the per-domain NVRAM copy.  Descriptors and
 * flash images are made in a temporary directory (sizes as Debian's OVMF
 * 4M build); one check reads Debian's own descriptors when installed. */
#include "domain-def.h"
#include "firmware.h"
#include "virt-error.h"
#include "vmm-config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#define CODE_4M 3653632
#define VARS_4M 540672

typedef struct {
  char *root;
  char *fwdir;     /* descriptors */
  char *etcdir;    /* higher-priority descriptors */
  char *nvram_dir;
  char *code, *code_sb, *vars, *vars_ms, *bad_vars;
  const char *dirs[3];
} Fixture;

static char *
make_file (const char *dir, const char *name, gsize size, char fill)
{
  char *path = g_build_filename (dir, name, NULL);
  char *data = g_malloc (size);
  memset (data, fill, size);
  g_assert_true (g_file_set_contents (path, data, size, NULL));
  g_free (data);
  return path;
}

static void
write_descriptor (const char *dir, const char *name, const char *code, const char *vars,
                  const char *machines, const char *features)
{
  g_autofree char *json = g_strdup_printf (
    "{ \"description\": \"test\", \"interface-types\": [ \"uefi\" ],\n"
    "  \"mapping\": { \"device\": \"flash\",\n"
    "    \"executable\": { \"filename\": \"%s\", \"format\": \"raw\" },\n"
    "    \"nvram-template\": { \"filename\": \"%s\", \"format\": \"raw\" } },\n"
    "  \"targets\": [ { \"architecture\": \"x86_64\", \"machines\": [ %s ] } ],\n"
    "  \"features\": [ %s ], \"tags\": [] }\n", code, vars, machines, features);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (path, json, -1, NULL));
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->root = g_dir_make_tmp ("oriel-fw-XXXXXX", NULL);
  g_assert_nonnull (f->root);
  f->fwdir = g_build_filename (f->root, "share", NULL);
  f->etcdir = g_build_filename (f->root, "etc", NULL);
  f->nvram_dir = g_build_filename (f->root, "nvram", NULL);
  g_mkdir (f->fwdir, 0755);
  g_mkdir (f->etcdir, 0755);
  f->code = make_file (f->root, "CODE.fd", CODE_4M, 'c');
  f->code_sb = make_file (f->root, "CODE.secboot.fd", CODE_4M, 's');
  f->vars = make_file (f->root, "VARS.fd", VARS_4M, 'v');
  f->vars_ms = make_file (f->root, "VARS.ms.fd", VARS_4M, 'm');
  f->bad_vars = make_file (f->root, "VARS.2M.fd", 131072, 'b');
  /* As Debian's ovmf: enrolled secure boot, secure boot, plain. */
  write_descriptor (f->fwdir, "40-ms.json", f->code_sb, f->vars_ms, "\"pc-q35-*\"",
                    "\"acpi-s3\", \"enrolled-keys\", \"requires-smm\", \"secure-boot\"");
  write_descriptor (f->fwdir, "50-sb.json", f->code_sb, f->vars, "\"pc-q35-*\"",
                    "\"acpi-s3\", \"requires-smm\", \"secure-boot\"");
  write_descriptor (f->fwdir, "60-plain.json", f->code, f->vars, "\"pc-i440fx-*\", \"pc-q35-*\"",
                    "\"acpi-s3\"");
  f->dirs[0] = f->etcdir;
  f->dirs[1] = f->fwdir;
  f->dirs[2] = NULL;
}

static void
remove_tree (const char *path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  if (d)
    {
      const char *n;
      while ((n = g_dir_read_name (d)))
        {
          g_autofree char *p = g_build_filename (path, n, NULL);
          remove_tree (p);
        }
      g_dir_close (d);
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  remove_tree (f->root);
  g_free (f->root); g_free (f->fwdir); g_free (f->etcdir); g_free (f->nvram_dir);
  g_free (f->code); g_free (f->code_sb); g_free (f->vars); g_free (f->vars_ms);
  g_free (f->bad_vars);
}

static DomainDef *
parse (const char *os, const char *features)
{
  g_autofree char *xml = g_strdup_printf (
    "<domain type='kvm'><name>w11</name><memory unit='GiB'>4</memory>%s%s"
    "<devices><controller type='usb' model='qemu-xhci' ports='15'/><input type='tablet' bus='usb'/>"
    "<interface type='network'><source network='default'/><model type='e1000e'/></interface>"
    "<disk type='file' device='disk'><source file='/i/w.qcow2'/><driver type='qcow2'/><target dev='sda' bus='sata'/></disk>"
    "</devices></domain>", os, features ? features : "");
  g_autoptr (GError) error = NULL;
  DomainDef *def = domain_def_parse (xml, strlen (xml), DOMAIN_PARSE_DEFAULT, &error);
  g_assert_no_error (error);
  return def;
}

static void
fill_fails (Fixture *f, DomainDef *def, int code, const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_assert_false (firmware_fill_domain (def, f->dirs, f->nvram_dir, &error));
  g_assert_error (error, VIRT_ERROR, code);
  if (!strstr (error->message, needle))
    g_error ("message '%s' lacks '%s'", error->message, needle);
}

static void
fill_ok (Fixture *f, DomainDef *def)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (firmware_fill_domain (def, f->dirs, f->nvram_dir, &error));
  g_assert_no_error (error);
}

/* virt-install's Windows 11 domain: the enrolled secure-boot firmware,
 * SMM turned on, the XML as libvirt shows it, the VMM config lines. */
static void
test_autoselect_win11 (Fixture *f, gconstpointer data)
{
  g_autoptr (DomainDef) def = parse ("<os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type>"
                                     "<firmware><feature enabled='yes' name='enrolled-keys'/>"
                                     "<feature enabled='yes' name='secure-boot'/></firmware>"
                                     "<boot dev='hd'/></os>", NULL);
  fill_ok (f, def);
  g_assert_cmpstr (def->loader, ==, f->code_sb);
  g_assert_cmpstr (def->nvram_template, ==, f->vars_ms);
  g_assert_cmpint (def->smm, ==, FEATURE_ON);
  g_autofree char *nvram = g_build_filename (f->nvram_dir, "w11_VARS.fd", NULL);
  g_assert_cmpstr (def->nvram, ==, nvram);

  g_autofree char *xml = domain_def_format (def, DOMAIN_FORMAT_INACTIVE, -1);
  g_autofree char *want = g_strdup_printf (
    "  <os firmware='efi'>\n"
    "    <type arch='x86_64' machine='q35'>hvm</type>\n"
    "    <firmware>\n"
    "      <feature enabled='yes' name='enrolled-keys'/>\n"
    "      <feature enabled='yes' name='secure-boot'/>\n"
    "    </firmware>\n"
    "    <loader readonly='yes' secure='yes' type='pflash'>%s</loader>\n"
    "    <nvram template='%s'>%s</nvram>\n"
    "    <boot dev='hd'/>\n"
    "  </os>\n", f->code_sb, f->vars_ms, nvram);
  if (!strstr (xml, want))
    g_error ("expected\n%s\nin\n%s", want, xml);
  g_assert_nonnull (strstr (xml, "<smm state='on'/>"));

  /* Defining what dumpxml showed again changes nothing. */
  g_autoptr (GError) error = NULL;
  g_autoptr (DomainDef) again = domain_def_parse (xml, strlen (xml), DOMAIN_PARSE_DEFAULT, &error);
  g_assert_no_error (error);
  fill_ok (f, again);
  g_autofree char *xml2 = domain_def_format (again, DOMAIN_FORMAT_INACTIVE, -1);
  g_assert_cmpstr (xml, ==, xml2);

  g_autofree char *conf = vmm_config_build (def, "/c", &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (conf, "\nmachine = q35,smm=on\n"));
  g_autofree char *uefi = g_strdup_printf ("\nuefi = code=%s,vars=%s,secure=on\n", f->code_sb, nvram);
  g_assert_nonnull (strstr (conf, uefi));
  g_assert_null (strstr (conf, "bios ="));
  g_assert_nonnull (strstr (conf, "\nusb = xhci\n"));
  g_assert_nonnull (strstr (conf, ",model=e1000e\n"));
  g_assert_nonnull (strstr (conf, "\ndisk = path=/i/w.qcow2,if=ahci,format=qcow2\n"));
}

/* The features and the machine narrow the choice as in libvirt. */
static void
test_autoselect_rules (Fixture *f, gconstpointer data)
{
  /* Secure boot without enrolled keys: the second descriptor. */
  g_autoptr (DomainDef) sb = parse ("<os firmware='efi'><type machine='pc-q35-8.0'>hvm</type>"
                                    "<firmware><feature enabled='no' name='enrolled-keys'/>"
                                    "<feature enabled='yes' name='secure-boot'/></firmware></os>", NULL);
  fill_ok (f, sb);
  g_assert_cmpstr (sb->nvram_template, ==, f->vars);
  g_assert_cmpint (sb->loader_secure, ==, FEATURE_ON);
  /* No secure boot: the plain one, <loader> without secure, SMM left alone. */
  g_autoptr (DomainDef) plain = parse ("<os firmware='efi'><type machine='q35'>hvm</type>"
                                       "<firmware><feature enabled='no' name='secure-boot'/></firmware></os>", NULL);
  fill_ok (f, plain);
  g_assert_cmpstr (plain->loader, ==, f->code);
  g_assert_cmpint (plain->loader_secure, ==, FEATURE_UNSET);
  g_assert_cmpint (plain->smm, ==, FEATURE_UNSET);
  g_autoptr (GError) error = NULL;
  g_autofree char *conf = vmm_config_build (plain, "/c", &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (conf, "\nmachine = q35\n"));
  g_assert_nonnull (strstr (conf, ",vars="));
  g_assert_null (strstr (conf, "secure=on"));
  /* <loader secure='no'> (flash not restricted to SMM) rules out firmware
   * that requires SMM, as in libvirt. */
  g_autoptr (DomainDef) notsmm = parse ("<os firmware='efi'><type machine='q35'>hvm</type>"
                                        "<loader secure='no'/></os>", NULL);
  fill_ok (f, notsmm);
  g_assert_cmpstr (notsmm->loader, ==, f->code);
  g_assert_cmpint (notsmm->loader_secure, ==, FEATURE_OFF);
  /* SMM switched off rules out firmware that requires it. */
  g_autoptr (DomainDef) nosmm = parse ("<os firmware='efi'><type machine='q35'>hvm</type></os>",
                                       "<features><smm state='off'/></features>");
  fill_ok (f, nosmm);
  g_assert_cmpstr (nosmm->loader, ==, f->code);
  /* i440FX: only the plain one fits. */
  g_autoptr (DomainDef) pc = parse ("<os firmware='efi'><type machine='pc'>hvm</type></os>", NULL);
  fill_ok (f, pc);
  g_assert_cmpstr (pc->loader, ==, f->code);
  g_autoptr (DomainDef) pcsb = parse ("<os firmware='efi'><type machine='pc'>hvm</type>"
                                      "<firmware><feature enabled='yes' name='secure-boot'/></firmware></os>", NULL);
  fill_fails (f, pcsb, VIR_ERR_OPERATION_FAILED, "Unable to find any firmware to satisfy 'efi'");
  /* A descriptor in the earlier directory hides the same name; an empty
   * one masks it. */
  write_descriptor (f->etcdir, "40-ms.json", f->code, f->vars, "\"pc-q35-*\"", "\"acpi-s3\"");
  g_autoptr (DomainDef) hidden = parse ("<os firmware='efi'><type machine='q35'>hvm</type></os>", NULL);
  fill_ok (f, hidden);
  g_assert_cmpstr (hidden->loader, ==, f->code);
  g_autofree char *mask = g_build_filename (f->etcdir, "40-ms.json", NULL);
  g_assert_true (g_file_set_contents (mask, "", 0, NULL));
  g_autoptr (DomainDef) masked = parse ("<os firmware='efi'><type machine='q35'>hvm</type></os>", NULL);
  fill_ok (f, masked);
  g_assert_cmpstr (masked->loader, ==, f->code_sb);
  g_assert_cmpstr (masked->nvram_template, ==, f->vars);
  /* A broken descriptor is skipped, not fatal. */
  g_autofree char *broken = g_build_filename (f->etcdir, "10-broken.json", NULL);
  g_assert_true (g_file_set_contents (broken, "{ \"interface-types\": ", -1, NULL));
  g_test_expect_message (NULL, G_LOG_LEVEL_WARNING, "*10-broken.json skipped*");
  g_autoptr (GPtrArray) list = firmware_descriptors_load (f->dirs);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (list->len, ==, 2);
}

/* An explicit pflash <loader>: the template from the descriptor naming
 * that code, or as given; the NVRAM path where the daemon keeps them. */
static void
test_explicit_loader (Fixture *f, gconstpointer data)
{
  g_autofree char *os = g_strdup_printf ("<os><type machine='q35'>hvm</type>"
                                         "<loader readonly='yes' type='pflash'>%s</loader></os>", f->code);
  g_autoptr (DomainDef) def = parse (os, NULL);
  fill_ok (f, def);
  g_assert_cmpstr (def->nvram_template, ==, f->vars);
  g_assert_true (g_str_has_prefix (def->nvram, f->nvram_dir));
  g_autofree char *xml = domain_def_format (def, DOMAIN_FORMAT_INACTIVE, -1);
  g_assert_null (strstr (xml, "firmware"));
  /* Given template and path are kept. */
  g_autofree char *os2 = g_strdup_printf ("<os><type machine='q35'>hvm</type>"
                                          "<loader readonly='yes' type='pflash'>%s</loader>"
                                          "<nvram template='%s'>/srv/vm/x_VARS.fd</nvram></os>",
                                          f->code_sb, f->vars_ms);
  g_autoptr (DomainDef) given = parse (os2, "<features><smm state='on'/></features>");
  fill_ok (f, given);
  g_assert_cmpstr (given->nvram, ==, "/srv/vm/x_VARS.fd");
  g_assert_cmpstr (given->nvram_template, ==, f->vars_ms);
  /* Unknown code without a template: libvirt's error. */
  g_autofree char *other = make_file (f->root, "OTHER.fd", CODE_4M, 'o');
  g_autofree char *os3 = g_strdup_printf ("<os><type machine='q35'>hvm</type>"
                                          "<loader readonly='yes' type='pflash'>%s</loader></os>", other);
  g_autoptr (DomainDef) unknown = parse (os3, NULL);
  fill_fails (f, unknown, VIR_ERR_OPERATION_FAILED, "unable to find any master var store for loader");
}

/* Bad input: each refused with an error that names it. */
static void
test_refusals (Fixture *f, gconstpointer data)
{
  /* Secure boot needs SMM, and Q35. */
  g_autofree char *os = g_strdup_printf ("<os><type machine='q35'>hvm</type>"
                                         "<loader readonly='yes' secure='yes' type='pflash'>%s</loader>"
                                         "<nvram template='%s'/></os>", f->code_sb, f->vars);
  g_autoptr (DomainDef) nosmm = parse (os, NULL);
  fill_fails (f, nosmm, VIR_ERR_CONFIG_UNSUPPORTED, "Secure boot requires SMM feature enabled");
  g_autofree char *ospc = g_strdup_printf ("<os><type machine='pc'>hvm</type>"
                                           "<loader readonly='yes' secure='yes' type='pflash'>%s</loader>"
                                           "<nvram template='%s'/></os>", f->code_sb, f->vars);
  g_autoptr (DomainDef) pc = parse (ospc, "<features><smm state='on'/></features>");
  fill_fails (f, pc, VIR_ERR_CONFIG_UNSUPPORTED, "q35 machine types only");
  /* Missing loader, wrong size, a template of another build. */
  g_autoptr (DomainDef) missing = parse ("<os><type machine='q35'>hvm</type>"
                                         "<loader readonly='yes' type='pflash'>/nonexistent/CODE.fd</loader>"
                                         "<nvram template='/nonexistent/VARS.fd'/></os>", NULL);
  fill_fails (f, missing, VIR_ERR_OPERATION_FAILED, "/nonexistent/CODE.fd");
  g_autofree char *odd = make_file (f->root, "ODD.fd", 1000, 'x');
  g_autofree char *os4 = g_strdup_printf ("<os><type machine='q35'>hvm</type>"
                                          "<loader readonly='yes' type='pflash'>%s</loader>"
                                          "<nvram template='%s'/></os>", odd, f->vars);
  g_autoptr (DomainDef) wrong = parse (os4, NULL);
  fill_fails (f, wrong, VIR_ERR_CONFIG_UNSUPPORTED, "is not a flash image");
  g_autofree char *os5 = g_strdup_printf ("<os><type machine='q35'>hvm</type>"
                                          "<loader readonly='yes' type='pflash'>%s</loader>"
                                          "<nvram template='%s'/></os>", f->code, f->bad_vars);
  g_autoptr (DomainDef) mismatch = parse (os5, NULL);
  fill_fails (f, mismatch, VIR_ERR_CONFIG_UNSUPPORTED, "does not belong to loader");
  /* No descriptors at all. */
  const char *none[] = { "/nonexistent", NULL };
  g_autoptr (DomainDef) efi = parse ("<os firmware='efi'><type machine='q35'>hvm</type></os>", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_false (firmware_fill_domain (efi, none, f->nvram_dir, &error));
  g_assert_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED);
  g_clear_error (&error);

  /* A path that would split the uefi = option list is refused at start. */
  g_autoptr (DomainDef) comma = parse ("<os firmware='efi'><type machine='q35'>hvm</type></os>", NULL);
  g_free (comma->name);
  comma->name = g_strdup ("a,b");
  fill_ok (f, comma);
  g_assert_null (vmm_config_build (comma, "/c", &error));
  g_assert_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "a,b_VARS.fd"));
  g_clear_error (&error);

  /* Refused by the parser. */
  static const struct { const char *os; const char *needle; } bad[] = {
    { "<os firmware='bios'><type>hvm</type></os>", "firmware 'bios'" },
    { "<os firmware='efi'><type>hvm</type><firmware><feature enabled='yes' name='amd-sev'/></firmware></os>", "amd-sev" },
    { "<os><type>hvm</type><loader type='flash'>/x</loader></os>", "loader type 'flash'" },
    { "<os><type>hvm</type><loader readonly='maybe' type='pflash'>/x</loader></os>", "maybe" },
    { "<os><type>hvm</type><nvram>/x_VARS.fd</nvram></os>", "<nvram> needs" },
    { "<os><type>hvm</type><loader type='pflash'>/x</loader><nvram>rel/x_VARS.fd</nvram></os>", "absolute" },
    { "<os><type>hvm</type><loader type='pflash'>/x</loader><nvram type='network'><source/></nvram></os>", "<source> in <nvram>" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *xml = g_strdup_printf ("<domain type='kvm'><name>x</name><memory>1024</memory>%s</domain>",
                                              bad[i].os);
      g_assert_null (domain_def_parse (xml, strlen (xml), DOMAIN_PARSE_DEFAULT, &error));
      g_assert_nonnull (error);
      if (!strstr (error->message, bad[i].needle))
        g_error ("message '%s' lacks '%s'", error->message, bad[i].needle);
      g_clear_error (&error);
    }
}

/* The per-domain NVRAM: made from the template (mode 0600, directory
 * 0700), never replaced, checked against the template's size. */
static void
test_nvram_prepare (Fixture *f, gconstpointer data)
{
  g_autoptr (DomainDef) def = parse ("<os firmware='efi'><type machine='q35'>hvm</type></os>", NULL);
  fill_ok (f, def);
  g_autoptr (GError) error = NULL;
  g_assert_true (firmware_nvram_prepare (def, f->nvram_dir, &error));
  g_assert_no_error (error);
  GStatBuf st;
  g_assert_cmpint (g_stat (f->nvram_dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  g_assert_cmpint (g_stat (def->nvram, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_autofree char *a = NULL, *t = NULL;
  gsize alen, tlen;
  g_assert_true (g_file_get_contents (def->nvram, &a, &alen, NULL));
  g_assert_true (g_file_get_contents (def->nvram_template, &t, &tlen, NULL));
  g_assert_cmpmem (a, alen, t, tlen);
  /* The guest's variables survive the next start. */
  a[0] = 'G';
  g_assert_true (g_file_set_contents (def->nvram, a, alen, NULL));
  g_assert_true (firmware_nvram_prepare (def, f->nvram_dir, &error));
  g_autofree char *b = NULL;
  gsize blen;
  g_assert_true (g_file_get_contents (def->nvram, &b, &blen, NULL));
  g_assert_cmpint (b[0], ==, 'G');
  /* No temporary files left behind. */
  g_autoptr (GDir) dir = g_dir_open (f->nvram_dir, 0, NULL);
  const char *n;
  guint count = 0;
  while ((n = g_dir_read_name (dir)))
    count++;
  g_assert_cmpuint (count, ==, 1);
  /* A store of the wrong size is refused, not used or replaced. */
  g_assert_true (g_file_set_contents (def->nvram, "short", 5, NULL));
  g_assert_false (firmware_nvram_prepare (def, f->nvram_dir, &error));
  g_assert_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, def->nvram));
  g_clear_error (&error);
  /* The template vanished: named at start. */
  g_unlink (def->nvram);
  g_unlink (def->nvram_template);
  g_assert_false (firmware_nvram_prepare (def, f->nvram_dir, &error));
  g_assert_nonnull (strstr (error->message, "NVRAM template"));
  g_assert_false (g_file_test (def->nvram, G_FILE_TEST_EXISTS));
}

/* Debian's ovmf descriptors, when installed: Windows 11's choice. */
static void
test_debian_descriptors (void)
{
  if (!g_file_test ("/usr/share/qemu/firmware/40-edk2-x86_64-secure-enrolled.json", G_FILE_TEST_EXISTS))
    {
      g_test_skip ("Debian's ovmf is not installed");
      return;
    }
  const char *dirs[] = { "/usr/share/qemu/firmware", NULL };
  g_autoptr (DomainDef) def = parse ("<os firmware='efi'><type machine='q35'>hvm</type>"
                                     "<firmware><feature enabled='yes' name='secure-boot'/></firmware></os>", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (firmware_fill_domain (def, dirs, "/var/lib/oriel/nvram", &error));
  g_assert_no_error (error);
  g_assert_cmpstr (def->loader, ==, "/usr/share/OVMF/OVMF_CODE_4M.ms.fd");
  g_assert_cmpstr (def->nvram_template, ==, "/usr/share/OVMF/OVMF_VARS_4M.ms.fd");
  g_assert_cmpstr (def->nvram, ==, "/var/lib/oriel/nvram/w11_VARS.fd");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, fn) g_test_add ("/firmware/" name, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("autoselect-win11", test_autoselect_win11);
  ADD ("autoselect-rules", test_autoselect_rules);
  ADD ("explicit-loader", test_explicit_loader);
  ADD ("refusals", test_refusals);
  ADD ("nvram-prepare", test_nvram_prepare);
  g_test_add_func ("/firmware/debian-descriptors", test_debian_descriptors);
  return g_test_run ();
}
