/* --uefi code=FILE,vars=FILE[,secure=on]: the two flash images of UEFI
 * firmware (OVMF) and whether the Secure Boot build's protection of the
 * variable store is wanted. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

/* Together the two images sit below 4 GiB and must leave room for the
 * IOAPIC, HPET and LAPIC pages under them. */
#define UEFI_FLASH_MAX_TOTAL  (16u * 1024 * 1024)
/* OVMF's erase block, and so the granularity of the variable store. */
#define UEFI_FLASH_BLOCK      4096u

struct uefi_config {
    char *code;     /* firmware volume(s), mapped read-only */
    char *vars;     /* the variable store, read-write, owned by the caller */
    bool secure;    /* secure=on: the store only writable from SMM */
};

void uefi_config_clear(struct uefi_config *u);

/* Parse the value of --uefi.  Only the syntax: the files are checked by
 * uefi_config_check(). */
bool uefi_config_parse(const char *spec, struct uefi_config *u, GError **error);

/* Check the two files: present, readable (vars also writable), sizes a
 * whole number of 4 KiB blocks, and the two together forming one flash
 * device as OVMF is built for (the sizes sum to a power of two, at most
 * 16 MiB: Debian's 2 MiB and 4 MiB builds).  The message names the file. */
bool uefi_config_check(const struct uefi_config *u, GError **error);

/* Check sizes alone (for tests and for uefi_config_check). */
bool uefi_config_check_sizes(const struct uefi_config *u, uint64_t code_size,
                             uint64_t vars_size, GError **error);
