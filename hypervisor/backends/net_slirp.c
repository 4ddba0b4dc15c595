/* User-mode NAT through libslirp: the guest gets 10.0.2.15 by DHCP, the
 * gateway 10.0.2.2 forwards to the host (including its loopback), 10.0.2.3
 * forwards DNS, and hostfwd rules accept connections on the host.
 *
 * libslirp is driven from the VM's GMainContext: a GSource asks it for the
 * sockets to watch and for its timeout before every poll, and lets it
 * process them afterwards; its timers are GLib timeouts. */
#include "net_backend.h"

#include <arpa/inet.h>
#include <string.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <slirp/libslirp.h>

#include "core/state_stream.h"

struct net_slirp {
    struct net_backend nb;
    Slirp *slirp;
    GSource *source;
    GArray *pollfds;            /* GPollFD, registered with the source */
    /* Frames slirp answers with while we feed it one from the guest (ARP,
     * ICMP, DHCP replies) wait here: the NIC is still busy sending and
     * must not be re-entered. */
    bool in_input;
    GQueue deferred;            /* GBytes */
    gint64 poll_deadline;       /* slirp's timeout (TCP timers), -1: none */
    GSource *flush;
};

struct slirp_source {
    GSource base;
    struct net_slirp *ns;
};

struct slirp_timer {
    struct net_slirp *ns;
    SlirpTimerId id;
    void *cb_opaque;
    GSource *source;
};

static struct net_slirp *from_nb(struct net_backend *nb) { return (struct net_slirp *)nb; }

/* ---- callbacks from libslirp --------------------------------------------- */

static gboolean flush_deferred(gpointer data)
{
    struct net_slirp *ns = data;
    ns->flush = NULL;
    GBytes *b;
    while ((b = g_queue_pop_head(&ns->deferred))) {
        gsize len;
        const uint8_t *p = g_bytes_get_data(b, &len);
        if (!net_backend_deliver(&ns->nb, p, len))
            net_backend_count_drop(&ns->nb);
        g_bytes_unref(b);
    }
    return G_SOURCE_REMOVE;
}

static ssize_t send_packet(const void *buf, size_t len, void *opaque)
{
    struct net_slirp *ns = opaque;
    if (ns->in_input) {
        g_queue_push_tail(&ns->deferred, g_bytes_new(buf, len));
        if (!ns->flush) {
            ns->flush = g_idle_source_new();
            g_source_set_callback(ns->flush, flush_deferred, ns, NULL);
            g_source_attach(ns->flush, ns->nb.ctx);
            g_source_unref(ns->flush);
        }
        return (ssize_t)len;
    }
    /* No room in the guest: drop, TCP retransmits. */
    if (!net_backend_deliver(&ns->nb, buf, len))
        net_backend_count_drop(&ns->nb);
    return (ssize_t)len;
}

static void guest_error(const char *msg, void *opaque)
{
    g_debug("slirp: guest error: %s", msg);
}

static int64_t clock_get_ns(void *opaque)
{
    return g_get_monotonic_time() * 1000;
}

static gboolean timer_fired(gpointer data)
{
    struct slirp_timer *t = data;
    g_source_unref(t->source);
    t->source = NULL;
    slirp_handle_timer(t->ns->slirp, t->id, t->cb_opaque);
    return G_SOURCE_REMOVE;
}

static void *timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
    struct slirp_timer *t = g_new0(struct slirp_timer, 1);
    t->ns = opaque;
    t->id = id;
    t->cb_opaque = cb_opaque;
    return t;
}

static void timer_cancel(struct slirp_timer *t)
{
    if (t->source) {
        g_source_destroy(t->source);
        g_source_unref(t->source);
        t->source = NULL;
    }
}

static void timer_free(void *timer, void *opaque)
{
    timer_cancel(timer);
    g_free(timer);
}

static void timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    struct slirp_timer *t = timer;
    timer_cancel(t);
    int64_t now_ms = g_get_monotonic_time() / 1000;
    guint delay = expire_ms > now_ms ? (guint)MIN(expire_ms - now_ms, (int64_t)G_MAXUINT) : 0;
    t->source = g_timeout_source_new(delay);
    g_source_set_callback(t->source, timer_fired, t, NULL);
    g_source_attach(t->source, t->ns->nb.ctx);
}

static void register_poll_fd(int fd, void *opaque) { }
static void unregister_poll_fd(int fd, void *opaque) { }

static void notify(void *opaque)
{
    struct net_slirp *ns = opaque;
    g_main_context_wakeup(ns->nb.ctx);
}

static const SlirpCb slirp_callbacks = {
    .send_packet = send_packet,
    .guest_error = guest_error,
    .clock_get_ns = clock_get_ns,
    .timer_free = timer_free,
    .timer_mod = timer_mod,
    .register_poll_fd = register_poll_fd,
    .unregister_poll_fd = unregister_poll_fd,
    .notify = notify,
    .timer_new_opaque = timer_new_opaque,
};

/* ---- the GSource ---------------------------------------------------------- */

static gushort to_gio(int ev)
{
    gushort c = 0;
    if (ev & SLIRP_POLL_IN) c |= G_IO_IN;
    if (ev & SLIRP_POLL_OUT) c |= G_IO_OUT;
    if (ev & SLIRP_POLL_PRI) c |= G_IO_PRI;
    if (ev & SLIRP_POLL_ERR) c |= G_IO_ERR;
    if (ev & SLIRP_POLL_HUP) c |= G_IO_HUP;
    return c;
}

static int from_gio(gushort c)
{
    int ev = 0;
    if (c & G_IO_IN) ev |= SLIRP_POLL_IN;
    if (c & G_IO_OUT) ev |= SLIRP_POLL_OUT;
    if (c & G_IO_PRI) ev |= SLIRP_POLL_PRI;
    if (c & G_IO_ERR) ev |= SLIRP_POLL_ERR;
    if (c & G_IO_HUP) ev |= SLIRP_POLL_HUP;
    return ev;
}

static int add_poll(int fd, int events, void *opaque)
{
    struct net_slirp *ns = opaque;
    GPollFD p = { .fd = fd, .events = to_gio(events) };
    g_array_append_val(ns->pollfds, p);
    return (int)ns->pollfds->len - 1;
}

static int get_revents(int idx, void *opaque)
{
    struct net_slirp *ns = opaque;
    if (idx < 0 || (guint)idx >= ns->pollfds->len)
        return 0;
    return from_gio(g_array_index(ns->pollfds, GPollFD, idx).revents);
}

static void drop_polls(struct net_slirp *ns)
{
    for (guint i = 0; i < ns->pollfds->len; i++)
        g_source_remove_poll(ns->source, &g_array_index(ns->pollfds, GPollFD, i));
    g_array_set_size(ns->pollfds, 0);
}

static gboolean src_prepare(GSource *s, gint *timeout)
{
    struct net_slirp *ns = ((struct slirp_source *)s)->ns;
    drop_polls(ns);
    uint32_t t = UINT32_MAX;
    slirp_pollfds_fill(ns->slirp, &t, add_poll, ns);
    /* The array is final now; GLib keeps pointers into it until the next
     * prepare, when we remove them before changing it. */
    for (guint i = 0; i < ns->pollfds->len; i++)
        g_source_add_poll(s, &g_array_index(ns->pollfds, GPollFD, i));
    *timeout = t == UINT32_MAX ? -1 : (gint)MIN(t, (uint32_t)G_MAXINT);
    /* slirp answers "in t ms" afresh on every prepare; keep the earliest
     * deadline so that frequent main-loop wakeups cannot postpone its
     * timers forever. */
    if (t != UINT32_MAX) {
        gint64 d = g_source_get_time(s) + (gint64)t * 1000;
        if (ns->poll_deadline < 0 || d < ns->poll_deadline)
            ns->poll_deadline = d;
        gint64 left = ns->poll_deadline - g_source_get_time(s);
        *timeout = left > 0 ? (gint)MIN((left + 999) / 1000, (gint64)G_MAXINT) : 0;
    }
    return t == 0 || (ns->poll_deadline >= 0 && g_source_get_time(s) >= ns->poll_deadline);
}

static gboolean src_check(GSource *s)
{
    struct net_slirp *ns = ((struct slirp_source *)s)->ns;
    for (guint i = 0; i < ns->pollfds->len; i++)
        if (g_array_index(ns->pollfds, GPollFD, i).revents)
            return TRUE;
    /* slirp runs its TCP timers from slirp_pollfds_poll(), so a timeout
     * without any socket activity must dispatch too. */
    return ns->poll_deadline >= 0 && g_get_monotonic_time() >= ns->poll_deadline;
}

static gboolean src_dispatch(GSource *s, GSourceFunc cb, gpointer data)
{
    struct net_slirp *ns = ((struct slirp_source *)s)->ns;
    ns->poll_deadline = -1;
    slirp_pollfds_poll(ns->slirp, 0, get_revents, ns);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs slirp_source_funcs = {
    .prepare = src_prepare,
    .check = src_check,
    .dispatch = src_dispatch,
};

/* ---- the backend ------------------------------------------------------------- */

static void slirp_send(struct net_backend *nb, const struct iovec *iov, int iovcnt)
{
    struct net_slirp *ns = from_nb(nb);
    size_t len = 0;
    for (int i = 0; i < iovcnt; i++)
        len += iov[i].iov_len;
    if (len == 0 || len > 65536)
        return;
    uint8_t *buf = g_malloc(len);
    size_t off = 0;
    for (int i = 0; i < iovcnt; i++) {
        memcpy(buf + off, iov[i].iov_base, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    ns->in_input = true;
    slirp_input(ns->slirp, buf, (int)len);
    ns->in_input = false;
    g_free(buf);
}

static void slirp_rx_resume(struct net_backend *nb)
{
    /* Nothing is held back: frames the guest had no room for were dropped. */
}

static void slirp_close(struct net_backend *nb)
{
    struct net_slirp *ns = from_nb(nb);
    if (ns->source) {
        drop_polls(ns);
        g_source_destroy(ns->source);
        g_source_unref(ns->source);
    }
    if (ns->flush)
        g_source_destroy(ns->flush);
    g_queue_clear_full(&ns->deferred, (GDestroyNotify)g_bytes_unref);
    if (ns->slirp)
        slirp_cleanup(ns->slirp);
    g_array_free(ns->pollfds, TRUE);
    g_free(ns);
}

/* ---- VM state: libslirp's own (DHCP leases, ARP table, connections);
 * the port forwards come from the configuration again. */

static ssize_t state_write(const void *buf, size_t len, void *opaque)
{
    state_out_bytes(opaque, buf, len);
    return (ssize_t)len;
}

static bool slirp_save(struct net_backend *nb, struct state_out *o, GError **error)
{
    state_out_u32(o, (uint32_t)slirp_state_version());
    slirp_state_save(from_nb(nb)->slirp, state_write, o);
    return true;
}

struct state_reader {
    const uint8_t *p;
    size_t left;
};

static ssize_t state_read(void *buf, size_t len, void *opaque)
{
    struct state_reader *r = opaque;
    size_t n = MIN(len, r->left);
    memcpy(buf, r->p, n);
    r->p += n;
    r->left -= n;
    return (ssize_t)n;
}

static bool slirp_load(struct net_backend *nb, const void *data, size_t len, GError **error)
{
    struct state_in in;
    state_in_init(&in, data, len, "slirp");
    uint32_t version = state_in_u32(&in);
    if (in.short_read || version == 0 || version > (uint32_t)slirp_state_version())
        return state_in_invalid(&in, error, _("user-mode network state version %u"), version);
    struct state_reader r = { (const uint8_t *)data + 4, len - 4 };
    if (slirp_state_load(from_nb(nb)->slirp, (int)version, state_read, &r) < 0 || r.left)
        return state_in_invalid(&in, error, _("libslirp could not take its saved state"));
    return true;
}

static const struct net_backend_ops slirp_ops = {
    .send = slirp_send,
    .rx_resume = slirp_rx_resume,
    .close = slirp_close,
    .save = slirp_save,
    .load = slirp_load,
};

static bool parse_addr(const char *s, const char *fallback, struct in_addr *out)
{
    return inet_pton(AF_INET, s && *s ? s : fallback, out) == 1;
}

struct net_backend *net_slirp_open(const struct net_config *cfg, GMainContext *ctx,
                                   GError **error)
{
    struct net_slirp *ns = g_new0(struct net_slirp, 1);
    ns->nb.ops = &slirp_ops;
    ns->nb.ctx = ctx;
    ns->pollfds = g_array_new(FALSE, FALSE, sizeof(GPollFD));
    ns->poll_deadline = -1;

    SlirpConfig sc = { .version = 4 };
    sc.in_enabled = true;
    inet_pton(AF_INET, "10.0.2.0", &sc.vnetwork);
    inet_pton(AF_INET, "255.255.255.0", &sc.vnetmask);
    inet_pton(AF_INET, "10.0.2.2", &sc.vhost);
    inet_pton(AF_INET, "10.0.2.15", &sc.vdhcp_start);
    inet_pton(AF_INET, "10.0.2.3", &sc.vnameserver);
    sc.vhostname = "oriel";
    /* The guest reaching services on the host's loopback through 10.0.2.2
     * is the point of user networking on a desktop. */
    sc.disable_host_loopback = false;
    ns->slirp = slirp_new(&sc, &slirp_callbacks, ns);
    if (!ns->slirp) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot start user-mode networking"));
        slirp_close(&ns->nb);
        return NULL;
    }

    for (unsigned i = 0; i < cfg->n_hostfwd; i++) {
        const struct net_hostfwd *f = &cfg->hostfwd[i];
        struct in_addr host, guest;
        if (!parse_addr(f->host_addr, "0.0.0.0", &host) ||
            !parse_addr(f->guest_addr, "10.0.2.15", &guest)) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                        _("Invalid address in port forwarding rule %u"), i + 1);
            slirp_close(&ns->nb);
            return NULL;
        }
        if (slirp_add_hostfwd(ns->slirp, f->udp, host, f->host_port, guest, f->guest_port) < 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
                        _("Cannot forward host port %u to the guest (is it in use?)"),
                        f->host_port);
            slirp_close(&ns->nb);
            return NULL;
        }
    }

    ns->source = g_source_new(&slirp_source_funcs, sizeof(struct slirp_source));
    ((struct slirp_source *)ns->source)->ns = ns;
    g_source_attach(ns->source, ctx);
    return &ns->nb;
}
