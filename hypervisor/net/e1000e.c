/* Intel 82574L model: register file, EERD-read NVM, BM PHY behind MDIC,
 * the interrupt causes with their MSI-X routing (IVAR, EIAC, IAM), and
 * the descriptor rings (extended receive descriptors; transmit offloads
 * from e1000_common.c). */
#include "e1000e.h"
#include "e1000_common.h"
#include "pci/pci.h"
#include "pci/msix.h"
#include "core/vm.h"
#include "core/state_stream.h"

#include <string.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

/* Register offsets (bytes into BAR0). */
enum {
    R_CTRL = 0x0000, R_STATUS = 0x0008, R_EECD = 0x0010, R_EERD = 0x0014,
    R_CTRL_EXT = 0x0018, R_MDIC = 0x0020, R_VET = 0x0038,
    R_ICR = 0x00c0, R_ICS = 0x00c8, R_IMS = 0x00d0, R_IMC = 0x00d8,
    R_EIAC = 0x00dc, R_IAM = 0x00e0, R_IVAR = 0x00e4,
    R_RCTL = E1000_REG_RCTL, R_TCTL = 0x0400, R_PBA = 0x1000, R_EEMNGCTL = 0x1010,
    R_RDBAL = 0x2800, R_RDBAH = 0x2804, R_RDLEN = 0x2808, R_RDH = 0x2810, R_RDT = 0x2818,
    R_TDBAL = 0x3800, R_TDBAH = 0x3804, R_TDLEN = 0x3808, R_TDH = 0x3810, R_TDT = 0x3818,
    R_STATS_FIRST = 0x4000, R_STATS_LAST = 0x4124,
    R_GPRC = 0x4074, R_GPTC = 0x4080, R_GORCL = 0x4088, R_GOTCL = 0x4090,
    R_TPR = 0x40d0, R_TPT = 0x40d4,
    R_RFCTL = 0x5008, R_RAL0 = E1000_REG_RA, R_RAH0 = E1000_REG_RA + 4,
};

#define CTRL_GIO_MASTER_DISABLE (1u << 2)
#define CTRL_SLU     (1u << 6)
#define CTRL_RST     (1u << 26)
#define CTRL_VME     (1u << 30)
#define CTRL_PHY_RST (1u << 31)

#define STATUS_FD    (1u << 0)
#define STATUS_LU    (1u << 1)
#define STATUS_1000  (2u << 6)
#define STATUS_GIO_MASTER_ENABLE (1u << 19)

#define EECD_REQ     (1u << 6)
#define EECD_GNT     (1u << 7)
#define EECD_PRES    (1u << 8)
#define EECD_AUTO_RD (1u << 9)

#define EERD_START (1u << 0)
#define EERD_DONE  (1u << 1)

#define EEMNGCTL_CFG_DONE0 (1u << 18)

#define CTRL_EXT_EE_RST (1u << 13)
#define CTRL_EXT_EIAME  (1u << 24)
#define CTRL_EXT_IAME   (1u << 27)


/* Interrupt causes (ICR, ICS, IMS, IMC, IAM, EIAC). */
#define ICR_TXDW   (1u << 0)
#define ICR_TXQE   (1u << 1)
#define ICR_LSC    (1u << 2)
#define ICR_RXDMT0 (1u << 4)
#define ICR_RXO    (1u << 6)
#define ICR_RXT0   (1u << 7)
#define ICR_MDAC   (1u << 9)
#define ICR_RXQ0   (1u << 20)
#define ICR_TXQ0   (1u << 22)
#define ICR_OTHER  (1u << 24)
#define ICR_INT_ASSERTED (1u << 31)
/* Causes that MSI-X reports through the "other" vector. */
#define ICR_OTHER_CAUSES (ICR_LSC | ICR_RXO | ICR_MDAC)
/* IVAR has a 4-bit field (vector, valid) for each of RXQ0, RXQ1, TXQ0,
 * TXQ1 and other, whose causes are ICR bits 20..24. */
#define IVAR_CAUSES 5
#define IVAR_VALID  0x8

#define RCTL_DTYP_PS (1u << 10)     /* packet split: not modelled */
#define RFCTL_EXSTEN (1u << 15)
#define TCTL_EN      (1u << 1)

#define TXD_STA_DD   0x01
#define RXD_STA_DD   0x01
#define RXD_STA_EOP  0x02
#define RXD_STA_IXSM 0x04
#define RXD_ERR_RXE  0x80

#define NREGS (E1000E_MMIO_SIZE / 4)

struct e1000e {
    struct pci_device pci;
    struct pci_msix msix;
    struct vm *vm;
    struct net_backend *backend;
    GMutex lock;
    uint8_t mac[6];

    uint32_t regs[NREGS];
    uint16_t nvm[E1000E_NVM_WORDS];
    uint16_t phy[E1000_PHY_REGS];
    uint32_t ioaddr;
    uint32_t msix_raised;       /* ICR bits 20..24 whose vector has fired */

    struct e1000_tx tx;
    GSource *tx_source;         /* idle source on the main loop */
    GSource *resume_source;
    bool rx_starved;
};

static uint32_t reg(struct e1000e *e, unsigned off) { return e->regs[off / 4]; }
static void set_reg(struct e1000e *e, unsigned off, uint32_t v) { e->regs[off / 4] = v; }

/* ---- interrupts ---------------------------------------------------------------- */

/* With MSI-X on, each IVAR-mapped cause pending in ICR & IMS fires its
 * vector once; firing clears the cause from ICR if EIAC says so and from
 * IMS if IAM says so (with CTRL_EXT.EIAME).  Without MSI-X, INTx follows
 * ICR & IMS. */
static void update_irq(struct e1000e *e)
{
    if (!pci_msix_enabled(&e->msix)) {
        e->msix_raised = 0;
        pci_set_irq(&e->pci, (reg(e, R_ICR) & reg(e, R_IMS)) != 0);
        return;
    }
    pci_set_irq(&e->pci, false);
    uint32_t ivar = reg(e, R_IVAR);
    for (unsigned i = 0; i < IVAR_CAUSES; i++) {
        uint32_t cause = ICR_RXQ0 << i;
        unsigned field = (ivar >> (4 * i)) & 0xf;
        if (!(reg(e, R_ICR) & reg(e, R_IMS) & cause)) {
            e->msix_raised &= ~cause;
            continue;
        }
        if ((e->msix_raised & cause) || !(field & IVAR_VALID))
            continue;
        e->msix_raised |= cause;
        if (reg(e, R_EIAC) & cause) {
            set_reg(e, R_ICR, reg(e, R_ICR) & ~cause);
            e->msix_raised &= ~cause;
        }
        if ((reg(e, R_CTRL_EXT) & CTRL_EXT_EIAME) && (reg(e, R_IAM) & cause)) {
            set_reg(e, R_IMS, reg(e, R_IMS) & ~cause);
            e->msix_raised &= ~cause;
        }
        pci_msix_notify(&e->msix, field & 7);
    }
}

static void raise_icr(struct e1000e *e, uint32_t bits)
{
    if (bits & ICR_OTHER_CAUSES)
        bits |= ICR_OTHER;
    set_reg(e, R_ICR, reg(e, R_ICR) | bits);
    update_irq(e);
}

static uint32_t icr_read(struct e1000e *e)
{
    uint32_t v = reg(e, R_ICR);
    if (v & reg(e, R_IMS))
        v |= ICR_INT_ASSERTED;
    set_reg(e, R_ICR, 0);
    if (reg(e, R_CTRL_EXT) & CTRL_EXT_IAME)
        set_reg(e, R_IMS, reg(e, R_IMS) & ~reg(e, R_IAM));
    update_irq(e);
    return v;
}

/* ---- NVM and PHY --------------------------------------------------------------- */

static void nvm_init(struct e1000e *e)
{
    memset(e->nvm, 0, sizeof(e->nvm));
    for (unsigned i = 0; i < 3; i++)
        e->nvm[i] = (uint16_t)(e->mac[2 * i] | e->mac[2 * i + 1] << 8);
    e->nvm[0x0b] = 0x0000;      /* subsystem ID */
    e->nvm[0x0c] = 0x8086;      /* subsystem vendor */
    e->nvm[0x0d] = E1000E_DEVICE_ID;
    e->nvm[0x0e] = E1000E_VENDOR_ID;
    e->nvm[0x37] = 0xffff;      /* no alternate MAC address */
    e1000_nvm_set_checksum(e->nvm);
}

static void eerd_write(struct e1000e *e, uint32_t v)
{
    if (!(v & EERD_START)) {
        set_reg(e, R_EERD, v & ~EERD_DONE);
        return;
    }
    unsigned addr = (v >> 2) & 0x3fff;
    uint16_t data = addr < E1000E_NVM_WORDS ? e->nvm[addr] : 0xffff;
    set_reg(e, R_EERD, (v & 0xfffc) | EERD_DONE | (uint32_t)data << 16);
}

/* ---- reset --------------------------------------------------------------------- */

/* Called with the lock held. */
static void device_reset(struct e1000e *e)
{
    memset(e->regs, 0, sizeof(e->regs));
    set_reg(e, R_CTRL, CTRL_SLU | (2u << 8));
    set_reg(e, R_VET, 0x8100);
    set_reg(e, R_EECD, EECD_PRES | EECD_AUTO_RD);
    set_reg(e, R_EEMNGCTL, EEMNGCTL_CFG_DONE0);
    set_reg(e, R_PBA, 0x00140014);
    set_reg(e, R_RAL0, (uint32_t)e->mac[0] | e->mac[1] << 8 | e->mac[2] << 16 |
                       (uint32_t)e->mac[3] << 24);
    set_reg(e, R_RAH0, (uint32_t)e->mac[4] | e->mac[5] << 8 | 1u << 31);
    e1000_phy_reset(e->phy, 0x0141, 0x0cb1);  /* BME1000, revision 1 (82574L) */
    e1000_tx_reset(&e->tx);
    e->msix_raised = 0;
    update_irq(e);
}

/* ---- transmit ------------------------------------------------------------------ */

static void stat_add64(struct e1000e *e, unsigned lo, uint64_t n)
{
    uint64_t v = ((uint64_t)reg(e, lo + 4) << 32 | reg(e, lo)) + n;
    set_reg(e, lo, (uint32_t)v);
    set_reg(e, lo + 4, (uint32_t)(v >> 32));
}

static void send_frame(void *opaque, uint8_t *frame, size_t len)
{
    struct e1000e *e = opaque;
    struct iovec v = { frame, len };
    net_backend_send(e->backend, &v, 1);
    set_reg(e, R_GPTC, reg(e, R_GPTC) + 1);
    set_reg(e, R_TPT, reg(e, R_TPT) + 1);
    stat_add64(e, R_GOTCL, len);
}

static bool bus_master(struct e1000e *e)
{
    return e->pci.config[PCI_COMMAND] & PCI_COMMAND_MASTER;
}

/* Walk the transmit ring from TDH to TDT; ring base, length and indices
 * are checked on every walk, and a bad ring stops transmission until the
 * driver fixes it. */
static void process_tx(struct e1000e *e)
{
    struct e1000_ring r;
    if (!(reg(e, R_TCTL) & TCTL_EN) || !bus_master(e) ||
        !e1000_ring_map(vm_memory(e->vm), reg(e, R_TDBAL), reg(e, R_TDBAH), reg(e, R_TDLEN),
                        reg(e, R_TDH), reg(e, R_TDT), &r))
        return;
    e->tx.tpid = reg(e, R_CTRL) & CTRL_VME ? (uint16_t)reg(e, R_VET) : 0;
    bool did = false;
    for (unsigned budget = r.n; r.head != r.tail && budget; budget--) {
        uint8_t *slot = r.desc + (size_t)r.head * E1000_DESC_SIZE;
        uint8_t d[E1000_DESC_SIZE];
        memcpy(d, slot, sizeof(d));
        e1000_tx_descriptor(&e->tx, vm_memory(e->vm), d, send_frame, e);
        slot[12] |= TXD_STA_DD;
        r.head = (r.head + 1) % r.n;
        set_reg(e, R_TDH, r.head);
        did = true;
    }
    if (did)
        raise_icr(e, ICR_TXDW | ICR_TXQ0 | (r.head == r.tail ? ICR_TXQE : 0));
}

static gboolean tx_idle(gpointer opaque)
{
    struct e1000e *e = opaque;
    g_mutex_lock(&e->lock);
    g_source_unref(e->tx_source);
    e->tx_source = NULL;
    process_tx(e);
    g_mutex_unlock(&e->lock);
    return G_SOURCE_REMOVE;
}

/* Called with the lock held, from a vCPU: the ring walk and the backend
 * belong to the main loop. */
static void schedule_tx(struct e1000e *e)
{
    if (e->tx_source)
        return;
    e->tx_source = g_idle_source_new();
    g_source_set_callback(e->tx_source, tx_idle, e, NULL);
    g_source_attach(e->tx_source, vm_main_context(e->vm));
}

static gboolean resume_idle(gpointer opaque)
{
    struct e1000e *e = opaque;
    g_mutex_lock(&e->lock);
    g_source_unref(e->resume_source);
    e->resume_source = NULL;
    bool starved = e->rx_starved;
    e->rx_starved = false;
    g_mutex_unlock(&e->lock);
    if (starved)
        net_backend_rx_resume(e->backend);
    return G_SOURCE_REMOVE;
}

static void schedule_rx_resume(struct e1000e *e)
{
    if (!e->rx_starved || e->resume_source)
        return;
    e->resume_source = g_idle_source_new();
    g_source_set_callback(e->resume_source, resume_idle, e, NULL);
    g_source_attach(e->resume_source, vm_main_context(e->vm));
}

/* ---- receive ------------------------------------------------------------------- */

static void put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = v >> 8; }
static void put_le32(uint8_t *p, uint32_t v)
{
    put_le16(p, (uint16_t)v);
    put_le16(p + 2, (uint16_t)(v >> 16));
}

/* Write back one receive descriptor; the status (with DD) goes last so a
 * polling driver never sees DD before the length. */
static void rx_writeback(uint8_t *d, bool extended, size_t len, bool eop, bool bad_buffer)
{
    uint8_t status = RXD_STA_DD | RXD_STA_IXSM | (eop ? RXD_STA_EOP : 0);
    if (extended) {
        /* MRQ, RSS hash / IP id and checksum, status and errors, length, VLAN. */
        put_le32(d, 0);
        put_le32(d + 4, 0);
        put_le16(d + 12, (uint16_t)len);
        put_le16(d + 14, 0);
        __atomic_thread_fence(__ATOMIC_RELEASE);
        put_le32(d + 8, status | (bad_buffer ? (uint32_t)RXD_ERR_RXE << 24 : 0));
    } else {
        put_le16(d + 8, (uint16_t)len);
        put_le16(d + 10, 0);
        d[13] = bad_buffer ? RXD_ERR_RXE : 0;
        put_le16(d + 14, 0);
        __atomic_thread_fence(__ATOMIC_RELEASE);
        d[12] = status;
    }
}

static bool net_receive(void *opaque, const uint8_t *frame, size_t len)
{
    struct e1000e *e = opaque;
    bool taken = true;
    g_mutex_lock(&e->lock);
    uint32_t rctl = reg(e, R_RCTL);
    struct e1000_ring r;
    if (!(rctl & E1000_RCTL_EN) || (rctl & RCTL_DTYP_PS) || !bus_master(e) ||
        len < 14 || len > E1000_MAX_FRAME || !e1000_rx_accept(e->regs, frame))
        goto out;   /* receiver off or not for us: the frame is gone */
    if (!e1000_ring_map(vm_memory(e->vm), reg(e, R_RDBAL), reg(e, R_RDBAH), reg(e, R_RDLEN),
                        reg(e, R_RDH), reg(e, R_RDT), &r))
        goto out;   /* a broken ring drops */

    uint8_t buf[E1000_MAX_FRAME + 4];
    size_t flen = e1000_rx_wire_frame(buf, frame, len, rctl);
    size_t bsize = e1000_rx_buffer_size(rctl);
    unsigned need = (unsigned)((flen + bsize - 1) / bsize);
    if ((r.tail + r.n - r.head) % r.n < need) {
        raise_icr(e, ICR_RXO);
        e->rx_starved = true;
        taken = false;
        goto out;
    }
    bool extended = reg(e, R_RFCTL) & RFCTL_EXSTEN;
    for (size_t done = 0; done < flen;) {
        uint8_t *d = r.desc + (size_t)r.head * E1000_DESC_SIZE;
        uint64_t addr;
        memcpy(&addr, d, 8);
        addr = GUINT64_FROM_LE(addr);
        size_t chunk = MIN(bsize, flen - done);
        uint8_t *dst = guest_memory_ptr(vm_memory(e->vm), addr, chunk);
        if (dst)
            memcpy(dst, buf + done, chunk);
        /* A buffer outside RAM gets nothing and an RX error. */
        rx_writeback(d, extended, dst ? chunk : 0, done + chunk == flen, !dst);
        done += chunk;
        r.head = (r.head + 1) % r.n;
    }
    set_reg(e, R_RDH, r.head);
    set_reg(e, R_GPRC, reg(e, R_GPRC) + 1);
    set_reg(e, R_TPR, reg(e, R_TPR) + 1);
    stat_add64(e, R_GORCL, flen);
    uint32_t icr = ICR_RXT0 | ICR_RXQ0;
    unsigned left = (r.tail + r.n - r.head) % r.n;
    unsigned rdmts = (rctl >> 8) & 3;
    if (rdmts < 3 && left <= (r.n >> (rdmts + 1)))
        icr |= ICR_RXDMT0;
    raise_icr(e, icr);
out:
    g_mutex_unlock(&e->lock);
    return taken;
}

/* ---- register access ----------------------------------------------------------- */

static uint32_t reg_read(struct e1000e *e, unsigned off)
{
    switch (off) {
    case R_STATUS:
        return STATUS_FD | STATUS_LU | STATUS_1000 |
               (reg(e, R_CTRL) & CTRL_GIO_MASTER_DISABLE ? 0 : STATUS_GIO_MASTER_ENABLE);
    case R_ICR:
        return icr_read(e);
    case R_ICS: case R_IMC:
        return 0;
    default:
        if (off >= R_STATS_FIRST && off <= R_STATS_LAST) {
            uint32_t v = reg(e, off);
            set_reg(e, off, 0);     /* statistics clear on read */
            return v;
        }
        return reg(e, off);
    }
}

static void reg_write(struct e1000e *e, unsigned off, uint32_t v)
{
    switch (off) {
    case R_CTRL: {
        if (v & CTRL_RST) {
            device_reset(e);
            return;
        }
        bool link_up = (v & CTRL_SLU) && !(reg(e, R_CTRL) & CTRL_SLU);
        set_reg(e, R_CTRL, v & ~CTRL_PHY_RST);
        if (link_up)
            raise_icr(e, ICR_LSC);
        return;
    }
    case R_STATUS: case R_EEMNGCTL:
        return;
    case R_EECD: {
        /* Only the request/grant handshake: the NVM is read through EERD
         * and is read-only to the guest. */
        uint32_t nv = reg(e, R_EECD) & ~(EECD_REQ | EECD_GNT);
        if (v & EECD_REQ)
            nv |= EECD_REQ | EECD_GNT;
        set_reg(e, R_EECD, nv);
        return;
    }
    case R_EERD:
        eerd_write(e, v);
        return;
    case R_MDIC:
        set_reg(e, R_MDIC, e1000_mdic(e->phy, v));
        return;
    case R_CTRL_EXT:
        set_reg(e, R_CTRL_EXT, v & ~CTRL_EXT_EE_RST);
        update_irq(e);
        return;
    case R_ICR:
        set_reg(e, R_ICR, reg(e, R_ICR) & ~v);
        update_irq(e);
        return;
    case R_ICS:
        raise_icr(e, v & ~ICR_INT_ASSERTED);
        return;
    case R_IMS:
        set_reg(e, R_IMS, reg(e, R_IMS) | (v & ~ICR_INT_ASSERTED));
        update_irq(e);
        return;
    case R_IMC:
        set_reg(e, R_IMS, reg(e, R_IMS) & ~v);
        update_irq(e);
        return;
    case R_IVAR: case R_EIAC: case R_IAM:
        set_reg(e, off, v);
        update_irq(e);
        return;
    case R_RCTL: {
        bool was = reg(e, R_RCTL) & E1000_RCTL_EN;
        set_reg(e, R_RCTL, v);
        if (!was && (v & E1000_RCTL_EN))
            schedule_rx_resume(e);
        return;
    }
    case R_RDT:
        set_reg(e, R_RDT, v & 0xffff);
        schedule_rx_resume(e);
        return;
    case R_RDH: case R_TDH:
        set_reg(e, off, v & 0xffff);
        return;
    case R_RDLEN: case R_TDLEN:
        set_reg(e, off, v & 0xfff80);
        return;
    case R_TDT:
        set_reg(e, R_TDT, v & 0xffff);
        schedule_tx(e);
        return;
    case R_TCTL:
        set_reg(e, R_TCTL, v);
        if (v & TCTL_EN)
            schedule_tx(e);
        return;
    default:
        if (off >= R_STATS_FIRST && off <= R_STATS_LAST)
            return;
        set_reg(e, off, v);
    }
}

static uint64_t mmio_read(void *opaque, uint64_t offset, unsigned size)
{
    struct e1000e *e = opaque;
    if (offset >= E1000E_MMIO_SIZE)
        return ~0ull;
    g_mutex_lock(&e->lock);
    uint32_t v = reg_read(e, (unsigned)offset & ~3u);
    g_mutex_unlock(&e->lock);
    uint64_t r = v >> ((offset & 3) * 8);
    if (size < 4)
        r &= (1ull << (size * 8)) - 1;
    return r;
}

static void mmio_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct e1000e *e = opaque;
    if (offset >= E1000E_MMIO_SIZE)
        return;
    unsigned off = (unsigned)offset & ~3u;
    g_mutex_lock(&e->lock);
    reg_write(e, off, e1000_merge_write(reg(e, off), offset, value, size));
    g_mutex_unlock(&e->lock);
}

static const struct io_ops mmio_ops = { .read = mmio_read, .write = mmio_write };

/* BAR2: IOADDR at 0 selects a register, IODATA at 4 reaches it. */
static uint64_t io_read(void *opaque, uint64_t offset, unsigned size)
{
    struct e1000e *e = opaque;
    if (size != 4 || (offset != 0 && offset != 4))
        return ~0ull;
    g_mutex_lock(&e->lock);
    uint32_t a = e->ioaddr;
    g_mutex_unlock(&e->lock);
    return offset == 0 ? a : mmio_read(e, a, 4);
}

static void io_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct e1000e *e = opaque;
    if (size != 4)
        return;
    g_mutex_lock(&e->lock);
    uint32_t a = e->ioaddr;
    if (offset == 0)
        e->ioaddr = (uint32_t)value & 0x1fffc;
    g_mutex_unlock(&e->lock);
    if (offset == 4)
        mmio_write(e, a, value, 4);
}

static const struct io_ops io_ops = { .read = io_read, .write = io_write };

static void config_written(struct pci_device *dev, unsigned offset, unsigned size)
{
    struct e1000e *e = dev->opaque;
    pci_msix_config_written(&e->msix, offset, size);
    g_mutex_lock(&e->lock);
    update_irq(e);
    g_mutex_unlock(&e->lock);
}

static void platform_reset(void *opaque)
{
    struct e1000e *e = opaque;
    pci_device_reset(&e->pci);
    pci_msix_reset(&e->msix);
    g_mutex_lock(&e->lock);
    device_reset(e);
    e->ioaddr = 0;
    g_mutex_unlock(&e->lock);
}

/* ---- VM state ------------------------------------------------------------------ */

/* The ring walks check everything they use each time, so registers are
 * loaded as guest writes would leave them (same masks). */
static bool e1000e_save(struct pci_device *dev, struct state_out *o, GError **error)
{
    struct e1000e *e = dev->opaque;
    g_mutex_lock(&e->lock);
    /* Send what the driver queued before the pause. */
    process_tx(e);
    state_out_bytes(o, e->mac, 6);
    state_out_sparse(o, (const uint8_t *)e->regs, sizeof(e->regs));
    for (unsigned i = 0; i < G_N_ELEMENTS(e->phy); i++)
        state_out_u16(o, e->phy[i]);
    state_out_u32(o, e->ioaddr);
    state_out_u32(o, e->msix_raised);
    e1000_tx_save(&e->tx, o);
    pci_msix_save(&e->msix, o);
    bool ok = net_backend_save(e->backend, o, error);
    g_mutex_unlock(&e->lock);
    return ok;
}

static void mask_registers(struct e1000e *e)
{
    static const unsigned ring16[] = { R_RDH, R_RDT, R_TDH, R_TDT };
    for (unsigned i = 0; i < G_N_ELEMENTS(ring16); i++)
        set_reg(e, ring16[i], reg(e, ring16[i]) & 0xffff);
    set_reg(e, R_RDLEN, reg(e, R_RDLEN) & 0xfff80);
    set_reg(e, R_TDLEN, reg(e, R_TDLEN) & 0xfff80);
    set_reg(e, R_CTRL, reg(e, R_CTRL) & ~(CTRL_RST | CTRL_PHY_RST));
    set_reg(e, R_EECD, (reg(e, R_EECD) & (EECD_REQ | EECD_GNT)) | EECD_PRES | EECD_AUTO_RD);
    set_reg(e, R_EEMNGCTL, EEMNGCTL_CFG_DONE0);
    set_reg(e, R_CTRL_EXT, reg(e, R_CTRL_EXT) & ~CTRL_EXT_EE_RST);
    set_reg(e, R_ICS, 0);
    set_reg(e, R_IMC, 0);
}

static bool e1000e_load(struct pci_device *dev, struct state_in *in, uint32_t version,
                        GError **error)
{
    (void)version;
    struct e1000e *e = dev->opaque;
    uint8_t mac[6];
    state_in_bytes(in, mac, sizeof(mac));
    if (mac[0] & 1)
        return state_in_invalid(in, error, _("a multicast MAC address"));
    g_mutex_lock(&e->lock);
    device_reset(e);
    /* The guest knows its MAC; a generated one must stay. */
    memcpy(e->mac, mac, 6);
    nvm_init(e);
    bool ok = state_in_sparse(in, (uint8_t *)e->regs, sizeof(e->regs));
    uint16_t phy[G_N_ELEMENTS(e->phy)];
    for (unsigned i = 0; i < G_N_ELEMENTS(phy); i++)
        phy[i] = state_in_u16(in);
    e->ioaddr = state_in_u32(in) & 0x1fffc;
    uint32_t raised = state_in_u32(in);
    ok = ok && e1000_tx_load(&e->tx, in, error) && pci_msix_load(&e->msix, in, error) &&
         net_backend_load(e->backend, in, error);
    if (ok && in->short_read)
        ok = state_in_invalid(in, error, _("truncated"));
    if (ok) {
        mask_registers(e);
        /* Only what MDIC writes can change; the rest is the PHY's own. */
        for (unsigned r = 0; r < G_N_ELEMENTS(phy); r++)
            if (e1000_phy_writable(r))
                e->phy[r] = e1000_phy_restored(r, phy[r]);
        e->msix_raised = raised & (((1u << IVAR_CAUSES) - 1) * ICR_RXQ0);
        e->rx_starved = false;
        update_irq(e);
        schedule_tx(e);
    } else {
        device_reset(e);
    }
    g_mutex_unlock(&e->lock);
    return ok;
}

static const struct pci_state_ops e1000e_state_ops = {
    .version = 1, .save = e1000e_save, .load = e1000e_load,
};

/* ---- creation ------------------------------------------------------------------ */

/* A PCI Express endpoint capability (version 1, x1 link at 2.5 GT/s), so
 * drivers see the device as the PCIe function it is. */
static void add_pcie_capability(struct pci_device *d)
{
    uint8_t cap = pci_device_add_capability(d, 0x10, 0x14);
    pci_set_word(&d->config[cap + 2], 0x0001);          /* version 1, endpoint */
    pci_set_word(&d->wmask[cap + 8], 0x0cff);           /* device control */
    pci_set_long(&d->config[cap + 12], 0x00000411);     /* x1, 2.5 GT/s, L0s */
    pci_set_word(&d->wmask[cap + 16], 0x01c3);          /* link control */
    pci_set_word(&d->config[cap + 18], 0x0011);         /* x1 at 2.5 GT/s */
}

static void free_parts(struct e1000e *e)
{
    e1000_tx_free(&e->tx);
    g_mutex_clear(&e->lock);
    g_free(e);
}

struct e1000e *e1000e_create_on_backend(struct vm *vm, struct pci_bus *bus,
                                        const uint8_t *mac, struct net_backend *backend,
                                        GError **error)
{
    struct e1000e *e = g_new0(struct e1000e, 1);
    e->vm = vm;
    e->backend = backend;
    g_mutex_init(&e->lock);
    if (mac)
        memcpy(e->mac, mac, 6);
    else
        e1000_make_mac(e->mac);
    e1000_tx_init(&e->tx);
    nvm_init(e);

    struct pci_device *d = &e->pci;
    pci_device_init(d, "e1000e", E1000E_VENDOR_ID, E1000E_DEVICE_ID, 0x020000, 0x00, 1);
    pci_device_set_subsystem(d, 0x8086, 0x0000);
    pci_device_set_bar(d, 0, PCI_BAR_MEM32, false, E1000E_MMIO_SIZE, &mmio_ops, e);
    pci_device_set_bar(d, 2, PCI_BAR_IO, false, E1000E_IO_SIZE, &io_ops, e);
    add_pcie_capability(d);
    d->opaque = e;
    d->state = &e1000e_state_ops;
    d->config_written = config_written;
    if (!pci_msix_init(&e->msix, d, vm, E1000E_MSIX_VECTORS, E1000E_MSIX_BAR, error)) {
        net_backend_close(backend);
        free_parts(e);
        return NULL;
    }
    device_reset(e);
    if (!pci_register_device(bus, d, error)) {
        pci_msix_destroy(&e->msix);
        net_backend_close(backend);
        free_parts(e);
        return NULL;
    }
    vm_add_reset_handler(vm, platform_reset, e);
    net_backend_set_receiver(backend, net_receive, e);
    return e;
}

struct e1000e *e1000e_create(struct vm *vm, struct pci_bus *bus,
                             const struct net_config *cfg, GError **error)
{
    if (cfg->model != NET_MODEL_E1000E) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    _("The e1000e NIC was asked for a NIC of another model"));
        return NULL;
    }
    struct net_backend *nb = net_backend_open(cfg, vm_main_context(vm), error);
    if (!nb)
        return NULL;
    return e1000e_create_on_backend(vm, bus, cfg->mac_set ? cfg->mac : NULL, nb, error);
}

void e1000e_free(struct e1000e *e)
{
    if (!e)
        return;
    net_backend_set_receiver(e->backend, NULL, NULL);
    pci_unregister_device(&e->pci);
    g_mutex_lock(&e->lock);
    if (e->tx_source) {
        g_source_destroy(e->tx_source);
        g_source_unref(e->tx_source);
    }
    if (e->resume_source) {
        g_source_destroy(e->resume_source);
        g_source_unref(e->resume_source);
    }
    g_mutex_unlock(&e->lock);
    pci_msix_destroy(&e->msix);
    net_backend_close(e->backend);
    free_parts(e);
}

struct pci_device *e1000e_pci_device(struct e1000e *e)
{
    return &e->pci;
}
