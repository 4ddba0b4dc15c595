/* Builds libvirt domain XML from the choices made in the new-VM wizard. */
#include "domain-xml-builder.h"

#include <glib/gi18n.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>

G_DEFINE_QUARK (oriel-spec-error-quark, oriel_spec_error)

void
oriel_vm_spec_clear (OrielVmSpec *spec)
{
  g_clear_pointer (&spec->name, g_free);
  g_clear_pointer (&spec->domain_type, g_free);
  g_clear_pointer (&spec->iso_path, g_free);
  g_clear_pointer (&spec->import_path, g_free);
  g_clear_pointer (&spec->kernel_path, g_free);
  g_clear_pointer (&spec->initrd_path, g_free);
  g_clear_pointer (&spec->cmdline, g_free);
  g_clear_pointer (&spec->physical_device, g_free);
  g_clear_pointer (&spec->dualboot_mode, g_free);
  g_clear_pointer (&spec->dualboot_partitions, g_array_unref);
  g_clear_pointer (&spec->new_disk_path, g_free);
  g_clear_pointer (&spec->new_disk_format, g_free);
  g_clear_pointer (&spec->os_id, g_free);
  g_clear_pointer (&spec->network, g_free);
}

static gboolean
is_blank (const char *s)
{
  return s == NULL || *s == '\0';
}

static gboolean
name_is_valid (const char *name)
{
  for (const char *p = name; *p; p++)
    if (*p == '/' || g_ascii_iscntrl (*p))
      return FALSE;
  return TRUE;
}

gboolean
oriel_vm_spec_validate (const OrielVmSpec *spec, GError **error)
{
  const char *needed = NULL;

  if (is_blank (spec->name))
    {
      g_set_error (error, ORIEL_SPEC_ERROR, 0, _("Enter a name for the virtual machine."));
      return FALSE;
    }
  if (!name_is_valid (spec->name))
    {
      g_set_error (error, ORIEL_SPEC_ERROR, 0,
                   _("The name may not contain “/” or control characters."));
      return FALSE;
    }
  switch (spec->source)
    {
    case ORIEL_SOURCE_ISO:
      if (is_blank (spec->iso_path))
        needed = _("Choose an installer ISO image.");
      break;
    case ORIEL_SOURCE_IMPORT:
      if (is_blank (spec->import_path))
        needed = _("Choose the disk image to import.");
      break;
    case ORIEL_SOURCE_KERNEL:
      if (is_blank (spec->kernel_path))
        needed = _("Choose the kernel to boot.");
      break;
    case ORIEL_SOURCE_PHYSICAL:
      if (is_blank (spec->physical_device))
        needed = _("Choose the physical disk.");
      break;
    case ORIEL_SOURCE_DUALBOOT:
      if (is_blank (spec->physical_device))
        needed = _("Choose the disk that holds Windows.");
      else if (g_strcmp0 (spec->dualboot_mode, "trial") != 0 && g_strcmp0 (spec->dualboot_mode, "real") != 0)
        needed = _("Choose trial or real mode.");
      else if (spec->dualboot_partitions == NULL || spec->dualboot_partitions->len == 0)
        needed = _("The disk has no Windows partitions to give the virtual machine.");
      break;
    default:
      needed = _("Choose how the operating system is installed.");
      break;
    }
  if (needed != NULL)
    {
      g_set_error_literal (error, ORIEL_SPEC_ERROR, 0, needed);
      return FALSE;
    }
  if (spec->hw.memory_mib < 16)
    {
      g_set_error (error, ORIEL_SPEC_ERROR, 0, _("The memory size must be at least 16 MiB."));
      return FALSE;
    }
  if (spec->hw.vcpus < 1)
    {
      g_set_error (error, ORIEL_SPEC_ERROR, 0, _("At least one virtual CPU is needed."));
      return FALSE;
    }
  return TRUE;
}

static xmlNodePtr
child (xmlNodePtr parent, const char *name, const char *text)
{
  return xmlNewTextChild (parent, NULL, BAD_CAST name, BAD_CAST text);
}

static void
attr (xmlNodePtr node, const char *name, const char *value)
{
  xmlNewProp (node, BAD_CAST name, BAD_CAST value);
}

/* Target device names follow the bus: vda.., sda.., hda.., nvme0n1.. */
static char *
target_name (OrielDiskBus bus, guint index)
{
  if (bus == ORIEL_DISK_BUS_NVME)
    return g_strdup_printf ("nvme%un1", index);
  const char *prefix = bus == ORIEL_DISK_BUS_VIRTIO ? "vd"
                     : bus == ORIEL_DISK_BUS_SATA ? "sd" : "hd";
  return g_strdup_printf ("%s%c", prefix, 'a' + index);
}

static xmlNodePtr
add_disk (xmlNodePtr devices, const char *type, const char *device,
          const char *driver_type, const char *source_attr, const char *path,
          OrielDiskBus bus, guint index, gboolean readonly, guint boot_order)
{
  xmlNodePtr disk = child (devices, "disk", NULL);
  xmlNodePtr n;
  g_autofree char *dev = target_name (bus, index);
  char order[16];

  attr (disk, "type", type);
  attr (disk, "device", device);
  n = child (disk, "driver", NULL);
  attr (n, "name", "qemu");
  attr (n, "type", driver_type);
  n = child (disk, "source", NULL);
  attr (n, source_attr, path);
  n = child (disk, "target", NULL);
  attr (n, "dev", dev);
  attr (n, "bus", oriel_disk_bus_name (bus));
  if (readonly)
    child (disk, "readonly", NULL);
  if (boot_order > 0)
    {
      g_snprintf (order, sizeof order, "%u", boot_order);
      n = child (disk, "boot", NULL);
      attr (n, "order", order);
    }
  return disk;
}

/* <oriel:dualboot mode='trial'> with the partitions the VM sees; the
 * daemon adds the partition table's fingerprint when it defines it. */
static void
add_dualboot (xmlNodePtr disk, xmlNsPtr ns, const OrielVmSpec *spec)
{
  xmlNodePtr db = xmlNewChild (disk, ns, BAD_CAST "dualboot", NULL);

  attr (db, "mode", spec->dualboot_mode);
  /* The daemon's BitLocker check at every start needs this confirmation. */
  if (spec->dualboot_confirm_bitlocker)
    attr (db, "confirm", "bitlocker");
  for (guint i = 0; i < spec->dualboot_partitions->len; i++)
    {
      const OrielDualbootPartition *p = &g_array_index (spec->dualboot_partitions, OrielDualbootPartition, i);
      xmlNodePtr n = xmlNewChild (db, ns, BAD_CAST "partition", NULL);
      char number[16];

      g_snprintf (number, sizeof number, "%d", p->number);
      attr (n, "number", number);
      attr (n, "role", p->role);
    }
}

/* The enlightenments virt-manager turns on for Windows; Windows uses them
 * only when all its prerequisites are there (stimer needs synic and the
 * reference clock, synic needs vpindex). */
static void
add_hyperv (xmlNodePtr features)
{
  static const char *const on[] = {
    "relaxed", "vapic", "spinlocks", "vpindex", "runtime", "synic", "stimer",
    "reset", "frequencies", "tlbflush", "ipi",
  };
  xmlNodePtr hv = child (features, "hyperv", NULL);

  attr (hv, "mode", "custom");
  for (guint i = 0; i < G_N_ELEMENTS (on); i++)
    {
      xmlNodePtr n = child (hv, on[i], NULL);
      attr (n, "state", "on");
      if (g_str_equal (on[i], "spinlocks"))
        attr (n, "retries", "8191");
    }
}

static const char *
image_format (const char *path)
{
  return path != NULL && g_str_has_suffix (path, ".qcow2") ? "qcow2" : "raw";
}

char *
oriel_domain_xml_build (const OrielVmSpec *spec, GError **error)
{
  xmlDocPtr doc;
  xmlNodePtr dom, n, os, features, devices, meta, osinfo, disk;
  xmlNsPtr ns, oriel_ns = NULL;
  char buf[64];
  guint disk_index = 0;
  OrielDiskBus cd_bus;
  xmlChar *out = NULL;
  int out_len = 0;
  char *result;

  if (!oriel_vm_spec_validate (spec, error))
    return NULL;

  doc = xmlNewDoc (BAD_CAST "1.0");
  dom = xmlNewNode (NULL, BAD_CAST "domain");
  xmlDocSetRootElement (doc, dom);
  attr (dom, "type", is_blank (spec->domain_type) ? "kvm" : spec->domain_type);
  /* Declared on <domain>, where virsh dumpxml shows it too. */
  if (spec->source == ORIEL_SOURCE_DUALBOOT)
    oriel_ns = xmlNewNs (dom, BAD_CAST ORIEL_DOMAIN_XMLNS, BAD_CAST "oriel");
  child (dom, "name", spec->name);

  if (!is_blank (spec->os_id))
    {
      meta = child (dom, "metadata", NULL);
      osinfo = child (meta, "libosinfo", NULL);
      ns = xmlNewNs (osinfo, BAD_CAST ORIEL_LIBOSINFO_XMLNS, BAD_CAST "libosinfo");
      xmlSetNs (osinfo, ns);
      n = xmlNewChild (osinfo, ns, BAD_CAST "os", NULL);
      attr (n, "id", spec->os_id);
    }

  g_snprintf (buf, sizeof buf, "%" G_GUINT64_FORMAT, spec->hw.memory_mib);
  n = child (dom, "memory", buf);
  attr (n, "unit", "MiB");
  n = child (dom, "currentMemory", buf);
  attr (n, "unit", "MiB");
  g_snprintf (buf, sizeof buf, "%u", spec->hw.vcpus);
  child (dom, "vcpu", buf);

  os = child (dom, "os", NULL);
  if (spec->hw.firmware == ORIEL_FIRMWARE_UEFI)
    attr (os, "firmware", "efi");
  n = child (os, "type", "hvm");
  attr (n, "arch", "x86_64");
  attr (n, "machine", oriel_machine_name (spec->hw.machine));
  if (spec->hw.firmware == ORIEL_FIRMWARE_UEFI && spec->hw.secure_boot)
    {
      /* The daemon picks the firmware whose descriptor has both features:
       * Debian's OVMF_CODE_4M.secboot.fd with OVMF_VARS_4M.ms.fd. */
      xmlNodePtr fw = child (os, "firmware", NULL);
      n = child (fw, "feature", NULL);
      attr (n, "enabled", "yes");
      attr (n, "name", "enrolled-keys");
      n = child (fw, "feature", NULL);
      attr (n, "enabled", "yes");
      attr (n, "name", "secure-boot");
    }
  else if (spec->hw.firmware == ORIEL_FIRMWARE_UEFI && spec->source == ORIEL_SOURCE_DUALBOOT)
    {
      /* Said explicitly: a daemon may otherwise prefer Secure Boot
       * firmware, which refuses loaders this computer itself does not
       * check (its own Secure Boot being off). */
      xmlNodePtr fw = child (os, "firmware", NULL);
      n = child (fw, "feature", NULL);
      attr (n, "enabled", "no");
      attr (n, "name", "secure-boot");
    }
  if (spec->source == ORIEL_SOURCE_KERNEL)
    {
      child (os, "kernel", spec->kernel_path);
      if (!is_blank (spec->initrd_path))
        child (os, "initrd", spec->initrd_path);
      if (!is_blank (spec->cmdline))
        child (os, "cmdline", spec->cmdline);
    }

  features = child (dom, "features", NULL);
  child (features, "acpi", NULL);
  child (features, "apic", NULL);
  if (spec->hw.hyperv)
    add_hyperv (features);
  if (spec->hw.machine == ORIEL_MACHINE_Q35)
    {
      n = child (features, "vmport", NULL);
      attr (n, "state", "off");
      /* Secure Boot's variable store is writable only from SMM. */
      n = child (features, "smm", NULL);
      attr (n, "state", "on");
    }

  n = child (dom, "clock", NULL);
  /* Windows keeps its RTC in local time; everything else in UTC.  The
   * installation on this computer's disk is Windows whatever OS was
   * picked, and shares the RTC convention with the host's clock. */
  attr (n, "offset", spec->hw.family == ORIEL_OS_FAMILY_WINDOWS || spec->source == ORIEL_SOURCE_DUALBOOT
                     ? "localtime" : "utc");
  if (spec->hw.hyperv)
    {
      /* Hyper-V's reference clock: Windows then needs no PIT or HPET. */
      xmlNodePtr t = child (n, "timer", NULL);
      attr (t, "name", "hypervclock");
      attr (t, "present", "yes");
    }
  child (dom, "on_poweroff", "destroy");
  child (dom, "on_reboot", "restart");
  child (dom, "on_crash", "destroy");

  devices = child (dom, "devices", NULL);
  switch (spec->source)
    {
    case ORIEL_SOURCE_ISO:
      if (!is_blank (spec->new_disk_path))
        add_disk (devices, "file", "disk",
                  spec->new_disk_format ? spec->new_disk_format : image_format (spec->new_disk_path),
                  "file", spec->new_disk_path, spec->hw.disk_bus, disk_index++, FALSE, 2);
      /* CD-ROMs cannot sit on virtio-blk; SATA works for every modern OS. */
      cd_bus = spec->hw.disk_bus == ORIEL_DISK_BUS_IDE ? ORIEL_DISK_BUS_IDE : ORIEL_DISK_BUS_SATA;
      add_disk (devices, "file", "cdrom", "raw", "file", spec->iso_path, cd_bus,
                cd_bus == spec->hw.disk_bus ? disk_index++ : 0, TRUE, 1);
      break;
    case ORIEL_SOURCE_IMPORT:
      add_disk (devices, "file", "disk", image_format (spec->import_path), "file",
                spec->import_path, spec->hw.disk_bus, disk_index++, FALSE, 1);
      break;
    case ORIEL_SOURCE_KERNEL:
      if (!is_blank (spec->new_disk_path))
        add_disk (devices, "file", "disk",
                  spec->new_disk_format ? spec->new_disk_format : image_format (spec->new_disk_path),
                  "file", spec->new_disk_path, spec->hw.disk_bus, disk_index++, FALSE, 0);
      break;
    case ORIEL_SOURCE_PHYSICAL:
      /* Until partition masking exists the host disk is only exposed
       * read-only, so a running host OS cannot be corrupted. */
      add_disk (devices, "block", "disk", "raw", "dev", spec->physical_device,
                spec->hw.disk_bus, disk_index++, TRUE, 1);
      break;
    case ORIEL_SOURCE_DUALBOOT:
      /* Writable: the daemon gives the VM a synthetic disk that shows
       * only these partitions, through an overlay in trial mode. */
      disk = add_disk (devices, "block", "disk", "raw", "dev", spec->physical_device,
                       spec->hw.disk_bus, disk_index++, FALSE, 1);
      add_dualboot (disk, oriel_ns, spec);
      break;
    default:
      break;
    }

  if (is_blank (spec->network))
    {
      n = child (devices, "interface", NULL);
      attr (n, "type", "user");
    }
  else
    {
      xmlNodePtr src;
      n = child (devices, "interface", NULL);
      attr (n, "type", "network");
      src = child (n, "source", NULL);
      attr (src, "network", spec->network);
    }
  {
    xmlNodePtr model = child (n, "model", NULL);
    attr (model, "type", oriel_nic_model_name (spec->hw.nic_model));
  }

  n = child (devices, "serial", NULL);
  attr (n, "type", "pty");
  n = child (n, "target", NULL);
  attr (n, "port", "0");
  n = child (devices, "console", NULL);
  attr (n, "type", "pty");
  n = child (n, "target", NULL);
  attr (n, "type", "serial");
  attr (n, "port", "0");

  if (spec->hw.usb == ORIEL_USB_XHCI)
    {
      n = child (devices, "controller", NULL);
      attr (n, "type", "usb");
      attr (n, "model", "qemu-xhci");
    }
  if (spec->hw.usb_tablet)
    {
      n = child (devices, "input", NULL);
      attr (n, "type", "tablet");
      attr (n, "bus", "usb");
    }
  n = child (devices, "graphics", NULL);
  attr (n, "type", "vnc");
  attr (n, "autoport", "yes");
  n = child (n, "listen", NULL);
  attr (n, "type", "address");
  attr (n, "address", "127.0.0.1");
  n = child (devices, "video", NULL);
  n = child (n, "model", NULL);
  attr (n, "type", "vga");
  if (spec->hw.tpm)
    {
      xmlNodePtr backend;
      n = child (devices, "tpm", NULL);
      attr (n, "model", "tpm-crb");
      backend = child (n, "backend", NULL);
      attr (backend, "type", "emulator");
      attr (backend, "version", "2.0");
    }
  if (spec->hw.family == ORIEL_OS_FAMILY_LINUX)
    {
      n = child (devices, "rng", NULL);
      attr (n, "model", "virtio");
      n = child (n, "backend", "/dev/urandom");
      attr (n, "model", "random");
    }

  xmlDocDumpFormatMemoryEnc (doc, &out, &out_len, "UTF-8", 1);
  xmlFreeDoc (doc);
  if (out == NULL)
    {
      g_set_error (error, ORIEL_SPEC_ERROR, 0, _("Could not serialize the domain XML."));
      return NULL;
    }
  result = g_strndup ((const char *) out, out_len);
  xmlFree (out);
  return result;
}
