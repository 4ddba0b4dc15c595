#include "cpu_config.h"

#include <string.h>
#include <glib/gi18n.h>

#include "options.h"

static const struct {
    const char *name;
    uint32_t bit;
} features[] = {
    { "relaxed", HYPERV_RELAXED }, { "vapic", HYPERV_VAPIC }, { "spinlocks", HYPERV_SPINLOCKS },
    { "vpindex", HYPERV_VPINDEX }, { "runtime", HYPERV_RUNTIME }, { "synic", HYPERV_SYNIC },
    { "stimer", HYPERV_STIMER }, { "stimer-direct", HYPERV_STIMER_DIRECT },
    { "reset", HYPERV_RESET }, { "vendor-id", HYPERV_VENDOR_ID },
    { "frequencies", HYPERV_FREQUENCIES }, { "reenlightenment", HYPERV_REENLIGHTENMENT },
    { "tlbflush", HYPERV_TLBFLUSH }, { "ipi", HYPERV_IPI }, { "avic", HYPERV_AVIC },
    { "time", HYPERV_TIME },
};

static bool bad(GError **error, const char *fmt, const char *arg)
{
    g_set_error(error, OPTIONS_ERROR, OPTIONS_ERROR_INVALID, fmt, arg);
    return false;
}

bool cpu_config_parse_hyperv(struct cpu_config *c, const char *s, GError **error)
{
    struct cpu_config n = *c;
    n.hyperv = 0;
    g_auto(GStrv) items = g_strsplit(s, ",", -1);
    for (char **i = items; *i; i++) {
        char *value = strchr(*i, '=');
        if (value)
            *value++ = '\0';
        size_t f;
        for (f = 0; f < G_N_ELEMENTS(features); f++)
            if (!strcmp(*i, features[f].name))
                break;
        if (f == G_N_ELEMENTS(features))
            return bad(error, _("--hyperv: unknown enlightenment '%s'"), *i);
        uint32_t bit = features[f].bit;
        if ((bit == HYPERV_SPINLOCKS || bit == HYPERV_VENDOR_ID) != (value != NULL))
            return bad(error, value ? _("--hyperv: '%s' takes no value")
                                    : _("--hyperv: '%s' needs a value"), *i);
        if (bit == HYPERV_SPINLOCKS) {
            guint64 v;
            /* Hyper-V's own minimum; fewer would make guests notify on
             * every contended lock. */
            if (!g_ascii_string_to_unsigned(value, 10, 0xfff, 0xffffffff, &v, NULL))
                return bad(error, _("--hyperv: spinlocks must be from 4095 to 4294967295, not '%s'"),
                           value);
            n.spinlock_retries = (uint32_t)v;
        } else if (bit == HYPERV_VENDOR_ID) {
            if (!*value || strlen(value) > 12)
                return bad(error, _("--hyperv: vendor-id must be 1 to 12 characters, not '%s'"),
                           value);
            memset(n.vendor_id, 0, sizeof n.vendor_id);
            memcpy(n.vendor_id, value, strlen(value));
        }
        n.hyperv |= bit;
    }
    if ((n.hyperv & HYPERV_STIMER) && (n.hyperv & (HYPERV_SYNIC | HYPERV_TIME)) !=
                                          (HYPERV_SYNIC | HYPERV_TIME))
        return bad(error, "%s", _("--hyperv: stimer needs synic and time"));
    if ((n.hyperv & HYPERV_STIMER_DIRECT) && !(n.hyperv & HYPERV_STIMER))
        return bad(error, "%s", _("--hyperv: stimer-direct needs stimer"));
    if ((n.hyperv & HYPERV_SYNIC) && !(n.hyperv & HYPERV_VPINDEX))
        return bad(error, "%s", _("--hyperv: synic needs vpindex"));
    if ((n.hyperv & (HYPERV_TLBFLUSH | HYPERV_IPI)) && !(n.hyperv & HYPERV_VPINDEX))
        return bad(error, "%s", _("--hyperv: tlbflush and ipi need vpindex"));
    *c = n;
    return true;
}
