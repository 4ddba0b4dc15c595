#include "q35_host.h"

#include <string.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

#include "config/pc_layout.h"
#include "core/vm.h"
#include "core/state_stream.h"
#include "pci.h"

#define MIB (1024ULL * 1024ULL)

/* PCIEXBAR: bits 2:1 choose the window length, which decides how many
 * low address bits of the base are ignored. */
#define PCIEXBAR_LENGTH_SHIFT 1
#define PCIEXBAR_LENGTH_MASK  0x6u

/* SMRAM bits firmware may write before D_LCK, and after it (D_CLS only). */
#define SMRAM_WMASK     (Q35_SMRAM_D_OPEN | Q35_SMRAM_D_CLS | Q35_SMRAM_D_LCK | Q35_SMRAM_G_SMRAME)
#define SMRAM_WMASK_LCK Q35_SMRAM_D_CLS
#define ESMRAMC_WMASK   (Q35_ESMRAMC_H_SMRAME | Q35_ESMRAMC_TSEG_SZ | Q35_ESMRAMC_T_EN)
#define TSEGMB_WMASK    0xfff00001u    /* TSEGMB: base in MiB, lock bit */

#define PMBASE_MASK     0xff80u     /* 128 ports */
#define RCBA_WMASK      0xffffc001u
#define RCBA_SIZE       0x4000u

#define RCR_SYS_RST  0x02
#define RCR_RST_CPU  0x04
#define RCR_FULL_RST 0x08

struct q35_host {
    struct vm *vm;
    struct pci_bus *bus;
    struct pci_device mch;
    struct pci_device lpc;
    const struct q35_host_ops *ops;
    void *opaque;
    uint8_t rcr;
    /* Where the ECAM window is registered (bus lock held to change). */
    bool ecam_mapped;
    uint64_t ecam_base, ecam_size;
    /* The root complex register block, while RCBA enables it. */
    bool rcba_mapped;
    uint64_t rcba_base;
};

/* ---- the ECAM window ------------------------------------------------------ */

/* Bus 0 only; the other buses of the window have no functions. */
static bool ecam_decode(uint64_t offset, unsigned *slot, unsigned *func, unsigned *reg)
{
    if (offset >> 20)
        return false;
    *slot = (unsigned)(offset >> 15) & 0x1f;
    *func = (unsigned)(offset >> 12) & 0x7;
    *reg = (unsigned)offset & 0xfff;
    return true;
}

static uint64_t ecam_read(void *opaque, uint64_t offset, unsigned size)
{
    struct q35_host *h = opaque;
    unsigned slot, func, reg;
    if (size == 8)
        return ecam_read(h, offset, 4) | (uint64_t)ecam_read(h, offset + 4, 4) << 32;
    if (!ecam_decode(offset, &slot, &func, &reg))
        return ~0ull;
    return pci_config_read_ext(h->bus, slot, func, reg, size);
}

static void ecam_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct q35_host *h = opaque;
    unsigned slot, func, reg;
    if (size == 8) {
        ecam_write(h, offset, (uint32_t)value, 4);
        ecam_write(h, offset + 4, value >> 32, 4);
        return;
    }
    if (ecam_decode(offset, &slot, &func, &reg))
        pci_config_write_ext(h->bus, slot, func, reg, (uint32_t)value, size);
}

static const struct io_ops ecam_ops = { .read = ecam_read, .write = ecam_write };

static void ecam_unmap(struct q35_host *h)
{
    if (h->ecam_mapped)
        iobus_unregister(vm_mmio_bus(h->vm), h->ecam_base, h);
    h->ecam_mapped = false;
}

/* Make the window follow PCIEXBAR (bus lock held, or before the guest runs). */
static void ecam_update(struct q35_host *h)
{
    uint64_t bar = (uint64_t)pci_get_long(&h->mch.config[Q35_MCH_PCIEXBAR]) |
                   (uint64_t)pci_get_long(&h->mch.config[Q35_MCH_PCIEXBAR + 4]) << 32;
    unsigned length = (unsigned)(bar & PCIEXBAR_LENGTH_MASK) >> PCIEXBAR_LENGTH_SHIFT;
    bool enable = (bar & Q35_MCH_PCIEXBAR_EN) && length != 3;  /* 3 is reserved */
    uint64_t size = (256 * MIB) >> length;
    uint64_t base = bar & ~(size - 1) & ((1ULL << 36) - 1);
    if (h->ecam_mapped && enable && h->ecam_base == base && h->ecam_size == size)
        return;
    ecam_unmap(h);
    if (!enable)
        return;
    /* A window over another device's registers (a guest's mistake) does
     * not decode; RAM at the address takes precedence in KVM anyway. */
    if (!iobus_register(vm_mmio_bus(h->vm), base, size, &ecam_ops, h, "pcie-ecam")) {
        g_debug("q35: ECAM window at 0x%" G_GINT64_MODIFIER "x overlaps, not decoding", base);
        return;
    }
    h->ecam_mapped = true;
    h->ecam_base = base;
    h->ecam_size = size;
}

bool q35_host_ecam(struct q35_host *h, uint64_t *base, uint64_t *size)
{
    *base = h->ecam_base;
    *size = h->ecam_size;
    return h->ecam_mapped;
}

/* ---- MCH -------------------------------------------------------------------- */

static void notify_pam(struct q35_host *h)
{
    if (h->ops->pam_changed)
        h->ops->pam_changed(h->opaque, &h->mch.config[Q35_MCH_PAM0]);
}

/* D_LCK closes D_OPEN and freezes the SMRAM layout until reset. */
static void smram_update_lock(struct q35_host *h)
{
    struct pci_device *d = &h->mch;
    if (d->config[Q35_MCH_SMRAM] & Q35_SMRAM_D_LCK) {
        d->config[Q35_MCH_SMRAM] &= (uint8_t)~Q35_SMRAM_D_OPEN;
        d->wmask[Q35_MCH_SMRAM] = SMRAM_WMASK_LCK;
        d->wmask[Q35_MCH_ESMRAMC] = 0;
        pci_set_long(&d->wmask[Q35_MCH_TSEGMB], 0);
    } else {
        d->wmask[Q35_MCH_SMRAM] = SMRAM_WMASK;
        d->wmask[Q35_MCH_ESMRAMC] = ESMRAMC_WMASK;
        pci_set_long(&d->wmask[Q35_MCH_TSEGMB], TSEGMB_WMASK);
    }
}

static void notify_smram(struct q35_host *h)
{
    if (h->ops->smram_changed)
        h->ops->smram_changed(h->opaque);
}

static bool overlaps(unsigned offset, unsigned size, unsigned reg, unsigned len)
{
    return offset < reg + len && offset + size > reg;
}

static void mch_config_written(struct pci_device *d, unsigned offset, unsigned size)
{
    struct q35_host *h = d->opaque;
    if (overlaps(offset, size, Q35_MCH_PCIEXBAR, 8))
        ecam_update(h);
    if (overlaps(offset, size, Q35_MCH_PAM0, Q35_MCH_PAM6 - Q35_MCH_PAM0 + 1))
        notify_pam(h);
    if (overlaps(offset, size, Q35_MCH_SMRAM, 2)) {
        smram_update_lock(h);
        notify_smram(h);
    }
    /* Writing the query value asks for the extended TSEG size (QEMU's
     * protocol, which OVMF uses to size TSEG beyond 8 MiB). */
    if (overlaps(offset, size, Q35_MCH_EXT_TSEG_MB, 2) &&
        pci_get_word(&d->config[Q35_MCH_EXT_TSEG_MB]) == Q35_MCH_EXT_TSEG_QUERY)
        pci_set_word(&d->config[Q35_MCH_EXT_TSEG_MB], Q35_MCH_EXT_TSEG_MBYTES);
    if (overlaps(offset, size, Q35_MCH_EXT_TSEG_MB, 2))
        notify_smram(h);
}

void q35_host_smram(struct q35_host *h, struct q35_smram *out)
{
    uint8_t smram = h->mch.config[Q35_MCH_SMRAM];
    uint8_t esmramc = h->mch.config[Q35_MCH_ESMRAMC];
    static const uint64_t tseg_mb[3] = { 1, 2, 8 };
    unsigned sz = (esmramc & Q35_ESMRAMC_TSEG_SZ) >> 1;
    *out = (struct q35_smram){
        .smram_enabled = smram & Q35_SMRAM_G_SMRAME,
        .open = smram & Q35_SMRAM_D_OPEN,
        .closed = smram & Q35_SMRAM_D_CLS,
        .locked = smram & Q35_SMRAM_D_LCK,
        .tseg_enabled = (smram & Q35_SMRAM_G_SMRAME) && (esmramc & Q35_ESMRAMC_T_EN),
        .tseg_size = (sz < 3 ? tseg_mb[sz] : Q35_MCH_EXT_TSEG_MBYTES) * MIB,
    };
}

static void init_mch(struct pci_device *d, uint64_t below_4g, uint64_t above_4g)
{
    pci_device_init(d, "q35-mch", 0x8086, 0x29c0, 0x060000, 0x02, 0);
    pci_set_word(&d->config[PCI_COMMAND], PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    pci_set_word(&d->config[PCI_STATUS], 0x0080); /* fast back-to-back */
    pci_set_word(&d->wmask[Q35_MCH_EXT_TSEG_MB], 0xffff);
    /* TSEGMB is where OVMF records the TSEG base it computed, and where
     * its SMRAM accessors read it back: storage (the TSEG itself sits
     * below TOLUD, sized by ESMRAMC), frozen by D_LCK. */
    pci_set_long(&d->wmask[Q35_MCH_TSEGMB], TSEGMB_WMASK);
    pci_set_long(&d->wmask[Q35_MCH_PCIEXBAR], 0xfc000007u);
    pci_set_long(&d->wmask[Q35_MCH_PCIEXBAR + 4], 0x0000000fu);
    for (unsigned o = Q35_MCH_PAM0; o <= Q35_MCH_PAM6; o++)
        d->wmask[o] = 0x33;   /* read/write enable for each half */
    d->wmask[Q35_MCH_PAM0] = 0x30;
    d->config[Q35_MCH_SMRAM] = Q35_SMRAM_DEFAULT;
    d->config[Q35_MCH_ESMRAMC] = Q35_ESMRAMC_DEFAULT;
    d->w1cmask[Q35_MCH_ESMRAMC] = Q35_ESMRAMC_E_SMERR;
    d->wmask[Q35_MCH_SMRAM] = SMRAM_WMASK;
    d->wmask[Q35_MCH_ESMRAMC] = ESMRAMC_WMASK;
    /* Where RAM ends, in 1 MiB units: read-only for the guest. */
    uint64_t top = above_4g ? (1ULL << 32) + above_4g : below_4g;
    pci_set_word(&d->config[Q35_MCH_TOM], (uint16_t)(top >> 20));
    pci_set_long(&d->config[Q35_MCH_TOUUD], (uint32_t)top & 0xfff00000u);
    pci_set_long(&d->config[Q35_MCH_TOUUD + 4], (uint32_t)(top >> 32));
    pci_set_word(&d->config[Q35_MCH_TOLUD], (uint16_t)((below_4g >> 20) << 4));
}

/* A platform reset: the window off, the BIOS area from ROM, SMRAM
 * unlocked. */
static void mch_reset(struct q35_host *h)
{
    struct pci_device *d = &h->mch;
    memset(&d->config[Q35_MCH_PCIEXBAR], 0, 8);
    memset(&d->config[Q35_MCH_PAM0], 0, Q35_MCH_PAM6 - Q35_MCH_PAM0 + 1);
    pci_set_word(&d->config[Q35_MCH_EXT_TSEG_MB], 0);
    pci_set_long(&d->config[Q35_MCH_TSEGMB], 0);
    d->config[Q35_MCH_SMRAM] = Q35_SMRAM_DEFAULT;
    d->config[Q35_MCH_ESMRAMC] = Q35_ESMRAMC_DEFAULT;
    smram_update_lock(h);
    ecam_update(h);
    notify_pam(h);
    notify_smram(h);
}

static bool mch_save(struct pci_device *d, struct state_out *o, GError **error)
{
    return true;    /* all of it is configuration space */
}

static bool mch_load(struct pci_device *d, struct state_in *in, uint32_t version, GError **error)
{
    struct q35_host *h = d->opaque;
    smram_update_lock(h);
    ecam_update(h);
    notify_pam(h);
    notify_smram(h);
    return true;
}

static const struct pci_state_ops mch_state = { .version = 1, .save = mch_save, .load = mch_load };

/* ---- LPC -------------------------------------------------------------------- */

static void notify_pm_base(struct q35_host *h)
{
    const uint8_t *c = h->lpc.config;
    uint16_t base = pci_get_word(&c[Q35_LPC_PMBASE]) & PMBASE_MASK;
    bool enabled = (c[Q35_LPC_ACPI_CNTL] & Q35_LPC_ACPI_EN) && base != 0;
    if (h->ops->pm_base_changed)
        h->ops->pm_base_changed(h->opaque, base, enabled);
}

/* The chipset configuration registers behind RCBA (function disable,
 * HPET and GPIO configuration ...) are not modelled: while enabled the
 * block reads as zero and ignores writes, rather than as nothing there. */
static uint64_t rcba_read(void *opaque, uint64_t offset, unsigned size) { return 0; }
static void rcba_write(void *opaque, uint64_t offset, uint64_t value, unsigned size) { }
static const struct io_ops rcba_ops = { .read = rcba_read, .write = rcba_write };

static void rcba_update(struct q35_host *h)
{
    uint32_t rcba = pci_get_long(&h->lpc.config[Q35_LPC_RCBA]);
    bool enable = rcba & Q35_LPC_RCBA_EN;
    uint64_t base = rcba & ~(uint32_t)(RCBA_SIZE - 1);
    if (h->rcba_mapped && enable && base == h->rcba_base)
        return;
    if (h->rcba_mapped)
        iobus_unregister(vm_mmio_bus(h->vm), h->rcba_base, &h->rcba_mapped);
    h->rcba_mapped = false;
    if (!enable || base == 0)
        return;
    if (!iobus_register(vm_mmio_bus(h->vm), base, RCBA_SIZE, &rcba_ops, &h->rcba_mapped, "ich9-rcba")) {
        g_debug("q35: RCBA at 0x%" G_GINT64_MODIFIER "x overlaps, not decoding", base);
        return;
    }
    h->rcba_mapped = true;
    h->rcba_base = base;
}

/* SMI_LOCK is write-once: once set, the bit leaves the write mask until
 * reset, so the firmware's SMM setup cannot be undone from outside SMM. */
static void smi_lock_update(struct q35_host *h)
{
    bool locked = h->lpc.config[Q35_LPC_GEN_PMCON_1] & Q35_LPC_SMI_LOCK;
    if (locked)
        h->lpc.wmask[Q35_LPC_GEN_PMCON_1] &= (uint8_t)~Q35_LPC_SMI_LOCK;
    else
        h->lpc.wmask[Q35_LPC_GEN_PMCON_1] |= Q35_LPC_SMI_LOCK;
    if (h->ops->smi_lock_changed)
        h->ops->smi_lock_changed(h->opaque, locked);
}

static void lpc_config_written(struct pci_device *d, unsigned offset, unsigned size)
{
    if (overlaps(offset, size, Q35_LPC_GEN_PMCON_1, 1))
        smi_lock_update(d->opaque);
    if (overlaps(offset, size, Q35_LPC_PMBASE, 4) || overlaps(offset, size, Q35_LPC_ACPI_CNTL, 1))
        notify_pm_base(d->opaque);
    if (overlaps(offset, size, Q35_LPC_RCBA, 4))
        rcba_update(d->opaque);
}

static void init_lpc(struct pci_device *d)
{
    pci_device_init(d, "ich9-lpc", 0x8086, 0x2918, 0x060100, 0x02, 0);
    pci_set_word(&d->config[PCI_COMMAND], PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    pci_set_word(&d->config[PCI_STATUS], 0x0210);
    pci_device_set_subsystem(d, 0x1af4, 0x1100);
    /* Multi-function: SATA sits at 1F.2. */
    d->config[PCI_HEADER_TYPE] = 0x80;
    /* The other chipset registers (GEN_PMCON, decode ranges, GPIO base
     * ...) are plain storage for firmware. */
    for (unsigned o = 0x48; o < PCI_CONFIG_SIZE; o++)
        d->wmask[o] = 0xff;
    pci_set_long(&d->wmask[Q35_LPC_PMBASE], PMBASE_MASK);
    d->wmask[Q35_LPC_ACPI_CNTL] = Q35_LPC_ACPI_EN | 0x07;   /* ACPI_EN, SCI_IRQ_SEL */
    for (unsigned i = 0; i < 4; i++) {
        d->wmask[Q35_LPC_PIRQA_ROUT + i] = 0x8f;
        d->wmask[Q35_LPC_PIRQE_ROUT + i] = 0x8f;
    }
    pci_set_long(&d->wmask[Q35_LPC_RCBA], RCBA_WMASK);
}

static void lpc_reset(struct q35_host *h)
{
    uint8_t *c = h->lpc.config;
    pci_set_long(&c[Q35_LPC_PMBASE], 0x00000001);   /* I/O space indicator */
    c[Q35_LPC_ACPI_CNTL] = 0;
    for (unsigned i = 0; i < 4; i++) {
        c[Q35_LPC_PIRQA_ROUT + i] = Q35_LPC_PIRQ_DISABLE;
        c[Q35_LPC_PIRQE_ROUT + i] = Q35_LPC_PIRQ_DISABLE;
    }
    pci_set_long(&c[Q35_LPC_RCBA], 0);
    c[Q35_LPC_GEN_PMCON_1] = 0;
    notify_pm_base(h);
    rcba_update(h);
    smi_lock_update(h);
}

static uint8_t rcr_read(void *opaque)
{
    struct q35_host *h = opaque;
    return __atomic_load_n(&h->rcr, __ATOMIC_RELAXED);
}

static void rcr_write(void *opaque, uint8_t value)
{
    struct q35_host *h = opaque;
    __atomic_store_n(&h->rcr, value & (RCR_SYS_RST | RCR_FULL_RST), __ATOMIC_RELAXED);
    if (value & RCR_RST_CPU)
        vm_request_reset(h->vm);
}

static const struct pci_reset_control lpc_rcr = { .read = rcr_read, .write = rcr_write };

static bool lpc_save(struct pci_device *d, struct state_out *o, GError **error)
{
    state_out_u8(o, rcr_read(d->opaque));
    return true;
}

static bool lpc_load(struct pci_device *d, struct state_in *in, uint32_t version, GError **error)
{
    struct q35_host *h = d->opaque;
    uint8_t rcr = state_in_u8(in);
    if (in->short_read)
        return state_in_invalid(in, error, _("truncated"));
    __atomic_store_n(&h->rcr, rcr & (RCR_SYS_RST | RCR_FULL_RST), __ATOMIC_RELAXED);
    notify_pm_base(h);
    rcba_update(h);
    smi_lock_update(h);
    return true;
}

static const struct pci_state_ops lpc_state = { .version = 1, .save = lpc_save, .load = lpc_load };

/* ---- the chipset -------------------------------------------------------------- */

static void host_reset(void *opaque)
{
    struct q35_host *h = opaque;
    /* vCPUs are stopped during a platform reset: no guest access races. */
    mch_reset(h);
    lpc_reset(h);
}

void q35_host_firmware_setup(struct q35_host *h)
{
    pci_config_write(h->bus, Q35_MCH_SLOT, 0, Q35_MCH_PCIEXBAR + 4,
                     (uint32_t)(PC_Q35_ECAM_BASE >> 32), 4);
    pci_config_write(h->bus, Q35_MCH_SLOT, 0, Q35_MCH_PCIEXBAR,
                     (uint32_t)PC_Q35_ECAM_BASE | Q35_MCH_PCIEXBAR_EN, 4);
    pci_config_write(h->bus, Q35_LPC_SLOT, 0, Q35_LPC_PMBASE, PC_ACPI_PM_BASE, 4);
    pci_config_write(h->bus, Q35_LPC_SLOT, 0, Q35_LPC_ACPI_CNTL, Q35_LPC_ACPI_EN, 1);
    /* PIRQA-H to IRQs 10, 10, 11, 11 as SeaBIOS does: in APIC mode they
     * reach GSI 16-23 whatever these say; the values are for PIC-mode
     * code that reads them. */
    static const uint8_t irqs[4] = { 10, 10, 11, 11 };
    for (unsigned i = 0; i < 4; i++) {
        pci_config_write(h->bus, Q35_LPC_SLOT, 0, Q35_LPC_PIRQA_ROUT + i, irqs[i], 1);
        pci_config_write(h->bus, Q35_LPC_SLOT, 0, Q35_LPC_PIRQE_ROUT + i, irqs[i], 1);
    }
}

struct q35_host *q35_host_create(struct pci_bus *bus, struct vm *vm, uint64_t ram_below_4g,
                                 uint64_t ram_above_4g, const struct q35_host_ops *ops,
                                 void *opaque, GError **error)
{
    struct q35_host *h = g_new0(struct q35_host, 1);
    h->vm = vm;
    h->bus = bus;
    h->ops = ops;
    h->opaque = opaque;
    init_mch(&h->mch, ram_below_4g, ram_above_4g);
    h->mch.config_written = mch_config_written;
    h->mch.opaque = h;
    h->mch.state = &mch_state;
    init_lpc(&h->lpc);
    h->lpc.config_written = lpc_config_written;
    h->lpc.opaque = h;
    h->lpc.state = &lpc_state;
    if (!pci_register_device_at(bus, &h->mch, Q35_MCH_SLOT, 0, error) ||
        !pci_register_device_at(bus, &h->lpc, Q35_LPC_SLOT, 0, error)) {
        pci_unregister_device(&h->mch);
        g_free(h);
        return NULL;
    }
    pci_bus_set_reset_control(bus, &lpc_rcr, h);
    mch_reset(h);
    lpc_reset(h);
    vm_add_reset_handler(vm, host_reset, h);
    return h;
}

void q35_host_free(struct q35_host *h)
{
    /* The VM and its buses are gone: nothing to unregister. */
    g_free(h);
}

struct pci_device *q35_host_mch(struct q35_host *h) { return &h->mch; }
struct pci_device *q35_host_lpc(struct q35_host *h) { return &h->lpc; }
