/* PIIX4-style ACPI power management block: PM1a event and control
 * registers, the ACPI PM timer, GPE0, and the SMI command port through
 * which the OS switches to ACPI mode.
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

struct acpi_pm;

/* Register the block on vm's port I/O bus, the power-button hook and a
 * reset handler.  Returns NULL if the ports are already taken. */
struct acpi_pm *acpi_pm_create(struct vm *vm);

/* Its state section; machine assembly registers it (opaque: struct acpi_pm). */
struct vm_state_ops;
extern const struct vm_state_ops acpi_pm_state_ops;

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
