/* Unit tests of the e1000 model: driven through its PCI BARs as a driver
 * would, with rings in test guest memory and a backend that records what
 * the NIC sends and feeds it frames. */
#include <string.h>
#include <glib.h>

#include "net/e1000.h"
#include "pci/pci.h"
#include "core/state_stream.h"
#include "tests/support/test_vm.h"

#define RAM        (32u << 20)
#define TX_RING    0x100000u
#define RX_RING    0x101000u
#define TX_BUF     0x110000u
#define RX_BUF     0x200000u
#define NDESC      8

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
    struct e1000 *nic;
    uint64_t mmio;
    uint16_t io;
    int gsi;
};

static void setup(struct fixture *f, gconstpointer data)
{
    (void)data;
    f->vm = test_vm_new(RAM);
    f->bus = pci_bus_create(f->vm);
    f->be.nb.ops = &rec_ops;
    f->be.nb.ctx = vm_main_context(f->vm);
    f->be.sent = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    g_autoptr(GError) err = NULL;
    f->nic = e1000_create_on_backend(f->vm, f->bus, guest_mac, &f->be.nb, &err);
    g_assert_no_error(err);
    struct pci_device *d = e1000_pci_device(f->nic);
    g_assert_cmphex(pci_config_read(f->bus, d->slot, 0, PCI_VENDOR_ID, 4), ==, 0x100e8086);
    pci_config_write(f->bus, d->slot, 0, PCI_COMMAND,
                     PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
    f->mmio = pci_config_read(f->bus, d->slot, 0, PCI_BAR0, 4) & ~0xfu;
    f->io = (uint16_t)(pci_config_read(f->bus, d->slot, 0, PCI_BAR0 + 4, 4) & ~3u);
    g_assert_cmphex(f->mmio, !=, 0);
    g_assert_cmphex(f->io, !=, 0);
    f->gsi = pci_device_intx_gsi(d);
    g_assert_cmpint(f->gsi, >=, 16);
}

static void teardown(struct fixture *f, gconstpointer data)
{
    (void)data;
    e1000_free(f->nic);
    g_ptr_array_free(f->be.sent, TRUE);
    pci_bus_free(f->bus);
    test_vm_free(f->vm);
}

static uint32_t rd(struct fixture *f, unsigned off) { return (uint32_t)test_mmio_read(f->vm, f->mmio + off, 4); }
static void wr(struct fixture *f, unsigned off, uint32_t v) { test_mmio_write(f->vm, f->mmio + off, v, 4); }
static struct guest_memory *mem(struct fixture *f) { return vm_memory(f->vm); }

/* ---- EEPROM -------------------------------------------------------------------- */

static void ee_clock(struct fixture *f, uint32_t eecd)
{
    wr(f, 0x10, eecd | 1);
    wr(f, 0x10, eecd);
}

/* A Microwire read the way the Linux driver bit-bangs it. */
static uint16_t ee_read_microwire(struct fixture *f, unsigned addr)
{
    uint32_t base = rd(f, 0x10) & ~0xfu;
    base |= 0x40;                                   /* request */
    wr(f, 0x10, base);
    g_assert_true(rd(f, 0x10) & 0x80);              /* granted */
    uint32_t cs = base | 2;
    wr(f, 0x10, cs);
    uint32_t cmd = (0x6u << 6) | addr;             /* start + read + 6-bit address */
    for (int i = 8; i >= 0; i--)
        ee_clock(f, cs | (((cmd >> i) & 1) ? 4 : 0));
    uint16_t v = 0;
    for (int i = 0; i < 16; i++) {
        wr(f, 0x10, cs | 1);
        v = (uint16_t)(v << 1 | ((rd(f, 0x10) >> 3) & 1));
        wr(f, 0x10, cs);
    }
    wr(f, 0x10, base & ~0x40u);
    return v;
}

static void test_eeprom(struct fixture *f, gconstpointer data)
{
    (void)data;
    g_assert_true(rd(f, 0x10) & 0x100);             /* EEPROM present */
    uint16_t sum = 0, words[64];
    for (unsigned i = 0; i < 64; i++) {
        words[i] = ee_read_microwire(f, i);
        sum = (uint16_t)(sum + words[i]);
    }
    g_assert_cmphex(sum, ==, 0xbaba);
    for (unsigned i = 0; i < 3; i++) {
        g_assert_cmphex(words[i] & 0xff, ==, guest_mac[2 * i]);
        g_assert_cmphex(words[i] >> 8, ==, guest_mac[2 * i + 1]);
    }
    /* EERD gives the same words. */
    for (unsigned i = 0; i < 64; i++) {
        wr(f, 0x14, 1 | i << 8);
        uint32_t v = rd(f, 0x14);
        g_assert_true(v & 0x10);
        g_assert_cmphex(v >> 16, ==, words[i]);
    }
    /* The receive address filter is loaded with the MAC. */
    g_assert_cmphex(rd(f, 0x5400), ==, 0x12005452u);
    g_assert_cmphex(rd(f, 0x5404), ==, 0x80005634u);
}

static void test_phy_and_status(struct fixture *f, gconstpointer data)
{
    (void)data;
    g_assert_cmphex(rd(f, 0x08) & 3, ==, 3);        /* full duplex, link up */
    wr(f, 0x20, 2u << 26 | 1u << 21 | 1u << 16);   /* read PHY 1 register 1 */
    uint32_t v = rd(f, 0x20);
    g_assert_true(v & (1u << 28));
    g_assert_false(v & (1u << 30));
    g_assert_true(v & 0x4);                         /* link status */
    wr(f, 0x20, 2u << 26 | 1u << 21 | 2u << 16);
    g_assert_cmphex(rd(f, 0x20) & 0xffff, ==, 0x0141);
    wr(f, 0x20, 2u << 26 | 5u << 21 | 1u << 16);   /* no PHY at address 5 */
    g_assert_true(rd(f, 0x20) & (1u << 30));
}

static void test_reset(struct fixture *f, gconstpointer data)
{
    (void)data;
    wr(f, 0xd0, 0xff);
    wr(f, 0x100, 0x8002);
    wr(f, 0x2808, 4096);
    wr(f, 0xc8, 0x80);
    g_assert_true(test_vm_irq_level(f->vm, (unsigned)f->gsi));
    wr(f, 0x00, rd(f, 0x00) | (1u << 26));
    g_assert_cmphex(rd(f, 0x00) & (1u << 26), ==, 0);
    g_assert_cmphex(rd(f, 0xd0), ==, 0);
    g_assert_cmphex(rd(f, 0x100), ==, 0);
    g_assert_cmphex(rd(f, 0x2808), ==, 0);
    g_assert_false(test_vm_irq_level(f->vm, (unsigned)f->gsi));
    g_assert_cmphex(rd(f, 0x5404), ==, 0x80005634u);
    g_assert_cmphex(rd(f, 0x08) & 2, ==, 2);
}

static void test_icr(struct fixture *f, gconstpointer data)
{
    (void)data;
    unsigned gsi = (unsigned)f->gsi;
    wr(f, 0xc8, 0x84);                              /* ICS: RXT0 | LSC */
    g_assert_false(test_vm_irq_level(f->vm, gsi));  /* masked */
    wr(f, 0xd0, 0x80);                              /* IMS RXT0 */
    g_assert_cmphex(rd(f, 0xd0), ==, 0x80);
    g_assert_true(test_vm_irq_level(f->vm, gsi));
    wr(f, 0xd8, 0x80);                              /* IMC */
    g_assert_false(test_vm_irq_level(f->vm, gsi));
    wr(f, 0xd0, 0x04);
    g_assert_true(test_vm_irq_level(f->vm, gsi));
    g_assert_cmphex(rd(f, 0xc0), ==, 0x84);         /* read ... */
    g_assert_false(test_vm_irq_level(f->vm, gsi));
    g_assert_cmphex(rd(f, 0xc0), ==, 0);            /* ... clears */
    wr(f, 0xc8, 0x05);
    wr(f, 0xc0, 0x04);                              /* write-1-to-clear */
    g_assert_cmphex(rd(f, 0xc0), ==, 0x01);
    /* The I/O window reaches the same registers. */
    test_pio_write(f->vm, f->io, 0x08, 4);
    g_assert_cmphex(test_pio_read(f->vm, f->io + 4, 4) & 3, ==, 3);
    test_pio_write(f->vm, f->io, 0xd0, 4);
    g_assert_cmphex(test_pio_read(f->vm, f->io + 4, 4), ==, 0x04);
}

/* ---- transmit ------------------------------------------------------------------ */

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

static void tx_setup(struct fixture *f, uint64_t base, uint32_t len)
{
    wr(f, 0x3800, (uint32_t)base);
    wr(f, 0x3804, (uint32_t)(base >> 32));
    wr(f, 0x3808, len);
    wr(f, 0x3810, 0);
    wr(f, 0x3818, 0);
    wr(f, 0x400, 0x2);                              /* TCTL.EN */
}

struct wait_sent { struct fixture *f; unsigned n; };
static bool sent_enough(void *opaque)
{
    struct wait_sent *w = opaque;
    return w->f->be.sent->len >= w->n;
}

static void run_main(struct fixture *f)
{
    while (g_main_context_iteration(vm_main_context(f->vm), FALSE))
        ;
}

static GBytes *sent(struct fixture *f, unsigned i) { return g_ptr_array_index(f->be.sent, i); }

static void test_tx_frame(struct fixture *f, gconstpointer data)
{
    (void)data;
    wr(f, 0xd0, 0x1);                               /* TXDW */
    tx_setup(f, TX_RING, NDESC * 16);
    uint8_t frame[100];
    for (unsigned i = 0; i < sizeof(frame); i++)
        frame[i] = (uint8_t)(i * 7 + 3);
    /* Two descriptors for one frame, then a second frame in one. */
    guest_memory_write(mem(f), TX_BUF, frame, 40);
    guest_memory_write(mem(f), TX_BUF + 0x1000, frame + 40, 60);
    guest_memory_write(mem(f), TX_BUF + 0x2000, frame, 64);
    put_desc(f, TX_RING, 0, TX_BUF, 40, 0);
    put_desc(f, TX_RING, 1, TX_BUF + 0x1000, 60 | (0x01u | 0x02 | 0x08) << 24, 0);
    put_desc(f, TX_RING, 2, TX_BUF + 0x2000, 64 | (0x01u | 0x08) << 24, 0);
    wr(f, 0x3818, 3);
    struct wait_sent w = { f, 2 };
    g_assert_true(test_vm_run_until(f->vm, sent_enough, &w, 2000));
    g_assert_cmpuint(f->be.sent->len, ==, 2);
    gsize n;
    const uint8_t *p = g_bytes_get_data(sent(f, 0), &n);
    g_assert_cmpmem(p, n, frame, 100);
    p = g_bytes_get_data(sent(f, 1), &n);
    g_assert_cmpmem(p, n, frame, 64);
    g_assert_cmpuint(rd(f, 0x3810), ==, 3);         /* TDH caught up */
    uint8_t st;
    guest_memory_read(mem(f), TX_RING + 2 * 16 + 12, &st, 1);
    g_assert_true(st & 1);                          /* DD */
    g_assert_true(test_vm_irq_level(f->vm, (unsigned)f->gsi));
    g_assert_true(rd(f, 0xc0) & 1);                 /* TXDW */
    g_assert_cmpuint(rd(f, 0x4080), ==, 2);         /* GPTC, then cleared */
    g_assert_cmpuint(rd(f, 0x4080), ==, 0);
}

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

/* An IPv4/UDP frame with checksum offload through a context descriptor:
 * both checksums come out valid. */
static void test_tx_checksum_offload(struct fixture *f, gconstpointer data)
{
    (void)data;
    tx_setup(f, TX_RING, NDESC * 16);
    uint8_t fr[14 + 20 + 8 + 32] = { 0 };
    memset(fr, 0xff, 6);
    memcpy(fr + 6, guest_mac, 6);
    fr[12] = 0x08;
    uint8_t *ip = fr + 14;
    ip[0] = 0x45; ip[2] = 0; ip[3] = 60; ip[8] = 64; ip[9] = 17;
    ip[12] = 10; ip[13] = 0; ip[14] = 2; ip[15] = 15;
    ip[16] = 10; ip[17] = 0; ip[18] = 2; ip[19] = 2;
    uint8_t *udp = ip + 20;
    udp[0] = 0x12; udp[1] = 0x34; udp[2] = 0x00; udp[3] = 0x35; udp[5] = 40;
    for (unsigned i = 0; i < 32; i++)
        udp[8 + i] = (uint8_t)(i + 1);
    /* The driver seeds the UDP checksum with the pseudo-header sum. */
    uint8_t pseudo[12];
    memcpy(pseudo, ip + 12, 8);
    pseudo[8] = 0; pseudo[9] = 17; pseudo[10] = 0; pseudo[11] = 40;
    uint16_t seed = sum16(pseudo, 12, 0);
    udp[6] = seed >> 8; udp[7] = (uint8_t)seed;
    guest_memory_write(mem(f), TX_BUF, fr, sizeof(fr));
    /* Context: IP header 14..33, checksum at 24; UDP from 34, checksum at 40. */
    uint8_t ctx[16] = { 14, 24, 33, 0, 34, 40, 0, 0 };
    uint32_t ctl = GUINT32_TO_LE((0x20u | 0x02u) << 24);   /* DEXT, TUCMD.IP */
    memcpy(ctx + 8, &ctl, 4);
    g_assert_true(guest_memory_write(mem(f), TX_RING, ctx, 16));
    put_desc(f, TX_RING, 1, TX_BUF,
             (uint32_t)sizeof(fr) | 1u << 20 | (0x20u | 0x01 | 0x08) << 24,
             (0x01u | 0x02) << 8);                  /* popts IXSM | TXSM */
    wr(f, 0x3818, 2);
    struct wait_sent w = { f, 1 };
    g_assert_true(test_vm_run_until(f->vm, sent_enough, &w, 2000));
    gsize n;
    const uint8_t *p = g_bytes_get_data(sent(f, 0), &n);
    g_assert_cmpuint(n, ==, sizeof(fr));
    g_assert_cmphex(sum16(p + 14, 20, 0), ==, 0xffff);            /* IP header */
    g_assert_cmphex(sum16(p + 34, 40, sum16(pseudo, 12, 0)), ==, 0xffff);   /* UDP */
    g_assert_cmpmem(p + 42, 32, fr + 42, 32);
}

/* ---- receive ------------------------------------------------------------------- */

static void rx_setup(struct fixture *f, unsigned ndesc, unsigned tail)
{
    for (unsigned i = 0; i < ndesc; i++)
        put_desc(f, RX_RING, i, RX_BUF + i * 0x1000, 0, 0);
    wr(f, 0x2800, RX_RING);
    wr(f, 0x2804, 0);
    wr(f, 0x2808, ndesc * 16);
    wr(f, 0x2810, 0);
    wr(f, 0x2818, tail);
    wr(f, 0x100, 0x2 | 0x8000);                     /* EN, broadcast accept, 2 KiB buffers */
}

static void test_rx_frame(struct fixture *f, gconstpointer data)
{
    (void)data;
    wr(f, 0xd0, 0x80);                              /* RXT0 */
    rx_setup(f, NDESC, NDESC - 1);
    uint8_t fr[200];
    memcpy(fr, guest_mac, 6);
    memset(fr + 6, 0xaa, 6);
    for (unsigned i = 12; i < sizeof(fr); i++)
        fr[i] = (uint8_t)(i ^ 0x5a);
    g_assert_true(f->be.nb.receive(f->be.nb.receive_opaque, fr, sizeof(fr)));
    uint8_t got[256], d[16];
    guest_memory_read(mem(f), RX_BUF, got, sizeof(fr));
    g_assert_cmpmem(got, sizeof(fr), fr, sizeof(fr));
    guest_memory_read(mem(f), RX_RING, d, 16);
    g_assert_cmpuint(d[8] | d[9] << 8, ==, sizeof(fr) + 4);   /* with FCS */
    g_assert_cmphex(d[12] & 3, ==, 3);              /* DD | EOP */
    g_assert_cmpuint(rd(f, 0x2810), ==, 1);
    g_assert_true(test_vm_irq_level(f->vm, (unsigned)f->gsi));
    g_assert_true(rd(f, 0xc0) & 0x80);
    g_assert_false(test_vm_irq_level(f->vm, (unsigned)f->gsi));

    /* Not for us: filtered. */
    uint8_t other[64] = { 0x02, 1, 2, 3, 4, 5 };
    g_assert_true(f->be.nb.receive(f->be.nb.receive_opaque, other, sizeof(other)));
    g_assert_cmpuint(rd(f, 0x2810), ==, 1);
    /* A short broadcast frame is padded to 60 bytes (+ FCS). */
    uint8_t arp[42];
    memset(arp, 0xff, 6);
    memset(arp + 6, 0x11, 36);
    g_assert_true(f->be.nb.receive(f->be.nb.receive_opaque, arp, sizeof(arp)));
    guest_memory_read(mem(f), RX_RING + 16, d, 16);
    g_assert_cmpuint(d[8] | d[9] << 8, ==, 64);
    g_assert_cmpuint(rd(f, 0x2810), ==, 2);

    /* Fill the ring: the last free descriptor stays the driver's. */
    for (unsigned i = 2; i < NDESC - 1; i++)
        g_assert_true(f->be.nb.receive(f->be.nb.receive_opaque, fr, sizeof(fr)));
    g_assert_cmpuint(rd(f, 0x2810), ==, NDESC - 1);
    g_assert_false(f->be.nb.receive(f->be.nb.receive_opaque, fr, sizeof(fr)));
    /* Giving buffers back resumes the backend. */
    unsigned before = f->be.resumes;
    wr(f, 0x2818, 3);
    run_main(f);
    g_assert_cmpuint(f->be.resumes, ==, before + 1);
    g_assert_true(f->be.nb.receive(f->be.nb.receive_opaque, fr, sizeof(fr)));
    g_assert_cmpuint(rd(f, 0x2810), ==, 0);
}

/* A frame larger than one buffer spans descriptors; EOP only on the last. */
static void test_rx_multi_descriptor(struct fixture *f, gconstpointer data)
{
    (void)data;
    rx_setup(f, NDESC, NDESC - 1);
    wr(f, 0x100, 0x2 | 0x8000 | 3u << 16 | 1u << 26);   /* 256-byte buffers, strip CRC */
    uint8_t fr[600];
    memcpy(fr, guest_mac, 6);
    for (unsigned i = 6; i < sizeof(fr); i++)
        fr[i] = (uint8_t)i;
    g_assert_true(f->be.nb.receive(f->be.nb.receive_opaque, fr, sizeof(fr)));
    g_assert_cmpuint(rd(f, 0x2810), ==, 3);
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

/* ---- hostile drivers ------------------------------------------------------------ */

static void test_hostile_tx(struct fixture *f, gconstpointer data)
{
    (void)data;
    uint8_t fr[64] = { 1, 2, 3 };
    guest_memory_write(mem(f), TX_BUF, fr, sizeof(fr));

    /* Ring base outside RAM: nothing moves. */
    tx_setup(f, 0xf0000000ull, NDESC * 16);
    wr(f, 0x3818, 2);
    run_main(f);
    g_assert_cmpuint(rd(f, 0x3810), ==, 0);
    g_assert_cmpuint(f->be.sent->len, ==, 0);

    /* TDT beyond the ring: stopped, not walked. */
    tx_setup(f, TX_RING, NDESC * 16);
    wr(f, 0x3818, NDESC + 5);
    run_main(f);
    g_assert_cmpuint(rd(f, 0x3810), ==, 0);

    /* Ring length 0: nothing. */
    tx_setup(f, TX_RING, 0);
    wr(f, 0x3818, 1);
    run_main(f);
    g_assert_cmpuint(rd(f, 0x3810), ==, 0);

    /* Buffer outside RAM, huge length, then a good frame: only the good
     * one leaves; the ring still advances past the bad ones. */
    tx_setup(f, TX_RING, NDESC * 16);
    put_desc(f, TX_RING, 0, 0xfff00000ull, 64 | 0x09u << 24, 0);
    put_desc(f, TX_RING, 1, (uint64_t)RAM - 16, 64 | 0x09u << 24, 0);
    put_desc(f, TX_RING, 2, TX_BUF, 0xffff | 0x09u << 24, 0);
    put_desc(f, TX_RING, 3, TX_BUF, 0xfffff | 1u << 20 | 0x29u << 24, 0);
    put_desc(f, TX_RING, 4, ~0ull, 64 | 1u << 20 | 0x21u << 24, 0);
    put_desc(f, TX_RING, 5, TX_BUF, 64 | 0x09u << 24, 0);
    wr(f, 0x3818, 6);
    struct wait_sent w = { f, 1 };
    g_assert_true(test_vm_run_until(f->vm, sent_enough, &w, 2000));
    run_main(f);
    g_assert_cmpuint(f->be.sent->len, ==, 1);
    gsize n;
    const uint8_t *p = g_bytes_get_data(sent(f, 0), &n);
    g_assert_cmpmem(p, n, fr, sizeof(fr));
    g_assert_cmpuint(rd(f, 0x3810), ==, 6);

    /* A ring that never ends a frame (no EOP anywhere) stays bounded. */
    for (unsigned i = 0; i < NDESC; i++)
        put_desc(f, TX_RING, i, TX_BUF, 2048, 0);
    wr(f, 0x3818, 5);                               /* wraps around */
    run_main(f);
    g_assert_cmpuint(rd(f, 0x3810), ==, 5);
    g_assert_cmpuint(f->be.sent->len, ==, 1);
}

static void test_hostile_rx(struct fixture *f, gconstpointer data)
{
    (void)data;
    uint8_t fr[100];
    memcpy(fr, guest_mac, 6);
    memset(fr + 6, 0x33, sizeof(fr) - 6);

    /* RDLEN 0: the frame is dropped, never written anywhere. */
    rx_setup(f, NDESC, NDESC - 1);
    wr(f, 0x2808, 0);
    g_assert_true(f->be.nb.receive(f->be.nb.receive_opaque, fr, sizeof(fr)));
    g_assert_cmpuint(rd(f, 0x2810), ==, 0);

    /* Ring base outside RAM. */
    rx_setup(f, NDESC, NDESC - 1);
    wr(f, 0x2800, 0xf0000000u);
    g_assert_true(f->be.nb.receive(f->be.nb.receive_opaque, fr, sizeof(fr)));
    g_assert_cmpuint(rd(f, 0x2810), ==, 0);

    /* Head beyond the ring. */
    rx_setup(f, NDESC, NDESC - 1);
    wr(f, 0x2810, 1000);
    g_assert_true(f->be.nb.receive(f->be.nb.receive_opaque, fr, sizeof(fr)));
    g_assert_cmpuint(rd(f, 0x2810), ==, 1000);

    /* A buffer outside RAM: the descriptor completes with an error and
     * zero length, the next frame lands in the next buffer. */
    rx_setup(f, NDESC, NDESC - 1);
    put_desc(f, RX_RING, 0, (uint64_t)RAM - 8, 0, 0);
    g_assert_true(f->be.nb.receive(f->be.nb.receive_opaque, fr, sizeof(fr)));
    g_assert_true(f->be.nb.receive(f->be.nb.receive_opaque, fr, sizeof(fr)));
    uint8_t d[16], got[100];
    guest_memory_read(mem(f), RX_RING, d, 16);
    g_assert_cmpuint(d[8] | d[9] << 8, ==, 0);
    g_assert_cmphex(d[13], !=, 0);
    guest_memory_read(mem(f), RX_BUF + 0x1000, got, sizeof(got));
    g_assert_cmpmem(got, sizeof(got), fr, sizeof(fr));

    /* Oversize frames from the backend are dropped. */
    g_autofree uint8_t *big = g_malloc0(70000);
    memcpy(big, guest_mac, 6);
    g_assert_true(f->be.nb.receive(f->be.nb.receive_opaque, big, 70000));
    g_assert_cmpuint(rd(f, 0x2810), ==, 2);

    /* Bus mastering off: no DMA at all. */
    struct pci_device *pd = e1000_pci_device(f->nic);
    pci_config_write(f->bus, pd->slot, 0, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    g_assert_true(f->be.nb.receive(f->be.nb.receive_opaque, fr, sizeof(fr)));
    g_assert_cmpuint(rd(f, 0x2810), ==, 2);
}

/* ---- through user-mode NAT ------------------------------------------------------ */

struct wait_rdh { struct fixture *f; uint64_t mmio; };
static bool rdh_moved(void *opaque)
{
    struct wait_rdh *w = opaque;
    return test_mmio_read(w->f->vm, w->mmio + 0x2810, 4) != 0;
}

/* The real backend: an ARP request for the gateway leaves through the TX
 * ring, libslirp answers, the reply lands in the RX ring. */
static void test_arp_through_slirp(struct fixture *f, gconstpointer data)
{
    (void)data;
    struct net_config cfg = { .backend = NET_BACKEND_USER, .model = NET_MODEL_E1000,
                              .mac_set = true };
    memcpy(cfg.mac, guest_mac, 6);
    g_autoptr(GError) err = NULL;
    /* A second NIC on the same bus, on the real backend. */
    struct e1000 *nic = e1000_create(f->vm, f->bus, &cfg, &err);
    g_assert_no_error(err);
    struct pci_device *d = e1000_pci_device(nic);
    pci_config_write(f->bus, d->slot, 0, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    uint64_t mmio = pci_config_read(f->bus, d->slot, 0, PCI_BAR0, 4) & ~0xfu;
    struct fixture g = *f;
    g.mmio = mmio;
    rx_setup(&g, NDESC, NDESC - 1);
    tx_setup(&g, TX_RING, NDESC * 16);

    uint8_t fr[60] = { 0 };
    memset(fr, 0xff, 6);
    memcpy(fr + 6, guest_mac, 6);
    fr[12] = 0x08; fr[13] = 0x06;
    static const uint8_t arp[8] = { 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01 };
    memcpy(fr + 14, arp, 8);
    memcpy(fr + 22, guest_mac, 6);
    static const uint8_t sip[4] = { 10, 0, 2, 15 }, tip[4] = { 10, 0, 2, 2 };
    memcpy(fr + 28, sip, 4);
    memcpy(fr + 38, tip, 4);
    guest_memory_write(mem(f), TX_BUF, fr, sizeof(fr));
    put_desc(f, TX_RING, 0, TX_BUF, sizeof(fr) | 0x0bu << 24, 0);
    wr(&g, 0x3818, 1);

    struct wait_rdh w = { f, mmio };
    g_assert_true(test_vm_run_until(f->vm, rdh_moved, &w, 5000));
    uint8_t desc[16], r[64];
    guest_memory_read(mem(f), RX_RING, desc, 16);
    g_assert_cmphex(desc[12] & 3, ==, 3);
    g_assert_cmpuint(desc[8] | desc[9] << 8, >=, 60);
    guest_memory_read(mem(f), RX_BUF, r, sizeof(r));
    g_assert_cmpmem(r, 6, guest_mac, 6);                        /* to us */
    g_assert_cmpuint(r[12] << 8 | r[13], ==, 0x0806);
    g_assert_cmpuint(r[20] << 8 | r[21], ==, 2);                /* ARP reply */
    g_assert_cmpmem(r + 28, 4, tip, 4);                         /* from 10.0.2.2 */
    e1000_free(nic);
}

/* ---- VM state -------------------------------------------------------------------- */

/* Save one NIC, load into another on the same bus: the driver-visible
 * registers and the MAC come along; a damaged EEPROM state is refused. */
static void test_state_round_trip(struct fixture *f, gconstpointer data)
{
    tx_setup(f, TX_RING, NDESC * 16);
    wr(f, 0xd0, 0x84);                              /* IMS */
    wr(f, 0x2818, 5);                               /* RDT */
    struct pci_device *d = e1000_pci_device(f->nic);
    struct state_out o;
    state_out_init(&o);
    g_autoptr(GError) err = NULL;
    g_assert_true(d->state->save(d, &o, &err));

    struct rec_backend be2 = { .nb = { .ops = &rec_ops, .ctx = vm_main_context(f->vm) } };
    struct e1000 *other = e1000_create_on_backend(f->vm, f->bus, NULL, &be2.nb, &err);
    g_assert_no_error(err);
    struct pci_device *d2 = e1000_pci_device(other);
    pci_config_write(f->bus, d2->slot, 0, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    uint64_t mmio2 = pci_config_read(f->bus, d2->slot, 0, PCI_BAR0, 4) & ~0xfu;
    struct state_in in;
    state_in_init(&in, o.buf->data, o.buf->len, "e1000");
    g_assert_true(d2->state->load(d2, &in, 1, &err));
    g_assert_no_error(err);
    g_assert_true(state_in_finish(&in, &err));
    g_assert_cmphex(test_mmio_read(f->vm, mmio2 + 0x3808, 4), ==, NDESC * 16);
    g_assert_cmphex(test_mmio_read(f->vm, mmio2 + 0x3800, 4), ==, TX_RING);
    g_assert_cmphex(test_mmio_read(f->vm, mmio2 + 0xd0, 4), ==, 0x84);
    g_assert_cmphex(test_mmio_read(f->vm, mmio2 + 0x2818, 4), ==, 5);
    /* RAL0: the saved NIC's MAC, not the new one's. */
    g_assert_cmphex(test_mmio_read(f->vm, mmio2 + 0x5400, 4), ==, 0x12005452);

    /* An EEPROM shift state no Microwire access can produce: refused.
     * Its bytes follow the MAC, the sparse registers, the PHY and IOADDR. */
    g_autofree uint8_t *bad = g_memdup2(o.buf->data, o.buf->len);
    state_in_init(&in, bad, o.buf->len, "e1000");
    uint8_t mac[6];
    state_in_bytes(&in, mac, 6);
    g_autofree uint8_t *regs = g_malloc(128 * 1024);
    g_assert_true(state_in_sparse(&in, regs, 128 * 1024));
    size_t ee = in.pos + 32 * 2 + 4;
    bad[ee + 4] = 10;                               /* ee_in_bits > 9 */
    state_in_init(&in, bad, o.buf->len, "e1000");
    g_assert_false(d2->state->load(d2, &in, 1, &err));
    g_assert_nonnull(strstr(err->message, "EEPROM"));
    state_out_clear(&o);
    e1000_free(other);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add(name, struct fixture, NULL, setup, fn, teardown)
    ADD("/e1000/eeprom", test_eeprom);
    ADD("/e1000/phy-status", test_phy_and_status);
    ADD("/e1000/reset", test_reset);
    ADD("/e1000/icr", test_icr);
    ADD("/e1000/tx/frame", test_tx_frame);
    ADD("/e1000/tx/checksum-offload", test_tx_checksum_offload);
    ADD("/e1000/rx/frame", test_rx_frame);
    ADD("/e1000/rx/multi-descriptor", test_rx_multi_descriptor);
    ADD("/e1000/hostile/tx", test_hostile_tx);
    ADD("/e1000/hostile/rx", test_hostile_rx);
    ADD("/e1000/slirp/arp", test_arp_through_slirp);
    ADD("/e1000/state/round-trip", test_state_round_trip);
    return g_test_run();
}
