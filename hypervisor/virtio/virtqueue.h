/* The split virtqueue of virtio 1.x, device side: taking descriptor chains
 * from the available ring and returning them on the used ring.
 *
 * Every value read from guest memory is untrusted: ring addresses, indexes,
 * descriptor addresses, lengths and flags are all checked, a chain's length
 * is bounded (which also catches loops), and each descriptor is copied out
 * of guest memory once before it is looked at, so a guest changing it
 * concurrently cannot make us use a value we did not check.  A violation
 * makes virtqueue_pop() return VIRTQ_BROKEN; the transport then marks the
 * device DEVICE_NEEDS_RESET and stops using the queue. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <glib.h>

#include "core/guest_memory.h"

#define VIRTQ_DESC_F_NEXT      1
#define VIRTQ_DESC_F_WRITE     2
#define VIRTQ_DESC_F_INDIRECT  4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY     1

#define VIRTQ_MAX_SIZE 1024
/* Upper bound on the buffers of one request (direct chain or indirect
 * table). */
#define VIRTQ_MAX_IOV  1024

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

/* One request: device-readable buffers in iov[0 .. nout), device-writable
 * ones in iov[nout .. nout + nin). */
struct virtq_elem {
    uint16_t head;
    unsigned nout, nin;
    uint64_t out_len, in_len;   /* total bytes readable / writable */
    struct iovec iov[VIRTQ_MAX_IOV];
};

struct virtqueue {
    const struct guest_memory *mem;
    uint16_t size;              /* number of entries, power of two */
    bool event_idx;             /* VIRTIO_F_EVENT_IDX negotiated */
    uint64_t desc_gpa, avail_gpa, used_gpa;

    /* Set up by virtqueue_start(). */
    bool started;
    uint8_t *desc;              /* host view of the descriptor table */
    uint16_t *avail;            /* flags, idx, ring[size], used_event */
    uint16_t *used;             /* flags, idx, then {u32 id, u32 len}[size], avail_event */
    uint16_t last_avail;        /* next available entry we will take */
    uint16_t used_idx;          /* our copy of used->idx */
    uint16_t signalled_used;    /* used_idx at the last interrupt */
    bool signalled_valid;
};

enum virtq_pop_result {
    VIRTQ_EMPTY,    /* nothing available */
    VIRTQ_OK,       /* elem holds a request */
    VIRTQ_BROKEN,   /* the driver broke the protocol; stop using the queue */
};

/* Prepare vq for use: check that the three rings for vq->size entries lie
 * in guest RAM with the alignment the spec demands.  Returns false (and
 * leaves the queue stopped) when they do not. */
bool virtqueue_start(struct virtqueue *vq, const struct guest_memory *mem);
void virtqueue_stop(struct virtqueue *vq);

enum virtq_pop_result virtqueue_pop(struct virtqueue *vq, struct virtq_elem *elem);

/* Put a request back on the used ring with len bytes written. */
void virtqueue_push(struct virtqueue *vq, uint16_t head, uint32_t len);

/* After pushing: whether the driver wants an interrupt now (honours
 * VIRTQ_AVAIL_F_NO_INTERRUPT or, with EVENT_IDX, used_event). */
bool virtqueue_should_notify(struct virtqueue *vq);

/* Ask for (or stop asking for) notifications of new buffers; with EVENT_IDX
 * this writes avail_event.  Returns true if buffers arrived meanwhile. */
bool virtqueue_enable_notify(struct virtqueue *vq, bool enable);

/* VM state: the queue's layout and indexes.  The load checks the layout
 * as virtqueue_start() does and the indexes against the rings in guest
 * memory (loaded before): no more than a ring's worth of buffers pending,
 * our used index the one the driver sees. */
struct state_out;
struct state_in;
void virtqueue_save(const struct virtqueue *vq, struct state_out *out);
bool virtqueue_load(struct virtqueue *vq, struct state_in *in, const struct guest_memory *mem,
                    uint16_t max_size, GError **error);

/* Copy between a request's buffers and a flat host buffer, starting at
 * byte offset off of the readable (from) or writable (to) part.  Return the
 * number of bytes copied. */
size_t virtq_elem_copy_from(const struct virtq_elem *elem, size_t off, void *dst, size_t len);
size_t virtq_elem_copy_to(const struct virtq_elem *elem, size_t off, const void *src, size_t len);
