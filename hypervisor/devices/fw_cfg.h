/* The firmware configuration device (fw_cfg) that SeaBIOS, OVMF and
 * Linux's qemu_fw_cfg driver read: numbered items and named files, read
 * through a selector/data port pair or the DMA interface.
 *
 * Ports (pc_layout.h): PC_FW_CFG_PORT selector (16-bit write), +1 data
 * (byte reads), PC_FW_CFG_DMA_PORT DMA address (64-bit, big-endian: high
 * half at +0, low half at +4; writing the low half starts the transfer).
 * Every address and length in a DMA request is checked against guest RAM;
 * a bad request sets the error bit and touches nothing.  Items are
 * read-only except the SMI negotiation's requested features. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "core/vm.h"

/* Item keys. */
#define FW_CFG_SIGNATURE      0x0000  /* "QEMU" */
#define FW_CFG_ID             0x0001  /* feature bits, below */
#define FW_CFG_UUID           0x0002
#define FW_CFG_RAM_SIZE       0x0003
#define FW_CFG_NOGRAPHIC      0x0004
#define FW_CFG_NB_CPUS        0x0005
#define FW_CFG_MACHINE_ID     0x0006
#define FW_CFG_KERNEL_ADDR    0x0007
#define FW_CFG_KERNEL_SIZE    0x0008
#define FW_CFG_KERNEL_CMDLINE 0x0009
#define FW_CFG_INITRD_ADDR    0x000a
#define FW_CFG_INITRD_SIZE    0x000b
#define FW_CFG_BOOT_DEVICE    0x000c
#define FW_CFG_NUMA           0x000d
#define FW_CFG_BOOT_MENU      0x000e
#define FW_CFG_MAX_CPUS       0x000f
#define FW_CFG_KERNEL_ENTRY   0x0010
#define FW_CFG_KERNEL_DATA    0x0011
#define FW_CFG_INITRD_DATA    0x0012
#define FW_CFG_CMDLINE_ADDR   0x0013
#define FW_CFG_CMDLINE_SIZE   0x0014
#define FW_CFG_CMDLINE_DATA   0x0015
#define FW_CFG_SETUP_ADDR     0x0016
#define FW_CFG_SETUP_SIZE     0x0017
#define FW_CFG_SETUP_DATA     0x0018
#define FW_CFG_FILE_DIR       0x0019
#define FW_CFG_FILE_FIRST     0x0020  /* files get keys from here on */
#define FW_CFG_MAX_FILES      0x0100
#define FW_CFG_WRITE_CHANNEL  0x4000  /* selector bit: write access */
#define FW_CFG_ARCH_LOCAL     0x8000  /* x86: 0x8000 ACPI tables, 0x8003 e820, ... */

#define FW_CFG_ID_TRADITIONAL 0x01
#define FW_CFG_ID_DMA         0x02

/* DMA access structure (16 bytes, big-endian): control, length, address. */
#define FW_CFG_DMA_CTL_ERROR  0x01
#define FW_CFG_DMA_CTL_READ   0x02
#define FW_CFG_DMA_CTL_SKIP   0x04
#define FW_CFG_DMA_CTL_SELECT 0x08
#define FW_CFG_DMA_CTL_WRITE  0x10
#define FW_CFG_DMA_SIGNATURE  0x51454d5520434647ULL  /* "QEMU CFG", read from the DMA port */

#define FW_CFG_FILE_NAME_MAX  56      /* including the terminating NUL */
#define FW_CFG_PORT_LEN       12      /* selector, data, pad, 8-byte DMA address */

struct fw_cfg;

/* Register the ports on vm's port I/O bus and fill in the items every
 * firmware expects: signature, ID (with DMA), file directory, NB_CPUS,
 * MAX_CPUS, RAM_SIZE and the file "etc/e820".  NULL if the ports are
 * already taken. */
struct fw_cfg *fw_cfg_create(struct vm *vm);
void fw_cfg_free(struct fw_cfg *fw);

/* Its state section; machine assembly registers it (opaque: struct fw_cfg). */
struct vm_state_ops;
extern const struct vm_state_ops fw_cfg_state_ops;

/* Set a numbered item (copying data, or taking a reference to it).
 * Refused (false) for the keys the device manages itself (signature, ID,
 * file directory, file keys) and for items of 4 GiB or more. */
bool fw_cfg_add_bytes(struct fw_cfg *fw, uint16_t key, const void *data, size_t len);
bool fw_cfg_add_gbytes(struct fw_cfg *fw, uint16_t key, GBytes *data);
/* Little-endian integers, the form the numbered items use. */
bool fw_cfg_add_i16(struct fw_cfg *fw, uint16_t key, uint16_t value);
bool fw_cfg_add_i32(struct fw_cfg *fw, uint16_t key, uint32_t value);
bool fw_cfg_add_i64(struct fw_cfg *fw, uint16_t key, uint64_t value);

/* Add a named file, or replace the contents of the file with that name.
 * Refused if the name is empty or too long, or the directory is full. */
bool fw_cfg_add_file(struct fw_cfg *fw, const char *name, const void *data, size_t len);
bool fw_cfg_add_file_gbytes(struct fw_cfg *fw, const char *name, GBytes *data);

/* Direct Linux boot through firmware: the option ROM that firmware runs
 * for it loads each piece from these items (SETUP_*, KERNEL_*, INITRD_*,
 * CMDLINE_*: load address, size, data).  The caller has split the bzImage
 * and patched its setup header; data is referenced, not copied.  NULL
 * pieces (no initrd) get size 0. */
struct fw_cfg_linux_boot {
    GBytes *setup;    uint32_t setup_addr;
    GBytes *kernel;   uint32_t kernel_addr;
    GBytes *initrd;   uint32_t initrd_addr;
    const char *cmdline; uint32_t cmdline_addr;
};
bool fw_cfg_add_linux_boot(struct fw_cfg *fw, const struct fw_cfg_linux_boot *boot);

/* SMI feature negotiation, as OVMF does it on a chipset with SMM (Q35):
 * etc/smi/supported-features (8 bytes, little-endian) says what the VMM
 * offers; the firmware writes its choice to etc/smi/requested-features
 * (8 bytes, by DMA) and selects etc/smi/features-ok (1 byte), which
 * becomes 1 when the choice is a subset of the offer.  The choice is
 * then fixed (requested-features refuses writes) until a platform reset.
 * Call once, before the guest runs. */
#define FW_CFG_SMI_BROADCAST       (1ULL << 0)  /* an SMI reaches every vCPU */
#define FW_CFG_SMI_CPU_HOTPLUG     (1ULL << 1)
#define FW_CFG_SMI_CPU_HOT_UNPLUG  (1ULL << 2)
bool fw_cfg_add_smi_features(struct fw_cfg *fw, uint64_t supported);
/* The features the firmware negotiated; 0 until it did. */
uint64_t fw_cfg_smi_negotiated(struct fw_cfg *fw);

/* The key a file was given, or -1. */
int fw_cfg_file_key(struct fw_cfg *fw, const char *name);
