/* Serial backends under a slow reader: a UNIX socket client that does not
 * read makes the backend report busy instead of dropping output, every byte
 * arrives in order once it reads, and the writer hears when it may go on. */
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "chardev/chardev.h"

struct ready {
    unsigned calls;
};

static void on_ready(void *opaque)
{
    ((struct ready *)opaque)->calls++;
}

static int connect_to(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(fd, >=, 0);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    return fd;
}

static void test_unix_slow_reader(void)
{
    g_autofree char *dir = g_dir_make_tmp("oriel-chardev-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "serial.sock", NULL);
    GMainContext *ctx = g_main_context_new();
    g_autoptr(GError) error = NULL;
    g_autofree char *spec = g_strconcat("unix:", path, NULL);
    struct chardev *chr = chardev_open(spec, "serial0", ctx, &error);
    g_assert_no_error(error);
    struct ready ready = { 0 };
    chardev_set_write_ready(chr, on_ready, &ready);

    int fd = connect_to(path);
    /* Until the backend has accepted the client, output is dropped. */
    while (g_main_context_iteration(ctx, FALSE))
        ;

    /* Write far more than the socket buffers, one byte at a time as a
     * UART does, while nobody reads: busy comes up, nothing is lost. */
    enum { TOTAL = 512 * 1024 };
    g_autofree uint8_t *sent = g_malloc(TOTAL);
    for (size_t i = 0; i < TOTAL; i++)
        sent[i] = (uint8_t)(i * 7 + i / 251);
    size_t written = 0;
    while (written < TOTAL && !chardev_write_busy(chr))
        chardev_write(chr, &sent[written++], 1);
    g_assert_true(chardev_write_busy(chr));
    g_assert_cmpuint(written, <, TOTAL);
    /* A writer that goes on regardless (a console polling with a timeout)
     * is still buffered. */
    size_t extra = MIN((size_t)1000, TOTAL - written);
    chardev_write(chr, &sent[written], extra);
    written += extra;

    g_autofree uint8_t *got = g_malloc(TOTAL);
    size_t n = 0;
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    while (n < written) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        while (g_main_context_iteration(ctx, FALSE))
            ;
        ssize_t r = recv(fd, got + n, written - n, MSG_DONTWAIT);
        if (r > 0)
            n += (size_t)r;
        else
            g_usleep(1000);
        /* Once it has caught up, the writer is told and goes on. */
        if (ready.calls && written < TOTAL) {
            g_assert_false(chardev_write_busy(chr));
            while (written < TOTAL && !chardev_write_busy(chr))
                chardev_write(chr, &sent[written++], 1);
            ready.calls = 0;
        }
    }
    while (g_main_context_iteration(ctx, FALSE))
        ;
    g_assert_cmpuint(written, ==, TOTAL);
    g_assert_cmpmem(got, n, sent, TOTAL);
    g_assert_false(chardev_write_busy(chr));

    close(fd);
    chardev_close(chr);
    g_main_context_unref(ctx);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/chardev/unix-slow-reader", test_unix_slow_reader);
    return g_test_run();
}
