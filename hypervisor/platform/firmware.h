/* Booting through PC firmware (SeaBIOS): the BIOS image mapped read-only
 * at the top of 4 GiB and its last 128 KiB at 0xE0000-0xFFFFF, the legacy
 * area split so the VGA window at 0xA0000 reaches the VGA, and the fw_cfg
 * items firmware reads (e820, ACPI tables through the table loader,
 * bootorder, boot menu, UUID, SMBIOS).
 *
 * Shadow RAM: the 0xC0000-0xFFFFF segment is RAM the guest can always
 * write; at power-on and at every reset the BIOS's last 128 KiB are copied
 * into 0xE0000-0xFFFFF, which is what the firmware finds there after it
 * enables shadowing through the i440FX PAM registers (SeaBIOS copies its
 * image from the high alias itself when the PAM bits say "not RAM"). */
#pragma once

#include <stdbool.h>
#include <glib.h>

struct vm;
struct acpi_platform;
struct firmware;

struct firmware_config {
    const char *bios_path;
    /* SeaBIOS "bootorder" contents (newline-separated device paths), or
     * NULL for the firmware's own order. */
    const char *bootorder;
    bool boot_menu;              /* show the boot menu, waiting boot_menu_ms */
    unsigned boot_menu_ms;
    const char *uuid;            /* SMBIOS system UUID text, or NULL */
    const char *name;            /* VM name: SMBIOS product name, or NULL */
    const struct acpi_platform *acpi;  /* tables served to firmware, or NULL */
};

/* The shadow segment's size at the top of the BIOS image. */
#define FIRMWARE_LEGACY_BIOS_SIZE 0x20000u
/* Accepted image sizes: 64 KiB .. 16 MiB, a multiple of 64 KiB. */
#define FIRMWARE_MIN_SIZE 0x10000u
#define FIRMWARE_MAX_SIZE 0x1000000u

/* Set up everything above on vm and install the boot handler that restores
 * the BIOS copy at power-on and at every reset.  Errors about the image
 * are in the OPTIONS_ERROR domain. */
struct firmware *firmware_create(struct vm *vm, const struct firmware_config *c, GError **error);
/* After vm_destroy(). */
void firmware_free(struct firmware *fw);

/* Replace the single low-RAM memory slot (0 .. end of low RAM) by three
 * slots that leave 0xA0000-0xBFFFF to the VGA window on the MMIO bus.
 * Call once, before the VGA registers its window (pc_devices.c does). */
bool firmware_open_vga_window(struct vm *vm, GError **error);
