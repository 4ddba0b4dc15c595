/* Every request a device model makes of an image goes through here, to be
 * counted (and timed) for query-blockstats; growing an image too. */
#include "block_backend.h"

#include <errno.h>
#include <time.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void add(uint64_t *counter, uint64_t v)
{
    __atomic_fetch_add(counter, v, __ATOMIC_RELAXED);
}

static uint64_t iov_bytes(const struct iovec *iov, int iovcnt)
{
    uint64_t n = 0;
    for (int i = 0; i < iovcnt; i++)
        n += iov[i].iov_len;
    return n;
}

int block_backend_preadv(struct block_backend *bb, const struct iovec *iov, int iovcnt,
                         uint64_t offset)
{
    uint64_t t = now_ns();
    int ret = bb->ops->preadv(bb, iov, iovcnt, offset);
    struct block_stats *s = &bb->stats;
    add(&s->rd_ops, 1);
    add(&s->rd_ns, now_ns() - t);
    if (ret < 0)
        add(&s->rd_failed, 1);
    else
        add(&s->rd_bytes, iov_bytes(iov, iovcnt));
    return ret;
}

int block_backend_pwritev(struct block_backend *bb, const struct iovec *iov, int iovcnt,
                          uint64_t offset)
{
    uint64_t t = now_ns();
    int ret = bb->ops->pwritev(bb, iov, iovcnt, offset);
    struct block_stats *s = &bb->stats;
    add(&s->wr_ops, 1);
    add(&s->wr_ns, now_ns() - t);
    if (ret < 0)
        add(&s->wr_failed, 1);
    else
        add(&s->wr_bytes, iov_bytes(iov, iovcnt));
    return ret;
}

int block_backend_flush(struct block_backend *bb)
{
    uint64_t t = now_ns();
    int ret = bb->ops->flush(bb);
    add(&bb->stats.flush_ops, 1);
    add(&bb->stats.flush_ns, now_ns() - t);
    if (ret < 0)
        add(&bb->stats.flush_failed, 1);
    return ret;
}

static int count_discard(struct block_backend *bb, int ret, uint64_t len)
{
    add(&bb->stats.discard_ops, 1);
    if (ret < 0)
        add(&bb->stats.discard_failed, 1);
    else
        add(&bb->stats.discard_bytes, len);
    return ret;
}

int block_backend_discard(struct block_backend *bb, uint64_t off, uint64_t len)
{
    return count_discard(bb, bb->ops->discard(bb, off, len), len);
}

int block_backend_write_zeroes(struct block_backend *bb, uint64_t off, uint64_t len)
{
    /* Zeroing is a write as the guest sees it (QEMU counts it so too). */
    uint64_t t = now_ns();
    int ret = bb->ops->write_zeroes(bb, off, len);
    struct block_stats *s = &bb->stats;
    add(&s->wr_ops, 1);
    add(&s->wr_ns, now_ns() - t);
    if (ret < 0)
        add(&s->wr_failed, 1);
    else
        add(&s->wr_bytes, len);
    return ret;
}

void block_backend_get_stats(const struct block_backend *bb, struct block_stats *out)
{
    const uint64_t *in = (const uint64_t *)&bb->stats;
    uint64_t *o = (uint64_t *)out;
    for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
        o[i] = __atomic_load_n(&in[i], __ATOMIC_RELAXED);
}

int block_backend_grow(struct block_backend *bb, uint64_t size)
{
    if (size % 512 || size <= bb->size)
        return -EINVAL;
    if (bb->readonly)
        return -EROFS;
    if (!bb->ops->grow)
        return -ENOTSUP;
    int ret = bb->ops->grow(bb, size);
    if (ret == 0)
        __atomic_store_n(&bb->size, size, __ATOMIC_RELEASE);
    return ret;
}
