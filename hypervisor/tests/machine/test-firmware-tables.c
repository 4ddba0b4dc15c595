/* Boot order text and SMBIOS tables served to the firmware. */
#include "machine/bootorder.h"
#include "machine/smbios.h"

#include <string.h>
#include <glib.h>

static void test_bootorder(void)
{
    const char *cd[] = { "/pci@i0cf8/ide@1,1/drive@1/disk@0", NULL };
    const char *disks[] = { "/pci@i0cf8/ide@1,1/drive@0/disk@0", "/pci@i0cf8/sata@3/drive@0/disk@0",
                            NULL };
    g_autofree char *a = bootorder_build("cdrom,disk", cd, disks);
    g_assert_cmpstr(a, ==, "/pci@i0cf8/ide@1,1/drive@1/disk@0\n"
                           "/pci@i0cf8/ide@1,1/drive@0/disk@0\n"
                           "/pci@i0cf8/sata@3/drive@0/disk@0\n");
    g_autofree char *b = bootorder_build("disk,cdrom", cd, disks);
    g_assert_cmpstr(b, ==, "/pci@i0cf8/ide@1,1/drive@0/disk@0\n"
                           "/pci@i0cf8/sata@3/drive@0/disk@0\n"
                           "/pci@i0cf8/ide@1,1/drive@1/disk@0\n");
    g_autofree char *dflt = bootorder_build(NULL, cd, disks);
    g_assert_cmpstr(dflt, ==, b);
    g_autofree char *only = bootorder_build("cdrom", cd, disks);
    g_assert_cmpstr(only, ==, "/pci@i0cf8/ide@1,1/drive@1/disk@0\n");
    /* A word given twice lists its devices once. */
    g_autofree char *twice = bootorder_build("cdrom,cdrom", cd, NULL);
    g_assert_cmpstr(twice, ==, "/pci@i0cf8/ide@1,1/drive@1/disk@0\n");
    g_autofree char *none = bootorder_build("disk", cd, NULL);
    g_assert_cmpstr(none, ==, "");
    /* "menu" lists nothing by itself. */
    g_autofree char *menu = bootorder_build("menu,cdrom", cd, disks);
    g_assert_cmpstr(menu, ==, "/pci@i0cf8/ide@1,1/drive@1/disk@0\n");
    g_assert_true(bootorder_wants_menu("cdrom,menu"));
    g_assert_true(bootorder_wants_menu("menu"));
    g_assert_false(bootorder_wants_menu("cdrom,disk"));
    g_assert_false(bootorder_wants_menu(NULL));
    g_assert_false(bootorder_wants_menu("menus"));
}

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += p[i];
    return s;
}

/* Walk the structures: header, formatted length, strings up to the double
 * NUL; collect the types and check string references stay in range. */
static unsigned walk(const uint8_t *t, size_t len, uint8_t *types, unsigned max_types,
                     unsigned *max_size)
{
    size_t off = 0;
    unsigned n = 0;
    *max_size = 0;
    while (off < len) {
        g_assert_cmpuint(len - off, >=, 4);
        uint8_t flen = t[off + 1];
        g_assert_cmpuint(flen, >=, 4);
        g_assert_cmpuint(off + flen, <=, len);
        size_t p = off + flen;
        unsigned nstrings = 0;
        if (t[p] == 0) {
            g_assert_cmpuint(p + 1, <, len);
            g_assert_cmpuint(t[p + 1], ==, 0);
            p += 2;
        } else {
            while (t[p] != 0) {
                size_t sl = strnlen((const char *)t + p, len - p);
                g_assert_cmpuint(p + sl, <, len);
                p += sl + 1;
                nstrings++;
            }
            p++;
        }
        /* The handle is the structure's index here. */
        g_assert_cmpuint(t[off + 2] | t[off + 3] << 8, ==, n);
        if (t[off] == 0) {
            g_assert_cmpuint(t[off + 4], >=, 1);
            g_assert_cmpuint(t[off + 4], <=, nstrings);
        }
        g_assert_cmpuint(n, <, max_types);
        types[n++] = t[off];
        *max_size = MAX(*max_size, (unsigned)(p - off));
        off = p;
        if (types[n - 1] == 127)
            break;
    }
    g_assert_cmpuint(off, ==, len);
    return n;
}

static void test_smbios(void)
{
    struct smbios_info in = {
        .manufacturer = "Oriel", .product = "Oriel PC", .version = "1.0", .name = "vm1",
        .bios_vendor = "Oriel", .bios_version = "1.0", .bios_size = 128 * 1024,
        .ncpus = 3, .ram_size = 5ULL << 30, .low_ram = 3ULL << 30,
    };
    g_assert_true(smbios_parse_uuid("01234567-89ab-cdef-0011-223344556677", in.uuid));
    struct smbios_blobs b;
    smbios_build(&in, &b);

    g_assert_cmpuint(b.anchor_len, ==, SMBIOS_ANCHOR_LEN);
    g_assert_cmpmem(b.anchor, 4, "_SM_", 4);
    g_assert_cmpmem(b.anchor + 0x10, 5, "_DMI_", 5);
    g_assert_cmpuint(sum(b.anchor, b.anchor_len), ==, 0);
    g_assert_cmpuint(sum(b.anchor + 0x10, 0x0f), ==, 0);
    g_assert_cmpuint(b.anchor[0x16] | b.anchor[0x17] << 8, ==, b.tables_len);
    g_assert_cmpuint(b.anchor[0x1c] | b.anchor[0x1d] << 8, ==, b.count);

    uint8_t types[32];
    unsigned max_size;
    unsigned n = walk(b.tables, b.tables_len, types, G_N_ELEMENTS(types), &max_size);
    g_assert_cmpuint(n, ==, b.count);
    g_assert_cmpuint(b.anchor[8] | b.anchor[9] << 8, ==, max_size);
    const uint8_t want[] = { 0, 1, 3, 4, 4, 4, 16, 17, 19, 19, 32, 127 };
    g_assert_cmpmem(types, n, want, sizeof(want));

    /* Type 1 (second structure): UUID with the first three fields
     * little-endian. */
    const uint8_t *t1 = b.tables;
    t1 += t1[1];
    while (t1[0] || t1[1])
        t1++;
    t1 += 2;
    g_assert_cmpuint(t1[0], ==, 1);
    const uint8_t uuid_le[16] = { 0x67, 0x45, 0x23, 0x01, 0xab, 0x89, 0xef, 0xcd,
                                  0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77 };
    g_assert_cmpmem(t1 + 8, 16, uuid_le, 16);
    smbios_blobs_clear(&b);
}

static void test_uuid_parse(void)
{
    uint8_t u[16];
    g_assert_false(smbios_parse_uuid("", u));
    g_assert_false(smbios_parse_uuid("0123456789abcdef0011223344556677", u));
    g_assert_false(smbios_parse_uuid("01234567-89ab-cdef-0011-22334455667g", u));
    g_assert_false(smbios_parse_uuid("0123456-789ab-cdef-0011-223344556677", u));
    g_assert_true(smbios_parse_uuid("FFFFFFFF-0000-0000-0000-000000000001", u));
    g_assert_cmpuint(u[0], ==, 0xff);
    g_assert_cmpuint(u[15], ==, 1);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/firmware/bootorder", test_bootorder);
    g_test_add_func("/firmware/smbios", test_smbios);
    g_test_add_func("/firmware/uuid", test_uuid_parse);
    return g_test_run();
}
