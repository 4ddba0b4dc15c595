/* The safety checks of a dual-boot VM, run by the assistant before
 * creating it and by the daemon before every start.  None is silent: each
 * gives a verdict, a translated message and, when something is to be done,
 * translated advice. */
#pragma once

#include <glib.h>

#include "host-disk.h"

G_BEGIN_DECLS

typedef enum {
  ORIEL_CHECK_PASS,
  ORIEL_CHECK_WARN,        /* shown; needs nothing */
  ORIEL_CHECK_CONFIRM,     /* the user must confirm before a start */
  ORIEL_CHECK_REFUSE_REAL, /* refuses real mode; trial mode may start */
  ORIEL_CHECK_REFUSE,      /* refuses any start */
} OrielCheckVerdict;

typedef enum {
  ORIEL_DUALBOOT_MODE_TRIAL, /* guest writes go to an overlay */
  ORIEL_DUALBOOT_MODE_REAL,  /* guest writes reach the Windows partitions */
} OrielDualbootMode;

typedef enum {
  ORIEL_BOOT_CONTROLLER_NONE,
  ORIEL_BOOT_CONTROLLER_NVME,
  ORIEL_BOOT_CONTROLLER_AHCI,
} OrielBootController;

typedef struct {
  const char *id;           /* "windows", "firmware", "host-use", "hibernation", "bitlocker",
                               "partition-table", "controller", "disk-lock", "activation" */
  OrielCheckVerdict verdict;
  char *message;
  char *advice;             /* NULL when there is nothing to do */
} OrielSafetyCheck;

typedef struct {
  OrielDualbootMode mode;
  /* oriel_partition_fingerprint_record() text kept since the VM's
   * creation; NULL before there is one. */
  const char *recorded_fingerprint;
  const char *lock_dir;     /* NULL: ORIEL_DISK_LOCK_DIR */
  const char *sysfs_root;   /* NULL: "/sys" */
} OrielSafetyOptions;

/* Runs every check on a probed disk; OrielSafetyCheck* in a fixed order. */
GPtrArray *oriel_safety_checks_run (const OrielHostDisk *disk, const OrielSafetyOptions *options);

/* TRUE when check stops a start in mode (CONFIRM counts unless confirmed). */
gboolean oriel_safety_check_blocks (const OrielSafetyCheck *check, OrielDualbootMode mode, gboolean confirmed);

const char *oriel_check_verdict_name (OrielCheckVerdict verdict); /* "pass", "warn", ... */
const char *oriel_boot_controller_name (OrielBootController controller); /* "nvme", "ahci", "none" */

/* The controller to present the disk on: the one whose driver Windows
 * starts at boot (Start 0), preferring the disk's own bus when both do. */
OrielBootController oriel_boot_controller_choose (const char *bus, int stornvme_start, int storahci_start);

G_END_DECLS
