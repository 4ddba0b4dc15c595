/* The split-ring walker against well-formed and malformed descriptor
 * chains in real guest memory. */
#include <string.h>
#include <glib.h>

#include "virtio/virtqueue.h"

#define RAM      (16u << 20)
#define QSIZE    8
#define DESC_GPA  0x10000
#define AVAIL_GPA 0x11000
#define USED_GPA  0x12000
#define IND_GPA   0x13000
#define BUF_GPA   0x100000

struct fixture {
    struct guest_memory mem;
    struct virtqueue vq;
    struct virtq_elem *elem;
    uint16_t avail_idx;
};

static void setup(struct fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_assert_true(guest_memory_alloc(&f->mem, RAM, &err));
    memset(&f->vq, 0, sizeof(f->vq));
    f->vq.size = QSIZE;
    f->vq.desc_gpa = DESC_GPA;
    f->vq.avail_gpa = AVAIL_GPA;
    f->vq.used_gpa = USED_GPA;
    g_assert_true(virtqueue_start(&f->vq, &f->mem));
    f->elem = g_new0(struct virtq_elem, 1);
    f->avail_idx = 0;
}

static void teardown(struct fixture *f, gconstpointer data)
{
    g_free(f->elem);
    guest_memory_free(&f->mem);
}

static void put_desc_at(struct fixture *f, uint64_t table, unsigned i,
                        uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    struct virtq_desc d = { addr, len, flags, next };
    g_assert_true(guest_memory_write(&f->mem, table + 16ull * i, &d, sizeof(d)));
}

static void put_desc(struct fixture *f, unsigned i, uint64_t addr, uint32_t len,
                     uint16_t flags, uint16_t next)
{
    put_desc_at(f, DESC_GPA, i, addr, len, flags, next);
}

/* Make head available to the device. */
static void offer(struct fixture *f, uint16_t head)
{
    uint16_t slot = f->avail_idx % QSIZE;
    g_assert_true(guest_memory_write(&f->mem, AVAIL_GPA + 4 + 2 * slot, &head, 2));
    f->avail_idx++;
    g_assert_true(guest_memory_write(&f->mem, AVAIL_GPA + 2, &f->avail_idx, 2));
}

static enum virtq_pop_result pop(struct fixture *f)
{
    return virtqueue_pop(&f->vq, f->elem);
}

static void test_start_checks(struct fixture *f, gconstpointer data)
{
    struct virtqueue vq = { .size = QSIZE, .desc_gpa = DESC_GPA, .avail_gpa = AVAIL_GPA,
                            .used_gpa = USED_GPA };
    g_assert_true(virtqueue_start(&vq, &f->mem));
    /* Ring past the end of RAM. */
    vq.used_gpa = RAM - 8;
    g_assert_false(virtqueue_start(&vq, &f->mem));
    g_assert_false(vq.started);
    vq.used_gpa = 0xfffffffffffffff0ull;
    g_assert_false(virtqueue_start(&vq, &f->mem));
    vq.used_gpa = USED_GPA;
    vq.desc_gpa = 0xc0000000;  /* the PCI hole */
    g_assert_false(virtqueue_start(&vq, &f->mem));
    /* Misaligned rings. */
    vq.desc_gpa = DESC_GPA + 8;
    g_assert_false(virtqueue_start(&vq, &f->mem));
    vq.desc_gpa = DESC_GPA;
    vq.avail_gpa = AVAIL_GPA + 1;
    g_assert_false(virtqueue_start(&vq, &f->mem));
    vq.avail_gpa = AVAIL_GPA;
    vq.used_gpa = USED_GPA + 2;
    g_assert_false(virtqueue_start(&vq, &f->mem));
    vq.used_gpa = USED_GPA;
    /* Sizes: zero, not a power of two, too big. */
    vq.size = 0;
    g_assert_false(virtqueue_start(&vq, &f->mem));
    vq.size = 6;
    g_assert_false(virtqueue_start(&vq, &f->mem));
    vq.size = 2048;
    g_assert_false(virtqueue_start(&vq, &f->mem));
    /* A stopped queue yields nothing. */
    g_assert_cmpint(virtqueue_pop(&vq, f->elem), ==, VIRTQ_EMPTY);
}

static void test_good_chain(struct fixture *f, gconstpointer data)
{
    g_assert_cmpint(pop(f), ==, VIRTQ_EMPTY);
    put_desc(f, 3, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 5);
    put_desc(f, 5, BUF_GPA + 0x1000, 512, VIRTQ_DESC_F_NEXT, 0);
    put_desc(f, 0, BUF_GPA + 0x2000, 1, VIRTQ_DESC_F_WRITE, 0);
    offer(f, 3);
    g_assert_cmpint(pop(f), ==, VIRTQ_OK);
    g_assert_cmpuint(f->elem->head, ==, 3);
    g_assert_cmpuint(f->elem->nout, ==, 2);
    g_assert_cmpuint(f->elem->nin, ==, 1);
    g_assert_cmpuint(f->elem->out_len, ==, 528);
    g_assert_cmpuint(f->elem->in_len, ==, 1);
    g_assert_true(f->elem->iov[1].iov_base == guest_memory_ptr(&f->mem, BUF_GPA + 0x1000, 512));
    g_assert_cmpint(pop(f), ==, VIRTQ_EMPTY);

    /* Copy helpers honour offsets across buffers. */
    uint8_t pattern[528];
    for (unsigned i = 0; i < sizeof(pattern); i++)
        pattern[i] = (uint8_t)i;
    guest_memory_write(&f->mem, BUF_GPA, pattern, 16);
    guest_memory_write(&f->mem, BUF_GPA + 0x1000, pattern + 16, 512);
    uint8_t out[20];
    g_assert_cmpuint(virtq_elem_copy_from(f->elem, 10, out, 20), ==, 20);
    g_assert_cmpmem(out, 20, pattern + 10, 20);
    g_assert_cmpuint(virtq_elem_copy_from(f->elem, 520, out, 20), ==, 8);
    uint8_t st = 0x42;
    g_assert_cmpuint(virtq_elem_copy_to(f->elem, 0, &st, 1), ==, 1);
    g_assert_cmpuint(virtq_elem_copy_to(f->elem, 1, &st, 1), ==, 0);

    /* The used ring gets head and length, index published. */
    virtqueue_push(&f->vq, f->elem->head, 1);
    uint16_t used_idx;
    uint32_t ent[2];
    guest_memory_read(&f->mem, USED_GPA + 2, &used_idx, 2);
    guest_memory_read(&f->mem, USED_GPA + 4, ent, 8);
    g_assert_cmpuint(used_idx, ==, 1);
    g_assert_cmpuint(ent[0], ==, 3);
    g_assert_cmpuint(ent[1], ==, 1);
}

static void expect_broken(struct fixture *f, uint16_t head)
{
    offer(f, head);
    g_assert_cmpint(pop(f), ==, VIRTQ_BROKEN);
}

static void test_address_outside_ram(struct fixture *f, gconstpointer data)
{
    put_desc(f, 0, RAM - 8, 16, 0, 0);
    expect_broken(f, 0);
}

static void test_address_in_hole(struct fixture *f, gconstpointer data)
{
    put_desc(f, 0, 0xfee00000, 4, VIRTQ_DESC_F_WRITE, 0); /* the LAPIC */
    expect_broken(f, 0);
}

static void test_address_wraps(struct fixture *f, gconstpointer data)
{
    put_desc(f, 0, 0xfffffffffffff000ull, 0x2000, 0, 0);
    expect_broken(f, 0);
}

static void test_loop(struct fixture *f, gconstpointer data)
{
    put_desc(f, 0, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
    put_desc(f, 1, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 0);
    expect_broken(f, 0);
}

static void test_self_loop(struct fixture *f, gconstpointer data)
{
    put_desc(f, 4, BUF_GPA, 0, VIRTQ_DESC_F_NEXT, 4);
    expect_broken(f, 4);
}

static void test_next_out_of_range(struct fixture *f, gconstpointer data)
{
    put_desc(f, 0, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, QSIZE);
    expect_broken(f, 0);
}

static void test_head_out_of_range(struct fixture *f, gconstpointer data)
{
    expect_broken(f, 0xffff);
}

static void test_avail_idx_jump(struct fixture *f, gconstpointer data)
{
    put_desc(f, 0, BUF_GPA, 16, 0, 0);
    uint16_t idx = QSIZE + 1;  /* more entries than the ring holds */
    guest_memory_write(&f->mem, AVAIL_GPA + 2, &idx, 2);
    g_assert_cmpint(pop(f), ==, VIRTQ_BROKEN);
}

static void test_zero_length(struct fixture *f, gconstpointer data)
{
    /* Zero-length buffers carry nothing; even one far outside RAM is not
     * dereferenced. */
    put_desc(f, 0, 0xdead00000000ull, 0, VIRTQ_DESC_F_NEXT, 1);
    put_desc(f, 1, BUF_GPA, 0, VIRTQ_DESC_F_WRITE, 0);
    offer(f, 0);
    g_assert_cmpint(pop(f), ==, VIRTQ_OK);
    g_assert_cmpuint(f->elem->nout + f->elem->nin, ==, 0);
    g_assert_cmpuint(f->elem->out_len + f->elem->in_len, ==, 0);
}

static void test_writable_before_readable(struct fixture *f, gconstpointer data)
{
    put_desc(f, 0, BUF_GPA, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    put_desc(f, 1, BUF_GPA, 16, 0, 0);
    expect_broken(f, 0);
}

static void test_huge_total(struct fixture *f, gconstpointer data)
{
    /* Every descriptor names the same 8 MiB: eight of them pass 4 GiB only
     * with a large ring, so use a ring of 1024 and a chain of 600. */
    struct virtqueue vq = { .size = 1024, .desc_gpa = 0x200000, .avail_gpa = 0x300000,
                            .used_gpa = 0x310000 };
    g_assert_true(virtqueue_start(&vq, &f->mem));
    for (unsigned i = 0; i < 600; i++)
        put_desc_at(f, 0x200000, i, 0x800000, 8u << 20, VIRTQ_DESC_F_NEXT, (uint16_t)(i + 1));
    put_desc_at(f, 0x200000, 600, 0x800000, 8u << 20, 0, 0);
    uint16_t head = 0, idx = 1;
    guest_memory_write(&f->mem, 0x300000 + 4, &head, 2);
    guest_memory_write(&f->mem, 0x300000 + 2, &idx, 2);
    g_assert_cmpint(virtqueue_pop(&vq, f->elem), ==, VIRTQ_BROKEN);
}

static void test_indirect_good(struct fixture *f, gconstpointer data)
{
    put_desc_at(f, IND_GPA, 0, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 2);
    put_desc_at(f, IND_GPA, 2, BUF_GPA + 0x100, 100, VIRTQ_DESC_F_NEXT, 1);
    put_desc_at(f, IND_GPA, 1, BUF_GPA + 0x200, 1, VIRTQ_DESC_F_WRITE, 0);
    /* A direct readable descriptor may precede the indirect one. */
    put_desc(f, 6, BUF_GPA + 0x300, 8, VIRTQ_DESC_F_NEXT, 7);
    put_desc(f, 7, IND_GPA, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
    offer(f, 6);
    g_assert_cmpint(pop(f), ==, VIRTQ_OK);
    g_assert_cmpuint(f->elem->nout, ==, 3);
    g_assert_cmpuint(f->elem->nin, ==, 1);
    g_assert_cmpuint(f->elem->out_len, ==, 124);
    g_assert_cmpuint(f->elem->head, ==, 6);
}

static void test_indirect_bad_length(struct fixture *f, gconstpointer data)
{
    put_desc_at(f, IND_GPA, 0, BUF_GPA, 16, 0, 0);
    put_desc(f, 0, IND_GPA, 20, VIRTQ_DESC_F_INDIRECT, 0);
    expect_broken(f, 0);
}

static void test_indirect_zero_length(struct fixture *f, gconstpointer data)
{
    put_desc(f, 0, IND_GPA, 0, VIRTQ_DESC_F_INDIRECT, 0);
    expect_broken(f, 0);
}

static void test_indirect_outside_ram(struct fixture *f, gconstpointer data)
{
    put_desc(f, 0, RAM - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
    expect_broken(f, 0);
}

static void test_indirect_too_long(struct fixture *f, gconstpointer data)
{
    put_desc(f, 0, BUF_GPA, 16 * (VIRTQ_MAX_IOV + 1), VIRTQ_DESC_F_INDIRECT, 0);
    expect_broken(f, 0);
}

static void test_indirect_nested(struct fixture *f, gconstpointer data)
{
    put_desc_at(f, IND_GPA, 0, IND_GPA + 0x100, 16, VIRTQ_DESC_F_INDIRECT, 0);
    put_desc_at(f, IND_GPA + 0x100, 0, BUF_GPA, 16, 0, 0);
    put_desc(f, 0, IND_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
    expect_broken(f, 0);
}

static void test_indirect_with_next(struct fixture *f, gconstpointer data)
{
    put_desc_at(f, IND_GPA, 0, BUF_GPA, 16, 0, 0);
    put_desc(f, 0, IND_GPA, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
    put_desc(f, 1, BUF_GPA, 16, 0, 0);
    expect_broken(f, 0);
}

static void test_indirect_loop(struct fixture *f, gconstpointer data)
{
    put_desc_at(f, IND_GPA, 0, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
    put_desc_at(f, IND_GPA, 1, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 0);
    put_desc(f, 0, IND_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
    expect_broken(f, 0);
}

static void test_indirect_next_out_of_table(struct fixture *f, gconstpointer data)
{
    put_desc_at(f, IND_GPA, 0, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 2);
    put_desc(f, 0, IND_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
    expect_broken(f, 0);
}

static void test_indirect_wrong_order(struct fixture *f, gconstpointer data)
{
    put_desc_at(f, IND_GPA, 0, BUF_GPA, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    put_desc_at(f, IND_GPA, 1, BUF_GPA, 16, 0, 0);
    put_desc(f, 0, IND_GPA, 32, VIRTQ_DESC_F_INDIRECT, 0);
    expect_broken(f, 0);
}

static void test_interrupt_suppression(struct fixture *f, gconstpointer data)
{
    uint16_t flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    virtqueue_push(&f->vq, 0, 0);
    g_assert_true(virtqueue_should_notify(&f->vq));
    guest_memory_write(&f->mem, AVAIL_GPA, &flags, 2);
    virtqueue_push(&f->vq, 0, 0);
    g_assert_false(virtqueue_should_notify(&f->vq));

    /* EVENT_IDX: interrupt only when used_idx passes used_event. */
    f->vq.event_idx = true;
    uint16_t used_event = 4;  /* "interrupt me after entry 4 is used" */
    guest_memory_write(&f->mem, AVAIL_GPA + 4 + 2 * QSIZE, &used_event, 2);
    virtqueue_push(&f->vq, 0, 0); /* used_idx 3 */
    g_assert_true(virtqueue_should_notify(&f->vq)); /* first one always */
    virtqueue_push(&f->vq, 0, 0); /* 4 */
    g_assert_false(virtqueue_should_notify(&f->vq));
    virtqueue_push(&f->vq, 0, 0); /* 5: passed 4 */
    g_assert_true(virtqueue_should_notify(&f->vq));
    virtqueue_push(&f->vq, 0, 0); /* 6 */
    g_assert_false(virtqueue_should_notify(&f->vq));

    /* enable_notify writes avail_event and reports racing buffers. */
    g_assert_false(virtqueue_enable_notify(&f->vq, true));
    put_desc(f, 0, BUF_GPA, 16, 0, 0);
    offer(f, 0);
    g_assert_true(virtqueue_enable_notify(&f->vq, true));
    uint16_t avail_event;
    guest_memory_read(&f->mem, USED_GPA + 4 + 8 * QSIZE, &avail_event, 2);
    g_assert_cmpuint(avail_event, ==, 0);
    g_assert_cmpint(pop(f), ==, VIRTQ_OK);
    g_assert_false(virtqueue_enable_notify(&f->vq, true));
    guest_memory_read(&f->mem, USED_GPA + 4 + 8 * QSIZE, &avail_event, 2);
    g_assert_cmpuint(avail_event, ==, 1);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add("/virtqueue/" name, struct fixture, NULL, setup, fn, teardown)
    ADD("start-checks", test_start_checks);
    ADD("good-chain", test_good_chain);
    ADD("address-outside-ram", test_address_outside_ram);
    ADD("address-in-pci-hole", test_address_in_hole);
    ADD("address-wraps", test_address_wraps);
    ADD("loop", test_loop);
    ADD("self-loop", test_self_loop);
    ADD("next-out-of-range", test_next_out_of_range);
    ADD("head-out-of-range", test_head_out_of_range);
    ADD("avail-idx-jump", test_avail_idx_jump);
    ADD("zero-length", test_zero_length);
    ADD("writable-before-readable", test_writable_before_readable);
    ADD("huge-total-length", test_huge_total);
    ADD("indirect-good", test_indirect_good);
    ADD("indirect-bad-length", test_indirect_bad_length);
    ADD("indirect-zero-length", test_indirect_zero_length);
    ADD("indirect-outside-ram", test_indirect_outside_ram);
    ADD("indirect-too-long", test_indirect_too_long);
    ADD("indirect-nested", test_indirect_nested);
    ADD("indirect-with-next", test_indirect_with_next);
    ADD("indirect-loop", test_indirect_loop);
    ADD("indirect-next-out-of-table", test_indirect_next_out_of_table);
    ADD("indirect-writable-before-readable", test_indirect_wrong_order);
    ADD("interrupt-suppression", test_interrupt_suppression);
    return g_test_run();
}
