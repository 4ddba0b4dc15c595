/* Hands the ACPI tables to firmware through fw_cfg. */
#include "acpi_tables.h"

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "devices/fw_cfg.h"

bool acpi_tables_add_to_fw_cfg(struct fw_cfg *fw, const struct guest_memory *m,
                               const struct acpi_platform *p, GError **error)
{
    struct acpi_fw_cfg_files f;
    if (!acpi_tables_build_fw_cfg(m, p, &f, error))
        return false;
    bool ok = fw_cfg_add_file(fw, ACPI_FW_CFG_TABLES_FILE, f.tables, f.tables_len) &&
              fw_cfg_add_file(fw, ACPI_FW_CFG_RSDP_FILE, f.rsdp, f.rsdp_len) &&
              fw_cfg_add_file(fw, ACPI_FW_CFG_LOADER_FILE, f.loader, f.loader_len);
    acpi_fw_cfg_files_clear(&f);
    if (!ok)
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                    _("No room for the ACPI tables in the firmware configuration device"));
    return ok;
}
