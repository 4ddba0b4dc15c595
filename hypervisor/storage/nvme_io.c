/* NVMe data pointers (PRP entries and chained PRP lists) and the NVM
 * command set: Read, Write, Flush, Write Zeroes and Dataset Management
 * (deallocate) on the one namespace. */
#include "nvme_int.h"

#include <string.h>

#include "core/vm.h"

#define IO_FLUSH        0x00
#define IO_WRITE        0x01
#define IO_READ         0x02
#define IO_WRITE_ZEROES 0x08
#define IO_DSM          0x09

#define DSM_AD          (1u << 2)
#define DSM_RANGE_SIZE  16
#define DSM_MAX_RANGES  256

/* ---- PRPs --------------------------------------------------------------------------- */

static uint16_t add(struct nvme *n, uint64_t gpa, uint64_t len)
{
    return dma_sg_add(&n->sg, vm_memory(n->vm), gpa, len, UINT64_MAX) ? NVME_SUCCESS
                                                                      : NVME_DATA_XFER_ERROR;
}

uint16_t nvme_map_prp(struct nvme *n, uint64_t prp1, uint64_t prp2, uint64_t len)
{
    const uint64_t page = nvme_page_size(n);
    const struct guest_memory *mem = vm_memory(n->vm);
    dma_sg_clear(&n->sg);
    if (len == 0)
        return NVME_SUCCESS;
    /* The first entry may start anywhere dword aligned in a page. */
    if (prp1 & 3)
        return NVME_INVALID_PRP_OFFSET;
    uint64_t first = MIN(len, page - (prp1 & (page - 1)));
    uint16_t st = add(n, prp1, first);
    if (st)
        return st;
    uint64_t rem = len - first;
    if (rem == 0)
        return NVME_SUCCESS;
    if (rem <= page) {
        if (prp2 & (page - 1))
            return NVME_INVALID_PRP_OFFSET;
        return add(n, prp2, rem);
    }
    /* PRP2 points to a list; the last entry of each list page that is
     * not the last one needed points to the next list page. */
    uint64_t list = prp2;
    if (list & 7)
        return NVME_INVALID_PRP_OFFSET;
    uint64_t slots = (page - (list & (page - 1))) / 8;
    uint64_t i = 0;
    /* Every pass adds a page of data or follows a link to a fresh list
     * page (which holds page / 8 entries); len is bounded by the caller. */
    for (unsigned guard = 0; rem > 0 && guard < 2 * (len / page + 2); guard++) {
        uint64_t e;
        if (!guest_memory_read(mem, list + i * 8, &e, sizeof(e)))
            return NVME_DATA_XFER_ERROR;
        e = GUINT64_FROM_LE(e);
        if (i == slots - 1 && rem > page) {
            if (e & (page - 1))
                return NVME_INVALID_PRP_OFFSET;
            list = e;
            slots = page / 8;
            i = 0;
            continue;
        }
        if (e & (page - 1))
            return NVME_INVALID_PRP_OFFSET;
        uint64_t k = MIN(rem, page);
        if ((st = add(n, e, k)))
            return st;
        rem -= k;
        i++;
    }
    return rem ? NVME_DATA_XFER_ERROR : NVME_SUCCESS;
}

static uint16_t map_cmd(struct nvme *n, const struct nvme_cmd *c, uint64_t len)
{
    /* PSDT: PRPs only; SGLS in Identify Controller is 0. */
    if (c->flags & 0xc0)
        return NVME_INVALID_FIELD;
    return nvme_map_prp(n, c->prp1, c->prp2, len);
}

uint16_t nvme_to_guest(struct nvme *n, const struct nvme_cmd *c, const void *buf, size_t len)
{
    uint16_t st = map_cmd(n, c, len);
    if (st)
        return st;
    const uint8_t *p = buf;
    for (int i = 0; i < n->sg.n; i++) {
        memcpy(n->sg.iov[i].iov_base, p, n->sg.iov[i].iov_len);
        p += n->sg.iov[i].iov_len;
    }
    return NVME_SUCCESS;
}

uint16_t nvme_from_guest(struct nvme *n, const struct nvme_cmd *c, void *buf, size_t len)
{
    uint16_t st = map_cmd(n, c, len);
    if (st)
        return st;
    uint8_t *p = buf;
    for (int i = 0; i < n->sg.n; i++) {
        memcpy(p, n->sg.iov[i].iov_base, n->sg.iov[i].iov_len);
        p += n->sg.iov[i].iov_len;
    }
    return NVME_SUCCESS;
}

/* ---- commands ------------------------------------------------------------------------- */

static bool lba_range_ok(const struct nvme *n, uint64_t slba, uint64_t nlb)
{
    return slba < n->nlbas && nlb <= n->nlbas - slba;
}

static uint16_t rw(struct nvme *n, const struct nvme_cmd *c, bool write)
{
    uint64_t slba = (uint64_t)c->cdw11 << 32 | c->cdw10;
    uint64_t nlb = (c->cdw12 & 0xffff) + 1ull;
    if (write && n->readonly)
        return NVME_NS_WRITE_PROTECTED;
    if (!lba_range_ok(n, slba, nlb))
        return NVME_LBA_RANGE;
    uint64_t len = nlb << NVME_LBA_SHIFT;
    if (len > NVME_MAX_XFER)
        return NVME_INVALID_FIELD;
    uint16_t st = map_cmd(n, c, len);
    if (st)
        return st;
    uint64_t off = slba << NVME_LBA_SHIFT;
    if (!write) {
        if (block_backend_preadv(n->bb, n->sg.iov, n->sg.n, off) < 0)
            return NVME_UNRECOVERED_READ;
        n->stats.bytes_read += len;
        n->stats.read_cmds++;
        return NVME_SUCCESS;
    }
    if (block_backend_pwritev(n->bb, n->sg.iov, n->sg.n, off) < 0)
        return NVME_WRITE_FAULT;
    /* Without the volatile write cache, or with Force Unit Access, the
     * data is on the medium when the command completes. */
    if ((!n->feat.write_cache || (c->cdw12 & (1u << 30))) && block_backend_flush(n->bb) < 0)
        return NVME_WRITE_FAULT;
    n->stats.bytes_written += len;
    n->stats.write_cmds++;
    return NVME_SUCCESS;
}

static uint16_t write_zeroes(struct nvme *n, const struct nvme_cmd *c)
{
    uint64_t slba = (uint64_t)c->cdw11 << 32 | c->cdw10;
    uint64_t nlb = (c->cdw12 & 0xffff) + 1ull;
    if (n->readonly)
        return NVME_NS_WRITE_PROTECTED;
    if (!lba_range_ok(n, slba, nlb))
        return NVME_LBA_RANGE;
    if (block_backend_write_zeroes(n->bb, slba << NVME_LBA_SHIFT, nlb << NVME_LBA_SHIFT) < 0)
        return NVME_WRITE_FAULT;
    return NVME_SUCCESS;
}

static uint16_t dataset_management(struct nvme *n, const struct nvme_cmd *c)
{
    unsigned nr = (c->cdw10 & 0xff) + 1;
    if (n->readonly)
        return NVME_NS_WRITE_PROTECTED;
    G_STATIC_ASSERT(DSM_MAX_RANGES * DSM_RANGE_SIZE <= sizeof(n->page));
    uint16_t st = nvme_from_guest(n, c, n->page, (size_t)nr * DSM_RANGE_SIZE);
    if (st)
        return st;
    /* Integral Dataset for Read/Write are hints; only deallocation acts. */
    if (!(c->cdw11 & DSM_AD))
        return NVME_SUCCESS;
    for (unsigned i = 0; i < nr; i++) {
        const uint8_t *r = n->page + i * DSM_RANGE_SIZE;
        uint32_t nlb;
        uint64_t slba;
        memcpy(&nlb, r + 4, 4);
        memcpy(&slba, r + 8, 8);
        nlb = GUINT32_FROM_LE(nlb);
        slba = GUINT64_FROM_LE(slba);
        if (!lba_range_ok(n, slba, nlb))
            return NVME_LBA_RANGE;
    }
    /* Deallocated blocks read as zeroes (DLFEAT): punched holes, or
     * written zeroes where the file system cannot punch them. */
    for (unsigned i = 0; i < nr; i++) {
        const uint8_t *r = n->page + i * DSM_RANGE_SIZE;
        uint32_t nlb;
        uint64_t slba;
        memcpy(&nlb, r + 4, 4);
        memcpy(&slba, r + 8, 8);
        nlb = GUINT32_FROM_LE(nlb);
        slba = GUINT64_FROM_LE(slba);
        uint64_t off = slba << NVME_LBA_SHIFT, len = (uint64_t)nlb << NVME_LBA_SHIFT;
        if (nlb && block_backend_discard(n->bb, off, len) < 0 &&
            block_backend_write_zeroes(n->bb, off, len) < 0)
            return NVME_WRITE_FAULT;
    }
    return NVME_SUCCESS;
}

uint16_t nvme_io_command(struct nvme *n, const struct nvme_cmd *c, uint32_t *dw0)
{
    *dw0 = 0;
    /* No fused operations (FUSES is 0). */
    if (c->flags & 0x03)
        return NVME_INVALID_FIELD;
    if (c->opcode == IO_FLUSH) {
        if (c->nsid != NVME_NSID && c->nsid != 0xffffffffu)
            return NVME_INVALID_NSID;
        return block_backend_flush(n->bb) < 0 ? NVME_WRITE_FAULT : NVME_SUCCESS;
    }
    if (c->nsid != NVME_NSID)
        return NVME_INVALID_NSID;
    switch (c->opcode) {
    case IO_READ: return rw(n, c, false);
    case IO_WRITE: return rw(n, c, true);
    case IO_WRITE_ZEROES: return write_zeroes(n, c);
    case IO_DSM:
        if (!n->discard)    /* ONCS advertises it only then */
            return NVME_INVALID_OPCODE;
        return dataset_management(n, c);
    default:
        return NVME_INVALID_OPCODE;
    }
}
