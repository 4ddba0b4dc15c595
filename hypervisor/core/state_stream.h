/* Typed encoding of one section of a VM state file (SAVE.md): a device
 * appends its fields to a state_out in a fixed order and reads them back
 * from a state_in in the same order.  Integers are little-endian.
 *
 * state_in never reads past its end: a read beyond it returns zeros and
 * marks the input short, which state_in_finish() turns into an error, so a
 * load function can read all its fields first and check once. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

struct state_out {
    GByteArray *buf;
};

void state_out_init(struct state_out *o);
void state_out_clear(struct state_out *o);
void state_out_u8(struct state_out *o, uint8_t v);
void state_out_u16(struct state_out *o, uint16_t v);
void state_out_u32(struct state_out *o, uint32_t v);
void state_out_u64(struct state_out *o, uint64_t v);
void state_out_bool(struct state_out *o, bool v);
void state_out_bytes(struct state_out *o, const void *p, size_t len);

/* A large buffer (VRAM) that is mostly zeros: a bitmap of the 4 KiB pages
 * that are not, then those pages. */
void state_out_sparse(struct state_out *o, const uint8_t *data, size_t len);

struct state_in {
    const uint8_t *data;
    size_t len;
    size_t pos;
    bool short_read;
    const char *what;           /* the section, for messages */
};

void state_in_init(struct state_in *in, const void *data, size_t len, const char *what);
uint8_t state_in_u8(struct state_in *in);
uint16_t state_in_u16(struct state_in *in);
uint32_t state_in_u32(struct state_in *in);
uint64_t state_in_u64(struct state_in *in);
bool state_in_bool(struct state_in *in);
void state_in_bytes(struct state_in *in, void *p, size_t len);
/* A pointer to the next len bytes (or NULL, marking the input short). */
const void *state_in_ptr(struct state_in *in, size_t len);
size_t state_in_left(const struct state_in *in);
/* Fill data (len bytes) from state_out_sparse()'s encoding; false (input
 * marked short) when it is truncated. */
bool state_in_sparse(struct state_in *in, uint8_t *data, size_t len);

/* After the last field: false (with a message naming the section) when the
 * section was shorter than the fields or has bytes left over. */
bool state_in_finish(struct state_in *in, GError **error);

/* A value loaded from a state file that the device model would never have
 * accepted from the guest: fail the load with a message naming it. */
bool state_in_invalid(const struct state_in *in, GError **error, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
