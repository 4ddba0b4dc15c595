/* virtio-blk request handling, separate from the transport so it can be
 * driven directly (unit tests, fuzzing). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "backends/block_backend.h"
#include "config/disk_config.h"
#include "virtqueue.h"

#define VIRTIO_BLK_F_SIZE_MAX     1
#define VIRTIO_BLK_F_SEG_MAX      2
#define VIRTIO_BLK_F_RO           5
#define VIRTIO_BLK_F_BLK_SIZE     6
#define VIRTIO_BLK_F_FLUSH        9
#define VIRTIO_BLK_F_DISCARD      13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

#define VIRTIO_BLK_T_IN           0
#define VIRTIO_BLK_T_OUT          1
#define VIRTIO_BLK_T_FLUSH        4
#define VIRTIO_BLK_T_GET_ID       8
#define VIRTIO_BLK_T_DISCARD      11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

#define VIRTIO_BLK_S_OK      0
#define VIRTIO_BLK_S_IOERR   1
#define VIRTIO_BLK_S_UNSUPP  2

#define VIRTIO_BLK_SECTOR_SIZE 512
#define VIRTIO_BLK_ID_BYTES    20
#define VIRTIO_BLK_MAX_DISCARD_SEG 32

struct virtio_blk_disk {
    struct block_backend *bb;
    bool readonly;
    bool discard;
    char serial[VIRTIO_BLK_ID_BYTES];   /* zero-padded, not terminated */
};

/* Carry out one request; returns the number of bytes written into the
 * request's device-writable buffers (data and status), for the used ring.
 * A request without room for the status byte, or whose header is short,
 * gets nothing written and 0 returned. */
uint32_t virtio_blk_handle_request(const struct virtio_blk_disk *disk,
                                   const struct virtq_elem *elem);
