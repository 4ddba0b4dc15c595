/* Internals shared by the VNC server's files: the server, its clients and
 * their protocol state. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "vnc.h"
#include "vnc_auth.h"
#include "vnc_encodings.h"

#define VNC_MAX_CLIENTS 16
/* Stop producing updates for a client while this much output is queued. */
#define VNC_OUTPUT_SOFT_LIMIT (4u << 20)
/* A client that lets more than this pile up is dropped. */
#define VNC_OUTPUT_HARD_LIMIT (64u << 20)
#define VNC_TILE 64

enum vnc_state {
    VNC_STATE_VERSION,
    VNC_STATE_SECURITY_CHOICE,  /* 3.7+: client picks a type */
    VNC_STATE_AUTH_RESPONSE,
    VNC_STATE_CLIENT_INIT,
    VNC_STATE_NORMAL,
    VNC_STATE_CLOSED,
};

struct vnc_client {
    struct vnc_server *server;
    int fd;
    GSource *in_source, *out_source;
    enum vnc_state state;
    unsigned minor;             /* negotiated RFB 3.x */
    GByteArray *in, *out;
    uint64_t discard;           /* bytes of cut text still to skip */
    uint8_t challenge[VNC_CHALLENGE_SIZE];

    struct vnc_encoder enc;
    bool colour_map;            /* 8-bpp client with a palette: BGR233 */
    bool want_desktop_size, want_ext_key, ext_key_acked;
    bool want_pointer_change;
    int pointer_mode_sent;      /* -1 none yet, 0 relative, 1 absolute */

    /* Updates. */
    bool update_requested;
    unsigned req_x, req_y, req_w, req_h;
    bool resize_pending;
    unsigned tiles_w, tiles_h;
    uint8_t *dirty;             /* tiles_w * tiles_h */
};

struct vnc_listener {
    int fd;
    GSource *source;
    char *unix_path;            /* unlinked on free */
};

struct vnc_server {
    struct framebuffer *fb;
    struct input_router *input;
    GMainContext *ctx;
    char *name;
    char *password;
    GPtrArray *listeners;       /* struct vnc_listener */
    GPtrArray *clients;         /* struct vnc_client */
    int tcp_port;
    unsigned fb_listener_id;    /* 0 while no client is in NORMAL state */
    GSource *flush_source;
    GPtrArray *closing;         /* closed clients, freed from an idle */
    GSource *reap_source;
};

/* vnc.c */
void vnc_client_send(struct vnc_client *c, const void *data, size_t len);
void vnc_client_flush(struct vnc_client *c);
void vnc_client_close(struct vnc_client *c);
void vnc_server_schedule_flush(struct vnc_server *s);
void vnc_server_client_ready(struct vnc_server *s, struct vnc_client *c);

/* vnc_protocol.c: consume buffered input; false when the client must go. */
bool vnc_client_process_input(struct vnc_client *c);
void vnc_client_start(struct vnc_client *c);

/* vnc_update.c */
void vnc_client_init_tiles(struct vnc_client *c, unsigned width, unsigned height);
void vnc_client_mark_dirty(struct vnc_client *c, unsigned x, unsigned y,
                           unsigned w, unsigned h);
void vnc_client_send_update(struct vnc_client *c);
