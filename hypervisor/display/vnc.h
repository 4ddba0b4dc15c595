/* The VNC (RFB 3.3/3.7/3.8) server of oriel-vmm.
 *
 * Serves one framebuffer to any number of clients on UNIX sockets and/or
 * TCP, with security types None or VNC Authentication; sends only what
 * changed (framebuffer damage) with Raw, zlib or ZRLE, announces mode
 * changes with the DesktopSize pseudo-encoding, and forwards keys (keysyms
 * or QEMU extended key events carrying raw scancodes) and pointer events to
 * an input router.  Everything runs on the given GMainContext; writes never
 * block: a slow client gets updates only as fast as it reads them. */
#pragma once

#include <stdbool.h>
#include <glib.h>

struct framebuffer;
struct input_router;
struct vnc_server;

#define VNC_ERROR (vnc_error_quark())
GQuark vnc_error_quark(void);
enum vnc_error_code {
    VNC_ERROR_ADDRESS,  /* bad --vnc address */
    VNC_ERROR_SOCKET,   /* socket, bind or listen failed */
};

/* fb may be NULL until vnc_server_set_framebuffer(); input may be NULL
 * (input is then dropped).  name is the desktop name
 * sent to clients. */
struct vnc_server *vnc_server_new(struct framebuffer *fb, struct input_router *input,
                                  GMainContext *ctx, const char *name);
void vnc_server_free(struct vnc_server *s);
/* Serve a different surface; only before the main loop lets a client in
 * (so that a server can listen before its device exists). */
void vnc_server_set_framebuffer(struct vnc_server *s, struct framebuffer *fb);

/* NULL or "" disables authentication (security type None).  Only the first
 * eight characters count (a limit of the protocol). */
void vnc_server_set_password(struct vnc_server *s, const char *password);

/* Listen on "unix:PATH" or "HOST:PORT" (an IPv4 literal or "localhost").
 * PORT 0 picks the first free port from 5900 upward. */
bool vnc_server_listen(struct vnc_server *s, const char *address, GError **error);
bool vnc_server_listen_unix(struct vnc_server *s, const char *path, GError **error);
bool vnc_server_listen_tcp(struct vnc_server *s, const char *host, int port, GError **error);
/* The TCP port of the last TCP listener, or -1. */
int vnc_server_tcp_port(const struct vnc_server *s);

/* Serve an already connected stream socket (takes ownership of fd); used
 * by tests and for handing over connections. */
bool vnc_server_add_client_fd(struct vnc_server *s, int fd);

/* Clients that completed the handshake. */
unsigned vnc_server_client_count(const struct vnc_server *s);
