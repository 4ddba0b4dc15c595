#include "kernel_payload.h"
#include "linux.h"

#include <string.h>
#include <glib/gi18n.h>
#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

/* Setup header fields (Documentation/x86/boot.rst). */
#define HDR_SETUP_SECTS    0x1f1
#define HDR_MAGIC          0x202
#define HDR_VERSION        0x206
#define HDR_PAYLOAD_OFFSET 0x248
#define HDR_PAYLOAD_LENGTH 0x24c
#define HDR_MIN_SIZE       0x250

/* The legacy LZ4 frame the kernel build uses: a magic word, then blocks of
 * at most 8 MiB of output, each preceded by its compressed length. */
#define LZ4_LEGACY_MAGIC     0x184c2102u
#define LZ4_LEGACY_BLOCK_MAX (8u << 20)

static uint32_t le32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool invalid(GError **error, const char *msg)
{
    g_set_error_literal(error, LINUX_ERROR, LINUX_ERROR_INVALID, msg);
    return false;
}

bool kernel_payload_find(const uint8_t *bz, size_t bz_len, const uint8_t **payload,
                         size_t *payload_len, GError **error)
{
    if (bz_len < HDR_MIN_SIZE || memcmp(bz + HDR_MAGIC, "HdrS", 4) != 0)
        return invalid(error, _("The kernel image is not a bzImage"));
    if ((bz[HDR_VERSION] | bz[HDR_VERSION + 1] << 8) < 0x208) {
        g_set_error_literal(error, LINUX_ERROR, LINUX_ERROR_UNSUPPORTED,
                            _("The kernel's boot protocol is too old to describe its payload"));
        return false;
    }
    size_t setup_size = ((size_t)(bz[HDR_SETUP_SECTS] ? bz[HDR_SETUP_SECTS] : 4) + 1) * 512;
    uint64_t start = (uint64_t)setup_size + le32(bz + HDR_PAYLOAD_OFFSET);
    uint64_t len = le32(bz + HDR_PAYLOAD_LENGTH);
    if (len < 8 || start > bz_len || len > bz_len - start)
        return invalid(error, _("The kernel's payload lies outside the image"));
    *payload = bz + start;
    *payload_len = len;
    return true;
}

enum kernel_compression kernel_payload_compression(const uint8_t *p, size_t len)
{
    static const uint8_t xz[] = { 0xfd, '7', 'z', 'X', 'Z', 0x00 };
    if (len >= 2 && p[0] == 0x1f && (p[1] == 0x8b || p[1] == 0x9e))
        return KERNEL_COMPRESSION_GZIP;
    if (len >= sizeof(xz) && memcmp(p, xz, sizeof(xz)) == 0)
        return KERNEL_COMPRESSION_XZ;
    if (len >= 4 && le32(p) == ZSTD_MAGICNUMBER)
        return KERNEL_COMPRESSION_ZSTD;
    if (len >= 4 && le32(p) == LZ4_LEGACY_MAGIC)
        return KERNEL_COMPRESSION_LZ4;
    return KERNEL_COMPRESSION_UNSUPPORTED;
}

const char *kernel_compression_name(enum kernel_compression c)
{
    switch (c) {
    case KERNEL_COMPRESSION_GZIP: return "gzip";
    case KERNEL_COMPRESSION_XZ: return "xz";
    case KERNEL_COMPRESSION_ZSTD: return "zstd";
    case KERNEL_COMPRESSION_LZ4: return "lz4";
    case KERNEL_COMPRESSION_UNSUPPORTED: break;
    }
    return "unsupported";
}

/* Each decoder fills out[0..out_len) exactly or fails. */

static bool inflate_gzip(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
    z_stream z = { 0 };
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
        return false;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)MIN(in_len, (size_t)UINT_MAX);
    z.next_out = out;
    z.avail_out = (uInt)out_len;
    int r = inflate(&z, Z_FINISH);
    bool ok = r == Z_STREAM_END && z.total_out == out_len;
    inflateEnd(&z);
    return ok;
}

static bool decode_xz(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
    uint64_t memlimit = 256u << 20;
    size_t in_pos = 0, out_pos = 0;
    lzma_ret r = lzma_stream_buffer_decode(&memlimit, 0, NULL, in, &in_pos, in_len,
                                           out, &out_pos, out_len);
    return r == LZMA_OK && out_pos == out_len;
}

static bool decode_zstd(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
    size_t n = ZSTD_decompress(out, out_len, in, in_len);
    return !ZSTD_isError(n) && n == out_len;
}

static bool decode_lz4_legacy(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
    size_t pos = 0, done = 0;
    while (in_len - pos >= 4) {
        uint32_t block = le32(in + pos);
        pos += 4;
        if (block == LZ4_LEGACY_MAGIC)      /* concatenated frames */
            continue;
        if (block > in_len - pos || block > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK_MAX))
            return false;
        size_t room = MIN(out_len - done, (size_t)LZ4_LEGACY_BLOCK_MAX);
        int n = LZ4_decompress_safe((const char *)in + pos, (char *)out + done,
                                    (int)block, (int)room);
        if (n < 0)
            return false;
        done += (size_t)n;
        pos += block;
    }
    return pos == in_len && done == out_len;
}

GBytes *kernel_payload_decompress(const uint8_t *payload, size_t len, GError **error)
{
    enum kernel_compression c = kernel_payload_compression(payload, len);
    if (c == KERNEL_COMPRESSION_UNSUPPORTED) {
        g_set_error_literal(error, LINUX_ERROR, LINUX_ERROR_UNSUPPORTED,
                            _("The kernel's payload uses a compression the VMM does not unpack"));
        return NULL;
    }
    if (len < 8) {
        invalid(error, _("The kernel's payload is truncated"));
        return NULL;
    }
    /* The kernel build appends the unpacked size to the compressed stream;
     * gzip ends with that size anyway (ISIZE) as part of its own trailer. */
    size_t out_len = le32(payload + len - 4);
    size_t in_len = c == KERNEL_COMPRESSION_GZIP ? len : len - 4;
    if (out_len == 0 || out_len > KERNEL_PAYLOAD_MAX_SIZE) {
        g_set_error(error, LINUX_ERROR, LINUX_ERROR_INVALID,
                    _("The kernel's payload claims an unpacked size of %zu bytes"), out_len);
        return NULL;
    }
    uint8_t *out = g_try_malloc(out_len);
    if (!out) {
        g_set_error(error, LINUX_ERROR, LINUX_ERROR_NO_ROOM,
                    _("Cannot allocate %zu bytes to unpack the kernel"), out_len);
        return NULL;
    }
    bool ok = false;
    switch (c) {
    case KERNEL_COMPRESSION_GZIP: ok = inflate_gzip(payload, in_len, out, out_len); break;
    case KERNEL_COMPRESSION_XZ: ok = decode_xz(payload, in_len, out, out_len); break;
    case KERNEL_COMPRESSION_ZSTD: ok = decode_zstd(payload, in_len, out, out_len); break;
    case KERNEL_COMPRESSION_LZ4: ok = decode_lz4_legacy(payload, in_len, out, out_len); break;
    case KERNEL_COMPRESSION_UNSUPPORTED: break;
    }
    if (!ok) {
        g_free(out);
        g_set_error(error, LINUX_ERROR, LINUX_ERROR_INVALID,
                    _("The kernel's %s payload is corrupt or does not unpack to its stated size"),
                    kernel_compression_name(c));
        return NULL;
    }
    return g_bytes_new_take(out, out_len);
}
