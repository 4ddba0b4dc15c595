/* Intel 82540EM model: register file, Microwire EEPROM, interrupts and the
 * ring walks; the PHY, the transmit offloads (checksums and TCP
 * segmentation, which Linux's e1000 driver uses on this chip) and the
 * receive filter are in e1000_common.c. */
#include "e1000.h"
#include "e1000_common.h"
#include "pci/pci.h"
#include "core/vm.h"
#include "core/state_stream.h"

#include <string.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

/* Register offsets (bytes into BAR0). */
enum {
    R_CTRL = 0x0000, R_STATUS = 0x0008, R_EECD = 0x0010, R_EERD = 0x0014,
    R_CTRL_EXT = 0x0018, R_MDIC = 0x0020, R_VET = 0x0038,
    R_ICR = 0x00c0, R_ITR = 0x00c4, R_ICS = 0x00c8, R_IMS = 0x00d0, R_IMC = 0x00d8,
    R_RCTL = 0x0100, R_TCTL = 0x0400, R_PBA = 0x1000,
    R_RDBAL = 0x2800, R_RDBAH = 0x2804, R_RDLEN = 0x2808, R_RDH = 0x2810, R_RDT = 0x2818,
    R_TDBAL = 0x3800, R_TDBAH = 0x3804, R_TDLEN = 0x3808, R_TDH = 0x3810, R_TDT = 0x3818,
    R_STATS_FIRST = 0x4000, R_STATS_LAST = 0x40fc,
    R_GPRC = 0x4074, R_GPTC = 0x4080, R_TPR = 0x40d0, R_TPT = 0x40d4,
    R_MTA = 0x5200, R_RAL0 = 0x5400, R_RAH0 = 0x5404,
};

#define CTRL_SLU     (1u << 6)
#define CTRL_RST     (1u << 26)
#define CTRL_VME     (1u << 30)
#define CTRL_PHY_RST (1u << 31)

#define STATUS_FD    (1u << 0)
#define STATUS_LU    (1u << 1)
#define STATUS_1000  (2u << 6)

#define EECD_SK   (1u << 0)
#define EECD_CS   (1u << 1)
#define EECD_DI   (1u << 2)
#define EECD_DO   (1u << 3)
#define EECD_REQ  (1u << 6)
#define EECD_GNT  (1u << 7)
#define EECD_PRES (1u << 8)
#define EECD_WRITABLE (EECD_SK | EECD_CS | EECD_DI | EECD_REQ | 0x30u)

#define EERD_START (1u << 0)
#define EERD_DONE  (1u << 4)


#define ICR_TXDW   (1u << 0)
#define ICR_TXQE   (1u << 1)
#define ICR_LSC    (1u << 2)
#define ICR_RXDMT0 (1u << 4)
#define ICR_RXO    (1u << 6)
#define ICR_RXT0   (1u << 7)


#define TCTL_EN    (1u << 1)

/* Descriptor bits. */
#define TXD_STA_DD   0x01

#define RXD_STA_DD   0x01
#define RXD_STA_EOP  0x02
#define RXD_STA_IXSM 0x04

#define DESC_SIZE E1000_DESC_SIZE
#define RCTL_EN E1000_RCTL_EN

#define NREGS (E1000_MMIO_SIZE / 4)

struct e1000 {
    struct pci_device pci;
    struct vm *vm;
    struct net_backend *backend;
    GMutex lock;
    uint8_t mac[6];

    uint32_t regs[NREGS];
    uint16_t eeprom[E1000_EEPROM_WORDS];
    uint16_t phy[E1000_PHY_REGS];
    uint32_t ioaddr;

    /* Microwire EEPROM shift state. */
    uint32_t ee_in;
    unsigned ee_in_bits;
    int ee_out_bit;             /* next bit of ee_word to show, -1: none */
    uint16_t ee_word;
    bool ee_reading;

    struct e1000_tx tx;         /* the frame being gathered across descriptors */

    GSource *tx_source;         /* idle source on the main loop */
    GSource *resume_source;
    bool rx_starved;
};

static uint32_t reg(struct e1000 *e, unsigned off) { return e->regs[off / 4]; }
static void set_reg(struct e1000 *e, unsigned off, uint32_t v) { e->regs[off / 4] = v; }

static void update_irq(struct e1000 *e)
{
    pci_set_irq(&e->pci, (reg(e, R_ICR) & reg(e, R_IMS)) != 0);
}

static void raise_icr(struct e1000 *e, uint32_t bits)
{
    set_reg(e, R_ICR, reg(e, R_ICR) | bits);
    update_irq(e);
}

/* ---- EEPROM and PHY ------------------------------------------------------------ */

static void eeprom_init(struct e1000 *e)
{
    memset(e->eeprom, 0, sizeof(e->eeprom));
    for (unsigned i = 0; i < 3; i++)
        e->eeprom[i] = (uint16_t)(e->mac[2 * i] | e->mac[2 * i + 1] << 8);
    e->eeprom[0x0a] = 0x6401;   /* init control 1: signature bits, as the datasheet wants */
    e->eeprom[0x0b] = 0x001e;   /* subsystem ID */
    e->eeprom[0x0c] = 0x8086;   /* subsystem vendor */
    e->eeprom[0x0d] = E1000_DEVICE_ID;
    e->eeprom[0x0e] = E1000_VENDOR_ID;
    e1000_nvm_set_checksum(e->eeprom);
}

/* Microwire, 64 words, 6 address bits: start bit, opcode 10 (read),
 * address, then 16 data bits MSB first, each shown on DO after a rising
 * edge of SK. */
static void eecd_write(struct e1000 *e, uint32_t v)
{
    uint32_t old = reg(e, R_EECD);
    uint32_t nv = (old & ~EECD_WRITABLE) | (v & EECD_WRITABLE);
    if (nv & EECD_REQ)
        nv |= EECD_GNT;
    else
        nv &= ~EECD_GNT;
    if (!(nv & EECD_CS)) {
        e->ee_in = 0;
        e->ee_in_bits = 0;
        e->ee_out_bit = -1;
        e->ee_reading = false;
        nv &= ~EECD_DO;
    } else if ((nv & EECD_SK) && !(old & EECD_SK)) {
        if (e->ee_reading) {
            if (e->ee_out_bit >= 0) {
                bool bit = (e->ee_word >> e->ee_out_bit) & 1;
                nv = bit ? nv | EECD_DO : nv & ~EECD_DO;
                e->ee_out_bit--;
                if (e->ee_out_bit < 0) {
                    /* Sequential read goes on with the next word. */
                    e->ee_in = (e->ee_in + 1) & (E1000_EEPROM_WORDS - 1);
                    e->ee_word = e->eeprom[e->ee_in];
                    e->ee_out_bit = 15;
                }
            }
        } else if (e->ee_in_bits < 9) {
            e->ee_in = (e->ee_in << 1) | ((nv & EECD_DI) ? 1 : 0);
            e->ee_in_bits++;
            if (e->ee_in_bits == 9) {
                if ((e->ee_in >> 6) == 0x6) {
                    e->ee_in &= E1000_EEPROM_WORDS - 1;
                    e->ee_word = e->eeprom[e->ee_in];
                    e->ee_out_bit = 15;
                    e->ee_reading = true;
                    nv &= ~EECD_DO;  /* the dummy zero bit */
                }
                /* Other opcodes (write, erase) are ignored: the EEPROM
                 * is read-only to the guest. */
            }
        }
    }
    set_reg(e, R_EECD, nv);
}

static void eerd_write(struct e1000 *e, uint32_t v)
{
    if (!(v & EERD_START)) {
        set_reg(e, R_EERD, v & ~EERD_DONE);
        return;
    }
    unsigned addr = (v >> 8) & 0xff;
    uint16_t data = addr < E1000_EEPROM_WORDS ? e->eeprom[addr] : 0xffff;
    set_reg(e, R_EERD, (v & 0xff00) | EERD_DONE | (uint32_t)data << 16);
}

/* ---- reset ------------------------------------------------------------------ */

static void set_mac_filter(struct e1000 *e)
{
    set_reg(e, R_RAL0, (uint32_t)e->mac[0] | e->mac[1] << 8 | e->mac[2] << 16 |
                       (uint32_t)e->mac[3] << 24);
    set_reg(e, R_RAH0, (uint32_t)e->mac[4] | e->mac[5] << 8 | 1u << 31);
}

/* Called with the lock held. */
static void device_reset(struct e1000 *e)
{
    memset(e->regs, 0, sizeof(e->regs));
    set_reg(e, R_CTRL, CTRL_SLU | (2u << 8));
    set_reg(e, R_VET, 0x8100);
    set_reg(e, R_EECD, EECD_PRES);
    set_reg(e, R_PBA, 0x00100030);
    set_mac_filter(e);
    e1000_phy_reset(e->phy, 0x0141, 0x0c20);  /* M88E1011 */
    e->ee_in = 0;
    e->ee_in_bits = 0;
    e->ee_out_bit = -1;
    e->ee_reading = false;
    e1000_tx_reset(&e->tx);
    update_irq(e);
}

/* ---- transmit ----------------------------------------------------------------- */


static void send_frame(void *opaque, uint8_t *frame, size_t len)
{
    struct e1000 *e = opaque;
    struct iovec v = { frame, len };
    net_backend_send(e->backend, &v, 1);
    set_reg(e, R_GPTC, reg(e, R_GPTC) + 1);
    set_reg(e, R_TPT, reg(e, R_TPT) + 1);
}


/* Walk the transmit ring from TDH to TDT.  Ring length and pointers are
 * checked every time, since the guest may change them between walks; a
 * bad ring stops transmission until the driver fixes it. */
static void process_tx(struct e1000 *e)
{
    if (!(reg(e, R_TCTL) & TCTL_EN) ||
        !(e->pci.config[PCI_COMMAND] & PCI_COMMAND_MASTER))
        return;
    struct e1000_ring r;
    if (!e1000_ring_map(vm_memory(e->vm), reg(e, R_TDBAL), reg(e, R_TDBAH), reg(e, R_TDLEN),
                        reg(e, R_TDH), reg(e, R_TDT), &r))
        return;
    uint8_t *ring = r.desc;
    unsigned n = r.n, head = r.head, tail = r.tail;
    e->tx.tpid = reg(e, R_CTRL) & CTRL_VME ? (uint16_t)reg(e, R_VET) : 0;
    bool did = false;
    for (unsigned budget = n; head != tail && budget; budget--) {
        uint8_t d[DESC_SIZE];
        memcpy(d, ring + (size_t)head * DESC_SIZE, DESC_SIZE);
        e1000_tx_descriptor(&e->tx, vm_memory(e->vm), d, send_frame, e);
        /* Report completion: DD in the status byte (RS or not; drivers
         * that did not ask simply do not look). */
        ring[(size_t)head * DESC_SIZE + 12] |= TXD_STA_DD;
        head = (head + 1) % n;
        set_reg(e, R_TDH, head);
        did = true;
    }
    if (did)
        raise_icr(e, ICR_TXDW | (head == tail ? ICR_TXQE : 0));
}

static gboolean tx_idle(gpointer opaque)
{
    struct e1000 *e = opaque;
    g_mutex_lock(&e->lock);
    g_source_unref(e->tx_source);
    e->tx_source = NULL;
    process_tx(e);
    g_mutex_unlock(&e->lock);
    return G_SOURCE_REMOVE;
}

/* Called with the lock held, from a vCPU: the ring walk and the backend
 * belong to the main loop. */
static void schedule_tx(struct e1000 *e)
{
    if (e->tx_source)
        return;
    e->tx_source = g_idle_source_new();
    g_source_set_callback(e->tx_source, tx_idle, e, NULL);
    g_source_attach(e->tx_source, vm_main_context(e->vm));
}

static gboolean resume_idle(gpointer opaque)
{
    struct e1000 *e = opaque;
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

static void schedule_rx_resume(struct e1000 *e)
{
    if (!e->rx_starved || e->resume_source)
        return;
    e->resume_source = g_idle_source_new();
    g_source_set_callback(e->resume_source, resume_idle, e, NULL);
    g_source_attach(e->resume_source, vm_main_context(e->vm));
}

/* ---- receive ------------------------------------------------------------------ */

/* ---- receive ------------------------------------------------------------------ */

static bool net_receive(void *opaque, const uint8_t *frame, size_t len)
{
    struct e1000 *e = opaque;
    bool taken = true;
    g_mutex_lock(&e->lock);
    uint32_t rctl = reg(e, R_RCTL);
    if (!(rctl & RCTL_EN) || !(e->pci.config[PCI_COMMAND] & PCI_COMMAND_MASTER) ||
        len < 14 || len > E1000_MAX_FRAME || !e1000_rx_accept(e->regs, frame))
        goto out;   /* receiver off or not for us: the frame is gone */

    struct e1000_ring r;
    if (!e1000_ring_map(vm_memory(e->vm), reg(e, R_RDBAL), reg(e, R_RDBAH), reg(e, R_RDLEN),
                        reg(e, R_RDH), reg(e, R_RDT), &r))
        goto out;   /* a broken ring drops */
    uint8_t *ring = r.desc;
    unsigned n = r.n, head = r.head, tail = r.tail;

    /* The frame as the wire had it: padded to the minimum, with its FCS
     * unless the driver asked to strip it. */
    uint8_t buf[E1000_MAX_FRAME + 4];
    size_t flen = e1000_rx_wire_frame(buf, frame, len, rctl);
    size_t bsize = e1000_rx_buffer_size(rctl);
    unsigned need = (unsigned)((flen + bsize - 1) / bsize);
    unsigned avail = (tail + n - head) % n;
    if (avail < need) {
        raise_icr(e, ICR_RXO);
        e->rx_starved = true;
        taken = false;
        goto out;
    }
    size_t done = 0;
    while (done < flen) {
        uint8_t *d = ring + (size_t)head * DESC_SIZE;
        uint64_t addr;
        memcpy(&addr, d, 8);
        addr = GUINT64_FROM_LE(addr);
        size_t chunk = MIN(bsize, flen - done);
        bool eop = done + chunk == flen;
        uint8_t *dst = guest_memory_ptr(vm_memory(e->vm), addr, chunk);
        uint8_t status = RXD_STA_DD | RXD_STA_IXSM | (eop ? RXD_STA_EOP : 0);
        uint8_t errors = 0;
        if (dst)
            memcpy(dst, buf + done, chunk);
        else
            errors = 0x80;      /* RXE: a buffer outside RAM gets nothing */
        d[8] = (uint8_t)(dst ? chunk : 0);
        d[9] = (uint8_t)((dst ? chunk : 0) >> 8);
        d[10] = d[11] = 0;
        d[13] = errors;
        d[14] = d[15] = 0;
        d[12] = status;
        done += chunk;
        head = (head + 1) % n;
    }
    set_reg(e, R_RDH, head);
    set_reg(e, R_GPRC, reg(e, R_GPRC) + 1);
    set_reg(e, R_TPR, reg(e, R_TPR) + 1);
    uint32_t icr = ICR_RXT0;
    unsigned left = (tail + n - head) % n;
    unsigned rdmts = (rctl >> 8) & 3;
    if (rdmts < 3 && left <= (n >> (rdmts + 1)))
        icr |= ICR_RXDMT0;
    raise_icr(e, icr);
out:
    g_mutex_unlock(&e->lock);
    return taken;
}

/* ---- register access ---------------------------------------------------------- */

static uint32_t reg_read(struct e1000 *e, unsigned off)
{
    switch (off) {
    case R_STATUS:
        return STATUS_FD | STATUS_LU | STATUS_1000;
    case R_ICR: {
        /* Reading ICR clears it. */
        uint32_t v = reg(e, R_ICR);
        set_reg(e, R_ICR, 0);
        update_irq(e);
        return v;
    }
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

static void reg_write(struct e1000 *e, unsigned off, uint32_t v)
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
    case R_STATUS:
        return;
    case R_EECD:
        eecd_write(e, v);
        return;
    case R_EERD:
        eerd_write(e, v);
        return;
    case R_MDIC:
        set_reg(e, R_MDIC, e1000_mdic(e->phy, v));
        return;
    case R_ICR:
        set_reg(e, R_ICR, reg(e, R_ICR) & ~v);
        update_irq(e);
        return;
    case R_ICS:
        raise_icr(e, v);
        return;
    case R_IMS:
        set_reg(e, R_IMS, reg(e, R_IMS) | v);
        update_irq(e);
        return;
    case R_IMC:
        set_reg(e, R_IMS, reg(e, R_IMS) & ~v);
        update_irq(e);
        return;
    case R_RCTL: {
        bool was = reg(e, R_RCTL) & RCTL_EN;
        set_reg(e, R_RCTL, v);
        if (!was && (v & RCTL_EN))
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
    struct e1000 *e = opaque;
    unsigned off = (unsigned)offset & ~3u;
    if (offset >= E1000_MMIO_SIZE)
        return ~0ull;
    g_mutex_lock(&e->lock);
    uint32_t v = reg_read(e, off);
    g_mutex_unlock(&e->lock);
    unsigned shift = (offset & 3) * 8;
    uint64_t r = v >> shift;
    if (size < 4)
        r &= (1ull << (size * 8)) - 1;
    return r;
}

static void mmio_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct e1000 *e = opaque;
    if (offset >= E1000_MMIO_SIZE)
        return;
    unsigned off = (unsigned)offset & ~3u;
    g_mutex_lock(&e->lock);
    reg_write(e, off, e1000_merge_write(reg(e, off), offset, value, size));
    g_mutex_unlock(&e->lock);
}

static const struct io_ops mmio_ops = { .read = mmio_read, .write = mmio_write };

/* BAR1: IOADDR at 0 selects a register, IODATA at 4 reaches it. */
static uint64_t io_read(void *opaque, uint64_t offset, unsigned size)
{
    struct e1000 *e = opaque;
    if (offset == 0 && size == 4) {
        g_mutex_lock(&e->lock);
        uint32_t v = e->ioaddr;
        g_mutex_unlock(&e->lock);
        return v;
    }
    if (offset == 4 && size == 4) {
        g_mutex_lock(&e->lock);
        uint32_t a = e->ioaddr;
        g_mutex_unlock(&e->lock);
        return a < E1000_MMIO_SIZE ? mmio_read(e, a & ~3u, 4) : ~0u;
    }
    return ~0ull;
}

static void io_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct e1000 *e = opaque;
    if (size != 4)
        return;
    if (offset == 0) {
        g_mutex_lock(&e->lock);
        e->ioaddr = (uint32_t)value & 0x1fffc;
        g_mutex_unlock(&e->lock);
    } else if (offset == 4) {
        g_mutex_lock(&e->lock);
        uint32_t a = e->ioaddr;
        g_mutex_unlock(&e->lock);
        mmio_write(e, a, value, 4);
    }
}

static const struct io_ops io_ops = { .read = io_read, .write = io_write };

static void platform_reset(void *opaque)
{
    struct e1000 *e = opaque;
    pci_device_reset(&e->pci);
    g_mutex_lock(&e->lock);
    device_reset(e);
    e->ioaddr = 0;
    g_mutex_unlock(&e->lock);
}

/* ---- VM state ------------------------------------------------------------------ */

/* The ring walks check everything they use each time, so registers are
 * loaded as guest writes would leave them (same masks); the frame being
 * gathered across descriptors goes along. */
static bool e1000_save(struct pci_device *dev, struct state_out *o, GError **error)
{
    struct e1000 *e = dev->opaque;
    g_mutex_lock(&e->lock);
    /* Send what the driver queued before the pause. */
    process_tx(e);
    state_out_bytes(o, e->mac, 6);
    state_out_sparse(o, (const uint8_t *)e->regs, sizeof(e->regs));
    for (unsigned i = 0; i < G_N_ELEMENTS(e->phy); i++)
        state_out_u16(o, e->phy[i]);
    state_out_u32(o, e->ioaddr);
    state_out_u32(o, e->ee_in);
    state_out_u8(o, (uint8_t)e->ee_in_bits);
    state_out_u8(o, (uint8_t)(e->ee_out_bit + 1));
    state_out_u16(o, e->ee_word);
    state_out_bool(o, e->ee_reading);
    e1000_tx_save(&e->tx, o);
    bool ok = net_backend_save(e->backend, o, error);
    g_mutex_unlock(&e->lock);
    return ok;
}

static void mask_registers(struct e1000 *e)
{
    static const unsigned ring16[] = { R_RDH, R_RDT, R_TDH, R_TDT };
    for (unsigned i = 0; i < G_N_ELEMENTS(ring16); i++)
        set_reg(e, ring16[i], reg(e, ring16[i]) & 0xffff);
    set_reg(e, R_RDLEN, reg(e, R_RDLEN) & 0xfff80);
    set_reg(e, R_TDLEN, reg(e, R_TDLEN) & 0xfff80);
    set_reg(e, R_CTRL, reg(e, R_CTRL) & ~(CTRL_RST | CTRL_PHY_RST));
    set_reg(e, R_EECD, (reg(e, R_EECD) & (EECD_WRITABLE | EECD_GNT | EECD_DO)) | EECD_PRES);
    set_reg(e, R_ICS, 0);
    set_reg(e, R_IMC, 0);
}

static bool load_eeprom_state(struct e1000 *e, struct state_in *in, GError **error)
{
    uint32_t ee_in = state_in_u32(in);
    unsigned bits = state_in_u8(in);
    int out_bit = (int)state_in_u8(in) - 1;
    uint16_t word = state_in_u16(in);
    bool reading = state_in_bool(in);
    if (ee_in >= 512 || bits > 9 || out_bit > 15 ||
        (reading && ee_in >= E1000_EEPROM_WORDS))
        return state_in_invalid(in, error, _("EEPROM access state"));
    e->ee_in = ee_in;
    e->ee_in_bits = bits;
    e->ee_out_bit = out_bit;
    e->ee_word = word;
    e->ee_reading = reading;
    return true;
}

static bool e1000_load(struct pci_device *dev, struct state_in *in, uint32_t version,
                       GError **error)
{
    struct e1000 *e = dev->opaque;
    uint8_t mac[6];
    state_in_bytes(in, mac, sizeof(mac));
    if (mac[0] & 1)
        return state_in_invalid(in, error, _("a multicast MAC address"));
    g_mutex_lock(&e->lock);
    device_reset(e);
    /* The guest knows its MAC; a generated one must stay. */
    memcpy(e->mac, mac, 6);
    eeprom_init(e);
    bool ok = state_in_sparse(in, (uint8_t *)e->regs, sizeof(e->regs));
    uint16_t phy[G_N_ELEMENTS(e->phy)];
    for (unsigned i = 0; i < G_N_ELEMENTS(phy); i++)
        phy[i] = state_in_u16(in);
    e->ioaddr = state_in_u32(in);
    ok = ok && load_eeprom_state(e, in, error) && e1000_tx_load(&e->tx, in, error) &&
         net_backend_load(e->backend, in, error);
    if (ok && in->short_read)
        ok = state_in_invalid(in, error, _("truncated"));
    if (ok) {
        mask_registers(e);
        /* Only what MDIC writes can change; the rest is the PHY's own. */
        for (unsigned r = 0; r < G_N_ELEMENTS(phy); r++)
            if (e1000_phy_writable(r))
                e->phy[r] = e1000_phy_restored(r, phy[r]);
        e->rx_starved = false;
        update_irq(e);
        schedule_tx(e);
    } else {
        device_reset(e);
    }
    g_mutex_unlock(&e->lock);
    return ok;
}

static const struct pci_state_ops e1000_state_ops = {
    .version = 2, .save = e1000_save, .load = e1000_load,
};

struct e1000 *e1000_create_on_backend(struct vm *vm, struct pci_bus *bus,
                                      const uint8_t *mac, struct net_backend *backend,
                                      GError **error)
{
    struct e1000 *e = g_new0(struct e1000, 1);
    e->vm = vm;
    e->backend = backend;
    g_mutex_init(&e->lock);
    if (mac)
        memcpy(e->mac, mac, 6);
    else
        e1000_make_mac(e->mac);
    e1000_tx_init(&e->tx);
    eeprom_init(e);
    device_reset(e);

    struct pci_device *d = &e->pci;
    pci_device_init(d, "e1000", E1000_VENDOR_ID, E1000_DEVICE_ID, 0x020000, 0x03, 1);
    pci_device_set_subsystem(d, 0x8086, 0x001e);
    pci_device_set_bar(d, 0, PCI_BAR_MEM32, false, E1000_MMIO_SIZE, &mmio_ops, e);
    pci_device_set_bar(d, 1, PCI_BAR_IO, false, E1000_IO_SIZE, &io_ops, e);
    d->opaque = e;
    d->state = &e1000_state_ops;
    if (!pci_register_device(bus, d, error)) {
        net_backend_close(backend);
        e1000_tx_free(&e->tx);
        g_mutex_clear(&e->lock);
        g_free(e);
        return NULL;
    }
    vm_add_reset_handler(vm, platform_reset, e);
    net_backend_set_receiver(backend, net_receive, e);
    return e;
}

struct e1000 *e1000_create(struct vm *vm, struct pci_bus *bus,
                           const struct net_config *cfg, GError **error)
{
    if (cfg->model != NET_MODEL_E1000) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    _("The e1000 NIC was asked for a NIC of another model"));
        return NULL;
    }
    struct net_backend *nb = net_backend_open(cfg, vm_main_context(vm), error);
    if (!nb)
        return NULL;
    return e1000_create_on_backend(vm, bus, cfg->mac_set ? cfg->mac : NULL, nb, error);
}

void e1000_free(struct e1000 *e)
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
    net_backend_close(e->backend);
    e1000_tx_free(&e->tx);
    g_mutex_clear(&e->lock);
    g_free(e);
}

struct pci_device *e1000_pci_device(struct e1000 *e)
{
    return &e->pci;
}
