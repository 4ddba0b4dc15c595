/* A host tap interface (/dev/net/tun, IFF_TAP | IFF_NO_PI): frames go both
 * ways unchanged.  Opening one needs CAP_NET_ADMIN or a persistent tap
 * owned by the user. */
#include "net_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gi18n.h>

#define TAP_FRAME_MAX 65536

struct net_tap {
    struct net_backend nb;
    int fd;
    GSource *source;
    bool blocked;               /* the NIC had no room; pending holds a frame */
    uint8_t pending[TAP_FRAME_MAX];
    size_t npending;
    GSource *retry;
};

static struct net_tap *from_nb(struct net_backend *nb) { return (struct net_tap *)nb; }

static bool deliver(struct net_tap *t, const uint8_t *frame, size_t len)
{
    /* Without a NIC listening the frame goes nowhere; refused, it waits. */
    if (!t->nb.receive) {
        net_backend_count_drop(&t->nb);
        return true;
    }
    return net_backend_deliver(&t->nb, frame, len);
}

static gboolean tap_readable(gint fd, GIOCondition cond, gpointer data)
{
    struct net_tap *t = data;
    /* A bounded batch per wakeup keeps the main loop responsive. */
    for (unsigned i = 0; i < 64 && !t->blocked; i++) {
        ssize_t n = read(t->fd, t->pending, sizeof(t->pending));
        if (n <= 0)
            break;
        if (!deliver(t, t->pending, (size_t)n)) {
            t->npending = (size_t)n;
            t->blocked = true;
        }
    }
    if (t->blocked) {
        /* Stop reading until the NIC has buffers again. */
        t->source = NULL;
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static void watch(struct net_tap *t)
{
    t->source = g_unix_fd_source_new(t->fd, G_IO_IN);
    g_source_set_callback(t->source, (GSourceFunc)(void (*)(void))tap_readable, t, NULL);
    g_source_attach(t->source, t->nb.ctx);
    g_source_unref(t->source);
}

static gboolean retry_pending(gpointer data)
{
    struct net_tap *t = data;
    t->retry = NULL;
    if (t->blocked && deliver(t, t->pending, t->npending)) {
        t->blocked = false;
        t->npending = 0;
        watch(t);
    }
    return G_SOURCE_REMOVE;
}

static void tap_rx_resume(struct net_backend *nb)
{
    struct net_tap *t = from_nb(nb);
    /* Called with the NIC's lock held: deliver later, from the loop. */
    if (!t->blocked || t->retry)
        return;
    t->retry = g_idle_source_new();
    g_source_set_callback(t->retry, retry_pending, t, NULL);
    g_source_attach(t->retry, nb->ctx);
    g_source_unref(t->retry);
}

static void tap_send(struct net_backend *nb, const struct iovec *iov, int iovcnt)
{
    struct net_tap *t = from_nb(nb);
    /* A full host queue drops the frame, like a wire would. */
    if (writev(t->fd, iov, iovcnt) < 0 && errno != EAGAIN)
        g_debug("tap: write: %s", g_strerror(errno));
}

static void tap_close(struct net_backend *nb)
{
    struct net_tap *t = from_nb(nb);
    if (t->source)
        g_source_destroy(t->source);
    if (t->retry)
        g_source_destroy(t->retry);
    close(t->fd);
    g_free(t);
}

static const struct net_backend_ops tap_ops = {
    .send = tap_send,
    .rx_resume = tap_rx_resume,
    .close = tap_close,
};

struct net_backend *net_tap_open(const struct net_config *cfg, GMainContext *ctx,
                                 GError **error)
{
    const char *name = cfg->tap_ifname ? cfg->tap_ifname : "";
    if (strlen(name) >= IFNAMSIZ) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    _("Tap interface name %s is too long"), name);
        return NULL;
    }
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                    _("Cannot open /dev/net/tun: %s"), g_strerror(e));
        return NULL;
    }
    struct ifreq ifr = { 0 };
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    memcpy(ifr.ifr_name, name, strlen(name));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        close(fd);
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                    _("Cannot attach to tap interface %s: %s"), name, g_strerror(e));
        return NULL;
    }
    struct net_tap *t = g_new0(struct net_tap, 1);
    t->nb.ops = &tap_ops;
    t->nb.ctx = ctx;
    t->fd = fd;
    watch(t);
    return &t->nb;
}
