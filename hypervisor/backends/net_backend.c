#include "backends/net_backend.h"

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
