/* AHCI: HBA and port registers, command lists and tables read from guest
 * memory, H2D register FISes handed to the shared ATA command layer, data
 * through the PRDT, and D2H / PIO Setup / DMA Setup / Set Device Bits FISes
 * posted to the receive area. */
#include "ahci.h"

#include <string.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

#include "core/vm.h"
#include "core/state_stream.h"
#include "pci/pci.h"
#include "ata.h"
#include "dma_sg.h"

#define ABAR_SIZE 0x1000
#define ABAR_BAR  5

/* Generic host control. */
#define HBA_CAP   0x00
#define HBA_GHC   0x04
#define HBA_IS    0x08
#define HBA_PI    0x0c
#define HBA_VS    0x10
#define HBA_CAP2  0x24
#define HBA_BOHC  0x28
#define PORT_BASE 0x100
#define PORT_SIZE 0x80

#define CAP_S64A  (1u << 31)
#define CAP_SNCQ  (1u << 30)
#define CAP_SCLO  (1u << 24)
#define CAP_ISS_GEN2 (2u << 20)
#define CAP_SAM   (1u << 18)
#define CAP_NCS(n) (((n) - 1u) << 8)
#define GHC_HR    (1u << 0)
#define GHC_IE    (1u << 1)
#define GHC_AE    (1u << 31)
#define AHCI_VERSION 0x00010300u

/* Port registers. */
#define PX_CLB   0x00
#define PX_CLBU  0x04
#define PX_FB    0x08
#define PX_FBU   0x0c
#define PX_IS    0x10
#define PX_IE    0x14
#define PX_CMD   0x18
#define PX_TFD   0x20
#define PX_SIG   0x24
#define PX_SSTS  0x28
#define PX_SCTL  0x2c
#define PX_SERR  0x30
#define PX_SACT  0x34
#define PX_CI    0x38
#define PX_SNTF  0x3c

#define PORT_IS_DHRS (1u << 0)
#define PORT_IS_PSS  (1u << 1)
#define PORT_IS_DSS  (1u << 2)
#define PORT_IS_SDBS (1u << 3)
#define PORT_IS_DPS  (1u << 5)
#define PORT_IS_IFS  (1u << 27)
#define PORT_IS_HBFS (1u << 29)
#define PORT_IS_TFES (1u << 30)
#define PORT_IS_MASK 0xfdc000ffu

#define CMD_ST   (1u << 0)
#define CMD_SUD  (1u << 1)
#define CMD_POD  (1u << 2)
#define CMD_CLO  (1u << 3)
#define CMD_FRE  (1u << 4)
#define CMD_CCS_SHIFT 8
#define CMD_FR   (1u << 14)
#define CMD_CR   (1u << 15)
#define CMD_ATAPI (1u << 24)
/* Bits the guest may set: ST, FRE, ATAPI, DLAE, ALPE, ASP.  ICC (31:28)
 * asks for an interface power state change, which completes at once, so
 * it reads back as 0. */
#define CMD_WMASK (CMD_ST | CMD_FRE | 0x0f000000u)

#define SERR_DIAG_N (1u << 16)
#define SERR_DIAG_X (1u << 26)
#define SSTS_PRESENT 0x123      /* active, Gen2, device present with PHY up */

/* FIS types and receive-area offsets. */
#define FIS_H2D  0x27
#define FIS_D2H  0x34
#define FIS_DMA_SETUP 0x41
#define FIS_PIO_SETUP 0x5f
#define FIS_SDB  0xa1
#define RX_DSFIS 0x00
#define RX_PSFIS 0x20
#define RX_RFIS  0x40
#define RX_SDBFIS 0x58
#define RX_SIZE  0x100

/* Command header and table. */
#define CH_SIZE      32
#define CH_CFL_MASK  0x1f
#define CH_ATAPI     (1u << 5)
#define CT_CFIS      0x00
#define CT_ACMD      0x40
#define CT_PRDT      0x80
#define PRD_SIZE     16
#define PRD_DBC_MASK 0x3fffff
#define PRD_INTR     (1u << 31)

#define SLOTS 32

/* MSI capability (one vector, 64-bit addresses). */
#define PCI_CAP_ID_MSI 0x05
#define MSI_CTRL   2
#define MSI_ADDR   4
#define MSI_ADDR_HI 8
#define MSI_DATA   12
#define MSI_CTRL_ENABLE 0x0001
#define MSI_CTRL_64BIT  0x0080

struct ahci;

struct ahci_port {
    struct ahci *hba;
    unsigned index;
    struct ata_drive drive;
    uint32_t clb, clbu, fb, fbu;
    uint32_t is, ie, cmd, tfd, sig, ssts, sctl, serr, sact, ci;
    bool srst;              /* a control FIS set SRST; the next one clears it */
    bool sig_pending;       /* signature FIS not posted yet (needs FRE) */
    struct dma_sg sg;
};

struct ahci {
    struct vm *vm;
    struct pci_device pci;
    GMutex lock;
    unsigned nports;
    uint32_t cap, ghc, is, pi;
    uint8_t msi;            /* offset of the MSI capability */
    bool intx;
    struct ahci_port port[AHCI_MAX_PORTS];
    void (*tray_fn)(void *opaque, unsigned port, bool open);
    void *tray_opaque;
};

/* ---- interrupts ---------------------------------------------------------------- */

static bool msi_enabled(struct ahci *a)
{
    return pci_get_word(&a->pci.config[a->msi + MSI_CTRL]) & MSI_CTRL_ENABLE;
}

static void send_msi(struct ahci *a)
{
    const uint8_t *c = a->pci.config + a->msi;
    uint64_t addr = pci_get_long(c + MSI_ADDR) | (uint64_t)pci_get_long(c + MSI_ADDR_HI) << 32;
    uint32_t data = pci_get_word(c + MSI_DATA);
    if (pci_get_word(&a->pci.config[PCI_COMMAND]) & PCI_COMMAND_MASTER)
        vm_signal_msi(a->vm, addr, data);
}

/* Recompute IS and the interrupt line; with MSI, a message goes out when
 * an enabled port interrupt appears (edge). */
static void update_irq(struct ahci *a, bool new_event)
{
    for (unsigned i = 0; i < a->nports; i++)
        if (a->port[i].is & a->port[i].ie)
            a->is |= 1u << i;
    bool pending = (a->ghc & GHC_IE) && a->is;
    if (msi_enabled(a)) {
        if (a->intx) {
            a->intx = false;
            pci_set_irq(&a->pci, false);
        }
        if (pending && new_event)
            send_msi(a);
        return;
    }
    if (pending != a->intx) {
        a->intx = pending;
        pci_set_irq(&a->pci, pending);
    }
}

static void port_raise(struct ahci_port *p, uint32_t bits)
{
    bool fresh = bits & p->ie & ~p->is;
    p->is |= bits;
    update_irq(p->hba, fresh);
}

/* ---- FIS posting ----------------------------------------------------------------- */

static uint64_t fis_base(const struct ahci_port *p)
{
    return (uint64_t)p->fbu << 32 | (p->fb & ~0xffu);
}

static void post_fis(struct ahci_port *p, unsigned offset, const uint8_t *fis, size_t len)
{
    if (!(p->cmd & CMD_FRE))
        return;
    /* A receive area outside RAM is the guest's problem: the FIS is lost. */
    guest_memory_write(vm_memory(p->hba->vm), fis_base(p) + offset, fis, len);
}

static void fill_regs(const struct ata_drive *d, uint8_t *fis)
{
    fis[2] = d->r.status;
    fis[3] = d->r.error;
    fis[4] = d->r.lbal;
    fis[5] = d->r.lbam;
    fis[6] = d->r.lbah;
    fis[7] = d->r.device;
    fis[8] = d->r.hob_lbal;
    fis[9] = d->r.hob_lbam;
    fis[10] = d->r.hob_lbah;
    fis[12] = d->r.count;
    fis[13] = d->r.hob_count;
}

static void update_tfd(struct ahci_port *p)
{
    p->tfd = (uint32_t)p->drive.r.error << 8 | p->drive.r.status;
}

/* Device to host register FIS: the command's ending status. */
static void post_d2h(struct ahci_port *p, bool irq)
{
    uint8_t fis[20] = { FIS_D2H, irq ? 0x40 : 0 };
    fill_regs(&p->drive, fis);
    post_fis(p, RX_RFIS, fis, sizeof(fis));
    update_tfd(p);
    uint32_t bits = irq ? PORT_IS_DHRS : 0;
    if (p->drive.r.status & ATA_SR_ERR)
        bits |= PORT_IS_TFES;
    if (bits)
        port_raise(p, bits);
}

static void post_pio_setup(struct ahci_port *p, uint32_t count, bool to_host)
{
    uint8_t fis[20] = { FIS_PIO_SETUP, (uint8_t)(0x40 | (to_host ? 0x20 : 0)) };
    fill_regs(&p->drive, fis);
    fis[15] = p->drive.r.status;    /* ending status */
    fis[16] = (uint8_t)count;
    fis[17] = (uint8_t)(count >> 8);
    post_fis(p, RX_PSFIS, fis, sizeof(fis));
    port_raise(p, PORT_IS_PSS);
}

static void post_dma_setup(struct ahci_port *p, unsigned tag, uint32_t count, bool to_host)
{
    uint8_t fis[28] = { FIS_DMA_SETUP, (uint8_t)(0x80 | (to_host ? 0x20 : 0)) };
    fis[4] = (uint8_t)tag;
    fis[20] = (uint8_t)count;
    fis[21] = (uint8_t)(count >> 8);
    fis[22] = (uint8_t)(count >> 16);
    fis[23] = (uint8_t)(count >> 24);
    post_fis(p, RX_DSFIS, fis, sizeof(fis));
}

/* Set Device Bits FIS completing queued commands. */
static void post_sdb(struct ahci_port *p, uint32_t done)
{
    uint8_t fis[8] = { FIS_SDB, 0x40, (uint8_t)(p->drive.r.status & 0x77), p->drive.r.error };
    fis[4] = (uint8_t)done;
    fis[5] = (uint8_t)(done >> 8);
    fis[6] = (uint8_t)(done >> 16);
    fis[7] = (uint8_t)(done >> 24);
    post_fis(p, RX_SDBFIS, fis, sizeof(fis));
    p->sact &= ~done;
    update_tfd(p);
    uint32_t bits = PORT_IS_SDBS;
    if (p->drive.r.status & ATA_SR_ERR)
        bits |= PORT_IS_TFES;
    port_raise(p, bits);
}

/* The device's signature after a reset, as the first D2H FIS. */
static void post_signature(struct ahci_port *p)
{
    struct ata_drive *d = &p->drive;
    if (!d->present)
        return;
    p->sig = (uint32_t)d->r.lbah << 24 | (uint32_t)d->r.lbam << 16 |
             (uint32_t)d->r.lbal << 8 | d->r.count;
    update_tfd(p);
    if (!(p->cmd & CMD_FRE)) {
        p->sig_pending = true;
        return;
    }
    p->sig_pending = false;
    uint8_t fis[20] = { FIS_D2H, 0 };
    fill_regs(d, fis);
    post_fis(p, RX_RFIS, fis, sizeof(fis));
}

/* ---- command execution --------------------------------------------------------------- */

static void host_bus_error(struct ahci_port *p, uint32_t bit)
{
    /* The port stops as after a fatal error; software restarts it. */
    p->cmd &= ~CMD_CR;
    port_raise(p, bit);
}

/* Gather the PRDT into p->sg, up to need bytes.  *interrupt tells
 * whether an entry asked for a descriptor-processed interrupt. */
static bool build_prdt(struct ahci_port *p, uint64_t ctba, unsigned prdtl, uint64_t need,
                       bool *interrupt)
{
    const struct guest_memory *mem = vm_memory(p->hba->vm);
    dma_sg_clear(&p->sg);
    *interrupt = false;
    for (unsigned i = 0; i < prdtl && p->sg.len < need; i++) {
        uint32_t e[4];
        if (!guest_memory_read(mem, ctba + CT_PRDT + (uint64_t)i * PRD_SIZE, e, sizeof(e)))
            return false;
        uint64_t dba = (uint64_t)GUINT32_FROM_LE(e[1]) << 32 | (GUINT32_FROM_LE(e[0]) & ~1u);
        uint32_t dw3 = GUINT32_FROM_LE(e[3]);
        uint32_t len = (dw3 & PRD_DBC_MASK) + 1;
        if (!dma_sg_add(&p->sg, mem, dba, len, need))
            return false;
        if (dw3 & PRD_INTR)
            *interrupt = true;
    }
    return true;
}

static void set_prdbc(struct ahci_port *p, uint64_t hdr, uint32_t count)
{
    uint32_t v = GUINT32_TO_LE(count);
    guest_memory_write(vm_memory(p->hba->vm), hdr + 4, &v, 4);
}

/* Move a transfer's data through the PRDT; on failure the drive's
 * registers hold the error. */
static bool run_transfer(struct ahci_port *p, struct ata_xfer *x, uint64_t hdr, uint64_t ctba,
                         unsigned prdtl)
{
    struct ata_drive *d = &p->drive;
    bool dps;
    if (!build_prdt(p, ctba, prdtl, x->len, &dps)) {
        ata_xfer_failed(d, x, false);
        port_raise(p, PORT_IS_HBFS);
        return false;
    }
    /* Data beyond what the PRDT describes has nowhere to go. */
    if (p->sg.len < x->len && (x->media || x->dir == ATA_DIR_OUT)) {
        ata_xfer_failed(d, x, false);
        return false;
    }
    if (!dma_sg_transfer(d, x, 0, &p->sg)) {
        ata_xfer_failed(d, x, true);
        return false;
    }
    set_prdbc(p, hdr, (uint32_t)p->sg.len);
    if (dps)
        port_raise(p, PORT_IS_DPS);
    ata_xfer_done(d, x);
    return true;
}

static void complete_slot(struct ahci_port *p, unsigned slot)
{
    p->ci &= ~(1u << slot);
}

/* A FIS with the C bit clear: a device control register update. */
static void control_fis(struct ahci_port *p, const uint8_t *cfis)
{
    struct ata_drive *d = &p->drive;
    if (cfis[15] & ATA_DC_SRST) {
        p->srst = true;
        if (d->present)
            d->r.status = ATA_SR_BSY;
        update_tfd(p);
        return;
    }
    if (p->srst) {
        p->srst = false;
        ata_drive_reset(d);
        post_signature(p);
    }
}

static void ncq_command(struct ahci_port *p, unsigned slot, struct ata_xfer *x, uint64_t hdr,
                        uint64_t ctba, unsigned prdtl)
{
    struct ata_drive *d = &p->drive;
    unsigned tag = slot;
    /* The device accepts the command (BSY clears, no interrupt), sets up
     * the DMA, moves the data and reports completion with an SDB FIS. */
    d->r.status = ATA_SR_DRDY | ATA_SR_DSC;
    d->r.error = 0;
    post_d2h(p, false);
    complete_slot(p, slot);
    post_dma_setup(p, tag, (uint32_t)x->len, x->dir == ATA_DIR_IN);
    if (!run_transfer(p, x, hdr, ctba, prdtl)) {
        /* An error ends every queued command; software reads the log. */
        ata_ncq_failed(d, tag);
        post_d2h(p, true);
        return;
    }
    post_sdb(p, 1u << tag);
}

static void execute_slot(struct ahci_port *p, unsigned slot)
{
    const struct guest_memory *mem = vm_memory(p->hba->vm);
    struct ata_drive *d = &p->drive;
    uint64_t hdr = ((uint64_t)p->clbu << 32 | (p->clb & ~0x3ffu)) + slot * CH_SIZE;
    uint32_t h[4];
    if (!guest_memory_read(mem, hdr, h, sizeof(h))) {
        complete_slot(p, slot);
        host_bus_error(p, PORT_IS_HBFS);
        return;
    }
    uint32_t dw0 = GUINT32_FROM_LE(h[0]);
    unsigned prdtl = dw0 >> 16;
    uint64_t ctba = (uint64_t)GUINT32_FROM_LE(h[3]) << 32 | (GUINT32_FROM_LE(h[2]) & ~0x7fu);
    uint8_t cfis[64];
    if (!guest_memory_read(mem, ctba, cfis, sizeof(cfis))) {
        complete_slot(p, slot);
        host_bus_error(p, PORT_IS_HBFS);
        return;
    }
    p->cmd = (p->cmd & ~(0x1fu << CMD_CCS_SHIFT)) | slot << CMD_CCS_SHIFT;
    set_prdbc(p, hdr, 0);

    if (cfis[0] != FIS_H2D || (dw0 & CH_CFL_MASK) < 5) {
        /* Not a register FIS: an interface error for the port. */
        complete_slot(p, slot);
        host_bus_error(p, PORT_IS_IFS);
        return;
    }
    if (!(cfis[1] & 0x80)) {
        control_fis(p, cfis);
        complete_slot(p, slot);
        return;
    }
    if (!d->present) {
        complete_slot(p, slot);
        return;
    }
    d->r.command = cfis[2];
    d->r.feature = cfis[3];
    d->r.lbal = cfis[4];
    d->r.lbam = cfis[5];
    d->r.lbah = cfis[6];
    d->r.device = cfis[7];
    d->r.hob_lbal = cfis[8];
    d->r.hob_lbam = cfis[9];
    d->r.hob_lbah = cfis[10];
    d->r.hob_feature = cfis[11];
    d->r.count = cfis[12];
    d->r.hob_count = cfis[13];

    struct ata_xfer x;
    if (!ata_cmd_start(d, &x)) {
        if ((cfis[2] == ATA_CMD_READ_FPDMA_QUEUED || cfis[2] == ATA_CMD_WRITE_FPDMA_QUEUED) &&
            (d->r.status & ATA_SR_ERR))
            ata_ncq_failed(d, slot);
        complete_slot(p, slot);
        post_d2h(p, true);
        return;
    }
    if (x.proto == ATA_PROTO_NCQ) {
        if (!(p->sact & (1u << slot))) {
            /* Queued command without its SActive bit: refuse it. */
            ata_cmd_abort(d);
            complete_slot(p, slot);
            post_d2h(p, true);
            return;
        }
        ncq_command(p, slot, &x, hdr, ctba, prdtl);
        return;
    }
    if (x.proto == ATA_PROTO_PACKET) {
        if (!(dw0 & CH_ATAPI) && !d->cdrom) {
            ata_cmd_abort(d);
            complete_slot(p, slot);
            post_d2h(p, true);
            return;
        }
        if (!guest_memory_read(mem, ctba + CT_ACMD, d->packet, sizeof(d->packet))) {
            complete_slot(p, slot);
            host_bus_error(p, PORT_IS_HBFS);
            return;
        }
        if (!atapi_cmd_start(d, &x, d->r.feature & 1)) {
            complete_slot(p, slot);
            post_d2h(p, true);
            return;
        }
    }
    bool ok = run_transfer(p, &x, hdr, ctba, prdtl);
    complete_slot(p, slot);
    if (ok && x.proto == ATA_PROTO_PIO && x.dir == ATA_DIR_IN && !x.atapi)
        post_pio_setup(p, (uint32_t)MIN(x.len, (uint64_t)UINT16_MAX), true);
    post_d2h(p, true);
}

static void process_port(struct ahci_port *p)
{
    if (!(p->cmd & CMD_ST) || !(p->cmd & CMD_CR))
        return;
    /* Each command finishes before the next is looked at, so the guest
     * sees slots complete in order. */
    for (unsigned slot = 0; slot < SLOTS && p->ci; slot++) {
        if (!(p->ci & (1u << slot)))
            continue;
        execute_slot(p, slot);
        if (!(p->cmd & CMD_CR)) {
            /* A fatal error stopped the port. */
            break;
        }
    }
}

/* ---- resets ------------------------------------------------------------------------ */

static void port_reset_device(struct ahci_port *p)
{
    struct ata_drive *d = &p->drive;
    p->srst = false;
    p->sact = 0;
    p->ci = 0;
    if (!d->present) {
        p->ssts = 0;
        p->tfd = 0x7f;
        p->sig = 0xffffffffu;
        return;
    }
    ata_drive_reset(d);
    p->ssts = SSTS_PRESENT;
    p->serr |= SERR_DIAG_N | SERR_DIAG_X;
    post_signature(p);
}

static void port_reset(struct ahci_port *p)
{
    p->is = p->ie = 0;
    p->cmd = CMD_SUD | CMD_POD | (p->drive.cdrom ? CMD_ATAPI : 0);
    p->sctl = 0;
    p->serr = 0;
    port_reset_device(p);
    p->serr = 0;
}

static void hba_reset(struct ahci *a)
{
    a->ghc = GHC_AE;
    a->is = 0;
    for (unsigned i = 0; i < a->nports; i++)
        port_reset(&a->port[i]);
    update_irq(a, false);
}

/* ---- register file ----------------------------------------------------------------- */

static uint32_t port_read(struct ahci_port *p, unsigned reg)
{
    switch (reg) {
    case PX_CLB: return p->clb;
    case PX_CLBU: return p->clbu;
    case PX_FB: return p->fb;
    case PX_FBU: return p->fbu;
    case PX_IS: return p->is;
    case PX_IE: return p->ie;
    case PX_CMD: return p->cmd;
    case PX_TFD: return p->tfd;
    case PX_SIG: return p->sig;
    case PX_SSTS: return p->ssts;
    case PX_SCTL: return p->sctl;
    case PX_SERR: return p->serr;
    case PX_SACT: return p->sact;
    case PX_CI: return p->ci;
    default: return 0;
    }
}

static void write_cmd(struct ahci_port *p, uint32_t v)
{
    uint32_t old = p->cmd;
    p->cmd = (old & ~CMD_WMASK) | (v & CMD_WMASK);
    if (v & CMD_CLO) {
        p->drive.r.status &= (uint8_t)~(ATA_SR_BSY | ATA_SR_DRQ);
        update_tfd(p);
    }
    if (p->cmd & CMD_FRE) {
        p->cmd |= CMD_FR;
        if (p->sig_pending)
            post_signature(p);
    } else {
        p->cmd &= ~CMD_FR;
    }
    if (!(p->cmd & CMD_ST)) {
        /* Stopping the engine drops every issued and queued command. */
        p->cmd &= ~(CMD_CR | (0x1fu << CMD_CCS_SHIFT));
        p->ci = 0;
        p->sact = 0;
    } else if (!(old & CMD_ST)) {
        p->cmd |= CMD_CR;
        process_port(p);
    }
}

static void port_write(struct ahci_port *p, unsigned reg, uint32_t v)
{
    switch (reg) {
    case PX_CLB: p->clb = v & ~0x3ffu; break;
    case PX_CLBU: p->clbu = v; break;
    case PX_FB: p->fb = v & ~0xffu; break;
    case PX_FBU: p->fbu = v; break;
    case PX_IS:
        p->is &= ~v;
        update_irq(p->hba, false);
        break;
    case PX_IE:
        p->ie = v & PORT_IS_MASK;
        update_irq(p->hba, true);
        break;
    case PX_CMD:
        write_cmd(p, v);
        break;
    case PX_SCTL: {
        uint32_t old = p->sctl;
        p->sctl = v & 0xfff;
        /* DET 1 then 0: COMRESET, the device comes back with its signature. */
        if ((v & 0xf) == 1) {
            p->ssts = 0;
            p->drive.r.status = ATA_SR_BSY;
            update_tfd(p);
        } else if ((old & 0xf) == 1 && (v & 0xf) == 0) {
            port_reset_device(p);
        }
        break;
    }
    case PX_SERR: p->serr &= ~v; break;
    case PX_SACT:
        if (p->cmd & CMD_ST)
            p->sact |= v;
        break;
    case PX_CI:
        if (p->cmd & CMD_ST) {
            p->ci |= v;
            process_port(p);
        }
        break;
    default:
        break;
    }
}

static uint32_t hba_read(struct ahci *a, unsigned off)
{
    switch (off) {
    case HBA_CAP: return a->cap;
    case HBA_GHC: return a->ghc;
    case HBA_IS: return a->is;
    case HBA_PI: return a->pi;
    case HBA_VS: return AHCI_VERSION;
    default: break;
    }
    if (off >= PORT_BASE) {
        unsigned n = (off - PORT_BASE) / PORT_SIZE;
        if (n < a->nports)
            return port_read(&a->port[n], (off - PORT_BASE) % PORT_SIZE);
    }
    return 0;
}

static void hba_write(struct ahci *a, unsigned off, uint32_t v)
{
    switch (off) {
    case HBA_GHC:
        if (v & GHC_HR) {
            hba_reset(a);
            return;
        }
        a->ghc = GHC_AE | (v & GHC_IE);
        update_irq(a, true);
        return;
    case HBA_IS:
        a->is &= ~v;
        update_irq(a, false);
        return;
    default:
        break;
    }
    if (off >= PORT_BASE) {
        unsigned n = (off - PORT_BASE) / PORT_SIZE;
        if (n < a->nports)
            port_write(&a->port[n], (off - PORT_BASE) % PORT_SIZE, v);
    }
}

/* Registers whose unwritten bytes must count as 0 in a narrow write. */
static bool write_one_register(unsigned reg_off)
{
    if (reg_off == HBA_IS)
        return true;
    if (reg_off < PORT_BASE)
        return false;
    unsigned r = (reg_off - PORT_BASE) % PORT_SIZE;
    return r == PX_IS || r == PX_SERR || r == PX_CI || r == PX_SACT;
}

static uint64_t abar_read(void *opaque, uint64_t offset, unsigned size)
{
    struct ahci *a = opaque;
    g_mutex_lock(&a->lock);
    uint64_t v = 0;
    for (unsigned done = 0; done < size; ) {
        unsigned off = (unsigned)(offset + done);
        unsigned reg = off & ~3u, sh = (off & 3) * 8;
        unsigned n = MIN(size - done, 4 - (off & 3));
        uint32_t r = hba_read(a, reg) >> sh;
        if (n < 4)
            r &= (1u << (8 * n)) - 1;
        v |= (uint64_t)r << (8 * done);
        done += n;
    }
    g_mutex_unlock(&a->lock);
    return v;
}

static void abar_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct ahci *a = opaque;
    g_mutex_lock(&a->lock);
    for (unsigned done = 0; done < size; ) {
        unsigned off = (unsigned)(offset + done);
        unsigned reg = off & ~3u, sh = (off & 3) * 8;
        unsigned n = MIN(size - done, 4 - (off & 3));
        uint32_t mask = n == 4 ? 0xffffffffu : ((1u << (8 * n)) - 1) << sh;
        uint32_t part = (uint32_t)(value >> (8 * done)) << sh & mask;
        uint32_t v = write_one_register(reg) ? part : (hba_read(a, reg) & ~mask) | part;
        hba_write(a, reg, v);
        done += n;
    }
    g_mutex_unlock(&a->lock);
}

static const struct io_ops abar_ops = { .read = abar_read, .write = abar_write };

/* ---- setup ------------------------------------------------------------------------ */

/* ---- VM state ---------------------------------------------------------------------- */

/* Commands run to completion inside the guest's write of CI (queued ones
 * too), so the state is registers and drives, nothing in flight. */
static bool ahci_save(struct pci_device *dev, struct state_out *o, GError **error)
{
    struct ahci *a = dev->opaque;
    g_mutex_lock(&a->lock);
    state_out_u32(o, a->nports);
    state_out_u32(o, a->ghc);
    state_out_u32(o, a->is);
    for (unsigned i = 0; i < a->nports; i++) {
        const struct ahci_port *p = &a->port[i];
        const uint32_t r[] = { p->clb, p->clbu, p->fb, p->fbu, p->is, p->ie, p->cmd, p->tfd,
                               p->sig, p->ssts, p->sctl, p->serr, p->sact, p->ci };
        for (unsigned j = 0; j < G_N_ELEMENTS(r); j++)
            state_out_u32(o, r[j]);
        state_out_bool(o, p->srst);
        state_out_bool(o, p->sig_pending);
        state_out_u8(o, (uint8_t)(p->drive.present | p->drive.cdrom << 1));
        if (p->drive.present)
            ata_drive_save(&p->drive, o);
    }
    g_mutex_unlock(&a->lock);
    return true;
}

/* The port registers as register writes and the command engine leave
 * them. */
static bool load_port(struct ahci_port *p, struct state_in *in, GError **error)
{
    uint32_t r[14];
    for (unsigned j = 0; j < G_N_ELEMENTS(r); j++)
        r[j] = state_in_u32(in);
    bool srst = state_in_bool(in), sig_pending = state_in_bool(in);
    uint8_t kind = state_in_u8(in);
    if (in->short_read)
        return state_in_invalid(in, error, _("truncated"));
    if (kind != (uint8_t)(p->drive.present | p->drive.cdrom << 1))
        return state_in_invalid(in, error, _("AHCI port %u held another drive"), p->index);
    if (p->drive.present && !ata_drive_load(&p->drive, in, error))
        return false;
    p->clb = r[0] & ~0x3ffu;
    p->clbu = r[1];
    p->fb = r[2] & ~0xffu;
    p->fbu = r[3];
    p->is = r[4] & PORT_IS_MASK;
    p->ie = r[5] & PORT_IS_MASK;
    uint32_t cmd = (r[6] & (CMD_WMASK | CMD_SUD | CMD_POD | (0x1fu << CMD_CCS_SHIFT))) |
                   (p->drive.cdrom ? CMD_ATAPI : 0);
    if (cmd & CMD_ST)
        cmd |= r[6] & CMD_CR;
    if (cmd & CMD_FRE)
        cmd |= CMD_FR;
    p->cmd = cmd;
    p->tfd = r[7] & 0xffff;
    p->sig = r[8];
    p->ssts = r[9] & 0xfff;
    p->sctl = r[10] & 0xfff;
    p->serr = r[11];
    p->sact = cmd & CMD_ST ? r[12] : 0;
    p->ci = cmd & CMD_ST ? r[13] : 0;
    p->srst = srst;
    p->sig_pending = sig_pending;
    return true;
}

static bool ahci_load(struct pci_device *dev, struct state_in *in, uint32_t version,
                      GError **error)
{
    struct ahci *a = dev->opaque;
    uint32_t nports = state_in_u32(in);
    uint32_t ghc = state_in_u32(in), is = state_in_u32(in);
    if (nports != a->nports)
        return state_in_invalid(in, error, _("%u AHCI ports, this controller has %u"), nports,
                                a->nports);
    g_mutex_lock(&a->lock);
    bool ok = true;
    for (unsigned i = 0; ok && i < a->nports; i++)
        ok = load_port(&a->port[i], in, error);
    if (ok) {
        a->ghc = GHC_AE | (ghc & GHC_IE);
        a->is = is & a->pi;
        /* This process's line is low; a message already sent is not sent
         * again. */
        a->intx = false;
        update_irq(a, false);
    } else {
        hba_reset(a);
    }
    g_mutex_unlock(&a->lock);
    return ok;
}

static const struct pci_state_ops ahci_state_ops = {
    .version = 1, .save = ahci_save, .load = ahci_load,
};

static void ahci_platform_reset(void *opaque)
{
    struct ahci *a = opaque;
    g_mutex_lock(&a->lock);
    pci_device_reset(&a->pci);
    pci_set_word(&a->pci.config[a->msi + MSI_CTRL], MSI_CTRL_64BIT);
    a->intx = false;
    hba_reset(a);
    g_mutex_unlock(&a->lock);
}

struct ahci *ahci_create(struct vm *vm, struct pci_bus *bus, unsigned nports, GError **error)
{
    return ahci_create_at(vm, bus, nports, -1, 0, error);
}

struct ahci *ahci_create_at(struct vm *vm, struct pci_bus *bus, unsigned nports, int slot,
                            unsigned func, GError **error)
{
    if (nports == 0 || nports > AHCI_MAX_PORTS) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    _("An AHCI controller has 1 to %u ports, not %u"), AHCI_MAX_PORTS, nports);
        return NULL;
    }
    struct ahci *a = g_new0(struct ahci, 1);
    a->vm = vm;
    a->nports = nports;
    g_mutex_init(&a->lock);
    a->cap = CAP_S64A | CAP_SNCQ | CAP_SCLO | CAP_ISS_GEN2 | CAP_SAM | CAP_NCS(SLOTS) |
             (nports - 1);
    a->pi = nports == 32 ? 0xffffffffu : (1u << nports) - 1;
    for (unsigned i = 0; i < nports; i++) {
        a->port[i].hba = a;
        a->port[i].index = i;
        dma_sg_init(&a->port[i].sg);
    }

    struct pci_device *p = &a->pci;
    pci_device_init(p, "ahci", 0x8086, 0x2922, 0x010601, 0x02, 1);
    pci_device_set_subsystem(p, 0x8086, 0x2922);
    pci_set_word(&p->config[PCI_STATUS], 0x0010);
    a->msi = pci_device_add_capability(p, PCI_CAP_ID_MSI, 14);
    g_assert(a->msi);
    pci_set_word(&p->config[a->msi + MSI_CTRL], MSI_CTRL_64BIT);
    p->wmask[a->msi + MSI_CTRL] = MSI_CTRL_ENABLE;
    for (unsigned i = 0; i < 8; i++)
        p->wmask[a->msi + MSI_ADDR + i] = 0xff;
    p->wmask[a->msi + MSI_ADDR] = 0xfc;
    p->wmask[a->msi + MSI_DATA] = 0xff;
    p->wmask[a->msi + MSI_DATA + 1] = 0xff;
    pci_device_set_bar(p, ABAR_BAR, PCI_BAR_MEM32, false, ABAR_SIZE, &abar_ops, a);
    p->opaque = a;
    p->state = &ahci_state_ops;
    bool registered = slot < 0 ? pci_register_device(bus, p, error)
                                : pci_register_device_at(bus, p, (unsigned)slot, func, error);
    if (!registered) {
        for (unsigned i = 0; i < nports; i++)
            dma_sg_free(&a->port[i].sg);
        g_mutex_clear(&a->lock);
        g_free(a);
        return NULL;
    }
    hba_reset(a);
    vm_add_reset_handler(vm, ahci_platform_reset, a);
    return a;
}

void ahci_free(struct ahci *a)
{
    if (!a)
        return;
    pci_unregister_device(&a->pci);
    for (unsigned i = 0; i < a->nports; i++) {
        if (a->port[i].drive.present)
            ata_drive_destroy(&a->port[i].drive);
        dma_sg_free(&a->port[i].sg);
    }
    g_mutex_clear(&a->lock);
    g_free(a);
}

unsigned ahci_pci_slot(const struct ahci *a)
{
    return a->pci.slot;
}

char *ahci_boot_path(const struct ahci *a, unsigned port)
{
    if (a->pci.func)
        return g_strdup_printf("/pci@i0cf8/sata@%x,%x/drive@%x/disk@0", a->pci.slot, a->pci.func,
                               port);
    return g_strdup_printf("/pci@i0cf8/sata@%x/drive@%x/disk@0", a->pci.slot, port);
}

static void tray_changed(void *opaque, bool open)
{
    struct ahci_port *p = opaque;
    if (p->hba->tray_fn)
        p->hba->tray_fn(p->hba->tray_opaque, p->index, open);
}

bool ahci_attach(struct ahci *a, unsigned port, const struct disk_config *cfg, bool cdrom,
                 GError **error)
{
    if (port >= a->nports) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    _("The AHCI controller has no port %u"), port);
        return false;
    }
    g_mutex_lock(&a->lock);
    struct ahci_port *p = &a->port[port];
    bool ok = false;
    if (p->drive.present) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                    _("AHCI port %u is already in use"), port);
    } else if (ata_drive_init(&p->drive, cfg, cdrom, error)) {
        p->drive.sata = true;
        p->drive.tray_changed = tray_changed;
        p->drive.tray_opaque = p;
        port_reset(p);
        ok = true;
    }
    g_mutex_unlock(&a->lock);
    return ok;
}

static struct ata_drive *cdrom_port(struct ahci *a, unsigned port, GError **error)
{
    if (port >= a->nports || !a->port[port].drive.present || !a->port[port].drive.cdrom) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    _("AHCI port %u is not a CD-ROM drive"), port);
        return NULL;
    }
    return &a->port[port].drive;
}

bool ahci_cdrom_change_media(struct ahci *a, unsigned port, const char *path, GError **error)
{
    struct block_backend *bb = block_raw_open(path, true, error);
    if (!bb)
        return false;
    g_mutex_lock(&a->lock);
    struct ata_drive *d = cdrom_port(a, port, error);
    if (d)
        atapi_insert_media(d, bb);
    g_mutex_unlock(&a->lock);
    if (!d)
        block_backend_close(bb);
    return d != NULL;
}

bool ahci_port_stats(struct ahci *a, unsigned port, struct block_stats *out)
{
    if (port >= a->nports)
        return false;
    g_mutex_lock(&a->lock);
    struct block_backend *bb = a->port[port].drive.bb;
    if (bb)
        block_backend_get_stats(bb, out);
    g_mutex_unlock(&a->lock);
    return bb != NULL;
}

bool ahci_cdrom_eject(struct ahci *a, unsigned port, bool force, GError **error)
{
    g_mutex_lock(&a->lock);
    struct ata_drive *d = cdrom_port(a, port, error);
    bool ok = d != NULL;
    if (d && !atapi_eject(d, force)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
                    _("The guest has locked the CD-ROM tray"));
        ok = false;
    }
    g_mutex_unlock(&a->lock);
    return ok;
}

void ahci_set_tray_handler(struct ahci *a, void (*fn)(void *opaque, unsigned port, bool open),
                           void *opaque)
{
    g_mutex_lock(&a->lock);
    a->tray_fn = fn;
    a->tray_opaque = opaque;
    g_mutex_unlock(&a->lock);
}

struct pci_device *ahci_pci_device(struct ahci *a)
{
    return &a->pci;
}
