/* Drive names as query-block reports them: Linux-style letters after the
 * bus prefix, so the 27th virtio disk is vdaa, not a second vdz. */
#include <glib.h>

#include "machine/chipset.h"

static void check(const char *prefix, unsigned index, const char *want)
{
    g_autofree char *got = machine_drive_name(prefix, index);
    g_assert_cmpstr(got, ==, want);
}

static void test_names(void)
{
    check("vd", 0, "vda");
    check("vd", 25, "vdz");
    check("vd", 26, "vdaa");
    check("vd", 27, "vdab");
    check("sd", 701, "sdzz");
    check("sd", 702, "sdaaa");
    check("hd", 2, "hdc");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/machine/drive-names", test_names);
    return g_test_run();
}
