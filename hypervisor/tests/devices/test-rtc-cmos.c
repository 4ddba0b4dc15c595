/* MC146818 RTC and CMOS: time in BCD and binary, 12/24-hour mode, setting
 * the time, update-in-progress, periodic/update/alarm interrupts, the NMI
 * mask bit, and the memory-size bytes firmware reads. */
#include <string.h>
#include <time.h>
#include <glib.h>

#include "devices/rtc_cmos.h"

#define USEC 1000000LL

struct fixture {
    struct rtc_cmos *rtc;
    int64_t now;    /* fake host clock, us since the epoch */
    bool irq;
    unsigned edges;
};

static void set_irq(void *opaque, bool level)
{
    struct fixture *f = opaque;
    if (level && !f->irq)
        f->edges++;
    f->irq = level;
}

static int64_t now_us(void *opaque)
{
    return ((struct fixture *)opaque)->now;
}

static const struct rtc_cmos_ops ops = { set_irq, now_us };

/* 2024-02-29 13:45:30 UTC, a Thursday. */
#define T0 1709214330LL

static void setup(struct fixture *f, gconstpointer data)
{
    memset(f, 0, sizeof(*f));
    f->now = T0 * USEC;
    f->rtc = rtc_cmos_new(&ops, f, NULL);
}

static void teardown(struct fixture *f, gconstpointer data)
{
    rtc_cmos_free(f->rtc);
}

static uint8_t rd(struct fixture *f, unsigned idx)
{
    rtc_cmos_io_ops.write(f->rtc, 0, idx, 1);
    return (uint8_t)rtc_cmos_io_ops.read(f->rtc, 1, 1);
}

static void wr(struct fixture *f, unsigned idx, uint8_t v)
{
    rtc_cmos_io_ops.write(f->rtc, 0, idx, 1);
    rtc_cmos_io_ops.write(f->rtc, 1, v, 1);
}

static void test_bcd_24h(struct fixture *f, gconstpointer data)
{
    g_assert_cmphex(rd(f, RTC_REG_B) & (RTC_B_DM_BINARY | RTC_B_24H), ==, RTC_B_24H);
    g_assert_cmphex(rd(f, RTC_SECONDS), ==, 0x30);
    g_assert_cmphex(rd(f, RTC_MINUTES), ==, 0x45);
    g_assert_cmphex(rd(f, RTC_HOURS), ==, 0x13);
    g_assert_cmphex(rd(f, RTC_DAY_OF_MONTH), ==, 0x29);
    g_assert_cmphex(rd(f, RTC_MONTH), ==, 0x02);
    g_assert_cmphex(rd(f, RTC_YEAR), ==, 0x24);
    g_assert_cmphex(rd(f, RTC_CENTURY), ==, 0x20);
    g_assert_cmphex(rd(f, RTC_DAY_OF_WEEK), ==, 5); /* Sunday = 1 */
    g_assert_cmphex(rd(f, RTC_REG_D), ==, RTC_D_VRT);
    /* Time moves with the host clock. */
    f->now += 75 * USEC;
    g_assert_cmphex(rd(f, RTC_SECONDS), ==, 0x45);
    g_assert_cmphex(rd(f, RTC_MINUTES), ==, 0x46);
}

static void test_binary_12h(struct fixture *f, gconstpointer data)
{
    wr(f, RTC_REG_B, RTC_B_DM_BINARY);
    g_assert_cmpuint(rd(f, RTC_SECONDS), ==, 30);
    g_assert_cmpuint(rd(f, RTC_MINUTES), ==, 45);
    /* 13h in 12-hour mode: 1 PM. */
    g_assert_cmphex(rd(f, RTC_HOURS), ==, 0x80 | 1);
    g_assert_cmpuint(rd(f, RTC_YEAR), ==, 24);
    wr(f, RTC_REG_B, 0);    /* BCD 12h */
    g_assert_cmphex(rd(f, RTC_HOURS), ==, 0x81);
    f->now -= 13 * 3600 * USEC; /* 00:45 -> 12 AM */
    g_assert_cmphex(rd(f, RTC_HOURS), ==, 0x12);
}

static void test_set_time(struct fixture *f, gconstpointer data)
{
    wr(f, RTC_REG_B, RTC_B_SET | RTC_B_24H);
    wr(f, RTC_HOURS, 0x08);
    wr(f, RTC_MINUTES, 0x00);
    wr(f, RTC_SECONDS, 0x00);
    wr(f, RTC_DAY_OF_MONTH, 0x01);
    wr(f, RTC_MONTH, 0x01);
    wr(f, RTC_YEAR, 0x30);
    /* Frozen while SET: time does not advance and UIP stays clear. */
    f->now += 10 * USEC;
    g_assert_cmphex(rd(f, RTC_SECONDS), ==, 0x00);
    wr(f, RTC_REG_B, RTC_B_24H);
    f->now += 3 * USEC;
    g_assert_cmphex(rd(f, RTC_SECONDS), ==, 0x03);
    g_assert_cmphex(rd(f, RTC_HOURS), ==, 0x08);
    g_assert_cmphex(rd(f, RTC_YEAR), ==, 0x30);
    g_assert_cmphex(rd(f, RTC_MONTH), ==, 0x01);
}

static void test_uip(struct fixture *f, gconstpointer data)
{
    f->now = T0 * USEC + 500000;
    g_assert_cmphex(rd(f, RTC_REG_A) & RTC_A_UIP, ==, 0);
    f->now = T0 * USEC + 999900;
    g_assert_cmphex(rd(f, RTC_REG_A) & RTC_A_UIP, ==, RTC_A_UIP);
    g_assert_cmphex(rd(f, RTC_REG_A) & 0x7f, ==, 0x26);
}

static void test_periodic_interrupt(struct fixture *f, gconstpointer data)
{
    g_assert_false(f->irq);
    wr(f, RTC_REG_A, 0x20 | 0x06); /* 1024 Hz */
    wr(f, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
    f->now += 2000;                 /* > 976.5 us */
    rtc_cmos_update(f->rtc);
    g_assert_true(f->irq);
    uint8_t c = rd(f, RTC_REG_C);
    g_assert_cmphex(c & (RTC_C_IRQF | RTC_C_PF), ==, RTC_C_IRQF | RTC_C_PF);
    /* Reading C acknowledges. */
    g_assert_false(f->irq);
    g_assert_cmphex(rd(f, RTC_REG_C), ==, 0);
    /* Masked: PF is still reported, but no IRQF, no interrupt. */
    wr(f, RTC_REG_B, RTC_B_24H);
    f->now += 2000;
    rtc_cmos_update(f->rtc);
    g_assert_false(f->irq);
    g_assert_cmphex(rd(f, RTC_REG_C), ==, RTC_C_PF);
}

static void test_update_and_alarm(struct fixture *f, gconstpointer data)
{
    wr(f, RTC_REG_A, 0x20);         /* no periodic rate: PF stays clear */
    wr(f, RTC_SECONDS_ALARM, 0x32);
    wr(f, RTC_MINUTES_ALARM, 0xc0); /* don't care */
    wr(f, RTC_HOURS_ALARM, 0xc0);
    wr(f, RTC_REG_B, RTC_B_24H | RTC_B_AIE);
    f->now += USEC;                  /* :31, no alarm */
    rtc_cmos_update(f->rtc);
    g_assert_false(f->irq);
    g_assert_cmphex(rd(f, RTC_REG_C), ==, RTC_C_UF);
    f->now += USEC;                  /* :32, alarm */
    rtc_cmos_update(f->rtc);
    g_assert_true(f->irq);
    g_assert_cmphex(rd(f, RTC_REG_C), ==, RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
    g_assert_false(f->irq);
    wr(f, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
    f->now += USEC;
    rtc_cmos_update(f->rtc);
    g_assert_true(f->irq);
    g_assert_cmphex(rd(f, RTC_REG_C), ==, RTC_C_IRQF | RTC_C_UF);
}

static void test_nmi_mask(struct fixture *f, gconstpointer data)
{
    g_assert_false(rtc_cmos_nmi_masked(f->rtc));
    /* Bit 7 of the index masks NMIs and does not change the register. */
    rtc_cmos_io_ops.write(f->rtc, 0, 0x80 | RTC_MINUTES, 1);
    g_assert_true(rtc_cmos_nmi_masked(f->rtc));
    g_assert_cmphex(rtc_cmos_io_ops.read(f->rtc, 1, 1), ==, 0x45);
    rtc_cmos_io_ops.write(f->rtc, 0, RTC_SECONDS, 1);
    g_assert_false(rtc_cmos_nmi_masked(f->rtc));
    /* CMOS RAM bytes are plain storage. */
    wr(f, 0x40, 0xa5);
    g_assert_cmphex(rd(f, 0x40), ==, 0xa5);
    wr(f, 0x80 | 0x41, 0x5a);
    g_assert_cmphex(rd(f, 0x41), ==, 0x5a);
}

static void check_memory(struct fixture *f, uint64_t low, uint64_t high, unsigned cpus,
                         unsigned ext_kib, unsigned above16, unsigned above4g)
{
    rtc_cmos_set_platform_info(f->rtc, low, high, cpus);
    g_assert_cmpuint(rd(f, 0x15) | rd(f, 0x16) << 8, ==, 640);
    g_assert_cmpuint(rd(f, 0x17) | rd(f, 0x18) << 8, ==, ext_kib);
    g_assert_cmpuint(rd(f, 0x30) | rd(f, 0x31) << 8, ==, ext_kib);
    g_assert_cmpuint(rd(f, 0x34) | rd(f, 0x35) << 8, ==, above16);
    g_assert_cmpuint(rd(f, 0x5b) | rd(f, 0x5c) << 8 | rd(f, 0x5d) << 16, ==, above4g);
    g_assert_cmpuint(rd(f, 0x5f), ==, cpus - 1);
}

static void test_memory_bytes(struct fixture *f, gconstpointer data)
{
    const uint64_t M = 1024 * 1024;
    /* 32 MiB: 31 MiB extended, 16 MiB above 16M = 256 x 64K. */
    check_memory(f, 32 * M, 0, 1, 31 * 1024, 256, 0);
    /* 512 MiB: extended saturates at 0xffff KiB. */
    check_memory(f, 512 * M, 0, 2, 0xffff, (512 - 16) * 16, 0);
    /* 3 GiB below the hole + 5 GiB above 4G (8 GiB guest). */
    check_memory(f, 3072 * M, 5120 * M, 4, 0xffff, (3072 - 16) * 16, 5120 * 16);
    /* 64 GiB above 4G needs the third byte. */
    check_memory(f, 3072 * M, 64 * 1024 * M, 64, 0xffff, (3072 - 16) * 16, 64 * 1024 * 16);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define T(name, fn) g_test_add("/rtc-cmos/" name, struct fixture, NULL, setup, fn, teardown)
    T("bcd-24h", test_bcd_24h);
    T("binary-12h", test_binary_12h);
    T("set-time", test_set_time);
    T("uip", test_uip);
    T("periodic-interrupt", test_periodic_interrupt);
    T("update-alarm", test_update_and_alarm);
    T("nmi-mask", test_nmi_mask);
    T("memory-bytes", test_memory_bytes);
    return g_test_run();
}
