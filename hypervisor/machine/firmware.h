/* Booting through PC firmware: SeaBIOS's image mapped read-only at the top
 * of 4 GiB, or UEFI firmware (OVMF) as two CFI flash chips there (the
 * code "pflash0", read-only, at 4 GiB - its size, and the variable store
 * "pflash1" directly below it, written through to the caller's file); in
 * both cases the image's last 128 KiB at 0xE0000-0xFFFFF, the legacy
 * area split so the VGA window at 0xA0000 reaches the VGA, and the fw_cfg
 * items firmware reads (e820, ACPI tables through the table loader,
 * bootorder, boot menu, UUID, SMBIOS).
 *
 * Shadow RAM: 0xC0000-0xFFFFF follows the i440FX PAM registers
 * (upper_memory.h), with the BIOS's last 128 KiB as the ROM
 * behind 0xE0000-0xFFFFF. */
#pragma once

#include <stdbool.h>
#include <glib.h>

struct vm;
struct acpi_platform;
struct firmware;
struct fw_cfg;
struct upper_memory;
struct uefi_config;
struct device_registry;

struct firmware_config {
    const char *bios_path;       /* SeaBIOS image, or NULL with uefi */
    const struct uefi_config *uefi;
    struct device_registry *registry;  /* where the flash chips are added */
    /* SeaBIOS "bootorder" contents (newline-separated device paths), or
     * NULL for the firmware's own order. */
    const char *bootorder;
    bool boot_menu;              /* show the boot menu, waiting boot_menu_ms */
    unsigned boot_menu_ms;
    const char *uuid;            /* SMBIOS system UUID text, or NULL */
    const char *name;            /* VM name: SMBIOS product name, or NULL */
    const struct acpi_platform *acpi;  /* tables served to firmware, or NULL */
    struct upper_memory *upper_memory; /* put under PAM control */
    const char *smbios_product;  /* the machine's SMBIOS product name */
};

/* The shadow segment's size at the top of the BIOS image. */
#define FIRMWARE_LEGACY_BIOS_SIZE 0x20000u
/* Accepted image sizes: 64 KiB .. 16 MiB, a multiple of 64 KiB. */
#define FIRMWARE_MIN_SIZE 0x10000u
#define FIRMWARE_MAX_SIZE 0x1000000u

/* Set up everything above on vm.  Errors about the image are in the
 * OPTIONS_ERROR domain. */
struct firmware *firmware_create(struct vm *vm, const struct firmware_config *c, GError **error);
/* After vm_destroy(). */
void firmware_free(struct firmware *fw);

/* The fw_cfg device the firmware reads its settings from. */
struct fw_cfg *firmware_fw_cfg(struct firmware *fw);
