/* Domain XML: parse/format round trips, the rejections that name what is
 * unsupported, virt-install's device choices, and xen-xm conversion. */
#include "domain-def.h"
#include "virt-error.h"
#include "vmm-config.h"
#include "xen-xm-import.h"

#include <string.h>

static const char *full_xml =
  "<domain type='kvm'>\n"
  "  <name>full</name>\n"
  "  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>\n"
  "  <title>T</title><description>D &amp; more</description>\n"
  "  <metadata><app:x xmlns:app='http://example.org/app'>1</app:x></metadata>\n"
  "  <memory unit='GiB'>1</memory><currentMemory unit='MiB'>512</currentMemory>\n"
  "  <vcpu placement='static'>2</vcpu>\n"
  "  <os><type arch='x86_64' machine='pc'>hvm</type><loader readonly='yes' type='rom'>/usr/share/seabios/bios.bin</loader>"
  "<boot dev='cdrom'/><boot dev='hd'/><bootmenu enable='yes'/></os>\n"
  "  <features><acpi/><apic/></features>\n"
  "  <cpu mode='host-passthrough'/>\n"
  "  <clock offset='utc'><timer name='rtc' tickpolicy='catchup'/></clock>\n"
  "  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>\n"
  "  <pm><suspend-to-mem enabled='no'/></pm>\n"
  "  <devices>\n"
  "    <emulator>/usr/libexec/oriel-vmm</emulator>\n"
  "    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/img/a b.img'/><target dev='sda' bus='sata'/><serial>S1</serial></disk>\n"
  "    <disk type='file' device='cdrom'><source file='/iso/x.iso'/><target dev='hdc' bus='ide'/></disk>\n"
  "    <disk type='block' device='disk'><source dev='/dev/sdz'/><target dev='vdb'/><readonly/></disk>\n"
  "    <controller type='usb' index='0' model='ich9-ehci1'/>\n"
  "    <interface type='network'><source network='default'/><mac address='00:16:3E:AA:BB:CC'/><model type='e1000e'/></interface>\n"
  "    <interface type='user'/>\n"
  "    <console type='pty'/>\n"
  "    <input type='tablet' bus='usb'/><input type='keyboard'/>\n"
  "    <graphics type='vnc' port='-1'/>\n"
  "    <video><model type='vga' vram='16384' heads='1'/></video>\n"
  "    <memballoon model='virtio'/>\n"
  "    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>\n"
  "  </devices>\n"
  "</domain>\n";

static DomainDef *
parse_ok (const char *xml)
{
  g_autoptr (GError) error = NULL;
  DomainDef *def = domain_def_parse (xml, strlen (xml), DOMAIN_PARSE_DEFAULT, &error);
  g_assert_no_error (error);
  g_assert_nonnull (def);
  return def;
}

static void
test_full_parse (void)
{
  g_autoptr (DomainDef) def = parse_ok (full_xml);
  g_assert_cmpstr (def->name, ==, "full");
  g_assert_cmpuint (def->memory_kib, ==, 1024 * 1024);
  g_assert_cmpuint (def->current_memory_kib, ==, 512 * 1024);
  g_assert_cmpuint (def->vcpus, ==, 2);
  g_assert_cmpuint (def->disks->len, ==, 3);
  DomainDisk *sata = def->disks->pdata[0], *cd = def->disks->pdata[1], *blk = def->disks->pdata[2];
  g_assert_cmpstr (sata->target_bus, ==, "sata");
  g_assert_cmpstr (sata->source, ==, "/img/a b.img");
  g_assert_true (cd->readonly);
  g_assert_cmpstr (cd->device, ==, "cdrom");
  g_assert_cmpstr (blk->type, ==, "block");
  g_assert_cmpstr (blk->target_bus, ==, "virtio");
  g_assert_cmpuint (def->nics->len, ==, 2);
  DomainNic *n0 = def->nics->pdata[0], *n1 = def->nics->pdata[1];
  g_assert_cmpstr (n0->model, ==, "e1000e");
  g_assert_cmpstr (n0->mac, ==, "00:16:3e:aa:bb:cc");
  g_assert_cmpstr (n1->type, ==, "user");
  g_assert_true (g_str_has_prefix (n1->mac, "52:54:00:"));
  g_assert_true (def->has_serial);
  g_assert_true (def->has_vnc);
  g_assert_cmpint (def->vnc_port, ==, -1);
  g_assert_cmpstr (def->vnc_listen, ==, "127.0.0.1");
  g_assert_cmpuint (def->boot_devs->len, ==, 2);
}

static void
test_roundtrip (void)
{
  g_autoptr (DomainDef) def = parse_ok (full_xml);
  g_autofree char *a = domain_def_format (def, DOMAIN_FORMAT_INACTIVE, -1);
  g_autoptr (DomainDef) again = parse_ok (a);
  g_autofree char *b = domain_def_format (again, DOMAIN_FORMAT_INACTIVE, -1);
  g_assert_cmpstr (a, ==, b);
  g_assert_nonnull (strstr (a, "<uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>"));
  g_assert_nonnull (strstr (a, "D &amp; more"));
  g_assert_nonnull (strstr (a, "http://example.org/app"));
  g_assert_nonnull (strstr (a, "tickpolicy"));
  g_assert_nonnull (strstr (a, "ich9-ehci1"));
  g_assert_nonnull (strstr (a, "<model type='e1000e'/>"));
  g_assert_nonnull (strstr (a, "<loader readonly='yes' type='rom'>/usr/share/seabios/bios.bin</loader>"));
  g_assert_null (strstr (a, " id='"));
}

static void
test_live_format (void)
{
  g_autoptr (DomainDef) def = parse_ok (full_xml);
  def->live_pty = g_strdup ("/dev/pts/7");
  def->live_vnc_port = 5903;
  g_autofree char *live = domain_def_format (def, DOMAIN_FORMAT_LIVE, 4);
  g_assert_true (g_str_has_prefix (live, "<domain type='kvm' id='4'>"));
  g_assert_nonnull (strstr (live, "<source path='/dev/pts/7'/>"));
  g_assert_nonnull (strstr (live, "port='5903' autoport='yes'"));
  g_autofree char *inactive = domain_def_format (def, DOMAIN_FORMAT_INACTIVE, -1);
  g_assert_null (strstr (inactive, "/dev/pts/7"));
  g_assert_nonnull (strstr (inactive, "port='-1'"));
  /* live facts survive the copy used for running domains */
  g_autoptr (DomainDef) copy = domain_def_copy (def);
  g_assert_cmpstr (copy->live_pty, ==, "/dev/pts/7");
  g_assert_cmpint (copy->live_vnc_port, ==, 5903);
}

static void
expect_reject (const char *xml, int code, const char *needle)
{
  g_autoptr (GError) error = NULL;
  DomainDef *def = domain_def_parse (xml, strlen (xml), DOMAIN_PARSE_DEFAULT, &error);
  g_assert_null (def);
  g_assert_error (error, VIRT_ERROR, code);
  if (!strstr (error->message, needle))
    g_error ("message '%s' lacks '%s'", error->message, needle);
}

#define WRAP(devs) "<domain type='kvm'><name>x</name><memory>1024</memory><os><type>hvm</type></os><devices>" devs "</devices></domain>"

static void
test_rejections (void)
{
  expect_reject ("<domain type='kvm'><name>x</name", VIR_ERR_XML_ERROR, "malformed");
  expect_reject ("<domain type='xen'><name>x</name></domain>", VIR_ERR_CONFIG_UNSUPPORTED, "xen");
  expect_reject ("<domain type='kvm'><memory>1</memory><os><type>hvm</type></os></domain>", VIR_ERR_XML_ERROR, "<name>");
  expect_reject ("<domain type='kvm'><name>a/b</name><memory>1</memory><os><type>hvm</type></os></domain>",
                 VIR_ERR_XML_ERROR, "a/b");
  expect_reject ("<domain type='kvm'><name>x</name><memory unit='parsec'>1</memory><os><type>hvm</type></os></domain>",
                 VIR_ERR_XML_ERROR, "parsec");
  expect_reject ("<domain type='kvm'><name>x</name><memory>1024</memory><vcpu>0</vcpu><os><type>hvm</type></os></domain>",
                 VIR_ERR_XML_ERROR, "vCPU");
  expect_reject ("<domain type='kvm'><name>x</name><memory>1024</memory><os><type>exe</type></os></domain>",
                 VIR_ERR_CONFIG_UNSUPPORTED, "exe");
  expect_reject ("<domain type='kvm'><name>x</name><memory>1024</memory><os><type>hvm</type></os><iothreads>2</iothreads></domain>",
                 VIR_ERR_CONFIG_UNSUPPORTED, "<iothreads>");
  expect_reject (WRAP ("<sound model='ich9'/>"), VIR_ERR_CONFIG_UNSUPPORTED, "<sound> in <devices>");
  expect_reject (WRAP ("<graphics type='spice'/>"), VIR_ERR_CONFIG_UNSUPPORTED, "spice");
  expect_reject (WRAP ("<video><model type='qxl'/></video>"), VIR_ERR_CONFIG_UNSUPPORTED, "qxl");
  expect_reject (WRAP ("<interface type='direct'/>"), VIR_ERR_CONFIG_UNSUPPORTED, "direct");
  expect_reject (WRAP ("<interface type='user'><model type='rtl8139'/></interface>"), VIR_ERR_CONFIG_UNSUPPORTED, "rtl8139");
  expect_reject (WRAP ("<interface type='user'><mac address='zz'/></interface>"), VIR_ERR_XML_ERROR, "zz");
  expect_reject (WRAP ("<disk type='file'><source file='/a'/><target dev='vda'/><iotune/></disk>"),
                 VIR_ERR_CONFIG_UNSUPPORTED, "<iotune> in <disk>");
  expect_reject (WRAP ("<disk type='network'/>"), VIR_ERR_CONFIG_UNSUPPORTED, "network");
  expect_reject (WRAP ("<disk type='file'><source file='/a'/><target dev='sda' bus='scsi'/></disk>"),
                 VIR_ERR_CONFIG_UNSUPPORTED, "scsi");
  expect_reject (WRAP ("<serial type='tcp'/>"), VIR_ERR_CONFIG_UNSUPPORTED, "tcp");
  expect_reject (WRAP ("<hostdev/>"), VIR_ERR_CONFIG_UNSUPPORTED, "<hostdev>");
}

static void
test_vmm_config (void)
{
  g_autoptr (DomainDef) def = parse_ok (full_xml);
  def->live_vnc_port = 5901;
  g_autoptr (GError) error = NULL;
  g_autofree char *conf = vmm_config_build (def, "/run/oriel/u/ctl", &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (conf, "\nname = full\n"));
  g_assert_nonnull (strstr (conf, "\nmemory = 1048576K\n"));
  g_assert_nonnull (strstr (conf, "\ncpus = 2\n"));
  g_assert_nonnull (strstr (conf, "\ndisk = path=/img/a b.img,if=ahci,format=raw,serial=S1\n"));
  g_assert_nonnull (strstr (conf, "\ndisk = path=/dev/sdz,if=virtio,format=raw,readonly=on\n"));
  g_assert_nonnull (strstr (conf, "\ncdrom = /iso/x.iso\n"));
  g_assert_nonnull (strstr (conf, "\nboot = cdrom,disk\n"));
  g_assert_nonnull (strstr (conf, "\nnet = user,mac=00:16:3e:aa:bb:cc,model=e1000e\n"));
  g_assert_null (strstr (conf, "machine"));   /* i440FX: the VMM's default */
  g_assert_null (strstr (conf, "usb"));       /* EHCI: the VMM's default */
  g_assert_nonnull (strstr (conf, "\nserial = pty\n"));
  g_assert_nonnull (strstr (conf, "\nvnc = 127.0.0.1:5901\n"));
  g_assert_nonnull (strstr (conf, "\ncontrol = /run/oriel/u/ctl\n"));

  /* values that would break the line/comma syntax are refused */
  g_autoptr (DomainDef) bad = parse_ok (WRAP ("<disk type='file'><source file='/a,b'/><target dev='vda'/></disk>"));
  g_autofree char *c2 = vmm_config_build (bad, "/c", &error);
  g_assert_null (c2);
  g_assert_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED);
  g_clear_error (&error);
  g_autoptr (DomainDef) nl = parse_ok ("<domain type='kvm'><name>x</name><memory>1024</memory><os><type>hvm</type>"
                                       "<kernel>/k</kernel><cmdline>a&#10;control = /tmp/evil</cmdline></os></domain>");
  g_autofree char *c3 = vmm_config_build (nl, "/c", &error);
  g_assert_null (c3);
  g_assert_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED);
  g_clear_error (&error);
  /* Neither a kernel nor a loader: the default BIOS, as libvirt's QEMU
   * driver does; with a kernel, no BIOS. */
  g_autoptr (DomainDef) plain = parse_ok ("<domain type='kvm'><name>x</name><memory>1024</memory>"
                                          "<os><type>hvm</type><boot dev='cdrom'/></os></domain>");
  g_autofree char *c4 = vmm_config_build (plain, "/c", &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (c4, "\nbios = /usr/share/seabios/bios.bin\n"));
  g_autoptr (DomainDef) direct = parse_ok ("<domain type='kvm'><name>x</name><memory>1024</memory><os><type>hvm</type>"
                                           "<kernel>/k</kernel></os></domain>");
  g_autofree char *c5 = vmm_config_build (direct, "/c", &error);
  g_assert_no_error (error);
  g_assert_null (strstr (c5, "bios"));
}

/* A bridge NIC runs on the tap device the daemon made for it; only live
 * XML carries (and shows) that device. */
static void
test_bridge_nic (void)
{
  static const char *xml =
    "<domain type='kvm'><name>b</name><memory>1024</memory><os><type>hvm</type><kernel>/k</kernel></os>"
    "<devices><interface type='bridge'><source bridge='br0'/><mac address='52:54:00:00:00:07'/>"
    "<target dev='vnet7'/></interface></devices></domain>";
  g_autoptr (GError) error = NULL;
  g_autoptr (DomainDef) def = parse_ok (xml);
  g_autofree char *none = vmm_config_build (def, "/c", &error);
  g_assert_null (none);
  g_assert_error (error, VIRT_ERROR, VIR_ERR_INTERNAL_ERROR);
  g_clear_error (&error);

  g_autoptr (DomainDef) live = domain_def_parse (xml, strlen (xml), DOMAIN_PARSE_LIVE, &error);
  g_assert_no_error (error);
  g_autofree char *conf = vmm_config_build (live, "/c", &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (conf, "\nnet = tap=vnet7,mac=52:54:00:00:00:07,model=virtio\n"));
  g_autofree char *shown = domain_def_format (live, DOMAIN_FORMAT_LIVE, 3);
  g_assert_nonnull (strstr (shown, "<target dev='vnet7'/>"));
  g_autofree char *inactive = domain_def_format (live, 0, -1);
  g_assert_null (strstr (inactive, "vnet7"));
}

static void
test_xen_xm (void)
{
  const char *cfg =
    "name = \"fc4\"\nmemory = 128\nmaxmem = 256\nvcpus = 2\n"
    "builder = 'hvm'\nboot = \"dc\"\nacpi = 1\napic = 0\n"
    "disk = [ 'phy:hda1,hda1,w', ',hdc:cdrom,r' ]\n"
    "vif = [ 'type=ioemu, mac=00:16:3e:00:00:11, bridge=xenbr0, model=e1000' ]\n"
    "serial = 'pty'\nusbdevice = 'tablet'\nvnc = 1\nvncdisplay = 2\nvncunused = 0\n";
  g_autoptr (GError) error = NULL;
  g_autofree char *xml = xen_xm_to_domain_xml (cfg, &error);
  g_assert_no_error (error);
  g_autoptr (DomainDef) def = parse_ok (xml);
  g_assert_cmpstr (def->name, ==, "fc4");
  g_assert_cmpuint (def->memory_kib, ==, 256 * 1024);
  g_assert_cmpuint (def->current_memory_kib, ==, 128 * 1024);
  g_assert_cmpuint (def->boot_devs->len, ==, 2);
  g_assert_cmpstr (def->boot_devs->pdata[0], ==, "cdrom");
  g_assert_true (def->acpi);
  g_assert_false (def->apic);
  DomainDisk *d0 = def->disks->pdata[0], *d1 = def->disks->pdata[1];
  g_assert_cmpstr (d0->source, ==, "/dev/hda1");
  g_assert_cmpstr (d0->target_dev, ==, "hda");
  g_assert_cmpstr (d1->device, ==, "cdrom");
  g_assert_null (d1->source);
  g_assert_cmpstr (((DomainNic *) def->nics->pdata[0])->model, ==, "e1000");
  g_assert_cmpint (def->vnc_port, ==, 5902);
  g_assert_true (def->has_serial);
  g_assert_cmpuint (def->inputs->len, ==, 1);

  const char *bad[] = {
    "memory = 128\n",                       /* no name */
    "name = 'x\n",                          /* unterminated */
    "name = 'x' junk\n",
    "= 3\n",
    "name = 'x'\ndisk = [ 'nocommas' ]\n",
    "name = 'x'\ndisk = [ 3 ]\n",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) e = NULL;
      g_autofree char *x = xen_xm_to_domain_xml (bad[i], &e);
      g_assert_null (x);
      g_assert_nonnull (e);
    }
}


/* What virt-install writes for Windows 11: the enlightenments, the hidden
 * KVM signature and the RTC in local time reach oriel-vmm; every element
 * comes back from the formatter; SMM is refused at start until Q35. */
static const char *windows_xml =
  "<domain type='kvm'><name>w</name><memory>1048576</memory><os><type>hvm</type><kernel>/k</kernel></os>"
  "<features><acpi/><apic/>"
  "<hyperv mode='custom'><relaxed state='on'/><vapic state='on'/><spinlocks state='on' retries='8191'/>"
  "<vpindex state='on'/><runtime state='on'/><synic state='on'/><stimer state='on'><direct state='on'/></stimer>"
  "<reset state='off'/><vendor_id state='on' value='OrielOrielOr'/><frequencies state='on'/>"
  "<tlbflush state='on'/><ipi state='on'/><avic state='on'/></hyperv>"
  "<kvm><hidden state='on'/></kvm><vmport state='off'/></features>"
  "<clock offset='localtime'><timer name='rtc' tickpolicy='catchup'/><timer name='pit' tickpolicy='delay'/>"
  "<timer name='hpet' present='no'/><timer name='hypervclock' present='yes'/></clock>"
  "</domain>";

static void
test_windows_features (void)
{
  g_autoptr (DomainDef) def = parse_ok (windows_xml);
  g_assert_true (def->hyperv);
  g_assert_cmpint (def->hv[HV_SPINLOCKS], ==, FEATURE_ON);
  g_assert_cmpuint (def->hv_spinlock_retries, ==, 8191);
  g_assert_cmpint (def->hv[HV_RESET], ==, FEATURE_OFF);
  g_assert_cmpint (def->hv[HV_EVMCS], ==, FEATURE_UNSET);
  g_assert_cmpint (def->kvm_hidden, ==, FEATURE_ON);
  g_assert_cmpint (def->hv_clock, ==, FEATURE_ON);

  /* Formatted and parsed again: the same definition. */
  g_autofree char *xml = domain_def_format (def, DOMAIN_FORMAT_INACTIVE, -1);
  g_assert_nonnull (strstr (xml, "<spinlocks state='on' retries='8191'/>"));
  g_assert_nonnull (strstr (xml, "<direct state='on'/>"));
  g_assert_nonnull (strstr (xml, "<reset state='off'/>"));
  g_assert_nonnull (strstr (xml, "<vendor_id state='on' value='OrielOrielOr'/>"));
  g_assert_nonnull (strstr (xml, "<hidden state='on'/>"));
  g_assert_nonnull (strstr (xml, "<vmport state='off'/>"));
  g_assert_nonnull (strstr (xml, "<clock offset='localtime'>"));
  g_autoptr (DomainDef) again = parse_ok (xml);
  g_autofree char *xml2 = domain_def_format (again, DOMAIN_FORMAT_INACTIVE, -1);
  g_assert_cmpstr (xml, ==, xml2);

  g_autoptr (GError) error = NULL;
  g_autofree char *conf = vmm_config_build (def, "/c", &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (conf, "\nhyperv = relaxed,vapic,spinlocks=8191,vpindex,runtime,synic,"
                                  "stimer,stimer-direct,vendor-id=OrielOrielOr,frequencies,tlbflush,"
                                  "ipi,avic,time\n"));
  g_assert_nonnull (strstr (conf, "\nkvm-hidden\n"));
  g_assert_nonnull (strstr (conf, "\nrtc-base = localtime\n"));

  /* UTC and no enlightenments: none of those lines. */
  g_autoptr (DomainDef) plain = parse_ok (WRAP (""));
  g_autofree char *c2 = vmm_config_build (plain, "/c", &error);
  g_assert_no_error (error);
  g_assert_null (strstr (c2, "hyperv"));
  g_assert_null (strstr (c2, "kvm-hidden"));
  g_assert_null (strstr (c2, "rtc-base"));
  g_assert_null (strstr (c2, "\nusb = "));

  /* An xHCI controller (virt-manager's choice for Windows 11): the tablet
   * and a USB keyboard go behind oriel-vmm's xHCI. */
  g_autoptr (DomainDef) xhci = parse_ok (WRAP ("<controller type='usb' index='0' model='qemu-xhci'/>"));
  g_autofree char *c3 = vmm_config_build (xhci, "/c", &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (c3, "\nusb = xhci\n"));

  /* Refused when defined: unknown enlightenments, short spinlock retries,
   * passthrough mode, a bad state; refused at start: eVMCS and SMM. */
  expect_reject ("<domain type='kvm'><name>x</name><memory>1024</memory><os><type>hvm</type></os>"
                 "<features><hyperv><warp state='on'/></hyperv></features></domain>",
                 VIR_ERR_CONFIG_UNSUPPORTED, "<warp> in <hyperv>");
  expect_reject ("<domain type='kvm'><name>x</name><memory>1024</memory><os><type>hvm</type></os>"
                 "<features><hyperv><spinlocks state='on' retries='10'/></hyperv></features></domain>",
                 VIR_ERR_CONFIG_UNSUPPORTED, "retries");
  expect_reject ("<domain type='kvm'><name>x</name><memory>1024</memory><os><type>hvm</type></os>"
                 "<features><hyperv mode='passthrough'/></features></domain>",
                 VIR_ERR_CONFIG_UNSUPPORTED, "passthrough");
  expect_reject ("<domain type='kvm'><name>x</name><memory>1024</memory><os><type>hvm</type></os>"
                 "<features><smm state='maybe'/></features></domain>",
                 VIR_ERR_CONFIG_UNSUPPORTED, "maybe");
  g_autoptr (DomainDef) evmcs = parse_ok ("<domain type='kvm'><name>x</name><memory>1024</memory><os><type>hvm</type></os>"
                                          "<features><hyperv><evmcs state='on'/></hyperv></features></domain>");
  g_assert_null (vmm_config_build (evmcs, "/c", &error));
  g_assert_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "evmcs"));
  g_clear_error (&error);
  g_autoptr (DomainDef) smm = parse_ok ("<domain type='kvm'><name>x</name><memory>1024</memory><os><type>hvm</type></os>"
                                        "<features><smm state='on'/></features></domain>");
  g_assert_null (vmm_config_build (smm, "/c", &error));
  g_assert_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "SMM"));
  g_clear_error (&error);
  /* On Q35 SMM goes through. */
  g_autoptr (DomainDef) q35 = parse_ok ("<domain type='kvm'><name>x</name><memory>1024</memory>"
                                        "<os><type machine='pc-q35-7.2'>hvm</type></os>"
                                        "<features><smm state='on'/></features></domain>");
  g_autofree char *qc = vmm_config_build (q35, "/c", &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (qc, "\nmachine = q35,smm=on\n"));
  g_autoptr (DomainDef) odd = parse_ok ("<domain type='kvm'><name>x</name><memory>1024</memory>"
                                        "<os><type machine='virt'>hvm</type></os></domain>");
  g_assert_null (vmm_config_build (odd, "/c", &error));
  g_assert_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "'virt'"));
}


/* <tpm model='tpm-crb'> with swtpm: parsed, formatted back, given to the
 * VMM with the socket the daemon started swtpm on; anything else refused. */
static void
test_tpm (void)
{
  g_autoptr (DomainDef) def = parse_ok (WRAP ("<tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>"));
  g_assert_true (def->has_tpm);
  g_autofree char *xml = domain_def_format (def, DOMAIN_FORMAT_INACTIVE, -1);
  g_assert_nonnull (strstr (xml, "<tpm model='tpm-crb'>\n      <backend type='emulator' version='2.0'/>\n    </tpm>"));
  g_autoptr (GError) error = NULL;
  /* Not started: no socket, an internal error rather than a VM without TPM. */
  g_assert_null (vmm_config_build (def, "/c", &error));
  g_assert_error (error, VIRT_ERROR, VIR_ERR_INTERNAL_ERROR);
  g_clear_error (&error);
  def->live_tpm_socket = g_strdup ("/run/oriel/u/swtpm.sock");
  g_autofree char *conf = vmm_config_build (def, "/c", &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (conf, "\ntpm = swtpm=/run/oriel/u/swtpm.sock\n"));
  /* No version: 2.0. */
  g_autoptr (DomainDef) nover = parse_ok (WRAP ("<tpm><backend type='emulator'/></tpm>"));
  g_assert_true (nover->has_tpm);

  expect_reject (WRAP ("<tpm model='tpm-tis'><backend type='emulator'/></tpm>"),
                 VIR_ERR_CONFIG_UNSUPPORTED, "tpm-tis");
  expect_reject (WRAP ("<tpm model='tpm-crb'><backend type='passthrough'><device path='/dev/tpm0'/></backend></tpm>"),
                 VIR_ERR_CONFIG_UNSUPPORTED, "passthrough");
  expect_reject (WRAP ("<tpm model='tpm-crb'><backend type='emulator' version='1.2'/></tpm>"),
                 VIR_ERR_CONFIG_UNSUPPORTED, "1.2");
  expect_reject (WRAP ("<tpm model='tpm-crb'><backend type='emulator'><encryption secret='x'/></backend></tpm>"),
                 VIR_ERR_CONFIG_UNSUPPORTED, "<encryption> in <backend>");
  expect_reject (WRAP ("<tpm model='tpm-crb'/>"), VIR_ERR_CONFIG_UNSUPPORTED, "TPM backend");
  expect_reject (WRAP ("<tpm model='tpm-crb'><backend type='emulator'/></tpm><tpm model='tpm-crb'><backend type='emulator'/></tpm>"),
                 VIR_ERR_CONFIG_UNSUPPORTED, "TPM");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/domain-xml/bridge-nic", test_bridge_nic);
  g_test_add_func ("/domain-xml/full-parse", test_full_parse);
  g_test_add_func ("/domain-xml/roundtrip", test_roundtrip);
  g_test_add_func ("/domain-xml/live-format", test_live_format);
  g_test_add_func ("/domain-xml/rejections", test_rejections);
  g_test_add_func ("/domain-xml/vmm-config", test_vmm_config);
  g_test_add_func ("/domain-xml/xen-xm", test_xen_xm);
  g_test_add_func ("/domain-xml/windows-features", test_windows_features);
  g_test_add_func ("/domain-xml/tpm", test_tpm);
  return g_test_run ();
}
