/* A scatter-gather list over guest RAM, built from a controller's PRD
 * entries and used to move an ATA transfer's data in one backend call.
 * Every entry is checked against guest RAM as it is added. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/guest_memory.h"
#include "ata.h"

struct dma_sg {
    struct iovec *iov;
    int n, cap;
    uint64_t len;
};

void dma_sg_init(struct dma_sg *sg);
void dma_sg_clear(struct dma_sg *sg);   /* drop the entries, keep the array */
void dma_sg_free(struct dma_sg *sg);

/* Append [gpa, gpa + len), cut so that the list holds at most limit bytes.
 * Returns false (adding nothing) if the range is not wholly guest RAM. */
bool dma_sg_add(struct dma_sg *sg, const struct guest_memory *mem, uint64_t gpa,
                uint64_t len, uint64_t limit);

/* Move the transfer's bytes [pos, pos + sg->len) between its source or sink
 * (medium or buffer) and the list.  Returns false on a backend error or a
 * range the transfer does not have. */
bool dma_sg_transfer(struct ata_drive *d, const struct ata_xfer *x, uint64_t pos,
                     const struct dma_sg *sg);
