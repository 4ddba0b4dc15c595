/* /dev/kvm refusal: a PVM backend, a missing device and an inaccessible
 * one each give their own error, with a message that says what to do. */
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "core/kvm.h"

static void test_pvm_refused(void)
{
    g_autofree char *dir = g_dir_make_tmp("oriel-sysfs-XXXXXX", NULL);
    g_autofree char *pvm = g_build_filename(dir, "kvm_pvm", NULL);
    g_assert_cmpint(g_mkdir(pvm, 0755), ==, 0);
    g_autoptr(GError) error = NULL;
    /* Refused before the device is even opened. */
    g_assert_cmpint(kvm_open("/dev/null", dir, &error), ==, -1);
    g_assert_error(error, KVM_ERROR, KVM_ERROR_PVM);
    g_assert_nonnull(strstr(error->message, "PVM"));
    g_assert_nonnull(strstr(error->message, "VT-x/AMD-V"));
    g_rmdir(pvm);
    g_rmdir(dir);
}

static void test_missing(void)
{
    g_autofree char *dir = g_dir_make_tmp("oriel-sysfs-XXXXXX", NULL);
    g_autoptr(GError) error = NULL;
    g_assert_cmpint(kvm_open("/nonexistent/kvm", dir, &error), ==, -1);
    g_assert_error(error, KVM_ERROR, KVM_ERROR_MISSING);
    g_assert_nonnull(strstr(error->message, "/nonexistent/kvm"));
    g_rmdir(dir);
}

static void test_not_kvm(void)
{
    /* Something that opens but is not KVM. */
    g_autofree char *dir = g_dir_make_tmp("oriel-sysfs-XXXXXX", NULL);
    g_autoptr(GError) error = NULL;
    g_assert_cmpint(kvm_open("/dev/null", dir, &error), ==, -1);
    g_assert_error(error, KVM_ERROR, KVM_ERROR_UNSUPPORTED);
    g_rmdir(dir);
}

static void test_no_access(void)
{
    if (getuid() == 0) {
        g_test_skip("root can open anything");
        return;
    }
    g_autofree char *dir = g_dir_make_tmp("oriel-sysfs-XXXXXX", NULL);
    g_autofree char *dev = g_build_filename(dir, "kvm", NULL);
    g_assert_true(g_file_set_contents(dev, "", 0, NULL));
    g_chmod(dev, 0);
    g_autoptr(GError) error = NULL;
    g_assert_cmpint(kvm_open(dev, dir, &error), ==, -1);
    g_assert_error(error, KVM_ERROR, KVM_ERROR_ACCESS);
    g_unlink(dev);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/kvm/pvm-refused", test_pvm_refused);
    g_test_add_func("/kvm/missing", test_missing);
    g_test_add_func("/kvm/not-kvm", test_not_kvm);
    g_test_add_func("/kvm/no-access", test_no_access);
    return g_test_run();
}
