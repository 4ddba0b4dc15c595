/* SMBIOS 2.8 tables for the firmware (fw_cfg "etc/smbios/smbios-tables"
 * and the 31-byte "_SM_" entry point "etc/smbios/smbios-anchor"; the
 * firmware places both and fills in the table address).
 *
 * Structures: type 0 (BIOS), 1 (system, with the UUID), 3 (enclosure),
 * 4 (one per vCPU), 16 (memory array), 17 (one memory device), 19 (mapped
 * address ranges), 32 (boot status) and the type 127 end marker. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct smbios_info {
    const char *manufacturer, *product, *version, *name;
    const char *bios_vendor, *bios_version;
    uint8_t uuid[16];          /* RFC 4122 byte order; encoded per SMBIOS 2.6+ */
    size_t bios_size;          /* bytes */
    unsigned ncpus;
    uint64_t ram_size;         /* bytes */
    uint64_t low_ram;          /* bytes below the PCI hole (0: all of ram_size) */
};

struct smbios_blobs {
    uint8_t *tables; size_t tables_len;
    uint8_t *anchor; size_t anchor_len;
    unsigned count;            /* structures, type 127 included */
};

#define SMBIOS_ANCHOR_LEN 31

void smbios_build(const struct smbios_info *info, struct smbios_blobs *out);
void smbios_blobs_clear(struct smbios_blobs *b);

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" to 16 bytes in RFC 4122 order. */
bool smbios_parse_uuid(const char *text, uint8_t out[16]);
