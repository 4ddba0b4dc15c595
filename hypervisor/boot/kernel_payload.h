/* The kernel proper inside a bzImage.  A bzImage carries the real kernel
 * (an ELF "vmlinux") compressed, plus a small decompressor that unpacks it
 * in the guest at every boot.  Unpacking it once on the host lets the VMM
 * start the kernel proper directly (see kernel_cache.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

enum kernel_compression {
    KERNEL_COMPRESSION_GZIP,
    KERNEL_COMPRESSION_XZ,
    KERNEL_COMPRESSION_ZSTD,
    KERNEL_COMPRESSION_LZ4,
    KERNEL_COMPRESSION_UNSUPPORTED, /* bzip2, lzma, lzo: left to the guest */
};

/* Largest kernel proper we unpack: far above any distribution kernel, low
 * enough that a hostile image cannot make the VMM allocate without bound. */
#define KERNEL_PAYLOAD_MAX_SIZE (512u << 20)

/* Find the compressed payload of a bzImage (boot protocol 2.08+).  False
 * with error when the header does not describe one inside the file. */
bool kernel_payload_find(const uint8_t *bz, size_t bz_len, const uint8_t **payload,
                         size_t *payload_len, GError **error);

enum kernel_compression kernel_payload_compression(const uint8_t *payload, size_t len);
const char *kernel_compression_name(enum kernel_compression c);

/* Decompress a payload.  The kernel build appends the uncompressed size as
 * 4 little-endian bytes; the result must have exactly that size. */
GBytes *kernel_payload_decompress(const uint8_t *payload, size_t len, GError **error);
