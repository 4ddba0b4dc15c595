/* KVM dirty page logging of a memory slot created with log_dirty = true
 * (VGA VRAM now; live migration later). */
#pragma once

#include <stdbool.h>
#include <glib.h>

struct vm;

/* Copy the slot's dirty bitmap into bitmap (one bit per 4 KiB page, rounded
 * up to a multiple of 64 pages) and reset it in KVM.  slot is the value
 * vm_map_memory() returned. */
bool vm_get_dirty_log(struct vm *vm, int slot, unsigned long *bitmap, GError **error);
