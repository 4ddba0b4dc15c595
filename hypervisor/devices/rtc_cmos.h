/* The MC146818 real-time clock and its CMOS RAM at ports 0x70/0x71.
 *
 * Time is kept as an offset from the host clock, in BCD or binary, 12- or
 * 24-hour mode as the guest chooses; periodic, alarm and update-ended
 * interrupts on IRQ 8; bit 7 of the index port is the NMI mask.  The CMOS
 * bytes firmware reads for memory size and CPU count are filled in by the
 * platform. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "core/iobus.h"

struct rtc_cmos;

struct rtc_cmos_ops {
    void (*set_irq)(void *opaque, bool level);
    /* Microseconds since the Unix epoch; NULL: the host's real-time clock. */
    int64_t (*now_us)(void *opaque);
};

/* ctx: where the interrupt timer runs; NULL for no timer (tests drive
 * rtc_cmos_update() themselves). */
struct rtc_cmos *rtc_cmos_new(const struct rtc_cmos_ops *ops, void *opaque, GMainContext *ctx);
void rtc_cmos_free(struct rtc_cmos *rtc);
void rtc_cmos_reset(struct rtc_cmos *rtc);
/* Run the clock offset_us ahead of the host's UTC clock: the local time
 * zone's offset for guests that keep local time (Windows). */
void rtc_cmos_set_offset(struct rtc_cmos *rtc, int64_t offset_us);

/* Memory size as firmware reads it: low_ram below the PCI hole, high_ram
 * above 4 GiB, and the CPU count. */
void rtc_cmos_set_platform_info(struct rtc_cmos *rtc, uint64_t low_ram, uint64_t high_ram,
                                unsigned ncpus);

/* Raw CMOS byte (no time computation), for tests and other devices. */
uint8_t rtc_cmos_get_byte(struct rtc_cmos *rtc, unsigned index);

bool rtc_cmos_nmi_masked(struct rtc_cmos *rtc);

/* Account for the time that passed: raise due interrupts. */
void rtc_cmos_update(struct rtc_cmos *rtc);

/* VM state (vm_state.h): CMOS RAM, the index register and the guest's
 * offset from the host clock (so the RTC keeps telling the time of day
 * after a restore).  The load re-drives IRQ 8 and re-arms the timer. */
struct vm_state_ops;
extern const struct vm_state_ops rtc_cmos_state_ops;   /* opaque: struct rtc_cmos */
struct state_out;
struct state_in;
bool rtc_cmos_save(void *opaque, struct state_out *out, GError **error);
bool rtc_cmos_load(void *opaque, struct state_in *in, uint32_t version, GError **error);

extern const struct io_ops rtc_cmos_io_ops; /* offsets 0 (index), 1 (data) */

/* Register numbers. */
enum {
    RTC_SECONDS = 0x00, RTC_SECONDS_ALARM = 0x01, RTC_MINUTES = 0x02, RTC_MINUTES_ALARM = 0x03,
    RTC_HOURS = 0x04, RTC_HOURS_ALARM = 0x05, RTC_DAY_OF_WEEK = 0x06, RTC_DAY_OF_MONTH = 0x07,
    RTC_MONTH = 0x08, RTC_YEAR = 0x09, RTC_REG_A = 0x0a, RTC_REG_B = 0x0b, RTC_REG_C = 0x0c,
    RTC_REG_D = 0x0d, RTC_CENTURY = 0x32,
};
#define RTC_A_UIP  0x80
#define RTC_B_SET  0x80
#define RTC_B_PIE  0x40
#define RTC_B_AIE  0x20
#define RTC_B_UIE  0x10
#define RTC_B_DM_BINARY 0x04
#define RTC_B_24H  0x02
#define RTC_C_IRQF 0x80
#define RTC_C_PF   0x40
#define RTC_C_AF   0x20
#define RTC_C_UF   0x10
#define RTC_D_VRT  0x80
