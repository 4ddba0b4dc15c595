#include "guest_memory.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <glib/gi18n.h>

#define MIB (1024ULL * 1024ULL)

static void add_region(struct guest_memory *m, uint64_t gpa, uint64_t size, uint8_t *hva)
{
    m->region[m->nregions++] = (struct guest_region){ .gpa = gpa, .size = size, .hva = hva };
}

bool guest_memory_alloc(struct guest_memory *m, uint64_t ram_size, GError **error)
{
    memset(m, 0, sizeof(*m));
    if (ram_size < 16 * MIB || ram_size % MIB != 0 || ram_size > (1ULL << 40)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    _("Guest memory must be a whole number of MiB between 16 MiB and 1 TiB"));
        return false;
    }

    /* One mapping for all of RAM keeps host-side bookkeeping trivial; the
     * regions are windows into it.  MAP_NORESERVE: the guest pays for pages
     * only when it touches them. */
    /* Reserve 2 MiB extra and trim it so that RAM starts on a huge-page
     * boundary, as guest-physical 0 does. */
    const uint64_t align = 2 * MIB;
    uint8_t *raw = mmap(NULL, ram_size + align, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    uint8_t *base = raw;
    if (raw != MAP_FAILED) {
        base = (uint8_t *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
        size_t head = (size_t)(base - raw);
        if (head)
            munmap(raw, head);
        if (align - head)
            munmap(base + ram_size, align - head);
    }
    if (base == MAP_FAILED) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                    _("Cannot allocate %" PRIu64 " MiB of guest memory: %s"),
                    (uint64_t)(ram_size / MIB), g_strerror(errno));
        return false;
    }
    madvise(base, ram_size, MADV_MERGEABLE);
    /* Transparent huge pages: fewer nested page-table levels per guest
     * TLB miss, which dominates under nested virtualization. */
    madvise(base, ram_size, MADV_HUGEPAGE);

    m->ram_size = ram_size;
    m->low_size = MIN(ram_size, GUEST_PCI_HOLE_START);
    m->high_size = ram_size - m->low_size;
    add_region(m, 0, m->low_size, base);
    if (m->high_size)
        add_region(m, GUEST_HIGH_RAM_START, m->high_size, base + m->low_size);
    return true;
}

void guest_memory_free(struct guest_memory *m)
{
    if (m->nregions)
        munmap(m->region[0].hva, m->ram_size);
    memset(m, 0, sizeof(*m));
}

void guest_memory_hide(struct guest_memory *m, unsigned index, uint64_t gpa, uint64_t size)
{
    if (index >= GUEST_MEMORY_MAX_HIDDEN)
        return;
    /* Size 0 while the start changes: a lookup in between sees nothing
     * hidden rather than a range nobody set. */
    __atomic_store_n(&m->hidden[index].size, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&m->hidden[index].gpa, gpa, __ATOMIC_SEQ_CST);
    __atomic_store_n(&m->hidden[index].size, size, __ATOMIC_SEQ_CST);
}

static bool touches_hidden(const struct guest_memory *m, uint64_t gpa, uint64_t len)
{
    uint64_t end = gpa + (len ? len : 1);   /* no wrap: inside a region */
    for (unsigned i = 0; i < GUEST_MEMORY_MAX_HIDDEN; i++) {
        uint64_t size = __atomic_load_n(&m->hidden[i].size, __ATOMIC_SEQ_CST);
        uint64_t start = __atomic_load_n(&m->hidden[i].gpa, __ATOMIC_SEQ_CST);
        if (size && gpa < start + size && start < end)
            return true;
    }
    return false;
}

void *guest_memory_ram_ptr(const struct guest_memory *m, uint64_t gpa, uint64_t len)
{
    for (unsigned i = 0; i < m->nregions; i++) {
        const struct guest_region *r = &m->region[i];
        if (gpa < r->gpa)
            continue;
        uint64_t off = gpa - r->gpa;
        /* off <= size and len <= size - off, written so nothing can wrap. */
        if (off > r->size || len > r->size - off)
            continue;
        return r->hva + off;
    }
    return NULL;
}

void *guest_memory_ptr(const struct guest_memory *m, uint64_t gpa, uint64_t len)
{
    void *p = guest_memory_ram_ptr(m, gpa, len);
    return p && !touches_hidden(m, gpa, len) ? p : NULL;
}

bool guest_memory_read(const struct guest_memory *m, uint64_t gpa, void *dst, size_t len)
{
    const void *p = guest_memory_ptr(m, gpa, len);
    if (!p)
        return false;
    memcpy(dst, p, len);
    return true;
}

bool guest_memory_write(const struct guest_memory *m, uint64_t gpa, const void *src, size_t len)
{
    void *p = guest_memory_ptr(m, gpa, len);
    if (!p)
        return false;
    memcpy(p, src, len);
    return true;
}
