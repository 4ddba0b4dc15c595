/* Per-OS hardware defaults and OS detection, backed by libosinfo. */
#include "os-defaults.h"

#include <string.h>

void
oriel_os_defaults_for_family (OrielOsFamily family, OrielOsDefaults *out)
{
  memset (out, 0, sizeof *out);
  out->family = family;
  out->firmware = ORIEL_FIRMWARE_BIOS;
  out->usb_tablet = TRUE; /* absolute pointer: no grab needed in the console */

  switch (family)
    {
    case ORIEL_OS_FAMILY_LINUX:
      out->memory_mib = 2048;
      out->vcpus = 2;
      out->disk_gib = 20;
      out->disk_bus = ORIEL_DISK_BUS_VIRTIO;
      out->nic_model = ORIEL_NIC_VIRTIO;
      break;
    case ORIEL_OS_FAMILY_WINDOWS:
      /* Windows installers carry no virtio drivers. */
      out->memory_mib = 4096;
      out->vcpus = 2;
      out->disk_gib = 64;
      out->disk_bus = ORIEL_DISK_BUS_SATA;
      out->nic_model = ORIEL_NIC_E1000;
      break;
    case ORIEL_OS_FAMILY_BSD:
      out->memory_mib = 1024;
      out->vcpus = 1;
      out->disk_gib = 20;
      out->disk_bus = ORIEL_DISK_BUS_VIRTIO;
      out->nic_model = ORIEL_NIC_VIRTIO;
      break;
    case ORIEL_OS_FAMILY_OTHER:
    default:
      out->memory_mib = 1024;
      out->vcpus = 1;
      out->disk_gib = 10;
      out->disk_bus = ORIEL_DISK_BUS_IDE;
      out->nic_model = ORIEL_NIC_E1000;
      break;
    }
}

OrielOsFamily
oriel_os_family_from_osinfo (const char *family)
{
  if (family == NULL)
    return ORIEL_OS_FAMILY_OTHER;
  if (g_str_equal (family, "linux"))
    return ORIEL_OS_FAMILY_LINUX;
  if (g_str_has_prefix (family, "win"))
    return ORIEL_OS_FAMILY_WINDOWS;
  if (g_str_has_suffix (family, "bsd"))
    return ORIEL_OS_FAMILY_BSD;
  return ORIEL_OS_FAMILY_OTHER;
}

/* Whether the OS (or one it derives from) lists the device with this
 * libosinfo id, e.g. "http://pcisig.com/pci/8086/10d3" for the e1000e. */
static gboolean
os_has_device_id (OsinfoOs *os, const char *id)
{
  g_autoptr (OsinfoDeviceList) devices = osinfo_os_get_all_devices (os, NULL);
  gint n = osinfo_list_get_length (OSINFO_LIST (devices));

  for (gint i = 0; i < n; i++)
    if (g_strcmp0 (osinfo_entity_get_id (osinfo_list_get_nth (OSINFO_LIST (devices), i)), id) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
os_has_device (OsinfoOs *os, const char *class, const char *name_part)
{
  g_autoptr (OsinfoFilter) filter = osinfo_filter_new ();
  g_autoptr (OsinfoDeviceList) devices = NULL;
  gint n;

  osinfo_filter_add_constraint (filter, OSINFO_DEVICE_PROP_CLASS, class);
  devices = osinfo_os_get_all_devices (os, filter);
  n = osinfo_list_get_length (OSINFO_LIST (devices));
  for (gint i = 0; i < n; i++)
    {
      OsinfoDevice *dev = OSINFO_DEVICE (osinfo_list_get_nth (OSINFO_LIST (devices), i));
      const char *name = osinfo_device_get_name (dev);

      if (name != NULL && strstr (name, name_part) != NULL)
        return TRUE;
    }
  return FALSE;
}

/* Picks the x86_64 entry, else the first, from a resources list. */
static OsinfoResources *
pick_resources (OsinfoResourcesList *list)
{
  gint n;

  if (list == NULL)
    return NULL;
  n = osinfo_list_get_length (OSINFO_LIST (list));
  for (gint i = 0; i < n; i++)
    {
      OsinfoResources *r = OSINFO_RESOURCES (osinfo_list_get_nth (OSINFO_LIST (list), i));
      if (g_strcmp0 (osinfo_resources_get_architecture (r), "x86_64") == 0)
        return r;
    }
  for (gint i = 0; i < n; i++)
    {
      OsinfoResources *r = OSINFO_RESOURCES (osinfo_list_get_nth (OSINFO_LIST (list), i));
      if (g_strcmp0 (osinfo_resources_get_architecture (r), "all") == 0)
        return r;
    }
  return NULL;
}

static void
apply_resources (OsinfoResources *r, OrielOsDefaults *out)
{
  gint64 ram, storage;
  gint cpus;

  if (r == NULL)
    return;
  ram = osinfo_resources_get_ram (r);
  storage = osinfo_resources_get_storage (r);
  cpus = osinfo_resources_get_n_cpus (r);
  if (ram > 0)
    out->memory_mib = (guint64) ram / (1024 * 1024);
  if (storage > 0)
    out->disk_gib = MAX ((guint64) storage / (1024ull * 1024 * 1024), 1);
  if (cpus > 0)
    out->vcpus = (guint) cpus;
}

void
oriel_os_defaults_for_os (OsinfoOs *os, OrielOsDefaults *out)
{
  OrielOsFamily family = oriel_os_family_from_osinfo (osinfo_os_get_family (os));
  g_autoptr (OsinfoResourcesList) minimum = NULL;
  g_autoptr (OsinfoResourcesList) recommended = NULL;
  g_autoptr (OsinfoFirmwareList) firmwares = NULL;
  const char *short_id = osinfo_product_get_short_id (OSINFO_PRODUCT (os));

  oriel_os_defaults_for_family (family, out);

  /* Minimum first, so recommended values win where both exist. */
  minimum = osinfo_os_get_minimum_resources (os);
  recommended = osinfo_os_get_recommended_resources (os);
  apply_resources (pick_resources (minimum), out);
  apply_resources (pick_resources (recommended), out);
  /* Recommended disk sizes for desktops are often far above what a test
   * install needs; keep them but never below the family baseline. */
  out->vcpus = CLAMP (out->vcpus, 1, 4);

  if (family != ORIEL_OS_FAMILY_WINDOWS && family != ORIEL_OS_FAMILY_LINUX)
    {
      gboolean blk = os_has_device (os, "block", "virtio");
      gboolean net = os_has_device (os, "net", "virtio");
      out->disk_bus = blk ? ORIEL_DISK_BUS_VIRTIO : ORIEL_DISK_BUS_IDE;
      out->nic_model = net ? ORIEL_NIC_VIRTIO : ORIEL_NIC_E1000;
    }

  /* Windows 11 refuses to install without UEFI (and TPM). */
  if (short_id != NULL && g_str_has_prefix (short_id, "win11"))
    out->firmware = ORIEL_FIRMWARE_UEFI;
  /* BIOS is assumed to work unless the database says it does not (an
   * entry with supported="false"), as it does for Windows 11. */
  firmwares = osinfo_os_get_complete_firmware_list (os, NULL);
  if (firmwares != NULL)
    {
      gint n = osinfo_list_get_length (OSINFO_LIST (firmwares));
      for (gint i = 0; i < n; i++)
        {
          OsinfoFirmware *fw = OSINFO_FIRMWARE (osinfo_list_get_nth (OSINFO_LIST (firmwares), i));
          if (g_strcmp0 (osinfo_firmware_get_firmware_type (fw), "bios") == 0
              && !osinfo_firmware_is_supported (fw))
            out->firmware = ORIEL_FIRMWARE_UEFI;
        }
    }

  /* An OS that cannot boot a BIOS any more (Windows 11) gets the platform
   * it was certified on, as virt-manager picks it: Q35 with SMM so the
   * firmware's variables can be protected, Secure Boot with Microsoft's
   * keys, a TPM 2.0, and the PCIe-era devices its installer has drivers
   * for. */
  if (out->firmware == ORIEL_FIRMWARE_UEFI && family == ORIEL_OS_FAMILY_WINDOWS)
    {
      out->machine = ORIEL_MACHINE_Q35;
      out->secure_boot = TRUE;
      out->tpm = TRUE;
      out->hyperv = TRUE;
      if (os_has_device_id (os, "http://pcisig.com/pci/8086/10d3"))
        out->nic_model = ORIEL_NIC_E1000E;
      if (os_has_device_id (os, "http://pcisig.com/pci/1033/0194")
          || os_has_device_id (os, "http://pcisig.com/pci/1b36/000d"))
        out->usb = ORIEL_USB_XHCI;
    }
}

OsinfoDb *
oriel_os_db_load (GError **error)
{
  g_autoptr (OsinfoLoader) loader = osinfo_loader_new ();
  GError *local = NULL;
  OsinfoDb *db;

  osinfo_loader_process_default_path (loader, &local);
  if (local != NULL)
    {
      g_propagate_prefixed_error (error, local,
                                  "Loading the OS database: ");
      return NULL;
    }
  db = osinfo_loader_get_db (loader);
  return g_object_ref (db);
}

OsinfoOs *
oriel_os_detect_media (OsinfoDb *db, const char *iso_path, GError **error)
{
  g_autoptr (OsinfoMedia) media = NULL;
  OsinfoOs *os = NULL;

  media = osinfo_media_create_from_location (iso_path, NULL, error);
  if (media == NULL)
    return NULL;
  if (!osinfo_db_identify_media (db, media))
    return NULL;
  os = osinfo_media_get_os (media);
  return os != NULL ? g_object_ref (os) : NULL;
}

const char *
oriel_os_family_icon_name (OrielOsFamily family)
{
  switch (family)
    {
    case ORIEL_OS_FAMILY_LINUX:
      return "oriel-os-linux-symbolic";
    case ORIEL_OS_FAMILY_WINDOWS:
      return "oriel-os-windows-symbolic";
    case ORIEL_OS_FAMILY_BSD:
    case ORIEL_OS_FAMILY_OTHER:
    default:
      return "oriel-os-generic-symbolic";
    }
}

const char *
oriel_disk_bus_name (OrielDiskBus bus)
{
  switch (bus)
    {
    case ORIEL_DISK_BUS_VIRTIO: return "virtio";
    case ORIEL_DISK_BUS_SATA: return "sata";
    case ORIEL_DISK_BUS_NVME: return "nvme";
    case ORIEL_DISK_BUS_IDE: default: return "ide";
    }
}

const char *
oriel_nic_model_name (OrielNicModel nic)
{
  switch (nic)
    {
    case ORIEL_NIC_VIRTIO: return "virtio";
    case ORIEL_NIC_E1000E: return "e1000e";
    case ORIEL_NIC_E1000: default: return "e1000";
    }
}

const char *
oriel_machine_name (OrielMachine machine)
{
  return machine == ORIEL_MACHINE_Q35 ? "q35" : "pc";
}
