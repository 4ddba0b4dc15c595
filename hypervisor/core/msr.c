#include "msr.h"

#include <errno.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

#define MSR_IA32_SYSENTER_CS  0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE  0x1a0
#define MSR_STAR              0xc0000081
#define MSR_LSTAR             0xc0000082
#define MSR_CSTAR             0xc0000083
#define MSR_SYSCALL_MASK      0xc0000084
#define MSR_KERNEL_GS_BASE    0xc0000102

#define MISC_ENABLE_FAST_STRING 1ULL

/* Paravirtual MSRs through which a guest hands KVM guest-physical
 * addresses (kvmclock, steal time, async page faults, PV EOI).  Cleared on
 * reset so that KVM stops writing into memory the next boot owns. */
static const uint32_t kvm_pv_msrs[] = {
    0x11, 0x12,                 /* legacy wall clock, system time */
    0x4b564d00, 0x4b564d01,     /* wall clock, system time */
    0x4b564d02,                 /* async PF */
    0x4b564d03,                 /* steal time */
    0x4b564d04,                 /* PV EOI */
};

/* Best effort: KVM rejects the ones the host does not offer. */
static void clear_pv_msrs(int vcpu_fd)
{
    g_autofree struct kvm_msrs *one = g_malloc0(sizeof(*one) + sizeof(one->entries[0]));
    one->nmsrs = 1;
    for (size_t i = 0; i < G_N_ELEMENTS(kvm_pv_msrs); i++) {
        one->entries[0] = (struct kvm_msr_entry){ .index = kvm_pv_msrs[i] };
        ioctl(vcpu_fd, KVM_SET_MSRS, one);
    }
}

bool msr_init_vcpu(int vcpu_fd, GError **error)
{
    static const struct {
        uint32_t index;
        uint64_t value;
    } init[] = {
        /* Firmware normally turns fast string operations on; Linux warns
         * when they are off. */
        { MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING },
        { MSR_IA32_SYSENTER_CS, 0 },
        { MSR_IA32_SYSENTER_ESP, 0 },
        { MSR_IA32_SYSENTER_EIP, 0 },
        { MSR_STAR, 0 },
        { MSR_LSTAR, 0 },
        { MSR_CSTAR, 0 },
        { MSR_SYSCALL_MASK, 0 },
        { MSR_KERNEL_GS_BASE, 0 },
    };
    size_t n = G_N_ELEMENTS(init);
    g_autofree struct kvm_msrs *msrs = g_malloc0(sizeof(*msrs) + n * sizeof(msrs->entries[0]));
    msrs->nmsrs = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        msrs->entries[i].index = init[i].index;
        msrs->entries[i].data = init[i].value;
    }
    clear_pv_msrs(vcpu_fd);
    int r = ioctl(vcpu_fd, KVM_SET_MSRS, msrs);
    if (r < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    _("Cannot set the vCPU's MSRs: %s"), g_strerror(errno));
        return false;
    }
    /* KVM stops at the first MSR it refuses. */
    if ((size_t)r != n) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    _("KVM refused MSR 0x%x"), init[r].index);
        return false;
    }
    return true;
}
