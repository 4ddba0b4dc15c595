/* Relocatable ACPI tables: the bytes of the tables plus the places where
 * one table points at another and where checksums go.  Installing them at
 * a fixed address and emitting fw_cfg linker/loader commands are two
 * consumers of the same description. */
#pragma once

#include <stdint.h>
#include <glib.h>

enum acpi_blob_file { ACPI_BLOB_TABLES, ACPI_BLOB_RSDP };

#define ACPI_RSDP_LEN 36

/* A size-byte little-endian field in file at offset holds an offset into
 * the tables file; the base address of the tables gets added to it. */
struct acpi_pointer {
    uint8_t file;
    uint8_t size;
    uint32_t offset;
};

/* The byte at offset makes [start, start + length) of file sum to 0. */
struct acpi_cksum {
    uint8_t file;
    uint32_t offset, start, length;
};

struct acpi_blob {
    GArray *tables;     /* guint8; starts 64-byte aligned (the FACS) */
    uint8_t rsdp[ACPI_RSDP_LEN];
    GArray *pointers;   /* struct acpi_pointer, in the order to apply */
    GArray *cksums;     /* struct acpi_cksum, in the order to compute */
};

/* "etc/table-loader" commands for blob (g_free the result). */
uint8_t *acpi_table_loader_encode(const struct acpi_blob *blob, size_t *len);
