/* The VNC server: listening sockets, client connections and their
 * non-blocking I/O, and the link to the framebuffer's notifications. */
#include "vnc_private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "framebuffer.h"

G_DEFINE_QUARK(oriel-vnc-error-quark, vnc_error)

#define VNC_FIRST_PORT 5900
#define VNC_LAST_PORT  5999

static gboolean client_readable(gint fd, GIOCondition cond, gpointer data);
static gboolean client_writable(gint fd, GIOCondition cond, gpointer data);

/* --- framebuffer notifications ------------------------------------------ */

static void fb_damage(void *opaque, unsigned x, unsigned y, unsigned w, unsigned h)
{
    struct vnc_server *s = opaque;
    for (guint i = 0; i < s->clients->len; i++) {
        struct vnc_client *c = g_ptr_array_index(s->clients, i);
        if (c->state == VNC_STATE_NORMAL)
            vnc_client_mark_dirty(c, x, y, w, h);
    }
    vnc_server_schedule_flush(s);
}

static void fb_resize(void *opaque, unsigned width, unsigned height)
{
    struct vnc_server *s = opaque;
    for (guint i = 0; i < s->clients->len; i++) {
        struct vnc_client *c = g_ptr_array_index(s->clients, i);
        if (c->state != VNC_STATE_NORMAL)
            continue;
        vnc_client_init_tiles(c, width, height);
        c->resize_pending = true;
    }
    vnc_server_schedule_flush(s);
}

static const struct framebuffer_listener fb_listener_ops = {
    .damage = fb_damage,
    .resize = fb_resize,
};

static gboolean flush_cb(gpointer data)
{
    struct vnc_server *s = data;
    g_source_unref(s->flush_source);
    s->flush_source = NULL;
    for (guint i = 0; i < s->clients->len; i++) {
        struct vnc_client *c = g_ptr_array_index(s->clients, i);
        if (c->state == VNC_STATE_NORMAL)
            vnc_client_send_update(c);
    }
    return G_SOURCE_REMOVE;
}

void vnc_server_schedule_flush(struct vnc_server *s)
{
    if (s->flush_source)
        return;
    s->flush_source = g_idle_source_new();
    g_source_set_priority(s->flush_source, G_PRIORITY_DEFAULT_IDLE);
    g_source_set_callback(s->flush_source, flush_cb, s, NULL);
    g_source_attach(s->flush_source, s->ctx);
}

void vnc_server_client_ready(struct vnc_server *s, struct vnc_client *c)
{
    vnc_client_init_tiles(c, framebuffer_width(s->fb), framebuffer_height(s->fb));
    if (!s->fb_listener_id)
        s->fb_listener_id = framebuffer_add_listener(s->fb, &fb_listener_ops, s);
}

static void update_fb_listener(struct vnc_server *s)
{
    for (guint i = 0; i < s->clients->len; i++) {
        struct vnc_client *c = g_ptr_array_index(s->clients, i);
        if (c->state == VNC_STATE_NORMAL)
            return;
    }
    if (s->fb_listener_id) {
        framebuffer_remove_listener(s->fb, s->fb_listener_id);
        s->fb_listener_id = 0;
    }
}

/* --- clients -------------------------------------------------------------- */

static void client_free(struct vnc_client *c)
{
    if (c->in_source) {
        g_source_destroy(c->in_source);
        g_source_unref(c->in_source);
    }
    if (c->out_source) {
        g_source_destroy(c->out_source);
        g_source_unref(c->out_source);
    }
    if (c->fd >= 0)
        close(c->fd);
    g_byte_array_unref(c->in);
    g_byte_array_unref(c->out);
    vnc_encoder_cleanup(&c->enc);
    g_free(c->dirty);
    g_free(c);
}

static gboolean reap_cb(gpointer data)
{
    struct vnc_server *s = data;
    g_source_unref(s->reap_source);
    s->reap_source = NULL;
    while (s->closing->len) {
        struct vnc_client *c = g_ptr_array_index(s->closing, 0);
        g_ptr_array_remove_index_fast(s->closing, 0);
        client_free(c);
    }
    return G_SOURCE_REMOVE;
}

void vnc_client_close(struct vnc_client *c)
{
    if (c->state == VNC_STATE_CLOSED)
        return;
    c->state = VNC_STATE_CLOSED;
    struct vnc_server *s = c->server;
    g_ptr_array_remove_fast(s->clients, c);
    update_fb_listener(s);
    /* The caller may be inside one of this client's source callbacks:
     * stop them now, free the memory once the stack has unwound. */
    if (c->in_source)
        g_source_destroy(c->in_source);
    if (c->out_source)
        g_source_destroy(c->out_source);
    g_ptr_array_add(s->closing, c);
    if (!s->reap_source) {
        s->reap_source = g_idle_source_new();
        g_source_set_callback(s->reap_source, reap_cb, s, NULL);
        g_source_attach(s->reap_source, s->ctx);
    }
}

void vnc_client_send(struct vnc_client *c, const void *data, size_t len)
{
    if (c->state == VNC_STATE_CLOSED)
        return;
    g_byte_array_append(c->out, data, (guint)len);
}

void vnc_client_flush(struct vnc_client *c)
{
    if (c->state == VNC_STATE_CLOSED)
        return;
    while (c->out->len > 0) {
        ssize_t n = send(c->fd, c->out->data, c->out->len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            g_byte_array_remove_range(c->out, 0, (guint)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        vnc_client_close(c);
        return;
    }
    if (c->out->len > VNC_OUTPUT_HARD_LIMIT) {
        g_warning(_("VNC client is not reading its updates; disconnecting it"));
        vnc_client_close(c);
        return;
    }
    if (c->out->len > 0 && !c->out_source) {
        c->out_source = g_unix_fd_source_new(c->fd, G_IO_OUT | G_IO_ERR | G_IO_HUP);
        g_source_set_callback(c->out_source, (GSourceFunc)(void (*)(void))client_writable, c, NULL);
        g_source_attach(c->out_source, c->server->ctx);
    } else if (c->out->len == 0 && c->out_source) {
        g_source_destroy(c->out_source);
        g_source_unref(c->out_source);
        c->out_source = NULL;
    }
}

static gboolean client_writable(gint fd, GIOCondition cond, gpointer data)
{
    struct vnc_client *c = data;
    vnc_client_flush(c);
    if (c->state == VNC_STATE_CLOSED)
        return G_SOURCE_REMOVE;
    /* Drained below the limit: updates held back can go now. */
    if (c->state == VNC_STATE_NORMAL && c->out->len < VNC_OUTPUT_SOFT_LIMIT)
        vnc_server_schedule_flush(c->server);
    return c->out_source ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean client_readable(gint fd, GIOCondition cond, gpointer data)
{
    struct vnc_client *c = data;
    uint8_t buf[16384];
    for (int rounds = 0; rounds < 16; rounds++) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            g_byte_array_append(c->in, buf, (guint)n);
            if (!vnc_client_process_input(c)) {
                vnc_client_close(c);
                return G_SOURCE_REMOVE;
            }
            if (c->state == VNC_STATE_CLOSED)
                return G_SOURCE_REMOVE;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        vnc_client_close(c); /* EOF or error */
        return G_SOURCE_REMOVE;
    }
    vnc_client_flush(c);
    return c->state == VNC_STATE_CLOSED ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

bool vnc_server_add_client_fd(struct vnc_server *s, int fd)
{
    if (!s->fb || s->clients->len >= VNC_MAX_CLIENTS) {
        g_warning(_("Too many VNC clients; refusing a connection"));
        close(fd);
        return false;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        close(fd);
        return false;
    }
    struct vnc_client *c = g_new0(struct vnc_client, 1);
    c->server = s;
    c->fd = fd;
    c->in = g_byte_array_new();
    c->out = g_byte_array_new();
    c->pointer_mode_sent = -1;
    vnc_encoder_init(&c->enc);
    g_ptr_array_add(s->clients, c);
    c->in_source = g_unix_fd_source_new(fd, G_IO_IN | G_IO_ERR | G_IO_HUP);
    g_source_set_callback(c->in_source, (GSourceFunc)(void (*)(void))client_readable, c, NULL);
    g_source_attach(c->in_source, s->ctx);
    vnc_client_start(c);
    vnc_client_flush(c);
    return true;
}

unsigned vnc_server_client_count(const struct vnc_server *s)
{
    unsigned n = 0;
    for (guint i = 0; i < s->clients->len; i++) {
        const struct vnc_client *c = g_ptr_array_index(s->clients, i);
        n += c->state == VNC_STATE_NORMAL;
    }
    return n;
}

/* --- listeners ------------------------------------------------------------ */

static void listener_free(gpointer data)
{
    struct vnc_listener *l = data;
    if (l->source) {
        g_source_destroy(l->source);
        g_source_unref(l->source);
    }
    if (l->fd >= 0)
        close(l->fd);
    if (l->unix_path) {
        unlink(l->unix_path);
        g_free(l->unix_path);
    }
    g_free(l);
}

static gboolean listener_ready(gint fd, GIOCondition cond, gpointer data)
{
    struct vnc_server *s = data;
    int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (cfd < 0)
        return G_SOURCE_CONTINUE;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(cfd, (struct sockaddr *)&ss, &sl) == 0 && ss.ss_family == AF_INET) {
        int one = 1;
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    vnc_server_add_client_fd(s, cfd);
    return G_SOURCE_CONTINUE;
}

static void add_listener(struct vnc_server *s, int fd, const char *unix_path)
{
    struct vnc_listener *l = g_new0(struct vnc_listener, 1);
    l->fd = fd;
    l->unix_path = g_strdup(unix_path);
    l->source = g_unix_fd_source_new(fd, G_IO_IN);
    g_source_set_callback(l->source, (GSourceFunc)(void (*)(void))listener_ready, s, NULL);
    g_source_attach(l->source, s->ctx);
    g_ptr_array_add(s->listeners, l);
}

bool vnc_server_listen_unix(struct vnc_server *s, const char *path, GError **error)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (!path || !*path || strlen(path) >= sizeof sa.sun_path) {
        g_set_error(error, VNC_ERROR, VNC_ERROR_ADDRESS,
                    _("VNC socket path is empty or too long: %s"), path ? path : "");
        return false;
    }
    strcpy(sa.sun_path, path);
    /* A socket left behind by an earlier run would make bind() fail. */
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 8) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        g_set_error(error, VNC_ERROR, VNC_ERROR_SOCKET,
                    _("Cannot listen for VNC clients on %s: %s"), path, g_strerror(e));
        return false;
    }
    add_listener(s, fd, path);
    return true;
}

static int bind_tcp(const struct in_addr *addr, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                              .sin_addr = *addr };
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 8) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

bool vnc_server_listen_tcp(struct vnc_server *s, const char *host, int port, GError **error)
{
    struct in_addr addr;
    if (g_strcmp0(host, "localhost") == 0)
        host = "127.0.0.1";
    if (!host || inet_pton(AF_INET, host, &addr) != 1) {
        g_set_error(error, VNC_ERROR, VNC_ERROR_ADDRESS,
                    _("VNC address must be an IPv4 address such as 127.0.0.1: %s"),
                    host ? host : "");
        return false;
    }
    if (port < 0 || port > 65535) {
        g_set_error(error, VNC_ERROR, VNC_ERROR_ADDRESS, _("Invalid VNC port %d"), port);
        return false;
    }
    int fd = -1;
    if (port == 0) {
        for (port = VNC_FIRST_PORT; port <= VNC_LAST_PORT; port++) {
            fd = bind_tcp(&addr, port);
            if (fd >= 0 || errno != EADDRINUSE)
                break;
        }
    } else {
        fd = bind_tcp(&addr, port);
    }
    if (fd < 0) {
        g_set_error(error, VNC_ERROR, VNC_ERROR_SOCKET,
                    _("Cannot listen for VNC clients on %s:%d: %s"), host, port,
                    g_strerror(errno));
        return false;
    }
    s->tcp_port = port;
    add_listener(s, fd, NULL);
    return true;
}

bool vnc_server_listen(struct vnc_server *s, const char *address, GError **error)
{
    if (g_str_has_prefix(address, "unix:"))
        return vnc_server_listen_unix(s, address + 5, error);
    const char *colon = strrchr(address, ':');
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || colon == address || !colon[1] || *end || port < 0 || port > 65535) {
        g_set_error(error, VNC_ERROR, VNC_ERROR_ADDRESS,
                    _("VNC address must be unix:PATH or 127.0.0.1:PORT, not %s"), address);
        return false;
    }
    g_autofree char *host = g_strndup(address, (gsize)(colon - address));
    return vnc_server_listen_tcp(s, host, (int)port, error);
}

int vnc_server_tcp_port(const struct vnc_server *s)
{
    return s->tcp_port;
}

/* --- server --------------------------------------------------------------- */

struct vnc_server *vnc_server_new(struct framebuffer *fb, struct input_router *input,
                                  GMainContext *ctx, const char *name)
{
    struct vnc_server *s = g_new0(struct vnc_server, 1);
    s->fb = fb;
    s->input = input;
    s->ctx = ctx ? g_main_context_ref(ctx) : g_main_context_ref_thread_default();
    s->name = g_strdup(name ? name : "oriel");
    s->listeners = g_ptr_array_new_with_free_func(listener_free);
    s->clients = g_ptr_array_new();
    s->closing = g_ptr_array_new();
    s->tcp_port = -1;
    return s;
}

void vnc_server_set_framebuffer(struct vnc_server *s, struct framebuffer *fb)
{
    g_return_if_fail(vnc_server_client_count(s) == 0 && !s->fb_listener_id);
    s->fb = fb;
}

void vnc_server_set_password(struct vnc_server *s, const char *password)
{
    if (s->password)
        memset(s->password, 0, strlen(s->password));
    g_free(s->password);
    s->password = password && *password ? g_strdup(password) : NULL;
}

void vnc_server_free(struct vnc_server *s)
{
    if (!s)
        return;
    g_ptr_array_unref(s->listeners);
    while (s->clients->len) {
        struct vnc_client *c = g_ptr_array_index(s->clients, 0);
        g_ptr_array_remove_index_fast(s->clients, 0);
        c->state = VNC_STATE_CLOSED;
        client_free(c);
    }
    g_ptr_array_unref(s->clients);
    if (s->reap_source) {
        g_source_destroy(s->reap_source);
        g_source_unref(s->reap_source);
    }
    for (guint i = 0; i < s->closing->len; i++)
        client_free(g_ptr_array_index(s->closing, i));
    g_ptr_array_unref(s->closing);
    if (s->fb_listener_id)
        framebuffer_remove_listener(s->fb, s->fb_listener_id);
    if (s->flush_source) {
        g_source_destroy(s->flush_source);
        g_source_unref(s->flush_source);
    }
    vnc_server_set_password(s, NULL);
    g_free(s->name);
    g_main_context_unref(s->ctx);
    g_free(s);
}
