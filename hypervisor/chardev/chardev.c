#include "chardev.h"

#include "config/chardev_spec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>
#include <glib-unix.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

struct chardev {
    enum chardev_backend backend;
    char *label;
    char *filename;
    GMainContext *ctx;

    GMutex lock;            /* out_fd, in_fd, client state */
    int in_fd;              /* -1 when no input */
    int out_fd;             /* -1 drops output */
    int listen_fd;          /* unix: the listening socket */
    int pty_slave_fd;       /* pty: held open so the master never hangs up */
    bool own_out_fd;

    GSource *in_source;
    GSource *listen_source;
    /* Output a non-blocking fd (pty, socket) did not take yet, flushed from
     * the main loop; bounded so a client that never reads costs little. */
    GByteArray *pending;
    GSource *out_source;
    bool out_busy;          /* told the writer to hold off */
    void (*write_ready)(void *opaque);
    void *write_ready_opaque;
    gint throttled;

    size_t (*can_receive)(void *opaque);
    void (*receive)(void *opaque, const uint8_t *buf, size_t len);
    void *opaque;
};

/* The terminal state to restore: one stdin per process, hence static. */
static struct termios saved_tty;
static gint tty_saved;

void chardev_restore_terminal(void)
{
    if (g_atomic_int_compare_and_exchange(&tty_saved, 1, 0))
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
}

/* Above PENDING_HIGH the writer is told the line is busy (a UART clears
 * THRE) and gets write_ready once the reader brought it below PENDING_LOW.
 * PENDING_MAX only bounds what a writer that ignores busy (a console
 * polling with a timeout) can pile up behind a reader that never reads. */
#define PENDING_HIGH (64 * 1024)
#define PENDING_LOW (16 * 1024)
#define PENDING_MAX (4 * 1024 * 1024)

/* Write what the fd takes now; returns the bytes written (EAGAIN: fewer). */
static size_t write_some(int fd, const uint8_t *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, buf + done, len - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break; /* EAGAIN, or the peer is gone */
        }
        done += (size_t)n;
    }
    return done;
}

static gboolean on_output_ready(gint fd, GIOCondition cond, gpointer data);

/* Caller holds chr->lock. */
static void queue_output(struct chardev *chr, const uint8_t *buf, size_t len)
{
    size_t room = PENDING_MAX - chr->pending->len;
    g_byte_array_append(chr->pending, buf, (guint)MIN(len, room));
    if (!chr->out_source) {
        chr->out_source = g_unix_fd_source_new(chr->out_fd, G_IO_OUT | G_IO_ERR | G_IO_HUP);
        g_source_set_callback(chr->out_source, (GSourceFunc)(void (*)(void))on_output_ready, chr,
                              NULL);
        g_source_attach(chr->out_source, chr->ctx);
    }
}

static void drop_pending(struct chardev *chr)
{
    if (chr->out_source) {
        g_source_destroy(chr->out_source);
        g_source_unref(chr->out_source);
        chr->out_source = NULL;
    }
    g_byte_array_set_size(chr->pending, 0);
}

/* Caller holds chr->lock; true when the writer should be told. */
static bool update_busy(struct chardev *chr)
{
    if (!chr->out_busy && chr->pending->len >= PENDING_HIGH) {
        chr->out_busy = true;
    } else if (chr->out_busy && chr->pending->len <= PENDING_LOW) {
        chr->out_busy = false;
        return true;
    }
    return false;
}

static gboolean on_output_ready(gint fd, GIOCondition cond, gpointer data)
{
    struct chardev *chr = data;
    g_mutex_lock(&chr->lock);
    size_t n = chr->out_fd >= 0 ? write_some(chr->out_fd, chr->pending->data, chr->pending->len) : 0;
    g_byte_array_remove_range(chr->pending, 0, (guint)n);
    bool done = chr->pending->len == 0 || chr->out_fd < 0 || (cond & (G_IO_ERR | G_IO_HUP));
    if (done) {
        g_byte_array_set_size(chr->pending, 0);
        g_source_unref(chr->out_source);
        chr->out_source = NULL;
    }
    bool notify = update_busy(chr);
    g_mutex_unlock(&chr->lock);
    if (notify && chr->write_ready)
        chr->write_ready(chr->write_ready_opaque);
    return done ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

void chardev_write(struct chardev *chr, const uint8_t *buf, size_t len)
{
    if (!chr)
        return;
    g_mutex_lock(&chr->lock);
    if (chr->out_fd >= 0) {
        /* A non-blocking fd (pty, socket, or a stdout someone made
         * non-blocking) that is full gets the rest later, in order. */
        size_t n = chr->pending->len ? 0 : write_some(chr->out_fd, buf, len);
        if (n < len)
            queue_output(chr, buf + n, len - n);
        update_busy(chr);
    }
    g_mutex_unlock(&chr->lock);
}

bool chardev_write_busy(struct chardev *chr)
{
    if (!chr)
        return false;
    g_mutex_lock(&chr->lock);
    bool busy = chr->out_busy;
    g_mutex_unlock(&chr->lock);
    return busy;
}

void chardev_set_write_ready(struct chardev *chr, void (*ready)(void *opaque), void *opaque)
{
    chr->write_ready = ready;
    chr->write_ready_opaque = opaque;
}

static void drop_client(struct chardev *chr);
static void watch_input(struct chardev *chr);

static gboolean on_input(gint fd, GIOCondition cond, gpointer data)
{
    struct chardev *chr = data;
    size_t room = chr->can_receive ? chr->can_receive(chr->opaque) : 4096;
    if (room == 0) {
        /* Stop polling until the receiver has room (chardev_accept_input). */
        g_atomic_int_set(&chr->throttled, 1);
        g_source_unref(chr->in_source);
        chr->in_source = NULL;
        return G_SOURCE_REMOVE;
    }
    uint8_t buf[4096];
    ssize_t n = read(fd, buf, MIN(room, sizeof(buf)));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return G_SOURCE_CONTINUE;
    if (n <= 0) {
        g_source_unref(chr->in_source);
        chr->in_source = NULL;
        if (chr->backend == CHARDEV_BACKEND_UNIX)
            drop_client(chr);
        return G_SOURCE_REMOVE;
    }
    if (chr->receive)
        chr->receive(chr->opaque, buf, (size_t)n);
    return G_SOURCE_CONTINUE;
}

static void watch_input(struct chardev *chr)
{
    if (chr->in_fd < 0 || chr->in_source)
        return;
    chr->in_source = g_unix_fd_source_new(chr->in_fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
    g_source_set_callback(chr->in_source, (GSourceFunc)(void (*)(void))on_input, chr, NULL);
    g_source_attach(chr->in_source, chr->ctx);
}

static void unwatch_input(struct chardev *chr)
{
    if (chr->in_source) {
        g_source_destroy(chr->in_source);
        g_source_unref(chr->in_source);
        chr->in_source = NULL;
    }
}

static gboolean resume_input(gpointer data)
{
    struct chardev *chr = data;
    if (g_atomic_int_compare_and_exchange(&chr->throttled, 1, 0))
        watch_input(chr);
    return G_SOURCE_REMOVE;
}

void chardev_accept_input(struct chardev *chr)
{
    if (!chr || !g_atomic_int_get(&chr->throttled))
        return;
    GSource *s = g_idle_source_new();
    g_source_set_callback(s, resume_input, chr, NULL);
    g_source_attach(s, chr->ctx);
    g_source_unref(s);
}

void chardev_set_receiver(struct chardev *chr,
                          size_t (*can_receive)(void *opaque),
                          void (*receive)(void *opaque, const uint8_t *buf, size_t len),
                          void *opaque)
{
    chr->can_receive = can_receive;
    chr->receive = receive;
    chr->opaque = opaque;
    watch_input(chr);
}

/* --- UNIX socket: one client at a time ------------------------------- */

static gboolean on_accept(gint fd, GIOCondition cond, gpointer data);

static void listen_again(struct chardev *chr)
{
    if (chr->listen_source)
        return;
    chr->listen_source = g_unix_fd_source_new(chr->listen_fd, G_IO_IN);
    g_source_set_callback(chr->listen_source, (GSourceFunc)(void (*)(void))on_accept, chr, NULL);
    g_source_attach(chr->listen_source, chr->ctx);
}

static void drop_client(struct chardev *chr)
{
    unwatch_input(chr);
    g_mutex_lock(&chr->lock);
    int fd = chr->in_fd;
    chr->in_fd = chr->out_fd = -1;
    drop_pending(chr);
    /* Nobody to hold the writer back for any more. */
    bool notify = update_busy(chr);
    g_mutex_unlock(&chr->lock);
    if (notify && chr->write_ready)
        chr->write_ready(chr->write_ready_opaque);
    if (fd >= 0)
        close(fd);
    listen_again(chr);
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer data)
{
    struct chardev *chr = data;
    int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0)
        return G_SOURCE_CONTINUE;
    g_mutex_lock(&chr->lock);
    chr->in_fd = chr->out_fd = c;
    g_mutex_unlock(&chr->lock);
    /* Further clients wait in the backlog until this one leaves. */
    g_source_unref(chr->listen_source);
    chr->listen_source = NULL;
    if (chr->receive)
        watch_input(chr);
    return G_SOURCE_REMOVE;
}

static bool open_unix(struct chardev *chr, const char *path, GError **error)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        goto fail;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    unlink(path); /* a stale socket from an earlier run */
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        goto fail;
    }
    chr->listen_fd = fd;
    listen_again(chr);
    return true;
fail:
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                _("Cannot listen on %s for %s: %s"), path, chr->label, g_strerror(errno));
    return false;
}

static bool open_pty(struct chardev *chr, GError **error)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    _("Cannot create a pseudo-terminal for %s: %s"), chr->label, g_strerror(errno));
        if (m >= 0)
            close(m);
        return false;
    }
    char name[128];
    if (ptsname_r(m, name, sizeof(name)) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    _("Cannot name the pseudo-terminal for %s"), chr->label);
        close(m);
        return false;
    }
    int s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (s >= 0) {
        struct termios t;
        if (tcgetattr(s, &t) == 0) {
            cfmakeraw(&t);
            tcsetattr(s, TCSANOW, &t);
        }
    }
    fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
    chr->in_fd = chr->out_fd = m;
    chr->pty_slave_fd = s;
    chr->filename = g_strdup(name);
    g_printerr(_("char device redirected to %s (label %s)\n"), name, chr->label);
    return true;
}

static void open_stdio(struct chardev *chr)
{
    chr->in_fd = STDIN_FILENO;
    chr->out_fd = STDOUT_FILENO;
    if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_tty) == 0) {
        struct termios t = saved_tty;
        /* Raw, except that ^C still reaches the VMM as SIGINT. */
        cfmakeraw(&t);
        t.c_lflag |= ISIG;
        t.c_oflag |= OPOST | ONLCR;
        if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0) {
            g_atomic_int_set(&tty_saved, 1);
            atexit(chardev_restore_terminal);
        }
    }
}

struct chardev *chardev_open(const char *spec, const char *label, GMainContext *ctx,
                             GError **error)
{
    enum chardev_backend backend;
    const char *path;
    if (!chardev_spec_parse(spec, &backend, &path, error))
        return NULL;

    struct chardev *chr = g_new0(struct chardev, 1);
    chr->backend = backend;
    chr->label = g_strdup(label);
    chr->ctx = g_main_context_ref(ctx);
    chr->in_fd = chr->out_fd = chr->listen_fd = chr->pty_slave_fd = -1;
    chr->pending = g_byte_array_new();
    g_mutex_init(&chr->lock);

    switch (backend) {
    case CHARDEV_BACKEND_NONE:
        break;
    case CHARDEV_BACKEND_STDIO:
        open_stdio(chr);
        break;
    case CHARDEV_BACKEND_FILE:
        chr->out_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (chr->out_fd < 0) {
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                        _("Cannot open %s for %s: %s"), path, label, g_strerror(errno));
            chardev_close(chr);
            return NULL;
        }
        chr->own_out_fd = true;
        chr->filename = g_strdup(path);
        break;
    case CHARDEV_BACKEND_PTY:
        if (!open_pty(chr, error)) {
            chardev_close(chr);
            return NULL;
        }
        break;
    case CHARDEV_BACKEND_UNIX:
        chr->filename = g_strdup(path);
        if (!open_unix(chr, path, error)) {
            chardev_close(chr);
            return NULL;
        }
        break;
    }
    return chr;
}

void chardev_close(struct chardev *chr)
{
    if (!chr)
        return;
    unwatch_input(chr);
    drop_pending(chr);
    g_byte_array_free(chr->pending, TRUE);
    if (chr->listen_source) {
        g_source_destroy(chr->listen_source);
        g_source_unref(chr->listen_source);
    }
    switch (chr->backend) {
    case CHARDEV_BACKEND_STDIO:
        chardev_restore_terminal();
        break;
    case CHARDEV_BACKEND_FILE:
        if (chr->out_fd >= 0)
            close(chr->out_fd);
        break;
    case CHARDEV_BACKEND_PTY:
        if (chr->in_fd >= 0)
            close(chr->in_fd);
        if (chr->pty_slave_fd >= 0)
            close(chr->pty_slave_fd);
        break;
    case CHARDEV_BACKEND_UNIX:
        if (chr->in_fd >= 0)
            close(chr->in_fd);
        if (chr->listen_fd >= 0) {
            close(chr->listen_fd);
            unlink(chr->filename);
        }
        break;
    case CHARDEV_BACKEND_NONE:
        break;
    }
    g_mutex_clear(&chr->lock);
    g_main_context_unref(chr->ctx);
    g_free(chr->label);
    g_free(chr->filename);
    g_free(chr);
}

const char *chardev_label(const struct chardev *chr) { return chr->label; }
const char *chardev_backend(const struct chardev *chr) { return chardev_backend_name(chr->backend); }
const char *chardev_filename(const struct chardev *chr) { return chr->filename; }
