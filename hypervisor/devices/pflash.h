/* CFI parallel flash with the Intel/Sharp command set (CFI ID 0x0001): the
 * two flash chips at the top of 4 GiB that UEFI firmware runs from (the
 * code, read-only) and keeps its variables in (the store, read-write).
 *
 * In read-array mode the contents are a read-only KVM memory slot, so the
 * firmware executes and reads at memory speed and only writes (commands)
 * exit.  A command that changes what reads return (status, identifier,
 * CFI query) removes the slot until read-array mode comes back, so those
 * reads exit to the device.  Programs and erases go through to the backing
 * file at once: the variables persist across power cycles.
 *
 * With "secure" (Secure Boot builds of OVMF), only code running in System
 * Management Mode may change the store: writes from outside SMM are
 * dropped and reads from outside SMM always see the array. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "core/vm.h"

struct pflash;

struct pflash_config {
    const char *name;       /* for messages and the state section: "pflash0" */
    const char *path;       /* backing file; its size is the chip's size */
    uint64_t base;          /* guest-physical address */
    uint32_t block_size;    /* erase block; divides the size (OVMF: 4 KiB) */
    bool readonly;          /* the code image: every write is ignored */
    bool secure;            /* writes only from SMM */
    /* Whether the access being dispatched comes from a vCPU in SMM (the
     * machine wires this to the vCPU's exit state).  NULL: never. */
    bool (*in_smm)(void *opaque);
    void *smm_opaque;
};

/* Open the file and map the chip at config->base.  The machine registers
 * pflash_state_ops (under config->name) and pflash_reset() for it.
 * Fails with a message naming the file when it is missing, unreadable,
 * empty, not a whole number of blocks, or (read-write) not writable. */
struct pflash *pflash_create(struct vm *vm, const struct pflash_config *config,
                             GError **error);
/* After the VM is gone (its buses and memory slots go with it). */
void pflash_free(struct pflash *fl);

struct vm_state_ops;
extern const struct vm_state_ops pflash_state_ops;
void pflash_reset(void *opaque);    /* back to read-array mode */

uint64_t pflash_size(const struct pflash *fl);
/* The chip's contents as the firmware sees them in read-array mode. */
const uint8_t *pflash_contents(const struct pflash *fl);

/* Command-set values, for tests. */
enum {
    PFLASH_CMD_READ_ARRAY = 0xff,
    PFLASH_CMD_READ_ID = 0x90,
    PFLASH_CMD_CFI_QUERY = 0x98,
    PFLASH_CMD_READ_STATUS = 0x70,
    PFLASH_CMD_CLEAR_STATUS = 0x50,
    PFLASH_CMD_PROGRAM = 0x10,
    PFLASH_CMD_PROGRAM_ALT = 0x40,
    PFLASH_CMD_ERASE = 0x20,
    PFLASH_CMD_WRITE_BUFFER = 0xe8,
    PFLASH_CMD_CONFIRM = 0xd0,
    PFLASH_CMD_LOCK_SETUP = 0x60,

    PFLASH_STATUS_READY = 0x80,
    PFLASH_STATUS_ERASE_ERROR = 0x20,
    PFLASH_STATUS_PROGRAM_ERROR = 0x10,
    PFLASH_STATUS_LOCKED = 0x02,
};
