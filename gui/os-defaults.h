/* Per-OS hardware defaults and OS detection, backed by libosinfo. */
#pragma once

#include <glib.h>
#include <osinfo/osinfo.h>

G_BEGIN_DECLS

typedef enum {
  ORIEL_OS_FAMILY_LINUX,
  ORIEL_OS_FAMILY_WINDOWS,
  ORIEL_OS_FAMILY_BSD,
  ORIEL_OS_FAMILY_OTHER,
} OrielOsFamily;

typedef enum {
  ORIEL_FIRMWARE_BIOS,
  ORIEL_FIRMWARE_UEFI,
} OrielFirmware;

typedef enum {
  ORIEL_DISK_BUS_VIRTIO,
  ORIEL_DISK_BUS_SATA,
  ORIEL_DISK_BUS_IDE,
  ORIEL_DISK_BUS_NVME,  /* a dual-boot Windows installed on an NVMe SSD */
} OrielDiskBus;

typedef enum {
  ORIEL_NIC_VIRTIO,
  ORIEL_NIC_E1000,
  ORIEL_NIC_E1000E,
} OrielNicModel;

typedef enum {
  ORIEL_MACHINE_PC,     /* i440FX: every guest that still boots a BIOS */
  ORIEL_MACHINE_Q35,    /* Q35 with SMM: what Secure Boot needs */
} OrielMachine;

typedef enum {
  ORIEL_USB_UHCI,
  ORIEL_USB_XHCI,
} OrielUsbController;

typedef struct {
  OrielOsFamily family;
  guint64 memory_mib;
  guint vcpus;
  guint64 disk_gib;
  OrielFirmware firmware;
  OrielDiskBus disk_bus;
  OrielNicModel nic_model;
  gboolean usb_tablet;
  OrielMachine machine;
  gboolean secure_boot;      /* UEFI with Microsoft's keys enrolled */
  gboolean tpm;              /* a TPM 2.0 whose state the daemon keeps */
  gboolean hyperv;           /* Hyper-V enlightenments (Windows) */
  OrielUsbController usb;
} OrielOsDefaults;

/* Defaults when nothing more is known than the family. */
void oriel_os_defaults_for_family (OrielOsFamily family, OrielOsDefaults *out);

/* Map a libosinfo family string ("linux", "winnt", "freebsd", ...). */
OrielOsFamily oriel_os_family_from_osinfo (const char *family);

/* Defaults for a libosinfo OS: family defaults refined with the database's
 * recommended resources, virtio support and firmware requirements. */
void oriel_os_defaults_for_os (OsinfoOs *os, OrielOsDefaults *out);

/* Loads the system osinfo database; NULL with error set if it is missing. */
OsinfoDb *oriel_os_db_load (GError **error);

/* Identifies the OS on an installer image; NULL if the media is unknown. */
OsinfoOs *oriel_os_detect_media (OsinfoDb *db, const char *iso_path,
                                 GError **error);

/* Icon name for the family, used in the VM list. */
const char *oriel_os_family_icon_name (OrielOsFamily family);

const char *oriel_disk_bus_name (OrielDiskBus bus);
const char *oriel_nic_model_name (OrielNicModel nic);
const char *oriel_machine_name (OrielMachine machine);

G_END_DECLS
