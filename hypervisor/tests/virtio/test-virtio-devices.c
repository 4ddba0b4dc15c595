/* virtio-net over real user-mode NAT, virtio-console, virtio-rng and
 * virtio-balloon,
 * driven through the PCI transport by the test driver. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_packet.h>
#include <glib.h>

#include "pci/pci.h"
#include "virtio/virtio_devices.h"
#include "virtio/virtio_pci.h"
#include "test_driver.h"

#define Q0_BASE 0x100000
#define Q1_BASE 0x110000
#define BUF     0x200000

struct fixture {
    struct vm *vm;
    struct pci_bus *bus;
    struct test_driver td;
};

static void setup(struct fixture *f, gconstpointer data)
{
    f->vm = test_vm_new(32 << 20);
    f->bus = pci_bus_create(f->vm);
}

static void teardown(struct fixture *f, gconstpointer data)
{
    pci_bus_free(f->bus);
    test_vm_free(f->vm);
}

static const uint64_t V1 = 1ull << VIRTIO_F_VERSION_1;

/* ---- virtio-net --------------------------------------------------------------- */

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* An ARP request from 10.0.2.15 asking for the gateway 10.0.2.2, with the
 * 12-byte virtio-net header in front. */
static size_t build_arp_request(uint8_t *p)
{
    memset(p, 0, 12);
    uint8_t *f = p + 12;
    memset(f, 0xff, 6);
    memcpy(f + 6, guest_mac, 6);
    f[12] = 0x08; f[13] = 0x06;                 /* ARP */
    uint8_t arp[28] = { 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01 };
    memcpy(arp + 8, guest_mac, 6);
    uint8_t sip[4] = { 10, 0, 2, 15 }, tip[4] = { 10, 0, 2, 2 };
    memcpy(arp + 14, sip, 4);
    memcpy(arp + 24, tip, 4);
    memcpy(f + 14, arp, 28);
    memset(f + 42, 0, 18);                      /* pad to 60 bytes */
    return 12 + 60;
}

static void test_net_arp_through_slirp(struct fixture *f, gconstpointer data)
{
    struct net_config cfg = { .backend = NET_BACKEND_USER, .mac_set = true };
    memcpy(cfg.mac, guest_mac, 6);
    g_autoptr(GError) err = NULL;
    struct virtio_net *net = virtio_net_create(f->vm, f->bus, &cfg, &err);
    g_assert_no_error(err);
    struct test_driver *td = &f->td;
    td_init(td, f->vm, f->bus, 2);
    g_assert_cmphex(pci_config_read(f->bus, 2, 0, PCI_DEVICE_ID, 2), ==, 0x1041);
    /* MAC and link status in the device configuration. */
    uint8_t mac[6];
    for (unsigned i = 0; i < 6; i++)
        mac[i] = (uint8_t)test_mmio_read(f->vm, td->device + i, 1);
    g_assert_cmpmem(mac, 6, guest_mac, 6);
    g_assert_cmpuint(test_mmio_read(f->vm, td->device + 6, 2), ==, 1);

    g_assert_true(td_negotiate(td, V1 | (1ull << 5) | (1ull << 16)));
    td_setup_queue(td, 0, 64, Q0_BASE);
    td_setup_queue(td, 1, 64, Q1_BASE);
    td_driver_ok(td);
    for (unsigned i = 0; i < 4; i++)
        td_add_buf(td, 0, BUF + 0x1000 * i, 2048, true);
    td_kick(td, 0);

    uint8_t frame[128];
    size_t len = build_arp_request(frame);
    guest_memory_write(vm_memory(f->vm), BUF + 0x10000, frame, len);
    td_add_buf(td, 1, BUF + 0x10000, (uint32_t)len, false);
    td_kick(td, 1);
    g_assert_true(td_wait_used(td, 1, 1, 5000));

    /* The gateway answers. */
    g_assert_true(td_wait_used(td, 0, 1, 5000));
    uint32_t id, rlen;
    td_used_elem(td, 0, 0, &id, &rlen);
    g_assert_cmpuint(rlen, >=, 12 + 42);
    uint8_t reply[2048];
    guest_memory_read(vm_memory(f->vm), BUF + 0x1000 * id, reply, rlen);
    g_assert_cmpuint(reply[12 - 2] | reply[12 - 1] << 8, ==, 1);   /* num_buffers */
    const uint8_t *r = reply + 12;
    g_assert_cmpmem(r, 6, guest_mac, 6);                            /* to us */
    g_assert_cmpuint(r[12] << 8 | r[13], ==, 0x0806);
    g_assert_cmpuint(r[14 + 6] << 8 | r[14 + 7], ==, 2);            /* ARP reply */
    uint8_t gw[4] = { 10, 0, 2, 2 };
    g_assert_cmpmem(r + 14 + 14, 4, gw, 4);                         /* from 10.0.2.2 */

    virtio_net_free(net);
}

/* Host-to-guest port forwarding: a connection to the forwarded host port
 * (accepted by slirp's listening socket, polled from the main loop) turns
 * into an ARP request for the guest and, once answered, a TCP SYN to the
 * guest port. */
static uint16_t free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t l = sizeof(a);
    g_assert_cmpint(bind(s, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(getsockname(s, (struct sockaddr *)&a, &l), ==, 0);
    close(s);
    return ntohs(a.sin_port);
}

/* Next frame the device delivered into rx buffer slot *seen (12-byte header
 * skipped); reposts the buffer. */
static size_t next_rx(struct fixture *f, uint16_t *seen, uint8_t *out)
{
    struct test_driver *td = &f->td;
    g_assert_true(td_wait_used(td, 0, (uint16_t)(*seen + 1), 10000));
    uint32_t id, len;
    td_used_elem(td, 0, *seen, &id, &len);
    (*seen)++;
    g_assert_cmpuint(len, >, 12);
    guest_memory_read(vm_memory(f->vm), BUF + 0x1000 * id, out, len);
    memmove(out, out + 12, len - 12);
    td_add_buf(td, 0, BUF + 0x1000 * id, 2048, true);
    td_kick(td, 0);
    return len - 12;
}

static void test_net_hostfwd(struct fixture *f, gconstpointer data)
{
    uint16_t port = free_port();
    struct net_config cfg = { .backend = NET_BACKEND_USER, .mac_set = true, .n_hostfwd = 1 };
    memcpy(cfg.mac, guest_mac, 6);
    cfg.hostfwd[0] = (struct net_hostfwd){ .host_addr = "127.0.0.1", .host_port = port,
                                           .guest_port = 2222 };
    g_autoptr(GError) err = NULL;
    struct virtio_net *net = virtio_net_create(f->vm, f->bus, &cfg, &err);
    g_assert_no_error(err);
    struct test_driver *td = &f->td;
    td_init(td, f->vm, f->bus, 2);
    g_assert_true(td_negotiate(td, V1 | (1ull << 5)));
    td_setup_queue(td, 0, 64, Q0_BASE);
    td_setup_queue(td, 1, 64, Q1_BASE);
    td_driver_ok(td);
    /* The device hands buffers back in order; slot i is buffer i. */
    for (unsigned i = 0; i < 8; i++)
        td_add_buf(td, 0, BUF + 0x1000 * i, 2048, true);
    td_kick(td, 0);

    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int r = connect(c, (struct sockaddr *)&a, sizeof(a));
    g_assert_true(r == 0 || errno == EINPROGRESS);

    uint16_t seen = 0;
    uint8_t fr[2048];
    size_t len = next_rx(f, &seen, fr);
    /* slirp does not know the guest's MAC yet: it asks. */
    g_assert_cmpuint(fr[12] << 8 | fr[13], ==, 0x0806);
    g_assert_cmpuint(fr[20] << 8 | fr[21], ==, 1);
    uint8_t guest_ip[4] = { 10, 0, 2, 15 };
    g_assert_cmpmem(fr + 38, 4, guest_ip, 4);

    /* Answer it. */
    uint8_t reply[12 + 60] = { 0 };
    uint8_t *e = reply + 12;
    memcpy(e, fr + 6, 6);
    memcpy(e + 6, guest_mac, 6);
    e[12] = 0x08; e[13] = 0x06;
    uint8_t arp[28] = { 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x02 };
    memcpy(arp + 8, guest_mac, 6);
    memcpy(arp + 14, guest_ip, 4);
    memcpy(arp + 18, fr + 22, 6);       /* target: the asker */
    memcpy(arp + 24, fr + 28, 4);
    memcpy(e + 14, arp, 28);
    guest_memory_write(vm_memory(f->vm), BUF + 0x20000, reply, sizeof(reply));
    td_add_buf(td, 1, BUF + 0x20000, sizeof(reply), false);
    td_kick(td, 1);

    /* Then the SYN for the guest port (slirp retries the ARP-blocked
     * packet from its timers). */
    bool syn = false;
    for (unsigned i = 0; i < 6 && !syn; i++) {
        len = next_rx(f, &seen, fr);
        if (len >= 14 + 20 + 20 && (fr[12] << 8 | fr[13]) == 0x0800 && fr[14 + 9] == 6) {
            const uint8_t *tcp = fr + 14 + (fr[14] & 0xf) * 4;
            syn = (tcp[2] << 8 | tcp[3]) == 2222 && (tcp[13] & 0x02);
            g_assert_cmpmem(fr + 14 + 16, 4, guest_ip, 4);
        }
    }
    g_assert_true(syn);
    close(c);
    virtio_net_free(net);
}

/* A tap interface: frames from the guest appear on the host interface and
 * frames sent there reach the guest.  Needs CAP_NET_ADMIN; skipped
 * without it. */
#define TEST_ETHERTYPE 0x88b5   /* IEEE local experimental */

static bool set_up(const char *ifname)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr = { 0 };
    g_strlcpy(ifr.ifr_name, ifname, IFNAMSIZ);
    bool ok = s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
    ifr.ifr_flags |= IFF_UP;
    ok = ok && ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
    if (s >= 0)
        close(s);
    return ok;
}

struct packet_wait {
    int fd;
    uint8_t frame[2048];
    ssize_t len;
};

static bool packet_arrived(void *opaque)
{
    struct packet_wait *w = opaque;
    for (;;) {
        ssize_t n = recv(w->fd, w->frame, sizeof(w->frame), MSG_DONTWAIT);
        if (n < 0)
            return false;
        /* Skip the host's own chatter (IPv6 router solicitations ...). */
        if (n >= 14 && (w->frame[12] << 8 | w->frame[13]) == TEST_ETHERTYPE) {
            w->len = n;
            return true;
        }
    }
}

static void test_net_tap(struct fixture *f, gconstpointer data)
{
    char ifname[IFNAMSIZ];
    g_snprintf(ifname, sizeof(ifname), "orieltap%u", (unsigned)getpid() % 100000);
    struct net_config cfg = { .backend = NET_BACKEND_TAP, .tap_ifname = ifname, .mac_set = true };
    memcpy(cfg.mac, guest_mac, 6);
    g_autoptr(GError) err = NULL;
    struct virtio_net *net = virtio_net_create(f->vm, f->bus, &cfg, &err);
    if (!net) {
        g_test_skip(err->message);
        return;
    }
    g_assert_true(set_up(ifname));
    int ps = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(TEST_ETHERTYPE));
    g_assert_cmpint(ps, >=, 0);
    struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(TEST_ETHERTYPE),
                               .sll_ifindex = (int)if_nametoindex(ifname) };
    g_assert_cmpint(bind(ps, (struct sockaddr *)&sll, sizeof(sll)), ==, 0);

    struct test_driver *td = &f->td;
    td_init(td, f->vm, f->bus, 2);
    g_assert_true(td_negotiate(td, V1 | (1ull << 5)));
    td_setup_queue(td, 0, 64, Q0_BASE);
    td_setup_queue(td, 1, 64, Q1_BASE);
    td_driver_ok(td);
    for (unsigned i = 0; i < 4; i++)
        td_add_buf(td, 0, BUF + 0x1000 * i, 2048, true);
    td_kick(td, 0);

    /* Guest to host. */
    uint8_t frame[12 + 64] = { 0 };
    uint8_t *e = frame + 12;
    memset(e, 0xff, 6);
    memcpy(e + 6, guest_mac, 6);
    e[12] = TEST_ETHERTYPE >> 8;
    e[13] = TEST_ETHERTYPE & 0xff;
    memcpy(e + 14, "from the guest", 14);
    guest_memory_write(vm_memory(f->vm), BUF + 0x10000, frame, sizeof(frame));
    td_add_buf(td, 1, BUF + 0x10000, sizeof(frame), false);
    td_kick(td, 1);
    struct packet_wait w = { .fd = ps };
    g_assert_true(test_vm_run_until(f->vm, packet_arrived, &w, 5000));
    g_assert_cmpint(w.len, ==, 64);
    g_assert_cmpmem(w.frame + 14, 14, "from the guest", 14);

    /* Host to guest. */
    uint8_t out[64] = { 0 };
    memcpy(out, guest_mac, 6);
    memcpy(out + 6, "\x02\x00\x00\x00\x00\x01", 6);
    out[12] = TEST_ETHERTYPE >> 8;
    out[13] = TEST_ETHERTYPE & 0xff;
    memcpy(out + 14, "from the host", 13);
    struct sockaddr_ll to = sll;
    to.sll_halen = 6;
    memcpy(to.sll_addr, guest_mac, 6);
    g_assert_cmpint(sendto(ps, out, sizeof(out), 0, (struct sockaddr *)&to, sizeof(to)), ==, 64);
    /* The guest may also get the host's own multicast chatter first. */
    bool found = false;
    for (uint16_t seen = 1; seen <= 4 && !found; seen++) {
        if (!td_wait_used(td, 0, seen, 5000))
            break;
        uint32_t id, len;
        td_used_elem(td, 0, (uint16_t)(seen - 1), &id, &len);
        uint8_t got[2048];
        guest_memory_read(vm_memory(f->vm), BUF + 0x1000 * id, got, len);
        found = len == 12 + 64 && memcmp(got + 12 + 14, "from the host", 13) == 0;
    }
    g_assert_true(found);
    close(ps);
    virtio_net_free(net);
}

/* ---- virtio-console ------------------------------------------------------------ */

struct console_sink {
    GString *out;
    unsigned rx_ready;
};

static void sink_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct console_sink *s = opaque;
    g_string_append_len(s->out, (const char *)buf, (gssize)len);
}

static void sink_rx_ready(void *opaque)
{
    struct console_sink *s = opaque;
    s->rx_ready++;
}

static void test_console(struct fixture *f, gconstpointer data)
{
    struct console_sink sink = { g_string_new(NULL), 0 };
    struct virtio_console_backend b = { sink_write, sink_rx_ready, &sink };
    g_autoptr(GError) err = NULL;
    struct virtio_console *con = virtio_console_create(f->vm, f->bus, &b, &err);
    g_assert_no_error(err);
    struct test_driver *td = &f->td;
    td_init(td, f->vm, f->bus, 2);
    g_assert_cmphex(pci_config_read(f->bus, 2, 0, PCI_DEVICE_ID, 2), ==, 0x1043);

    /* Input before the driver is ready is kept, up to the buffer (a
     * device reset discards it). */
    g_assert_true(td_negotiate(td, V1));
    g_assert_cmpuint(virtio_console_can_receive(con), >, 0);
    g_assert_cmpuint(virtio_console_receive(con, (const uint8_t *)"early ", 6), ==, 6);
    td_setup_queue(td, 0, 16, Q0_BASE);
    td_setup_queue(td, 1, 16, Q1_BASE);
    td_driver_ok(td);

    /* Output. */
    guest_memory_write(vm_memory(f->vm), BUF, "hello, host\n", 12);
    td_add_buf(td, 1, BUF, 12, false);
    td_kick(td, 1);
    g_assert_true(td_wait_used(td, 1, 1, 5000));
    g_assert_cmpstr(sink.out->str, ==, "hello, host\n");

    /* Input: the early bytes and new ones arrive once buffers are posted. */
    td_add_buf(td, 0, BUF + 0x1000, 64, true);
    td_kick(td, 0);
    g_assert_true(td_wait_used(td, 0, 1, 5000));
    g_assert_cmpuint(virtio_console_receive(con, (const uint8_t *)"typed", 5), ==, 5);
    td_add_buf(td, 0, BUF + 0x2000, 64, true);
    td_kick(td, 0);
    g_assert_true(td_wait_used(td, 0, 2, 5000));
    uint32_t id, len;
    char got[65] = { 0 };
    td_used_elem(td, 0, 0, &id, &len);
    g_assert_cmpuint(len, ==, 6);
    guest_memory_read(vm_memory(f->vm), BUF + 0x1000, got, len);
    g_assert_cmpstr(got, ==, "early ");
    td_used_elem(td, 0, 1, &id, &len);
    memset(got, 0, sizeof(got));
    guest_memory_read(vm_memory(f->vm), BUF + 0x2000, got, len);
    g_assert_cmpstr(got, ==, "typed");

    /* Flow control: a flood fills the buffer, the backend is told when the
     * guest makes room. */
    uint8_t flood[8192];
    memset(flood, 'x', sizeof(flood));
    size_t took = virtio_console_receive(con, flood, sizeof(flood));
    g_assert_cmpuint(took, <, sizeof(flood));
    g_assert_cmpuint(virtio_console_can_receive(con), ==, 0);
    g_assert_cmpuint(sink.rx_ready, ==, 0);
    td_add_buf(td, 0, BUF + 0x3000, 1024, true);
    td_kick(td, 0);
    g_assert_true(td_wait_used(td, 0, 3, 5000));
    g_assert_cmpuint(sink.rx_ready, ==, 1);
    g_assert_cmpuint(virtio_console_can_receive(con), ==, 1024);

    virtio_console_free(con);
    g_string_free(sink.out, TRUE);
}

/* ---- virtio-rng ------------------------------------------------------------------ */

static void test_rng(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    struct virtio_rng *rng = virtio_rng_create(f->vm, f->bus, &err);
    g_assert_no_error(err);
    struct test_driver *td = &f->td;
    td_init(td, f->vm, f->bus, 2);
    g_assert_cmphex(pci_config_read(f->bus, 2, 0, PCI_DEVICE_ID, 2), ==, 0x1044);
    g_assert_true(td_negotiate(td, V1));
    td_setup_queue(td, 0, 8, Q0_BASE);
    td_driver_ok(td);
    uint8_t *buf = guest_memory_ptr(vm_memory(f->vm), BUF, 256);
    memset(buf, 0, 256);
    td_add_buf(td, 0, BUF, 256, true);
    td_kick(td, 0);
    g_assert_true(td_wait_used(td, 0, 1, 5000));
    uint32_t id, len;
    td_used_elem(td, 0, 0, &id, &len);
    g_assert_cmpuint(len, ==, 256);
    unsigned zeros = 0;
    for (unsigned i = 0; i < 256; i++)
        zeros += buf[i] == 0;
    g_assert_cmpuint(zeros, <, 16);   /* 256 random bytes: ~1 zero expected */
    /* A readable-only request gets nothing and does not hang the queue. */
    td_add_buf(td, 0, BUF + 0x1000, 16, false);
    td_kick(td, 0);
    g_assert_true(td_wait_used(td, 0, 2, 5000));
    td_used_elem(td, 0, 1, &id, &len);
    g_assert_cmpuint(len, ==, 0);
    virtio_rng_free(rng);
}

/* ---- virtio-balloon ------------------------------------------------------------ */

#define Q2_BASE 0x120000
#define VICTIM  0x800000

static void put_stat(uint8_t *p, uint16_t tag, uint64_t v)
{
    p[0] = (uint8_t)tag;
    p[1] = (uint8_t)(tag >> 8);
    for (int i = 0; i < 8; i++)
        p[2 + i] = (uint8_t)(v >> (8 * i));
}

static bool stats_arrived(void *opaque)
{
    struct virtio_balloon_info info;
    virtio_balloon_query(opaque, &info);
    return info.stats_time != 0;
}

/* Inflated pages leave the process (they read as zeros); pages outside RAM
 * or below 1 MiB are ignored; the target reaches the driver's
 * configuration and the driver's count comes back; statistics are taken,
 * kept, and the buffer returned when fresh ones are wanted. */
static void test_balloon(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    struct virtio_balloon *b = virtio_balloon_create(f->vm, f->bus, false, &err);
    g_assert_no_error(err);
    struct test_driver *td = &f->td;
    td_init(td, f->vm, f->bus, 2);
    g_assert_cmphex(pci_config_read(f->bus, 2, 0, PCI_DEVICE_ID, 2), ==, 0x1045);
    g_assert_true(td_negotiate(td, V1 | (1ull << VIRTIO_BALLOON_F_STATS_VQ)));
    td_setup_queue(td, 0, 8, Q0_BASE);
    td_setup_queue(td, 1, 8, Q1_BASE);
    td_setup_queue(td, 2, 8, Q2_BASE);
    td_driver_ok(td);
    struct guest_memory *mem = vm_memory(f->vm);

    g_assert_true(virtio_balloon_set_target(b, 16 << 20, &err));
    g_assert_cmpuint(test_mmio_read(f->vm, td->device, 4), ==, (16u << 20) / 4096);
    g_assert_false(virtio_balloon_set_target(b, 64 << 20, &err));
    g_clear_error(&err);

    uint8_t *victim = guest_memory_ptr(mem, VICTIM, 2 * 4096);
    memset(victim, 0xaa, 2 * 4096);
    uint8_t *low = guest_memory_ptr(mem, 0x10000, 4096);
    memset(low, 0xbb, 4096);
    uint32_t pfns[] = { VICTIM >> 12, (VICTIM >> 12) + 1, 0x10, 0xfffff, 0xffffffff };
    memcpy(guest_memory_ptr(mem, BUF, sizeof(pfns)), pfns, sizeof(pfns));
    td_add_buf(td, 0, BUF, sizeof(pfns), false);
    td_kick(td, 0);
    g_assert_true(td_wait_used(td, 0, 1, 5000));
    for (unsigned i = 0; i < 2 * 4096; i++)
        g_assert_cmpuint(victim[i], ==, 0);
    g_assert_cmpuint(low[0], ==, 0xbb);
    test_mmio_write(f->vm, td->device + 4, 2, 4);     /* actual */
    struct virtio_balloon_info info;
    virtio_balloon_query(b, &info);
    g_assert_cmpuint(info.actual, ==, (32u << 20) - 2 * 4096);
    g_assert_cmpuint(info.target, ==, 16u << 20);
    test_mmio_write(f->vm, td->device + 4, 0xffffffff, 4);
    virtio_balloon_query(b, &info);
    g_assert_cmpuint(info.actual, ==, 0);     /* no more than all of RAM */

    uint8_t *st = guest_memory_ptr(mem, BUF + 0x1000, 30);
    put_stat(st, VIRTIO_BALLOON_S_MEMFREE, 1000);
    put_stat(st + 10, VIRTIO_BALLOON_S_MEMTOT, 5000);
    put_stat(st + 20, 99, 7);
    td_add_buf(td, 2, BUF + 0x1000, 30, false);
    td_kick(td, 2);
    g_assert_true(test_vm_run_until(f->vm, stats_arrived, b, 5000));
    virtio_balloon_query(b, &info);
    g_assert_cmphex(info.stats.present, ==, (1u << VIRTIO_BALLOON_S_MEMFREE) | (1u << VIRTIO_BALLOON_S_MEMTOT));
    g_assert_cmpuint(info.stats.value[VIRTIO_BALLOON_S_MEMTOT], ==, 5000);
    g_assert_cmpuint(td_used_idx(td, 2), ==, 0);    /* kept until wanted */
    virtio_balloon_set_stats_period(b, 0);
    g_assert_true(td_wait_used(td, 2, 1, 5000));
    virtio_balloon_free(b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/virtio-net/arp-through-slirp", struct fixture, NULL, setup, test_net_arp_through_slirp, teardown);
    g_test_add("/virtio-net/hostfwd", struct fixture, NULL, setup, test_net_hostfwd, teardown);
    g_test_add("/virtio-net/tap", struct fixture, NULL, setup, test_net_tap, teardown);
    g_test_add("/virtio-console/output-input-flow-control", struct fixture, NULL, setup, test_console, teardown);
    g_test_add("/virtio-rng/random-bytes", struct fixture, NULL, setup, test_rng, teardown);
    g_test_add("/virtio-balloon/inflate-stats", struct fixture, NULL, setup, test_balloon, teardown);
    return g_test_run();
}
