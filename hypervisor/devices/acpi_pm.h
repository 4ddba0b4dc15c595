/* PIIX4-style ACPI power management block: PM1a event and control
 * registers, the ACPI PM timer, GPE0, and the SMI command port through
 * which the OS switches to ACPI mode.  The ICH9 flavour (Q35) adds SMI_EN
 * and SMI_STS, and its ports move where the LPC bridge's PMBASE says.
 *
 * Ports (pc_layout.h): PC_ACPI_PM_BASE + 0x00 PM1a_STS (2, write 1 to
 * clear), + 0x02 PM1a_EN (2), + 0x04 PM1a_CNT (2), + 0x08 PM_TMR (4),
 * + 0x20 GPE0_STS (4, write 1 to clear), + 0x24 GPE0_EN (4); SMI_CMD at
 * PC_ACPI_SMI_CMD.  The SCI is PC_ACPI_SCI_IRQ, level-triggered, high. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/vm.h"

/* Values the FADT advertises; the device implements exactly these. */
#define ACPI_PM_ACPI_ENABLE   0xf1   /* written to SMI_CMD: set SCI_EN */
#define ACPI_PM_ACPI_DISABLE  0xf0   /* written to SMI_CMD: clear SCI_EN */
#define ACPI_PM1_EVT_LEN      4
#define ACPI_PM1_CNT_LEN      2
#define ACPI_PM_TMR_LEN       4
#define ACPI_GPE0_LEN         8      /* 4 status + 4 enable bytes */
#define ACPI_PM_TMR_FREQ      3579545ULL
#define ACPI_PM_TMR_32BIT     1      /* FADT TMR_VAL_EXT */

/* PM1 status/enable bits (ACPI 6.x, 4.8.4.1). */
#define ACPI_PM1_TMR          (1u << 0)
#define ACPI_PM1_GBL          (1u << 5)
#define ACPI_PM1_PWRBTN       (1u << 8)
#define ACPI_PM1_SLPBTN       (1u << 9)
#define ACPI_PM1_RTC          (1u << 10)
#define ACPI_PM1_WAK_STS      (1u << 15)
/* PM1 control bits. */
#define ACPI_PM1_SCI_EN       (1u << 0)
#define ACPI_PM1_SLP_TYP_SHIFT 10
#define ACPI_PM1_SLP_TYP_MASK (7u << ACPI_PM1_SLP_TYP_SHIFT)
#define ACPI_PM1_SLP_EN       (1u << 13)

/* ICH9 SMI control (PMBASE + 0x30 SMI_EN, + 0x34 SMI_STS). */
#define ACPI_PM_SMI_EN        0x30
#define ACPI_PM_SMI_STS       0x34
#define ACPI_PM_GBL_SMI_EN    (1u << 0)
#define ACPI_PM_EOS           (1u << 1)
#define ACPI_PM_APMC_EN       (1u << 5)
#define ACPI_PM_APM_STS       (1u << 5)

struct acpi_pm;

/* Where the block is and which flavour it is. */
struct acpi_pm_config {
    uint16_t base;          /* first port; 0: not decoding until acpi_pm_set_base() */
    uint16_t len;           /* ports decoded from base */
    uint8_t acpi_enable;    /* SMI_CMD values of the ACPI mode handshake */
    uint8_t acpi_disable;
    bool ich9;              /* SMI_EN and SMI_STS */
};

/* The i440FX's block: PC_ACPI_PM_BASE, ACPI_PM_ACPI_ENABLE/DISABLE. */
struct acpi_pm *acpi_pm_create(struct vm *vm);
/* Register the block on vm's port I/O bus (and SMI_CMD at
 * PC_ACPI_SMI_CMD), the power-button hook and a reset handler.  Returns
 * NULL if the ports are already taken. */
struct acpi_pm *acpi_pm_create_with(struct vm *vm, const struct acpi_pm_config *cfg);

/* Move the block (ICH9 PMBASE and ACPI_EN): it decodes at base when
 * enabled, nowhere otherwise.  A base whose ports are taken leaves the
 * block not decoding. */
void acpi_pm_set_base(struct acpi_pm *pm, uint16_t base, bool enabled);
/* The first port the block decodes, 0 when it does not. */
uint16_t acpi_pm_base(struct acpi_pm *pm);

/* ICH9: called (lock held) when a write to SMI_CMD raises an SMI, i.e.
 * APMC_EN and GBL_SMI_EN are set; where System Management Mode will hook
 * in.  Without a handler, SMI_EN reads APMC_EN set after reset, which
 * tells firmware that there is no SMM setup to do. */
void acpi_pm_set_smi_handler(struct acpi_pm *pm, void (*fn)(void *opaque), void *opaque);

/* ICH9: GEN_PMCON_1's SMI_LOCK; while locked, guest writes leave
 * SMI_EN's GBL_SMI_EN as it is. */
void acpi_pm_set_smi_lock(struct acpi_pm *pm, bool locked);

/* Its state section; machine assembly registers it (opaque: struct acpi_pm). */
struct vm_state_ops;
extern const struct vm_state_ops acpi_pm_state_ops;
/* The ICH9 flavour's, with SMI_EN and SMI_STS. */
extern const struct vm_state_ops acpi_pm_ich9_state_ops;

/* Unregister the ports and free; the powerdown hook and reset handler
 * registered with vm must not run afterwards (the VM goes first). */
void acpi_pm_free(struct acpi_pm *pm);

/* Press the power button: PWRBTN_STS, and the SCI if the OS enabled it. */
void acpi_pm_power_button(struct acpi_pm *pm);

/* Set a general-purpose event status bit (0-31), raising the SCI if the
 * OS enabled that GPE. */
void acpi_pm_set_gpe(struct acpi_pm *pm, unsigned bit);

/* Called (on the writing vCPU's thread) after every write of a command to
 * SMI_CMD, the APM control port: the chipset raises its SMI from there. */
void acpi_pm_set_apm_listener(struct acpi_pm *pm, void (*fn)(void *opaque, uint8_t cmd),
                              void *opaque);

/* Current value of the PM timer (for tests and diagnostics). */
uint32_t acpi_pm_timer(struct acpi_pm *pm);
