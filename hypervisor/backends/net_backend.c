#include "net_backend.h"
#include "core/state_stream.h"

#include <gio/gio.h>
#include <glib/gi18n.h>

struct net_backend *net_backend_open(const struct net_config *cfg, GMainContext *ctx,
                                     GError **error)
{
    switch (cfg->backend) {
    case NET_BACKEND_USER:
        return net_slirp_open(cfg, ctx, error);
    case NET_BACKEND_TAP:
        return net_tap_open(cfg, ctx, error);
    default:
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, _("Unknown network backend"));
        return NULL;
    }
}

void net_backend_set_receiver(struct net_backend *nb, net_backend_receive_fn fn, void *opaque)
{
    nb->receive = fn;
    nb->receive_opaque = opaque;
}

void net_backend_close(struct net_backend *nb)
{
    if (nb)
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
