/* The map file of a dual-boot disk: which byte ranges of this computer's
 * disk the guest's synthetic disk shows, and how (oriel-vmm's
 * `format=synthetic`, see the dual-boot interface in hypervisor/OPTIONS.md). */
#pragma once

#include <glib.h>

#include "domain-def.h"
#include "host-disk.h"

typedef struct {
  const char *kind;    /* "table", "pass" or "esp" */
  guint64 offset;      /* bytes, multiples of 512 */
  guint64 length;
} DualbootRange;

/* The ranges in offset order: the partition table areas (MBR, the gap
 * before the first partition, GPT header and entries, the backup GPT,
 * extended boot records) as `table`, the listed partitions as `esp` or
 * `pass`.  Reads the table headers from disk->device.  Refuses a listed
 * partition the disk lacks, and ranges that overlap. */
GArray *dualboot_map_ranges (const OrielHostDisk *disk, const DomainDualboot *db, GError **error);

/* The map file's text. */
char *dualboot_map_format (const char *device, const char *mode, const char *esp_overlay,
                           const char *trial_overlay, const GArray *ranges);
