/* A domain's configuration: the subset of libvirt's domain XML that Oriel
 * implements, parsed strictly (unknown elements are refused by name) and
 * formatted back in libvirt's layout. */
#pragma once

#include <glib.h>

/* Oriel's own namespace for what libvirt's schema has no words for. */
#define ORIEL_DOMAIN_XMLNS "http://oriel.dev/xmlns/domain/1.0"

/* One partition of a dual-boot disk the guest sees (<oriel:partition>). */
typedef struct {
  int number;          /* the disk's partition number, 1-based */
  char *role;          /* "esp", "msr", "windows" or "recovery" */
} DomainDualbootPartition;

/* <oriel:dualboot>: the disk is this computer's own Windows disk, shown to
 * the guest as a synthetic disk (dualboot-domain.c). */
typedef struct {
  char *mode;          /* "trial" or "real" */
  char *fingerprint;   /* SHA-256 (hex) of the partition table; NULL until defined */
  gboolean discard_trial; /* define asks to drop the trial overlay; never stored */
  gboolean confirm_bitlocker; /* confirm='bitlocker': the user has the recovery key */
  GPtrArray *partitions; /* DomainDualbootPartition*, in document order */
} DomainDualboot;

typedef struct {
  char *type;          /* "file", "block" or "volume" */
  char *device;        /* "disk" or "cdrom" */
  char *driver_type;   /* "raw" or "qcow2" */
  char *source;        /* path, may be NULL for an empty cdrom; a volume's
                        * file once resolved at start (not formatted) */
  char *source_pool;   /* type 'volume': <source pool= volume=/> */
  char *source_volume;
  char *target_dev;    /* "vda", "sda", "hdc" */
  char *target_bus;    /* "virtio", "sata", "ide", "nvme" */
  gboolean readonly;
  char *serial;
  int boot_order;      /* 0 = unset */
  DomainDualboot *dualboot; /* NULL for an ordinary disk */
  char *live_map;      /* while starting: the synthetic disk's map file (not formatted) */
} DomainDisk;

typedef struct {
  char *type;          /* "user", "network" or "bridge" */
  char *source;        /* network or bridge name */
  char *mac;
  char *model;         /* "virtio", "e1000" or "e1000e" */
  char *live_target;   /* while running: the tap device of a bridge NIC */
} DomainNic;

typedef struct {
  char *type;          /* "tablet", "keyboard", "mouse" */
  char *bus;
} DomainInput;

/* Hyper-V enlightenments (<features><hyperv>), in libvirt's names. */
typedef enum {
  HV_RELAXED, HV_VAPIC, HV_SPINLOCKS, HV_VPINDEX, HV_RUNTIME, HV_SYNIC, HV_STIMER,
  HV_RESET, HV_VENDOR_ID, HV_FREQUENCIES, HV_REENLIGHTENMENT, HV_TLBFLUSH, HV_IPI,
  HV_EVMCS, HV_AVIC,
  HV_COUNT
} DomainHyperv;
extern const char *const domain_hyperv_names[HV_COUNT];

typedef enum { FEATURE_UNSET = 0, FEATURE_ON, FEATURE_OFF } FeatureState;

typedef struct {
  char *name;
  guint8 uuid[16];
  char *title;
  char *description;
  char *metadata_xml;  /* <metadata> kept verbatim */
  guint64 memory_kib;
  guint64 current_memory_kib;
  guint vcpus;

  char *arch;
  char *machine;
  char *firmware;         /* <os firmware='efi'>: chosen from the firmware descriptors */
  FeatureState fw_secure_boot;   /* <firmware><feature name='secure-boot' enabled=/> */
  FeatureState fw_enrolled_keys; /* <firmware><feature name='enrolled-keys' enabled=/> */
  char *loader;
  char *loader_type;      /* "rom" or "pflash"; NULL: not given */
  FeatureState loader_readonly;
  FeatureState loader_secure;
  char *nvram;            /* the domain's own UEFI variable store */
  char *nvram_template;   /* what a missing nvram is copied from */
  char *kernel;
  char *initrd;
  char *cmdline;
  GPtrArray *boot_devs;   /* char*: "hd", "cdrom", "network", "fd" */
  gboolean bootmenu;

  gboolean acpi;
  gboolean apic;
  gboolean pae;
  gboolean hyperv;        /* <hyperv> present */
  char *hyperv_mode;      /* "custom" or "passthrough"; NULL: not given */
  FeatureState hv[HV_COUNT];
  guint hv_spinlock_retries;
  FeatureState hv_stimer_direct;
  char *hv_vendor_id;
  FeatureState kvm_hidden;  /* <kvm><hidden state=/></kvm> */
  FeatureState smm;
  FeatureState vmport;
  char *cpu_xml;          /* <cpu> kept verbatim */
  char *clock_offset;
  FeatureState hv_clock;  /* <timer name='hypervclock' present=/> */
  char *clock_xml;        /* <clock> children kept verbatim */
  char *pm_xml;
  char *on_poweroff;
  char *on_reboot;
  char *on_crash;

  char *emulator;
  GPtrArray *disks;       /* DomainDisk* */
  GPtrArray *nics;        /* DomainNic* */
  GPtrArray *inputs;      /* DomainInput* */
  GPtrArray *controllers_xml; /* char*: controllers kept verbatim */
  char *usb_model;        /* model of the USB controller, if given */
  gboolean has_serial;    /* one pty serial port (COM1) with its console */
  gboolean has_vnc;
  int vnc_port;           /* -1 = autoport */
  char *vnc_listen;
  gboolean has_video;
  char *video_model;
  guint video_vram;
  gboolean has_balloon;
  char *balloon_model;
  gboolean has_rng;
  gboolean has_tpm;       /* <tpm model='tpm-crb'><backend type='emulator' version='2.0'/> */
  gboolean tpm_persistent_state; /* <backend persistent_state='yes'>: undefine keeps it */

  /* Runtime facts; formatted only in live XML. */
  char *live_pty;
  char *live_tpm_socket;  /* while starting: the swtpm control socket (not formatted) */
  int live_vnc_port;
} DomainDef;

typedef enum {
  DOMAIN_PARSE_DEFAULT = 0,
  DOMAIN_PARSE_LIVE = 1 << 0,  /* keep runtime facts (pty path, vnc port) */
} DomainParseFlags;

typedef enum {
  DOMAIN_FORMAT_INACTIVE = 0,
  DOMAIN_FORMAT_LIVE = 1 << 0, /* include runtime facts */
} DomainFormatFlags;

DomainDef *domain_def_parse (const char *xml, gsize len, DomainParseFlags flags, GError **error);
/* id >= 0 adds the id= attribute. */
char *domain_def_format (const DomainDef *def, DomainFormatFlags flags, int id);
DomainDef *domain_def_copy (const DomainDef *def);
/* One <disk> element alone, as update-device and attach-device pass it. */
DomainDisk *domain_disk_parse (const char *xml, gsize len, GError **error);
void domain_disk_free (DomainDisk *disk);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DomainDisk, domain_disk_free)
void domain_def_free (DomainDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DomainDef, domain_def_free)

void domain_uuid_format (const guint8 uuid[16], char out[37]);
gboolean domain_uuid_parse (const char *s, guint8 uuid[16]);
gboolean domain_name_is_valid (const char *name);
/* The domain boots UEFI from flash: <loader type='pflash'>. */
gboolean domain_def_is_uefi (const DomainDef *def);
/* The machine is a Q35 one ("q35", "pc-q35-*"). */
gboolean domain_def_is_q35 (const DomainDef *def);

/* A random locally administered MAC in libvirt's usual 52:54:00 range. */
char *domain_mac_generate (void);
