/* The synthetic disk's map file: `KEY = VALUE` lines, `#` starts a
 * comment (to the end of the line), blank lines are ignored.
 *
 *   device = PATH                  the physical disk (or an image file)
 *   mode = trial | real
 *   esp-overlay = PATH             qcow2, needed when there are esp ranges
 *   trial-overlay = PATH           qcow2, needed in trial mode
 *   table | pass | esp = OFFSET LENGTH    decimal bytes, multiples of 512
 *
 * Every setting at most once; ranges in any order, never overlapping. */
#include "synthetic_map.h"

#include <inttypes.h>
#include <string.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

#define SECTOR 512

static bool line_error(GError **error, const char *name, unsigned line, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);
static bool line_error(GError **error, const char *name, unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                _("Synthetic disk map %s, line %u: %s"), name, line, msg);
    return false;
}

static bool file_error(GError **error, const char *name, const char *msg)
{
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                _("Synthetic disk map %s: %s"), name, msg);
    return false;
}

const char *synthetic_kind_name(enum synthetic_kind kind)
{
    switch (kind) {
    case SYNTHETIC_TABLE: return "table";
    case SYNTHETIC_PASS: return "pass";
    case SYNTHETIC_ESP: return "esp";
    case SYNTHETIC_ZERO:
    default: return "masked";
    }
}

/* A decimal number of at most 20 digits, no sign, no spaces; refuses
 * values that do not fit 64 bits. */
static bool parse_u64(const char *s, uint64_t *out)
{
    if (!*s || strlen(s) > 20)
        return false;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static bool parse_range(struct synthetic_map *m, enum synthetic_kind kind, const char *key,
                        const char *value, unsigned line, GError **error)
{
    g_auto(GStrv) words = g_strsplit_set(value, " \t", -1);
    const char *w[2];
    int n = 0;
    for (char **p = words; *p; p++) {
        if (!**p)
            continue;       /* runs of blanks */
        if (n == 2)
            return line_error(error, m->name, line,
                              _("'%s' takes OFFSET LENGTH, not '%s'"), key, value);
        w[n++] = *p;
    }
    if (n != 2)
        return line_error(error, m->name, line, _("'%s' takes OFFSET LENGTH, not '%s'"), key, value);
    uint64_t offset, length;
    if (!parse_u64(w[0], &offset))
        return line_error(error, m->name, line, _("bad offset '%s' (a decimal number of bytes)"), w[0]);
    if (!parse_u64(w[1], &length))
        return line_error(error, m->name, line, _("bad length '%s' (a decimal number of bytes)"), w[1]);
    if (length == 0)
        return line_error(error, m->name, line, _("the range is empty"));
    if (offset % SECTOR || length % SECTOR)
        return line_error(error, m->name, line,
                          _("offset %" PRIu64 " and length %" PRIu64 " must be multiples of 512"),
                          (guint64)offset, (guint64)length);
    if (length > UINT64_MAX - offset)
        return line_error(error, m->name, line, _("the range ends beyond 2^64 bytes"));
    if (m->n_ranges >= SYNTHETIC_MAP_MAX_RANGES)
        return line_error(error, m->name, line, _("more than %d ranges"), SYNTHETIC_MAP_MAX_RANGES);
    m->ranges = g_renew(struct synthetic_range, m->ranges, m->n_ranges + 1);
    m->ranges[m->n_ranges++] = (struct synthetic_range){
        .offset = offset, .length = length, .kind = kind, .line = line,
    };
    return true;
}

/* A path or word setting given once. */
static bool set_once(struct synthetic_map *m, char **field, unsigned *field_line, const char *key,
                     const char *value, unsigned line, GError **error)
{
    if (*field)
        return line_error(error, m->name, line, _("'%s' is given twice (first on line %u)"),
                          key, *field_line);
    *field = g_strdup(value);
    *field_line = line;
    return true;
}

static int by_offset(gconstpointer a, gconstpointer b)
{
    const struct synthetic_range *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

struct synthetic_map *synthetic_map_parse(const char *text, size_t len, const char *name,
                                          GError **error)
{
    g_autoptr(synthetic_map) m = g_new0(struct synthetic_map, 1);
    m->name = g_strdup(name);
    if (len > SYNTHETIC_MAP_MAX_SIZE) {
        file_error(error, name, _("the file is too large"));
        return NULL;
    }
    if (memchr(text, '\0', len)) {
        unsigned line = 1;
        for (const char *p = text; *p; p++)
            line += *p == '\n';
        line_error(error, name, line, _("a NUL byte"));
        return NULL;
    }
    g_autofree char *copy = g_strndup(text, len);
    g_auto(GStrv) lines = g_strsplit(copy, "\n", -1);
    g_autofree char *mode = NULL;
    unsigned device_line = 0, mode_line = 0, esp_line = 0, trial_line = 0;
    for (unsigned i = 0; lines[i]; i++) {
        unsigned line = i + 1;
        char *s = lines[i];
        char *hash = strchr(s, '#');
        if (hash)
            *hash = '\0';
        g_strstrip(s);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            line_error(error, name, line, _("'%s' is not KEY = VALUE"), s);
            return NULL;
        }
        *eq = '\0';
        char *key = g_strstrip(s);
        char *value = g_strstrip(eq + 1);
        if (!*key) {
            line_error(error, name, line, _("a value without a key"));
            return NULL;
        }
        if (!*value) {
            line_error(error, name, line, _("'%s' has no value"), key);
            return NULL;
        }
        bool ok;
        if (!strcmp(key, "device"))
            ok = set_once(m, &m->device, &device_line, key, value, line, error);
        else if (!strcmp(key, "mode"))
            ok = set_once(m, &mode, &mode_line, key, value, line, error);
        else if (!strcmp(key, "esp-overlay"))
            ok = set_once(m, &m->esp_overlay, &esp_line, key, value, line, error);
        else if (!strcmp(key, "trial-overlay"))
            ok = set_once(m, &m->trial_overlay, &trial_line, key, value, line, error);
        else if (!strcmp(key, "table"))
            ok = parse_range(m, SYNTHETIC_TABLE, key, value, line, error);
        else if (!strcmp(key, "pass"))
            ok = parse_range(m, SYNTHETIC_PASS, key, value, line, error);
        else if (!strcmp(key, "esp"))
            ok = parse_range(m, SYNTHETIC_ESP, key, value, line, error);
        else
            ok = line_error(error, name, line,
                            _("unknown key '%s' (device, mode, esp-overlay, trial-overlay, "
                              "table, pass or esp)"), key);
        if (!ok)
            return NULL;
    }

    if (!m->device) {
        file_error(error, name, _("no 'device' line"));
        return NULL;
    }
    if (!mode) {
        file_error(error, name, _("no 'mode' line (trial or real)"));
        return NULL;
    }
    if (!strcmp(mode, "trial")) {
        m->mode = SYNTHETIC_TRIAL;
    } else if (!strcmp(mode, "real")) {
        m->mode = SYNTHETIC_REAL;
    } else {
        line_error(error, name, mode_line, _("unknown mode '%s' (trial or real)"), mode);
        return NULL;
    }
    if (m->mode == SYNTHETIC_TRIAL && !m->trial_overlay) {
        file_error(error, name, _("trial mode needs a 'trial-overlay' line"));
        return NULL;
    }

    qsort(m->ranges, m->n_ranges, sizeof(*m->ranges), by_offset);
    for (size_t i = 0; i < m->n_ranges; i++) {
        const struct synthetic_range *r = &m->ranges[i];
        if (r->kind == SYNTHETIC_ESP && !m->esp_overlay) {
            line_error(error, name, r->line, _("an esp range needs an 'esp-overlay' line"));
            return NULL;
        }
        if (i > 0) {
            const struct synthetic_range *prev = &m->ranges[i - 1];
            if (r->offset < prev->offset + prev->length) {
                /* Name the later line: that is where the reader looks. */
                const struct synthetic_range *a = prev->line < r->line ? prev : r;
                const struct synthetic_range *b = prev->line < r->line ? r : prev;
                line_error(error, name, b->line, _("the range overlaps the one on line %u"), a->line);
                return NULL;
            }
        }
    }
    return g_steal_pointer(&m);
}

bool synthetic_map_check_size(const struct synthetic_map *m, uint64_t device_size, GError **error)
{
    for (size_t i = 0; i < m->n_ranges; i++) {
        const struct synthetic_range *r = &m->ranges[i];
        if (r->offset + r->length > device_size)
            return line_error(error, m->name, r->line,
                              _("the range ends at byte %" PRIu64 ", beyond the end of %s "
                                "(%" PRIu64 " bytes)"),
                              (guint64)(r->offset + r->length), m->device, (guint64)device_size);
    }
    return true;
}

enum synthetic_kind synthetic_map_lookup(const struct synthetic_map *m, uint64_t offset,
                                         uint64_t limit, uint64_t *len)
{
    /* The last range starting at or before offset. */
    size_t lo = 0, hi = m->n_ranges;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->ranges[mid].offset <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0) {
        const struct synthetic_range *r = &m->ranges[lo - 1];
        if (offset - r->offset < r->length) {
            *len = MIN(r->offset + r->length, limit) - offset;
            return r->kind;
        }
    }
    uint64_t next = lo < m->n_ranges ? MIN(m->ranges[lo].offset, limit) : limit;
    *len = next - offset;
    return SYNTHETIC_ZERO;
}

void synthetic_map_free(struct synthetic_map *m)
{
    if (!m)
        return;
    g_free(m->name);
    g_free(m->device);
    g_free(m->esp_overlay);
    g_free(m->trial_overlay);
    g_free(m->ranges);
    g_free(m);
}
