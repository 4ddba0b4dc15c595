/* What the NVMe controller (nvme.c), its admin commands (nvme_admin.c)
 * and its NVM commands (nvme_io.c) share: the controller, its queues and
 * the command, completion and status layouts of NVM Express 1.4. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "backends/block_backend.h"
#include "pci/pci.h"
#include "pci/msix.h"
#include "dma_sg.h"

/* I/O queue pairs beyond the admin queue pair, and MSI-X vectors (one
 * per completion queue). */
#define NVME_MAX_IOQ     16
#define NVME_NQ          (NVME_MAX_IOQ + 1)
#define NVME_NVEC        NVME_NQ
#define NVME_MAX_QSIZE   1024       /* entries; CAP.MQES + 1 */
#define NVME_SQE_SIZE    64
#define NVME_CQE_SIZE    16
#define NVME_LBA_SHIFT   9
#define NVME_LBA_SIZE    (1u << NVME_LBA_SHIFT)
/* Largest transfer: 2^MDTS minimum-size (4 KiB) pages. */
#define NVME_MDTS        7
#define NVME_MAX_XFER    (4096u << NVME_MDTS)
#define NVME_AERL        3          /* 0's based: four held requests */
#define NVME_ACL         3
#define NVME_NSID        1          /* the one namespace */

/* Controller registers (BAR 0). */
#define NVME_REG_CAP    0x00
#define NVME_REG_VS     0x08
#define NVME_REG_INTMS  0x0c
#define NVME_REG_INTMC  0x10
#define NVME_REG_CC     0x14
#define NVME_REG_CSTS   0x1c
#define NVME_REG_NSSR   0x20
#define NVME_REG_AQA    0x24
#define NVME_REG_ASQ    0x28
#define NVME_REG_ACQ    0x30
#define NVME_REG_DBS    0x1000

#define NVME_CC_EN          (1u << 0)
#define NVME_CC_CSS(cc)     (((cc) >> 4) & 7)
#define NVME_CC_MPS(cc)     (((cc) >> 7) & 0xf)
#define NVME_CC_AMS(cc)     (((cc) >> 11) & 7)
#define NVME_CC_SHN(cc)     (((cc) >> 14) & 3)
#define NVME_CC_IOSQES(cc)  (((cc) >> 16) & 0xf)
#define NVME_CC_IOCQES(cc)  (((cc) >> 20) & 0xf)
#define NVME_CC_WMASK       0x00fffff1u
#define NVME_CSTS_RDY       (1u << 0)
#define NVME_CSTS_CFS       (1u << 1)
#define NVME_CSTS_SHST_DONE (2u << 2)
#define NVME_MPS_MAX        4       /* 64 KiB pages */

/* Status field of a completion: SC, SCT and Do Not Retry. */
#define NVME_SCT(t)      ((uint16_t)((t) << 8))
#define NVME_DNR         0x4000u
enum {
    NVME_SUCCESS              = 0x00,
    NVME_INVALID_OPCODE       = 0x01 | NVME_DNR,
    NVME_INVALID_FIELD        = 0x02 | NVME_DNR,
    NVME_DATA_XFER_ERROR      = 0x04,
    NVME_INTERNAL_ERROR       = 0x06,
    NVME_INVALID_NSID         = 0x0b | NVME_DNR,
    NVME_CMD_SEQ_ERROR        = 0x0c | NVME_DNR,
    NVME_INVALID_PRP_OFFSET   = 0x13 | NVME_DNR,
    NVME_NS_WRITE_PROTECTED   = 0x20 | NVME_DNR,
    NVME_LBA_RANGE            = 0x80 | NVME_DNR,
    /* Command specific (SCT 1). */
    NVME_INVALID_CQ           = 0x100 | NVME_DNR,
    NVME_INVALID_QID          = 0x101 | NVME_DNR,
    NVME_INVALID_QSIZE        = 0x102 | NVME_DNR,
    NVME_AER_LIMIT            = 0x105 | NVME_DNR,
    NVME_INVALID_LOG_PAGE     = 0x109 | NVME_DNR,
    NVME_INVALID_VECTOR       = 0x108 | NVME_DNR,
    NVME_INVALID_QDELETE      = 0x10c | NVME_DNR,
    NVME_FEAT_NOT_SAVEABLE    = 0x10d | NVME_DNR,
    /* Media and data integrity errors (SCT 2). */
    NVME_WRITE_FAULT          = 0x280,
    NVME_UNRECOVERED_READ     = 0x281,
};
/* Not a status: the command stays with the controller (an Asynchronous
 * Event Request) and completes later, or never. */
#define NVME_HELD 0xffffu

/* A submission queue entry, little-endian as in guest memory. */
struct nvme_cmd {
    uint8_t opcode;
    uint8_t flags;          /* FUSE 1:0, PSDT 7:6 */
    uint16_t cid;
    uint32_t nsid;
    uint32_t cdw2, cdw3;
    uint64_t mptr;
    uint64_t prp1, prp2;
    uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};
G_STATIC_ASSERT(sizeof(struct nvme_cmd) == NVME_SQE_SIZE);

struct nvme_sq {
    bool live;
    uint64_t base;
    uint32_t size;          /* entries */
    uint32_t head, tail;
    uint16_t cqid;
};

struct nvme_cq {
    bool live;
    uint64_t base;
    uint32_t size;
    uint32_t head, tail;
    bool phase;             /* phase tag of the entries being posted */
    bool ien;
    uint16_t vector;
    unsigned nsq;           /* submission queues completing here */
};

struct nvme_features {
    uint32_t arbitration;
    uint32_t power_mgmt;
    uint16_t temp_over, temp_under;
    uint32_t error_recovery;
    bool write_cache;
    uint16_t nsqa, ncqa;    /* queues granted, 0's based */
    bool queues_set;
    uint32_t int_coalescing;
    uint32_t vector_no_coalescing;  /* bit per vector */
    uint32_t write_atomicity;
    uint32_t async_config;
};

struct nvme_stats {
    uint64_t bytes_read, bytes_written;
    uint64_t read_cmds, write_cmds;
};

struct nvme {
    struct vm *vm;
    struct pci_device pci;
    struct pci_msix msix;
    GMutex lock;

    struct block_backend *bb;
    bool readonly, discard;
    uint64_t nlbas;
    char serial[21];
    uint8_t nguid[16];

    uint64_t cap;
    uint32_t cc, csts, aqa, intms;
    uint64_t asq, acq;
    bool intx;
    struct nvme_sq sq[NVME_NQ];
    struct nvme_cq cq[NVME_NQ];
    struct nvme_features feat;
    struct nvme_stats stats;
    uint16_t aer_cid[NVME_AERL + 1];
    unsigned naer;

    struct dma_sg sg;
    uint8_t page[4096];     /* identify data, log pages, DSM ranges */
};

/* Memory page size the host chose (CC.MPS). */
static inline uint64_t nvme_page_size(const struct nvme *n)
{
    return 4096ull << NVME_CC_MPS(n->cc);
}

/* Map [prp1, prp2) describing len bytes into n->sg; a status. */
uint16_t nvme_map_prp(struct nvme *n, uint64_t prp1, uint64_t prp2, uint64_t len);
/* Copy len bytes between buf and the command's data buffer. */
uint16_t nvme_to_guest(struct nvme *n, const struct nvme_cmd *c, const void *buf, size_t len);
uint16_t nvme_from_guest(struct nvme *n, const struct nvme_cmd *c, void *buf, size_t len);

/* Run a command; a status, or NVME_HELD.  *dw0 is the completion's
 * command-specific dword. */
uint16_t nvme_admin_command(struct nvme *n, const struct nvme_cmd *c, uint32_t *dw0);
uint16_t nvme_io_command(struct nvme *n, const struct nvme_cmd *c, uint32_t *dw0);

/* Controller-side queue management the admin commands use (nvme.c). */
void nvme_sq_delete(struct nvme *n, unsigned qid);
void nvme_cq_delete(struct nvme *n, unsigned qid);
/* Recompute the INTx line. */
void nvme_update_intx(struct nvme *n);
