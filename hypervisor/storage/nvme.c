/* NVMe: the PCI function, the controller registers and doorbells, the
 * submission and completion queues in guest memory, interrupts and the
 * controller's VM state.  The commands themselves are in nvme_admin.c and
 * nvme_io.c. */
#include "nvme.h"
#include "nvme_int.h"

#include <inttypes.h>
#include <string.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

#include "core/vm.h"
#include "core/state_stream.h"

#define BAR0_SIZE   0x4000
#define MSIX_BAR    4
#define NVME_VERSION 0x00010400u

/* CAP: MQES, contiguous queues required, timeout 10 s (units of 500 ms),
 * doorbell stride 4 bytes, the NVM command set, pages 4 KiB to 64 KiB. */
#define CAP_VALUE ((uint64_t)(NVME_MAX_QSIZE - 1) | 1ull << 16 | 20ull << 24 | \
                   1ull << 37 | (uint64_t)NVME_MPS_MAX << 52)

/* ---- interrupts ------------------------------------------------------------------ */

/* Pin-based interrupts are a level: asserted while an enabled completion
 * queue holds entries the host has not consumed (and INTMS allows). */
void nvme_update_intx(struct nvme *n)
{
    bool level = false;
    if (!pci_msix_enabled(&n->msix) && !(n->intms & 1)) {
        for (unsigned i = 0; i < NVME_NQ && !level; i++) {
            const struct nvme_cq *cq = &n->cq[i];
            level = cq->live && cq->ien && cq->head != cq->tail;
        }
    }
    if (level != n->intx) {
        n->intx = level;
        pci_set_irq(&n->pci, level);
    }
}

static void cq_interrupt(struct nvme *n, struct nvme_cq *cq)
{
    if (!cq->ien)
        return;
    if (pci_msix_enabled(&n->msix))
        pci_msix_notify(&n->msix, cq->vector);
    else
        nvme_update_intx(n);
}

/* ---- queues ----------------------------------------------------------------------- */

static void fatal(struct nvme *n)
{
    n->csts |= NVME_CSTS_CFS;
}

static bool cq_full(const struct nvme_cq *cq)
{
    return (cq->tail + 1) % cq->size == cq->head;
}

/* Post a completion entry; the caller made sure there is room. */
static void post_completion(struct nvme *n, unsigned sqid, uint16_t cid, uint16_t status,
                            uint32_t dw0)
{
    struct nvme_sq *sq = &n->sq[sqid];
    struct nvme_cq *cq = &n->cq[sq->cqid];
    uint32_t e[4] = {
        GUINT32_TO_LE(dw0),
        0,
        GUINT32_TO_LE(sq->head | (uint32_t)sqid << 16),
        GUINT32_TO_LE(cid | (uint32_t)cq->phase << 16 | (uint32_t)(status & 0x7fff) << 17),
    };
    if (!guest_memory_write(vm_memory(n->vm), cq->base + (uint64_t)cq->tail * NVME_CQE_SIZE,
                            e, sizeof(e))) {
        fatal(n);
        return;
    }
    if (++cq->tail == cq->size) {
        cq->tail = 0;
        cq->phase = !cq->phase;
    }
}

static void cmd_from_le(struct nvme_cmd *c)
{
    c->cid = GUINT16_FROM_LE(c->cid);
    c->nsid = GUINT32_FROM_LE(c->nsid);
    c->mptr = GUINT64_FROM_LE(c->mptr);
    c->prp1 = GUINT64_FROM_LE(c->prp1);
    c->prp2 = GUINT64_FROM_LE(c->prp2);
    uint32_t *dw[] = { &c->cdw10, &c->cdw11, &c->cdw12, &c->cdw13, &c->cdw14, &c->cdw15 };
    for (unsigned i = 0; i < G_N_ELEMENTS(dw); i++)
        *dw[i] = GUINT32_FROM_LE(*dw[i]);
}

/* Run what the host submitted on queue qid, while its completion queue has
 * room; at most one queue's worth per call. */
static void process_sq(struct nvme *n, unsigned qid)
{
    struct nvme_sq *sq = &n->sq[qid];
    bool posted = false;
    for (uint32_t i = 0; i < NVME_MAX_QSIZE && sq->live && sq->head != sq->tail; i++) {
        if (n->csts & NVME_CSTS_CFS)
            break;
        struct nvme_cq *cq = &n->cq[sq->cqid];
        if (!cq->live || cq_full(cq))
            break;
        struct nvme_cmd c;
        if (!guest_memory_read(vm_memory(n->vm), sq->base + (uint64_t)sq->head * NVME_SQE_SIZE,
                               &c, sizeof(c))) {
            fatal(n);
            break;
        }
        cmd_from_le(&c);
        sq->head = (sq->head + 1) % sq->size;
        uint32_t dw0 = 0;
        uint16_t status = qid == 0 ? nvme_admin_command(n, &c, &dw0)
                                   : nvme_io_command(n, &c, &dw0);
        /* Held commands (event requests) complete later, if ever. */
        if (status == NVME_HELD || !sq->live)
            continue;
        post_completion(n, qid, c.cid, status, dw0);
        posted = true;
    }
    if (posted && sq->live)
        cq_interrupt(n, &n->cq[sq->cqid]);
}

/* Held Asynchronous Event Requests are never answered (the controller
 * reports no events); a controller reset drops them. */

void nvme_sq_delete(struct nvme *n, unsigned qid)
{
    struct nvme_sq *sq = &n->sq[qid];
    if (!sq->live)
        return;
    n->cq[sq->cqid].nsq--;
    memset(sq, 0, sizeof(*sq));
}

void nvme_cq_delete(struct nvme *n, unsigned qid)
{
    memset(&n->cq[qid], 0, sizeof(n->cq[qid]));
    nvme_update_intx(n);
}

/* ---- controller enable, reset and shutdown ---------------------------------------- */

/* Controller reset (CC.EN 1 -> 0): queues, held commands and features go,
 * the admin queue registers stay. */
static void controller_reset(struct nvme *n)
{
    memset(n->sq, 0, sizeof(n->sq));
    memset(n->cq, 0, sizeof(n->cq));
    n->naer = 0;
    n->csts = 0;
    n->cc = 0;
    n->intms = 0;
    n->feat = (struct nvme_features){
        .temp_over = 0x157,             /* 70 C */
        .write_cache = true,
        .nsqa = NVME_MAX_IOQ - 1,
        .ncqa = NVME_MAX_IOQ - 1,
    };
    nvme_update_intx(n);
}

static void controller_enable(struct nvme *n)
{
    uint32_t asqs = (n->aqa & 0xfff) + 1, acqs = ((n->aqa >> 16) & 0xfff) + 1;
    uint64_t page = nvme_page_size(n);
    const struct guest_memory *mem = vm_memory(n->vm);
    if (NVME_CC_MPS(n->cc) > NVME_MPS_MAX || NVME_CC_CSS(n->cc) != 0 ||
        NVME_CC_AMS(n->cc) != 0 || asqs < 2 || acqs < 2 ||
        asqs > NVME_MAX_QSIZE || acqs > NVME_MAX_QSIZE ||
        (n->asq & (page - 1)) || (n->acq & (page - 1)) ||
        !guest_memory_ptr(mem, n->asq, (uint64_t)asqs * NVME_SQE_SIZE) ||
        !guest_memory_ptr(mem, n->acq, (uint64_t)acqs * NVME_CQE_SIZE)) {
        fatal(n);
        return;
    }
    n->sq[0] = (struct nvme_sq){ .live = true, .base = n->asq, .size = asqs, .cqid = 0 };
    n->cq[0] = (struct nvme_cq){ .live = true, .base = n->acq, .size = acqs, .phase = true,
                                 .ien = true, .vector = 0, .nsq = 1 };
    n->csts |= NVME_CSTS_RDY;
}

static void write_cc(struct nvme *n, uint32_t v)
{
    uint32_t old = n->cc;
    v &= NVME_CC_WMASK;
    if ((old & NVME_CC_EN) && !(v & NVME_CC_EN)) {
        controller_reset(n);
        n->cc = v;
        return;
    }
    n->cc = v;
    if (!(old & NVME_CC_EN) && (v & NVME_CC_EN))
        controller_enable(n);
    if (NVME_CC_SHN(v) && !NVME_CC_SHN(old)) {
        /* Shutdown completes at once: nothing is in flight, and what
         * the cache holds reaches the image now. */
        block_backend_flush(n->bb);
        n->csts = (n->csts & ~(3u << 2)) | NVME_CSTS_SHST_DONE;
    } else if (!NVME_CC_SHN(v)) {
        n->csts &= ~(3u << 2);
    }
}

/* ---- doorbells ---------------------------------------------------------------------- */

static void doorbell(struct nvme *n, uint64_t offset, uint32_t value)
{
    if (!(n->csts & NVME_CSTS_RDY) || (n->csts & NVME_CSTS_CFS))
        return;
    uint64_t idx = (offset - NVME_REG_DBS) / 4;
    unsigned qid = (unsigned)(idx / 2);
    bool completion = idx & 1;
    if (qid >= NVME_NQ) {
        fatal(n);
        return;
    }
    if (!completion) {
        struct nvme_sq *sq = &n->sq[qid];
        if (!sq->live || value >= sq->size) {
            fatal(n);
            return;
        }
        sq->tail = value;
        process_sq(n, qid);
        return;
    }
    struct nvme_cq *cq = &n->cq[qid];
    if (!cq->live || value >= cq->size) {
        fatal(n);
        return;
    }
    cq->head = value;
    nvme_update_intx(n);
    /* Queues that stopped on a full completion queue go on. */
    for (unsigned i = 0; i < NVME_NQ; i++)
        if (n->sq[i].live && n->sq[i].cqid == qid && n->sq[i].head != n->sq[i].tail)
            process_sq(n, i);
}

/* ---- register file -------------------------------------------------------------------- */

static uint32_t reg_read(struct nvme *n, unsigned reg)
{
    switch (reg) {
    case NVME_REG_CAP: return (uint32_t)n->cap;
    case NVME_REG_CAP + 4: return (uint32_t)(n->cap >> 32);
    case NVME_REG_VS: return NVME_VERSION;
    case NVME_REG_INTMS:
    case NVME_REG_INTMC: return n->intms;
    case NVME_REG_CC: return n->cc;
    case NVME_REG_CSTS: return n->csts;
    case NVME_REG_AQA: return n->aqa;
    case NVME_REG_ASQ: return (uint32_t)n->asq;
    case NVME_REG_ASQ + 4: return (uint32_t)(n->asq >> 32);
    case NVME_REG_ACQ: return (uint32_t)n->acq;
    case NVME_REG_ACQ + 4: return (uint32_t)(n->acq >> 32);
    default: return 0;
    }
}

static void reg_write(struct nvme *n, unsigned reg, uint32_t v)
{
    if (reg >= NVME_REG_DBS) {
        doorbell(n, reg, v);
        return;
    }
    /* The admin queue registers are fixed while the controller is on. */
    bool enabled = n->cc & NVME_CC_EN;
    switch (reg) {
    case NVME_REG_INTMS:
        /* One pin-based vector: bit 0. */
        n->intms |= v & 1;
        nvme_update_intx(n);
        break;
    case NVME_REG_INTMC:
        n->intms &= ~(v & 1);
        nvme_update_intx(n);
        break;
    case NVME_REG_CC:
        write_cc(n, v);
        break;
    case NVME_REG_AQA:
        if (!enabled)
            n->aqa = v & 0x0fff0fffu;
        break;
    case NVME_REG_ASQ:
        if (!enabled)
            n->asq = (n->asq & ~0xffffffffull) | (v & ~0xfffu);
        break;
    case NVME_REG_ASQ + 4:
        if (!enabled)
            n->asq = (n->asq & 0xffffffffull) | (uint64_t)v << 32;
        break;
    case NVME_REG_ACQ:
        if (!enabled)
            n->acq = (n->acq & ~0xffffffffull) | (v & ~0xfffu);
        break;
    case NVME_REG_ACQ + 4:
        if (!enabled)
            n->acq = (n->acq & 0xffffffffull) | (uint64_t)v << 32;
        break;
    default:
        /* NSSR (subsystem reset unsupported: CAP.NSSRS is 0) and the
         * read-only registers. */
        break;
    }
}

static uint64_t bar0_read(void *opaque, uint64_t offset, unsigned size)
{
    struct nvme *n = opaque;
    g_mutex_lock(&n->lock);
    uint64_t v = 0;
    for (unsigned done = 0; done < size; ) {
        unsigned off = (unsigned)(offset + done);
        unsigned reg = off & ~3u, sh = (off & 3) * 8;
        unsigned k = MIN(size - done, 4 - (off & 3));
        uint32_t r = reg < NVME_REG_DBS ? reg_read(n, reg) >> sh : 0;
        if (k < 4)
            r &= (1u << (8 * k)) - 1;
        v |= (uint64_t)r << (8 * done);
        done += k;
    }
    g_mutex_unlock(&n->lock);
    return v;
}

static void bar0_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct nvme *n = opaque;
    g_mutex_lock(&n->lock);
    for (unsigned done = 0; done < size; ) {
        unsigned off = (unsigned)(offset + done);
        unsigned reg = off & ~3u, sh = (off & 3) * 8;
        unsigned k = MIN(size - done, 4 - (off & 3));
        uint32_t mask = k == 4 ? 0xffffffffu : ((1u << (8 * k)) - 1) << sh;
        uint32_t part = (uint32_t)(value >> (8 * done)) << sh & mask;
        /* A narrow write keeps the other bytes of a register; a doorbell
         * or the set/clear registers take only what was written. */
        bool whole = reg >= NVME_REG_DBS || reg == NVME_REG_INTMS || reg == NVME_REG_INTMC;
        reg_write(n, reg, whole ? part : (reg_read(n, reg) & ~mask) | part);
        done += k;
    }
    g_mutex_unlock(&n->lock);
}

static const struct io_ops bar0_ops = { .read = bar0_read, .write = bar0_write };

/* MSI-X being enabled takes the pin's place. */
static void config_written(struct pci_device *dev, unsigned offset, unsigned size)
{
    struct nvme *n = dev->opaque;
    pci_msix_config_written(&n->msix, offset, size);
    g_mutex_lock(&n->lock);
    nvme_update_intx(n);
    g_mutex_unlock(&n->lock);
}

/* ---- VM state --------------------------------------------------------------------------- */

/* Commands complete inside the doorbell write, so the state is registers,
 * queue positions, features and held event requests. */
static bool nvme_save(struct pci_device *dev, struct state_out *o, GError **error)
{
    struct nvme *n = dev->opaque;
    g_mutex_lock(&n->lock);
    state_out_u64(o, n->nlbas);
    state_out_u32(o, n->cc);
    state_out_u32(o, n->csts);
    state_out_u32(o, n->aqa);
    state_out_u32(o, n->intms);
    state_out_u64(o, n->asq);
    state_out_u64(o, n->acq);
    state_out_u32(o, NVME_NQ);
    for (unsigned i = 0; i < NVME_NQ; i++) {
        const struct nvme_sq *sq = &n->sq[i];
        state_out_bool(o, sq->live);
        state_out_u64(o, sq->base);
        state_out_u32(o, sq->size);
        state_out_u32(o, sq->head);
        state_out_u32(o, sq->tail);
        state_out_u16(o, sq->cqid);
        const struct nvme_cq *cq = &n->cq[i];
        state_out_bool(o, cq->live);
        state_out_u64(o, cq->base);
        state_out_u32(o, cq->size);
        state_out_u32(o, cq->head);
        state_out_u32(o, cq->tail);
        state_out_bool(o, cq->phase);
        state_out_bool(o, cq->ien);
        state_out_u16(o, cq->vector);
    }
    const struct nvme_features *f = &n->feat;
    state_out_u32(o, f->arbitration);
    state_out_u32(o, f->power_mgmt);
    state_out_u16(o, f->temp_over);
    state_out_u16(o, f->temp_under);
    state_out_u32(o, f->error_recovery);
    state_out_bool(o, f->write_cache);
    state_out_u16(o, f->nsqa);
    state_out_u16(o, f->ncqa);
    state_out_bool(o, f->queues_set);
    state_out_u32(o, f->int_coalescing);
    state_out_u32(o, f->vector_no_coalescing);
    state_out_u32(o, f->write_atomicity);
    state_out_u32(o, f->async_config);
    state_out_u32(o, n->naer);
    for (unsigned i = 0; i < n->naer; i++)
        state_out_u16(o, n->aer_cid[i]);
    state_out_u64(o, n->stats.bytes_read);
    state_out_u64(o, n->stats.bytes_written);
    state_out_u64(o, n->stats.read_cmds);
    state_out_u64(o, n->stats.write_cmds);
    pci_msix_save(&n->msix, o);
    g_mutex_unlock(&n->lock);
    return true;
}

/* A queue as Create I/O Queue or controller enable would have left it. */
static bool queue_ok(uint64_t base, uint32_t size, uint32_t head, uint32_t tail, unsigned esize,
                     const struct guest_memory *mem)
{
    return size >= 2 && size <= NVME_MAX_QSIZE && head < size && tail < size &&
           guest_memory_ptr(mem, base, (uint64_t)size * esize);
}

static bool load_queues(struct nvme *n, struct state_in *in, GError **error)
{
    const struct guest_memory *mem = vm_memory(n->vm);
    uint32_t nq = state_in_u32(in);
    if (nq != NVME_NQ)
        return state_in_invalid(in, error, _("%u NVMe queue pairs, this controller has %u"), nq,
                                NVME_NQ);
    for (unsigned i = 0; i < NVME_NQ; i++) {
        struct nvme_sq *sq = &n->sq[i];
        sq->live = state_in_bool(in);
        sq->base = state_in_u64(in);
        sq->size = state_in_u32(in);
        sq->head = state_in_u32(in);
        sq->tail = state_in_u32(in);
        sq->cqid = state_in_u16(in);
        struct nvme_cq *cq = &n->cq[i];
        cq->live = state_in_bool(in);
        cq->base = state_in_u64(in);
        cq->size = state_in_u32(in);
        cq->head = state_in_u32(in);
        cq->tail = state_in_u32(in);
        cq->phase = state_in_bool(in);
        cq->ien = state_in_bool(in);
        cq->vector = state_in_u16(in);
        cq->nsq = 0;
    }
    if (in->short_read)
        return state_in_invalid(in, error, _("truncated"));
    for (unsigned i = 0; i < NVME_NQ; i++) {
        struct nvme_sq *sq = &n->sq[i];
        struct nvme_cq *cq = &n->cq[i];
        if (cq->live && (!queue_ok(cq->base, cq->size, cq->head, cq->tail, NVME_CQE_SIZE, mem) ||
                         cq->vector >= NVME_NVEC))
            return state_in_invalid(in, error, _("NVMe completion queue %u is invalid"), i);
        if (!cq->live)
            memset(cq, 0, sizeof(*cq));
        if (!sq->live) {
            memset(sq, 0, sizeof(*sq));
            continue;
        }
        if (!queue_ok(sq->base, sq->size, sq->head, sq->tail, NVME_SQE_SIZE, mem) ||
            sq->cqid >= NVME_NQ || (i == 0) != (sq->cqid == 0))
            return state_in_invalid(in, error, _("NVMe submission queue %u is invalid"), i);
    }
    for (unsigned i = 0; i < NVME_NQ; i++) {
        if (!n->sq[i].live)
            continue;
        if (!n->cq[n->sq[i].cqid].live)
            return state_in_invalid(in, error, _("NVMe submission queue %u is invalid"), i);
        n->cq[n->sq[i].cqid].nsq++;
    }
    return true;
}

static bool load_all(struct nvme *n, struct state_in *in, GError **error)
{
    uint64_t nlbas = state_in_u64(in);
    uint32_t cc = state_in_u32(in), csts = state_in_u32(in);
    uint32_t aqa = state_in_u32(in), intms = state_in_u32(in);
    uint64_t asq = state_in_u64(in), acq = state_in_u64(in);
    if (in->short_read)
        return state_in_invalid(in, error, _("truncated"));
    if (nlbas != n->nlbas)
        return state_in_invalid(in, error, _("the NVMe namespace had %" PRIu64
                                             " blocks, the disk now has %" PRIu64),
                                nlbas, n->nlbas);
    n->cc = cc & NVME_CC_WMASK;
    n->csts = csts & (NVME_CSTS_RDY | NVME_CSTS_CFS | (3u << 2));
    n->aqa = aqa & 0x0fff0fffu;
    n->intms = intms & 1;
    n->asq = asq & ~0xfffull;
    n->acq = acq & ~0xfffull;
    if (!load_queues(n, in, error))
        return false;
    if ((n->csts & NVME_CSTS_RDY) && (!n->sq[0].live || !n->cq[0].live))
        return state_in_invalid(in, error, _("the NVMe controller is ready without admin queues"));
    struct nvme_features *f = &n->feat;
    f->arbitration = state_in_u32(in);
    f->power_mgmt = state_in_u32(in);
    f->temp_over = state_in_u16(in);
    f->temp_under = state_in_u16(in);
    f->error_recovery = state_in_u32(in);
    f->write_cache = state_in_bool(in);
    f->nsqa = state_in_u16(in);
    f->ncqa = state_in_u16(in);
    f->queues_set = state_in_bool(in);
    f->int_coalescing = state_in_u32(in);
    f->vector_no_coalescing = state_in_u32(in);
    f->write_atomicity = state_in_u32(in);
    f->async_config = state_in_u32(in);
    uint32_t naer = state_in_u32(in);
    if (naer > NVME_AERL + 1 || f->nsqa >= NVME_MAX_IOQ || f->ncqa >= NVME_MAX_IOQ)
        return state_in_invalid(in, error, _("NVMe features out of range"));
    n->naer = naer;
    for (unsigned i = 0; i < naer; i++)
        n->aer_cid[i] = state_in_u16(in);
    n->stats.bytes_read = state_in_u64(in);
    n->stats.bytes_written = state_in_u64(in);
    n->stats.read_cmds = state_in_u64(in);
    n->stats.write_cmds = state_in_u64(in);
    if (in->short_read)
        return state_in_invalid(in, error, _("truncated"));
    return pci_msix_load(&n->msix, in, error);
}

static bool nvme_load(struct pci_device *dev, struct state_in *in, uint32_t version,
                      GError **error)
{
    struct nvme *n = dev->opaque;
    g_mutex_lock(&n->lock);
    bool ok = load_all(n, in, error);
    if (!ok)
        controller_reset(n);
    /* This process's line is low until the state says otherwise. */
    n->intx = false;
    nvme_update_intx(n);
    g_mutex_unlock(&n->lock);
    return ok;
}

static const struct pci_state_ops nvme_state_ops = {
    .version = 1, .save = nvme_save, .load = nvme_load,
};

/* ---- setup ---------------------------------------------------------------------------- */

static void nvme_platform_reset(void *opaque)
{
    struct nvme *n = opaque;
    /* The bus lock is taken before ours elsewhere (config_written). */
    pci_device_reset(&n->pci);
    pci_msix_reset(&n->msix);
    g_mutex_lock(&n->lock);
    n->intx = false;
    controller_reset(n);
    n->aqa = 0;
    n->asq = n->acq = 0;
    g_mutex_unlock(&n->lock);
}

/* A stable identity for the namespace: from the serial when given, else
 * from the image path. */
static void make_identity(struct nvme *n, const struct disk_config *cfg)
{
    if (cfg->serial && *cfg->serial) {
        g_strlcpy(n->serial, cfg->serial, sizeof(n->serial));
    } else {
        guint h = g_str_hash(cfg->path);
        g_snprintf(n->serial, sizeof(n->serial), "ORIEL%08X", h);
    }
    g_autoptr(GChecksum) ck = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(ck, (const guchar *)"oriel-nvme:", -1);
    g_checksum_update(ck, (const guchar *)n->serial, -1);
    guint8 digest[32];
    gsize len = sizeof(digest);
    g_checksum_get_digest(ck, digest, &len);
    memcpy(n->nguid, digest, sizeof(n->nguid));
}

struct nvme *nvme_create(struct vm *vm, struct pci_bus *bus, const struct disk_config *cfg,
                         GError **error)
{
    struct block_backend *bb = block_open(cfg->path, cfg->format, cfg->readonly, error);
    if (!bb)
        return NULL;
    if (bb->size < NVME_LBA_SIZE) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    _("Disk %s: an NVMe namespace needs at least one 512-byte block"), cfg->path);
        block_backend_close(bb);
        return NULL;
    }
    struct nvme *n = g_new0(struct nvme, 1);
    n->vm = vm;
    n->bb = bb;
    n->readonly = cfg->readonly || bb->readonly;
    n->discard = cfg->discard && !n->readonly;
    n->nlbas = bb->size >> NVME_LBA_SHIFT;
    n->cap = CAP_VALUE;
    make_identity(n, cfg);
    g_mutex_init(&n->lock);
    dma_sg_init(&n->sg);

    struct pci_device *p = &n->pci;
    pci_device_init(p, "nvme", 0x1b36, 0x0010, 0x010802, 0x02, 1);
    pci_device_set_subsystem(p, 0x1af4, 0x1100);
    pci_device_set_bar(p, 0, PCI_BAR_MEM64, false, BAR0_SIZE, &bar0_ops, n);
    if (!pci_msix_init(&n->msix, p, vm, NVME_NVEC, MSIX_BAR, error))
        goto fail;
    p->opaque = n;
    p->config_written = config_written;
    p->state = &nvme_state_ops;
    if (!pci_register_device(bus, p, error)) {
        pci_msix_destroy(&n->msix);
        goto fail;
    }
    controller_reset(n);
    vm_add_reset_handler(vm, nvme_platform_reset, n);
    return n;

fail:
    dma_sg_free(&n->sg);
    g_mutex_clear(&n->lock);
    block_backend_close(bb);
    g_free(n);
    return NULL;
}

void nvme_free(struct nvme *n)
{
    if (!n)
        return;
    pci_unregister_device(&n->pci);
    pci_msix_destroy(&n->msix);
    block_backend_close(n->bb);
    dma_sg_free(&n->sg);
    g_mutex_clear(&n->lock);
    g_free(n);
}

struct pci_device *nvme_pci_device(struct nvme *n)
{
    return &n->pci;
}

void nvme_stats(struct nvme *n, struct block_stats *out)
{
    block_backend_get_stats(n->bb, out);
}

char *nvme_boot_path(const struct nvme *n)
{
    if (n->pci.func)
        return g_strdup_printf("/pci@i0cf8/nvme@%x,%x/namespace@1,0", n->pci.slot, n->pci.func);
    return g_strdup_printf("/pci@i0cf8/nvme@%x/namespace@1,0", n->pci.slot);
}
