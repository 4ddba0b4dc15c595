/* Hyper-V enlightenments on KVM: the CPUID leaves 0x40000000-0x4000000A
 * that Windows (and Linux) read to find a Hyper-V-compatible hypervisor,
 * built from what this host's KVM implements (KVM_GET_SUPPORTED_HV_CPUID)
 * and what the VM asked for; KVM's own leaves then move to 0x40000100, or
 * go when hidden.  KVM emulates the synthetic MSRs and hypercalls itself. */
#pragma once

#include <stdbool.h>
#include <linux/kvm.h>
#include <glib.h>

#include "config/cpu_config.h"

/* The first KVM leaf when Hyper-V's take 0x40000000. */
#define HYPERV_KVM_LEAF_BASE 0x40000100u

/* A copy of cpuid with the hypervisor leaves cfg asks for.  supported is
 * KVM's Hyper-V CPUID; a requested enlightenment it lacks is an error
 * naming it.  g_free() the result. */
struct kvm_cpuid2 *hyperv_cpuid(const struct kvm_cpuid2 *cpuid, const struct kvm_cpuid2 *supported,
                                const struct cpu_config *cfg, GError **error);

/* For a vCPU: read KVM's Hyper-V CPUID, replace *cpuid with the result of
 * hyperv_cpuid(), and turn on the KVM capabilities the enlightenments
 * need (SynIC, and CPUID-enforced MSR access where KVM has it). */
bool hyperv_setup_vcpu(int vcpu_fd, int kvm_fd, struct kvm_cpuid2 **cpuid,
                       const struct cpu_config *cfg, GError **error);
