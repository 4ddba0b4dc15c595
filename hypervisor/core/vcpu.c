#include "vcpu.h"
#include "cpuid.h"
#include "hyperv.h"
#include "msr.h"
#include "vm_core.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

/* LAPIC register offsets and LVT delivery modes. */
#define APIC_LVT0        0x350
#define APIC_LVT1        0x360
#define APIC_MODE_NMI    (4u << 8)
#define APIC_MODE_EXTINT (7u << 8)
#define APIC_LVT_MASKED  (1u << 16)
#define APIC_LVT_MODE_MASK (7u << 8)

#define VCPU_KICK_SIGNAL SIGUSR1

#define MSR_IA32_SMBASE       0x9e
#define SMBASE_POWER_ON       0x30000

/* The vCPU whose thread this is, for questions about the access being
 * handled. */
static __thread struct vcpu *current_vcpu;

struct vcpu {
    struct vm *vm;
    unsigned index;
    int fd;
    struct kvm_run *run;
    size_t run_size;

    pthread_t thread;
    bool thread_started;
    GMutex tid_lock;
    GCond tid_cond;
    pid_t tid;

    /* Set after a fatal exit: the vCPU idles until a reset or the end. */
    gint stalled;

    /* An SMI to inject before the next KVM_RUN. */
    gint smi_pending;
    /* The current exit happened in SMM (kvm_run->flags). */
    bool in_smm;

    /* Power-on state, restored by vcpu_reset(). */
    struct kvm_regs regs0;
    struct kvm_sregs sregs0;
    struct kvm_fpu fpu0;
    struct kvm_lapic_state lapic0;
    struct kvm_mp_state mp0;
};

static void kick_handler(int sig)
{
    (void)sig; /* only there to interrupt KVM_RUN with EINTR */
}

static gpointer install_kick_handler(gpointer unused)
{
    struct sigaction sa = { .sa_handler = kick_handler };
    sigemptyset(&sa.sa_mask);
    sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
    return NULL;
}

static bool vcpu_ioctl(struct vcpu *v, unsigned long req, void *arg, const char *what, GError **error)
{
    if (ioctl(v->fd, req, arg) < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    _("vCPU %u: %s failed: %s"), v->index, what, g_strerror(errno));
        return false;
    }
    return true;
}

int vcpu_fd(struct vcpu *v) { return v->fd; }
struct vm *vcpu_vm(struct vcpu *v) { return v->vm; }
unsigned vcpu_index(struct vcpu *v) { return v->index; }

pid_t vcpu_thread_id(struct vcpu *v)
{
    g_mutex_lock(&v->tid_lock);
    pid_t t = v->tid;
    g_mutex_unlock(&v->tid_lock);
    return t;
}

bool vcpu_get_sregs(struct vcpu *v, struct kvm_sregs *s, GError **error)
{
    return vcpu_ioctl(v, KVM_GET_SREGS, s, "KVM_GET_SREGS", error);
}

bool vcpu_set_sregs(struct vcpu *v, const struct kvm_sregs *s, GError **error)
{
    return vcpu_ioctl(v, KVM_SET_SREGS, (void *)s, "KVM_SET_SREGS", error);
}

bool vcpu_set_regs(struct vcpu *v, const struct kvm_regs *r, GError **error)
{
    return vcpu_ioctl(v, KVM_SET_REGS, (void *)r, "KVM_SET_REGS", error);
}

static uint32_t lapic_get(const struct kvm_lapic_state *s, unsigned reg)
{
    uint32_t v;
    memcpy(&v, s->regs + reg, 4);
    return v;
}

static void lapic_set(struct kvm_lapic_state *s, unsigned reg, uint32_t v)
{
    memcpy(s->regs + reg, &v, 4);
}

/* LINT0 takes the PIC's ExtINT, LINT1 the NMI line, as on every PC. */
static bool setup_lapic(struct vcpu *v, GError **error)
{
    struct kvm_lapic_state s;
    if (!vcpu_ioctl(v, KVM_GET_LAPIC, &s, "KVM_GET_LAPIC", error))
        return false;
    lapic_set(&s, APIC_LVT0, (lapic_get(&s, APIC_LVT0) & ~(APIC_LVT_MODE_MASK | APIC_LVT_MASKED)) |
                             APIC_MODE_EXTINT);
    lapic_set(&s, APIC_LVT1, (lapic_get(&s, APIC_LVT1) & ~(APIC_LVT_MODE_MASK | APIC_LVT_MASKED)) |
                             APIC_MODE_NMI);
    return vcpu_ioctl(v, KVM_SET_LAPIC, &s, "KVM_SET_LAPIC", error);
}

static bool setup_cpuid(struct vcpu *v, GError **error)
{
    g_autofree struct kvm_cpuid2 *base = cpuid_supported(vm_kvm_fd(v->vm), error);
    if (!base)
        return false;
    g_autofree struct kvm_cpuid2 *cpuid = cpuid_for_vcpu(base, v->index, vm_cpu_count(v->vm));
    if (!hyperv_setup_vcpu(v->fd, vm_kvm_fd(v->vm), &cpuid, vm_cpu_config(v->vm), error) ||
        !vcpu_ioctl(v, KVM_SET_CPUID2, cpuid, "KVM_SET_CPUID2", error))
        return false;
    /* KVM derives CPUID 0xD's EBX (XSAVE size for the current XCR0) from
     * XCR0 when CPUID is set, but refreshes it on XSETBV only when bits
     * beyond x87/SSE/AVX change.  A guest enabling AVX alone would read the
     * size of x87+SSE and find it inconsistent with the component sizes.
     * Start with every supported component enabled (the guest kernel enables
     * them all anyway), then set CPUID again so that EBX matches. */
    uint64_t xcr0 = cpuid_xcr0_supported(cpuid);
    if (xcr0 <= 1)
        return true;
    struct kvm_xcrs xcrs = { .nr_xcrs = 1, .xcrs = { { .xcr = 0, .value = xcr0 } } };
    return vcpu_ioctl(v, KVM_SET_XCRS, &xcrs, "KVM_SET_XCRS", error) &&
           vcpu_ioctl(v, KVM_SET_CPUID2, cpuid, "KVM_SET_CPUID2", error);
}

struct vcpu *vcpu_create(struct vm *vm, unsigned index, GError **error)
{
    static GOnce once = G_ONCE_INIT;
    g_once(&once, install_kick_handler, NULL);

    struct vcpu *v = g_new0(struct vcpu, 1);
    v->vm = vm;
    v->index = index;
    v->run = MAP_FAILED;
    g_mutex_init(&v->tid_lock);
    g_cond_init(&v->tid_cond);

    v->fd = ioctl(vm_fd(vm), KVM_CREATE_VCPU, (unsigned long)index);
    if (v->fd < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    _("Cannot create vCPU %u: %s"), index, g_strerror(errno));
        goto fail;
    }
    int sz = ioctl(vm_kvm_fd(vm), KVM_GET_VCPU_MMAP_SIZE, 0);
    if (sz < (int)sizeof(struct kvm_run)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Bad KVM_GET_VCPU_MMAP_SIZE %d"), sz);
        goto fail;
    }
    v->run_size = (size_t)sz;
    v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
    if (v->run == MAP_FAILED) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    _("Cannot map vCPU %u's run area: %s"), index, g_strerror(errno));
        goto fail;
    }

    if (!setup_cpuid(v, error))
        goto fail;
    if (!msr_init_vcpu(v->fd, error) || !setup_lapic(v, error))
        goto fail;

    if (!vcpu_ioctl(v, KVM_GET_REGS, &v->regs0, "KVM_GET_REGS", error) ||
        !vcpu_ioctl(v, KVM_GET_SREGS, &v->sregs0, "KVM_GET_SREGS", error) ||
        !vcpu_ioctl(v, KVM_GET_FPU, &v->fpu0, "KVM_GET_FPU", error) ||
        !vcpu_ioctl(v, KVM_GET_LAPIC, &v->lapic0, "KVM_GET_LAPIC", error))
        goto fail;
    /* The BSP runs from power-on; the others wait for INIT/SIPI, which the
     * in-kernel LAPIC handles. */
    v->mp0.mp_state = index == 0 ? KVM_MP_STATE_RUNNABLE : KVM_MP_STATE_UNINITIALIZED;
    if (!vcpu_ioctl(v, KVM_SET_MP_STATE, &v->mp0, "KVM_SET_MP_STATE", error))
        goto fail;
    return v;

fail:
    vcpu_destroy(v);
    return NULL;
}

/* A reset leaves SMM and puts SMBASE back, which KVM does only for a
 * vCPU it creates. */
static bool reset_smm(struct vcpu *v, struct kvm_vcpu_events *ev, GError **error)
{
    g_atomic_int_set(&v->smi_pending, 0);
    if (!vm_smm_address_space_enabled(v->vm))
        return true;
    ev->flags |= KVM_VCPUEVENT_VALID_SMM;
    g_autofree struct kvm_msrs *m = g_malloc0(sizeof(*m) + sizeof(m->entries[0]));
    m->nmsrs = 1;
    m->entries[0] = (struct kvm_msr_entry){ .index = MSR_IA32_SMBASE, .data = SMBASE_POWER_ON };
    if (ioctl(v->fd, KVM_SET_MSRS, m) != 1) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    _("vCPU %u: KVM refused to reset SMBASE"), v->index);
        return false;
    }
    return true;
}

bool vcpu_reset(struct vcpu *v, GError **error)
{
    g_atomic_int_set(&v->stalled, 0);
    struct kvm_vcpu_events ev = { 0 };
    return reset_smm(v, &ev, error) &&
           vcpu_ioctl(v, KVM_SET_SREGS, &v->sregs0, "KVM_SET_SREGS", error) &&
           vcpu_ioctl(v, KVM_SET_REGS, &v->regs0, "KVM_SET_REGS", error) &&
           vcpu_ioctl(v, KVM_SET_FPU, &v->fpu0, "KVM_SET_FPU", error) &&
           vcpu_ioctl(v, KVM_SET_VCPU_EVENTS, &ev, "KVM_SET_VCPU_EVENTS", error) &&
           msr_init_vcpu(v->fd, error) &&
           vcpu_ioctl(v, KVM_SET_LAPIC, &v->lapic0, "KVM_SET_LAPIC", error) &&
           vcpu_ioctl(v, KVM_SET_MP_STATE, &v->mp0, "KVM_SET_MP_STATE", error);
}

static void handle_io(struct vcpu *v)
{
    struct kvm_run *run = v->run;
    struct iobus *bus = vm_pio_bus(v->vm);
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    unsigned size = run->io.size;
    /* data_offset and count come from KVM; still never step outside the
     * shared page. */
    if (run->io.data_offset >= v->run_size ||
        (uint64_t)size * run->io.count > v->run_size - run->io.data_offset)
        return;
    for (uint32_t i = 0; i < run->io.count; i++, data += size) {
        if (run->io.direction == KVM_EXIT_IO_OUT)
            iobus_write(bus, run->io.port, data, size);
        else
            iobus_read(bus, run->io.port, data, size);
    }
}

static void handle_mmio(struct vcpu *v)
{
    struct kvm_run *run = v->run;
    unsigned len = run->mmio.len;
    if (len > sizeof(run->mmio.data))
        return;
    if (run->mmio.is_write)
        iobus_write(vm_mmio_bus(v->vm), run->mmio.phys_addr, run->mmio.data, len);
    else
        iobus_read(vm_mmio_bus(v->vm), run->mmio.phys_addr, run->mmio.data, len);
}

static void stall(struct vcpu *v)
{
    g_atomic_int_set(&v->stalled, 1);
}

static void handle_exit(struct vcpu *v)
{
    struct kvm_run *run = v->run;
    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        handle_io(v);
        break;
    case KVM_EXIT_MMIO:
        handle_mmio(v);
        break;
    case KVM_EXIT_INTR:
        break;
    case KVM_EXIT_HLT:
        /* Only without an in-kernel LAPIC; nothing to wait for here. */
        break;
    case KVM_EXIT_SHUTDOWN:
        /* Triple fault: a PC resets. */
        stall(v);
        vm_request_reset(v->vm);
        break;
    case KVM_EXIT_SYSTEM_EVENT:
        stall(v);
        switch (run->system_event.type) {
        case KVM_SYSTEM_EVENT_SHUTDOWN:
            vm_request_shutdown(v->vm, VM_SHUTDOWN_GUEST_POWEROFF);
            break;
        case KVM_SYSTEM_EVENT_RESET:
            vm_request_reset(v->vm);
            break;
        case KVM_SYSTEM_EVENT_CRASH:
            vm_report_panic(v->vm);
            break;
        default:
            g_atomic_int_set(&v->stalled, 0);
            break;
        }
        break;
    case KVM_EXIT_FAIL_ENTRY:
        g_printerr(_("oriel-vmm: vCPU %u: entry failed, hardware reason 0x%llx\n"), v->index,
                   (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
        stall(v);
        vm_request_shutdown(v->vm, VM_SHUTDOWN_ERROR);
        break;
    case KVM_EXIT_INTERNAL_ERROR: {
        /* Where the guest was, for whoever reads the log: the instruction
         * KVM could not emulate and the words KVM adds to describe it. */
        struct kvm_regs regs;
        uint64_t rip = ioctl(v->fd, KVM_GET_REGS, &regs) == 0 ? regs.rip : 0;
        g_autoptr(GString) data = g_string_new(NULL);
        for (unsigned i = 0; i < MIN(run->internal.ndata, G_N_ELEMENTS(run->internal.data)); i++)
            g_string_append_printf(data, " 0x%" G_GINT64_MODIFIER "x", (uint64_t)run->internal.data[i]);
        struct kvm_sregs sregs;
        if (ioctl(v->fd, KVM_GET_SREGS, &sregs) == 0)
            g_string_append_printf(data, "; CS %04x base 0x%" G_GINT64_MODIFIER "x CR0 0x%"
                                   G_GINT64_MODIFIER "x EFER 0x%" G_GINT64_MODIFIER "x",
                                   sregs.cs.selector, (uint64_t)sregs.cs.base,
                                   (uint64_t)sregs.cr0, (uint64_t)sregs.efer);
        g_printerr(_("oriel-vmm: vCPU %u: KVM internal error, suberror %u at RIP 0x%" PRIx64
                     "%s; data:%s\n"), v->index, run->internal.suberror, rip,
                   (run->flags & KVM_RUN_X86_SMM) ? _(" (in SMM)") : "", data->str);
        stall(v);
        vm_request_shutdown(v->vm, VM_SHUTDOWN_ERROR);
        break;
    }
    default:
        g_printerr(_("oriel-vmm: vCPU %u: unexpected exit reason %u\n"), v->index,
                   run->exit_reason);
        stall(v);
        vm_request_shutdown(v->vm, VM_SHUTDOWN_ERROR);
        break;
    }
}

static void *vcpu_thread(void *opaque)
{
    struct vcpu *v = opaque;
    char name[16];
    g_snprintf(name, sizeof(name), "vcpu%u", v->index);
    pthread_setname_np(pthread_self(), name);

    /* Host signals are the main loop's business. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    current_vcpu = v;
    g_mutex_lock(&v->tid_lock);
    v->tid = gettid();
    g_cond_broadcast(&v->tid_cond);
    g_mutex_unlock(&v->tid_lock);

    while (vm_vcpu_checkpoint(v->vm)) {
        if (g_atomic_int_get(&v->stalled)) {
            /* Waiting for the main loop to reset or end the VM. */
            g_usleep(1000);
            continue;
        }
        if (g_atomic_int_exchange(&v->smi_pending, 0) && ioctl(v->fd, KVM_SMI, 0) < 0)
            g_warning("vCPU %u: KVM_SMI: %s", v->index, g_strerror(errno));
        int r = ioctl(v->fd, KVM_RUN, 0);
        v->in_smm = (v->run->flags & KVM_RUN_X86_SMM) != 0;
        if (r < 0) {
            int e = errno;
            if (e == EINTR || e == EAGAIN) {
                __atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
                continue;
            }
            g_printerr(_("oriel-vmm: vCPU %u: KVM_RUN failed: %s\n"), v->index, g_strerror(e));
            stall(v);
            vm_request_shutdown(v->vm, VM_SHUTDOWN_ERROR);
            continue;
        }
        handle_exit(v);
    }
    return NULL;
}

bool vcpu_start(struct vcpu *v, GError **error)
{
    int e = pthread_create(&v->thread, NULL, vcpu_thread, v);
    if (e != 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                    _("Cannot start the thread of vCPU %u: %s"), v->index, g_strerror(e));
        return false;
    }
    v->thread_started = true;
    g_mutex_lock(&v->tid_lock);
    while (v->tid == 0)
        g_cond_wait(&v->tid_cond, &v->tid_lock);
    g_mutex_unlock(&v->tid_lock);
    return true;
}

void vcpu_kick(struct vcpu *v)
{
    if (!v->thread_started)
        return;
    /* immediate_exit covers a kick that lands just before KVM_RUN; the
     * signal covers one that lands inside it. */
    __atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

void vcpu_request_smi(struct vcpu *v)
{
    if (!v)
        return;
    g_atomic_int_set(&v->smi_pending, 1);
    /* Another vCPU may sit in KVM_RUN (or halted in it): make it come out
     * and take the SMI.  This vCPU takes it before its next entry. */
    if (v != current_vcpu)
        vcpu_kick(v);
}

struct vcpu *vcpu_current(void)
{
    return current_vcpu;
}

bool vcpu_current_in_smm(void)
{
    return current_vcpu && current_vcpu->in_smm;
}

void vcpu_stop(struct vcpu *v)
{
    if (!v->thread_started)
        return;
    vcpu_kick(v);
    pthread_join(v->thread, NULL);
    v->thread_started = false;
}

void vcpu_destroy(struct vcpu *v)
{
    if (!v)
        return;
    vcpu_stop(v);
    if (v->run != MAP_FAILED)
        munmap(v->run, v->run_size);
    if (v->fd >= 0)
        close(v->fd);
    g_mutex_clear(&v->tid_lock);
    g_cond_clear(&v->tid_cond);
    g_free(v);
}
