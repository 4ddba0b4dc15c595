#include "qemu_img_test.h"

#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>

int test_run(char **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_autofree char *o = NULL, *e = NULL;
    int status = -1;
    g_autoptr(GError) error = NULL;
    g_spawn_command_line_sync(cmd, &o, &e, &status, &error);
    g_assert_no_error(error);
    if (out)
        *out = g_strconcat(o ? o : "", e ? e : "", NULL);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void test_qemu_img_ok(const char *args)
{
    g_autofree char *out = NULL;
    int rc = test_run(&out, "qemu-img %s", args);
    if (rc != 0)
        g_error("qemu-img %s failed (%d): %s", args, rc, out);
}

void test_qcow2_assert_clean(const char *img)
{
    g_autofree char *out = NULL;
    int rc = test_run(&out, "qemu-img check -f qcow2 %s", img);
    if (rc != 0 || strstr(out, "No errors were found") == NULL)
        g_error("qemu-img check %s (exit %d):\n%s", img, rc, out);
}
