#include "acpi_pm.h"

#include <string.h>
#include <time.h>
#include <glib.h>
#include <glib/gi18n.h>

#include "config/pc_layout.h"
#include "core/vm_state.h"

/* Register offsets from PC_ACPI_PM_BASE. */
#define REG_PM1_STS   0x00
#define REG_PM1_EN    0x02
#define REG_PM1_CNT   0x04
#define REG_PM_TMR    0x08
#define REG_GPE0_STS  (PC_ACPI_GPE0 - PC_ACPI_PM_BASE)
#define REG_GPE0_EN   (REG_GPE0_STS + 4)
#define REG_SMI_EN    ACPI_PM_SMI_EN
#define REG_SMI_STS   ACPI_PM_SMI_STS

/* Status bits that can raise the SCI when their enable bit is set. */
#define PM1_SCI_EVENTS (ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | \
                        ACPI_PM1_SLPBTN | ACPI_PM1_RTC)
#define PM1_STS_BITS   (PM1_SCI_EVENTS | ACPI_PM1_WAK_STS)
/* SLP_EN and GBL_RLS are write-only; reads see 0. */
#define PM1_CNT_STORED (ACPI_PM1_SCI_EN | ACPI_PM1_SLP_TYP_MASK)

struct acpi_pm {
    struct vm *vm;
    struct acpi_pm_config cfg;
    GMutex lock;            /* vCPU threads and the main loop both come in */
    uint16_t base;          /* where the ports are registered; 0: nowhere */
    uint32_t smi_en, smi_sts;   /* ICH9 */
    bool smi_lock;              /* ICH9: GBL_SMI_EN frozen (LPC's SMI_LOCK) */
    void (*smi_fn)(void *opaque);
    void *smi_opaque;
    uint16_t pm1_sts, pm1_en, pm1_cnt;
    uint32_t gpe0_sts, gpe0_en;
    uint8_t apm_cmd;        /* 0xB2: the last command, read back by SMM code */
    uint8_t apm_status;     /* 0xB3: scratch byte the OS and firmware share */
    bool sci;               /* current SCI line level */
    void (*apm_fn)(void *opaque, uint8_t cmd);
    void *apm_opaque;
    int64_t tmr_start_ns;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint32_t timer_value(struct acpi_pm *pm)
{
    uint64_t ns = (uint64_t)(now_ns() - pm->tmr_start_ns);
    /* Split so that ns * frequency never overflows 64 bits. */
    uint64_t ticks = (ns / 1000000000) * ACPI_PM_TMR_FREQ +
                     (ns % 1000000000) * ACPI_PM_TMR_FREQ / 1000000000;
    return ACPI_PM_TMR_32BIT ? (uint32_t)ticks : (uint32_t)(ticks & 0xffffff);
}

uint32_t acpi_pm_timer(struct acpi_pm *pm)
{
    return timer_value(pm);
}

/* Recompute the SCI level after any change; called with the lock held. */
static void update_sci(struct acpi_pm *pm)
{
    bool level = (pm->pm1_cnt & ACPI_PM1_SCI_EN) &&
                 ((pm->pm1_sts & pm->pm1_en & PM1_SCI_EVENTS) || (pm->gpe0_sts & pm->gpe0_en));
    if (level != pm->sci) {
        pm->sci = level;
        vm_set_irq(pm->vm, PC_ACPI_SCI_IRQ, level);
    }
}

static uint8_t read_byte(struct acpi_pm *pm, unsigned reg, uint32_t tmr)
{
    switch (reg) {
    case REG_PM1_STS ... REG_PM1_STS + 1:
        return (uint8_t)(pm->pm1_sts >> (8 * (reg - REG_PM1_STS)));
    case REG_PM1_EN ... REG_PM1_EN + 1:
        return (uint8_t)(pm->pm1_en >> (8 * (reg - REG_PM1_EN)));
    case REG_PM1_CNT ... REG_PM1_CNT + 1:
        return (uint8_t)(pm->pm1_cnt >> (8 * (reg - REG_PM1_CNT)));
    case REG_PM_TMR ... REG_PM_TMR + 3:
        return (uint8_t)(tmr >> (8 * (reg - REG_PM_TMR)));
    case REG_GPE0_STS ... REG_GPE0_STS + 3:
        return (uint8_t)(pm->gpe0_sts >> (8 * (reg - REG_GPE0_STS)));
    case REG_GPE0_EN ... REG_GPE0_EN + 3:
        return (uint8_t)(pm->gpe0_en >> (8 * (reg - REG_GPE0_EN)));
    case REG_SMI_EN ... REG_SMI_EN + 3:
        return pm->cfg.ich9 ? (uint8_t)(pm->smi_en >> (8 * (reg - REG_SMI_EN))) : 0;
    case REG_SMI_STS ... REG_SMI_STS + 3:
        return pm->cfg.ich9 ? (uint8_t)(pm->smi_sts >> (8 * (reg - REG_SMI_STS))) : 0;
    default:
        return 0;
    }
}

static uint64_t pm_read(void *opaque, uint64_t offset, unsigned size)
{
    struct acpi_pm *pm = opaque;
    uint64_t v = 0;
    g_mutex_lock(&pm->lock);
    /* One timer sample per access, so a 32-bit read is consistent. */
    uint32_t tmr = timer_value(pm);
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)read_byte(pm, (unsigned)offset + i, tmr) << (8 * i);
    g_mutex_unlock(&pm->lock);
    return v;
}

static void set_byte16(uint16_t *reg, unsigned byte, uint8_t v)
{
    *reg = (uint16_t)((*reg & ~(0xffu << (8 * byte))) | ((unsigned)v << (8 * byte)));
}

static void set_byte32(uint32_t *reg, unsigned byte, uint8_t v)
{
    *reg = (*reg & ~(0xffu << (8 * byte))) | ((uint32_t)v << (8 * byte));
}

/* Apply one byte of a write.  Returns true if the guest asked for S5. */
static bool write_byte(struct acpi_pm *pm, unsigned reg, uint8_t v)
{
    switch (reg) {
    case REG_PM1_STS ... REG_PM1_STS + 1:
        /* Write 1 to clear. */
        pm->pm1_sts &= (uint16_t)~((unsigned)v << (8 * (reg - REG_PM1_STS)));
        break;
    case REG_PM1_EN ... REG_PM1_EN + 1:
        set_byte16(&pm->pm1_en, reg - REG_PM1_EN, v);
        pm->pm1_en &= PM1_SCI_EVENTS;
        break;
    case REG_PM1_CNT ... REG_PM1_CNT + 1: {
        uint16_t cnt = pm->pm1_cnt;
        set_byte16(&cnt, reg - REG_PM1_CNT, v);
        pm->pm1_cnt = cnt & PM1_CNT_STORED;
        /* SLP_TYP and SLP_EN share the high byte, so one byte write
         * carries a complete sleep request. */
        if (cnt & ACPI_PM1_SLP_EN) {
            unsigned typ = (cnt & ACPI_PM1_SLP_TYP_MASK) >> ACPI_PM1_SLP_TYP_SHIFT;
            if (typ == PC_ACPI_S5_SLP_TYP)
                return true;
            /* Other sleep states are not advertised; waking at once is
             * what an OS that tried one anyway can cope with. */
            pm->pm1_sts |= ACPI_PM1_WAK_STS;
        }
        break;
    }
    case REG_GPE0_STS ... REG_GPE0_STS + 3:
        pm->gpe0_sts &= ~((uint32_t)v << (8 * (reg - REG_GPE0_STS)));
        break;
    case REG_GPE0_EN ... REG_GPE0_EN + 3:
        set_byte32(&pm->gpe0_en, reg - REG_GPE0_EN, v);
        break;
    case REG_SMI_EN ... REG_SMI_EN + 3:
        if (pm->cfg.ich9) {
            uint32_t old = pm->smi_en;
            set_byte32(&pm->smi_en, reg - REG_SMI_EN, v);
            if (pm->smi_lock)
                pm->smi_en = (pm->smi_en & ~ACPI_PM_GBL_SMI_EN) | (old & ACPI_PM_GBL_SMI_EN);
        }
        break;
    case REG_SMI_STS ... REG_SMI_STS + 3:
        if (pm->cfg.ich9)
            pm->smi_sts &= ~((uint32_t)v << (8 * (reg - REG_SMI_STS)));
        break;
    default:
        break;  /* the timer is read-only; holes ignore writes */
    }
    return false;
}

static void pm_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct acpi_pm *pm = opaque;
    bool poweroff = false;
    g_mutex_lock(&pm->lock);
    for (unsigned i = 0; i < size; i++)
        poweroff |= write_byte(pm, (unsigned)offset + i, (uint8_t)(value >> (8 * i)));
    update_sci(pm);
    g_mutex_unlock(&pm->lock);
    if (poweroff)
        vm_request_shutdown(pm->vm, VM_SHUTDOWN_GUEST_POWEROFF);
}

static const struct io_ops pm_ops = { .read = pm_read, .write = pm_write };

/* A command written to SMI_CMD (lock held).  It is kept for SMM code to
 * read back.  On ICH9 it is an SMI when enabled; the ACPI handshake is
 * done here directly, as the SMM handler of real firmware would. */
static void apm_command(struct acpi_pm *pm, uint8_t v)
{
    pm->apm_cmd = v;
    if (pm->cfg.ich9 && (pm->smi_en & ACPI_PM_APMC_EN)) {
        pm->smi_sts |= ACPI_PM_APM_STS;
        if ((pm->smi_en & ACPI_PM_GBL_SMI_EN) && pm->smi_fn) {
            pm->smi_en &= ~ACPI_PM_EOS;
            pm->smi_fn(pm->smi_opaque);
        }
    }
    if (v == pm->cfg.acpi_enable)
        pm->pm1_cnt |= ACPI_PM1_SCI_EN;
    else if (v == pm->cfg.acpi_disable)
        pm->pm1_cnt &= (uint16_t)~ACPI_PM1_SCI_EN;
}

/* SMI_CMD (0xB2) and the APM status byte (0xB3).  The chipset hears of
 * every command (the i440FX may raise an SMI). */
static uint64_t smi_read(void *opaque, uint64_t offset, unsigned size)
{
    struct acpi_pm *pm = opaque;
    uint64_t v = 0;
    g_mutex_lock(&pm->lock);
    for (unsigned i = 0; i < size; i++)
        if (offset + i == 1)
            v |= (uint64_t)pm->apm_status << (8 * i);
        else if (offset + i == 0)
            v |= (uint64_t)pm->apm_cmd << (8 * i);
    g_mutex_unlock(&pm->lock);
    return v;
}

static void smi_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct acpi_pm *pm = opaque;
    bool command = false;
    uint8_t cmd = 0;
    g_mutex_lock(&pm->lock);
    for (unsigned i = 0; i < size; i++) {
        uint8_t v = (uint8_t)(value >> (8 * i));
        if (offset + i == 1) {
            pm->apm_status = v;
        } else if (offset + i == 0) {
            command = true;
            cmd = v;
            apm_command(pm, v);
        }
    }
    update_sci(pm);
    void (*fn)(void *, uint8_t) = pm->apm_fn;
    void *fn_opaque = pm->apm_opaque;
    g_mutex_unlock(&pm->lock);
    /* After the status byte of the same write is stored: SMM code reads it. */
    if (command && fn)
        fn(fn_opaque, cmd);
}

void acpi_pm_set_apm_listener(struct acpi_pm *pm, void (*fn)(void *opaque, uint8_t cmd),
                              void *opaque)
{
    g_mutex_lock(&pm->lock);
    pm->apm_fn = fn;
    pm->apm_opaque = opaque;
    g_mutex_unlock(&pm->lock);
}

static const struct io_ops smi_ops = { .read = smi_read, .write = smi_write };

void acpi_pm_power_button(struct acpi_pm *pm)
{
    g_mutex_lock(&pm->lock);
    pm->pm1_sts |= ACPI_PM1_PWRBTN;
    update_sci(pm);
    g_mutex_unlock(&pm->lock);
}

void acpi_pm_set_gpe(struct acpi_pm *pm, unsigned bit)
{
    if (bit >= 32)
        return;
    g_mutex_lock(&pm->lock);
    pm->gpe0_sts |= 1u << bit;
    update_sci(pm);
    g_mutex_unlock(&pm->lock);
}

static void pm_reset(void *opaque)
{
    struct acpi_pm *pm = opaque;
    g_mutex_lock(&pm->lock);
    pm->pm1_sts = pm->pm1_en = pm->pm1_cnt = 0;
    pm->gpe0_sts = pm->gpe0_en = 0;
    pm->apm_status = 0;
    pm->smi_sts = 0;
    pm->smi_en = pm->smi_fn ? 0 : ACPI_PM_APMC_EN;
    pm->apm_cmd = 0;
    pm->tmr_start_ns = now_ns();
    update_sci(pm);
    g_mutex_unlock(&pm->lock);
}

void acpi_pm_set_smi_lock(struct acpi_pm *pm, bool locked)
{
    g_mutex_lock(&pm->lock);
    pm->smi_lock = locked;
    g_mutex_unlock(&pm->lock);
}

static void pm_powerdown(void *opaque)
{
    acpi_pm_power_button(opaque);
}

/* ---- VM state -------------------------------------------------------------- */

static bool pm_save(void *opaque, struct state_out *o, GError **error)
{
    struct acpi_pm *pm = opaque;
    g_mutex_lock(&pm->lock);
    state_out_u16(o, pm->pm1_sts);
    state_out_u16(o, pm->pm1_en);
    state_out_u16(o, pm->pm1_cnt);
    state_out_u32(o, pm->gpe0_sts);
    state_out_u32(o, pm->gpe0_en);
    state_out_u8(o, pm->apm_status);
    state_out_u32(o, timer_value(pm));
    state_out_u8(o, pm->apm_cmd);
    g_mutex_unlock(&pm->lock);
    return true;
}

/* The PM timer goes on from the saved count, never back. */
static bool pm_load(void *opaque, struct state_in *in, uint32_t version, GError **error)
{
    struct acpi_pm *pm = opaque;
    uint16_t sts = state_in_u16(in), en = state_in_u16(in), cnt = state_in_u16(in);
    uint32_t gsts = state_in_u32(in), gen = state_in_u32(in);
    uint8_t apm = state_in_u8(in);
    uint32_t tmr = state_in_u32(in);
    uint8_t cmd = state_in_u8(in);
    if (in->short_read)
        return state_in_invalid(in, error, _("truncated"));
    g_mutex_lock(&pm->lock);
    pm->pm1_sts = sts & PM1_STS_BITS;
    pm->pm1_en = en;
    pm->pm1_cnt = cnt & PM1_CNT_STORED;
    pm->gpe0_sts = gsts;
    pm->gpe0_en = gen;
    pm->apm_status = apm;
    pm->apm_cmd = cmd;
    pm->tmr_start_ns = now_ns() - (int64_t)((uint64_t)tmr * 1000000000 / ACPI_PM_TMR_FREQ);
    pm->sci = false;
    update_sci(pm);
    g_mutex_unlock(&pm->lock);
    return true;
}

const struct vm_state_ops acpi_pm_state_ops = {
    .version = 2, .stage = VM_STATE_STAGE_DEVICE, .save = pm_save, .load = pm_load,
};

static bool ich9_save(void *opaque, struct state_out *o, GError **error)
{
    struct acpi_pm *pm = opaque;
    if (!pm_save(pm, o, error))
        return false;
    g_mutex_lock(&pm->lock);
    state_out_u32(o, pm->smi_en);
    state_out_u32(o, pm->smi_sts);
    g_mutex_unlock(&pm->lock);
    return true;
}

/* The ports come back with the LPC bridge's PMBASE, loaded before. */
static bool ich9_load(void *opaque, struct state_in *in, uint32_t version, GError **error)
{
    struct acpi_pm *pm = opaque;
    if (!pm_load(pm, in, version, error))
        return false;
    uint32_t en = state_in_u32(in), sts = state_in_u32(in);
    if (in->short_read)
        return state_in_invalid(in, error, _("truncated"));
    g_mutex_lock(&pm->lock);
    pm->smi_en = en;
    pm->smi_sts = sts;
    g_mutex_unlock(&pm->lock);
    return true;
}

const struct vm_state_ops acpi_pm_ich9_state_ops = {
    .version = 1, .stage = VM_STATE_STAGE_DEVICE, .save = ich9_save, .load = ich9_load,
};

struct acpi_pm *acpi_pm_create(struct vm *vm)
{
    static const struct acpi_pm_config piix4 = {
        .base = PC_ACPI_PM_BASE, .len = PC_ACPI_PM_LEN,
        .acpi_enable = ACPI_PM_ACPI_ENABLE, .acpi_disable = ACPI_PM_ACPI_DISABLE,
    };
    return acpi_pm_create_with(vm, &piix4);
}

struct acpi_pm *acpi_pm_create_with(struct vm *vm, const struct acpi_pm_config *cfg)
{
    struct acpi_pm *pm = g_new0(struct acpi_pm, 1);
    pm->vm = vm;
    pm->cfg = *cfg;
    g_mutex_init(&pm->lock);
    pm->tmr_start_ns = now_ns();
    if (cfg->ich9)
        pm->smi_en = ACPI_PM_APMC_EN;

    struct iobus *pio = vm_pio_bus(vm);
    if (cfg->base && !iobus_register(pio, cfg->base, cfg->len, &pm_ops, pm, "acpi-pm")) {
        g_mutex_clear(&pm->lock);
        g_free(pm);
        return NULL;
    }
    pm->base = cfg->base;
    if (!iobus_register(pio, PC_ACPI_SMI_CMD, 2, &smi_ops, pm, "acpi-smi-cmd")) {
        if (pm->base)
            iobus_unregister(pio, pm->base, pm);
        g_mutex_clear(&pm->lock);
        g_free(pm);
        return NULL;
    }
    vm_set_powerdown_handler(vm, pm_powerdown, pm);
    vm_add_reset_handler(vm, pm_reset, pm);
    return pm;
}

void acpi_pm_set_base(struct acpi_pm *pm, uint16_t base, bool enabled)
{
    struct iobus *pio = vm_pio_bus(pm->vm);
    uint16_t want = enabled ? base : 0;
    g_mutex_lock(&pm->lock);
    if (want != pm->base) {
        if (pm->base)
            iobus_unregister(pio, pm->base, pm);
        pm->base = 0;
        if (want && (uint32_t)want + pm->cfg.len <= 0x10000 &&
            iobus_register(pio, want, pm->cfg.len, &pm_ops, pm, "acpi-pm"))
            pm->base = want;
        else if (want)
            g_debug("acpi-pm: ports 0x%x are taken, the PM block does not decode", want);
    }
    g_mutex_unlock(&pm->lock);
}

uint16_t acpi_pm_base(struct acpi_pm *pm)
{
    g_mutex_lock(&pm->lock);
    uint16_t base = pm->base;
    g_mutex_unlock(&pm->lock);
    return base;
}

void acpi_pm_set_smi_handler(struct acpi_pm *pm, void (*fn)(void *opaque), void *opaque)
{
    g_mutex_lock(&pm->lock);
    pm->smi_fn = fn;
    pm->smi_opaque = opaque;
    /* As at reset: APMC_EN reads set only while nothing can take an SMI. */
    pm->smi_en = fn ? 0 : ACPI_PM_APMC_EN;
    g_mutex_unlock(&pm->lock);
}

void acpi_pm_free(struct acpi_pm *pm)
{
    if (!pm)
        return;
    struct iobus *pio = vm_pio_bus(pm->vm);
    if (pm->base)
        iobus_unregister(pio, pm->base, pm);
    iobus_unregister(pio, PC_ACPI_SMI_CMD, pm);
    g_mutex_clear(&pm->lock);
    g_free(pm);
}
