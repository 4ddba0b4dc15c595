/* TPM 2.0 with the Command Response Buffer interface (TCG PC Client
 * Platform TPM Profile), at 0xFED40000: what OVMF's Tcg2 drivers, Linux's
 * tpm_crb and Windows expect of a firmware TPM.
 *
 * Locality 0 only.  The guest writes a command into the data buffer and
 * sets CTRL_START; a worker thread hands the command to the backend
 * (swtpm) and, when the response is in the buffer, clears CTRL_START,
 * which the guest polls.  The command is copied before it runs, so the
 * guest cannot change it underway; a size outside the buffer gets a TPM
 * error response without reaching the backend.  A backend that fails
 * (swtpm gone) sets the fatal-error status bit and answers every command
 * with TPM_RC_FAILURE. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "core/vm.h"
#include "backends/tpm_backend.h"

#define TPM_CRB_BASE        0xfed40000u
#define TPM_CRB_SIZE        0x1000u
#define TPM_CRB_DATA_OFFSET 0x80u
#define TPM_CRB_DATA_SIZE   (TPM_CRB_SIZE - TPM_CRB_DATA_OFFSET)

/* Register offsets and bits, for ACPI tables and tests. */
enum {
    TPM_CRB_LOC_STATE = 0x00,
    TPM_CRB_LOC_CTRL = 0x08,
    TPM_CRB_LOC_STS = 0x0c,
    TPM_CRB_INTF_ID = 0x30,
    TPM_CRB_CTRL_REQ = 0x40,
    TPM_CRB_CTRL_STS = 0x44,
    TPM_CRB_CTRL_CANCEL = 0x48,
    TPM_CRB_CTRL_START = 0x4c,
    TPM_CRB_CTRL_INT_ENABLE = 0x50,
    TPM_CRB_CTRL_INT_STS = 0x54,
    TPM_CRB_CTRL_CMD_SIZE = 0x58,
    TPM_CRB_CTRL_CMD_LADDR = 0x5c,
    TPM_CRB_CTRL_CMD_HADDR = 0x60,
    TPM_CRB_CTRL_RSP_SIZE = 0x64,
    TPM_CRB_CTRL_RSP_ADDR = 0x68,

    TPM_CRB_LOC_STATE_ESTABLISHED = 1 << 0,
    TPM_CRB_LOC_STATE_ASSIGNED = 1 << 1,
    TPM_CRB_LOC_STATE_VALID = 1 << 7,
    TPM_CRB_LOC_CTRL_REQUEST = 1 << 0,
    TPM_CRB_LOC_CTRL_RELINQUISH = 1 << 1,
    TPM_CRB_LOC_STS_GRANTED = 1 << 0,
    TPM_CRB_CTRL_REQ_CMD_READY = 1 << 0,
    TPM_CRB_CTRL_REQ_GO_IDLE = 1 << 1,
    TPM_CRB_CTRL_STS_FATAL = 1 << 0,
    TPM_CRB_CTRL_STS_IDLE = 1 << 1,
};

struct tpm_crb;

/* The device takes the backend over (and frees it on failure too) and
 * starts the TPM.  Fails if the backend cannot start it, with the
 * backend's message. */
struct tpm_crb *tpm_crb_create(struct vm *vm, struct tpm_backend *backend, GError **error);
/* For the machine to register: the state (registers, buffer and the TPM's
 * own state from the backend) and the reset, a TPM power cycle. */
struct vm_state_ops;
extern const struct vm_state_ops tpm_crb_state_ops;
void tpm_crb_reset(void *opaque);
/* After the VM is gone (its buses and slots go with it). */
void tpm_crb_free(struct tpm_crb *crb);
