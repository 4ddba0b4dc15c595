/* NVMe admin command set: Identify (controller, namespace, active
 * namespace list, namespace identification descriptors), I/O queue
 * creation and deletion, Get/Set Features, Get Log Page (error
 * information, SMART / health, firmware slots), Abort and Asynchronous
 * Event Request. */
#include "nvme_int.h"

#include <string.h>

#include "core/vm.h"

#define ADM_DELETE_SQ   0x00
#define ADM_CREATE_SQ   0x01
#define ADM_GET_LOG     0x02
#define ADM_DELETE_CQ   0x04
#define ADM_CREATE_CQ   0x05
#define ADM_IDENTIFY    0x06
#define ADM_ABORT       0x08
#define ADM_SET_FEAT    0x09
#define ADM_GET_FEAT    0x0a
#define ADM_AER         0x0c

#define CNS_NAMESPACE   0x00
#define CNS_CONTROLLER  0x01
#define CNS_ACTIVE_NS   0x02
#define CNS_NS_DESCS    0x03

#define LOG_ERROR       0x01
#define LOG_SMART       0x02
#define LOG_FW_SLOT     0x03

#define FEAT_ARBITRATION    0x01
#define FEAT_POWER_MGMT     0x02
#define FEAT_TEMP_THRESH    0x04
#define FEAT_ERROR_RECOVERY 0x05
#define FEAT_WRITE_CACHE    0x06
#define FEAT_NUM_QUEUES     0x07
#define FEAT_INT_COALESCE   0x08
#define FEAT_INT_VECTOR     0x09
#define FEAT_WRITE_ATOMIC   0x0a
#define FEAT_ASYNC_EVENT    0x0b

#define FIRMWARE_REV "1.0"
#define MODEL "Oriel NVMe Disk"

static void put16(uint8_t *p, uint16_t v) { v = GUINT16_TO_LE(v); memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { v = GUINT32_TO_LE(v); memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { v = GUINT64_TO_LE(v); memcpy(p, &v, 8); }

/* ASCII, space padded, not terminated. */
static void put_str(uint8_t *p, size_t len, const char *s)
{
    size_t k = MIN(strlen(s), len);
    memset(p, ' ', len);
    memcpy(p, s, k);
}

/* ---- Identify ---------------------------------------------------------------------- */

static void identify_controller(struct nvme *n, uint8_t *d)
{
    put16(d + 0, 0x1b36);                   /* PCI vendor */
    put16(d + 2, 0x1af4);                   /* PCI subsystem vendor */
    put_str(d + 4, 20, n->serial);
    put_str(d + 24, 40, MODEL);
    put_str(d + 64, 8, FIRMWARE_REV);
    d[72] = 6;                              /* recommended arbitration burst */
    d[77] = NVME_MDTS;
    put16(d + 78, 0);                       /* controller ID */
    put32(d + 80, 0x00010400);              /* version */
    d[111] = 1;                             /* an I/O controller */
    d[258] = NVME_ACL;
    d[259] = NVME_AERL;
    d[260] = 0x03;                          /* one firmware slot, read-only */
    d[261] = 0x04;                          /* extended Get Log Page data */
    d[262] = 0;                             /* one error log entry */
    d[263] = 0;                             /* one power state */
    put16(d + 266, 0x157);                  /* warning temperature, 70 C */
    put16(d + 268, 0x175);                  /* critical temperature, 100 C */
    d[512] = 0x66;                          /* SQ entries 64 bytes */
    d[513] = 0x44;                          /* CQ entries 16 bytes */
    put32(d + 516, 1);                      /* number of namespaces */
    uint16_t oncs = 1u << 3;                /* Write Zeroes */
    if (n->discard)
        oncs |= 1u << 2;                    /* Dataset Management */
    put16(d + 520, oncs);
    d[525] = 0x01;                          /* volatile write cache */
    g_autofree char *nqn = g_strdup_printf("nqn.2026-12.org.oriel:nvme:%s", n->serial);
    memcpy(d + 768, nqn, MIN(strlen(nqn), 255));
    /* Power state 0: 25 W, entry and exit latencies 16 us. */
    put16(d + 2048, 2500);
    put32(d + 2048 + 4, 16);
    put32(d + 2048 + 8, 16);
}

static void identify_namespace(struct nvme *n, uint8_t *d)
{
    put64(d + 0, n->nlbas);                 /* size */
    put64(d + 8, n->nlbas);                 /* capacity */
    put64(d + 16, n->nlbas);                /* utilisation */
    d[25] = 0;                              /* one LBA format */
    d[26] = 0;                              /* using format 0 */
    if (n->discard)
        d[33] = 0x01;                       /* deallocated blocks read zeroes */
    d[99] = n->readonly ? 0x01 : 0;         /* write protected */
    memcpy(d + 104, n->nguid, 16);
    d[128 + 2] = NVME_LBA_SHIFT;            /* LBA format 0: 512-byte blocks */
}

static uint16_t identify(struct nvme *n, const struct nvme_cmd *c)
{
    uint8_t *d = n->page;
    memset(d, 0, sizeof(n->page));
    switch (c->cdw10 & 0xff) {
    case CNS_CONTROLLER:
        identify_controller(n, d);
        break;
    case CNS_NAMESPACE:
        if (c->nsid != NVME_NSID)
            return NVME_INVALID_NSID;
        identify_namespace(n, d);
        break;
    case CNS_ACTIVE_NS:
        /* Namespaces above c->nsid; the two top values are not IDs. */
        if (c->nsid >= 0xfffffffeu)
            return NVME_INVALID_NSID;
        if (c->nsid < NVME_NSID)
            put32(d, NVME_NSID);
        break;
    case CNS_NS_DESCS:
        if (c->nsid != NVME_NSID)
            return NVME_INVALID_NSID;
        d[0] = 2;                           /* NGUID */
        d[1] = 16;
        memcpy(d + 4, n->nguid, 16);
        break;
    default:
        return NVME_INVALID_FIELD;
    }
    return nvme_to_guest(n, c, d, 4096);
}

/* ---- queues ------------------------------------------------------------------------ */

/* Queue IDs go up to the number granted with Set Features. */
static bool io_qid_ok(const struct nvme *n, unsigned qid, bool completion)
{
    unsigned max = (completion ? n->feat.ncqa : n->feat.nsqa) + 1u;
    return qid >= 1 && qid <= max && qid < NVME_NQ;
}

static uint16_t create_cq(struct nvme *n, const struct nvme_cmd *c)
{
    unsigned qid = c->cdw10 & 0xffff;
    uint32_t size = (c->cdw10 >> 16) + 1;
    bool contiguous = c->cdw11 & 1, ien = c->cdw11 & 2;
    unsigned vector = c->cdw11 >> 16;
    if (!io_qid_ok(n, qid, true) || n->cq[qid].live)
        return NVME_INVALID_QID;
    if (size < 2 || size > NVME_MAX_QSIZE)
        return NVME_INVALID_QSIZE;
    if (vector >= NVME_NVEC)
        return NVME_INVALID_VECTOR;
    if (!contiguous || NVME_CC_IOCQES(n->cc) != 4 || (c->flags & 0xc0))
        return NVME_INVALID_FIELD;
    if (c->prp1 & (nvme_page_size(n) - 1))
        return NVME_INVALID_PRP_OFFSET;
    if (!guest_memory_ptr(vm_memory(n->vm), c->prp1, (uint64_t)size * NVME_CQE_SIZE))
        return NVME_INVALID_FIELD;
    n->cq[qid] = (struct nvme_cq){ .live = true, .base = c->prp1, .size = size, .phase = true,
                                   .ien = ien, .vector = (uint16_t)vector };
    return NVME_SUCCESS;
}

static uint16_t create_sq(struct nvme *n, const struct nvme_cmd *c)
{
    unsigned qid = c->cdw10 & 0xffff;
    uint32_t size = (c->cdw10 >> 16) + 1;
    bool contiguous = c->cdw11 & 1;
    unsigned cqid = c->cdw11 >> 16;
    if (!io_qid_ok(n, qid, false) || n->sq[qid].live)
        return NVME_INVALID_QID;
    if (cqid == 0 || cqid >= NVME_NQ || !n->cq[cqid].live)
        return NVME_INVALID_CQ;
    if (size < 2 || size > NVME_MAX_QSIZE)
        return NVME_INVALID_QSIZE;
    if (!contiguous || NVME_CC_IOSQES(n->cc) != 6 || (c->flags & 0xc0))
        return NVME_INVALID_FIELD;
    if (c->prp1 & (nvme_page_size(n) - 1))
        return NVME_INVALID_PRP_OFFSET;
    if (!guest_memory_ptr(vm_memory(n->vm), c->prp1, (uint64_t)size * NVME_SQE_SIZE))
        return NVME_INVALID_FIELD;
    n->sq[qid] = (struct nvme_sq){ .live = true, .base = c->prp1, .size = size,
                                   .cqid = (uint16_t)cqid };
    n->cq[cqid].nsq++;
    return NVME_SUCCESS;
}

static uint16_t delete_sq(struct nvme *n, const struct nvme_cmd *c)
{
    unsigned qid = c->cdw10 & 0xffff;
    if (qid == 0 || qid >= NVME_NQ || !n->sq[qid].live)
        return NVME_INVALID_QID;
    nvme_sq_delete(n, qid);
    return NVME_SUCCESS;
}

static uint16_t delete_cq(struct nvme *n, const struct nvme_cmd *c)
{
    unsigned qid = c->cdw10 & 0xffff;
    if (qid == 0 || qid >= NVME_NQ || !n->cq[qid].live)
        return NVME_INVALID_QID;
    if (n->cq[qid].nsq)
        return NVME_INVALID_QDELETE;
    nvme_cq_delete(n, qid);
    return NVME_SUCCESS;
}

static bool io_queues_exist(const struct nvme *n)
{
    for (unsigned i = 1; i < NVME_NQ; i++)
        if (n->sq[i].live || n->cq[i].live)
            return true;
    return false;
}

/* ---- features ---------------------------------------------------------------------- */

static uint16_t set_features(struct nvme *n, const struct nvme_cmd *c, uint32_t *dw0)
{
    struct nvme_features *f = &n->feat;
    uint32_t v = c->cdw11;
    if (c->cdw10 & (1u << 31))
        return NVME_FEAT_NOT_SAVEABLE;
    switch (c->cdw10 & 0xff) {
    case FEAT_ARBITRATION:
        f->arbitration = v;
        break;
    case FEAT_POWER_MGMT:
        if (v & 0x1f)                       /* only power state 0 */
            return NVME_INVALID_FIELD;
        f->power_mgmt = v & 0xff;
        break;
    case FEAT_TEMP_THRESH: {
        unsigned sel = (v >> 16) & 0xf, type = (v >> 20) & 3;
        if ((sel != 0 && sel != 0xf) || type > 1)
            return NVME_INVALID_FIELD;
        if (type == 0)
            f->temp_over = (uint16_t)v;
        else
            f->temp_under = (uint16_t)v;
        break;
    }
    case FEAT_ERROR_RECOVERY:
        if (v & (1u << 16))                 /* no deallocated-block errors */
            return NVME_INVALID_FIELD;
        f->error_recovery = v & 0xffff;
        break;
    case FEAT_WRITE_CACHE:
        f->write_cache = v & 1;
        if (!f->write_cache)
            block_backend_flush(n->bb);
        break;
    case FEAT_NUM_QUEUES: {
        unsigned nsqr = v & 0xffff, ncqr = v >> 16;
        if (nsqr == 0xffff || ncqr == 0xffff)
            return NVME_INVALID_FIELD;
        /* Fixed once I/O queues exist. */
        if (io_queues_exist(n))
            return NVME_CMD_SEQ_ERROR;
        f->nsqa = (uint16_t)MIN(nsqr, NVME_MAX_IOQ - 1u);
        f->ncqa = (uint16_t)MIN(ncqr, NVME_MAX_IOQ - 1u);
        f->queues_set = true;
        *dw0 = f->nsqa | (uint32_t)f->ncqa << 16;
        break;
    }
    case FEAT_INT_COALESCE:
        /* Accepted; every completion interrupts at once, which the
         * setting allows. */
        f->int_coalescing = v & 0xffff;
        break;
    case FEAT_INT_VECTOR: {
        unsigned vec = v & 0xffff;
        if (vec >= NVME_NVEC)
            return NVME_INVALID_FIELD;
        if (v & (1u << 16))
            f->vector_no_coalescing |= 1u << vec;
        else
            f->vector_no_coalescing &= ~(1u << vec);
        break;
    }
    case FEAT_WRITE_ATOMIC:
        f->write_atomicity = v & 1;
        break;
    case FEAT_ASYNC_EVENT:
        f->async_config = v & 0x3ff;
        break;
    default:
        return NVME_INVALID_FIELD;
    }
    return NVME_SUCCESS;
}

static uint16_t get_features(struct nvme *n, const struct nvme_cmd *c, uint32_t *dw0)
{
    const struct nvme_features *f = &n->feat;
    unsigned sel = (c->cdw10 >> 8) & 7;
    if (sel == 3) {
        /* Capabilities: nothing saveable, nothing per namespace; every
         * listed feature is changeable. */
        switch (c->cdw10 & 0xff) {
        case FEAT_ARBITRATION: case FEAT_POWER_MGMT: case FEAT_TEMP_THRESH:
        case FEAT_ERROR_RECOVERY: case FEAT_WRITE_CACHE: case FEAT_NUM_QUEUES:
        case FEAT_INT_COALESCE: case FEAT_INT_VECTOR: case FEAT_WRITE_ATOMIC:
        case FEAT_ASYNC_EVENT:
            *dw0 = 1u << 2;
            return NVME_SUCCESS;
        default:
            return NVME_INVALID_FIELD;
        }
    }
    if (sel > 3)
        return NVME_INVALID_FIELD;
    /* Saved values are the defaults (nothing is saveable). */
    bool def = sel != 0;
    switch (c->cdw10 & 0xff) {
    case FEAT_ARBITRATION: *dw0 = def ? 0 : f->arbitration; break;
    case FEAT_POWER_MGMT: *dw0 = def ? 0 : f->power_mgmt; break;
    case FEAT_TEMP_THRESH: {
        unsigned sel_t = (c->cdw11 >> 16) & 0xf, type = (c->cdw11 >> 20) & 3;
        if (sel_t != 0 || type > 1)
            return NVME_INVALID_FIELD;
        uint16_t t = type == 0 ? (def ? 0x157 : f->temp_over) : (def ? 0 : f->temp_under);
        *dw0 = t | (uint32_t)type << 20;
        break;
    }
    case FEAT_ERROR_RECOVERY: *dw0 = def ? 0 : f->error_recovery; break;
    case FEAT_WRITE_CACHE: *dw0 = def ? 1 : f->write_cache; break;
    case FEAT_NUM_QUEUES:
        *dw0 = def ? ((NVME_MAX_IOQ - 1u) | (NVME_MAX_IOQ - 1u) << 16)
                   : (f->nsqa | (uint32_t)f->ncqa << 16);
        break;
    case FEAT_INT_COALESCE: *dw0 = def ? 0 : f->int_coalescing; break;
    case FEAT_INT_VECTOR: {
        unsigned vec = c->cdw11 & 0xffff;
        if (vec >= NVME_NVEC)
            return NVME_INVALID_FIELD;
        *dw0 = vec | (!def && (f->vector_no_coalescing >> vec & 1) ? 1u << 16 : 0);
        break;
    }
    case FEAT_WRITE_ATOMIC: *dw0 = def ? 0 : f->write_atomicity; break;
    case FEAT_ASYNC_EVENT: *dw0 = def ? 0 : f->async_config; break;
    default:
        return NVME_INVALID_FIELD;
    }
    return NVME_SUCCESS;
}

/* ---- log pages -------------------------------------------------------------------------- */

/* A 128-bit little-endian counter (SMART fields are 16 bytes). */
static void put128(uint8_t *p, uint64_t v)
{
    put64(p, v);
    memset(p + 8, 0, 8);
}

static size_t smart_log(struct nvme *n, uint8_t *d)
{
    d[0] = n->readonly ? 0x08 : 0;          /* critical warning: read-only */
    put16(d + 1, 0x137);                    /* composite temperature, 38 C */
    d[3] = 100;                             /* available spare */
    d[4] = 10;                              /* spare threshold */
    /* Data units are thousands of 512-byte units, rounded up. */
    put128(d + 32, (n->stats.bytes_read / 512 + 999) / 1000);
    put128(d + 48, (n->stats.bytes_written / 512 + 999) / 1000);
    put128(d + 64, n->stats.read_cmds);
    put128(d + 80, n->stats.write_cmds);
    put128(d + 112, 1);                     /* power cycles */
    return 512;
}

static size_t fw_slot_log(uint8_t *d)
{
    d[0] = 1;                               /* slot 1 active */
    put_str(d + 8, 8, FIRMWARE_REV);
    return 512;
}

static uint16_t get_log_page(struct nvme *n, const struct nvme_cmd *c)
{
    unsigned lid = c->cdw10 & 0xff;
    uint64_t numd = ((uint64_t)(c->cdw11 & 0xffff) << 16 | c->cdw10 >> 16) + 1;
    uint64_t len = numd * 4;
    uint64_t offset = (uint64_t)c->cdw13 << 32 | c->cdw12;
    if (offset & 3 || len > NVME_MAX_XFER)
        return NVME_INVALID_FIELD;
    uint8_t *d = n->page;
    memset(d, 0, sizeof(n->page));
    size_t size;
    switch (lid) {
    case LOG_ERROR:
        size = 64;                          /* one entry, unused */
        break;
    case LOG_SMART:
        if (c->nsid != 0 && c->nsid != NVME_NSID && c->nsid != 0xffffffffu)
            return NVME_INVALID_NSID;
        size = smart_log(n, d);
        break;
    case LOG_FW_SLOT:
        size = fw_slot_log(d);
        break;
    default:
        return NVME_INVALID_LOG_PAGE;
    }
    if (offset >= size)
        return NVME_INVALID_FIELD;
    /* What the host asks beyond the log reads as zeroes. */
    uint16_t st = nvme_map_prp(n, c->prp1, c->prp2, len);
    if (st || (c->flags & 0xc0))
        return st ? st : NVME_INVALID_FIELD;
    const uint8_t *src = d + offset;
    size_t avail = size - (size_t)offset;
    for (int i = 0; i < n->sg.n; i++) {
        size_t k = MIN(avail, n->sg.iov[i].iov_len);
        memcpy(n->sg.iov[i].iov_base, src, k);
        memset((uint8_t *)n->sg.iov[i].iov_base + k, 0, n->sg.iov[i].iov_len - k);
        src += k;
        avail -= k;
    }
    return NVME_SUCCESS;
}

/* ---- dispatch ------------------------------------------------------------------------------ */

uint16_t nvme_admin_command(struct nvme *n, const struct nvme_cmd *c, uint32_t *dw0)
{
    *dw0 = 0;
    if (c->flags & 0x03)
        return NVME_INVALID_FIELD;
    switch (c->opcode) {
    case ADM_IDENTIFY: return identify(n, c);
    case ADM_CREATE_CQ: return create_cq(n, c);
    case ADM_CREATE_SQ: return create_sq(n, c);
    case ADM_DELETE_SQ: return delete_sq(n, c);
    case ADM_DELETE_CQ: return delete_cq(n, c);
    case ADM_SET_FEAT: return set_features(n, c, dw0);
    case ADM_GET_FEAT: return get_features(n, c, dw0);
    case ADM_GET_LOG: return get_log_page(n, c);
    case ADM_ABORT:
        /* Commands complete before the doorbell write returns: there is
         * never one left to abort (bit 0 set: not aborted). */
        *dw0 = 1;
        return NVME_SUCCESS;
    case ADM_AER:
        if (n->naer > NVME_AERL)
            return NVME_AER_LIMIT;
        n->aer_cid[n->naer++] = c->cid;
        return NVME_HELD;
    default:
        return NVME_INVALID_OPCODE;
    }
}
