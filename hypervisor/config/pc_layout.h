/* Fixed addresses, ports and interrupt lines of the Oriel PC platform.
 *
 * One place for the numbers that several parts must agree on: the device
 * models, the ACPI tables (MADT, FADT, DSDT _PRT) and the e820 map.  They
 * follow the i440FX/PIIX PC that SeaBIOS, OVMF and every x86 OS expect. */
#pragma once

/* --- ISA port I/O and IRQs ------------------------------------------- */
#define PC_COM1_PORT        0x3f8
#define PC_COM1_IRQ         4
#define PC_COM2_PORT        0x2f8
#define PC_COM2_IRQ         3
#define PC_I8042_DATA_PORT  0x60
#define PC_I8042_CMD_PORT   0x64
#define PC_I8042_KBD_IRQ    1
#define PC_I8042_AUX_IRQ    12
#define PC_RTC_PORT         0x70   /* index 0x70, data 0x71 */
#define PC_RTC_IRQ          8
#define PC_PIT_IRQ          0      /* in-kernel PIT */
/* ISA IRQ 0 (the PIT) arrives at IOAPIC pin 2: the MADT carries an
 * interrupt source override IRQ0 -> GSI 2, and the core routes GSI 0 there. */
#define PC_PIT_IOAPIC_PIN   2
#define PC_PVPANIC_PORT     0x505
#define PC_FW_CFG_PORT      0x510  /* selector 0x510, data 0x511 */
#define PC_FW_CFG_DMA_PORT  0x514  /* 8 bytes, big-endian address */
#define PC_RESET_PORT       0xcf9  /* PIIX3 reset control register */
#define PC_PCI_CONFIG_PORT  0xcf8  /* mechanism #1: 0xcf8 address, 0xcfc-0xcff data */

/* PIIX4-style ACPI power management block (PM1a event/control, PM timer). */
#define PC_ACPI_PM_BASE     0x600
/* Where OVMF programs the block on the i440FX (PIIX4 PMBA). */
#define PC_ACPI_PM_BASE_OVMF 0xb000
#define PC_ACPI_PM_LEN      0x40
#define PC_ACPI_PM1_EVT     (PC_ACPI_PM_BASE + 0x00) /* status 2 bytes, enable 2 bytes */
#define PC_ACPI_PM1_CNT     (PC_ACPI_PM_BASE + 0x04)
#define PC_ACPI_PM_TMR      (PC_ACPI_PM_BASE + 0x08)
#define PC_ACPI_GPE0        (PC_ACPI_PM_BASE + 0x20) /* status 4 bytes, enable 4 bytes */
#define PC_ACPI_SMI_CMD     0xb2
#define PC_ACPI_SCI_IRQ     9
/* SLP_TYP value the DSDT's _S5 package advertises and the PM block treats
 * as "power off". */
#define PC_ACPI_S5_SLP_TYP  0

/* --- PCI --------------------------------------------------------------- */
#define PC_PCI_IO_WINDOW_START    0xc000
#define PC_PCI_IO_WINDOW_END      0xffff
#define PC_PCI_MMIO_WINDOW_START  0xc0000000ULL  /* == GUEST_PCI_HOLE_START */
#define PC_PCI_MMIO_WINDOW_END    0xfebfffffULL
#define PC_PCI_MMIO64_WINDOW_SIZE (1ULL << 36)   /* placed above RAM */

/* PCI INTx wiring: slot S, pin P (INTA=0 .. INTD=3) drives IOAPIC input
 * GSI PC_PCI_INTX_GSI(S, P).  The DSDT _PRT describes exactly this. */
#define PC_PCI_INTX_GSI_BASE 16
#define PC_PCI_INTX_GSI(slot, pin) (PC_PCI_INTX_GSI_BASE + (((slot) + (pin)) % 8))

/* --- Q35 (MCH and ICH9) ------------------------------------------------- */
/* PCI Express enhanced configuration window (ECAM): where SeaBIOS and OVMF
 * program PCIEXBAR, and where the VMM puts it for a directly booted
 * kernel.  256 MiB: buses 0-255, 4 KiB per function. */
#define PC_Q35_ECAM_BASE    0xb0000000ULL
#define PC_Q35_ECAM_SIZE    0x10000000ULL
/* The LPC bridge's power management block once firmware relocated it
 * (PMBASE); ICH9 decodes 128 ports there. */
#define PC_Q35_PM_LEN       0x80
/* SMI_CMD values that switch ACPI mode on and off on ICH9 platforms. */
#define PC_Q35_ACPI_ENABLE  0x02
#define PC_Q35_ACPI_DISABLE 0x03

/* --- Interrupt controllers and firmware ---------------------------------- */
#define PC_IOAPIC_ADDR  0xfec00000ULL
#define PC_IOAPIC_PINS  24
#define PC_LAPIC_ADDR   0xfee00000ULL
#define PC_HPET_ADDR    0xfed00000ULL

/* Legacy BIOS area: ACPI tables for direct kernel boot live in the
 * 0xE0000-0xFFFFF segment, where an OS searches for the RSDP. */
#define PC_BIOS_AREA_START 0xe0000ULL
#define PC_BIOS_AREA_END   0x100000ULL
/* Conventional memory ends at the EBDA; e820 marks 0x9fc00-0xfffff reserved. */
#define PC_EBDA_START      0x9fc00ULL
