/* The fw_cfg linker/loader script ("etc/table-loader") that SeaBIOS and
 * OVMF execute: allocate each file, patch pointers, compute checksums.
 * Each command is 128 bytes, little-endian, names are 56-byte fw_cfg file
 * names padded with NULs. */
#include "acpi_blob.h"
#include "acpi_tables.h"

#include <string.h>

#define LOADER_CMD_SIZE     128
#define LOADER_NAME_SIZE    56
#define LOADER_ALLOCATE     1
#define LOADER_ADD_POINTER  2
#define LOADER_ADD_CHECKSUM 3
#define LOADER_ZONE_HIGH    1   /* anywhere in 32-bit memory */
#define LOADER_ZONE_FSEG    2   /* 0xE0000-0xFFFFF, where the RSDP must be */

static const char *file_name(uint8_t file)
{
    return file == ACPI_BLOB_RSDP ? ACPI_FW_CFG_RSDP_FILE : ACPI_FW_CFG_TABLES_FILE;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t *new_cmd(GArray *out, uint32_t command)
{
    g_array_set_size(out, out->len + LOADER_CMD_SIZE);
    uint8_t *c = (uint8_t *)out->data + out->len - LOADER_CMD_SIZE;
    memset(c, 0, LOADER_CMD_SIZE);
    put_le(c, command, 4);
    return c;
}

static void put_name(uint8_t *p, const char *name)
{
    strncpy((char *)p, name, LOADER_NAME_SIZE - 1);
}

static void allocate(GArray *out, uint8_t file, uint32_t align, uint8_t zone)
{
    uint8_t *c = new_cmd(out, LOADER_ALLOCATE);
    put_name(c + 4, file_name(file));
    put_le(c + 4 + LOADER_NAME_SIZE, align, 4);
    c[4 + LOADER_NAME_SIZE + 4] = zone;
}

uint8_t *acpi_table_loader_encode(const struct acpi_blob *blob, size_t *len)
{
    GArray *out = g_array_new(FALSE, FALSE, 1);

    /* The RSDP first so that firmware which stops early still has it. */
    allocate(out, ACPI_BLOB_RSDP, 16, LOADER_ZONE_FSEG);
    allocate(out, ACPI_BLOB_TABLES, 64, LOADER_ZONE_HIGH);

    for (guint i = 0; i < blob->pointers->len; i++) {
        const struct acpi_pointer *p = &g_array_index(blob->pointers, struct acpi_pointer, i);
        uint8_t *c = new_cmd(out, LOADER_ADD_POINTER);
        put_name(c + 4, file_name(p->file));
        put_name(c + 4 + LOADER_NAME_SIZE, file_name(ACPI_BLOB_TABLES));
        put_le(c + 4 + 2 * LOADER_NAME_SIZE, p->offset, 4);
        c[4 + 2 * LOADER_NAME_SIZE + 4] = p->size;
    }
    for (guint i = 0; i < blob->cksums->len; i++) {
        const struct acpi_cksum *k = &g_array_index(blob->cksums, struct acpi_cksum, i);
        uint8_t *c = new_cmd(out, LOADER_ADD_CHECKSUM);
        put_name(c + 4, file_name(k->file));
        put_le(c + 4 + LOADER_NAME_SIZE, k->offset, 4);
        put_le(c + 4 + LOADER_NAME_SIZE + 4, k->start, 4);
        put_le(c + 4 + LOADER_NAME_SIZE + 8, k->length, 4);
    }

    *len = out->len;
    return (uint8_t *)g_array_free(out, FALSE);
}
