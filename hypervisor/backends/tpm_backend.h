/* A TPM backend: where a TPM interface's commands are executed.
 *
 * The interface device (tpm_crb.c) hands a whole TPM command to transmit()
 * and gets a whole response back; everything about the TPM itself (keys,
 * PCRs, NV indices) lives in the backend.  transmit() may take long (key
 * generation): the device calls it from its own worker thread, never from
 * a vCPU or the main loop. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

struct tpm_backend;

struct tpm_backend_ops {
    /* Power on (and after every platform reset): the TPM starts with its
     * command buffer size set to buffer_size. */
    bool (*startup)(struct tpm_backend *be, size_t buffer_size, GError **error);
    /* Execute one command at the given locality; the response (a complete
     * TPM response, header included) fits in resp_max bytes. */
    bool (*transmit)(struct tpm_backend *be, uint8_t locality, const uint8_t *cmd, size_t len,
                     uint8_t *resp, size_t resp_max, size_t *resp_len, GError **error);
    /* The TPM's whole state (permanent, volatile, save-state blobs) as one
     * opaque byte string, and back.  set_state() leaves the TPM running. */
    GBytes *(*get_state)(struct tpm_backend *be, GError **error);
    bool (*set_state)(struct tpm_backend *be, GBytes *state, size_t buffer_size, GError **error);
    void (*free)(struct tpm_backend *be);
};

struct tpm_backend {
    const struct tpm_backend_ops *ops;
};

static inline void tpm_backend_free(struct tpm_backend *be)
{
    if (be)
        be->ops->free(be);
}
