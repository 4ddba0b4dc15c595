/* Builds libvirt domain XML from the choices made in the new-VM wizard. */
#pragma once

#include <glib.h>
#include "os-defaults.h"

G_BEGIN_DECLS

typedef enum {
  ORIEL_SOURCE_ISO,
  ORIEL_SOURCE_IMPORT,
  ORIEL_SOURCE_KERNEL,
  ORIEL_SOURCE_PHYSICAL,
  ORIEL_SOURCE_DUALBOOT, /* the Windows installed on this computer's disk */
} OrielSourceKind;

/* A partition a dual-boot VM sees, as liboriel-dualboot reports it. */
typedef struct {
  int number;            /* the disk's partition number */
  const char *role;      /* static: "esp", "msr", "windows", "recovery" */
} OrielDualbootPartition;

typedef struct {
  char *name;
  char *domain_type;    /* "kvm", or "test" for libvirt's test driver */
  OrielSourceKind source;
  char *iso_path;       /* ISO: the installer CD */
  char *import_path;    /* IMPORT: existing disk image */
  char *kernel_path;    /* KERNEL: direct boot */
  char *initrd_path;    /*   optional */
  char *cmdline;        /*   optional */
  char *physical_device;/* PHYSICAL, DUALBOOT: /dev/... of the whole disk */
  char *dualboot_mode;  /* DUALBOOT: "trial" or "real" */
  GArray *dualboot_partitions; /* DUALBOOT: OrielDualbootPartition, the exposed ones */
  gboolean dualboot_confirm_bitlocker; /* DUALBOOT: the user knows the recovery key will be asked */
  char *new_disk_path;  /* ISO / KERNEL: volume created in the pool, or NULL */
  char *new_disk_format;/* "qcow2" or "raw" */
  char *os_id;          /* libosinfo OS id, stored in the metadata */
  char *network;        /* libvirt network name; NULL means user-mode NAT */
  OrielOsDefaults hw;   /* memory, vCPUs, firmware and device models */
} OrielVmSpec;

void oriel_vm_spec_clear (OrielVmSpec *spec);

/* Checks the spec and explains the first problem in error. */
gboolean oriel_vm_spec_validate (const OrielVmSpec *spec, GError **error);

/* Returns newly allocated domain XML, or NULL with error set. */
char *oriel_domain_xml_build (const OrielVmSpec *spec, GError **error);

#define ORIEL_LIBOSINFO_XMLNS "http://libosinfo.org/xmlns/libvirt/domain/1.0"
/* Oriel's own domain XML elements (dualboot-interface, section 2). */
#define ORIEL_DOMAIN_XMLNS "http://oriel.dev/xmlns/domain/1.0"

#define ORIEL_SPEC_ERROR (oriel_spec_error_quark ())
GQuark oriel_spec_error_quark (void);

G_END_DECLS
