/* Character device backends for serial ports: stdio, a pty, an append-only
 * log file, a listening UNIX socket (one client at a time), or nothing.
 *
 * Output may be written from any thread (a vCPU emulating a UART); input is
 * read on the VM's main context and handed to the receiver, which says how
 * much it can take so that a full FIFO throttles the backend instead of
 * dropping characters. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

struct chardev;

/* spec: "stdio", "pty", "file:PATH", "unix:PATH" or "none" (config/chardev_spec.h). */
struct chardev *chardev_open(const char *spec, const char *label, GMainContext *ctx,
                             GError **error);
void chardev_close(struct chardev *chr);

void chardev_set_receiver(struct chardev *chr,
                          size_t (*can_receive)(void *opaque),
                          void (*receive)(void *opaque, const uint8_t *buf, size_t len),
                          void *opaque);

/* Send bytes to the backend; dropped when nobody is connected.  What a slow
 * reader has not taken yet is buffered, never dropped below a large bound. */
void chardev_write(struct chardev *chr, const uint8_t *buf, size_t len);

/* Has the reader fallen behind so far that the writer should wait?  Once it
 * has caught up again, ready (set with chardev_set_write_ready) is called on
 * the VM's main context. */
bool chardev_write_busy(struct chardev *chr);
void chardev_set_write_ready(struct chardev *chr, void (*ready)(void *opaque), void *opaque);

/* The receiver has room again after can_receive() returned 0. */
void chardev_accept_input(struct chardev *chr);

const char *chardev_label(const struct chardev *chr);
const char *chardev_backend(const struct chardev *chr);   /* "stdio", "pty", ... */
const char *chardev_filename(const struct chardev *chr);  /* pty path, file, socket; or NULL */

/* Put a terminal on stdin back the way it was (also done by chardev_close). */
void chardev_restore_terminal(void);
