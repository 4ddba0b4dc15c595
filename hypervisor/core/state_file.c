#include "state_file.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

G_DEFINE_QUARK(oriel-state-error-quark, state_error)

/* The first section of every file records the whole file's size, so that
 * a reader can tell a truncated file from a corrupted one. */
#define FILE_SECTION "file"
#define FILE_SECTION_VERSION 1u
#define WRITE_CHUNK (1u << 20)

uint32_t state_file_crc(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len) {
        uInt n = (uInt)MIN(len, (size_t)1 << 30);
        crc = (uint32_t)crc32(crc, p, n);
        p += n;
        len -= n;
    }
    return crc;
}

static bool name_valid(const char *name, size_t len)
{
    if (len == 0 || len > STATE_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!g_ascii_islower(c) && !g_ascii_isdigit(c) && !strchr("._:-", c))
            return false;
    }
    return true;
}

/* ---- writing ---------------------------------------------------------------- */

struct out_section {
    char name[STATE_NAME_MAX + 1];
    uint32_t version;
    GArray *iov;                /* struct iovec */
    uint64_t len;
};

struct state_file_writer {
    GArray *sections;           /* struct out_section */
    GPtrArray *owned;           /* GByteArray */
};

static void out_section_clear(gpointer p)
{
    struct out_section *s = p;
    g_array_free(s->iov, TRUE);
}

struct state_file_writer *state_file_writer_new(void)
{
    struct state_file_writer *w = g_new0(struct state_file_writer, 1);
    w->sections = g_array_new(FALSE, TRUE, sizeof(struct out_section));
    g_array_set_clear_func(w->sections, out_section_clear);
    w->owned = g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref);
    return w;
}

void state_file_writer_free(struct state_file_writer *w)
{
    if (!w)
        return;
    g_array_free(w->sections, TRUE);
    g_ptr_array_free(w->owned, TRUE);
    g_free(w);
}

void state_file_writer_begin(struct state_file_writer *w, const char *name, uint32_t version)
{
    g_return_if_fail(name_valid(name, strlen(name)));
    struct out_section s = { .version = version, .iov = g_array_new(FALSE, FALSE, sizeof(struct iovec)) };
    g_strlcpy(s.name, name, sizeof(s.name));
    g_array_append_val(w->sections, s);
}

void state_file_writer_add_ref(struct state_file_writer *w, const void *data, size_t len)
{
    g_return_if_fail(w->sections->len > 0);
    if (!len)
        return;
    struct out_section *s = &g_array_index(w->sections, struct out_section, w->sections->len - 1);
    struct iovec v = { .iov_base = (void *)data, .iov_len = len };
    g_array_append_val(s->iov, v);
    s->len += len;
}

void state_file_writer_add_bytes(struct state_file_writer *w, GByteArray *bytes)
{
    g_ptr_array_add(w->owned, bytes);
    state_file_writer_add_ref(w, bytes->data, bytes->len);
}

/* Buffered output to the temporary file with the running checksum. */
struct sink {
    int fd;
    uint8_t *buf;
    size_t used;
    uint32_t crc;
    int err;                    /* first errno, sticky */
};

static void sink_flush(struct sink *k)
{
    size_t off = 0;
    while (!k->err && off < k->used) {
        ssize_t n = write(k->fd, k->buf + off, k->used - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            k->err = n < 0 ? errno : EIO;
        else
            off += (size_t)n;
    }
    k->used = 0;
}

static void sink_put(struct sink *k, const void *data, size_t len)
{
    const uint8_t *p = data;
    k->crc = state_file_crc(k->crc, p, len);
    while (len && !k->err) {
        size_t n = MIN(len, WRITE_CHUNK - k->used);
        memcpy(k->buf + k->used, p, n);
        k->used += n;
        p += n;
        len -= n;
        if (k->used == WRITE_CHUNK)
            sink_flush(k);
    }
}

static void sink_le(struct sink *k, uint64_t v, unsigned n)
{
    uint8_t b[8];
    for (unsigned i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    sink_put(k, b, n);
}

static void sink_section_head(struct sink *k, const char *name, uint32_t version, uint64_t len)
{
    sink_le(k, strlen(name), 1);
    sink_put(k, name, strlen(name));
    sink_le(k, version, 4);
    sink_le(k, len, 8);
}

static uint64_t head_size(const char *name)
{
    return 1 + strlen(name) + 4 + 8;
}

static uint64_t total_size(struct state_file_writer *w, size_t header_len)
{
    uint64_t total = STATE_MAGIC_LEN + 4 + 4 + header_len;
    total += head_size(FILE_SECTION) + 8;
    for (guint i = 0; i < w->sections->len; i++) {
        struct out_section *s = &g_array_index(w->sections, struct out_section, i);
        total += head_size(s->name) + s->len;
    }
    return total + 1 /* end marker */ + 4 /* CRC */;
}

static void write_all(struct state_file_writer *w, struct sink *k, const char *header)
{
    size_t hlen = strlen(header);
    sink_put(k, STATE_MAGIC, STATE_MAGIC_LEN);
    sink_le(k, STATE_FORMAT_VERSION, 4);
    sink_le(k, hlen, 4);
    sink_put(k, header, hlen);
    sink_section_head(k, FILE_SECTION, FILE_SECTION_VERSION, 8);
    sink_le(k, total_size(w, hlen), 8);
    for (guint i = 0; i < w->sections->len; i++) {
        struct out_section *s = &g_array_index(w->sections, struct out_section, i);
        sink_section_head(k, s->name, s->version, s->len);
        for (guint j = 0; j < s->iov->len; j++) {
            struct iovec *v = &g_array_index(s->iov, struct iovec, j);
            sink_put(k, v->iov_base, v->iov_len);
        }
    }
    sink_le(k, 0, 1);
    sink_le(k, k->crc, 4);
    sink_flush(k);
}

static bool fail_errno(GError **error, const char *path, int err)
{
    g_set_error(error, STATE_ERROR, STATE_ERROR_IO, _("cannot write %s: %s"), path,
                g_strerror(err));
    return false;
}

/* Make the rename itself durable. */
static void sync_dir(const char *path)
{
    g_autofree char *dir = g_path_get_dirname(path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

bool state_file_write(struct state_file_writer *w, const char *path, const char *header,
                      GError **error)
{
    if (strlen(header) > STATE_HEADER_MAX || !g_utf8_validate(header, -1, NULL)) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_FORMAT,
                    _("the header must be UTF-8 text of at most %u bytes"), STATE_HEADER_MAX);
        return false;
    }
    g_autofree char *tmp = g_strdup_printf("%s.XXXXXX", path);
    int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail_errno(error, path, errno);

    struct sink k = { .fd = fd, .buf = g_malloc(WRITE_CHUNK), .crc = state_file_crc(0, NULL, 0) };
    write_all(w, &k, header);
    g_free(k.buf);
    if (!k.err && fsync(fd) < 0)
        k.err = errno;
    if (close(fd) < 0 && !k.err)
        k.err = errno;
    if (!k.err && rename(tmp, path) < 0)
        k.err = errno;
    if (k.err) {
        unlink(tmp);
        return fail_errno(error, path, k.err);
    }
    sync_dir(path);
    return true;
}

/* ---- reading ---------------------------------------------------------------- */

struct state_file {
    GMappedFile *map;
    char *header;
    GArray *sections;           /* struct state_section */
};

static bool set_error_valist(GError **error, enum state_error_code code, const char *fmt, va_list ap)
{
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    g_set_error_literal(error, STATE_ERROR, code, msg);
    return false;
}

bool state_format_error(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_error_valist(error, STATE_ERROR_FORMAT, fmt, ap);
    va_end(ap);
    return false;
}

bool state_mismatch_error(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_error_valist(error, STATE_ERROR_MISMATCH, fmt, ap);
    va_end(ap);
    return false;
}

static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Read one section head at *pos (end marker: false with *end set). */
static bool read_head(const uint8_t *d, size_t end, size_t *pos, struct state_section *s,
                      bool *is_end, GError **error)
{
    *is_end = false;
    if (*pos >= end)
        return state_format_error(error, _("the state file has no end marker"));
    size_t nlen = d[*pos];
    if (nlen == 0) {
        *is_end = true;
        (*pos)++;
        return true;
    }
    if (end - *pos < 1 + nlen + 12)
        return state_format_error(error, _("a section header runs past the end of the state file"));
    if (!name_valid((const char *)d + *pos + 1, nlen))
        return state_format_error(error, _("the state file has a section with an invalid name"));
    memcpy(s->name, d + *pos + 1, nlen);
    s->name[nlen] = '\0';
    *pos += 1 + nlen;
    s->version = (uint32_t)le(d + *pos, 4);
    uint64_t len = le(d + *pos + 4, 8);
    *pos += 12;
    if (len > end - *pos)
        return state_format_error(error, _("section '%s' is longer than the rest of the state file"), s->name);
    s->data = d + *pos;
    s->len = (size_t)len;
    *pos += (size_t)len;
    return true;
}

static bool check_prefix(const uint8_t *d, size_t len, size_t *pos, uint64_t *total,
                         GError **error)
{
    if (len < STATE_MAGIC_LEN || memcmp(d, STATE_MAGIC, STATE_MAGIC_LEN) != 0)
        return state_format_error(error, _("not an Oriel VM state file (bad magic)"));
    if (len < STATE_MAGIC_LEN + 8)
        return state_format_error(error, _("the state file is truncated (%zu bytes)"), len);
    uint32_t version = (uint32_t)le(d + 8, 4);
    if (version != STATE_FORMAT_VERSION)
        return state_format_error(error, _("unsupported state file format version %u (this oriel-vmm reads version %u)"),
                   version, STATE_FORMAT_VERSION);
    uint64_t hlen = le(d + 12, 4);
    *pos = 16;
    if (hlen > len - *pos)
        return state_format_error(error, _("the state file is truncated (%zu bytes, in its header)"), len);
    *pos += (size_t)hlen;
    struct state_section s;
    bool is_end;
    if (!read_head(d, len, pos, &s, &is_end, error)) {
        g_clear_error(error);
        return state_format_error(error, _("the state file is truncated (%zu bytes)"), len);
    }
    if (is_end || strcmp(s.name, FILE_SECTION) != 0 || s.len != 8)
        return state_format_error(error, _("the state file lacks its '%s' section"), FILE_SECTION);
    *total = le(s.data, 8);
    if (len < *total)
        return state_format_error(error, _("the state file is truncated (%zu of %" PRIu64 " bytes)"),
                   len, *total);
    if (len > *total)
        return state_format_error(error, _("the state file has %" PRIu64 " bytes after its end"),
                   (uint64_t)(len - *total));
    if (*total < 5 || *pos > *total - 5)
        return state_format_error(error, _("the state file records an impossible size"));
    return true;
}

struct state_file *state_file_parse(const void *data, size_t len, GError **error)
{
    const uint8_t *d = data;
    size_t pos;
    uint64_t total;
    if (!check_prefix(d, len, &pos, &total, error))
        return NULL;
    uint32_t want = (uint32_t)le(d + len - 4, 4);
    if (state_file_crc(state_file_crc(0, NULL, 0), d, len - 4) != want) {
        state_format_error(error, _("checksum mismatch: the state file is corrupted"));
        return NULL;
    }
    size_t hlen = (size_t)le(d + 12, 4);
    if (!g_utf8_validate((const char *)d + 16, (gssize)hlen, NULL)) {
        state_format_error(error, _("the state file's header is not UTF-8 text"));
        return NULL;
    }

    struct state_file *f = g_new0(struct state_file, 1);
    f->header = g_strndup((const char *)d + 16, hlen);
    f->sections = g_array_new(FALSE, TRUE, sizeof(struct state_section));
    size_t end = len - 4;
    for (;;) {
        struct state_section s = { 0 };
        bool is_end;
        if (!read_head(d, end, &pos, &s, &is_end, error))
            goto fail;
        if (is_end)
            break;
        if (state_file_find(f, s.name)) {
            state_format_error(error, _("the state file has section '%s' twice"), s.name);
            goto fail;
        }
        g_array_append_val(f->sections, s);
    }
    if (pos != end) {
        state_format_error(error, _("the state file has data after its end marker"));
        goto fail;
    }
    return f;

fail:
    state_file_free(f);
    return NULL;
}

struct state_file *state_file_open(const char *path, GError **error)
{
    g_autoptr(GError) local = NULL;
    GMappedFile *map = g_mapped_file_new(path, FALSE, &local);
    if (!map) {
        g_set_error(error, STATE_ERROR, STATE_ERROR_IO, _("cannot read %s: %s"), path,
                    local->message);
        return NULL;
    }
    struct state_file *f = state_file_parse(g_mapped_file_get_contents(map),
                                            g_mapped_file_get_length(map), &local);
    if (!f) {
        g_set_error(error, STATE_ERROR, local->code, "%s: %s", path, local->message);
        g_mapped_file_unref(map);
        return NULL;
    }
    f->map = map;
    return f;
}

void state_file_free(struct state_file *f)
{
    if (!f)
        return;
    g_free(f->header);
    g_array_free(f->sections, TRUE);
    if (f->map)
        g_mapped_file_unref(f->map);
    g_free(f);
}

const char *state_file_header(const struct state_file *f) { return f->header; }
unsigned state_file_section_count(const struct state_file *f) { return f->sections->len; }

const struct state_section *state_file_section_at(const struct state_file *f, unsigned i)
{
    return i < f->sections->len ? &g_array_index(f->sections, struct state_section, i) : NULL;
}

const struct state_section *state_file_find(const struct state_file *f, const char *name)
{
    for (guint i = 0; i < f->sections->len; i++) {
        const struct state_section *s = &g_array_index(f->sections, struct state_section, i);
        if (!strcmp(s->name, name))
            return s;
    }
    return NULL;
}
