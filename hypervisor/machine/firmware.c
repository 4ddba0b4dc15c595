#include <inttypes.h>
#include "firmware.h"
#include "config/pc_layout.h"
#include "smbios.h"
#include "upper_memory.h"
#include "core/smm.h"
#include "core/vm_core.h"
#include "config/options.h"
#include "acpi/acpi_tables.h"
#include "devices/fw_cfg.h"
#include "devices/pflash.h"
#include "config/uefi_config.h"
#include "device_registry.h"

#include <string.h>
#include <sys/mman.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#define FOUR_GIB         0x100000000ULL
/* SeaBIOS writes its debug log to this port, a byte at a time. */
#define FIRMWARE_DEBUG_PORT 0x402

struct firmware {
    struct vm *vm;
    uint8_t *image;          /* page-aligned private copy of the BIOS */
    size_t size;             /* of the BIOS, or of the UEFI code */
    int slot;                /* read-only slot at 4 GiB - size */
    struct pflash *code, *vars;   /* UEFI */
    struct fw_cfg *fw_cfg;
    GMutex log_lock;
    GString *log_line;
    bool log_smm;            /* some of the line was written in SMM */
};

/* The firmware's debug log, line by line, as debug messages (shown with
 * G_MESSAGES_DEBUG=all); lines its SMM code writes say so. */
static uint64_t debug_read(void *opaque, uint64_t offset, unsigned size)
{
    return 0xe9;   /* what firmware probes for: the port is there */
}

static void debug_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct firmware *fw = opaque;
    char c = (char)value;
    g_mutex_lock(&fw->log_lock);
    fw->log_smm |= vm_smm_access_in_smm();
    if (c == '\n' || fw->log_line->len >= 512) {
        if (fw->log_smm)
            g_debug("firmware (SMM): %s", fw->log_line->str);
        else
            g_debug("firmware: %s", fw->log_line->str);
        g_string_truncate(fw->log_line, 0);
        fw->log_smm = false;
    } else if (c != '\r') {
        g_string_append_c(fw->log_line, c);
    }
    g_mutex_unlock(&fw->log_lock);
}

static const struct io_ops debug_ops = { .read = debug_read, .write = debug_write };

/* Writes to the read-only BIOS slot exit to userspace; a ROM ignores them. */
static uint64_t rom_read(void *opaque, uint64_t offset, unsigned size)
{
    struct firmware *fw = opaque;
    uint64_t v = 0;
    if (offset < fw->size && size <= fw->size - offset && size <= sizeof(v))
        memcpy(&v, fw->image + offset, size);
    return v;
}

static void rom_write(void *opaque, uint64_t offset, uint64_t value, unsigned size) { }

static const struct io_ops rom_ops = { .read = rom_read, .write = rom_write };

static bool load_image(struct firmware *fw, const char *path, GError **error)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) local = NULL;
    if (!g_file_get_contents(path, &data, &len, &local)) {
        g_set_error(error, OPTIONS_ERROR, OPTIONS_ERROR_INVALID, _("Cannot read the BIOS: %s"),
                    local->message);
        return false;
    }
    if (len < FIRMWARE_MIN_SIZE || len > FIRMWARE_MAX_SIZE || len % FIRMWARE_MIN_SIZE) {
        g_set_error(error, OPTIONS_ERROR, OPTIONS_ERROR_INVALID,
                    _("%s: a BIOS image must be 64 KiB to 16 MiB, in 64 KiB steps (it has %zu bytes)"), path, len);
        return false;
    }
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, _("Cannot allocate %zu bytes for the BIOS"), len);
        return false;
    }
    memcpy(p, data, len);
    fw->image = p;
    fw->size = len;
    return true;
}

static bool access_in_smm(void *opaque)
{
    (void)opaque;
    return vm_smm_access_in_smm();
}

/* UEFI firmware as QEMU lays it out: the code at the top of 4 GiB, the
 * variable store right below, each a flash chip the firmware can query;
 * both are saved with the VM. */
static bool map_uefi_flash(struct firmware *fw, const struct firmware_config *c, GError **error)
{
    if (!uefi_config_check(c->uefi, error))
        return false;
    struct pflash_config code = {
        .name = "pflash0",
        .path = c->uefi->code,
        .block_size = UEFI_FLASH_BLOCK,
        .readonly = true,
    };
    GStatBuf st;
    if (g_stat(code.path, &st) < 0) {
        g_set_error(error, OPTIONS_ERROR, OPTIONS_ERROR_INVALID, _("%s: cannot read it"),
                    code.path);
        return false;
    }
    code.base = FOUR_GIB - (uint64_t)st.st_size;
    fw->code = pflash_create(fw->vm, &code, error);
    if (!fw->code)
        return false;
    fw->size = pflash_size(fw->code);
    struct pflash_config vars = {
        .name = "pflash1",
        .path = c->uefi->vars,
        .block_size = UEFI_FLASH_BLOCK,
        .secure = c->uefi->secure,
        .in_smm = access_in_smm,
    };
    if (g_stat(vars.path, &st) < 0) {
        g_set_error(error, OPTIONS_ERROR, OPTIONS_ERROR_INVALID, _("%s: cannot read it"),
                    vars.path);
        return false;
    }
    vars.base = code.base - (uint64_t)st.st_size;
    fw->vars = pflash_create(fw->vm, &vars, error);
    if (!fw->vars)
        return false;
    device_registry_add(c->registry, "pflash0", fw->code, &pflash_state_ops, pflash_reset,
                        fw->code);
    device_registry_add(c->registry, "pflash1", fw->vars, &pflash_state_ops, pflash_reset,
                        fw->vars);
    return true;
}

static bool add_fw_cfg_items(struct firmware *fw, const struct firmware_config *c, GError **error)
{
    struct fw_cfg *f = fw->fw_cfg;
    if (c->acpi && !acpi_tables_add_to_fw_cfg(f, vm_memory(fw->vm), c->acpi, error))
        return false;

    bool ok = true;
    if (c->bootorder && *c->bootorder)
        /* SeaBIOS reads the file as text; the NUL ends it. */
        ok &= fw_cfg_add_file(f, "bootorder", c->bootorder, strlen(c->bootorder) + 1);

    ok &= fw_cfg_add_i16(f, FW_CFG_BOOT_MENU, c->boot_menu ? 1 : 0);
    if (c->boot_menu) {
        uint16_t ms = GUINT16_TO_LE((uint16_t)MIN(c->boot_menu_ms, 0xffffu));
        ok &= fw_cfg_add_file(f, "etc/boot-menu-wait", &ms, sizeof(ms));
    }

    uint8_t uuid[16] = { 0 };
    if (c->uuid && !smbios_parse_uuid(c->uuid, uuid)) {
        g_set_error(error, OPTIONS_ERROR, OPTIONS_ERROR_INVALID, _("Invalid UUID '%s'"), c->uuid);
        return false;
    }
    ok &= fw_cfg_add_bytes(f, FW_CFG_UUID, uuid, sizeof(uuid));

    struct smbios_info si = {
        .manufacturer = "Oriel",
        .product = c->smbios_product ? c->smbios_product : "Oriel PC (i440FX + PIIX, 1996)",
        .version = ORIEL_VERSION,
        .name = c->name,
        .bios_vendor = "Oriel",
        .bios_version = ORIEL_VERSION,
        .bios_size = fw->size,
        .ncpus = vm_cpu_count(fw->vm),
        .ram_size = vm_memory(fw->vm)->ram_size,
        .low_ram = vm_memory(fw->vm)->low_size,
    };
    memcpy(si.uuid, uuid, sizeof(uuid));
    struct smbios_blobs sb;
    smbios_build(&si, &sb);
    ok &= fw_cfg_add_file(f, "etc/smbios/smbios-tables", sb.tables, sb.tables_len);
    ok &= fw_cfg_add_file(f, "etc/smbios/smbios-anchor", sb.anchor, sb.anchor_len);
    smbios_blobs_clear(&sb);

    if (!ok)
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                    _("No room for the firmware's settings in the firmware configuration device"));
    return ok;
}

struct firmware *firmware_create(struct vm *vm, const struct firmware_config *c, GError **error)
{
    struct firmware *fw = g_new0(struct firmware, 1);
    fw->vm = vm;
    fw->slot = -1;
    if (c->uefi) {
        if (!map_uefi_flash(fw, c, error))
            goto fail;
    } else {
        if (!load_image(fw, c->bios_path, error))
            goto fail;
        uint64_t base = FOUR_GIB - fw->size;
        fw->slot = vm_map_memory(vm, base, fw->size, fw->image, true, false);
        if (fw->slot < 0) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                        _("Cannot map the BIOS at 0x%" PRIx64), base);
            goto fail;
        }
        if (!iobus_register(vm_mmio_bus(vm), base, fw->size, &rom_ops, fw, "bios")) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                        _("The BIOS range at 0x%" PRIx64 " is already in use"), base);
            goto fail;
        }
    }

    g_mutex_init(&fw->log_lock);
    fw->log_line = g_string_new(NULL);
    if (!iobus_register(vm_pio_bus(vm), FIRMWARE_DEBUG_PORT, 1, &debug_ops, fw, "firmware-log")) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                    _("Port 0x%x for the firmware log is already taken"), FIRMWARE_DEBUG_PORT);
        goto fail;
    }

    fw->fw_cfg = fw_cfg_create(vm);
    if (!fw->fw_cfg) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                    _("Cannot create the firmware configuration device"));
        goto fail;
    }
    if (!add_fw_cfg_items(fw, c, error))
        goto fail;

    /* The top of the image also answers at 0xE0000-0xFFFFF, as on a PC
     * (OVMF does not use it; SeaBIOS runs from there). */
    const uint8_t *top = fw->code ? pflash_contents(fw->code) : fw->image;
    size_t n = MIN(fw->size, (size_t)FIRMWARE_LEGACY_BIOS_SIZE);
    if (!upper_memory_enable_pam(c->upper_memory, top + fw->size - n, n, error))
        goto fail;
    return fw;

fail:
    if (fw->fw_cfg)
        fw_cfg_free(fw->fw_cfg);
    if (fw->log_line)
        iobus_unregister(vm_pio_bus(vm), FIRMWARE_DEBUG_PORT, fw);
    if (fw->slot >= 0) {
        iobus_unregister(vm_mmio_bus(vm), FOUR_GIB - fw->size, fw);
        vm_unmap_memory(vm, fw->slot);
    }
    /* No vCPU has run yet: the flash chips can go before the VM's buses. */
    firmware_free(fw);
    return NULL;
}

/* After vm_destroy(): the VM's buses and slots are gone with it, so only
 * the image goes here.  The fw_cfg device unregisters from a live VM only;
 * at teardown it goes with the process. */
void firmware_free(struct firmware *fw)
{
    if (!fw)
        return;
    if (fw->image)
        munmap(fw->image, fw->size);
    pflash_free(fw->code);
    pflash_free(fw->vars);
    if (fw->log_line) {
        g_string_free(fw->log_line, TRUE);
        g_mutex_clear(&fw->log_lock);
    }
    g_free(fw);
}

struct fw_cfg *firmware_fw_cfg(struct firmware *fw)
{
    return fw->fw_cfg;
}
