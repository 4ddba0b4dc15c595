#include "hyperv.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

#include "cpuid.h"

/* CPUID leaves, from the Hyper-V Top-Level Functional Specification. */
#define HV_LEAF_VENDOR      0x40000000u
#define HV_LEAF_INTERFACE   0x40000001u
#define HV_LEAF_VERSION     0x40000002u
#define HV_LEAF_FEATURES    0x40000003u
#define HV_LEAF_ENLIGHTEN   0x40000004u
#define HV_LEAF_LIMITS      0x40000005u
#define HV_LEAF_HW_FEATURES 0x40000006u
#define HV_LEAF_LAST        0x4000000au

/* 0x40000003 EAX: partition privileges. */
#define HV_RUNTIME_MSR      (1u << 0)
#define HV_TIME_REF_COUNT   (1u << 1)
#define HV_SYNIC_MSRS       (1u << 2)
#define HV_STIMER_MSRS      (1u << 3)
#define HV_APIC_MSRS        (1u << 4)
#define HV_HYPERCALL_MSRS   (1u << 5)
#define HV_VP_INDEX_MSR     (1u << 6)
#define HV_RESET_MSR        (1u << 7)
#define HV_REFERENCE_TSC    (1u << 9)
#define HV_FREQUENCY_MSRS   (1u << 11)
#define HV_REENLIGHTENMENT  (1u << 13)
/* 0x40000003 EDX. */
#define HV_FREQUENCY_MSRS_EDX (1u << 8)
#define HV_STIMER_DIRECT    (1u << 19)
/* 0x40000004 EAX: recommendations. */
#define HV_REMOTE_TLB_FLUSH (1u << 2)
#define HV_APIC_ACCESS_REC  (1u << 3)
#define HV_RELAXED_TIMING   (1u << 5)
#define HV_DEPRECATING_AEOI (1u << 9)
#define HV_CLUSTER_IPI      (1u << 10)
#define HV_EX_PROCESSOR_MASKS (1u << 11)

struct mapping {
    uint32_t feature;           /* enum hyperv_feature */
    const char *name;
    uint32_t leaf;
    int reg;                    /* 0 eax, 3 edx */
    uint32_t bits;
};

static const struct mapping mappings[] = {
    { HYPERV_RUNTIME, "runtime", HV_LEAF_FEATURES, 0, HV_RUNTIME_MSR },
    { HYPERV_TIME, "time", HV_LEAF_FEATURES, 0, HV_TIME_REF_COUNT | HV_REFERENCE_TSC },
    { HYPERV_SYNIC, "synic", HV_LEAF_FEATURES, 0, HV_SYNIC_MSRS },
    { HYPERV_STIMER, "stimer", HV_LEAF_FEATURES, 0, HV_STIMER_MSRS },
    { HYPERV_STIMER_DIRECT, "stimer-direct", HV_LEAF_FEATURES, 3, HV_STIMER_DIRECT },
    { HYPERV_VAPIC, "vapic", HV_LEAF_FEATURES, 0, HV_APIC_MSRS },
    { HYPERV_VPINDEX, "vpindex", HV_LEAF_FEATURES, 0, HV_VP_INDEX_MSR },
    { HYPERV_RESET, "reset", HV_LEAF_FEATURES, 0, HV_RESET_MSR },
    { HYPERV_FREQUENCIES, "frequencies", HV_LEAF_FEATURES, 0, HV_FREQUENCY_MSRS },
    { HYPERV_FREQUENCIES, "frequencies", HV_LEAF_FEATURES, 3, HV_FREQUENCY_MSRS_EDX },
    { HYPERV_REENLIGHTENMENT, "reenlightenment", HV_LEAF_FEATURES, 0, HV_REENLIGHTENMENT },
    { HYPERV_VAPIC, "vapic", HV_LEAF_ENLIGHTEN, 0, HV_APIC_ACCESS_REC },
    { HYPERV_RELAXED, "relaxed", HV_LEAF_ENLIGHTEN, 0, HV_RELAXED_TIMING },
    /* Remote flushes only: KVM does not take local ones by hypercall. */
    { HYPERV_TLBFLUSH, "tlbflush", HV_LEAF_ENLIGHTEN, 0, HV_REMOTE_TLB_FLUSH },
    { HYPERV_IPI, "ipi", HV_LEAF_ENLIGHTEN, 0, HV_CLUSTER_IPI },
    { HYPERV_AVIC, "avic", HV_LEAF_ENLIGHTEN, 0, HV_DEPRECATING_AEOI },
};

static uint32_t *reg_of(struct kvm_cpuid_entry2 *e, int reg)
{
    return reg == 0 ? &e->eax : &e->edx;
}

static struct kvm_cpuid_entry2 *supported_leaf(const struct kvm_cpuid2 *s, uint32_t fn)
{
    return cpuid_find((struct kvm_cpuid2 *)s, fn, 0);
}

struct kvm_cpuid2 *hyperv_cpuid(const struct kvm_cpuid2 *cpuid, const struct kvm_cpuid2 *supported,
                                const struct cpu_config *cfg, GError **error)
{
    /* Everything but 0x40000000-0x400001ff, then the new leaves. */
    unsigned room = cpuid->nent + (HV_LEAF_LAST - HV_LEAF_VENDOR + 1) + 2;
    struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + room * sizeof(c->entries[0]));
    struct kvm_cpuid_entry2 kvm_sig = { 0 }, kvm_features = { 0 };
    bool have_kvm = false;
    for (uint32_t i = 0; i < cpuid->nent; i++) {
        const struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
        if (e->function == HV_LEAF_VENDOR)
            kvm_sig = *e, have_kvm = true;
        else if (e->function == HV_LEAF_VENDOR + 1)
            kvm_features = *e;
        else if (e->function < HV_LEAF_VENDOR || e->function >= HYPERV_KVM_LEAF_BASE + 0x100)
            c->entries[c->nent++] = *e;
    }

    if (cfg->hyperv) {
        struct kvm_cpuid_entry2 *leaf[HV_LEAF_LAST - HV_LEAF_VENDOR + 1];
        for (uint32_t fn = HV_LEAF_VENDOR; fn <= HV_LEAF_LAST; fn++) {
            struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];
            *e = (struct kvm_cpuid_entry2){ .function = fn };
            leaf[fn - HV_LEAF_VENDOR] = e;
        }
        const struct kvm_cpuid_entry2 *s;
        if (!(s = supported_leaf(supported, HV_LEAF_INTERFACE)) || !s->eax) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                        _("This host's KVM offers no Hyper-V enlightenments"));
            g_free(c);
            return NULL;
        }
        struct kvm_cpuid_entry2 *v = leaf[0];
        v->eax = HV_LEAF_LAST;
        char vendor[12] = "Microsoft Hv";
        if (cfg->hyperv & HYPERV_VENDOR_ID) {
            memset(vendor, 0, sizeof vendor);
            memcpy(vendor, cfg->vendor_id, strnlen(cfg->vendor_id, sizeof vendor));
        }
        memcpy(&v->ebx, vendor, 4);
        memcpy(&v->ecx, vendor + 4, 4);
        memcpy(&v->edx, vendor + 8, 4);
        /* Interface signature, version and limits as KVM states them. */
        const uint32_t copied[] = { HV_LEAF_INTERFACE, HV_LEAF_VERSION, HV_LEAF_LIMITS,
                                    HV_LEAF_HW_FEATURES };
        for (size_t i = 0; i < G_N_ELEMENTS(copied); i++)
            if ((s = supported_leaf(supported, copied[i]))) {
                struct kvm_cpuid_entry2 *e = leaf[copied[i] - HV_LEAF_VENDOR];
                e->eax = s->eax, e->ebx = s->ebx, e->ecx = s->ecx, e->edx = s->edx;
            }
        /* The hypercall page is the base of every enlightenment. */
        leaf[HV_LEAF_FEATURES - HV_LEAF_VENDOR]->eax = HV_HYPERCALL_MSRS;
        for (size_t i = 0; i < G_N_ELEMENTS(mappings); i++) {
            const struct mapping *m = &mappings[i];
            if (!(cfg->hyperv & m->feature))
                continue;
            s = supported_leaf(supported, m->leaf);
            uint32_t have = s ? *reg_of((struct kvm_cpuid_entry2 *)s, m->reg) : 0;
            if ((have & m->bits) != m->bits) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                            _("Hyper-V enlightenment '%s' is not supported by this host's KVM"),
                            m->name);
                g_free(c);
                return NULL;
            }
            *reg_of(leaf[m->leaf - HV_LEAF_VENDOR], m->reg) |= m->bits;
        }
        struct kvm_cpuid_entry2 *rec = leaf[HV_LEAF_ENLIGHTEN - HV_LEAF_VENDOR];
        /* More than 64 vCPUs need the sparse processor sets. */
        const struct kvm_cpuid_entry2 *srec = supported_leaf(supported, HV_LEAF_ENLIGHTEN);
        if ((cfg->hyperv & (HYPERV_TLBFLUSH | HYPERV_IPI)) && srec &&
            (srec->eax & HV_EX_PROCESSOR_MASKS))
            rec->eax |= HV_EX_PROCESSOR_MASKS;
        rec->ebx = (cfg->hyperv & HYPERV_SPINLOCKS) ? cfg->spinlock_retries : 0xffffffffu;
    }

    /* KVM's leaves: where a guest that knows both finds them, or gone. */
    if (have_kvm && !cfg->kvm_hidden) {
        uint32_t base = cfg->hyperv ? HYPERV_KVM_LEAF_BASE : HV_LEAF_VENDOR;
        kvm_sig.function = base;
        kvm_sig.eax = base + 1;
        kvm_features.function = base + 1;
        c->entries[c->nent++] = kvm_sig;
        c->entries[c->nent++] = kvm_features;
    }
    return c;
}

static struct kvm_cpuid2 *supported_hv_cpuid(int vcpu_fd, GError **error)
{
    for (unsigned n = 16; n <= 256; n *= 2) {
        struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + n * sizeof(c->entries[0]));
        c->nent = n;
        if (ioctl(vcpu_fd, KVM_GET_SUPPORTED_HV_CPUID, c) == 0)
            return c;
        int e = errno;
        g_free(c);
        if (e != E2BIG) {
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                        _("Cannot read the Hyper-V CPUID KVM supports: %s"), g_strerror(e));
            return NULL;
        }
    }
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, _("KVM reports too many Hyper-V CPUID entries"));
    return NULL;
}

static bool enable_cap(int vcpu_fd, uint32_t cap, uint64_t arg, const char *what, GError **error)
{
    struct kvm_enable_cap ec = { .cap = cap, .args = { arg } };
    if (ioctl(vcpu_fd, KVM_ENABLE_CAP, &ec) < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    _("Cannot enable %s: %s"), what, g_strerror(errno));
        return false;
    }
    return true;
}

bool hyperv_setup_vcpu(int vcpu_fd, int kvm_fd, struct kvm_cpuid2 **cpuid,
                       const struct cpu_config *cfg, GError **error)
{
    g_autofree struct kvm_cpuid2 *supported = NULL;
    if (cfg->hyperv) {
        if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_HYPERV_CPUID) <= 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                        _("This host's KVM offers no Hyper-V enlightenments"));
            return false;
        }
        if (!(supported = supported_hv_cpuid(vcpu_fd, error)))
            return false;
    }
    struct kvm_cpuid2 *c = hyperv_cpuid(*cpuid, supported, cfg, error);
    if (!c)
        return false;
    g_free(*cpuid);
    *cpuid = c;
    if (!cfg->hyperv)
        return true;
    /* Only the MSRs and hypercalls the CPUID offers work for the guest. */
    if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_HYPERV_ENFORCE_CPUID) > 0 &&
        !enable_cap(vcpu_fd, KVM_CAP_HYPERV_ENFORCE_CPUID, 1, "KVM_CAP_HYPERV_ENFORCE_CPUID", error))
        return false;
    if ((cfg->hyperv & HYPERV_SYNIC) &&
        !enable_cap(vcpu_fd, KVM_CAP_HYPERV_SYNIC2, 0, "the Hyper-V SynIC (KVM_CAP_HYPERV_SYNIC2)",
                    error))
        return false;
    return true;
}
