/* Guest RAM in a VM state file: every RAM region, with the pages that are
 * all zeros left out (a bitmap says which pages follow). */
#pragma once

#include <stdbool.h>
#include <glib.h>

#include "guest_memory.h"
#include "state_file.h"

#define RAM_STATE_SECTION "ram"
#define RAM_STATE_VERSION 1u

/* Add the section to w; the pages are referenced, not copied, so RAM must
 * not change until the file is written (vCPUs paused, main loop busy). */
void ram_state_save(const struct guest_memory *m, struct state_file_writer *w);

/* Fill m from the section (NULL: missing); checks that the regions are
 * the ones m has. */
bool ram_state_load(struct guest_memory *m, const struct state_section *s, GError **error);
