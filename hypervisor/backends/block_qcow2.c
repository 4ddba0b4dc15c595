/* qcow2 images (versions 2 and 3), as described in QEMU's
 * docs/interop/qcow2.txt: guest clusters map through a two-level table
 * (L1 -> L2 -> host cluster); unallocated clusters read from the backing
 * image or as zeros; every host cluster has a reference count.
 *
 * Writes allocate at the end of the file.  A cluster or L2 table shared
 * with an internal snapshot (refcount > 1, no COPIED flag) is copied before
 * it is changed.  Metadata is written in an order that can leak a cluster
 * when the process dies, never point at one that is not allocated: data
 * first, then its reference count, then the L2 entry that points at it.
 *
 * The image is untrusted input: every table offset and size from the file
 * is checked before use, and a bad one fails the request with -EIO rather
 * than reading or writing outside what the header describes. */
#include "block_backend.h"

#include <inttypes.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <linux/falloc.h>
#include <zlib.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

#define QCOW2_MAGIC 0x514649fbu          /* "QFI\xfb" */
#define OFLAG_COPIED (1ull << 63)        /* refcount is exactly 1 */
#define OFLAG_COMPRESSED (1ull << 62)
#define L2E_ZERO 1ull                    /* v3: reads as zeros */
#define ENTRY_OFFSET_MASK 0x00fffffffffffe00ull
#define L2E_RESERVED_MASK 0x3f000000000001feull  /* bits 1-8 and 56-61 */

#define INCOMPAT_DIRTY (1ull << 0)
#define INCOMPAT_CORRUPT (1ull << 1)
#define EXT_BACKING_FORMAT 0xe2792acau

#define MAX_BACKING_DEPTH 16
#define L2_CACHE_SIZE 16
#define RB_CACHE_SIZE 4

struct table_cache_entry {
    uint64_t offset;    /* host offset of the table; 0: empty slot */
    uint64_t *table;    /* big-endian entries, as on disk */
    uint64_t used;      /* LRU clock */
};

struct qcow2 {
    struct block_backend bb;
    int fd;
    GMutex lock;        /* device models may call from several threads */
    uint32_t version;
    uint32_t cluster_bits;
    uint64_t cluster_size;
    uint32_t l2_bits;               /* log2 of entries per L2 table */
    uint64_t *l1;                   /* host-endian */
    uint32_t l1_size;
    uint64_t l1_offset;
    uint64_t *rc_table;             /* host-endian */
    uint64_t rc_table_entries;
    uint64_t rc_table_offset;
    uint32_t refcount_bits;
    uint32_t rb_bits;               /* log2 of refcounts per refcount block */
    uint64_t end;                   /* where the next cluster is allocated */
    struct block_backend *backing;
    struct table_cache_entry l2_cache[L2_CACHE_SIZE];
    struct table_cache_entry rb_cache[RB_CACHE_SIZE];
    uint64_t clock;
    uint8_t *bounce;                /* one cluster */
    uint8_t *compressed;            /* two clusters: a compressed cluster's input */
};

static struct qcow2 *qc(struct block_backend *bb)
{
    return (struct qcow2 *)bb;
}

static int pread_all(int fd, void *buf, size_t len, uint64_t off)
{
    while (len) {
        ssize_t n = pread(fd, buf, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0) {           /* past the end of the file: zeros */
            memset(buf, 0, len);
            return 0;
        }
        buf = (uint8_t *)buf + n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
    while (len) {
        ssize_t n = pwrite(fd, buf, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        buf = (const uint8_t *)buf + n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

/* ---- table caches (L2 tables and refcount blocks) ---- */

static int cache_get(struct qcow2 *q, struct table_cache_entry *cache, int n,
                     uint64_t offset, bool zero_fill, uint64_t **table)
{
    struct table_cache_entry *victim = &cache[0];
    for (int i = 0; i < n; i++) {
        if (cache[i].offset == offset) {
            cache[i].used = ++q->clock;
            *table = cache[i].table;
            return 0;
        }
        if (cache[i].used < victim->used)
            victim = &cache[i];
    }
    if (!victim->table)
        victim->table = g_malloc(q->cluster_size);
    victim->offset = 0;
    if (zero_fill) {
        memset(victim->table, 0, q->cluster_size);
    } else {
        int ret = pread_all(q->fd, victim->table, q->cluster_size, offset);
        if (ret)
            return ret;
    }
    victim->offset = offset;
    victim->used = ++q->clock;
    *table = victim->table;
    return 0;
}

static void cache_forget(struct table_cache_entry *cache, int n, uint64_t offset)
{
    for (int i = 0; i < n; i++)
        if (cache[i].offset == offset)
            cache[i].offset = 0;
}

/* A host offset read from the file may be used as a table or data cluster
 * only if it is cluster-aligned and past the header. */
static bool valid_cluster_offset(const struct qcow2 *q, uint64_t off)
{
    return off >= q->cluster_size && (off & (q->cluster_size - 1)) == 0 &&
           off <= (UINT64_C(1) << 56);
}

/* Metadata a data write must never land on. */
static bool overlaps_metadata(const struct qcow2 *q, uint64_t off)
{
    uint64_t l1_end = q->l1_offset + (uint64_t)q->l1_size * 8;
    uint64_t rt_end = q->rc_table_offset + q->rc_table_entries * 8;
    if (off < q->cluster_size)
        return true;
    if (off + q->cluster_size > q->l1_offset && off < l1_end)
        return true;
    if (off + q->cluster_size > q->rc_table_offset && off < rt_end)
        return true;
    return false;
}

/* ---- reference counts ---- */

static int refcount_block(struct qcow2 *q, uint64_t cluster_off, bool *missing,
                          uint64_t **rb, uint64_t *index)
{
    uint64_t cluster = cluster_off >> q->cluster_bits;
    uint64_t rt_index = cluster >> q->rb_bits;
    *index = cluster & ((UINT64_C(1) << q->rb_bits) - 1);
    *missing = false;
    if (rt_index >= q->rc_table_entries)
        return -ENOSPC;     /* the refcount table would have to grow */
    uint64_t rb_off = q->rc_table[rt_index] & ENTRY_OFFSET_MASK;
    if (rb_off == 0) {
        *missing = true;
        return 0;
    }
    if (!valid_cluster_offset(q, rb_off))
        return -EIO;
    return cache_get(q, q->rb_cache, RB_CACHE_SIZE, rb_off, false, rb);
}

/* Refcounts are 16-bit big-endian in every image we write (refcount_order
 * 4, the default); images with other widths open read-only. */
static uint16_t rb_get(const uint64_t *rb, uint64_t index)
{
    return GUINT16_FROM_BE(((const uint16_t *)rb)[index]);
}

static int rb_set(struct qcow2 *q, uint64_t *rb, uint64_t index, uint16_t value)
{
    ((uint16_t *)rb)[index] = GUINT16_TO_BE(value);
    uint64_t rb_off = 0;
    for (int i = 0; i < RB_CACHE_SIZE; i++)
        if (q->rb_cache[i].table == rb)
            rb_off = q->rb_cache[i].offset;
    return pwrite_all(q->fd, (uint16_t *)rb + index, 2, rb_off + index * 2);
}

static int refcount_get(struct qcow2 *q, uint64_t off, uint16_t *value)
{
    bool missing;
    uint64_t *rb, index;
    int ret = refcount_block(q, off, &missing, &rb, &index);
    if (ret)
        return ret;
    *value = missing ? 0 : rb_get(rb, index);
    return 0;
}

static int refcount_add(struct qcow2 *q, uint64_t off, int delta)
{
    bool missing;
    uint64_t *rb, index;
    int ret = refcount_block(q, off, &missing, &rb, &index);
    if (ret)
        return ret;
    if (missing)
        return -EIO;        /* only allocated clusters change */
    int value = rb_get(rb, index) + delta;
    if (value < 0 || value > 0xffff)
        return -EIO;
    return rb_set(q, rb, index, (uint16_t)value);
}

/* One new cluster at the end of the file, its refcount 1.  When the
 * refcount block that would count it does not exist yet, the cluster
 * becomes that block (counting itself) and the next one is taken. */
static int alloc_cluster(struct qcow2 *q, uint64_t *out)
{
    for (int tries = 0; tries < 3; tries++) {
        uint64_t off = q->end;
        bool missing;
        uint64_t *rb, index;
        int ret = refcount_block(q, off, &missing, &rb, &index);
        if (ret)
            return ret;
        if (missing) {
            uint64_t rt_index = (off >> q->cluster_bits) >> q->rb_bits;
            ret = cache_get(q, q->rb_cache, RB_CACHE_SIZE, off, true, &rb);
            if (ret)
                return ret;
            ((uint16_t *)rb)[index] = GUINT16_TO_BE(1);
            ret = pwrite_all(q->fd, rb, q->cluster_size, off);
            if (ret)
                return ret;
            uint64_t be = GUINT64_TO_BE(off);
            ret = pwrite_all(q->fd, &be, 8, q->rc_table_offset + rt_index * 8);
            if (ret)
                return ret;
            q->rc_table[rt_index] = off;
            q->end += q->cluster_size;
            continue;
        }
        if (rb_get(rb, index) != 0)
            return -EIO;    /* something past the end is in use: corrupt */
        ret = rb_set(q, rb, index, 1);
        if (ret)
            return ret;
        q->end += q->cluster_size;
        *out = off;
        return 0;
    }
    return -EIO;
}

/* ---- mapping guest clusters ---- */

enum cluster_kind { CL_UNALLOCATED, CL_ZERO, CL_NORMAL, CL_COMPRESSED };

struct mapping {
    enum cluster_kind kind;
    uint64_t entry;         /* the raw L2 entry */
    uint64_t host;          /* NORMAL: the host cluster */
    uint64_t *l2;           /* the cached L2 table, NULL without one */
    uint64_t l2_off;
    uint64_t l2_index;
};

static int map_cluster(struct qcow2 *q, uint64_t guest, struct mapping *m)
{
    uint64_t cluster = guest >> q->cluster_bits;
    uint64_t l1_index = cluster >> q->l2_bits;
    memset(m, 0, sizeof(*m));
    m->l2_index = cluster & ((UINT64_C(1) << q->l2_bits) - 1);
    if (l1_index >= q->l1_size)
        return -EIO;
    uint64_t l2_off = q->l1[l1_index] & ENTRY_OFFSET_MASK;
    if (l2_off == 0)
        return 0;
    if (!valid_cluster_offset(q, l2_off))
        return -EIO;
    int ret = cache_get(q, q->l2_cache, L2_CACHE_SIZE, l2_off, false, &m->l2);
    if (ret)
        return ret;
    m->l2_off = l2_off;
    m->entry = GUINT64_FROM_BE(m->l2[m->l2_index]);
    if (m->entry & OFLAG_COMPRESSED) {
        m->kind = CL_COMPRESSED;
        return 0;
    }
    if (m->entry & L2E_RESERVED_MASK)
        return -EIO;
    if (q->version >= 3 && (m->entry & L2E_ZERO)) {
        m->kind = CL_ZERO;
        return 0;
    }
    m->host = m->entry & ENTRY_OFFSET_MASK;
    if (m->host == 0)
        return 0;
    if (!valid_cluster_offset(q, m->host))
        return -EIO;
    m->kind = CL_NORMAL;
    return 0;
}

/* A compressed cluster's L2 entry: host byte offset and how many bytes
 * from there hold its deflate stream. */
static void compressed_extent(const struct qcow2 *q, uint64_t entry, uint64_t *off, uint64_t *len)
{
    uint32_t x = 62 - (q->cluster_bits - 8);
    uint64_t sectors = ((entry >> x) & ((UINT64_C(1) << (q->cluster_bits - 8)) - 1)) + 1;
    *off = entry & ((UINT64_C(1) << x) - 1);
    *len = sectors * 512 - (*off & 511);
}

static int read_compressed(struct qcow2 *q, uint64_t entry, uint8_t *out)
{
    uint64_t off, len;
    compressed_extent(q, entry, &off, &len);
    if (len > 2 * q->cluster_size || off < q->cluster_size)
        return -EIO;
    int ret = pread_all(q->fd, q->compressed, len, off);
    if (ret)
        return ret;
    z_stream z = { 0 };
    if (inflateInit2(&z, -15) != Z_OK)
        return -ENOMEM;
    z.next_in = q->compressed;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)q->cluster_size;
    int zr = inflate(&z, Z_FINISH);
    bool ok = (zr == Z_STREAM_END || zr == Z_BUF_ERROR || zr == Z_OK) && z.avail_out == 0;
    inflateEnd(&z);
    return ok ? 0 : -EIO;
}

static int backing_read(struct qcow2 *q, uint8_t *buf, size_t len, uint64_t guest)
{
    if (!q->backing || guest >= q->backing->size) {
        memset(buf, 0, len);
        return 0;
    }
    size_t have = (size_t)MIN((uint64_t)len, q->backing->size - guest);
    struct iovec v = { buf, have };
    int ret = block_backend_preadv(q->backing, &v, 1, guest);
    if (ret)
        return ret;
    memset(buf + have, 0, len - have);
    return 0;
}

/* Reads len bytes inside one guest cluster. */
static int read_in_cluster(struct qcow2 *q, uint8_t *buf, size_t len, uint64_t guest)
{
    struct mapping m;
    int ret = map_cluster(q, guest, &m);
    if (ret)
        return ret;
    uint64_t in = guest & (q->cluster_size - 1);
    switch (m.kind) {
    case CL_UNALLOCATED:
        return backing_read(q, buf, len, guest);
    case CL_ZERO:
        memset(buf, 0, len);
        return 0;
    case CL_COMPRESSED:
        ret = read_compressed(q, m.entry, q->bounce);
        if (ret == 0)
            memcpy(buf, q->bounce + in, len);
        return ret;
    case CL_NORMAL:
    default:
        return pread_all(q->fd, buf, len, m.host + in);
    }
}

/* Walks an I/O vector cluster by cluster. */
typedef int (*cluster_fn)(struct qcow2 *q, uint8_t *buf, size_t len, uint64_t guest);

static int for_each_piece(struct qcow2 *q, const struct iovec *iov, int iovcnt,
                          uint64_t offset, cluster_fn fn)
{
    for (int i = 0; i < iovcnt; i++) {
        uint8_t *p = iov[i].iov_base;
        size_t left = iov[i].iov_len;
        while (left) {
            uint64_t room = q->cluster_size - (offset & (q->cluster_size - 1));
            size_t n = (size_t)MIN((uint64_t)left, room);
            if (offset + n > q->bb.size)
                return -EINVAL;
            int ret = fn(q, p, n, offset);
            if (ret)
                return ret;
            p += n;
            left -= n;
            offset += n;
        }
    }
    return 0;
}

static int qcow2_preadv(struct block_backend *bb, const struct iovec *iov, int iovcnt, uint64_t offset)
{
    struct qcow2 *q = qc(bb);
    g_mutex_lock(&q->lock);
    int ret = for_each_piece(q, iov, iovcnt, offset, read_in_cluster);
    g_mutex_unlock(&q->lock);
    return ret;
}

/* ---- writing ---- */

static int write_l1_entry(struct qcow2 *q, uint64_t l1_index, uint64_t value)
{
    uint64_t be = GUINT64_TO_BE(value);
    int ret = pwrite_all(q->fd, &be, 8, q->l1_offset + l1_index * 8);
    if (ret == 0)
        q->l1[l1_index] = value;
    return ret;
}

/* Adds delta to the reference count of the host cluster(s) an L2 entry
 * points at: one for a normal cluster, every cluster a compressed one's
 * stream touches.  A normal cluster nobody references any more gives its
 * space back to the file system. */
static int adjust_entry(struct qcow2 *q, uint64_t entry, int delta)
{
    if (entry & OFLAG_COMPRESSED) {
        uint64_t off, len;
        compressed_extent(q, entry, &off, &len);
        uint64_t last = (off + len - 1) & ~(q->cluster_size - 1);
        for (uint64_t c = off & ~(q->cluster_size - 1); c <= last; c += q->cluster_size) {
            int ret = refcount_add(q, c, delta);
            if (ret)
                return ret;
        }
        return 0;
    }
    uint64_t host = entry & ENTRY_OFFSET_MASK;
    if (!host)
        return 0;
    int ret = refcount_add(q, host, delta);
    if (ret)
        return ret;
    uint16_t left;
    if (delta < 0 && refcount_get(q, host, &left) == 0 && left == 0)
        fallocate(q->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)host,
                  (off_t)q->cluster_size);
    return 0;
}

/* Makes sure the L2 table for guest is allocated and ours alone (COPIED),
 * copying a table shared with a snapshot. */
static int writable_l2(struct qcow2 *q, uint64_t guest, uint64_t **l2, uint64_t *l2_off)
{
    uint64_t l1_index = (guest >> q->cluster_bits) >> q->l2_bits;
    if (l1_index >= q->l1_size)
        return -EIO;
    uint64_t entry = q->l1[l1_index];
    uint64_t old = entry & ENTRY_OFFSET_MASK;
    if (old && (entry & OFLAG_COPIED)) {
        if (!valid_cluster_offset(q, old))
            return -EIO;
        *l2_off = old;
        return cache_get(q, q->l2_cache, L2_CACHE_SIZE, old, false, l2);
    }
    if (old && !valid_cluster_offset(q, old))
        return -EIO;
    uint64_t fresh;
    int ret = alloc_cluster(q, &fresh);
    if (ret)
        return ret;
    uint64_t *table;
    if (old) {
        /* Shared with a snapshot: copy it.  The data clusters it points at
         * are already counted once per snapshot that uses them (taking the
         * snapshot counted them), so their counts stay; they are shared,
         * so none of them may be written in place. */
        ret = cache_get(q, q->l2_cache, L2_CACHE_SIZE, old, false, &table);
        if (ret)
            return ret;
        g_autofree uint64_t *copy = g_memdup2(table, q->cluster_size);
        for (uint64_t i = 0; i < (UINT64_C(1) << q->l2_bits); i++)
            copy[i] = GUINT64_TO_BE(GUINT64_FROM_BE(copy[i]) & ~OFLAG_COPIED);
        ret = pwrite_all(q->fd, copy, q->cluster_size, fresh);
        if (ret)
            return ret;
        ret = refcount_add(q, old, -1);
        if (ret)
            return ret;
        ret = cache_get(q, q->l2_cache, L2_CACHE_SIZE, fresh, false, &table);
    } else {
        ret = cache_get(q, q->l2_cache, L2_CACHE_SIZE, fresh, true, &table);
        if (ret == 0)
            ret = pwrite_all(q->fd, table, q->cluster_size, fresh);
    }
    if (ret) {
        cache_forget(q->l2_cache, L2_CACHE_SIZE, fresh);
        return ret;
    }
    ret = write_l1_entry(q, l1_index, fresh | OFLAG_COPIED);
    if (ret)
        return ret;
    *l2 = table;
    *l2_off = fresh;
    return 0;
}

static int set_l2_entry(struct qcow2 *q, uint64_t *l2, uint64_t l2_off, uint64_t index, uint64_t value)
{
    uint64_t be = GUINT64_TO_BE(value);
    int ret = pwrite_all(q->fd, &be, 8, l2_off + index * 8);
    if (ret == 0)
        l2[index] = be;
    return ret;
}

/* Writes len bytes inside one guest cluster (buf NULL: zeros). */
static int write_in_cluster(struct qcow2 *q, uint8_t *buf, size_t len, uint64_t guest)
{
    struct mapping m;
    int ret = map_cluster(q, guest, &m);
    if (ret)
        return ret;
    uint64_t in = guest & (q->cluster_size - 1);
    if (m.kind == CL_NORMAL && (m.entry & OFLAG_COPIED)) {
        if (overlaps_metadata(q, m.host))
            return -EIO;
        if (buf)
            return pwrite_all(q->fd, buf, len, m.host + in);
        static const uint8_t zeros[4096];
        for (size_t done = 0; done < len;) {
            size_t n = MIN(len - done, sizeof(zeros));
            ret = pwrite_all(q->fd, zeros, n, m.host + in + done);
            if (ret)
                return ret;
            done += n;
        }
        return 0;
    }

    /* A new cluster: the old contents around the written part, then ours. */
    if (len < q->cluster_size) {
        ret = read_in_cluster(q, q->bounce, q->cluster_size, guest - in);
        if (ret)
            return ret;
    }
    if (buf)
        memcpy(q->bounce + in, buf, len);
    else
        memset(q->bounce + in, 0, len);
    uint64_t *l2, l2_off;
    ret = writable_l2(q, guest, &l2, &l2_off);
    if (ret)
        return ret;
    /* Copying a shared L2 table may have changed the entry's flags. */
    uint64_t old = GUINT64_FROM_BE(l2[m.l2_index]);
    uint64_t fresh;
    ret = alloc_cluster(q, &fresh);
    if (ret)
        return ret;
    ret = pwrite_all(q->fd, q->bounce, q->cluster_size, fresh);
    if (ret)
        return ret;
    ret = set_l2_entry(q, l2, l2_off, m.l2_index, fresh | OFLAG_COPIED);
    if (ret)
        return ret;
    return adjust_entry(q, old, -1);
}

static int qcow2_pwritev(struct block_backend *bb, const struct iovec *iov, int iovcnt, uint64_t offset)
{
    struct qcow2 *q = qc(bb);
    if (bb->readonly)
        return -EROFS;
    g_mutex_lock(&q->lock);
    int ret = for_each_piece(q, iov, iovcnt, offset, write_in_cluster);
    g_mutex_unlock(&q->lock);
    return ret;
}

static int qcow2_flush(struct block_backend *bb)
{
    return fdatasync(qc(bb)->fd) == 0 ? 0 : -errno;
}

/* Whole clusters in [offset, offset+len) become unallocated (or, over a
 * backing file, v3 zero clusters); partial clusters at the ends are left
 * alone for discard and written with zeros for write_zeroes. */
static int drop_clusters(struct qcow2 *q, uint64_t offset, uint64_t len, bool zero)
{
    if (offset > q->bb.size || len > q->bb.size - offset)
        return -EINVAL;
    uint64_t end = offset + len;
    while (offset < end) {
        uint64_t in = offset & (q->cluster_size - 1);
        uint64_t n = MIN(end - offset, q->cluster_size - in);
        int ret;
        if (in != 0 || n != q->cluster_size) {
            ret = zero ? write_in_cluster(q, NULL, (size_t)n, offset) : 0;
        } else {
            struct mapping m;
            ret = map_cluster(q, offset, &m);
            if (ret)
                return ret;
            bool need_zero_flag = q->backing != NULL;
            if (need_zero_flag && q->version < 3) {
                ret = zero ? write_in_cluster(q, NULL, (size_t)n, offset) : 0;
            } else if (m.kind != CL_UNALLOCATED || need_zero_flag) {
                uint64_t *l2, l2_off;
                ret = writable_l2(q, offset, &l2, &l2_off);
                if (ret == 0) {
                    uint64_t old = GUINT64_FROM_BE(l2[m.l2_index]);
                    ret = set_l2_entry(q, l2, l2_off, m.l2_index, need_zero_flag ? L2E_ZERO : 0);
                    if (ret == 0)
                        ret = adjust_entry(q, old, -1);
                }
            }
        }
        if (ret)
            return ret;
        offset += n;
    }
    return 0;
}

static int qcow2_discard(struct block_backend *bb, uint64_t offset, uint64_t len)
{
    struct qcow2 *q = qc(bb);
    if (bb->readonly)
        return -EROFS;
    g_mutex_lock(&q->lock);
    int ret = drop_clusters(q, offset, len, false);
    g_mutex_unlock(&q->lock);
    return ret;
}

static int qcow2_write_zeroes(struct block_backend *bb, uint64_t offset, uint64_t len)
{
    struct qcow2 *q = qc(bb);
    if (bb->readonly)
        return -EROFS;
    g_mutex_lock(&q->lock);
    int ret = drop_clusters(q, offset, len, true);
    g_mutex_unlock(&q->lock);
    return ret;
}

static void qcow2_free(struct qcow2 *q)
{
    if (q->fd >= 0)
        close(q->fd);
    block_backend_close(q->backing);
    for (int i = 0; i < L2_CACHE_SIZE; i++)
        g_free(q->l2_cache[i].table);
    for (int i = 0; i < RB_CACHE_SIZE; i++)
        g_free(q->rb_cache[i].table);
    g_free(q->l1);
    g_free(q->rc_table);
    g_free(q->bounce);
    g_free(q->compressed);
    g_free(q->bb.path);
    g_mutex_clear(&q->lock);
    g_free(q);
}

static void qcow2_close(struct block_backend *bb)
{
    qcow2_free(qc(bb));
}

static const struct block_backend_ops qcow2_ops = {
    .preadv = qcow2_preadv,
    .pwritev = qcow2_pwritev,
    .flush = qcow2_flush,
    .discard = qcow2_discard,
    .write_zeroes = qcow2_write_zeroes,
    .close = qcow2_close,
};

/* ---- opening ---- */

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static uint64_t be64(const uint8_t *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }

static bool bad(GError **error, const char *path, const char *what)
{
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                _("Disk image %s is not a usable qcow2 image: %s"), path, what);
    return false;
}

static bool read_table(struct qcow2 *q, uint64_t offset, uint64_t entries, uint64_t **out,
                       GError **error)
{
    g_autofree uint64_t *t = g_new(uint64_t, MAX(entries, 1));
    int ret = pread_all(q->fd, t, entries * 8, offset);
    if (ret) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-ret),
                    _("Cannot read disk image %s: %s"), q->bb.path, g_strerror(-ret));
        return false;
    }
    for (uint64_t i = 0; i < entries; i++)
        t[i] = GUINT64_FROM_BE(t[i]);
    *out = g_steal_pointer(&t);
    return true;
}

/* The header extensions between the header and the end of the first
 * cluster; only the backing file's format matters to us. */
static bool read_extensions(const uint8_t *hdr, size_t hdr_len, size_t start, char **backing_format,
                            const char *path, GError **error)
{
    size_t p = start;
    while (p + 8 <= hdr_len) {
        uint32_t type = be32(hdr + p), len = be32(hdr + p + 4);
        p += 8;
        if (type == 0)
            return true;
        if (len > hdr_len - p)
            return bad(error, path, _("a header extension runs past the first cluster"));
        if (type == EXT_BACKING_FORMAT)
            *backing_format = g_strndup((const char *)hdr + p, len);
        p += ((size_t)len + 7) & ~(size_t)7;
    }
    return true;
}

static struct block_backend *open_depth(const char *path, bool readonly, int depth,
                                        struct block_backend *given_backing, GError **error);

/* The backing file the header names; q->backing is already set when the
 * caller gives the backing in memory (block_qcow2_open_over), and then the
 * header must name none. */
static bool open_backing(struct qcow2 *q, const uint8_t *hdr, size_t hdr_len,
                         const char *backing_format, int depth, GError **error)
{
    uint64_t off = be64(hdr + 8);
    uint32_t len = be32(hdr + 16);
    if (off == 0)
        return true;
    if (q->backing) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    _("Disk image %s names a backing file; an overlay whose backing is given "
                      "by oriel-vmm must name none"), q->bb.path);
        return false;
    }
    if (len == 0 || len > 1023 || off > hdr_len || len > hdr_len - off)
        return bad(error, q->bb.path, _("the backing file name is out of bounds"));
    g_autofree char *name = g_strndup((const char *)hdr + off, len);
    if (strlen(name) != len)
        return bad(error, q->bb.path, _("the backing file name contains a NUL byte"));
    if (depth >= MAX_BACKING_DEPTH)
        return bad(error, q->bb.path, _("the chain of backing files is too long"));
    /* Guessing a backing file's format from its contents would let a raw
     * image that a guest wrote a qcow2 header into name any host file. */
    if (!backing_format) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    _("Disk image %s names its backing file %s without its format; "
                      "set it with qemu-img rebase -u -F FORMAT -b %s %s"),
                    q->bb.path, name, name, q->bb.path);
        return false;
    }
    g_autofree char *dir = g_path_get_dirname(q->bb.path);
    g_autofree char *full = g_path_is_absolute(name) ? g_strdup(name)
                                                     : g_build_filename(dir, name, NULL);
    if (!strcmp(backing_format, "raw"))
        q->backing = block_raw_open(full, true, error);
    else if (!strcmp(backing_format, "qcow2"))
        q->backing = open_depth(full, true, depth + 1, NULL, error);
    else {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    _("Disk image %s: backing file %s has the unsupported format '%s'"),
                    q->bb.path, full, backing_format);
        return false;
    }
    if (!q->backing)
        g_prefix_error(error, _("Backing file of %s: "), q->bb.path);
    return q->backing != NULL;
}

static bool parse_header(struct qcow2 *q, const uint8_t *hdr, size_t hdr_len, bool readonly,
                         int depth, GError **error)
{
    const char *path = q->bb.path;
    if (hdr_len < 72 || be32(hdr) != QCOW2_MAGIC)
        return bad(error, path, _("no qcow2 signature"));
    q->version = be32(hdr + 4);
    if (q->version != 2 && q->version != 3)
        return bad(error, path, _("unknown version"));
    q->cluster_bits = be32(hdr + 20);
    if (q->cluster_bits < 9 || q->cluster_bits > 21)
        return bad(error, path, _("cluster size out of range"));
    q->cluster_size = UINT64_C(1) << q->cluster_bits;
    q->l2_bits = q->cluster_bits - 3;
    q->bb.size = be64(hdr + 24);
    if (q->bb.size > (UINT64_C(1) << 55))
        return bad(error, path, _("virtual size too large"));
    if (be32(hdr + 32) != 0)
        return bad(error, path, _("encrypted images are not supported"));
    q->l1_size = be32(hdr + 36);
    q->l1_offset = be64(hdr + 40);
    q->rc_table_offset = be64(hdr + 48);
    uint32_t rt_clusters = be32(hdr + 56);
    uint32_t refcount_order = 4;
    size_t ext_start = 72;
    if (q->version == 3) {
        if (hdr_len < 104)
            return bad(error, path, _("header too short"));
        uint64_t incompatible = be64(hdr + 72);
        refcount_order = be32(hdr + 96);
        uint32_t header_length = be32(hdr + 100);
        if (header_length < 104 || header_length > hdr_len)
            return bad(error, path, _("bad header length"));
        ext_start = header_length;
        if (incompatible & ~(INCOMPAT_DIRTY | INCOMPAT_CORRUPT)) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                        _("Disk image %s uses qcow2 features oriel-vmm does not support "
                          "(incompatible feature bits 0x%" PRIx64 ")"),
                        path, (guint64)incompatible);
            return false;
        }
        if (!readonly && (incompatible & INCOMPAT_CORRUPT))
            return bad(error, path, _("it is marked corrupt; repair it with qemu-img check -r all"));
        if (!readonly && (incompatible & INCOMPAT_DIRTY))
            return bad(error, path, _("it was not closed cleanly; repair it with qemu-img check -r all"));
    }
    if (refcount_order > 6)
        return bad(error, path, _("refcount width out of range"));
    if (!readonly && refcount_order != 4) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    _("Disk image %s has %u-bit reference counts; oriel-vmm writes only "
                      "16-bit ones (open it read-only or convert it with qemu-img convert)"),
                    path, 1u << refcount_order);
        return false;
    }
    q->refcount_bits = 1u << refcount_order;
    q->rb_bits = q->cluster_bits + 3 - refcount_order;

    uint64_t l2_span = UINT64_C(1) << (q->cluster_bits + q->l2_bits);
    uint64_t l1_needed = (q->bb.size + l2_span - 1) / l2_span;
    if (q->l1_size < l1_needed || q->l1_size > (32u << 20) / 8)
        return bad(error, path, _("L1 table size does not match the virtual size"));
    if (!valid_cluster_offset(q, q->l1_offset))
        return bad(error, path, _("misaligned L1 table"));
    if (!valid_cluster_offset(q, q->rc_table_offset) || rt_clusters == 0 ||
        (uint64_t)rt_clusters << q->cluster_bits > (UINT64_C(64) << 20))
        return bad(error, path, _("bad refcount table"));
    q->rc_table_entries = ((uint64_t)rt_clusters << q->cluster_bits) / 8;

    g_autofree char *backing_format = NULL;
    if (!read_extensions(hdr, hdr_len, ext_start, &backing_format, path, error))
        return false;
    if (!read_table(q, q->l1_offset, q->l1_size, &q->l1, error) ||
        !read_table(q, q->rc_table_offset, q->rc_table_entries, &q->rc_table, error))
        return false;
    return open_backing(q, hdr, hdr_len, backing_format, depth, error);
}

/* Written images lose the autoclear bits we do not maintain (bitmaps):
 * the format asks writers that do not know a bit to clear it. */
static bool clear_autoclear(struct qcow2 *q, const uint8_t *hdr, GError **error)
{
    if (q->version < 3 || be64(hdr + 88) == 0)
        return true;
    uint64_t zero = 0;
    int ret = pwrite_all(q->fd, &zero, 8, 88);
    if (ret) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-ret),
                    _("Cannot write disk image %s: %s"), q->bb.path, g_strerror(-ret));
        return false;
    }
    return true;
}

static struct block_backend *open_depth(const char *path, bool readonly, int depth,
                                        struct block_backend *given_backing, GError **error)
{
    int fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                    _("Cannot open disk image %s: %s"), path, g_strerror(e));
        block_backend_close(given_backing);
        return NULL;
    }
    struct qcow2 *q = g_new0(struct qcow2, 1);
    g_mutex_init(&q->lock);
    q->fd = fd;
    q->backing = given_backing;     /* closed with q from here on */
    q->bb.ops = &qcow2_ops;
    q->bb.readonly = readonly;
    q->bb.path = g_strdup(path);

    /* The header, its extensions and the backing file name live in the
     * first cluster; read the smallest possible one first. */
    uint8_t small[512];
    int ret = pread_all(fd, small, sizeof(small), 0);
    struct stat st;
    if (ret == 0 && fstat(fd, &st) < 0)
        ret = -errno;
    if (ret) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-ret),
                    _("Cannot read disk image %s: %s"), path, g_strerror(-ret));
        qcow2_free(q);
        return NULL;
    }
    uint32_t bits = be32(small + 20);
    size_t hdr_len = bits >= 9 && bits <= 21 ? (size_t)1 << bits : sizeof(small);
    g_autofree uint8_t *hdr = g_malloc(hdr_len);
    ret = pread_all(fd, hdr, hdr_len, 0);
    if (ret || !parse_header(q, hdr, hdr_len, readonly, depth, error) ||
        (!readonly && !clear_autoclear(q, hdr, error))) {
        if (ret)
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-ret),
                        _("Cannot read disk image %s: %s"), path, g_strerror(-ret));
        qcow2_free(q);
        return NULL;
    }
    q->end = ((uint64_t)st.st_size + q->cluster_size - 1) & ~(q->cluster_size - 1);
    q->bounce = g_malloc(q->cluster_size);
    q->compressed = g_malloc(2 * q->cluster_size);
    return &q->bb;
}

struct block_backend *block_qcow2_open(const char *path, bool readonly, GError **error)
{
    return open_depth(path, readonly, 0, NULL, error);
}

struct block_backend *block_qcow2_open_over(const char *path, struct block_backend *backing,
                                            bool readonly, GError **error)
{
    uint64_t backing_size = backing->size;
    g_autofree char *backing_path = g_strdup(backing->path);
    struct block_backend *bb = open_depth(path, readonly, 0, backing, error);
    if (bb && bb->size != backing_size) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    _("Disk image %s has a virtual size of %" PRIu64 " bytes; it must be "
                      "that of %s, %" PRIu64 " bytes"),
                    path, (guint64)bb->size, backing_path, (guint64)backing_size);
        block_backend_close(bb);
        return NULL;
    }
    return bb;
}
