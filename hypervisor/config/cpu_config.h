/* What the guest's CPUs tell it about the hypervisor: the Hyper-V
 * enlightenments Windows uses (and Linux understands), and whether KVM's
 * own signature is shown.  Parsed from --hyperv and --kvm-hidden. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

enum hyperv_feature {
    HYPERV_RELAXED = 1u << 0,           /* no watchdogs on interrupt delivery */
    HYPERV_VAPIC = 1u << 1,             /* APIC EOI/ICR/TPR through MSRs */
    HYPERV_SPINLOCKS = 1u << 2,         /* notify after this many spins */
    HYPERV_VPINDEX = 1u << 3,
    HYPERV_RUNTIME = 1u << 4,
    HYPERV_SYNIC = 1u << 5,             /* synthetic interrupt controller */
    HYPERV_STIMER = 1u << 6,            /* synthetic timers (needs synic, time) */
    HYPERV_STIMER_DIRECT = 1u << 7,     /* their interrupts without VMBus */
    HYPERV_RESET = 1u << 8,
    HYPERV_VENDOR_ID = 1u << 9,
    HYPERV_FREQUENCIES = 1u << 10,      /* TSC and APIC frequency MSRs */
    HYPERV_REENLIGHTENMENT = 1u << 11,
    HYPERV_TLBFLUSH = 1u << 12,         /* TLB flushes by hypercall */
    HYPERV_IPI = 1u << 13,              /* IPIs by hypercall */
    HYPERV_AVIC = 1u << 14,             /* recommend not using auto-EOI */
    HYPERV_TIME = 1u << 15,             /* reference counter and TSC page */
};

struct cpu_config {
    uint32_t hyperv;                    /* enum hyperv_feature bits */
    uint32_t spinlock_retries;          /* with HYPERV_SPINLOCKS */
    char vendor_id[13];                 /* with HYPERV_VENDOR_ID */
    bool kvm_hidden;                    /* no KVM signature (no kvmclock) */
};

/* "relaxed,vapic,spinlocks=8191,...,vendor-id=NAME" into c->hyperv,
 * spinlock_retries and vendor_id; checks what the features need. */
bool cpu_config_parse_hyperv(struct cpu_config *c, const char *s, GError **error);
