#include "dma_sg.h"

#include <string.h>
#include <glib.h>

void dma_sg_init(struct dma_sg *sg)
{
    memset(sg, 0, sizeof(*sg));
}

void dma_sg_clear(struct dma_sg *sg)
{
    sg->n = 0;
    sg->len = 0;
}

void dma_sg_free(struct dma_sg *sg)
{
    g_free(sg->iov);
    memset(sg, 0, sizeof(*sg));
}

bool dma_sg_add(struct dma_sg *sg, const struct guest_memory *mem, uint64_t gpa,
                uint64_t len, uint64_t limit)
{
    if (sg->len >= limit)
        return true;
    len = MIN(len, limit - sg->len);
    if (len == 0)
        return true;
    void *p = guest_memory_ptr(mem, gpa, len);
    if (!p)
        return false;
    if (sg->n == sg->cap) {
        sg->cap = sg->cap ? sg->cap * 2 : 16;
        sg->iov = g_renew(struct iovec, sg->iov, (gsize)sg->cap);
    }
    sg->iov[sg->n++] = (struct iovec){ p, (size_t)len };
    sg->len += len;
    return true;
}

bool dma_sg_transfer(struct ata_drive *d, const struct ata_xfer *x, uint64_t pos,
                     const struct dma_sg *sg)
{
    if (pos > x->len || sg->len > x->len - pos)
        return false;
    if (x->media)
        return sg->len == 0 || ata_media_rw(d, x, pos, sg->iov, sg->n);
    if (x->dir != ATA_DIR_IN || !x->buf)
        return false;
    const uint8_t *src = x->buf + pos;
    for (int i = 0; i < sg->n; i++) {
        memcpy(sg->iov[i].iov_base, src, sg->iov[i].iov_len);
        src += sg->iov[i].iov_len;
    }
    return true;
}
