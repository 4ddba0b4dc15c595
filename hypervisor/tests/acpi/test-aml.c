/* The AML writer: PkgLength encoding at its boundaries, names, integers,
 * and the exact bytes of enclosing objects. */
#include <string.h>
#include <glib.h>

#include "acpi/aml.h"

/* Decode a PkgLength as an AML interpreter does (20.2.4). */
static size_t decode_pkglength(const uint8_t *p, unsigned *nbytes)
{
    unsigned extra = p[0] >> 6;
    *nbytes = extra + 1;
    if (extra == 0)
        return p[0] & 0x3f;
    size_t v = p[0] & 0x0f;
    for (unsigned i = 1; i <= extra; i++)
        v |= (size_t)p[i] << (4 + 8 * (i - 1));
    return v;
}

static void check_pkglength(size_t body, unsigned expect_bytes)
{
    uint8_t out[4];
    unsigned n = aml_pkglength_encode(body, out);
    g_assert_cmpuint(n, ==, expect_bytes);
    unsigned nd;
    g_assert_cmpuint(decode_pkglength(out, &nd), ==, body + n);
    g_assert_cmpuint(nd, ==, n);
    if (n > 1)
        g_assert_cmpuint(out[0] & 0x30, ==, 0);  /* reserved bits stay clear */
}

static void test_pkglength(void)
{
    uint8_t out[4];

    g_assert_cmpuint(aml_pkglength_encode(0, out), ==, 1);
    g_assert_cmpuint(out[0], ==, 0x01);
    g_assert_cmpuint(aml_pkglength_encode(62, out), ==, 1);
    g_assert_cmpuint(out[0], ==, 0x3f);
    /* 63 body bytes + 1 = 64 does not fit 6 bits: two bytes, total 65. */
    g_assert_cmpuint(aml_pkglength_encode(63, out), ==, 2);
    g_assert_cmpuint(out[0], ==, 0x41);
    g_assert_cmpuint(out[1], ==, 0x04);
    /* Largest two-byte length is 0xfff in all. */
    g_assert_cmpuint(aml_pkglength_encode(0xfff - 2, out), ==, 2);
    g_assert_cmpuint(out[0], ==, 0x4f);
    g_assert_cmpuint(out[1], ==, 0xff);
    g_assert_cmpuint(aml_pkglength_encode(0xfff - 1, out), ==, 3);
    g_assert_cmpuint(out[0], ==, 0x81);
    g_assert_cmpuint(out[1], ==, 0x00);
    g_assert_cmpuint(out[2], ==, 0x01);

    check_pkglength(0xfffff - 3, 3);
    check_pkglength(0xfffff - 2, 4);
    check_pkglength(0xfffffff - 4, 4);
    g_assert_cmpuint(aml_pkglength_encode(0xfffffff - 3, out), ==, 0);
    g_assert_cmpuint(aml_pkglength_encode(SIZE_MAX - 2, out), ==, 0);

    for (size_t body = 0; body < 70000; body++) {
        unsigned n = aml_pkglength_encode(body, out);
        unsigned nd;
        g_assert_cmpuint(n, >, 0);
        g_assert_cmpuint(decode_pkglength(out, &nd), ==, body + n);
    }
}

static uint8_t *build(void (*fn)(struct aml *), size_t *len)
{
    struct aml a;
    aml_init(&a);
    fn(&a);
    g_autoptr(GError) error = NULL;
    uint8_t *code = aml_finish(&a, len, &error);
    g_assert_no_error(error);
    return code;
}

#define ASSERT_BYTES(fn, ...) do {                                        \
        static const uint8_t expect[] = { __VA_ARGS__ };                   \
        size_t len;                                                        \
        g_autofree uint8_t *code = build(fn, &len);                        \
        g_assert_cmpmem(code, len, expect, sizeof(expect));                \
    } while (0)

static void names(struct aml *a)
{
    aml_name_string(a, "\\_SB.PCI0");
    aml_name_string(a, "PWR");
    aml_name_string(a, "^^X");
    aml_name_string(a, "\\");
    aml_name_string(a, "A.B.C");
}

static void integers(struct aml *a)
{
    aml_integer(a, 0);
    aml_integer(a, 1);
    aml_integer(a, 0xff);
    aml_integer(a, 0x100);
    aml_integer(a, 0x12345678);
    aml_integer(a, 0x100000000ULL);
    aml_integer(a, UINT64_MAX);
}

static void test_names_integers(void)
{
    ASSERT_BYTES(names,
                 0x5c, 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0',
                 'P', 'W', 'R', '_',
                 0x5e, 0x5e, 'X', '_', '_', '_',
                 0x5c, 0x00,
                 0x2f, 0x03, 'A', '_', '_', '_', 'B', '_', '_', '_', 'C', '_', '_', '_');
    ASSERT_BYTES(integers,
                 0x00, 0x01, 0x0a, 0xff, 0x0b, 0x00, 0x01,
                 0x0c, 0x78, 0x56, 0x34, 0x12,
                 0x0e, 0, 0, 0, 0, 1, 0, 0, 0,
                 0xff);
}

static void eisaid_string(struct aml *a)
{
    aml_name_eisaid(a, "_HID", "PNP0A03");
    aml_name_string_value(a, "_UID", "ab");
}

static void test_eisaid(void)
{
    ASSERT_BYTES(eisaid_string,
                 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03,
                 0x08, '_', 'U', 'I', 'D', 0x0d, 'a', 'b', 0x00);
}

static void nested(struct aml *a)
{
    aml_scope_open(a, "\\_SB");
    aml_device_open(a, "DEV");
    aml_method_open(a, "_STA", 0, false);
    aml_return(a);
    aml_integer(a, 0x0f);
    aml_close(a);
    aml_name(a, "BUF");
    aml_buffer_open(a);
    aml_res_irq(a, 1u << 4);
    aml_close(a);
    aml_name(a, "PKG");
    aml_package_open(a, 2);
    aml_integer(a, 1);
    aml_string(a, "x");
    aml_close(a);
    aml_close(a);
    aml_close(a);
}

static void test_nested(void)
{
    ASSERT_BYTES(nested,
                 0x10, 0x2f, 0x5c, '_', 'S', 'B', '_',                 /* Scope (\_SB) */
                 0x5b, 0x82, 0x27, 'D', 'E', 'V', '_',                 /* Device (DEV) */
                 0x14, 0x09, '_', 'S', 'T', 'A', 0x00, 0xa4, 0x0a, 0x0f, /* Method _STA */
                 0x08, 'B', 'U', 'F', '_', 0x11, 0x06, 0x0a, 0x03, 0x22, 0x10, 0x00,
                 0x08, 'P', 'K', 'G', '_', 0x12, 0x06, 0x02, 0x01, 0x0d, 'x', 0x00);
}

/* Bodies over 63 bytes at two levels: the inner PkgLength grows first, and
 * the outer one must count those extra bytes. */
static void big(struct aml *a)
{
    aml_scope_open(a, "\\_SB");
    aml_device_open(a, "DEV");
    for (int i = 0; i < 20; i++)
        aml_name_integer(a, "X", 0x0a);
    aml_close(a);
    aml_close(a);
}

static void test_long_packages(void)
{
    size_t len;
    g_autofree uint8_t *code = build(big, &len);
    unsigned n;
    g_assert_cmpuint(code[0], ==, 0x10);
    size_t outer = decode_pkglength(code + 1, &n);
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmpuint(1 + outer, ==, len);
    const uint8_t *dev = code + 1 + n + 5;
    g_assert_cmpuint(dev[0], ==, 0x5b);
    g_assert_cmpuint(dev[1], ==, 0x82);
    unsigned m;
    size_t inner = decode_pkglength(dev + 2, &m);
    g_assert_cmpuint(m, ==, 2);
    g_assert_cmpuint(inner, ==, m + 4 + 20 * 7);
    g_assert_true(dev + 2 + inner == code + len);
}

static void test_errors(void)
{
    struct aml a;
    size_t len;
    GError *error = NULL;

    aml_init(&a);
    aml_close(&a);
    g_assert_null(aml_finish(&a, &len, &error));
    g_assert_nonnull(error);
    g_clear_error(&error);

    aml_init(&a);
    aml_scope_open(&a, "\\_SB");
    g_assert_null(aml_finish(&a, &len, &error));
    g_assert_nonnull(error);
    g_clear_error(&error);

    static const char *bad[] = { "abcd", "TOOLONG", "1ABC", "A..B", "A.", "\\A-B" };
    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        aml_init(&a);
        aml_name(&a, bad[i]);
        aml_integer(&a, 0);
        g_assert_null(aml_finish(&a, &len, &error));
        g_assert_nonnull(error);
        g_clear_error(&error);
    }

    aml_init(&a);
    aml_eisaid(&a, "pnp0a03");
    g_assert_null(aml_finish(&a, &len, &error));
    g_clear_error(&error);

    aml_init(&a);
    for (int i = 0; i < AML_MAX_DEPTH + 1; i++)
        aml_scope_open(&a, "X");
    g_assert_true(a.failed);
    aml_clear(&a);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/aml/pkglength", test_pkglength);
    g_test_add_func("/aml/names-integers", test_names_integers);
    g_test_add_func("/aml/eisaid", test_eisaid);
    g_test_add_func("/aml/nested", test_nested);
    g_test_add_func("/aml/long-packages", test_long_packages);
    g_test_add_func("/aml/errors", test_errors);
    return g_test_run();
}
