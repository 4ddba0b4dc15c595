/* Real clients against the VNC server: gtk-vnc's gvnccapture over TCP on
 * 127.0.0.1:59xx and an independent Python RFB client over the UNIX
 * socket, both compared pixel by pixel with the served pattern; plus the
 * screendump PNG read back. */
#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "display/framebuffer.h"
#include "input/input.h"
#include "display/png_writer.h"
#include "display/screendump.h"
#include "display/vnc.h"
#include "png_reader.h"

/* A pattern with sharp edges, gradients and every channel in play. */
static void paint(struct framebuffer *fb)
{
    uint32_t *px = framebuffer_pixels(fb);
    unsigned w = framebuffer_width(fb), h = framebuffer_height(fb), s = framebuffer_stride(fb);
    for (unsigned y = 0; y < h; y++)
        for (unsigned x = 0; x < w; x++) {
            uint32_t v;
            if (y < 60)
                v = (x * 255 / (w - 1)) << 16 | (y * 4) << 8 | (255 - x * 255 / (w - 1));
            else if (((x / 8) + (y / 8)) & 1)
                v = 0xffffff;
            else
                v = (uint32_t)((x * 7 + y * 13) & 0xff) << 8 | 0x400000;
            px[(size_t)y * s + x] = v;
        }
}

static char *source_file(const char *name)
{
    /* __FILE__ is relative to the build root, two levels above us. */
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *dir = g_path_get_dirname(__FILE__);
    if (g_path_is_absolute(dir))
        return g_build_filename(dir, name, NULL);
    g_autofree char *bindir = g_path_get_dirname(exe);
    g_autofree char *root = g_path_get_dirname(bindir);
    return g_build_filename(root, dir, name, NULL);
}

struct wait_proc {
    bool done;
    bool ok;
    GError *error;
};

static void proc_done(GObject *obj, GAsyncResult *res, gpointer data)
{
    struct wait_proc *w = data;
    w->ok = g_subprocess_wait_check_finish(G_SUBPROCESS(obj), res, &w->error);
    w->done = true;
}

/* Run argv while serving on ctx; fails the test if it fails or takes more
 * than 60 s. */
static void run_client(GMainContext *ctx, const char *const *argv)
{
    GError *error = NULL;
    g_main_context_push_thread_default(ctx);
    GSubprocess *p = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_NONE, &error);
    g_assert_no_error(error);
    struct wait_proc w = { 0 };
    g_subprocess_wait_check_async(p, NULL, proc_done, &w);
    gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    while (!w.done && g_get_monotonic_time() < deadline)
        g_main_context_iteration(ctx, TRUE);
    if (!w.done) {
        g_subprocess_force_exit(p);
        g_error("%s did not finish", argv[0]);
    }
    g_assert_no_error(w.error);
    g_assert_true(w.ok);
    g_object_unref(p);
    g_main_context_pop_thread_default(ctx);
}

static void compare(struct framebuffer *fb, const uint32_t *img, unsigned w, unsigned h)
{
    g_assert_cmpuint(w, ==, framebuffer_width(fb));
    g_assert_cmpuint(h, ==, framebuffer_height(fb));
    const uint32_t *px = framebuffer_const_pixels(fb);
    for (unsigned y = 0; y < h; y++)
        for (unsigned x = 0; x < w; x++) {
            uint32_t want = px[(size_t)y * framebuffer_stride(fb) + x] & 0xffffff;
            if (img[(size_t)y * w + x] != want)
                g_error("pixel %u,%u: want %06x got %06x", x, y, want, img[(size_t)y * w + x]);
        }
}

static uint32_t *read_png(const char *path, unsigned *w, unsigned *h)
{
    gchar *data;
    gsize len;
    GError *error = NULL;
    g_assert_true(g_file_get_contents(path, &data, &len, &error));
    const char *why = NULL;
    uint32_t *img = test_png_decode((const uint8_t *)data, len, w, h, &why);
    if (!img)
        g_error("%s: %s", path, why);
    g_free(data);
    return img;
}

static void test_gvnccapture_tcp(void)
{
    const char *gvnccapture = "/usr/bin/gvnccapture";
    if (!g_file_test(gvnccapture, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip("gvnccapture (package gvncviewer) is not installed");
        return;
    }
    GMainContext *ctx = g_main_context_new();
    struct framebuffer *fb = framebuffer_new(640, 480);
    paint(fb);
    struct vnc_server *s = vnc_server_new(fb, NULL, ctx, "pattern");
    GError *error = NULL;
    g_assert_true(vnc_server_listen(s, "127.0.0.1:0", &error));
    g_assert_no_error(error);
    int port = vnc_server_tcp_port(s);
    g_assert_cmpint(port, >=, 5900);
    g_assert_cmpint(port, <, 6000);

    g_autofree char *dir = g_dir_make_tmp("oriel-gvnc-XXXXXX", &error);
    g_autofree char *out = g_build_filename(dir, "capture.png", NULL);
    g_autofree char *display = g_strdup_printf("127.0.0.1:%d", port - 5900);
    const char *argv[] = { gvnccapture, "--quiet", display, out, NULL };
    run_client(ctx, argv);

    unsigned w, h;
    uint32_t *img = read_png(out, &w, &h);
    compare(fb, img, w, h);
    g_free(img);
    g_unlink(out);
    g_rmdir(dir);
    vnc_server_free(s);
    framebuffer_free(fb);
    g_main_context_unref(ctx);
}

struct keys { GArray *codes; };

static void key_cb(void *opaque, uint16_t sc, bool down)
{
    struct keys *k = opaque;
    uint32_t v = sc | (uint32_t)down << 16;
    g_array_append_val(k->codes, v);
}

static const struct input_sink_ops key_ops = { .key = key_cb };

static void test_python_client_unix(void)
{
    GMainContext *ctx = g_main_context_new();
    struct framebuffer *fb = framebuffer_new(300, 200);
    paint(fb);
    struct input_router *router = input_router_new();
    struct keys keys = { g_array_new(FALSE, FALSE, sizeof(uint32_t)) };
    input_router_add_sink(router, &key_ops, &keys);
    struct vnc_server *s = vnc_server_new(fb, router, ctx, "pattern");
    GError *error = NULL;
    g_autofree char *dir = g_dir_make_tmp("oriel-rfb-XXXXXX", &error);
    g_autofree char *sock = g_build_filename(dir, "vnc.sock", NULL);
    g_autofree char *spec = g_strconcat("unix:", sock, NULL);
    g_assert_true(vnc_server_listen(s, spec, &error));
    g_assert_no_error(error);

    g_autofree char *script = source_file("rfb_client.py");
    g_autofree char *out = g_build_filename(dir, "screen.ppm", NULL);
    const char *argv[] = { "/usr/bin/python3", script, spec, out, "61", "ff0d", NULL };
    run_client(ctx, argv);

    gchar *data;
    gsize len;
    g_assert_true(g_file_get_contents(out, &data, &len, &error));
    unsigned w, h;
    int hdr = 0;
    g_assert_cmpint(sscanf(data, "P6\n%u %u\n255\n%n", &w, &h, &hdr), ==, 2);
    g_assert_cmpuint(len, ==, (size_t)hdr + (size_t)w * h * 3);
    uint32_t *img = g_new(uint32_t, (size_t)w * h);
    const uint8_t *p = (const uint8_t *)data + hdr;
    for (size_t i = 0; i < (size_t)w * h; i++)
        img[i] = (uint32_t)p[3 * i] << 16 | (uint32_t)p[3 * i + 1] << 8 | p[3 * i + 2];
    compare(fb, img, w, h);
    g_free(img);
    g_free(data);

    /* The keys arrived as scancodes: 'a' (0x1e) and Return (0x1c). */
    for (int i = 0; i < 100 && keys.codes->len < 4; i++)
        g_main_context_iteration(ctx, FALSE);
    g_assert_cmpuint(keys.codes->len, ==, 4);
    g_assert_cmphex(g_array_index(keys.codes, uint32_t, 0), ==, 0x1001e);
    g_assert_cmphex(g_array_index(keys.codes, uint32_t, 1), ==, 0x0001e);
    g_assert_cmphex(g_array_index(keys.codes, uint32_t, 2), ==, 0x1001c);
    g_assert_cmphex(g_array_index(keys.codes, uint32_t, 3), ==, 0x0001c);

    g_unlink(out);
    vnc_server_free(s);
    g_rmdir(dir);
    input_router_free(router);
    g_array_free(keys.codes, TRUE);
    framebuffer_free(fb);
    g_main_context_unref(ctx);
}

static int refreshes;
static void count_refresh(void *opaque) { refreshes++; }

static void test_screendump(void)
{
    struct framebuffer *fb = framebuffer_new(123, 45);
    paint(fb);
    framebuffer_set_refresh_hook(fb, count_refresh, NULL);
    GError *error = NULL;
    g_autofree char *dir = g_dir_make_tmp("oriel-png-XXXXXX", &error);
    g_autofree char *out = g_build_filename(dir, "dump.png", NULL);
    g_assert_true(display_screendump(fb, out, &error));
    g_assert_no_error(error);
    g_assert_cmpint(refreshes, ==, 1);
    unsigned w, h;
    uint32_t *img = read_png(out, &w, &h);
    compare(fb, img, w, h);
    g_free(img);
    g_unlink(out);

    /* Errors carry the path. */
    g_autofree char *bad = g_build_filename(dir, "missing-dir", "dump.png", NULL);
    g_assert_false(display_screendump(fb, bad, &error));
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "missing-dir"));
    g_clear_error(&error);
    g_rmdir(dir);
    framebuffer_free(fb);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vnc-clients/gvnccapture-tcp", test_gvnccapture_tcp);
    g_test_add_func("/vnc-clients/python-unix", test_python_client_unix);
    g_test_add_func("/display/screendump-png", test_screendump);
    return g_test_run();
}
