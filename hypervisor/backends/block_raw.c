#include "block_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

struct block_raw {
    struct block_backend bb;
    int fd;
    bool blockdev;
};

static struct block_raw *raw(struct block_backend *bb)
{
    return (struct block_raw *)bb;
}

/* Move the whole vector, continuing after short transfers.  Reading past
 * the end of a file yields zeros (an image whose size is not a multiple of
 * the sector size still reads its last sector). */
static int transfer(struct block_raw *r, const struct iovec *iov, int iovcnt,
                    uint64_t offset, bool write)
{
    struct iovec local[64];
    struct iovec *v = iovcnt <= 64 ? local : g_new(struct iovec, iovcnt);
    memcpy(v, iov, sizeof(*v) * (size_t)iovcnt);
    int ret = 0;
    int i = 0;
    while (i < iovcnt) {
        if (v[i].iov_len == 0) {
            i++;
            continue;
        }
        int cnt = MIN(iovcnt - i, IOV_MAX);
        ssize_t n = write ? pwritev(r->fd, v + i, cnt, (off_t)offset)
                          : preadv(r->fd, v + i, cnt, (off_t)offset);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            ret = -errno;
            break;
        }
        if (n == 0) {
            if (write) {
                ret = -EIO;
                break;
            }
            for (; i < iovcnt; i++)
                memset(v[i].iov_base, 0, v[i].iov_len);
            break;
        }
        offset += (uint64_t)n;
        size_t left = (size_t)n;
        while (left && i < iovcnt) {
            size_t take = MIN(left, v[i].iov_len);
            v[i].iov_base = (uint8_t *)v[i].iov_base + take;
            v[i].iov_len -= take;
            left -= take;
            if (v[i].iov_len == 0)
                i++;
        }
    }
    if (v != local)
        g_free(v);
    return ret;
}

static int raw_preadv(struct block_backend *bb, const struct iovec *iov, int iovcnt, uint64_t offset)
{
    return transfer(raw(bb), iov, iovcnt, offset, false);
}

static int raw_pwritev(struct block_backend *bb, const struct iovec *iov, int iovcnt, uint64_t offset)
{
    if (bb->readonly)
        return -EROFS;
    return transfer(raw(bb), iov, iovcnt, offset, true);
}

static int raw_flush(struct block_backend *bb)
{
    return fdatasync(raw(bb)->fd) == 0 ? 0 : -errno;
}

static int raw_discard(struct block_backend *bb, uint64_t offset, uint64_t len)
{
    struct block_raw *r = raw(bb);
    if (bb->readonly)
        return -EROFS;
    if (r->blockdev) {
        uint64_t range[2] = { offset, len };
        return ioctl(r->fd, BLKDISCARD, range) == 0 ? 0 : -errno;
    }
    if (fallocate(r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)len) == 0)
        return 0;
    return -errno;
}

static int write_zero_buffers(struct block_raw *r, uint64_t offset, uint64_t len)
{
    static const uint8_t zeros[65536];
    while (len) {
        size_t n = (size_t)MIN(len, sizeof(zeros));
        struct iovec v = { (void *)zeros, n };
        int ret = transfer(r, &v, 1, offset, true);
        if (ret)
            return ret;
        offset += n;
        len -= n;
    }
    return 0;
}

static int raw_write_zeroes(struct block_backend *bb, uint64_t offset, uint64_t len)
{
    struct block_raw *r = raw(bb);
    if (bb->readonly)
        return -EROFS;
    if (r->blockdev) {
        uint64_t range[2] = { offset, len };
        if (ioctl(r->fd, BLKZEROOUT, range) == 0)
            return 0;
    } else if (fallocate(r->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
                         (off_t)offset, (off_t)len) == 0) {
        return 0;
    }
    return write_zero_buffers(r, offset, len);
}

static void raw_close(struct block_backend *bb)
{
    struct block_raw *r = raw(bb);
    close(r->fd);
    g_free(bb->path);
    g_free(r);
}

static const struct block_backend_ops raw_ops = {
    .preadv = raw_preadv,
    .pwritev = raw_pwritev,
    .flush = raw_flush,
    .discard = raw_discard,
    .write_zeroes = raw_write_zeroes,
    .close = raw_close,
};

static struct block_backend *raw_open(const char *path, bool readonly, bool exclusive,
                                      GError **error)
{
    int flags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
    struct stat st;
    /* O_EXCL without O_CREAT means "exclusive" only for block devices. */
    if (exclusive && stat(path, &st) == 0 && S_ISBLK(st.st_mode))
        flags |= O_EXCL;
    int fd = open(path, flags);
    if (fd < 0) {
        int e = errno;
        if (e == EBUSY && (flags & O_EXCL))
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
                        _("Disk %s is in use (a file system on it is mounted, or another "
                          "program holds it)"), path);
        else
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                        _("Cannot open disk image %s: %s"), path, g_strerror(e));
        return NULL;
    }
    uint64_t size = 0;
    bool blockdev = false;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                    _("Cannot examine disk image %s: %s"), path, g_strerror(e));
        return NULL;
    }
    if (exclusive && S_ISBLK(st.st_mode) && !(flags & O_EXCL)) {
        /* Replaced by a block device between stat and open. */
        close(fd);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
                    _("Disk %s changed while it was being opened"), path);
        return NULL;
    }
    if (S_ISBLK(st.st_mode)) {
        blockdev = true;
        if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
            int e = errno;
            close(fd);
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                        _("Cannot read the size of block device %s: %s"), path, g_strerror(e));
            return NULL;
        }
    } else if (S_ISREG(st.st_mode)) {
        size = (uint64_t)st.st_size;
    } else {
        close(fd);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    _("Disk image %s is neither a regular file nor a block device"), path);
        return NULL;
    }
    struct block_raw *r = g_new0(struct block_raw, 1);
    r->fd = fd;
    r->blockdev = blockdev;
    r->bb.ops = &raw_ops;
    r->bb.size = size;
    r->bb.readonly = readonly;
    r->bb.path = g_strdup(path);
    return &r->bb;
}

struct block_backend *block_raw_open(const char *path, bool readonly, GError **error)
{
    return raw_open(path, readonly, false, error);
}

struct block_backend *block_raw_open_exclusive(const char *path, bool readonly, GError **error)
{
    return raw_open(path, readonly, true, error);
}
