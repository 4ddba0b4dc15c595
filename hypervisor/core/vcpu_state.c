#include "vcpu_state.h"
#include "vcpu.h"
#include "vm_core.h"
#include "vm_state.h"
#include "state_file.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>
#include <glib/gi18n.h>

#define VCPU_STATE_VERSION 1u
/* More than KVM has ever listed; bounds what a file may ask us to set. */
#define MAX_MSRS 1024u
#define MSR_IA32_TSC_DEADLINE 0x6e0

static bool vcpu_io(struct vcpu *v, unsigned long req, void *arg, const char *what, GError **error)
{
    if (ioctl(vcpu_fd(v), req, arg) < 0) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_IO, _("vCPU %u: %s failed: %s"),
                    vcpu_index(v), what, g_strerror(errno));
        return false;
    }
    return true;
}

static void put_blob(struct state_out *o, const void *p, size_t len)
{
    state_out_u32(o, (uint32_t)len);
    state_out_bytes(o, p, len);
}

/* A fixed-size kernel structure: the saved one must have its size. */
static bool get_blob(struct state_in *in, void *p, size_t len, const char *what, GError **error)
{
    uint32_t n = state_in_u32(in);
    if (in->short_read || n != len)
        return state_in_invalid(in, error, _("%s has %u bytes, expected %zu"), what, n, len);
    state_in_bytes(in, p, len);
    return !in->short_read || state_in_invalid(in, error, _("%s is truncated"), what);
}

/* Size of the XSAVE area this host's KVM uses (larger than struct
 * kvm_xsave with AMX and the like). */
static size_t xsave_size(struct vcpu *v)
{
    int n = ioctl(vm_kvm_fd(vcpu_vm(v)), KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
    return n > (int)sizeof(struct kvm_xsave) ? (size_t)n : sizeof(struct kvm_xsave);
}

/* The MSRs to save: KVM's list, less those this vCPU cannot read (the
 * list covers every MSR KVM knows, whatever the CPUID). */
static struct kvm_msrs *savable_msrs(struct vcpu *v, GError **error)
{
    struct kvm_msr_list probe = { .nmsrs = 0 };
    int kvm = vm_kvm_fd(vcpu_vm(v));
    if (ioctl(kvm, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_IO, _("Cannot list the MSRs: %s"),
                    g_strerror(errno));
        return NULL;
    }
    g_autofree struct kvm_msr_list *list =
        g_malloc0(sizeof(*list) + probe.nmsrs * sizeof(list->indices[0]));
    list->nmsrs = probe.nmsrs;
    if (ioctl(kvm, KVM_GET_MSR_INDEX_LIST, list) < 0) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_IO, _("Cannot list the MSRs: %s"),
                    g_strerror(errno));
        return NULL;
    }
    struct kvm_msrs *msrs = g_malloc0(sizeof(*msrs) + list->nmsrs * sizeof(msrs->entries[0]));
    g_autofree struct kvm_msrs *one = g_malloc0(sizeof(*one) + sizeof(one->entries[0]));
    for (uint32_t i = 0; i < list->nmsrs && msrs->nmsrs < MAX_MSRS; i++) {
        one->nmsrs = 1;
        one->entries[0] = (struct kvm_msr_entry){ .index = list->indices[i] };
        if (ioctl(vcpu_fd(v), KVM_GET_MSRS, one) == 1)
            msrs->entries[msrs->nmsrs++] = one->entries[0];
    }
    return msrs;
}

static bool save_msrs(struct vcpu *v, struct state_out *o, GError **error)
{
    g_autofree struct kvm_msrs *msrs = savable_msrs(v, error);
    if (!msrs)
        return false;
    state_out_u32(o, msrs->nmsrs);
    for (uint32_t i = 0; i < msrs->nmsrs; i++) {
        state_out_u32(o, msrs->entries[i].index);
        state_out_u64(o, msrs->entries[i].data);
    }
    return true;
}

/* Everything but the MSRs, in the order of the section. */
struct cpu_regs {
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    void *xsave;
    size_t xsave_len;
    struct kvm_xcrs xcrs;
    struct kvm_lapic_state lapic;
    struct kvm_vcpu_events events;
    struct kvm_mp_state mp;
    struct kvm_debugregs dbg;
};

static void cpu_regs_init(struct cpu_regs *c, struct vcpu *v)
{
    memset(c, 0, sizeof(*c));
    c->xsave_len = xsave_size(v);
    c->xsave = g_malloc0(c->xsave_len);
}

static void cpu_regs_clear(struct cpu_regs *c)
{
    g_free(c->xsave);
}

typedef struct cpu_regs cpu_regs;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(cpu_regs, cpu_regs_clear)

static bool vcpu_save(void *opaque, struct state_out *o, GError **error)
{
    struct vcpu *v = opaque;
    g_auto(cpu_regs) c;
    cpu_regs_init(&c, v);
    if (!vcpu_io(v, KVM_GET_REGS, &c.regs, "KVM_GET_REGS", error) ||
        !vcpu_io(v, KVM_GET_SREGS, &c.sregs, "KVM_GET_SREGS", error) ||
        !vcpu_io(v, c.xsave_len > sizeof(struct kvm_xsave) ? KVM_GET_XSAVE2 : KVM_GET_XSAVE,
                 c.xsave, "KVM_GET_XSAVE", error) ||
        !vcpu_io(v, KVM_GET_XCRS, &c.xcrs, "KVM_GET_XCRS", error) ||
        !vcpu_io(v, KVM_GET_LAPIC, &c.lapic, "KVM_GET_LAPIC", error) ||
        !vcpu_io(v, KVM_GET_VCPU_EVENTS, &c.events, "KVM_GET_VCPU_EVENTS", error) ||
        !vcpu_io(v, KVM_GET_MP_STATE, &c.mp, "KVM_GET_MP_STATE", error) ||
        !vcpu_io(v, KVM_GET_DEBUGREGS, &c.dbg, "KVM_GET_DEBUGREGS", error))
        return false;
    put_blob(o, &c.regs, sizeof(c.regs));
    put_blob(o, &c.sregs, sizeof(c.sregs));
    put_blob(o, c.xsave, c.xsave_len);
    put_blob(o, &c.xcrs, sizeof(c.xcrs));
    put_blob(o, &c.lapic, sizeof(c.lapic));
    put_blob(o, &c.events, sizeof(c.events));
    put_blob(o, &c.mp, sizeof(c.mp));
    put_blob(o, &c.dbg, sizeof(c.dbg));
    return save_msrs(v, o, error);
}

static struct kvm_msrs *read_msrs(struct state_in *in, GError **error)
{
    uint32_t n = state_in_u32(in);
    if (n > MAX_MSRS) {
        state_in_invalid(in, error, _("%u MSRs"), n);
        return NULL;
    }
    struct kvm_msrs *msrs = g_malloc0(sizeof(*msrs) + n * sizeof(msrs->entries[0]));
    msrs->nmsrs = n;
    for (uint32_t i = 0; i < n; i++) {
        msrs->entries[i].index = state_in_u32(in);
        msrs->entries[i].data = state_in_u64(in);
    }
    if (in->short_read) {
        state_in_invalid(in, error, _("the MSR list is truncated"));
        g_free(msrs);
        return NULL;
    }
    return msrs;
}

/* Set the MSRs in one call; where KVM stops at one it refuses, that MSR
 * may stay only if it already holds the saved value. */
static bool set_msrs(struct vcpu *v, const struct kvm_msrs *msrs, GError **error)
{
    uint32_t n = msrs->nmsrs;
    uint32_t done = 0;
    g_autofree struct kvm_msrs *rest = g_malloc0(sizeof(*rest) + n * sizeof(rest->entries[0]));
    while (done < n) {
        rest->nmsrs = n - done;
        memcpy(rest->entries, msrs->entries + done, rest->nmsrs * sizeof(rest->entries[0]));
        int r = ioctl(vcpu_fd(v), KVM_SET_MSRS, rest);
        if (r < 0)
            return vcpu_io(v, KVM_SET_MSRS, rest, "KVM_SET_MSRS", error);
        done += (uint32_t)r;
        if (done == n)
            break;
        const struct kvm_msr_entry *e = &msrs->entries[done];
        rest->nmsrs = 1;
        rest->entries[0] = (struct kvm_msr_entry){ .index = e->index };
        if (ioctl(vcpu_fd(v), KVM_GET_MSRS, rest) != 1 || rest->entries[0].data != e->data) {
            g_set_error(error, STATE_ERROR, STATE_ERROR_FORMAT,
                        _("vCPU %u: KVM refused the saved value 0x%llx of MSR 0x%x"),
                        vcpu_index(v), (unsigned long long)e->data, e->index);
            return false;
        }
        done++;
    }
    return true;
}

/* KVM drops a TSC deadline written while the LAPIC timer is not in
 * TSC-deadline mode, which only the LAPIC state sets: write it again
 * after that. */
static bool set_tsc_deadline(struct vcpu *v, const struct kvm_msrs *msrs, GError **error)
{
    for (uint32_t i = 0; i < msrs->nmsrs; i++) {
        if (msrs->entries[i].index != MSR_IA32_TSC_DEADLINE)
            continue;
        g_autofree struct kvm_msrs *one = g_malloc0(sizeof(*one) + sizeof(one->entries[0]));
        one->nmsrs = 1;
        one->entries[0] = msrs->entries[i];
        return set_msrs(v, one, error);
    }
    return true;
}

static bool events_valid(struct state_in *in, struct kvm_vcpu_events *ev, GError **error)
{
    if (ev->exception.injected && ev->exception.nr >= 32)
        return state_in_invalid(in, error, _("pending exception %u"), ev->exception.nr);
    /* What the saving KVM filled in, plus the fields that are always
     * meaningful. */
    ev->flags &= KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM |
                 KVM_VCPUEVENT_VALID_PAYLOAD | KVM_VCPUEVENT_VALID_TRIPLE_FAULT;
    ev->flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
    return true;
}

static bool mp_state_valid(struct state_in *in, const struct kvm_mp_state *mp, GError **error)
{
    switch (mp->mp_state) {
    case KVM_MP_STATE_RUNNABLE:
    case KVM_MP_STATE_UNINITIALIZED:
    case KVM_MP_STATE_INIT_RECEIVED:
    case KVM_MP_STATE_HALTED:
    case KVM_MP_STATE_SIPI_RECEIVED:
        return true;
    default:
        return state_in_invalid(in, error, _("multiprocessing state %u"), mp->mp_state);
    }
}

static bool vcpu_load(void *opaque, struct state_in *in, uint32_t version, GError **error)
{
    struct vcpu *v = opaque;
    g_auto(cpu_regs) c;
    cpu_regs_init(&c, v);
    if (!get_blob(in, &c.regs, sizeof(c.regs), "regs", error) ||
        !get_blob(in, &c.sregs, sizeof(c.sregs), "sregs", error) ||
        !get_blob(in, c.xsave, c.xsave_len, "xsave", error) ||
        !get_blob(in, &c.xcrs, sizeof(c.xcrs), "xcrs", error) ||
        !get_blob(in, &c.lapic, sizeof(c.lapic), "lapic", error) ||
        !get_blob(in, &c.events, sizeof(c.events), "events", error) ||
        !get_blob(in, &c.mp, sizeof(c.mp), "mp_state", error) ||
        !get_blob(in, &c.dbg, sizeof(c.dbg), "debugregs", error))
        return false;
    g_autofree struct kvm_msrs *msrs = read_msrs(in, error);
    if (!msrs)
        return false;
    if (c.xcrs.nr_xcrs > KVM_MAX_XCRS)
        return state_in_invalid(in, error, _("%u XCRs"), c.xcrs.nr_xcrs);
    if (!events_valid(in, &c.events, error) || !mp_state_valid(in, &c.mp, error))
        return false;
    c.dbg.flags = 0;
    /* Control registers and EFER before the MSRs that depend on them, the
     * APIC after its base MSR, events last. */
    return vcpu_io(v, KVM_SET_SREGS, &c.sregs, "KVM_SET_SREGS", error) &&
           vcpu_io(v, KVM_SET_REGS, &c.regs, "KVM_SET_REGS", error) &&
           vcpu_io(v, KVM_SET_XCRS, &c.xcrs, "KVM_SET_XCRS", error) &&
           vcpu_io(v, KVM_SET_XSAVE, c.xsave, "KVM_SET_XSAVE", error) &&
           set_msrs(v, msrs, error) &&
           vcpu_io(v, KVM_SET_LAPIC, &c.lapic, "KVM_SET_LAPIC", error) &&
           set_tsc_deadline(v, msrs, error) &&
           vcpu_io(v, KVM_SET_MP_STATE, &c.mp, "KVM_SET_MP_STATE", error) &&
           vcpu_io(v, KVM_SET_VCPU_EVENTS, &c.events, "KVM_SET_VCPU_EVENTS", error) &&
           vcpu_io(v, KVM_SET_DEBUGREGS, &c.dbg, "KVM_SET_DEBUGREGS", error);
}

static const struct vm_state_ops vcpu_state_ops = {
    .version = VCPU_STATE_VERSION,
    .stage = VM_STATE_STAGE_CPU,
    .save = vcpu_save,
    .load = vcpu_load,
};

void vcpu_state_register(struct vm *vm, struct vcpu *vcpu)
{
    char name[16];
    g_snprintf(name, sizeof(name), "cpu%u", vcpu_index(vcpu));
    vm_state_register(vm, name, &vcpu_state_ops, vcpu);
}
