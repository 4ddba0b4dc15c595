#include <stdbool.h>

/* The firmware's "bootorder" file: one device path per line, in the order
 * the user asked for with --boot (a comma-separated list of "cdrom" and
 * "disk", plus "menu" to offer the boot menu); devices not named keep the firmware's order after these. */
#pragma once

/* cdroms and disks are NULL-terminated lists of firmware device paths in
 * attachment order.  boot NULL or "" means "disk,cdrom".  Unknown words
 * are skipped (the options parser has refused them already).  Returns a
 * newly allocated string, "" when there is nothing to list. */
char *bootorder_build(const char *boot, const char *const *cdroms, const char *const *disks);

/* Whether boot (as for bootorder_build) asks for the boot menu. */
bool bootorder_wants_menu(const char *boot);
