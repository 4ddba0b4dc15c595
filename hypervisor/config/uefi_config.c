#include "uefi_config.h"
#include "options.h"

#include <inttypes.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

void uefi_config_clear(struct uefi_config *u)
{
    g_clear_pointer(&u->code, g_free);
    g_clear_pointer(&u->vars, g_free);
    u->secure = false;
}

static bool invalid(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static bool invalid(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, OPTIONS_ERROR, OPTIONS_ERROR_INVALID, msg);
    return false;
}

bool uefi_config_parse(const char *spec, struct uefi_config *u, GError **error)
{
    struct uefi_config n = { 0 };
    g_auto(GStrv) items = g_strsplit(spec, ",", -1);
    for (char **i = items; *i; i++) {
        const char *eq = strchr(*i, '=');
        if (!eq || eq == *i || !eq[1]) {
            uefi_config_clear(&n);
            return invalid(error, _("--uefi: expected KEY=VALUE, not '%s'"), *i);
        }
        g_autofree char *key = g_strndup(*i, (gsize)(eq - *i));
        const char *value = eq + 1;
        if (!strcmp(key, "code")) {
            g_free(n.code);
            n.code = g_strdup(value);
        } else if (!strcmp(key, "vars")) {
            g_free(n.vars);
            n.vars = g_strdup(value);
        } else if (!strcmp(key, "secure")) {
            if (strcmp(value, "on") && strcmp(value, "off")) {
                uefi_config_clear(&n);
                return invalid(error, _("--uefi: secure must be 'on' or 'off', not '%s'"), value);
            }
            n.secure = !strcmp(value, "on");
        } else {
            uefi_config_clear(&n);
            return invalid(error, _("--uefi: unknown key '%s' (code, vars, secure)"), key);
        }
    }
    if (!n.code || !n.vars) {
        uefi_config_clear(&n);
        return invalid(error, _("--uefi needs code=FILE and vars=FILE"));
    }
    uefi_config_clear(u);
    *u = n;
    return true;
}

bool uefi_config_check_sizes(const struct uefi_config *u, uint64_t code_size,
                             uint64_t vars_size, GError **error)
{
    if (code_size == 0 || code_size % UEFI_FLASH_BLOCK)
        return invalid(error, _("%s: a UEFI code image must be a whole number of 4 KiB blocks "
                                "(it has %" PRIu64 " bytes)"), u->code, code_size);
    if (vars_size == 0 || vars_size % UEFI_FLASH_BLOCK)
        return invalid(error, _("%s: a UEFI variable store must be a whole number of 4 KiB "
                                "blocks (it has %" PRIu64 " bytes)"), u->vars, vars_size);
    if (code_size > UEFI_FLASH_MAX_TOTAL || vars_size > UEFI_FLASH_MAX_TOTAL ||
        code_size + vars_size > UEFI_FLASH_MAX_TOTAL)
        return invalid(error, _("%s and %s: together the UEFI images must fit in 16 MiB "
                                "(they have %" PRIu64 " bytes)"),
                       u->code, u->vars, code_size + vars_size);
    uint64_t total = code_size + vars_size;
    /* OVMF is built as one flash device split in two: the variable store
     * template of a build only fits the code of the same build. */
    if (total & (total - 1))
        return invalid(error, _("%s does not belong to %s: the two sizes (%" PRIu64
                                " + %" PRIu64 " bytes) must add up to the flash size "
                                "the firmware was built for (2 MiB, 4 MiB ...)"),
                       u->vars, u->code, vars_size, code_size);
    return true;
}

static bool file_size(const char *path, bool writable, const char *what, uint64_t *size,
                      GError **error)
{
    GStatBuf st;
    if (g_stat(path, &st) < 0)
        return invalid(error, _("%s: cannot use it as the UEFI %s: %s"), path, what,
                       g_strerror(errno));
    if (!S_ISREG(st.st_mode))
        return invalid(error, _("%s: the UEFI %s must be a regular file"), path, what);
    if (access(path, writable ? R_OK | W_OK : R_OK) < 0)
        return invalid(error, _("%s: cannot %s the UEFI %s: %s"), path,
                       writable ? _("read and write") : _("read"), what, g_strerror(errno));
    *size = (uint64_t)st.st_size;
    return true;
}

bool uefi_config_check(const struct uefi_config *u, GError **error)
{
    uint64_t code_size, vars_size;
    return file_size(u->code, false, _("code image"), &code_size, error) &&
           file_size(u->vars, true, _("variable store"), &vars_size, error) &&
           uefi_config_check_sizes(u, code_size, vars_size, error);
}
