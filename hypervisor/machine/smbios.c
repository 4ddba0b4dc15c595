#include "smbios.h"

#include <string.h>
#include <glib.h>

/* One structure being written: the formatted part, then its strings. */
struct table {
    GByteArray *buf;
    size_t start;
    GPtrArray *strings;
    unsigned max_len;
    unsigned count;
    uint16_t next_handle;
};

static void put8(struct table *t, uint8_t v) { g_byte_array_append(t->buf, &v, 1); }
static void put16(struct table *t, uint16_t v) { put8(t, v & 0xff); put8(t, v >> 8); }
static void put32(struct table *t, uint32_t v) { put16(t, v & 0xffff); put16(t, v >> 16); }
static void put64(struct table *t, uint64_t v) { put32(t, (uint32_t)v); put32(t, v >> 32); }

static uint16_t begin(struct table *t, uint8_t type, uint8_t len)
{
    t->start = t->buf->len;
    g_ptr_array_set_size(t->strings, 0);
    uint16_t handle = t->next_handle++;
    put8(t, type);
    put8(t, len);
    put16(t, handle);
    return handle;
}

/* String number for the structure (0 = no string). */
static uint8_t str(struct table *t, const char *s)
{
    if (!s || !*s)
        return 0;
    g_ptr_array_add(t->strings, (gpointer)s);
    return (uint8_t)t->strings->len;
}

static void end(struct table *t)
{
    g_assert(t->buf->len - t->start == t->buf->data[t->start + 1]);
    if (t->strings->len == 0) {
        put8(t, 0);
    } else {
        for (guint i = 0; i < t->strings->len; i++) {
            const char *s = t->strings->pdata[i];
            g_byte_array_append(t->buf, (const guint8 *)s, (guint)strlen(s) + 1);
        }
    }
    put8(t, 0);
    t->max_len = MAX(t->max_len, (unsigned)(t->buf->len - t->start));
    t->count++;
}

static void type0(struct table *t, const struct smbios_info *in)
{
    begin(t, 0, 0x18);
    put8(t, str(t, in->bios_vendor));
    put8(t, str(t, in->bios_version));
    put16(t, 0xe800);                   /* BIOS starting address segment */
    put8(t, str(t, "01/01/2026"));
    size_t units = in->bios_size / 0x10000;
    put8(t, (uint8_t)(units ? MIN(units - 1, 0xff) : 0));  /* ROM size: 64 KiB * (n + 1) */
    put64(t, 1u << 3);                  /* characteristics not supported */
    put8(t, 0);
    put8(t, 1u << 3 | 1u << 4);         /* targeted content distribution, virtual machine */
    put8(t, 0);                         /* BIOS major/minor release */
    put8(t, 0);
    put8(t, 0xff);                      /* no embedded controller */
    put8(t, 0xff);
    end(t);
}

static void type1(struct table *t, const struct smbios_info *in)
{
    begin(t, 1, 0x1b);
    put8(t, str(t, in->manufacturer));
    put8(t, str(t, in->product));
    put8(t, str(t, in->version));
    put8(t, str(t, in->name));          /* serial number: the VM's name */
    /* SMBIOS 2.6+: the first three UUID fields little-endian. */
    const uint8_t *u = in->uuid;
    uint8_t enc[16] = { u[3], u[2], u[1], u[0], u[5], u[4], u[7], u[6] };
    memcpy(enc + 8, u + 8, 8);
    g_byte_array_append(t->buf, enc, 16);
    put8(t, 6);                         /* wake-up: power switch */
    put8(t, 0);                         /* SKU */
    put8(t, str(t, "Virtual Machine")); /* family */
    end(t);
}

static void type3(struct table *t, const struct smbios_info *in)
{
    begin(t, 3, 0x15);
    put8(t, str(t, in->manufacturer));
    put8(t, 1);                         /* other */
    put8(t, str(t, in->version));
    put8(t, 0);
    put8(t, 0);
    put8(t, 3);                         /* boot-up, power supply, thermal: safe */
    put8(t, 3);
    put8(t, 3);
    put8(t, 2);                         /* security: unknown */
    put32(t, 0);
    put8(t, 0);                         /* height */
    put8(t, 0);                         /* power cords */
    put8(t, 0);                         /* no contained elements */
    put8(t, 0);
    end(t);
}

static void type4(struct table *t, const struct smbios_info *in, unsigned cpu)
{
    g_autofree char *socket = g_strdup_printf("CPU %u", cpu);
    begin(t, 4, 0x2a);
    put8(t, str(t, socket));
    put8(t, 3);                         /* central processor */
    put8(t, 1);                         /* family: other */
    put8(t, str(t, in->manufacturer));
    put64(t, 0);                        /* processor ID */
    put8(t, 0);                         /* version */
    put8(t, 0);                         /* voltage */
    put16(t, 0);                        /* external clock: unknown */
    put16(t, 2000);                     /* max speed, MHz */
    put16(t, 2000);                     /* current speed */
    put8(t, 0x41);                      /* socket populated, CPU enabled */
    put8(t, 1);                         /* upgrade: other */
    put16(t, 0xffff);                   /* no cache structures */
    put16(t, 0xffff);
    put16(t, 0xffff);
    put8(t, 0);                         /* serial, asset tag, part number */
    put8(t, 0);
    put8(t, 0);
    put8(t, 1);                         /* cores, enabled cores, threads */
    put8(t, 1);
    put8(t, 1);
    put16(t, 1u << 2);                  /* 64-bit capable */
    put16(t, 1);                        /* family 2 */
    end(t);
}

static uint16_t type16(struct table *t, const struct smbios_info *in)
{
    uint64_t kib = in->ram_size / 1024;
    uint16_t h = begin(t, 16, 0x17);
    put8(t, 3);                         /* system board */
    put8(t, 3);                         /* system memory */
    put8(t, 3);                         /* no error correction */
    put32(t, kib < 0x80000000u ? (uint32_t)kib : 0x80000000u);
    put16(t, 0xfffe);                   /* no error information */
    put16(t, 1);                        /* one memory device */
    put64(t, kib < 0x80000000u ? 0 : in->ram_size);
    end(t);
    return h;
}

static uint16_t type17(struct table *t, const struct smbios_info *in, uint16_t array)
{
    uint64_t mib = in->ram_size >> 20;
    uint16_t h = begin(t, 17, 0x22);
    put16(t, array);
    put16(t, 0xfffe);
    put16(t, 64);                       /* total and data width */
    put16(t, 64);
    put16(t, mib < 0x7fff ? (uint16_t)mib : 0x7fff);
    put8(t, 9);                         /* DIMM */
    put8(t, 0);
    put8(t, str(t, "DIMM 0"));
    put8(t, 0);
    put8(t, 7);                         /* RAM */
    put16(t, 1u << 1);                  /* other */
    put16(t, 0);                        /* speed unknown */
    put8(t, str(t, in->manufacturer));
    put8(t, 0);
    put8(t, 0);
    put8(t, 0);
    put8(t, 0);
    put32(t, mib < 0x7fff ? 0 : (uint32_t)MIN(mib, 0x7fffffffu));
    put16(t, 0);
    end(t);
    return h;
}

static void type19(struct table *t, uint64_t start, uint64_t len, uint16_t array)
{
    begin(t, 19, 0x0f);
    put32(t, (uint32_t)(start / 1024));
    put32(t, (uint32_t)((start + len) / 1024 - 1));
    put16(t, array);
    put8(t, 1);                         /* partition width */
    end(t);
}

static void type32(struct table *t)
{
    begin(t, 32, 0x0b);
    for (unsigned i = 0; i < 6; i++)
        put8(t, 0);
    put8(t, 0);                         /* no errors detected */
    end(t);
}

static uint8_t checksum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += p[i];
    return (uint8_t)-s;
}

void smbios_build(const struct smbios_info *in, struct smbios_blobs *out)
{
    struct table t = { .buf = g_byte_array_new(), .strings = g_ptr_array_new() };
    type0(&t, in);
    type1(&t, in);
    type3(&t, in);
    for (unsigned i = 0; i < MAX(in->ncpus, 1u); i++)
        type4(&t, in, i);
    uint16_t array = type16(&t, in);
    type17(&t, in, array);
    uint64_t low = in->low_ram && in->low_ram < in->ram_size ? in->low_ram : in->ram_size;
    /* Only ranges the 32-bit fields can hold (below 4 TiB). */
    type19(&t, 0, low, array);
    if (in->ram_size > low && 0x100000000ULL + (in->ram_size - low) <= (1ULL << 42))
        type19(&t, 0x100000000ULL, in->ram_size - low, array);
    type32(&t);
    begin(&t, 127, 4);
    end(&t);
    g_ptr_array_free(t.strings, TRUE);

    uint8_t *a = g_malloc0(SMBIOS_ANCHOR_LEN);
    memcpy(a, "_SM_", 4);
    a[5] = SMBIOS_ANCHOR_LEN;
    a[6] = 2;
    a[7] = 8;
    a[8] = (uint8_t)t.max_len;
    a[9] = (uint8_t)(t.max_len >> 8);
    memcpy(a + 0x10, "_DMI_", 5);
    a[0x16] = (uint8_t)t.buf->len;
    a[0x17] = (uint8_t)(t.buf->len >> 8);
    /* 0x18: table address, placed by the firmware. */
    a[0x1c] = (uint8_t)t.count;
    a[0x1d] = (uint8_t)(t.count >> 8);
    a[0x1e] = 0x28;
    a[0x15] = checksum(a + 0x10, 0x0f);
    a[4] = checksum(a, SMBIOS_ANCHOR_LEN);

    out->count = t.count;
    out->tables_len = t.buf->len;
    out->tables = g_byte_array_free(t.buf, FALSE);
    out->anchor = a;
    out->anchor_len = SMBIOS_ANCHOR_LEN;
}

void smbios_blobs_clear(struct smbios_blobs *b)
{
    g_free(b->tables);
    g_free(b->anchor);
    *b = (struct smbios_blobs){ 0 };
}

bool smbios_parse_uuid(const char *text, uint8_t out[16])
{
    if (!text || strlen(text) != 36)
        return false;
    unsigned n = 0;
    for (unsigned i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-')
                return false;
            continue;
        }
        int hi = g_ascii_xdigit_value(text[i]), lo = g_ascii_xdigit_value(text[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[n++] = (uint8_t)(hi << 4 | lo);
        i++;
    }
    return n == 16;
}
