#include "virtqueue.h"

#include <string.h>
#include <glib/gi18n.h>

#include "core/state_stream.h"

/* Ring layout (virtio 1.x, 2.7): descriptor table 16 * size bytes, 16-byte
 * aligned; available ring 6 + 2 * size bytes, 2-byte aligned; used ring
 * 6 + 8 * size bytes, 4-byte aligned. */
#define DESC_SIZE 16

static uint64_t avail_bytes(uint16_t size) { return 6 + 2 * (uint64_t)size; }
static uint64_t used_bytes(uint16_t size) { return 6 + 8 * (uint64_t)size; }

bool virtqueue_start(struct virtqueue *vq, const struct guest_memory *mem)
{
    vq->started = false;
    if (vq->size == 0 || vq->size > VIRTQ_MAX_SIZE || (vq->size & (vq->size - 1)))
        return false;
    if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3))
        return false;
    uint8_t *desc = guest_memory_ptr(mem, vq->desc_gpa, (uint64_t)DESC_SIZE * vq->size);
    void *avail = guest_memory_ptr(mem, vq->avail_gpa, avail_bytes(vq->size));
    void *used = guest_memory_ptr(mem, vq->used_gpa, used_bytes(vq->size));
    if (!desc || !avail || !used)
        return false;
    vq->mem = mem;
    vq->desc = desc;
    vq->avail = avail;
    vq->used = used;
    vq->last_avail = 0;
    vq->used_idx = 0;
    vq->signalled_used = 0;
    vq->signalled_valid = false;
    vq->started = true;
    return true;
}

void virtqueue_stop(struct virtqueue *vq)
{
    vq->started = false;
    vq->desc = NULL;
    vq->avail = NULL;
    vq->used = NULL;
}

/* Guest-shared ring fields: read once, atomically, never cached. */
static uint16_t ring_load16(const uint16_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void ring_store16(uint16_t *p, uint16_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static uint16_t avail_idx(const struct virtqueue *vq) { return ring_load16(&vq->avail[1]); }
static uint16_t avail_flags(const struct virtqueue *vq) { return ring_load16(&vq->avail[0]); }
static uint16_t used_event(const struct virtqueue *vq) { return ring_load16(&vq->avail[2 + vq->size]); }

/* Copy a descriptor out of guest memory (it may change under us). */
static struct virtq_desc load_desc(const uint8_t *table, unsigned i)
{
    struct virtq_desc d;
    memcpy(&d, table + (size_t)i * DESC_SIZE, sizeof(d));
    __atomic_signal_fence(__ATOMIC_SEQ_CST); /* the copy happens here, once */
    return d;
}

/* Add one buffer to the request, checking it (returns false if broken). */
static bool add_buffer(struct virtqueue *vq, struct virtq_elem *elem, const struct virtq_desc *d)
{
    bool writable = d->flags & VIRTQ_DESC_F_WRITE;
    if (!writable && elem->nin > 0)
        return false;               /* readable after writable */
    if (d->len == 0)
        return true;                /* nothing to transfer; harmless */
    if (elem->nout + elem->nin >= VIRTQ_MAX_IOV)
        return false;
    void *p = guest_memory_ptr(vq->mem, d->addr, d->len);
    if (!p)
        return false;               /* outside guest RAM */
    uint64_t *total = writable ? &elem->in_len : &elem->out_len;
    /* len is 32-bit and at most VIRTQ_MAX_IOV of them add up, so a 64-bit
     * total cannot overflow; keep requests below 4 GiB anyway, which every
     * length field of the device protocols assumes. */
    if (*total + d->len > UINT32_MAX)
        return false;
    *total += d->len;
    elem->iov[elem->nout + elem->nin] = (struct iovec){ .iov_base = p, .iov_len = d->len };
    if (writable)
        elem->nin++;
    else
        elem->nout++;
    return true;
}

/* Walk an indirect table: its own index space, no nesting. */
static bool walk_indirect(struct virtqueue *vq, struct virtq_elem *elem, const struct virtq_desc *ind)
{
    if (ind->len == 0 || ind->len % DESC_SIZE != 0 || ind->len / DESC_SIZE > VIRTQ_MAX_IOV)
        return false;
    unsigned n = ind->len / DESC_SIZE;
    const uint8_t *table = guest_memory_ptr(vq->mem, ind->addr, ind->len);
    if (!table)
        return false;
    unsigned i = 0;
    for (unsigned count = 0;; count++) {
        if (count >= n)
            return false;           /* longer than the table: a loop */
        struct virtq_desc d = load_desc(table, i);
        if (d.flags & VIRTQ_DESC_F_INDIRECT)
            return false;           /* indirect in indirect */
        if (!add_buffer(vq, elem, &d))
            return false;
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            return true;
        if (d.next >= n)
            return false;
        i = d.next;
    }
}

enum virtq_pop_result virtqueue_pop(struct virtqueue *vq, struct virtq_elem *elem)
{
    if (!vq->started)
        return VIRTQ_EMPTY;
    uint16_t avail = avail_idx(vq);
    uint16_t pending = (uint16_t)(avail - vq->last_avail);
    if (pending == 0)
        return VIRTQ_EMPTY;
    if (pending > vq->size)
        return VIRTQ_BROKEN;        /* the driver claims more than the ring holds */
    /* Read the ring entry and descriptors only after seeing idx move. */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);

    uint16_t head = ring_load16(&vq->avail[2 + (vq->last_avail & (vq->size - 1))]);
    if (head >= vq->size)
        return VIRTQ_BROKEN;

    elem->head = head;
    elem->nout = elem->nin = 0;
    elem->out_len = elem->in_len = 0;

    unsigned i = head;
    for (unsigned count = 0;; count++) {
        if (count >= vq->size)
            return VIRTQ_BROKEN;    /* chain longer than the ring: a loop */
        struct virtq_desc d = load_desc(vq->desc, i);
        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            /* An indirect descriptor ends the chain and carries no NEXT. */
            if (d.flags & VIRTQ_DESC_F_NEXT)
                return VIRTQ_BROKEN;
            if (!walk_indirect(vq, elem, &d))
                return VIRTQ_BROKEN;
            break;
        }
        if (!add_buffer(vq, elem, &d))
            return VIRTQ_BROKEN;
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            break;
        if (d.next >= vq->size)
            return VIRTQ_BROKEN;
        i = d.next;
    }
    vq->last_avail++;
    return VIRTQ_OK;
}

void virtqueue_push(struct virtqueue *vq, uint16_t head, uint32_t len)
{
    if (!vq->started)
        return;
    uint8_t *ring = (uint8_t *)vq->used + 4;
    uint8_t *e = ring + 8 * (size_t)(vq->used_idx & (vq->size - 1));
    uint32_t id = head;
    __atomic_store_n((uint32_t *)e, id, __ATOMIC_RELAXED);
    __atomic_store_n((uint32_t *)(e + 4), len, __ATOMIC_RELAXED);
    vq->used_idx++;
    /* The entry must be visible before the index that publishes it. */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    ring_store16(&vq->used[1], vq->used_idx);
}

bool virtqueue_should_notify(struct virtqueue *vq)
{
    if (!vq->started)
        return false;
    /* Our used->idx store must be visible before we read the driver's
     * suppression fields, or we could miss its request for an interrupt. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!vq->event_idx)
        return !(avail_flags(vq) & VIRTQ_AVAIL_F_NO_INTERRUPT);

    uint16_t old = vq->signalled_used, new = vq->used_idx;
    bool valid = vq->signalled_valid;
    vq->signalled_used = new;
    vq->signalled_valid = true;
    if (!valid)
        return true;
    /* vring_need_event: did we pass used_event since the last interrupt? */
    uint16_t ev = used_event(vq);
    return (uint16_t)(new - ev - 1) < (uint16_t)(new - old);
}

bool virtqueue_enable_notify(struct virtqueue *vq, bool enable)
{
    if (!vq->started)
        return false;
    uint16_t *used_flags = &vq->used[0];
    if (vq->event_idx) {
        uint16_t *avail_event = (uint16_t *)((uint8_t *)vq->used + 4 + 8 * (size_t)vq->size);
        if (enable)
            ring_store16(avail_event, vq->last_avail);
    } else {
        ring_store16(used_flags, enable ? 0 : VIRTQ_USED_F_NO_NOTIFY);
    }
    if (!enable)
        return false;
    /* Publish the request before looking for buffers that raced with it. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return avail_idx(vq) != vq->last_avail;
}

size_t virtq_elem_copy_from(const struct virtq_elem *elem, size_t off, void *dst, size_t len)
{
    size_t done = 0;
    for (unsigned i = 0; i < elem->nout && done < len; i++) {
        size_t l = elem->iov[i].iov_len;
        if (off >= l) {
            off -= l;
            continue;
        }
        size_t n = MIN(l - off, len - done);
        memcpy((uint8_t *)dst + done, (uint8_t *)elem->iov[i].iov_base + off, n);
        done += n;
        off = 0;
    }
    return done;
}

size_t virtq_elem_copy_to(const struct virtq_elem *elem, size_t off, const void *src, size_t len)
{
    size_t done = 0;
    for (unsigned i = elem->nout; i < elem->nout + elem->nin && done < len; i++) {
        size_t l = elem->iov[i].iov_len;
        if (off >= l) {
            off -= l;
            continue;
        }
        size_t n = MIN(l - off, len - done);
        memcpy((uint8_t *)elem->iov[i].iov_base + off, (const uint8_t *)src + done, n);
        done += n;
        off = 0;
    }
    return done;
}

void virtqueue_save(const struct virtqueue *vq, struct state_out *o)
{
    state_out_u16(o, vq->size);
    state_out_u64(o, vq->desc_gpa);
    state_out_u64(o, vq->avail_gpa);
    state_out_u64(o, vq->used_gpa);
    state_out_bool(o, vq->started);
    state_out_u16(o, vq->last_avail);
    state_out_u16(o, vq->used_idx);
    state_out_u16(o, vq->signalled_used);
    state_out_bool(o, vq->signalled_valid);
}

bool virtqueue_load(struct virtqueue *vq, struct state_in *in, const struct guest_memory *mem,
                    uint16_t max_size, GError **error)
{
    uint16_t size = state_in_u16(in);
    uint64_t desc = state_in_u64(in), avail = state_in_u64(in), used = state_in_u64(in);
    bool started = state_in_bool(in);
    uint16_t last_avail = state_in_u16(in), used_idx = state_in_u16(in);
    uint16_t signalled_used = state_in_u16(in);
    bool signalled_valid = state_in_bool(in);
    if (in->short_read)
        return state_in_invalid(in, error, _("a virtqueue is truncated"));
    if (!size || size > max_size || (size & (size - 1)))
        return state_in_invalid(in, error, _("virtqueue size %u"), size);
    virtqueue_stop(vq);
    vq->size = size;
    vq->desc_gpa = desc;
    vq->avail_gpa = avail;
    vq->used_gpa = used;
    if (!started)
        return true;
    if (!virtqueue_start(vq, mem))
        return state_in_invalid(in, error, _("virtqueue rings outside guest memory or misaligned"));
    uint16_t driver_avail = avail_idx(vq);
    uint16_t driver_used = ring_load16(&vq->used[1]);
    if ((uint16_t)(driver_avail - last_avail) > size || driver_used != used_idx) {
        virtqueue_stop(vq);
        return state_in_invalid(in, error,
                                _("virtqueue indexes (next available %u, used %u) do not fit the rings "
                                  "(available %u, used %u)"),
                                last_avail, used_idx, driver_avail, driver_used);
    }
    vq->last_avail = last_avail;
    vq->used_idx = used_idx;
    vq->signalled_used = signalled_used;
    vq->signalled_valid = signalled_valid;
    return true;
}
