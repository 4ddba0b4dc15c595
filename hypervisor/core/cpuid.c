#include "cpuid.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_1_ECX_XSAVE      (1u << 26)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_HTT        (1u << 28)
#define CPUID_80000001_ECX_PERFCTR_CORE (1u << 23)
#define CPUID_KVM_SIGNATURE    0x40000000u
#define CPUID_KVM_FEATURES     0x40000001u

struct kvm_cpuid2 *cpuid_supported(int kvm_fd, GError **error)
{
    for (unsigned n = 64; n <= 4096; n *= 2) {
        struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + n * sizeof(c->entries[0]));
        c->nent = n;
        if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
            /* The in-kernel LAPIC emulates the TSC-deadline timer on any
             * host, but KVM leaves it to userspace to say so.  With it a
             * guest need not calibrate the LAPIC timer at boot (about
             * 100 ms of waiting on the PIT) and arms timers with one MSR
             * write. */
            struct kvm_cpuid_entry2 *leaf1 = cpuid_find(c, 1, 0);
            if (leaf1 && ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0)
                leaf1->ecx |= CPUID_1_ECX_TSC_DEADLINE;
            return c;
        }
        int e = errno;
        g_free(c);
        if (e != E2BIG) {
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                        _("Cannot read the CPUID KVM supports: %s"), g_strerror(e));
            return NULL;
        }
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, _("KVM reports too many CPUID entries"));
    return NULL;
}

struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t function, uint32_t index)
{
    for (uint32_t i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        if (e->function != function)
            continue;
        if ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) && e->index != index)
            continue;
        return e;
    }
    return NULL;
}

static unsigned bits_for(unsigned n)
{
    unsigned b = 0;
    while ((1u << b) < n)
        b++;
    return b;
}

struct kvm_cpuid2 *cpuid_for_vcpu(const struct kvm_cpuid2 *base, unsigned index, unsigned ncpus)
{
    /* Room for the KVM leaves if the host did not list them. */
    size_t sz = sizeof(*base) + (base->nent + 2) * sizeof(base->entries[0]);
    struct kvm_cpuid2 *c = g_malloc0(sz);
    memcpy(c, base, sizeof(*base) + base->nent * sizeof(base->entries[0]));

    /* One package of ncpus cores, one thread each; APIC id == index. */
    unsigned core_bits = bits_for(ncpus);
    for (uint32_t i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        switch (e->function) {
        case 1:
            e->ebx = (e->ebx & 0x0000ffffu) | ((uint32_t)index << 24) |
                     ((ncpus > 255 ? 255u : ncpus) << 16);
            e->ecx |= CPUID_1_ECX_HYPERVISOR;
            if (ncpus > 1)
                e->edx |= CPUID_1_EDX_HTT;
            else
                e->edx &= ~CPUID_1_EDX_HTT;
            break;
        case 4:
            /* Deterministic cache parameters: cores per package - 1, and
             * how many logical CPUs share each cache (one, or all for L3). */
            if ((e->eax & 0x1f) != 0) {
                unsigned level = (e->eax >> 5) & 7;
                unsigned sharing = level >= 3 ? (1u << core_bits) - 1 : 0;
                e->eax = (e->eax & 0x3ffu) | (sharing << 14) |
                         ((((1u << core_bits) - 1) & 0x3f) << 26);
            }
            break;
        case 0xd:
            /* EBX is the XSAVE area size for the features XCR0 enables;
             * KVM recomputes it from XCR0, which the vCPU starts with set
             * to everything supported (vcpu.c). */
            if (e->index == 0)
                e->ebx = e->ecx;
            break;
        case 0xa:
            /* No architectural PMU. */
            e->eax = e->ebx = e->ecx = e->edx = 0;
            break;
        case 0xb:
        case 0x1f:
            if (e->index == 0) {
                e->eax = 0;
                e->ebx = 1;
                e->ecx = (1u << 8) | 0;
            } else if (e->index == 1) {
                e->eax = core_bits;
                e->ebx = ncpus;
                e->ecx = (2u << 8) | 1;
            } else {
                e->eax = e->ebx = 0;
                e->ecx = e->index;
            }
            e->edx = index;
            break;
        case 0x80000001:
            e->ecx &= ~CPUID_80000001_ECX_PERFCTR_CORE;
            break;
        case 0x80000008:
            /* AMD: number of cores - 1 and the APIC id width. */
            e->ecx = (e->ecx & ~0xf0ffu) | ((ncpus - 1) & 0xff) | (core_bits << 12);
            break;
        case 0x8000001e:
            e->eax = index;
            e->ebx = (e->ebx & ~0xffffu) | (index & 0xff);
            e->ecx = 0;
            break;
        }
    }

    if (!cpuid_find(c, CPUID_KVM_SIGNATURE, 0)) {
        struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];
        *e = (struct kvm_cpuid_entry2){ .function = CPUID_KVM_SIGNATURE,
                                         .eax = CPUID_KVM_FEATURES };
        memcpy(&e->ebx, "KVMK", 4);
        memcpy(&e->ecx, "VMKV", 4);
        memcpy(&e->edx, "M\0\0\0", 4);
    }
    return c;
}

uint64_t cpuid_xcr0_supported(struct kvm_cpuid2 *c)
{
    struct kvm_cpuid_entry2 *leaf1 = cpuid_find(c, 1, 0);
    struct kvm_cpuid_entry2 *leafd = cpuid_find(c, 0xd, 0);
    if (!leaf1 || !(leaf1->ecx & CPUID_1_ECX_XSAVE) || !leafd)
        return 0;
    /* x87 state is always on; the rest is what KVM lets XCR0 hold. */
    return ((uint64_t)leafd->edx << 32 | leafd->eax) | 1;
}
