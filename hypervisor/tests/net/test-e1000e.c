/* Unit tests of the e1000e (82574L) model: driven through its BARs and
 * configuration space as Linux's e1000e driver does, with rings in test
 * guest memory and a backend that records what the NIC sends and feeds it
 * frames. */
#include <string.h>
#include <glib.h>

#include "net/e1000e.h"
#include "pci/pci.h"
#include "core/state_stream.h"
#include "tests/support/test_vm.h"

#define RAM        (32u << 20)
#define TX_RING    0x100000u
#define RX_RING    0x101000u
#define TX_BUF     0x110000u
#define RX_BUF     0x200000u
#define NDESC      8

/* Registers and bits, as the driver writes them. */
#define CTRL 0x0000
#define STATUS 0x0008
#define EECD 0x0010
#define EERD 0x0014
#define CTRL_EXT 0x0018
#define MDIC 0x0020
#define ICR 0x00c0
#define ICS 0x00c8
#define IMS 0x00d0
#define IMC 0x00d8
#define EIAC 0x00dc
#define IAM 0x00e0
#define IVAR 0x00e4
#define RCTL 0x0100
#define TCTL 0x0400
#define EEMNGCTL 0x1010
#define RDBAL 0x2800
#define RDLEN 0x2808
#define RDH 0x2810
#define RDT 0x2818
#define TDBAL 0x3800
#define TDBAH 0x3804
#define TDLEN 0x3808
#define TDH 0x3810
#define TDT 0x3818
#define GPRC 0x4074
#define GPTC 0x4080
#define RFCTL 0x5008
#define RAL0 0x5400
#define RAH0 0x5404

#define ICR_TXDW  (1u << 0)
#define ICR_LSC   (1u << 2)
#define ICR_RXT0  (1u << 7)
#define ICR_RXQ0  (1u << 20)
#define ICR_TXQ0  (1u << 22)
#define ICR_OTHER (1u << 24)
#define ICR_ASSERTED (1u << 31)

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* ---- a backend that records frames --------------------------------------------- */

struct rec_backend {
    struct net_backend nb;
    GPtrArray *sent;            /* GBytes */
    unsigned resumes;
};

static void rec_send(struct net_backend *nb, const struct iovec *iov, int iovcnt)
{
    struct rec_backend *b = (struct rec_backend *)nb;
    GByteArray *a = g_byte_array_new();
    for (int i = 0; i < iovcnt; i++)
        g_byte_array_append(a, iov[i].iov_base, (guint)iov[i].iov_len);
    g_ptr_array_add(b->sent, g_byte_array_free_to_bytes(a));
}

static void rec_resume(struct net_backend *nb) { ((struct rec_backend *)nb)->resumes++; }
static void rec_close(struct net_backend *nb) { (void)nb; }

static const struct net_backend_ops rec_ops = {
    .send = rec_send, .rx_resume = rec_resume, .close = rec_close,
};

struct fixture {
    struct vm *vm;
    struct pci_bus *bus;
    struct rec_backend be;
    struct e1000e *nic;
    struct pci_device *dev;
    uint64_t mmio, msix;
    uint16_t io;
    int gsi;
};

static uint32_t cfg_rd(struct fixture *f, unsigned off, unsigned size)
{
    return pci_config_read(f->bus, f->dev->slot, 0, off, size);
}

static void setup(struct fixture *f, gconstpointer data)
{
    (void)data;
    f->vm = test_vm_new(RAM);
    f->bus = pci_bus_create(f->vm);
    f->be.nb.ops = &rec_ops;
    f->be.nb.ctx = vm_main_context(f->vm);
    f->be.sent = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    g_autoptr(GError) err = NULL;
    f->nic = e1000e_create_on_backend(f->vm, f->bus, guest_mac, &f->be.nb, &err);
    g_assert_no_error(err);
    f->dev = e1000e_pci_device(f->nic);
    g_assert_cmphex(cfg_rd(f, PCI_VENDOR_ID, 4), ==, 0x10d38086);
    pci_config_write(f->bus, f->dev->slot, 0, PCI_COMMAND,
                     PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
    f->mmio = cfg_rd(f, PCI_BAR0, 4) & ~0xfu;
    f->io = (uint16_t)(cfg_rd(f, PCI_BAR0 + 8, 4) & ~3u);
    f->msix = cfg_rd(f, PCI_BAR0 + 12, 4) & ~0xfu;
    g_assert_cmphex(f->mmio, !=, 0);
    g_assert_cmphex(f->io, !=, 0);
    g_assert_cmphex(f->msix, !=, 0);
    f->gsi = pci_device_intx_gsi(f->dev);
    g_assert_cmpint(f->gsi, >=, 16);
}

static void teardown(struct fixture *f, gconstpointer data)
{
    (void)data;
    e1000e_free(f->nic);
    g_ptr_array_free(f->be.sent, TRUE);
    pci_bus_free(f->bus);
    test_vm_free(f->vm);
}

static uint32_t rd(struct fixture *f, unsigned off) { return (uint32_t)test_mmio_read(f->vm, f->mmio + off, 4); }
static void wr(struct fixture *f, unsigned off, uint32_t v) { test_mmio_write(f->vm, f->mmio + off, v, 4); }
static struct guest_memory *mem(struct fixture *f) { return vm_memory(f->vm); }
static bool intx(struct fixture *f) { return test_vm_irq_level(f->vm, (unsigned)f->gsi); }

static void run_main(struct fixture *f)
{
    while (g_main_context_iteration(vm_main_context(f->vm), FALSE))
        ;
}

static bool receive(struct fixture *f, const uint8_t *fr, size_t len)
{
    return f->be.nb.receive(f->be.nb.receive_opaque, fr, len);
}

/* ---- identity, NVM, PHY ----------------------------------------------------------- */

static unsigned find_cap(struct fixture *f, uint8_t id)
{
    for (unsigned p = cfg_rd(f, PCI_CAPABILITY_LIST, 1); p; p = cfg_rd(f, p + 1, 1))
        if (cfg_rd(f, p, 1) == id)
            return p;
    return 0;
}

static void test_identity(struct fixture *f, gconstpointer data)
{
    (void)data;
    g_assert_cmphex(cfg_rd(f, 0x08, 4) >> 8, ==, 0x020000);       /* Ethernet controller */
    unsigned pcie = find_cap(f, 0x10), msix = find_cap(f, PCI_CAP_ID_MSIX);
    g_assert_cmpuint(pcie, !=, 0);
    g_assert_cmphex(cfg_rd(f, pcie + 2, 2) & 0xf0, ==, 0);        /* endpoint */
    g_assert_cmpuint(msix, !=, 0);
    g_assert_cmpuint((cfg_rd(f, msix + 2, 2) & 0x7ff) + 1, ==, 5);
    g_assert_cmpuint(cfg_rd(f, msix + 4, 4) & 7, ==, 3);          /* table in BAR 3 */
    g_assert_cmpuint(cfg_rd(f, msix + 8, 4) & 7, ==, 3);          /* PBA too */
}

static uint16_t nvm_read(struct fixture *f, unsigned addr)
{
    wr(f, EERD, 1 | addr << 2);
    uint32_t v = rd(f, EERD);
    g_assert_true(v & 2);                           /* done */
    return (uint16_t)(v >> 16);
}

static void test_nvm(struct fixture *f, gconstpointer data)
{
    (void)data;
    g_assert_cmphex(rd(f, EECD) & 0x300, ==, 0x300);              /* present, auto-read done */
    g_assert_cmphex((rd(f, EECD) >> 15) & 3, !=, 3);              /* SPI, not flash */
    g_assert_true(rd(f, EEMNGCTL) & (1u << 18));                  /* configuration done */
    uint16_t sum = 0;
    for (unsigned i = 0; i < 64; i++)
        sum = (uint16_t)(sum + nvm_read(f, i));
    g_assert_cmphex(sum, ==, 0xbaba);
    for (unsigned i = 0; i < 3; i++)
        g_assert_cmphex(nvm_read(f, i), ==, guest_mac[2 * i] | guest_mac[2 * i + 1] << 8);
    g_assert_cmphex(nvm_read(f, 0x0d), ==, 0x10d3);
    g_assert_cmphex(nvm_read(f, 200), ==, 0xffff);                /* beyond the NVM */
    /* The receive address filter is loaded with the MAC. */
    g_assert_cmphex(rd(f, RAL0), ==, 0x12005452u);
    g_assert_cmphex(rd(f, RAH0), ==, 0x80005634u);
    /* EECD request/grant. */
    wr(f, EECD, 0x40);
    g_assert_true(rd(f, EECD) & 0x80);
    wr(f, EECD, 0);
    g_assert_false(rd(f, EECD) & 0x80);
    g_assert_true(rd(f, EECD) & 0x100);
}

static uint16_t phy_read(struct fixture *f, unsigned r)
{
    wr(f, MDIC, 2u << 26 | 1u << 21 | r << 16);
    uint32_t v = rd(f, MDIC);
    g_assert_true(v & (1u << 28));
    g_assert_false(v & (1u << 30));
    return (uint16_t)v;
}

static void test_phy_and_status(struct fixture *f, gconstpointer data)
{
    (void)data;
    g_assert_cmphex(rd(f, STATUS) & 3, ==, 3);      /* full duplex, link up */
    g_assert_cmphex(rd(f, STATUS) & 0xc0, ==, 0x80);     /* 1000 Mb/s */
    /* The 82574's PHY, exactly as Linux's ID check wants it. */
    g_assert_cmphex(phy_read(f, 2), ==, 0x0141);
    g_assert_cmphex(phy_read(f, 3), ==, 0x0cb1);
    g_assert_cmphex(phy_read(f, 1) & 0x24, ==, 0x24);     /* link, autoneg complete */
    wr(f, MDIC, 1u << 26 | 1u << 21 | 4u << 16 | 0x01e1);   /* write advertisement */
    g_assert_cmphex(phy_read(f, 4), ==, 0x01e1);
    wr(f, MDIC, 1u << 26 | 1u << 21 | 0u << 16 | 0x9340);   /* reset + restart autoneg */
    g_assert_cmphex(phy_read(f, 0) & 0x8200, ==, 0);
    wr(f, MDIC, 1u << 26 | 1u << 21 | 2u << 16 | 0x1234);   /* the ID is read-only */
    g_assert_cmphex(phy_read(f, 2), ==, 0x0141);
    wr(f, MDIC, 2u << 26 | 5u << 21 | 1u << 16);           /* no PHY at address 5 */
    g_assert_true(rd(f, MDIC) & (1u << 30));
    /* Master disable: no requests pending once it is set. */
    g_assert_true(rd(f, STATUS) & (1u << 19));
    wr(f, CTRL, rd(f, CTRL) | 4);
    g_assert_false(rd(f, STATUS) & (1u << 19));
}

static void test_reset(struct fixture *f, gconstpointer data)
{
    (void)data;
    wr(f, IMS, 0xff);
    wr(f, RCTL, 0x8002);
    wr(f, RDLEN, 4096);
    wr(f, IVAR, 0x80000);
    wr(f, ICS, ICR_RXT0);
    g_assert_true(intx(f));
    wr(f, CTRL, rd(f, CTRL) | (1u << 26));
    g_assert_cmphex(rd(f, CTRL) & (1u << 26), ==, 0);     /* self-clearing */
    g_assert_cmphex(rd(f, IMS), ==, 0);
    g_assert_cmphex(rd(f, RCTL), ==, 0);
    g_assert_cmphex(rd(f, RDLEN), ==, 0);
    g_assert_cmphex(rd(f, IVAR), ==, 0);
    g_assert_false(intx(f));
    g_assert_cmphex(rd(f, RAH0), ==, 0x80005634u);
    g_assert_cmphex(rd(f, EECD) & 0x300, ==, 0x300);
}

/* ---- interrupts -------------------------------------------------------------------- */

static void test_icr_intx(struct fixture *f, gconstpointer data)
{
    (void)data;
    wr(f, ICS, ICR_RXT0 | ICR_LSC);
    g_assert_false(intx(f));                        /* masked */
    wr(f, IMS, ICR_RXT0);
    g_assert_cmphex(rd(f, IMS), ==, ICR_RXT0);
    g_assert_true(intx(f));
    wr(f, IMC, ICR_RXT0);
    g_assert_false(intx(f));
    wr(f, IMS, ICR_LSC);
    g_assert_true(intx(f));
    /* LSC is an "other" cause; the read says the line was asserted, and
     * clears. */
    g_assert_cmphex(rd(f, ICR), ==, ICR_ASSERTED | ICR_OTHER | ICR_LSC | ICR_RXT0);
    g_assert_false(intx(f));
    g_assert_cmphex(rd(f, ICR), ==, 0);
    wr(f, ICS, ICR_TXDW | ICR_LSC);
    wr(f, ICR, ICR_LSC);                            /* write-1-to-clear */
    g_assert_cmphex(rd(f, ICR), ==, ICR_TXDW | ICR_OTHER);   /* not asserted: masked */
    /* IAME: reading ICR masks what IAM names. */
    wr(f, IMS, ICR_TXDW);
    wr(f, IAM, ICR_TXDW);
    wr(f, CTRL_EXT, 1u << 27);
    wr(f, ICS, ICR_TXDW);
    g_assert_true(intx(f));
    g_assert_cmphex(rd(f, ICR) & ICR_ASSERTED, !=, 0);
    g_assert_cmphex(rd(f, IMS), ==, ICR_LSC);
    /* The I/O window reaches the same registers. */
    test_pio_write(f->vm, f->io, STATUS, 4);
    g_assert_cmphex(test_pio_read(f->vm, f->io + 4, 4) & 3, ==, 3);
    test_pio_write(f->vm, f->io, IMS, 4);
    g_assert_cmphex(test_pio_read(f->vm, f->io + 4, 4), ==, ICR_LSC);
}

/* MSI-X as Linux's e1000e sets it up: vectors 0 (RX), 1 (TX) and 2
 * (other) through IVAR, the queue causes auto-cleared by EIAC, the other
 * cause auto-masked by IAM with EIAME. */
static void msix_setup(struct fixture *f)
{
    for (unsigned v = 0; v < 3; v++) {
        test_mmio_write(f->vm, f->msix + v * 16, 0xfee00000, 4);
        test_mmio_write(f->vm, f->msix + v * 16 + 4, 0, 4);
        test_mmio_write(f->vm, f->msix + v * 16 + 8, 0x40 + v, 4);
        test_mmio_write(f->vm, f->msix + v * 16 + 12, 0, 4);     /* unmasked */
    }
    unsigned cap = find_cap(f, PCI_CAP_ID_MSIX);
    pci_config_write(f->bus, f->dev->slot, 0, cap + 2, 0x8000, 2);
    wr(f, IVAR, 0x8 | 0x9u << 8 | 0xau << 16 | 1u << 31);
    wr(f, EIAC, ICR_RXQ0 | ICR_TXQ0);
    wr(f, IAM, ~0x01f00000u | ICR_OTHER);
    wr(f, CTRL_EXT, 1u << 24 | 1u << 31);
    wr(f, IMS, ICR_RXQ0 | ICR_TXQ0 | ICR_OTHER | ICR_LSC);
}

static uint32_t last_msi(struct fixture *f)
{
    unsigned n = test_vm_msi_count(f->vm);
    g_assert_cmpuint(n, >, 0);
    return test_vm_msi(f->vm, n - 1).data;
}

static void put_desc(struct fixture *f, uint64_t ring, unsigned i, uint64_t addr,
                     uint32_t w2, uint32_t w3)
{
    uint8_t d[16];
    uint64_t a = GUINT64_TO_LE(addr);
    uint32_t x = GUINT32_TO_LE(w2), y = GUINT32_TO_LE(w3);
    memcpy(d, &a, 8);
    memcpy(d + 8, &x, 4);
    memcpy(d + 12, &y, 4);
    g_assert_true(guest_memory_write(mem(f), ring + i * 16, d, 16));
}

static void rx_setup(struct fixture *f, unsigned ndesc, unsigned tail, bool extended)
{
    for (unsigned i = 0; i < ndesc; i++)
        put_desc(f, RX_RING, i, RX_BUF + i * 0x1000, 0, 0);
    wr(f, RDBAL, RX_RING);
    wr(f, RDBAL + 4, 0);
    wr(f, RDLEN, ndesc * 16);
    wr(f, RDH, 0);
    wr(f, RDT, tail);
    wr(f, RFCTL, extended ? 1u << 15 : 0);
    wr(f, RCTL, 0x2 | 0x8000 | 1u << 26);           /* EN, broadcast, 2 KiB, strip CRC */
}

static void tx_setup(struct fixture *f, uint64_t base, uint32_t len)
{
    wr(f, TDBAL, (uint32_t)base);
    wr(f, TDBAH, (uint32_t)(base >> 32));
    wr(f, TDLEN, len);
    wr(f, TDH, 0);
    wr(f, TDT, 0);
    wr(f, TCTL, 0x2);
}

struct wait_sent { struct fixture *f; unsigned n; };
static bool sent_enough(void *opaque)
{
    struct wait_sent *w = opaque;
    return w->f->be.sent->len >= w->n;
}

static GBytes *sent(struct fixture *f, unsigned i) { return g_ptr_array_index(f->be.sent, i); }

static void test_msix(struct fixture *f, gconstpointer data)
{
    (void)data;
    msix_setup(f);
    unsigned base = test_vm_msi_count(f->vm);
    rx_setup(f, NDESC, NDESC - 1, true);
    uint8_t fr[100];
    memcpy(fr, guest_mac, 6);
    memset(fr + 6, 0x42, sizeof(fr) - 6);
    g_assert_true(receive(f, fr, sizeof(fr)));
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, base + 1);
    g_assert_cmphex(last_msi(f), ==, 0x40);         /* the RX vector */
    /* EIAC cleared RXQ0, so the next frame fires again. */
    g_assert_true(receive(f, fr, sizeof(fr)));
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, base + 2);
    g_assert_false(intx(f));

    /* TX completion: vector 1. */
    tx_setup(f, TX_RING, NDESC * 16);
    guest_memory_write(mem(f), TX_BUF, fr, 64);
    put_desc(f, TX_RING, 0, TX_BUF, 64 | 0x0bu << 24, 0);
    wr(f, TDT, 1);
    struct wait_sent w = { f, 1 };
    g_assert_true(test_vm_run_until(f->vm, sent_enough, &w, 2000));
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, base + 3);
    g_assert_cmphex(last_msi(f), ==, 0x41);

    /* Link change: the other vector, which IAM then masks until the
     * driver has read ICR and unmasked it. */
    wr(f, ICS, ICR_LSC | ICR_OTHER);
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, base + 4);
    g_assert_cmphex(last_msi(f), ==, 0x42);
    g_assert_false(rd(f, IMS) & ICR_OTHER);
    wr(f, ICS, ICR_LSC);
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, base + 4);
    g_assert_true(rd(f, ICR) & ICR_LSC);
    wr(f, IMS, ICR_OTHER | ICR_LSC);
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, base + 4);
    wr(f, ICS, ICR_LSC);
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, base + 5);

    /* A cause without a valid IVAR entry fires nothing. */
    wr(f, IVAR, 0);
    g_assert_true(receive(f, fr, sizeof(fr)));
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, base + 5);
}

/* ---- transmit ---------------------------------------------------------------------- */

static uint16_t sum16(const uint8_t *p, size_t len, uint32_t extra)
{
    uint32_t s = extra;
    for (size_t i = 0; i + 1 < len; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (len & 1)
        s += (uint32_t)p[len - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

static void test_tx_frame(struct fixture *f, gconstpointer data)
{
    (void)data;
    wr(f, IMS, ICR_TXDW);
    tx_setup(f, TX_RING, NDESC * 16);
    uint8_t frame[100];
    for (unsigned i = 0; i < sizeof(frame); i++)
        frame[i] = (uint8_t)(i * 7 + 3);
    guest_memory_write(mem(f), TX_BUF, frame, 40);
    guest_memory_write(mem(f), TX_BUF + 0x1000, frame + 40, 60);
    put_desc(f, TX_RING, 0, TX_BUF, 40 | 1u << 20 | 0x20u << 24, 0);
    put_desc(f, TX_RING, 1, TX_BUF + 0x1000, 60 | 1u << 20 | 0x29u << 24, 0);
    wr(f, TDT, 2);
    struct wait_sent w = { f, 1 };
    g_assert_true(test_vm_run_until(f->vm, sent_enough, &w, 2000));
    gsize n;
    const uint8_t *p = g_bytes_get_data(sent(f, 0), &n);
    g_assert_cmpmem(p, n, frame, 100);
    g_assert_cmpuint(rd(f, TDH), ==, 2);
    uint8_t st;
    guest_memory_read(mem(f), TX_RING + 16 + 12, &st, 1);
    g_assert_true(st & 1);                          /* DD */
    g_assert_true(intx(f));
    g_assert_cmphex(rd(f, ICR) & (ICR_TXDW | ICR_TXQ0), ==, ICR_TXDW | ICR_TXQ0);
    g_assert_cmpuint(rd(f, GPTC), ==, 1);           /* then cleared */
    g_assert_cmpuint(rd(f, GPTC), ==, 0);
}

/* VLAN tag insertion: with CTRL.VME a descriptor's VLE puts the 802.1Q
 * tag (VET, then its special field) after the MAC addresses; without
 * VME the frame leaves as it is. */
static void test_tx_vlan(struct fixture *f, gconstpointer data)
{
    (void)data;
    tx_setup(f, TX_RING, NDESC * 16);
    uint8_t frame[64];
    for (unsigned i = 0; i < sizeof(frame); i++)
        frame[i] = (uint8_t)(i + 1);
    guest_memory_write(mem(f), TX_BUF, frame, sizeof(frame));
    wr(f, CTRL, rd(f, CTRL) | 1u << 30);            /* VME */
    put_desc(f, TX_RING, 0, TX_BUF, 64 | 1u << 20 | 0x69u << 24, 0x2005u << 16);
    put_desc(f, TX_RING, 1, TX_BUF, 64 | 0x49u << 24, 0x0007u << 16);     /* legacy */
    wr(f, TDT, 2);
    struct wait_sent w = { f, 2 };
    g_assert_true(test_vm_run_until(f->vm, sent_enough, &w, 2000));
    static const uint8_t tag0[4] = { 0x81, 0x00, 0x20, 0x05 }, tag1[4] = { 0x81, 0x00, 0x00, 0x07 };
    for (unsigned i = 0; i < 2; i++) {
        gsize n;
        const uint8_t *p = g_bytes_get_data(sent(f, i), &n);
        g_assert_cmpuint(n, ==, 68);
        g_assert_cmpmem(p, 12, frame, 12);
        g_assert_cmpmem(p + 12, 4, i ? tag1 : tag0, 4);
        g_assert_cmpmem(p + 16, 52, frame + 12, 52);
    }
    wr(f, CTRL, rd(f, CTRL) & ~(1u << 30));
    put_desc(f, TX_RING, 2, TX_BUF, 64 | 0x49u << 24, 0x0007u << 16);
    wr(f, TDT, 3);
    w.n = 3;
    g_assert_true(test_vm_run_until(f->vm, sent_enough, &w, 2000));
    gsize n;
    const uint8_t *p = g_bytes_get_data(sent(f, 2), &n);
    g_assert_cmpmem(p, n, frame, sizeof(frame));
}

/* An IPv4/TCP send of 2500 bytes with MSS 1000: three segments, each with
 * its IP length and ID, sequence number and valid checksums. */
static void test_tx_tso(struct fixture *f, gconstpointer data)
{
    (void)data;
    tx_setup(f, TX_RING, NDESC * 16);
    enum { HDR = 14 + 20 + 20, PAY = 2500, MSS = 1000 };
    g_autofree uint8_t *fr = g_malloc0(HDR + PAY);
    memcpy(fr, guest_mac, 6);
    memset(fr + 6, 0x02, 6);
    fr[12] = 0x08;
    uint8_t *ip = fr + 14, *tcp = ip + 20;
    ip[0] = 0x45; ip[4] = 0x12; ip[5] = 0x34; ip[8] = 64; ip[9] = 6;
    ip[12] = 10; ip[15] = 15; ip[16] = 10; ip[19] = 2;
    tcp[0] = 0x80; tcp[3] = 80;
    tcp[4] = 0x01; tcp[5] = 0x02; tcp[6] = 0x03; tcp[7] = 0x04;   /* seq */
    tcp[12] = 0x50; tcp[13] = 0x18;                                /* ACK | PSH */
    uint8_t pseudo[12] = { 0 };
    memcpy(pseudo, ip + 12, 8);
    pseudo[9] = 6;
    uint16_t seed = sum16(pseudo, 12, 0);          /* without the length */
    tcp[16] = seed >> 8; tcp[17] = (uint8_t)seed;
    for (unsigned i = 0; i < PAY; i++)
        fr[HDR + i] = (uint8_t)(i * 13);
    guest_memory_write(mem(f), TX_BUF, fr, HDR + PAY);
    uint8_t ctx[16] = { 14, 24, 33, 0, 34, 50, 0, 0 };
    uint32_t ctl = GUINT32_TO_LE(PAY | (0x20u | 0x04 | 0x02 | 0x01) << 24);   /* DEXT TSE IP TCP */
    memcpy(ctx + 8, &ctl, 4);
    ctx[13] = HDR;
    ctx[14] = MSS & 0xff; ctx[15] = MSS >> 8;
    guest_memory_write(mem(f), TX_RING, ctx, 16);
    put_desc(f, TX_RING, 1, TX_BUF, HDR | 1u << 20 | 0x24u << 24, 0x03u << 8);
    put_desc(f, TX_RING, 2, TX_BUF + HDR, PAY | 1u << 20 | 0x2du << 24, 0x03u << 8);
    wr(f, TDT, 3);
    struct wait_sent w = { f, 3 };
    g_assert_true(test_vm_run_until(f->vm, sent_enough, &w, 2000));
    g_assert_cmpuint(f->be.sent->len, ==, 3);
    for (unsigned s = 0; s < 3; s++) {
        gsize n;
        const uint8_t *p = g_bytes_get_data(sent(f, s), &n);
        size_t pay = s < 2 ? MSS : PAY - 2 * MSS;
        g_assert_cmpuint(n, ==, HDR + pay);
        g_assert_cmpuint(p[16] << 8 | p[17], ==, 40 + pay);              /* IP total length */
        g_assert_cmpuint(p[18] << 8 | p[19], ==, 0x1234 + s);            /* IP ID */
        g_assert_cmphex(sum16(p + 14, 20, 0), ==, 0xffff);
        uint32_t seq = (uint32_t)p[38] << 24 | p[39] << 16 | p[40] << 8 | p[41];
        g_assert_cmphex(seq, ==, 0x01020304u + s * MSS);
        g_assert_cmphex(p[47] & 0x08, ==, s == 2 ? 0x08 : 0);             /* PSH on the last */
        uint8_t ph[12];
        memcpy(ph, pseudo, 12);
        ph[10] = (uint8_t)((20 + pay) >> 8);
        ph[11] = (uint8_t)(20 + pay);
        g_assert_cmphex(sum16(p + 34, 20 + pay, sum16(ph, 12, 0)), ==, 0xffff);
        g_assert_cmpmem(p + HDR, pay, fr + HDR + s * MSS, pay);
    }
}

/* ---- receive ----------------------------------------------------------------------- */

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static void test_rx_extended(struct fixture *f, gconstpointer data)
{
    (void)data;
    wr(f, IMS, ICR_RXT0);
    rx_setup(f, NDESC, NDESC - 1, true);
    /* A driver's descriptor holds the buffer address and a dirty upper half. */
    put_desc(f, RX_RING, 0, RX_BUF, 0xdeadbeef, 0xdeadbeef);
    uint8_t fr[200];
    memcpy(fr, guest_mac, 6);
    memset(fr + 6, 0xaa, 6);
    for (unsigned i = 12; i < sizeof(fr); i++)
        fr[i] = (uint8_t)(i ^ 0x5a);
    g_assert_true(receive(f, fr, sizeof(fr)));
    uint8_t got[256], d[16];
    guest_memory_read(mem(f), RX_BUF, got, sizeof(fr));
    g_assert_cmpmem(got, sizeof(fr), fr, sizeof(fr));
    guest_memory_read(mem(f), RX_RING, d, 16);
    /* Write-back: MRQ and RSS/IP words, status_error (DD, EOP, IXSM; no
     * error), length (CRC stripped), VLAN. */
    g_assert_cmphex(le32(d), ==, 0);
    g_assert_cmphex(le32(d + 4), ==, 0);
    g_assert_cmphex(le32(d + 8), ==, 0x7);
    g_assert_cmpuint(d[12] | d[13] << 8, ==, sizeof(fr));
    g_assert_cmpuint(d[14] | d[15] << 8, ==, 0);
    g_assert_cmpuint(rd(f, RDH), ==, 1);
    g_assert_true(intx(f));
    g_assert_cmphex(rd(f, ICR) & (ICR_RXT0 | ICR_RXQ0), ==, ICR_RXT0 | ICR_RXQ0);
    g_assert_cmpuint(rd(f, GPRC), ==, 1);

    /* A short broadcast frame is padded to 60 bytes. */
    uint8_t arp[42];
    memset(arp, 0xff, 6);
    memset(arp + 6, 0x11, 36);
    g_assert_true(receive(f, arp, sizeof(arp)));
    guest_memory_read(mem(f), RX_RING + 16, d, 16);
    g_assert_cmpuint(d[12] | d[13] << 8, ==, 60);
    /* Not for us: filtered. */
    uint8_t other[64] = { 0x02, 1, 2, 3, 4, 5 };
    g_assert_true(receive(f, other, sizeof(other)));
    g_assert_cmpuint(rd(f, RDH), ==, 2);

    /* Fill the ring: the last free descriptor stays the driver's; giving
     * buffers back resumes the backend. */
    for (unsigned i = 2; i < NDESC - 1; i++)
        g_assert_true(receive(f, fr, sizeof(fr)));
    g_assert_false(receive(f, fr, sizeof(fr)));
    unsigned before = f->be.resumes;
    wr(f, RDT, 3);
    run_main(f);
    g_assert_cmpuint(f->be.resumes, ==, before + 1);
    g_assert_true(receive(f, fr, sizeof(fr)));
    g_assert_cmpuint(rd(f, RDH), ==, 0);
}

/* Without RFCTL.EXSTEN the legacy layout is written back; a frame larger
 * than a buffer spans descriptors with EOP on the last. */
static void test_rx_legacy_multi(struct fixture *f, gconstpointer data)
{
    (void)data;
    rx_setup(f, NDESC, NDESC - 1, false);
    wr(f, RCTL, 0x2 | 3u << 16 | 1u << 26);        /* 256-byte buffers, strip CRC */
    uint8_t fr[600];
    memcpy(fr, guest_mac, 6);
    for (unsigned i = 6; i < sizeof(fr); i++)
        fr[i] = (uint8_t)i;
    g_assert_true(receive(f, fr, sizeof(fr)));
    g_assert_cmpuint(rd(f, RDH), ==, 3);
    uint8_t d[16], got[256];
    for (unsigned i = 0; i < 3; i++) {
        guest_memory_read(mem(f), RX_RING + i * 16, d, 16);
        unsigned len = d[8] | d[9] << 8;
        g_assert_cmpuint(len, ==, i < 2 ? 256 : 600 - 512);
        g_assert_cmphex(d[12] & 3, ==, i < 2 ? 1 : 3);
        guest_memory_read(mem(f), RX_BUF + i * 0x1000, got, len);
        g_assert_cmpmem(got, len, fr + i * 256, len);
    }
}

/* ---- hostile drivers --------------------------------------------------------------- */

static void test_hostile_rings(struct fixture *f, gconstpointer data)
{
    (void)data;
    uint8_t fr[100];
    memcpy(fr, guest_mac, 6);
    memset(fr + 6, 0x33, sizeof(fr) - 6);

    rx_setup(f, NDESC, NDESC - 1, true);
    wr(f, RDLEN, 0);                                /* no ring */
    g_assert_true(receive(f, fr, sizeof(fr)));
    g_assert_cmpuint(rd(f, RDH), ==, 0);
    rx_setup(f, NDESC, NDESC - 1, true);
    wr(f, RDBAL, 0xf0000000u);                      /* outside RAM */
    g_assert_true(receive(f, fr, sizeof(fr)));
    g_assert_cmpuint(rd(f, RDH), ==, 0);
    rx_setup(f, NDESC, NDESC - 1, true);
    wr(f, RDBAL, RAM - 64);                         /* runs off the end of RAM */
    g_assert_true(receive(f, fr, sizeof(fr)));
    g_assert_cmpuint(rd(f, RDH), ==, 0);
    rx_setup(f, NDESC, NDESC - 1, true);
    wr(f, RDH, 1000);                               /* head beyond the ring */
    g_assert_true(receive(f, fr, sizeof(fr)));
    g_assert_cmpuint(rd(f, RDH), ==, 1000);
    rx_setup(f, NDESC, 500, true);                  /* tail beyond the ring */
    g_assert_true(receive(f, fr, sizeof(fr)));
    g_assert_cmpuint(rd(f, RDH), ==, 0);

    /* A buffer outside RAM: written back with RXE and no length. */
    rx_setup(f, NDESC, NDESC - 1, true);
    put_desc(f, RX_RING, 0, (uint64_t)RAM - 8, 0, 0);
    g_assert_true(receive(f, fr, sizeof(fr)));
    g_assert_true(receive(f, fr, sizeof(fr)));
    uint8_t d[16], got[100];
    guest_memory_read(mem(f), RX_RING, d, 16);
    g_assert_cmphex(le32(d + 8), ==, 0x80000007u);
    g_assert_cmpuint(d[12] | d[13] << 8, ==, 0);
    guest_memory_read(mem(f), RX_BUF + 0x1000, got, sizeof(got));
    g_assert_cmpmem(got, sizeof(got), fr, sizeof(fr));
    /* Packet split descriptors are not modelled: dropped, not misread. */
    wr(f, RCTL, rd(f, RCTL) | 1u << 10);
    g_assert_true(receive(f, fr, sizeof(fr)));
    g_assert_cmpuint(rd(f, RDH), ==, 2);
    /* Bus mastering off: no DMA at all. */
    wr(f, RCTL, rd(f, RCTL) & ~(1u << 10));
    pci_config_write(f->bus, f->dev->slot, 0, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    g_assert_true(receive(f, fr, sizeof(fr)));
    g_assert_cmpuint(rd(f, RDH), ==, 2);
    pci_config_write(f->bus, f->dev->slot, 0, PCI_COMMAND,
                     PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);

    /* Transmit: bad ring base, bad tail, then bad buffers around one good
     * frame, and a TSO context whose header does not fit. */
    uint8_t good[64] = { 1, 2, 3 };
    guest_memory_write(mem(f), TX_BUF, good, sizeof(good));
    tx_setup(f, 0xfffff000ull, NDESC * 16);
    wr(f, TDT, 2);
    run_main(f);
    g_assert_cmpuint(rd(f, TDH), ==, 0);
    tx_setup(f, TX_RING, NDESC * 16);
    wr(f, TDT, NDESC + 3);
    run_main(f);
    g_assert_cmpuint(rd(f, TDH), ==, 0);
    tx_setup(f, TX_RING, NDESC * 16);
    uint8_t ctx[16] = { 14, 250, 33, 0, 34, 255, 0, 0 };
    uint32_t ctl = GUINT32_TO_LE(100u | (0x20u | 0x04 | 0x02 | 0x01) << 24);
    memcpy(ctx + 8, &ctl, 4);
    ctx[13] = 40;                                   /* header shorter than the offsets */
    ctx[14] = 1;                                    /* MSS 1 */
    guest_memory_write(mem(f), TX_RING, ctx, 16);
    put_desc(f, TX_RING, 1, TX_BUF, 100 | 1u << 20 | 0x2du << 24, 0x03u << 8);
    put_desc(f, TX_RING, 2, 0xfff00000ull, 64 | 0x09u << 24, 0);
    put_desc(f, TX_RING, 3, TX_BUF, 0xfffff | 1u << 20 | 0x29u << 24, 0);
    put_desc(f, TX_RING, 4, ~0ull, 64 | 1u << 20 | 0x21u << 24, 0);
    put_desc(f, TX_RING, 5, TX_BUF, 64 | 0x09u << 24, 0);
    wr(f, TDT, 6);
    struct wait_sent w = { f, 1 };
    g_assert_true(test_vm_run_until(f->vm, sent_enough, &w, 2000));
    run_main(f);
    g_assert_cmpuint(f->be.sent->len, ==, 1);
    gsize n;
    const uint8_t *p = g_bytes_get_data(sent(f, 0), &n);
    g_assert_cmpmem(p, n, good, sizeof(good));
    g_assert_cmpuint(rd(f, TDH), ==, 6);

    /* MSI-X vectors beyond the table in IVAR fire nothing. */
    msix_setup(f);
    unsigned before = test_vm_msi_count(f->vm);
    wr(f, IVAR, 0xf | 0xfu << 8 | 0xfu << 16);
    wr(f, ICS, ICR_RXQ0 | ICR_TXQ0 | ICR_LSC);
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, before);
}

/* ---- VM state ---------------------------------------------------------------------- */

static void test_state_round_trip(struct fixture *f, gconstpointer data)
{
    (void)data;
    msix_setup(f);
    tx_setup(f, TX_RING, NDESC * 16);
    wr(f, RDT, 5);
    struct state_out o;
    state_out_init(&o);
    g_autoptr(GError) err = NULL;
    g_assert_true(f->dev->state->save(f->dev, &o, &err));

    struct rec_backend be2 = { .nb = { .ops = &rec_ops, .ctx = vm_main_context(f->vm) } };
    struct e1000e *other = e1000e_create_on_backend(f->vm, f->bus, NULL, &be2.nb, &err);
    g_assert_no_error(err);
    struct pci_device *d2 = e1000e_pci_device(other);
    /* Configuration space first, as pci_state does (with BARs of its own
     * here, since both NICs sit on one bus). */
    pci_config_write(f->bus, d2->slot, 0, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    unsigned cap = find_cap(f, PCI_CAP_ID_MSIX);
    pci_config_write(f->bus, d2->slot, 0, cap + 2, 0x8000, 2);
    uint64_t mmio2 = pci_config_read(f->bus, d2->slot, 0, PCI_BAR0, 4) & ~0xfu;
    g_assert_cmphex(mmio2, !=, f->mmio);
    struct state_in in;
    state_in_init(&in, o.buf->data, o.buf->len, "e1000e");
    g_assert_true(d2->state->load(d2, &in, 1, &err));
    g_assert_no_error(err);
    g_assert_true(state_in_finish(&in, &err));
    g_assert_cmphex(test_mmio_read(f->vm, mmio2 + TDLEN, 4), ==, NDESC * 16);
    g_assert_cmphex(test_mmio_read(f->vm, mmio2 + TDBAL, 4), ==, TX_RING);
    g_assert_cmphex(test_mmio_read(f->vm, mmio2 + RDT, 4), ==, 5);
    g_assert_cmphex(test_mmio_read(f->vm, mmio2 + IVAR, 4), ==, rd(f, IVAR));
    g_assert_cmphex(test_mmio_read(f->vm, mmio2 + RAL0, 4), ==, 0x12005452);
    /* The MSI-X table came along: a link change reaches vector 2. */
    unsigned before = test_vm_msi_count(f->vm);
    test_mmio_write(f->vm, mmio2 + ICS, ICR_LSC, 4);
    g_assert_cmpuint(test_vm_msi_count(f->vm), ==, before + 1);
    g_assert_cmphex(last_msi(f), ==, 0x42);

    /* A truncated state is refused. */
    state_in_init(&in, o.buf->data, o.buf->len - 3, "e1000e");
    g_clear_error(&err);
    g_assert_false(d2->state->load(d2, &in, 1, &err) && state_in_finish(&in, &err));
    g_assert_nonnull(err);
    state_out_clear(&o);
    e1000e_free(other);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add(name, struct fixture, NULL, setup, fn, teardown)
    ADD("/e1000e/identity", test_identity);
    ADD("/e1000e/nvm", test_nvm);
    ADD("/e1000e/phy-status", test_phy_and_status);
    ADD("/e1000e/reset", test_reset);
    ADD("/e1000e/icr-intx", test_icr_intx);
    ADD("/e1000e/msix", test_msix);
    ADD("/e1000e/tx/frame", test_tx_frame);
    ADD("/e1000e/tx/tso", test_tx_tso);
    ADD("/e1000e/tx/vlan", test_tx_vlan);
    ADD("/e1000e/rx/extended", test_rx_extended);
    ADD("/e1000e/rx/legacy-multi", test_rx_legacy_multi);
    ADD("/e1000e/hostile/rings", test_hostile_rings);
    ADD("/e1000e/state/round-trip", test_state_round_trip);
    return g_test_run();
}
