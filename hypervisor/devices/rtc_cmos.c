#include "rtc_cmos.h"

#include <string.h>
#include <time.h>
#include <glib/gi18n.h>

#include "core/vm_state.h"

#define USEC 1000000LL
/* UIP is set this long before each update. */
#define UIP_WINDOW_US 244

struct rtc_cmos {
    const struct rtc_cmos_ops *ops;
    void *opaque;
    GMutex lock;
    uint8_t cmos[128];
    uint8_t index;
    bool nmi_masked;
    int64_t offset_us;      /* guest time - host time */
    int64_t last_us;        /* guest time of the last event accounting */
    bool irq_level;
    GSource *timer;
};

static int64_t host_now(struct rtc_cmos *rtc)
{
    return rtc->ops->now_us ? rtc->ops->now_us(rtc->opaque) : g_get_real_time();
}

static int64_t guest_now(struct rtc_cmos *rtc)
{
    return host_now(rtc) + rtc->offset_us;
}

static bool binary_mode(const struct rtc_cmos *rtc) { return rtc->cmos[RTC_REG_B] & RTC_B_DM_BINARY; }

static uint8_t to_reg(const struct rtc_cmos *rtc, unsigned v)
{
    return binary_mode(rtc) ? (uint8_t)v : (uint8_t)(((v / 10) << 4) | (v % 10));
}

static unsigned from_reg(const struct rtc_cmos *rtc, uint8_t v)
{
    return binary_mode(rtc) ? v : (unsigned)((v >> 4) * 10 + (v & 0xf));
}

static uint8_t hours_to_reg(const struct rtc_cmos *rtc, unsigned h)
{
    if (rtc->cmos[RTC_REG_B] & RTC_B_24H)
        return to_reg(rtc, h);
    unsigned h12 = h % 12 ? h % 12 : 12;
    return to_reg(rtc, h12) | (h >= 12 ? 0x80 : 0);
}

static unsigned hours_from_reg(const struct rtc_cmos *rtc, uint8_t v)
{
    if (rtc->cmos[RTC_REG_B] & RTC_B_24H)
        return from_reg(rtc, v);
    unsigned h = from_reg(rtc, v & 0x7f) % 12;
    return (v & 0x80) ? h + 12 : h;
}

/* Write the guest's current time into the time registers. */
static void latch_time(struct rtc_cmos *rtc)
{
    time_t t = (time_t)(guest_now(rtc) / USEC);
    struct tm tm;
    gmtime_r(&t, &tm);
    rtc->cmos[RTC_SECONDS] = to_reg(rtc, (unsigned)tm.tm_sec);
    rtc->cmos[RTC_MINUTES] = to_reg(rtc, (unsigned)tm.tm_min);
    rtc->cmos[RTC_HOURS] = hours_to_reg(rtc, (unsigned)tm.tm_hour);
    rtc->cmos[RTC_DAY_OF_WEEK] = to_reg(rtc, (unsigned)tm.tm_wday + 1);
    rtc->cmos[RTC_DAY_OF_MONTH] = to_reg(rtc, (unsigned)tm.tm_mday);
    rtc->cmos[RTC_MONTH] = to_reg(rtc, (unsigned)tm.tm_mon + 1);
    rtc->cmos[RTC_YEAR] = to_reg(rtc, (unsigned)(tm.tm_year % 100));
    rtc->cmos[RTC_CENTURY] = to_reg(rtc, (unsigned)(tm.tm_year / 100 + 19));
}

/* Take the time registers as the guest's new time of day. */
static void commit_time(struct rtc_cmos *rtc)
{
    struct tm tm = { 0 };
    tm.tm_sec = (int)from_reg(rtc, rtc->cmos[RTC_SECONDS]);
    tm.tm_min = (int)from_reg(rtc, rtc->cmos[RTC_MINUTES]);
    tm.tm_hour = (int)hours_from_reg(rtc, rtc->cmos[RTC_HOURS]);
    tm.tm_mday = (int)from_reg(rtc, rtc->cmos[RTC_DAY_OF_MONTH]);
    tm.tm_mon = (int)from_reg(rtc, rtc->cmos[RTC_MONTH]) - 1;
    unsigned century = from_reg(rtc, rtc->cmos[RTC_CENTURY]);
    if (century < 19 || century > 99)
        century = 20;
    tm.tm_year = (int)(century * 100 + from_reg(rtc, rtc->cmos[RTC_YEAR])) - 1900;
    time_t t = timegm(&tm);
    rtc->offset_us = (int64_t)t * USEC - host_now(rtc);
    rtc->last_us = guest_now(rtc);
}

static unsigned periodic_rate(const struct rtc_cmos *rtc)
{
    unsigned rs = rtc->cmos[RTC_REG_A] & 0x0f;
    if (rs == 0)
        return 0;
    return rs <= 2 ? rs + 7 : rs;
}

/* Period of the periodic interrupt in microseconds (>= 1), or 0. */
static int64_t period_us(const struct rtc_cmos *rtc)
{
    unsigned rs = periodic_rate(rtc);
    if (!rs)
        return 0;
    int64_t p = ((int64_t)1 << (rs - 1)) * USEC / 32768;
    return p ? p : 1;
}

static bool alarm_field_matches(const struct rtc_cmos *rtc, uint8_t alarm, uint8_t now)
{
    return (alarm & 0xc0) == 0xc0 || alarm == now; /* 0xC0-0xFF: don't care */
}

static void update_irq(struct rtc_cmos *rtc)
{
    uint8_t b = rtc->cmos[RTC_REG_B];
    uint8_t c = rtc->cmos[RTC_REG_C];
    bool irq = ((c & RTC_C_PF) && (b & RTC_B_PIE)) || ((c & RTC_C_AF) && (b & RTC_B_AIE)) ||
               ((c & RTC_C_UF) && (b & RTC_B_UIE));
    if (irq)
        rtc->cmos[RTC_REG_C] |= RTC_C_IRQF;
    if (irq != rtc->irq_level) {
        rtc->irq_level = irq;
        rtc->ops->set_irq(rtc->opaque, irq);
    }
}

/* Set PF/UF/AF for the events between last_us and now. */
static void account(struct rtc_cmos *rtc)
{
    int64_t now = guest_now(rtc);
    int64_t last = rtc->last_us;
    if (now <= last)
        return;
    int64_t p = period_us(rtc);
    if (p && now / p != last / p)
        rtc->cmos[RTC_REG_C] |= RTC_C_PF;
    if (!(rtc->cmos[RTC_REG_B] & RTC_B_SET) && now / USEC != last / USEC) {
        rtc->cmos[RTC_REG_C] |= RTC_C_UF;
        latch_time(rtc);
        if (alarm_field_matches(rtc, rtc->cmos[RTC_SECONDS_ALARM], rtc->cmos[RTC_SECONDS]) &&
            alarm_field_matches(rtc, rtc->cmos[RTC_MINUTES_ALARM], rtc->cmos[RTC_MINUTES]) &&
            alarm_field_matches(rtc, rtc->cmos[RTC_HOURS_ALARM], rtc->cmos[RTC_HOURS]))
            rtc->cmos[RTC_REG_C] |= RTC_C_AF;
    }
    rtc->last_us = now;
    update_irq(rtc);
}

/* Arm the timer for the next event that can interrupt. */
static void rearm(struct rtc_cmos *rtc)
{
    if (!rtc->timer)
        return;
    uint8_t b = rtc->cmos[RTC_REG_B];
    int64_t now = guest_now(rtc);
    int64_t next = -1;
    int64_t p = period_us(rtc);
    if ((b & RTC_B_PIE) && p)
        next = (now / p + 1) * p;
    if ((b & (RTC_B_UIE | RTC_B_AIE)) && !(b & RTC_B_SET)) {
        int64_t sec = (now / USEC + 1) * USEC;
        next = next < 0 ? sec : MIN(next, sec);
    }
    if (next < 0)
        g_source_set_ready_time(rtc->timer, -1);
    else
        g_source_set_ready_time(rtc->timer, g_get_monotonic_time() + (next - now));
}

void rtc_cmos_update(struct rtc_cmos *rtc)
{
    g_mutex_lock(&rtc->lock);
    account(rtc);
    rearm(rtc);
    g_mutex_unlock(&rtc->lock);
}

static gboolean timer_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
    rtc_cmos_update(data);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_funcs = { .dispatch = timer_dispatch };

static uint8_t read_reg(struct rtc_cmos *rtc, unsigned idx)
{
    switch (idx) {
    case RTC_SECONDS: case RTC_MINUTES: case RTC_HOURS: case RTC_DAY_OF_WEEK:
    case RTC_DAY_OF_MONTH: case RTC_MONTH: case RTC_YEAR: case RTC_CENTURY:
        if (!(rtc->cmos[RTC_REG_B] & RTC_B_SET))
            latch_time(rtc);
        return rtc->cmos[idx];
    case RTC_REG_A: {
        uint8_t a = rtc->cmos[RTC_REG_A] & 0x7f;
        int64_t us = guest_now(rtc) % USEC;
        if (!(rtc->cmos[RTC_REG_B] & RTC_B_SET) && us >= USEC - UIP_WINDOW_US)
            a |= RTC_A_UIP;
        return a;
    }
    case RTC_REG_C: {
        account(rtc);
        uint8_t c = rtc->cmos[RTC_REG_C];
        rtc->cmos[RTC_REG_C] = 0;
        update_irq(rtc);
        return c;
    }
    case RTC_REG_D:
        return RTC_D_VRT;
    default:
        return rtc->cmos[idx];
    }
}

static void write_reg(struct rtc_cmos *rtc, unsigned idx, uint8_t v)
{
    switch (idx) {
    case RTC_SECONDS: case RTC_MINUTES: case RTC_HOURS: case RTC_DAY_OF_WEEK:
    case RTC_DAY_OF_MONTH: case RTC_MONTH: case RTC_YEAR: case RTC_CENTURY:
        if (rtc->cmos[RTC_REG_B] & RTC_B_SET) {
            rtc->cmos[idx] = v;
        } else {
            latch_time(rtc);
            rtc->cmos[idx] = v;
            commit_time(rtc);
        }
        break;
    case RTC_REG_A:
        account(rtc);
        rtc->cmos[RTC_REG_A] = v & 0x7f;
        break;
    case RTC_REG_B: {
        account(rtc);
        uint8_t old = rtc->cmos[RTC_REG_B];
        if (!(old & RTC_B_SET) && (v & RTC_B_SET))
            latch_time(rtc);    /* freeze the registers for the guest to edit */
        if ((v & RTC_B_SET) && !(old & RTC_B_SET))
            v &= (uint8_t)~RTC_B_UIE; /* SET clears UIE */
        if ((old & (RTC_B_DM_BINARY | RTC_B_24H)) != (v & (RTC_B_DM_BINARY | RTC_B_24H)) &&
            !(v & RTC_B_SET) && !(old & RTC_B_SET)) {
            rtc->cmos[RTC_REG_B] = v;  /* format change: re-latch in the new one */
            latch_time(rtc);
        }
        rtc->cmos[RTC_REG_B] = v;
        if ((old & RTC_B_SET) && !(v & RTC_B_SET))
            commit_time(rtc);
        update_irq(rtc);
        break;
    }
    case RTC_REG_C:
    case RTC_REG_D:
        break; /* read-only */
    default:
        rtc->cmos[idx] = v;
        break;
    }
    rearm(rtc);
}

static uint64_t rtc_read(void *opaque, uint64_t offset, unsigned size)
{
    struct rtc_cmos *rtc = opaque;
    if (offset != 1)
        return 0xff; /* the index port is write-only */
    g_mutex_lock(&rtc->lock);
    uint8_t v = read_reg(rtc, rtc->index);
    g_mutex_unlock(&rtc->lock);
    return v;
}

static void rtc_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct rtc_cmos *rtc = opaque;
    g_mutex_lock(&rtc->lock);
    if (offset == 0) {
        rtc->index = value & 0x7f;
        rtc->nmi_masked = value & 0x80;
    } else if (offset == 1) {
        write_reg(rtc, rtc->index, (uint8_t)value);
    }
    g_mutex_unlock(&rtc->lock);
}

const struct io_ops rtc_cmos_io_ops = { .read = rtc_read, .write = rtc_write };

static void do_reset(struct rtc_cmos *rtc)
{
    /* Time, alarm and CMOS RAM survive a reset; the control bits do not. */
    rtc->cmos[RTC_REG_A] = 0x26;            /* 32.768 kHz, 1024 Hz rate */
    rtc->cmos[RTC_REG_B] = RTC_B_24H;
    rtc->cmos[RTC_REG_C] = 0;
    rtc->cmos[RTC_REG_D] = RTC_D_VRT;
    rtc->last_us = guest_now(rtc);
    update_irq(rtc);
    rearm(rtc);
}

struct rtc_cmos *rtc_cmos_new(const struct rtc_cmos_ops *ops, void *opaque, GMainContext *ctx)
{
    struct rtc_cmos *rtc = g_new0(struct rtc_cmos, 1);
    rtc->ops = ops;
    rtc->opaque = opaque;
    g_mutex_init(&rtc->lock);
    if (ctx) {
        rtc->timer = g_source_new(&timer_funcs, sizeof(GSource));
        g_source_set_callback(rtc->timer, NULL, rtc, NULL);
        g_source_set_ready_time(rtc->timer, -1);
        g_source_attach(rtc->timer, ctx);
    }
    do_reset(rtc);
    latch_time(rtc);
    return rtc;
}

void rtc_cmos_free(struct rtc_cmos *rtc)
{
    if (!rtc)
        return;
    if (rtc->timer) {
        g_source_destroy(rtc->timer);
        g_source_unref(rtc->timer);
    }
    g_mutex_clear(&rtc->lock);
    g_free(rtc);
}

void rtc_cmos_set_offset(struct rtc_cmos *rtc, int64_t offset_us)
{
    g_mutex_lock(&rtc->lock);
    rtc->offset_us = offset_us;
    rtc->last_us = guest_now(rtc);
    g_mutex_unlock(&rtc->lock);
}

void rtc_cmos_reset(struct rtc_cmos *rtc)
{
    g_mutex_lock(&rtc->lock);
    do_reset(rtc);
    g_mutex_unlock(&rtc->lock);
}

void rtc_cmos_set_platform_info(struct rtc_cmos *rtc, uint64_t low_ram, uint64_t high_ram,
                                unsigned ncpus)
{
    g_mutex_lock(&rtc->lock);
    uint8_t *c = rtc->cmos;
    /* Base memory: 640 KiB. */
    c[0x15] = 640 & 0xff;
    c[0x16] = 640 >> 8;
    /* Extended memory above 1 MiB in KiB, saturating at 0xffff. */
    uint64_t ext_kib = low_ram > 0x100000 ? (low_ram - 0x100000) / 1024 : 0;
    if (ext_kib > 0xffff)
        ext_kib = 0xffff;
    c[0x17] = c[0x30] = (uint8_t)ext_kib;
    c[0x18] = c[0x31] = (uint8_t)(ext_kib >> 8);
    /* Memory between 16 MiB and the PCI hole, in 64 KiB units. */
    uint64_t above16 = low_ram > 0x1000000 ? (low_ram - 0x1000000) / 65536 : 0;
    if (above16 > 0xffff)
        above16 = 0xffff;
    c[0x34] = (uint8_t)above16;
    c[0x35] = (uint8_t)(above16 >> 8);
    /* Memory above 4 GiB, 64 KiB units, three bytes. */
    uint64_t high = high_ram / 65536;
    c[0x5b] = (uint8_t)high;
    c[0x5c] = (uint8_t)(high >> 8);
    c[0x5d] = (uint8_t)(high >> 16);
    /* Number of CPUs minus one. */
    c[0x5f] = (uint8_t)(ncpus ? ncpus - 1 : 0);
    g_mutex_unlock(&rtc->lock);
}

uint8_t rtc_cmos_get_byte(struct rtc_cmos *rtc, unsigned index)
{
    g_mutex_lock(&rtc->lock);
    uint8_t v = rtc->cmos[index & 0x7f];
    g_mutex_unlock(&rtc->lock);
    return v;
}

bool rtc_cmos_nmi_masked(struct rtc_cmos *rtc)
{
    g_mutex_lock(&rtc->lock);
    bool m = rtc->nmi_masked;
    g_mutex_unlock(&rtc->lock);
    return m;
}

bool rtc_cmos_save(void *opaque, struct state_out *o, GError **error)
{
    struct rtc_cmos *rtc = opaque;
    g_mutex_lock(&rtc->lock);
    account(rtc);
    state_out_bytes(o, rtc->cmos, sizeof(rtc->cmos));
    state_out_u8(o, rtc->index);
    state_out_bool(o, rtc->nmi_masked);
    state_out_u64(o, (uint64_t)rtc->offset_us);
    g_mutex_unlock(&rtc->lock);
    return true;
}

bool rtc_cmos_load(void *opaque, struct state_in *in, uint32_t version, GError **error)
{
    struct rtc_cmos *rtc = opaque;
    uint8_t cmos[128];
    state_in_bytes(in, cmos, sizeof(cmos));
    uint8_t index = state_in_u8(in);
    bool nmi_masked = state_in_bool(in);
    int64_t offset = (int64_t)state_in_u64(in);
    if (in->short_read)
        return state_in_invalid(in, error, _("truncated"));
    /* A guest sets any time of day it likes, but within what a 4-digit
     * year can say. */
    if (offset > 10000LL * 366 * 86400 * USEC || offset < -10000LL * 366 * 86400 * USEC)
        return state_in_invalid(in, error, _("clock offset"));

    g_mutex_lock(&rtc->lock);
    memcpy(rtc->cmos, cmos, sizeof(cmos));
    rtc->cmos[RTC_REG_A] &= 0x7f;
    rtc->cmos[RTC_REG_D] = RTC_D_VRT;
    rtc->index = index & 0x7f;
    rtc->nmi_masked = nmi_masked;
    rtc->offset_us = offset;
    /* Events while the VM was saved are not owed to it. */
    rtc->last_us = guest_now(rtc);
    rtc->irq_level = false;
    update_irq(rtc);
    rearm(rtc);
    g_mutex_unlock(&rtc->lock);
    return true;
}

const struct vm_state_ops rtc_cmos_state_ops = {
    .version = 1, .stage = VM_STATE_STAGE_DEVICE, .save = rtc_cmos_save, .load = rtc_cmos_load,
};
