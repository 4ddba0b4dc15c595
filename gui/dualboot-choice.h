/* "Use the Windows installed on this computer": the disks holding a
 * Windows installation, what the assistant says about each, and what the
 * domain XML needs from them.  The scan only reads (liboriel-dualboot). */
#pragma once

#include <glib.h>

#include "domain-xml-builder.h"
#include "host-disk.h"
#include "safety-checks.h"

G_BEGIN_DECLS

typedef struct {
  OrielHostDisk *disk;
  GPtrArray *checks;              /* OrielSafetyCheck*, run for real mode (the strictest) */
  OrielBootController controller; /* from the SYSTEM hive's stornvme/storahci Start */
} OrielDualbootCandidate;

void oriel_dualboot_candidate_free (OrielDualbootCandidate *candidate);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrielDualbootCandidate, oriel_dualboot_candidate_free)

/* Probes devices (whole disks, or image files) and keeps those holding
 * Windows, each with its safety checks.  *unreadable counts the devices
 * that could not be opened (no administrator rights).  Blocks: call it in
 * a worker thread. */
GPtrArray *oriel_dualboot_scan_devices (const char *const *devices, const char *sysfs_root,
                                        const char *lock_dir, guint *unreadable);
/* The same over every whole disk of this computer (and loop devices). */
GPtrArray *oriel_dualboot_scan (const char *sysfs_root, guint *unreadable);

/* "Windows 11 Pro, build 22631 (23H2)"; "Windows (BitLocker: edition and
 * build cannot be read)"; translated. */
char *oriel_dualboot_describe_windows (const OrielHostDisk *disk);
/* One line per partition the VM sees: "Partition 1: EFI system partition (100 MiB)". */
char *oriel_dualboot_describe_partitions (const OrielHostDisk *disk);
/* "/dev/nvme0n1 — Samsung SSD (512 GB), NVMe". */
char *oriel_dualboot_describe_disk (const OrielHostDisk *disk);
/* "UEFI" or "BIOS" (NULL: neither found). */
const char *oriel_dualboot_firmware_label (const OrielHostDisk *disk);
/* The controller the VM presents, in words, and why: the controller
 * check's message. */
char *oriel_dualboot_describe_controller (const OrielDualbootCandidate *candidate);

/* The bus of the VM's disk: the controller Windows starts at boot; when
 * none does, the disk's own kind (NVMe for an NVMe SSD, else SATA). */
OrielDiskBus oriel_dualboot_disk_bus (const OrielDualbootCandidate *candidate);
/* OrielDualbootPartition for each exposed partition, in table order. */
GArray *oriel_dualboot_partitions (const OrielHostDisk *disk);

/* TRUE when no check refuses real mode (REFUSE, REFUSE_REAL) and
 * Windows is not BitLocker-encrypted (which forces trial). */
gboolean oriel_dualboot_real_allowed (const OrielDualbootCandidate *candidate);
/* TRUE when some check asks for confirmation (BitLocker). */
gboolean oriel_dualboot_needs_confirmation (const OrielDualbootCandidate *candidate);
/* The first check that stops a start in mode, or NULL. */
const OrielSafetyCheck *oriel_dualboot_first_blocking (const OrielDualbootCandidate *candidate,
                                                       OrielDualbootMode mode, gboolean confirmed);

/* Whether this computer booted with UEFI Secure Boot on (the SecureBoot
 * variable under efivars_dir, normally /sys/firmware/efi/efivars): the
 * installation then boots the same way in the VM.  FALSE when unknown. */
gboolean oriel_dualboot_host_secure_boot (const char *efivars_dir);

/* Windows 11 from build 22000 on (osinfo ids). */
const char *oriel_dualboot_osinfo_id (const OrielHostDisk *disk);

G_END_DECLS
