/* virtio-abuse: a hostile virtio-blk driver, run inside a Linux guest of
 * oriel-vmm to check that broken virtio requests fail safely.
 *
 * Build (statically: the test initramfs has no libc):
 *     gcc -static -O2 -Wall -o virtio-abuse virtio-abuse.c
 * Put it into the initramfs (e.g. tests/assets/initramfs-extend with a
 * directory holding usr/bin/virtio-abuse) and run it as root in a guest
 * started with at least one --disk ...,if=virtio:
 *     virtio-abuse [PCI-ADDRESS]        e.g. virtio-abuse 0000:00:03.0
 * Without an address it takes the last virtio-blk function it finds (put
 * the scratch disk last; the root disk should not be the victim).
 *
 * It unbinds the kernel driver from the device, maps BAR 4 through
 * /sys/bus/pci/devices/ADDR/resource4, and acts as the driver itself:
 * rings outside guest RAM, descriptor loops, out-of-range indexes, huge
 * lengths, writable-before-readable chains, nested and malformed indirect
 * tables, an available index far ahead, garbage in every register.  After
 * each case the device must report DEVICE_NEEDS_RESET (or simply refuse),
 * then come back after a reset and serve a well-formed read correctly.
 * Guest physical addresses of its own buffers come from /proc/self/pagemap.
 *
 * Output: one line per case, "virtio-abuse: CASE: ok" or "... FAIL (why)",
 * then "virtio-abuse: PASS" or "virtio-abuse: FAIL"; exit status 0 on PASS.
 * The harness checks, besides, that the VMM is still running and the
 * guest still answers on its console afterwards. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>

#define QSIZE 16
#define PAGE 4096

#define ST_ACK 1
#define ST_DRIVER 2
#define ST_DRIVER_OK 4
#define ST_FEATURES_OK 8
#define ST_NEEDS_RESET 64

#define F_NEXT 1
#define F_WRITE 2
#define F_INDIRECT 4

/* Common configuration offsets (virtio 1.x 4.1.4.3). */
#define C_DFSEL 0
#define C_DF 4
#define C_GFSEL 8
#define C_GF 12
#define C_MSIX 16
#define C_NUMQ 18
#define C_STATUS 20
#define C_GEN 21
#define C_QSEL 22
#define C_QSIZE 24
#define C_QMSIX 26
#define C_QENABLE 28
#define C_QNOFF 30
#define C_QDESC 32
#define C_QAVAIL 40
#define C_QUSED 48

struct desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

static char devdir[512];
static volatile uint8_t *bar;
static size_t bar_len;
static uint32_t common_off, notify_off, notify_mult, device_off;
static int failures;

/* One page of guest memory whose physical address we know. */
struct dma_page {
    uint8_t *va;
    uint64_t pa;
};

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stdout, "virtio-abuse: setup failed: ");
    vfprintf(stdout, fmt, ap);
    fprintf(stdout, "\nvirtio-abuse: FAIL\n");
    va_end(ap);
    exit(2);
}

static void result(const char *name, int ok, const char *why)
{
    printf("virtio-abuse: %s: %s%s%s%s\n", name, ok ? "ok" : "FAIL", ok ? "" : " (",
           ok ? "" : why, ok ? "" : ")");
    fflush(stdout);
    if (!ok)
        failures++;
}

/* ---- register access ----------------------------------------------------- */

static uint8_t r8(uint32_t o) { return *(volatile uint8_t *)(bar + o); }
static uint16_t r16(uint32_t o) { return *(volatile uint16_t *)(bar + o); }
static uint32_t r32(uint32_t o) { return *(volatile uint32_t *)(bar + o); }
static void w8(uint32_t o, uint8_t v) { *(volatile uint8_t *)(bar + o) = v; }
static void w16(uint32_t o, uint16_t v) { *(volatile uint16_t *)(bar + o) = v; }
static void w32(uint32_t o, uint32_t v) { *(volatile uint32_t *)(bar + o) = v; }
static void w64(uint32_t o, uint64_t v) { w32(o, (uint32_t)v); w32(o + 4, (uint32_t)(v >> 32)); }

static uint8_t status(void) { return r8(common_off + C_STATUS); }
static void set_status(uint8_t s) { w8(common_off + C_STATUS, s); }

static void reset(void)
{
    set_status(0);
    for (int i = 0; i < 1000 && status() != 0; i++)
        usleep(1000);
}

/* ---- sysfs and memory --------------------------------------------------- */

static int read_hex_file(const char *dir, const char *name, unsigned *v)
{
    char p[600], buf[32];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    int fd = open(p, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    *v = (unsigned)strtoul(buf, NULL, 16);
    return 0;
}

static void write_file(const char *path, const char *s)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return;
    if (write(fd, s, strlen(s)) < 0) { /* not bound, already enabled ... */ }
    close(fd);
}

static void find_device(const char *want)
{
    if (access("/sys/bus/pci", F_OK) != 0) {
        mkdir("/sys", 0755);
        mount("sysfs", "/sys", "sysfs", 0, NULL);
    }
    if (want) {
        snprintf(devdir, sizeof(devdir), "/sys/bus/pci/devices/%s", want);
        return;
    }
    DIR *d = opendir("/sys/bus/pci/devices");
    if (!d)
        die("no /sys/bus/pci/devices");
    struct dirent *e;
    char best[256] = "";
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char dir[512];
        unsigned vendor, device;
        snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s", e->d_name);
        if (read_hex_file(dir, "vendor", &vendor) || read_hex_file(dir, "device", &device))
            continue;
        if (vendor == 0x1af4 && device == 0x1042 && strcmp(e->d_name, best) > 0)
            snprintf(best, sizeof(best), "%s", e->d_name);
    }
    closedir(d);
    if (!best[0])
        die("no virtio-blk (1af4:1042) device");
    snprintf(devdir, sizeof(devdir), "/sys/bus/pci/devices/%s", best);
}

static void read_config(uint8_t *cfg)
{
    char p[600];
    snprintf(p, sizeof(p), "%s/config", devdir);
    int fd = open(p, O_RDWR);
    if (fd < 0 || pread(fd, cfg, 256, 0) < 64)
        die("cannot read %s", p);
    /* Memory decoding on, INTx off: nobody handles its interrupts now. */
    uint16_t cmd = (uint16_t)(cfg[4] | cfg[5] << 8);
    cmd |= 0x0002 | 0x0004 | 0x0400;
    if (pwrite(fd, &cmd, 2, 4) != 2)
        die("cannot write the command register");
    close(fd);
}

static void map_bar(const uint8_t *cfg)
{
    /* Find the virtio capabilities. */
    for (unsigned p = cfg[0x34]; p && p < 256; p = cfg[p + 1]) {
        if (cfg[p] != 0x09)
            continue;
        uint32_t off;
        memcpy(&off, cfg + p + 8, 4);
        if (cfg[p + 4] != 4)
            continue;
        switch (cfg[p + 3]) {
        case 1: common_off = off; break;
        case 2: notify_off = off; memcpy(&notify_mult, cfg + p + 16, 4); break;
        case 4: device_off = off; break;
        }
    }
    if (!common_off && !notify_off)
        die("virtio capabilities in BAR 4 not found");
    char p[600];
    snprintf(p, sizeof(p), "%s/resource4", devdir);
    int fd = open(p, O_RDWR | O_SYNC);
    if (fd < 0)
        die("cannot open %s: %s", p, strerror(errno));
    struct stat st;
    fstat(fd, &st);
    bar_len = (size_t)st.st_size;
    bar = mmap(NULL, bar_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (bar == MAP_FAILED)
        die("cannot map %s: %s", p, strerror(errno));
    close(fd);
}

static struct dma_page dma_alloc(void)
{
    struct dma_page pg;
    pg.va = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
    if (pg.va == MAP_FAILED)
        die("mmap");
    memset(pg.va, 0, PAGE);
    int fd = open("/proc/self/pagemap", O_RDONLY);
    uint64_t ent = 0;
    if (fd < 0 || pread(fd, &ent, 8, (off_t)((uintptr_t)pg.va / PAGE) * 8) != 8)
        die("pagemap");
    close(fd);
    if (!(ent & (1ull << 63)) || (ent & ((1ull << 55) - 1)) == 0)
        die("no physical address (not root?)");
    pg.pa = (ent & ((1ull << 55) - 1)) * PAGE;
    return pg;
}

/* ---- the queue --------------------------------------------------------------- */

static struct dma_page ring, data, ind;
static uint16_t avail_idx;

static struct desc *D(void) { return (struct desc *)ring.va; }
static volatile uint16_t *avail(void) { return (volatile uint16_t *)(ring.va + 0x400); }
static volatile uint16_t *used(void) { return (volatile uint16_t *)(ring.va + 0x800); }

/* Negotiate VERSION_1 only and program queue 0 at the given addresses. */
static int start(uint64_t desc, uint64_t av, uint64_t us, uint16_t size)
{
    reset();
    memset(ring.va, 0, PAGE);
    avail_idx = 0;
    set_status(ST_ACK);
    set_status(ST_ACK | ST_DRIVER);
    w32(common_off + C_GFSEL, 0);
    w32(common_off + C_GF, 0);
    w32(common_off + C_GFSEL, 1);
    w32(common_off + C_GF, 1);
    set_status(ST_ACK | ST_DRIVER | ST_FEATURES_OK);
    if (!(status() & ST_FEATURES_OK))
        return -1;
    w16(common_off + C_QSEL, 0);
    w16(common_off + C_QSIZE, size);
    w64(common_off + C_QDESC, desc);
    w64(common_off + C_QAVAIL, av);
    w64(common_off + C_QUSED, us);
    w16(common_off + C_QMSIX, 0xffff);
    w16(common_off + C_QENABLE, 1);
    set_status(ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
    return 0;
}

static int start_good(void)
{
    return start(ring.pa, ring.pa + 0x400, ring.pa + 0x800, QSIZE);
}

static void kick(void)
{
    w16(common_off + C_QSEL, 0);
    uint16_t off = r16(common_off + C_QNOFF);
    w16(notify_off + off * notify_mult, 0);
}

static void offer(uint16_t head)
{
    avail()[2 + avail_idx % QSIZE] = head;
    __sync_synchronize();
    avail_idx++;
    avail()[1] = avail_idx;
    __sync_synchronize();
    kick();
}

/* Wait up to ms for the device to complete n requests or flag itself. */
static int wait_for(uint16_t n, int ms)
{
    for (int i = 0; i < ms; i++) {
        __sync_synchronize();
        if (used()[1] == n || (status() & ST_NEEDS_RESET))
            return 0;
        usleep(1000);
    }
    return -1;
}

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    D()[i] = (struct desc){ addr, len, flags, next };
}

/* A chain the device must refuse: it flags NEEDS_RESET and completes
 * nothing. */
static void expect_refused(const char *name)
{
    wait_for(1, 500);
    uint8_t s = status();
    if (!(s & ST_NEEDS_RESET))
        result(name, 0, used()[1] ? "device completed a malformed request" : "no NEEDS_RESET");
    else if (used()[1] != 0)
        result(name, 0, "completed after all");
    else
        result(name, 1, NULL);
}

/* The valid request every case is followed by: read sector 0 and check
 * the status byte and that data arrived. */
static void check_alive(const char *after)
{
    char name[128];
    snprintf(name, sizeof(name), "device works after %s", after);
    if (start_good() < 0) {
        result(name, 0, "FEATURES_OK refused");
        return;
    }
    uint32_t hdr[4] = { 0 /* IN */, 0, 0, 0 };
    memcpy(data.va, hdr, 16);
    memset(data.va + 512, 0xa5, 512);
    data.va[2048] = 0xff;
    set_desc(0, data.pa, 16, F_NEXT, 1);
    set_desc(1, data.pa + 512, 512, F_NEXT | F_WRITE, 2);
    set_desc(2, data.pa + 2048, 1, F_WRITE, 0);
    offer(0);
    if (wait_for(1, 2000) < 0 || used()[1] != 1)
        result(name, 0, "request not completed");
    else if (data.va[2048] != 0)
        result(name, 0, "bad status byte");
    else
        result(name, 1, NULL);
}

static void case_ring_outside_ram(void)
{
    start(0xfffffffff000ull, ring.pa + 0x400, ring.pa + 0x800, QSIZE);
    result("rings outside RAM", (status() & ST_NEEDS_RESET) != 0, "no NEEDS_RESET");
    check_alive("rings outside RAM");
    start(ring.pa + 8, ring.pa + 0x401, ring.pa + 0x802, QSIZE);
    result("misaligned rings", (status() & ST_NEEDS_RESET) != 0, "no NEEDS_RESET");
    check_alive("misaligned rings");
    /* Rings in the MMIO hole: the device's own BAR, the LAPIC. */
    start(0xfee00000ull, 0xfec00000ull, 0xfed00000ull, QSIZE);
    result("rings in the PCI hole", (status() & ST_NEEDS_RESET) != 0, "no NEEDS_RESET");
    check_alive("rings in the PCI hole");
}

static void run_chain_case(const char *name, void (*build)(void), uint16_t head)
{
    if (start_good() < 0) {
        result(name, 0, "FEATURES_OK refused");
        return;
    }
    build();
    offer(head);
    expect_refused(name);
    check_alive(name);
}

static void b_loop(void)
{
    set_desc(0, data.pa, 16, F_NEXT, 1);
    set_desc(1, data.pa, 16, F_NEXT, 2);
    set_desc(2, data.pa, 16, F_NEXT, 0);
}
static void b_self_loop(void) { set_desc(5, data.pa, 0, F_NEXT, 5); }
static void b_next_range(void) { set_desc(0, data.pa, 16, F_NEXT, 0x7fff); }
static void b_addr_outside(void)
{
    set_desc(0, data.pa, 16, F_NEXT, 1);
    set_desc(1, 0x7ffffffff000ull, 512, F_NEXT | F_WRITE, 2);
    set_desc(2, data.pa + 2048, 1, F_WRITE, 0);
}
static void b_addr_wrap(void)
{
    set_desc(0, data.pa, 16, F_NEXT, 1);
    set_desc(1, 0xfffffffffffffe00ull, 0x1000, F_NEXT | F_WRITE, 2);
    set_desc(2, data.pa + 2048, 1, F_WRITE, 0);
}
/* Outside RAM on any guest with less than 4 GiB. */
static void b_huge_len(void)
{
    set_desc(0, data.pa, 0xffffffffu, F_NEXT, 1);
    set_desc(1, data.pa + 2048, 1, F_WRITE, 0);
}
static void b_huge_total(void)
{
    /* 64 indirect entries each covering the same 128 MiB from address 0:
     * 8 GiB together, yet each inside RAM on a guest of 128 MiB or more.
     * The device must refuse before writing anything there. */
    struct desc *t = (struct desc *)ind.va;
    for (unsigned i = 0; i < 64; i++)
        t[i] = (struct desc){ 0, 0x8000000, F_WRITE | (i < 63 ? F_NEXT : 0), (uint16_t)(i + 1) };
    set_desc(0, ind.pa, 64 * 16, F_INDIRECT, 0);
}
static void b_wrong_order(void)
{
    set_desc(0, data.pa + 512, 512, F_NEXT | F_WRITE, 1);
    set_desc(1, data.pa, 16, 0, 0);
}
static void b_indirect_nested(void)
{
    struct desc *t = (struct desc *)ind.va;
    t[0] = (struct desc){ ind.pa + 1024, 16, F_INDIRECT, 0 };
    set_desc(0, ind.pa, 16, F_INDIRECT, 0);
}
static void b_indirect_len(void) { set_desc(0, ind.pa, 24, F_INDIRECT, 0); }
static void b_indirect_zero(void) { set_desc(0, ind.pa, 0, F_INDIRECT, 0); }
static void b_indirect_loop(void)
{
    struct desc *t = (struct desc *)ind.va;
    t[0] = (struct desc){ data.pa, 16, F_NEXT, 1 };
    t[1] = (struct desc){ data.pa, 16, F_NEXT, 0 };
    set_desc(0, ind.pa, 32, F_INDIRECT, 0);
}
static void b_indirect_outside(void) { set_desc(0, 0x7fffffff0000ull, 256, F_INDIRECT, 0); }
static void b_indirect_next(void)
{
    struct desc *t = (struct desc *)ind.va;
    t[0] = (struct desc){ data.pa, 16, 0, 0 };
    set_desc(0, ind.pa, 16, F_INDIRECT | F_NEXT, 1);
    set_desc(1, data.pa + 2048, 1, F_WRITE, 0);
}
static void b_nothing(void) { }

static void case_head_out_of_range(void)
{
    run_chain_case("head index out of range", b_nothing, 0xffff);
}

static void case_avail_jump(void)
{
    const char *name = "available index far ahead";
    if (start_good() < 0) {
        result(name, 0, "FEATURES_OK refused");
        return;
    }
    avail_idx = 0x8000;
    avail()[1] = avail_idx;
    __sync_synchronize();
    kick();
    expect_refused(name);
    check_alive(name);
}

static void case_register_garbage(void)
{
    /* Garbage everywhere in the common configuration, odd widths, queues
     * that do not exist, notifications for them, device configuration
     * past its end.  The device must simply survive. */
    reset();
    srand(1);
    for (unsigned i = 0; i < 2000; i++) {
        uint32_t off = common_off + (uint32_t)(rand() % 64);
        /* Never DRIVER_OK: a running queue at random addresses in RAM
         * would let the device scribble over this guest's own kernel. */
        if ((off & ~3u) == common_off + C_STATUS)
            continue;
        switch (rand() % 4) {
        case 0: w8(off, (uint8_t)rand()); break;
        case 1: w16(off & ~1u, (uint16_t)rand()); break;
        case 2: w32(off & ~3u, (uint32_t)rand()); break;
        case 3: (void)r32(off & ~3u); break;
        }
    }
    reset();
    for (unsigned q = 0; q < 64; q++)
        w16(notify_off + (q % 8) * notify_mult, (uint16_t)q);
    for (uint32_t o = 0; o < 0x1000; o += 4)
        (void)r32(device_off + o);
    w16(common_off + C_QSEL, 0x1234);
    w16(common_off + C_QSIZE, 7);
    w16(common_off + C_QENABLE, 1);
    result("register garbage", 1, NULL);
    check_alive("register garbage");
    /* Enabling a queue of a size that is no power of two. */
    start_good();
    reset();
    set_status(ST_ACK | ST_DRIVER);
    w32(common_off + C_GFSEL, 1);
    w32(common_off + C_GF, 1);
    set_status(ST_ACK | ST_DRIVER | ST_FEATURES_OK);
    w16(common_off + C_QSEL, 0);
    w16(common_off + C_QSIZE, 3);
    result("queue size 3 refused", r16(common_off + C_QSIZE) != 3, "size 3 accepted");
    check_alive("odd queue size");
}

static void case_bad_requests(void)
{
    /* Well-formed chains with bad contents fail just the request. */
    const char *name = "read past the end of the disk";
    if (start_good() < 0) {
        result(name, 0, "FEATURES_OK refused");
        return;
    }
    uint32_t hdr[4] = { 0, 0, 0xffffffffu, 0x7fffffffu };
    memcpy(data.va, hdr, 16);
    data.va[2048] = 0xff;
    set_desc(0, data.pa, 16, F_NEXT, 1);
    set_desc(1, data.pa + 512, 512, F_NEXT | F_WRITE, 2);
    set_desc(2, data.pa + 2048, 1, F_WRITE, 0);
    offer(0);
    if (wait_for(1, 2000) < 0 || used()[1] != 1)
        result(name, 0, "not completed");
    else
        result(name, data.va[2048] == 1 /* IOERR */, "status is not IOERR");
    /* Unknown request type. */
    hdr[0] = 0x7777;
    hdr[2] = hdr[3] = 0;
    memcpy(data.va, hdr, 16);
    offer(0);
    if (wait_for(2, 2000) < 0 || used()[1] != 2)
        result("unknown request type", 0, "not completed");
    else
        result("unknown request type", data.va[2048] == 2 /* UNSUPP */, "status is not UNSUPP");
}

int main(int argc, char **argv)
{
    find_device(argc > 1 ? argv[1] : NULL);
    printf("virtio-abuse: device %s\n", devdir);
    char p[600];
    snprintf(p, sizeof(p), "%s/driver/unbind", devdir);
    write_file(p, strrchr(devdir, '/') + 1);
    snprintf(p, sizeof(p), "%s/enable", devdir);
    write_file(p, "1");
    uint8_t cfg[256];
    read_config(cfg);
    map_bar(cfg);
    ring = dma_alloc();
    data = dma_alloc();
    ind = dma_alloc();

    check_alive("taking over");
    case_ring_outside_ram();
    run_chain_case("descriptor loop", b_loop, 0);
    run_chain_case("descriptor self-loop", b_self_loop, 5);
    run_chain_case("next index out of range", b_next_range, 0);
    case_head_out_of_range();
    case_avail_jump();
    run_chain_case("buffer outside RAM", b_addr_outside, 0);
    run_chain_case("buffer address wraps", b_addr_wrap, 0);
    run_chain_case("buffer length 4 GiB", b_huge_len, 0);
    run_chain_case("total length beyond 4 GiB", b_huge_total, 0);
    run_chain_case("writable before readable", b_wrong_order, 0);
    run_chain_case("indirect in indirect", b_indirect_nested, 0);
    run_chain_case("indirect length not a multiple of 16", b_indirect_len, 0);
    run_chain_case("indirect length zero", b_indirect_zero, 0);
    run_chain_case("indirect loop", b_indirect_loop, 0);
    run_chain_case("indirect table outside RAM", b_indirect_outside, 0);
    run_chain_case("indirect with NEXT", b_indirect_next, 0);
    case_register_garbage();
    case_bad_requests();
    reset();

    printf("virtio-abuse: %s\n", failures ? "FAIL" : "PASS");
    return failures ? 1 : 0;
}
