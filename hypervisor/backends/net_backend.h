/* A network backend: where a NIC's frames go and come from.  Frames are
 * plain Ethernet frames (no virtio header).  Everything runs on the VM's
 * main loop. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <glib.h>

#include "config/net_config.h"

struct net_backend;

/* Receive one frame for the guest.  Return false if the NIC has no buffer
 * for it now: the backend then holds it (tap) or drops it (user-mode NAT,
 * whose TCP retransmits) and waits for net_backend_rx_resume(). */
typedef bool (*net_backend_receive_fn)(void *opaque, const uint8_t *frame, size_t len);
/* Backends never call receive from inside send or rx_resume (the NIC holds
 * its lock there); they defer to the main loop instead. */

struct state_out;
struct state_in;

struct net_backend_ops {
    void (*send)(struct net_backend *nb, const struct iovec *iov, int iovcnt);
    void (*rx_resume)(struct net_backend *nb);
    void (*close)(struct net_backend *nb);
    /* VM state the backend keeps for the guest (optional: a tap device
     * keeps none).  load() gets exactly the bytes save() wrote. */
    bool (*save)(struct net_backend *nb, struct state_out *out, GError **error);
    bool (*load)(struct net_backend *nb, const void *data, size_t len, GError **error);
};

/* Frames through the backend as the guest sees them: tx what the NIC
 * sent, rx what it took, rx_dropped what it had no room for and the
 * backend threw away. */
struct net_stats {
    uint64_t rx_bytes, rx_packets, rx_dropped;
    uint64_t tx_bytes, tx_packets;
};

struct net_backend {
    const struct net_backend_ops *ops;
    GMainContext *ctx;
    net_backend_receive_fn receive;
    void *receive_opaque;
    const struct net_config *cfg;   /* what it was opened for */
    struct net_stats stats;
};

/* Open the backend the configuration names (user or tap). */
struct net_backend *net_backend_open(const struct net_config *cfg, GMainContext *ctx,
                                     GError **error);
struct net_backend *net_slirp_open(const struct net_config *cfg, GMainContext *ctx,
                                   GError **error);
struct net_backend *net_tap_open(const struct net_config *cfg, GMainContext *ctx,
                                 GError **error);

void net_backend_set_receiver(struct net_backend *nb, net_backend_receive_fn fn, void *opaque);
/* A frame from the NIC, counted. */
void net_backend_send(struct net_backend *nb, const struct iovec *iov, int iovcnt);
/* Backends hand frames to the NIC through this (counted); false: the NIC
 * had no room.  A backend dropping such a frame counts it with
 * net_backend_count_drop(). */
bool net_backend_deliver(struct net_backend *nb, const uint8_t *frame, size_t len);
void net_backend_count_drop(struct net_backend *nb);
/* The open backend made for cfg (one of the options' nets), or NULL. */
struct net_backend *net_backend_find(const struct net_config *cfg);
static inline void net_backend_rx_resume(struct net_backend *nb) { nb->ops->rx_resume(nb); }
void net_backend_close(struct net_backend *nb);

/* The backend's state as one length-prefixed blob of a NIC's section. */
bool net_backend_save(struct net_backend *nb, struct state_out *out, GError **error);
bool net_backend_load(struct net_backend *nb, struct state_in *in, GError **error);
