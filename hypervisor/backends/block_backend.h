/* A block backend: what a disk model reads and writes.  Offsets and lengths
 * are in bytes; callers check them against the size first. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <glib.h>

#include "config/disk_config.h"

struct block_backend;

struct block_backend_ops {
    /* Each returns 0 or a negative errno; short transfers are retried by
     * the backend, so 0 means all bytes moved. */
    int (*preadv)(struct block_backend *bb, const struct iovec *iov, int iovcnt, uint64_t offset);
    int (*pwritev)(struct block_backend *bb, const struct iovec *iov, int iovcnt, uint64_t offset);
    int (*flush)(struct block_backend *bb);
    int (*discard)(struct block_backend *bb, uint64_t offset, uint64_t len);
    int (*write_zeroes)(struct block_backend *bb, uint64_t offset, uint64_t len);
    void (*close)(struct block_backend *bb);
};

struct block_backend {
    const struct block_backend_ops *ops;
    uint64_t size;          /* bytes */
    bool readonly;
    char *path;
};

/* A raw image: regular file or block device.  Opened read-only when
 * readonly, so a read-only disk cannot be written even by a bug of ours. */
struct block_backend *block_raw_open(const char *path, bool readonly, GError **error);

/* The same; a block device is opened with O_EXCL (no other exclusive
 * opener, no mounted file system on it) and refused as "in use" when that
 * fails.  Regular files are opened as block_raw_open() does. */
struct block_backend *block_raw_open_exclusive(const char *path, bool readonly, GError **error);

/* A qcow2 image (version 2 or 3; backing files named with their format,
 * raw or qcow2).  Images oriel-vmm cannot write correctly (encrypted,
 * marked dirty or corrupt, unknown incompatible features, refcounts other
 * than 16 bits) are refused with a message saying why. */
struct block_backend *block_qcow2_open(const char *path, bool readonly, GError **error);

/* A qcow2 image whose backing is given in memory rather than named in its
 * header (the overlays of a synthetic disk): refused when the header names
 * a backing file or the virtual size differs from the backing's.  Takes
 * backing: it is closed with the image, or at once when opening fails. */
struct block_backend *block_qcow2_open_over(const char *path, struct block_backend *backing,
                                            bool readonly, GError **error);

/* A synthetic disk (format=synthetic): the map file at map_path says which
 * device it shows and how each range of it is exposed (backends/
 * block_synthetic.c).  The device is opened exclusively when it is a block
 * device, read-only in trial mode. */
struct block_backend *block_synthetic_open(const char *map_path, bool readonly, GError **error);

/* The image in the format the user named (never guessed from the contents:
 * a guest could write any format's header into a raw disk). */
struct block_backend *block_open(const char *path, enum disk_format format, bool readonly,
                                 GError **error);

static inline int block_backend_preadv(struct block_backend *bb, const struct iovec *iov,
                                       int iovcnt, uint64_t offset)
{ return bb->ops->preadv(bb, iov, iovcnt, offset); }
static inline int block_backend_pwritev(struct block_backend *bb, const struct iovec *iov,
                                        int iovcnt, uint64_t offset)
{ return bb->ops->pwritev(bb, iov, iovcnt, offset); }
static inline int block_backend_flush(struct block_backend *bb) { return bb->ops->flush(bb); }
static inline int block_backend_discard(struct block_backend *bb, uint64_t off, uint64_t len)
{ return bb->ops->discard(bb, off, len); }
static inline int block_backend_write_zeroes(struct block_backend *bb, uint64_t off, uint64_t len)
{ return bb->ops->write_zeroes(bb, off, len); }
void block_backend_close(struct block_backend *bb);
