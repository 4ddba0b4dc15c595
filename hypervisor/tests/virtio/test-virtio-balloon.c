/* virtio-balloon request parsing: inflate page-frame lists (range checks,
 * merging, hidden RAM, split buffers) and statistics buffers. */
#include <string.h>
#include <glib.h>

#include "virtio/virtio_balloon.h"

#define RAM (32u << 20)

struct ranges {
    GArray *r;      /* pairs of (hva, len) */
};

static void record(void *opaque, void *hva, size_t len)
{
    struct ranges *rs = opaque;
    uintptr_t pair[2] = { (uintptr_t)hva, len };
    g_array_append_vals(rs->r, pair, 2);
}

/* An element whose readable part is data, cut into pieces at cuts. */
static void make_elem(struct virtq_elem *e, uint8_t *data, size_t len, const size_t *cuts, unsigned ncuts)
{
    memset(e, 0, sizeof(*e));
    size_t at = 0;
    for (unsigned i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        e->iov[e->nout++] = (struct iovec){ data + at, end - at };
        at = end;
    }
    e->out_len = len;
}

static void test_inflate(void)
{
    struct guest_memory mem;
    g_assert_true(guest_memory_alloc(&mem, RAM, NULL));
    uint8_t *base = guest_memory_ptr(&mem, 0, RAM);
    uint32_t pfns[] = {
        GUINT32_TO_LE(0x200), GUINT32_TO_LE(0x201), GUINT32_TO_LE(0x202),  /* one run */
        GUINT32_TO_LE(0x400),                                           /* another */
        GUINT32_TO_LE(0x10),                                            /* below 1 MiB */
        GUINT32_TO_LE(RAM >> 12),                                       /* past RAM */
        GUINT32_TO_LE(0xffffffff),
        GUINT32_TO_LE(0x401),
    };
    uint8_t buf[sizeof(pfns) + 3];
    memcpy(buf, pfns, sizeof(pfns));
    memset(buf + sizeof(pfns), 0x42, 3);   /* a partial PFN at the end */
    /* Cut inside PFNs: the parser must not care where buffers split. */
    size_t cuts[] = { 1, 6, 13 };
    struct virtq_elem *e = g_new0(struct virtq_elem, 1);
    make_elem(e, buf, sizeof(buf), cuts, G_N_ELEMENTS(cuts));
    struct ranges rs = { g_array_new(FALSE, FALSE, sizeof(uintptr_t)) };
    g_assert_cmpuint(virtio_balloon_inflate(e, &mem, record, &rs), ==, 5);
    g_assert_cmpuint(rs.r->len, ==, 4);
    uintptr_t *r = (uintptr_t *)(void *)rs.r->data;
    g_assert_true(r[0] == (uintptr_t)(base + 0x200000));
    g_assert_cmpuint(r[1], ==, 3 * 4096);
    g_assert_true(r[2] == (uintptr_t)(base + 0x400000));
    g_assert_cmpuint(r[3], ==, 2 * 4096);

    /* Hidden RAM (SMRAM) is not the guest's to give. */
    g_array_set_size(rs.r, 0);
    guest_memory_hide(&mem, 0, 0x400000, 0x1000);
    make_elem(e, buf, sizeof(buf), NULL, 0);
    g_assert_cmpuint(virtio_balloon_inflate(e, &mem, record, &rs), ==, 4);
    guest_memory_hide(&mem, 0, 0, 0);

    /* Nothing readable: nothing done. */
    g_array_set_size(rs.r, 0);
    memset(e, 0, sizeof(*e));
    g_assert_cmpuint(virtio_balloon_inflate(e, &mem, record, &rs), ==, 0);
    g_assert_cmpuint(rs.r->len, ==, 0);
    g_array_unref(rs.r);
    g_free(e);
    guest_memory_free(&mem);
}

static void put_stat(uint8_t *p, uint16_t tag, uint64_t v)
{
    p[0] = (uint8_t)tag;
    p[1] = (uint8_t)(tag >> 8);
    for (int i = 0; i < 8; i++)
        p[2 + i] = (uint8_t)(v >> (8 * i));
}

static void test_stats(void)
{
    uint8_t buf[40];
    put_stat(buf, VIRTIO_BALLOON_S_MEMFREE, 123456789012ull);
    put_stat(buf + 10, 0x1234, 5);                 /* unknown: ignored */
    put_stat(buf + 20, VIRTIO_BALLOON_S_MINFLT, 77);
    put_stat(buf + 30, VIRTIO_BALLOON_S_MEMFREE, 42);   /* the last one counts */
    struct virtq_elem *e = g_new0(struct virtq_elem, 1);
    size_t cuts[] = { 3, 17 };
    make_elem(e, buf, sizeof(buf), cuts, G_N_ELEMENTS(cuts));
    struct virtio_balloon_stats st;
    memset(&st, 0xff, sizeof(st));
    g_assert_true(virtio_balloon_parse_stats(e, &st));
    g_assert_cmphex(st.present, ==, (1u << VIRTIO_BALLOON_S_MEMFREE) | (1u << VIRTIO_BALLOON_S_MINFLT));
    g_assert_cmpuint(st.value[VIRTIO_BALLOON_S_MEMFREE], ==, 42);
    g_assert_cmpuint(st.value[VIRTIO_BALLOON_S_MINFLT], ==, 77);
    g_assert_cmpuint(st.value[VIRTIO_BALLOON_S_SWAP_IN], ==, 0);

    /* Not whole entries, or too many: refused, stats kept. */
    struct virtio_balloon_stats before = st;
    make_elem(e, buf, 25, NULL, 0);
    g_assert_false(virtio_balloon_parse_stats(e, &st));
    g_assert_true(memcmp(&st, &before, sizeof(st)) == 0);
    static uint8_t big[65 * 10];
    make_elem(e, big, sizeof(big), NULL, 0);
    g_assert_false(virtio_balloon_parse_stats(e, &st));
    /* An empty buffer is no statistics at all. */
    make_elem(e, buf, 0, NULL, 0);
    g_assert_true(virtio_balloon_parse_stats(e, &st));
    g_assert_cmphex(st.present, ==, 0);
    g_free(e);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-balloon/inflate", test_inflate);
    g_test_add_func("/virtio-balloon/stats", test_stats);
    return g_test_run();
}
