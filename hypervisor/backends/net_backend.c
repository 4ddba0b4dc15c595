#include "net_backend.h"
#include "core/state_stream.h"

#include <gio/gio.h>
#include <glib/gi18n.h>

/* The backends open in this process, for net_backend_find(). */
static GPtrArray *open_backends;

struct net_backend *net_backend_open(const struct net_config *cfg, GMainContext *ctx,
                                     GError **error)
{
    struct net_backend *nb;
    switch (cfg->backend) {
    case NET_BACKEND_USER:
        nb = net_slirp_open(cfg, ctx, error);
        break;
    case NET_BACKEND_TAP:
        nb = net_tap_open(cfg, ctx, error);
        break;
    default:
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, _("Unknown network backend"));
        return NULL;
    }
    if (nb) {
        nb->cfg = cfg;
        if (!open_backends)
            open_backends = g_ptr_array_new();
        g_ptr_array_add(open_backends, nb);
    }
    return nb;
}

struct net_backend *net_backend_find(const struct net_config *cfg)
{
    for (guint i = 0; open_backends && i < open_backends->len; i++) {
        struct net_backend *nb = open_backends->pdata[i];
        if (nb->cfg == cfg)
            return nb;
    }
    return NULL;
}

static void add(uint64_t *counter, uint64_t v)
{
    __atomic_fetch_add(counter, v, __ATOMIC_RELAXED);
}

void net_backend_send(struct net_backend *nb, const struct iovec *iov, int iovcnt)
{
    uint64_t len = 0;
    for (int i = 0; i < iovcnt; i++)
        len += iov[i].iov_len;
    add(&nb->stats.tx_packets, 1);
    add(&nb->stats.tx_bytes, len);
    nb->ops->send(nb, iov, iovcnt);
}

bool net_backend_deliver(struct net_backend *nb, const uint8_t *frame, size_t len)
{
    if (!nb->receive || !nb->receive(nb->receive_opaque, frame, len))
        return false;
    add(&nb->stats.rx_packets, 1);
    add(&nb->stats.rx_bytes, len);
    return true;
}

void net_backend_count_drop(struct net_backend *nb)
{
    add(&nb->stats.rx_dropped, 1);
}

void net_backend_set_receiver(struct net_backend *nb, net_backend_receive_fn fn, void *opaque)
{
    nb->receive = fn;
    nb->receive_opaque = opaque;
}

void net_backend_close(struct net_backend *nb)
{
    if (!nb)
        return;
    if (open_backends)
        g_ptr_array_remove(open_backends, nb);
    nb->ops->close(nb);
}

bool net_backend_save(struct net_backend *nb, struct state_out *o, GError **error)
{
    struct state_out blob;
    state_out_init(&blob);
    bool ok = !nb->ops->save || nb->ops->save(nb, &blob, error);
    if (ok) {
        state_out_u32(o, blob.buf->len);
        state_out_bytes(o, blob.buf->data, blob.buf->len);
    }
    state_out_clear(&blob);
    return ok;
}

bool net_backend_load(struct net_backend *nb, struct state_in *in, GError **error)
{
    uint32_t len = state_in_u32(in);
    const void *data = state_in_ptr(in, len);
    if (!data)
        return state_in_invalid(in, error, _("the network backend's state is truncated"));
    if (len == 0)
        return true;
    if (!nb->ops->load)
        return state_in_invalid(in, error, _("state of another kind of network backend"));
    return nb->ops->load(nb, data, len, error);
}
