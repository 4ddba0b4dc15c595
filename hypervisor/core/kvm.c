#include "kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

G_DEFINE_QUARK(oriel-kvm-error-quark, kvm_error)

int kvm_check_cap(int kvm_fd, long cap)
{
    int r = ioctl(kvm_fd, KVM_CHECK_EXTENSION, cap);
    return r < 0 ? 0 : r;
}

/* Capabilities the PC platform cannot do without. */
static const struct {
    long cap;
    const char *name;
} required_caps[] = {
    { KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
    { KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
    { KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
    { KVM_CAP_PIT2, "KVM_CAP_PIT2" },
    { KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
    { KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
    { KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
    { KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
    { KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI" },
    { KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
    { KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
};

int kvm_open(const char *device, const char *sysfs_module_dir, GError **error)
{
    /* The PVM backend accepts KVM ioctls but only runs kernels built for it;
     * an unmodified guest would hang in its decompressor, so say why now. */
    g_autofree char *pvm = g_build_filename(sysfs_module_dir, "kvm_pvm", NULL);
    if (g_file_test(pvm, G_FILE_TEST_EXISTS)) {
        g_set_error(error, KVM_ERROR, KVM_ERROR_PVM,
                    _("%s is the PVM backend, which cannot run unmodified guests; "
                      "hardware virtualization (VT-x/AMD-V) is needed"), device);
        return -1;
    }

    int fd = open(device, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT || e == ENODEV || e == ENXIO)
            g_set_error(error, KVM_ERROR, KVM_ERROR_MISSING,
                        _("%s is not available: %s; enable VT-x/AMD-V in the firmware "
                          "and load the kvm-intel or kvm-amd module"), device, g_strerror(e));
        else
            g_set_error(error, KVM_ERROR, KVM_ERROR_ACCESS,
                        _("Cannot open %s: %s; the user needs read-write access "
                          "(usually membership of the kvm group)"), device, g_strerror(e));
        return -1;
    }

    int version = ioctl(fd, KVM_GET_API_VERSION, 0);
    if (version != KVM_API_VERSION) {
        g_set_error(error, KVM_ERROR, KVM_ERROR_UNSUPPORTED,
                    _("%s speaks KVM API version %d, expected %d"), device, version,
                    KVM_API_VERSION);
        close(fd);
        return -1;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(required_caps); i++) {
        if (!kvm_check_cap(fd, required_caps[i].cap)) {
            g_set_error(error, KVM_ERROR, KVM_ERROR_UNSUPPORTED,
                        _("The host kernel's KVM lacks %s, which oriel-vmm needs"),
                        required_caps[i].name);
            close(fd);
            return -1;
        }
    }
    return fd;
}
