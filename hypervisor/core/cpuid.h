/* The CPUID a guest vCPU sees: what KVM supports on this host, with the
 * topology made to match the VM, the hypervisor leaves for kvmclock and the
 * PMU hidden (its MSRs are not virtualized consistently under nesting). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>
#include <glib.h>

/* KVM_GET_SUPPORTED_CPUID plus the TSC-deadline timer when KVM's LAPIC
 * offers it; g_free() the result. */
struct kvm_cpuid2 *cpuid_supported(int kvm_fd, GError **error);

/* Copy of base adjusted for vCPU index of ncpus (APIC id == index). */
struct kvm_cpuid2 *cpuid_for_vcpu(const struct kvm_cpuid2 *base, unsigned index, unsigned ncpus);

/* The entry for (function, index), or NULL. */
struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t function, uint32_t index);

/* The XCR0 with every user state component c enumerates (CPUID 0xD.0
 * EDX:EAX), or 0 without XSAVE. */
uint64_t cpuid_xcr0_supported(struct kvm_cpuid2 *c);
