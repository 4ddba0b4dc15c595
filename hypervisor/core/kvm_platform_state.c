#include "kvm_platform_state.h"
#include "vm_core.h"
#include "vm_state.h"
#include "state_file.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>
#include <glib/gi18n.h>

#define IRQCHIP_VERSION 1u
#define PIT_VERSION 1u
#define CLOCK_VERSION 1u
#define NCHIPS 3    /* PIC master, PIC slave, IOAPIC */

static bool vm_io(struct vm *vm, unsigned long req, void *arg, const char *what, GError **error)
{
    if (ioctl(vm_fd(vm), req, arg) < 0) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_IO, _("%s failed: %s"), what,
                    g_strerror(errno));
        return false;
    }
    return true;
}

static bool irqchip_save(void *opaque, struct state_out *o, GError **error)
{
    for (unsigned i = 0; i < NCHIPS; i++) {
        struct kvm_irqchip chip = { .chip_id = i };
        if (!vm_io(opaque, KVM_GET_IRQCHIP, &chip, "KVM_GET_IRQCHIP", error))
            return false;
        state_out_bytes(o, &chip.chip, sizeof(chip.chip));
    }
    return true;
}

static bool irqchip_load(void *opaque, struct state_in *in, uint32_t version, GError **error)
{
    for (unsigned i = 0; i < NCHIPS; i++) {
        struct kvm_irqchip chip = { .chip_id = i };
        state_in_bytes(in, &chip.chip, sizeof(chip.chip));
        if (in->short_read)
            return state_in_invalid(in, error, _("interrupt controller %u is truncated"), i);
        /* KVM masks what the guest could not have written itself (the
         * IOAPIC id and redirection entries are plain registers). */
        if (!vm_io(opaque, KVM_SET_IRQCHIP, &chip, "KVM_SET_IRQCHIP", error))
            return false;
    }
    return true;
}

static bool pit_save(void *opaque, struct state_out *o, GError **error)
{
    struct kvm_pit_state2 pit;
    if (!vm_io(opaque, KVM_GET_PIT2, &pit, "KVM_GET_PIT2", error))
        return false;
    state_out_bytes(o, &pit, sizeof(pit));
    return true;
}

static bool pit_load(void *opaque, struct state_in *in, uint32_t version, GError **error)
{
    struct kvm_pit_state2 pit;
    state_in_bytes(in, &pit, sizeof(pit));
    if (in->short_read)
        return state_in_invalid(in, error, _("the PIT state is truncated"));
    for (unsigned i = 0; i < G_N_ELEMENTS(pit.channels); i++) {
        const struct kvm_pit_channel_state *c = &pit.channels[i];
        /* The 3-bit mode field (0xff: never programmed, as KVM resets
         * it), and the access states a guest's control words produce
         * (none, LSB, MSB, word: first or second byte). */
        if ((c->mode > 7 && c->mode != 0xff) || c->rw_mode > 4 || c->read_state > 4 || c->write_state > 4)
            return state_in_invalid(in, error, _("PIT channel %u: mode %u, access %u/%u/%u"), i,
                                    c->mode, c->rw_mode, c->read_state, c->write_state);
    }
    return vm_io(opaque, KVM_SET_PIT2, &pit, "KVM_SET_PIT2", error);
}

static bool clock_save(void *opaque, struct state_out *o, GError **error)
{
    struct kvm_clock_data c = { 0 };
    if (!vm_io(opaque, KVM_GET_CLOCK, &c, "KVM_GET_CLOCK", error))
        return false;
    state_out_u64(o, c.clock);
    return true;
}

/* The guest's clock continues from the saved value: the time the VM spent
 * saved does not exist for it, as for a paused VM. */
static bool clock_load(void *opaque, struct state_in *in, uint32_t version, GError **error)
{
    struct kvm_clock_data c = { .clock = state_in_u64(in) };
    if (in->short_read)
        return state_in_invalid(in, error, _("the clock is truncated"));
    return vm_io(opaque, KVM_SET_CLOCK, &c, "KVM_SET_CLOCK", error);
}

static const struct vm_state_ops irqchip_ops = {
    .version = IRQCHIP_VERSION, .stage = VM_STATE_STAGE_IRQCHIP,
    .save = irqchip_save, .load = irqchip_load,
};
static const struct vm_state_ops pit_ops = {
    .version = PIT_VERSION, .stage = VM_STATE_STAGE_IRQCHIP,
    .save = pit_save, .load = pit_load,
};
static const struct vm_state_ops clock_ops = {
    .version = CLOCK_VERSION, .stage = VM_STATE_STAGE_CLOCK,
    .save = clock_save, .load = clock_load,
};

void kvm_platform_state_register(struct vm *vm)
{
    vm_state_register(vm, "kvm-irqchip", &irqchip_ops, vm);
    vm_state_register(vm, "kvm-pit", &pit_ops, vm);
    vm_state_register(vm, "kvm-clock", &clock_ops, vm);
}
