#include "smm.h"
#include "kvm.h"
#include "vcpu.h"
#include "vm_core.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <linux/kvm.h>

bool smm_supported(int kvm_fd, GError **error)
{
    if (kvm_check_cap(kvm_fd, KVM_CAP_X86_SMM) <= 0) {
        g_set_error(error, KVM_ERROR, KVM_ERROR_UNSUPPORTED,
                    _("This KVM does not support System Management Mode (KVM_CAP_X86_SMM)"));
        return false;
    }
    if (kvm_check_cap(kvm_fd, KVM_CAP_MULTI_ADDRESS_SPACE) < 2) {
        g_set_error(error, KVM_ERROR, KVM_ERROR_UNSUPPORTED,
                    _("This KVM has no separate SMM address space (KVM_CAP_MULTI_ADDRESS_SPACE)"));
        return false;
    }
    return true;
}

bool vm_smm_enable(struct vm *vm, GError **error)
{
    return vm_enable_smm_address_space(vm, error);
}

bool vm_smm_enabled(struct vm *vm)
{
    return vm_smm_address_space_enabled(vm);
}

void vm_smm_set_legacy(struct vm *vm, bool enabled, bool open)
{
    if (!enabled && !open)
        vm_set_smram_overlay(vm, VM_SMRAM_LEGACY, 0, 0, MEMSLOT_VIEW_PASS, MEMSLOT_VIEW_PASS);
    else if (!vm_set_smram_overlay(vm, VM_SMRAM_LEGACY, SMM_LEGACY_BASE, SMM_LEGACY_SIZE,
                                   open ? MEMSLOT_VIEW_RAM : MEMSLOT_VIEW_PASS, MEMSLOT_VIEW_RAM))
        g_warning("cannot map the legacy SMRAM window");
}

bool vm_smm_set_tseg(struct vm *vm, uint64_t base, uint64_t size)
{
    if (size && (base + size < base || base + size > GUEST_PCI_HOLE_START))
        return false;
    return vm_set_smram_overlay(vm, VM_SMRAM_TSEG, base, size, MEMSLOT_VIEW_HOLE, MEMSLOT_VIEW_RAM);
}

void vm_smm_raise(struct vm *vm, int vcpu_index)
{
    if (vm_smm_enabled(vm))
        vm_raise_smi(vm, vcpu_index);
}

bool vm_smm_access_in_smm(void)
{
    return vcpu_current_in_smm();
}
