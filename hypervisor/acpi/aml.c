#include "aml.h"

#include <string.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

/* Opcodes (ACPI 6.x, 20.3). */
#define AML_ZERO        0x00
#define AML_ONE         0x01
#define AML_NAME        0x08
#define AML_BYTE        0x0a
#define AML_WORD        0x0b
#define AML_DWORD       0x0c
#define AML_STRING      0x0d
#define AML_QWORD       0x0e
#define AML_SCOPE       0x10
#define AML_BUFFER      0x11
#define AML_PACKAGE     0x12
#define AML_METHOD      0x14
#define AML_DUAL_NAME   0x2e
#define AML_MULTI_NAME  0x2f
#define AML_EXT_PREFIX  0x5b
#define AML_EXT_DEVICE  0x82
#define AML_ROOT_CHAR   0x5c
#define AML_PARENT_CHAR 0x5e
#define AML_NOTIFY      0x86
#define AML_RETURN      0xa4
#define AML_ONES        0xff

enum aml_kind { KIND_SCOPE, KIND_DEVICE, KIND_METHOD, KIND_PACKAGE, KIND_BUFFER };

void aml_init(struct aml *a)
{
    memset(a, 0, sizeof(*a));
    a->buf = g_array_new(FALSE, FALSE, 1);
}

void aml_clear(struct aml *a)
{
    if (a->buf)
        g_array_free(a->buf, TRUE);
    memset(a, 0, sizeof(*a));
}

uint8_t *aml_finish(struct aml *a, size_t *len, GError **error)
{
    if (a->failed || a->depth != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    _("Internal error while generating ACPI byte code (%s)"),
                    a->failed ? _("malformed object") : _("unclosed object"));
        aml_clear(a);
        return NULL;
    }
    *len = a->buf->len;
    uint8_t *code = (uint8_t *)g_array_free(a->buf, FALSE);
    a->buf = NULL;
    aml_clear(a);
    return code;
}

static void emit(struct aml *a, const void *p, size_t n)
{
    g_array_append_vals(a->buf, p, n);
}

static void emit8(struct aml *a, uint8_t v)
{
    emit(a, &v, 1);
}

static void emit_le(struct aml *a, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        emit8(a, (uint8_t)(v >> (8 * i)));
}

unsigned aml_pkglength_encode(size_t body_len, uint8_t out[4])
{
    /* The encoded length includes the PkgLength bytes themselves.  One byte
     * holds 6 bits; with n extra bytes the lead byte holds 4 bits and each
     * extra byte 8 more. */
    if (body_len >= (1u << 28))
        return 0;
    if (body_len + 1 <= 0x3f) {
        out[0] = (uint8_t)(body_len + 1);
        return 1;
    }
    for (unsigned extra = 1; extra <= 3; extra++) {
        size_t total = body_len + 1 + extra;
        if (total < (1ULL << (4 + 8 * extra))) {
            out[0] = (uint8_t)((extra << 6) | (total & 0x0f));
            for (unsigned i = 1; i <= extra; i++)
                out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
            return extra + 1;
        }
    }
    return 0;
}

static bool name_char_ok(char c, bool first)
{
    return (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
}

void aml_name_string(struct aml *a, const char *path)
{
    const char *p = path;
    if (*p == '\\') {
        emit8(a, AML_ROOT_CHAR);
        p++;
    } else {
        while (*p == '^') {
            emit8(a, AML_PARENT_CHAR);
            p++;
        }
    }

    char segs[255][4];
    unsigned nseg = 0;
    while (*p) {
        size_t n = strcspn(p, ".");
        if (n == 0 || n > 4 || nseg == G_N_ELEMENTS(segs)) {
            a->failed = true;
            return;
        }
        for (size_t i = 0; i < 4; i++) {
            char c = i < n ? p[i] : '_';
            if (!name_char_ok(c, i == 0)) {
                a->failed = true;
                return;
            }
            segs[nseg][i] = c;
        }
        nseg++;
        p += n;
        if (*p == '.' && *++p == '\0') {
            a->failed = true;   /* trailing dot */
            return;
        }
    }

    if (nseg == 0) {
        emit8(a, 0x00);         /* NullName: "\" alone */
    } else if (nseg == 2) {
        emit8(a, AML_DUAL_NAME);
    } else if (nseg > 2) {
        emit8(a, AML_MULTI_NAME);
        emit8(a, (uint8_t)nseg);
    }
    emit(a, segs, 4 * nseg);
}

void aml_integer(struct aml *a, uint64_t v)
{
    if (v == 0) {
        emit8(a, AML_ZERO);
    } else if (v == 1) {
        emit8(a, AML_ONE);
    } else if (v == UINT64_MAX) {
        emit8(a, AML_ONES);
    } else if (v <= 0xff) {
        emit8(a, AML_BYTE);
        emit8(a, (uint8_t)v);
    } else if (v <= 0xffff) {
        emit8(a, AML_WORD);
        emit_le(a, v, 2);
    } else if (v <= 0xffffffff) {
        emit8(a, AML_DWORD);
        emit_le(a, v, 4);
    } else {
        emit8(a, AML_QWORD);
        emit_le(a, v, 8);
    }
}

void aml_string(struct aml *a, const char *s)
{
    for (const char *c = s; *c; c++) {
        if ((unsigned char)*c > 0x7f) {
            a->failed = true;   /* AML strings are ASCII */
            return;
        }
    }
    emit8(a, AML_STRING);
    emit(a, s, strlen(s) + 1);
}

void aml_eisaid(struct aml *a, const char *id)
{
    /* Three letters in 5 bits each, then four hex digits; stored so that
     * the bytes read in order as the letters then the product number. */
    if (strlen(id) != 7) {
        a->failed = true;
        return;
    }
    uint32_t v = 0;
    for (int i = 0; i < 3; i++) {
        if (id[i] < 'A' || id[i] > 'Z') {
            a->failed = true;
            return;
        }
        v = (v << 5) | (uint32_t)(id[i] - 0x40);
    }
    for (int i = 3; i < 7; i++) {
        int d = g_ascii_xdigit_value(id[i]);
        if (d < 0) {
            a->failed = true;
            return;
        }
        v = (v << 4) | (uint32_t)d;
    }
    emit8(a, AML_DWORD);
    emit_le(a, GUINT32_SWAP_LE_BE(v), 4);
}

void aml_name(struct aml *a, const char *path)
{
    emit8(a, AML_NAME);
    aml_name_string(a, path);
}

void aml_name_integer(struct aml *a, const char *path, uint64_t v)
{
    aml_name(a, path);
    aml_integer(a, v);
}

void aml_name_string_value(struct aml *a, const char *path, const char *s)
{
    aml_name(a, path);
    aml_string(a, s);
}

void aml_name_eisaid(struct aml *a, const char *path, const char *id)
{
    aml_name(a, path);
    aml_eisaid(a, id);
}

/* Record where the PkgLength of the object being opened goes: right after
 * its opcode, which the caller has just emitted. */
static bool push(struct aml *a, enum aml_kind kind)
{
    if (a->depth == AML_MAX_DEPTH) {
        a->failed = true;
        return false;
    }
    a->open[a->depth] = a->buf->len;
    a->kind[a->depth] = (uint8_t)kind;
    a->depth++;
    return true;
}

void aml_scope_open(struct aml *a, const char *path)
{
    emit8(a, AML_SCOPE);
    if (push(a, KIND_SCOPE))
        aml_name_string(a, path);
}

void aml_device_open(struct aml *a, const char *path)
{
    emit8(a, AML_EXT_PREFIX);
    emit8(a, AML_EXT_DEVICE);
    if (push(a, KIND_DEVICE))
        aml_name_string(a, path);
}

void aml_method_open(struct aml *a, const char *path, unsigned nargs, bool serialized)
{
    emit8(a, AML_METHOD);
    if (!push(a, KIND_METHOD))
        return;
    aml_name_string(a, path);
    if (nargs > 7)
        a->failed = true;
    emit8(a, (uint8_t)((nargs & 7) | (serialized ? 0x08 : 0)));
}

void aml_package_open(struct aml *a, unsigned nelements)
{
    emit8(a, AML_PACKAGE);
    if (nelements > 255)
        a->failed = true;
    if (push(a, KIND_PACKAGE))
        emit8(a, (uint8_t)nelements);
}

void aml_buffer_open(struct aml *a)
{
    emit8(a, AML_BUFFER);
    push(a, KIND_BUFFER);
}

void aml_close(struct aml *a)
{
    if (a->depth == 0) {
        a->failed = true;
        return;
    }
    a->depth--;
    size_t at = a->open[a->depth];
    size_t body = a->buf->len - at;

    /* A Buffer's body starts with its size as an integer object. */
    uint8_t size_obj[9];
    size_t size_len = 0;
    if (a->kind[a->depth] == KIND_BUFFER) {
        struct aml tmp;
        aml_init(&tmp);
        aml_integer(&tmp, body);
        size_len = tmp.buf->len;
        memcpy(size_obj, tmp.buf->data, size_len);
        aml_clear(&tmp);
    }

    uint8_t pkg[4];
    unsigned n = aml_pkglength_encode(body + size_len, pkg);
    if (n == 0) {
        a->failed = true;
        return;
    }
    g_array_insert_vals(a->buf, at, size_obj, size_len);
    g_array_insert_vals(a->buf, at, pkg, n);
}

void aml_return(struct aml *a)
{
    emit8(a, AML_RETURN);
}

void aml_notify(struct aml *a, const char *path, uint64_t value)
{
    emit8(a, AML_NOTIFY);
    aml_name_string(a, path);
    aml_integer(a, value);
}

/* --- Resource descriptors ---------------------------------------------- */

void aml_rt_open(struct aml *a)
{
    aml_buffer_open(a);
}

void aml_rt_close(struct aml *a)
{
    /* End tag; a zero checksum byte means "treat as valid" (6.4.2.9). */
    emit8(a, 0x79);
    emit8(a, 0x00);
    aml_close(a);
}

void aml_res_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
    emit8(a, 0x47);             /* small item 0x08, 7 bytes */
    emit8(a, 0x01);             /* decodes 16 address bits */
    emit_le(a, min, 2);
    emit_le(a, max, 2);
    emit8(a, align);
    emit8(a, len);
}

void aml_res_irq(struct aml *a, uint16_t irq_mask)
{
    emit8(a, 0x22);             /* small item 0x04, 2 bytes: edge, high */
    emit_le(a, irq_mask, 2);
}

/* Address space descriptors (6.4.3.5): a producer with fixed minimum and
 * maximum, positive decode, no translation. */
enum { ADDR_MEMORY = 0, ADDR_IO = 1, ADDR_BUS = 2 };
#define ADDR_GENERAL_FLAGS 0x0c /* MinFixed | MaxFixed, producer, positive */

static void address_space(struct aml *a, uint8_t tag, unsigned width,
                          uint8_t type, uint8_t type_flags, uint64_t min, uint64_t max)
{
    emit8(a, tag);
    emit_le(a, 3 + 5 * width, 2);   /* length after the 3-byte header */
    emit8(a, type);
    emit8(a, ADDR_GENERAL_FLAGS);
    emit8(a, type_flags);
    emit_le(a, 0, width);           /* granularity */
    emit_le(a, min, width);
    emit_le(a, max, width);
    emit_le(a, 0, width);           /* translation offset */
    emit_le(a, max - min + 1, width);
    if (max < min)
        a->failed = true;
}

void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max)
{
    address_space(a, 0x88, 2, ADDR_BUS, 0, min, max);
}

void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max)
{
    address_space(a, 0x88, 2, ADDR_IO, 0x03 /* entire range */, min, max);
}

void aml_res_memory32_fixed(struct aml *a, uint32_t base, uint32_t len, bool writable)
{
    emit8(a, 0x86);             /* large item 0x06 */
    emit_le(a, 9, 2);
    emit8(a, writable ? 1 : 0);
    emit_le(a, base, 4);
    emit_le(a, len, 4);
}

void aml_res_dword_memory(struct aml *a, uint32_t min, uint32_t max, bool cacheable)
{
    address_space(a, 0x87, 4, ADDR_MEMORY, cacheable ? 0x03 : 0x01, min, max);
}

void aml_res_qword_memory(struct aml *a, uint64_t min, uint64_t max, bool cacheable)
{
    address_space(a, 0x8a, 8, ADDR_MEMORY, cacheable ? 0x03 : 0x01, min, max);
}
