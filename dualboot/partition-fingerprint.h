/* The partition table's fingerprint: recorded when a dual-boot VM is
 * created and compared at every start, so a repartitioned disk never gets
 * its old layout written into it. */
#pragma once

#include <glib.h>

#include "host-disk.h"

G_BEGIN_DECLS

/* SHA-256 (hex) over the partition table bytes: the MBR's table part
 * (disk signature, four entries, boot signature; not the boot code, which
 * GRUB rewrites), and for GPT the primary header and its entry array. */
char *oriel_partition_table_sha256 (int fd, guint sector_size, gboolean gpt, GError **error);

/* The record kept with the VM: the hash plus one tab-separated line per
 * partition, so a change can be explained.  Text, ends with a newline. */
char *oriel_partition_fingerprint_record (const OrielHostDisk *disk, GError **error);

/* TRUE when current matches recorded.  Otherwise *difference gets one
 * translated line per change ("Partition 3: name changed from “A” to
 * “B”"). */
gboolean oriel_partition_fingerprint_compare (const char *recorded, const char *current, char **difference);

G_END_DECLS
