/* PIIX3 IDE: the task-file registers of two legacy channels, PIO data
 * phases served from a per-channel block buffer, and bus-master DMA
 * through PRD tables in guest memory. */
#include "ide.h"

#include <string.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

#include "core/vm.h"
#include "pci/pci.h"
#include "ata.h"
#include "dma_sg.h"
#include "core/state_stream.h"

#define IDE_PRIMARY_PORT    0x1f0
#define IDE_PRIMARY_CTRL    0x3f6
#define IDE_PRIMARY_IRQ     14
#define IDE_SECONDARY_PORT  0x170
#define IDE_SECONDARY_CTRL  0x376
#define IDE_SECONDARY_IRQ   15

/* Bus-master IDE registers, 8 bytes per channel. */
#define BM_CMD      0
#define BM_STATUS   2
#define BM_PRDT     4
#define BM_CMD_START 0x01
#define BM_CMD_READ  0x08    /* transfer to memory */
#define BM_ST_ACTIVE 0x01
#define BM_ST_ERROR  0x02
#define BM_ST_INTR   0x04
#define BM_ST_DMA_CAP 0x60

/* A PRD table lives in one 64 KiB region: at most this many entries. */
#define PRD_MAX_ENTRIES 8192
#define PRD_EOT 0x80000000u

enum ide_phase {
    PHASE_IDLE,
    PHASE_PIO_IN,
    PHASE_PIO_OUT,
    PHASE_PACKET,
    PHASE_DMA,
};

struct ide_controller;

struct ide_unit_ref {
    struct ide_controller *ide;
    unsigned channel, unit;
};

struct ide_channel {
    struct ide_controller *ide;
    unsigned index;
    unsigned gsi;
    struct ata_drive drive[IDE_UNITS];
    struct ide_unit_ref ref[IDE_UNITS];
    bool intrq[IDE_UNITS];
    bool irq_level;
    unsigned sel;
    uint8_t control;

    /* The data phase of the selected drive's current command. */
    enum ide_phase phase;
    struct ata_drive *active;
    struct ata_xfer x;
    uint64_t pos;           /* bytes of x already moved */
    uint8_t *pio;           /* one DRQ block */
    uint32_t pio_pos, pio_len;
    uint32_t atapi_limit;   /* byte count limit of a PIO packet command */

    uint8_t bm_cmd, bm_status;
    uint32_t bm_prdt;
    struct dma_sg sg;
};

struct ide_controller {
    struct vm *vm;
    struct pci_device pci;
    GMutex lock;
    struct ide_channel ch[IDE_CHANNELS];
    void (*tray_fn)(void *opaque, unsigned channel, unsigned unit, bool open);
    void *tray_opaque;
};

static bool channel_empty(const struct ide_channel *c)
{
    return !c->drive[0].present && !c->drive[1].present;
}

static void update_irq(struct ide_channel *c)
{
    bool level = !(c->control & ATA_DC_NIEN) && c->drive[c->sel].present && c->intrq[c->sel];
    if (level != c->irq_level) {
        c->irq_level = level;
        vm_set_irq(c->ide->vm, c->gsi, level);
    }
}

static void raise_irq(struct ide_channel *c, struct ata_drive *d)
{
    unsigned unit = d == &c->drive[1];
    c->intrq[unit] = true;
    c->bm_status |= BM_ST_INTR;
    update_irq(c);
}

static void end_phase(struct ide_channel *c)
{
    c->phase = PHASE_IDLE;
    c->active = NULL;
    c->pio_pos = c->pio_len = 0;
}

/* ---- PIO -------------------------------------------------------------------- */

/* Fill the block buffer with the next chunk of a data-in transfer. */
static bool load_in_block(struct ide_channel *c)
{
    struct ata_drive *d = c->active;
    struct ata_xfer *x = &c->x;
    uint64_t left = x->len - c->pos;
    uint32_t n = (uint32_t)MIN(left, (uint64_t)(x->atapi ? c->atapi_limit : x->block));
    if (x->media) {
        struct iovec iov = { c->pio, n };
        if (!ata_media_rw(d, x, c->pos, &iov, 1))
            return false;
    } else {
        memcpy(c->pio, x->buf + c->pos, n);
    }
    c->pio_pos = 0;
    c->pio_len = n;
    if (x->atapi) {
        d->r.lbam = (uint8_t)n;
        d->r.lbah = (uint8_t)(n >> 8);
        d->r.count = ATAPI_IR_IO;
    }
    d->r.status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
    return true;
}

static void fail_phase(struct ide_channel *c, bool media_error)
{
    struct ata_drive *d = c->active;
    ata_xfer_failed(d, &c->x, media_error);
    end_phase(c);
    raise_irq(c, d);
}

static void finish_phase(struct ide_channel *c, bool irq)
{
    struct ata_drive *d = c->active;
    ata_xfer_done(d, &c->x);
    end_phase(c);
    if (irq)
        raise_irq(c, d);
}

static void start_pio_in(struct ide_channel *c)
{
    c->phase = PHASE_PIO_IN;
    c->pos = 0;
    if (!load_in_block(c)) {
        fail_phase(c, true);
        return;
    }
    raise_irq(c, c->active);
}

static void start_dma(struct ide_channel *c);

/* After a PACKET command's 12 bytes: run it. */
static void run_packet(struct ide_channel *c)
{
    struct ata_drive *d = c->active;
    bool dma = c->x.dma;
    memcpy(d->packet, c->pio, 12);
    memset(d->packet + 12, 0, sizeof(d->packet) - 12);
    end_phase(c);
    c->active = d;
    if (!atapi_cmd_start(d, &c->x, dma)) {
        end_phase(c);
        raise_irq(c, d);
        return;
    }
    if (dma) {
        d->r.status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
        d->r.count = ATAPI_IR_IO;
        c->phase = PHASE_DMA;
        c->pos = 0;
        if (c->bm_cmd & BM_CMD_START)
            start_dma(c);
        return;
    }
    start_pio_in(c);
}

/* A whole block has been read by the guest. */
static void pio_in_block_done(struct ide_channel *c)
{
    c->pos += c->pio_len;
    if (c->pos < c->x.len) {
        if (!load_in_block(c)) {
            fail_phase(c, true);
            return;
        }
        raise_irq(c, c->active);
        return;
    }
    /* ATA data-in ends without an interrupt; a packet command reports its
     * completion status with one. */
    finish_phase(c, c->x.atapi);
}

static void pio_out_block_done(struct ide_channel *c)
{
    if (c->phase == PHASE_PACKET) {
        run_packet(c);
        return;
    }
    struct iovec iov = { c->pio, c->pio_len };
    if (!ata_media_rw(c->active, &c->x, c->pos, &iov, 1)) {
        fail_phase(c, true);
        return;
    }
    c->pos += c->pio_len;
    if (c->pos < c->x.len) {
        c->pio_pos = 0;
        c->pio_len = (uint32_t)MIN(c->x.len - c->pos, (uint64_t)c->x.block);
        raise_irq(c, c->active);
        return;
    }
    finish_phase(c, true);
}

static uint32_t data_read(struct ide_channel *c, unsigned size)
{
    if (c->phase != PHASE_PIO_IN)
        return 0xffffffffu >> (32 - 8 * size);
    uint32_t v = 0;
    unsigned n = MIN(size, c->pio_len - c->pio_pos);
    for (unsigned i = 0; i < n; i++)
        v |= (uint32_t)c->pio[c->pio_pos + i] << (8 * i);
    c->pio_pos += n;
    if (c->pio_pos >= c->pio_len)
        pio_in_block_done(c);
    return v;
}

static void data_write(struct ide_channel *c, uint32_t v, unsigned size)
{
    if (c->phase != PHASE_PIO_OUT && c->phase != PHASE_PACKET)
        return;
    unsigned n = MIN(size, c->pio_len - c->pio_pos);
    for (unsigned i = 0; i < n; i++)
        c->pio[c->pio_pos + i] = (uint8_t)(v >> (8 * i));
    c->pio_pos += n;
    if (c->pio_pos >= c->pio_len)
        pio_out_block_done(c);
}

/* ---- bus-master DMA ------------------------------------------------------ */

static bool bus_master_enabled(struct ide_controller *ide)
{
    return pci_get_word(&ide->pci.config[PCI_COMMAND]) & PCI_COMMAND_MASTER;
}

/* Gather the PRD table into c->sg, up to need bytes.  Returns false if an
 * entry or the table itself is outside RAM; *covers tells whether the
 * table describes at least need bytes. */
static bool build_prd_list(struct ide_channel *c, uint64_t need, bool *covers, bool *longer)
{
    const struct guest_memory *mem = vm_memory(c->ide->vm);
    dma_sg_clear(&c->sg);
    uint32_t addr = c->bm_prdt;
    uint64_t total = 0;
    *covers = false;
    *longer = false;
    for (unsigned i = 0; i < PRD_MAX_ENTRIES; i++) {
        uint32_t e[2];
        /* The table wraps inside its 64 KiB region, as the hardware's
         * address counter does. */
        uint32_t ea = (addr & 0xffff0000u) | ((addr + i * 8) & 0xffff);
        if (!guest_memory_read(mem, ea, e, sizeof(e)))
            return false;
        uint32_t base = GUINT32_FROM_LE(e[0]) & ~1u;
        uint32_t ctl = GUINT32_FROM_LE(e[1]);
        uint32_t len = ctl & 0xfffe;
        if (len == 0)
            len = 0x10000;
        if (total < need && !dma_sg_add(&c->sg, mem, base, len, need))
            return false;
        total += len;
        if (total >= need) {
            *covers = true;
            if (total > need || !(ctl & PRD_EOT))
                *longer = true;
            if (total > need || (ctl & PRD_EOT))
                return true;
        }
        if (ctl & PRD_EOT)
            return true;
    }
    /* No end-of-table mark: the table is malformed. */
    *covers = false;
    return true;
}

static void start_dma(struct ide_channel *c)
{
    if (c->phase != PHASE_DMA || !(c->bm_status & BM_ST_ACTIVE) ||
        !bus_master_enabled(c->ide))
        return;
    struct ata_drive *d = c->active;
    bool covers, longer;
    bool ok = build_prd_list(c, c->x.len, &covers, &longer);
    if (!ok || !covers) {
        c->bm_status = (uint8_t)((c->bm_status & ~BM_ST_ACTIVE) | BM_ST_ERROR);
        fail_phase(c, false);
        return;
    }
    if (!dma_sg_transfer(d, &c->x, 0, &c->sg)) {
        c->bm_status = (uint8_t)((c->bm_status & ~BM_ST_ACTIVE) | BM_ST_ERROR);
        fail_phase(c, true);
        return;
    }
    /* With a table larger than the transfer the engine stays active until
     * the guest stops it. */
    if (!longer)
        c->bm_status &= (uint8_t)~BM_ST_ACTIVE;
    finish_phase(c, true);
}

/* ---- command block --------------------------------------------------------- */

static void reset_channel(struct ide_channel *c)
{
    end_phase(c);
    for (unsigned u = 0; u < IDE_UNITS; u++) {
        ata_drive_reset(&c->drive[u]);
        c->intrq[u] = false;
    }
    c->sel = 0;
    update_irq(c);
}

static void write_command(struct ide_channel *c, uint8_t cmd)
{
    struct ata_drive *d = &c->drive[c->sel];
    if (!d->present)
        return;
    /* A new command ends whatever was in progress. */
    end_phase(c);
    c->intrq[c->sel] = false;
    update_irq(c);
    d->r.command = cmd;
    c->active = d;
    if (!ata_cmd_start(d, &c->x)) {
        c->active = NULL;
        /* A packet device's DEVICE RESET completes without an interrupt. */
        if (cmd != ATA_CMD_DEVICE_RESET || !d->cdrom)
            raise_irq(c, d);
        return;
    }
    c->pos = 0;
    switch (c->x.proto) {
    case ATA_PROTO_PIO:
        if (c->x.dir == ATA_DIR_IN) {
            start_pio_in(c);
        } else {
            c->phase = PHASE_PIO_OUT;
            c->pio_pos = 0;
            c->pio_len = (uint32_t)MIN(c->x.len, (uint64_t)c->x.block);
            d->r.status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
        }
        break;
    case ATA_PROTO_DMA:
        c->phase = PHASE_DMA;
        d->r.status = ATA_SR_DRDY | ATA_SR_DSC | ATA_SR_DRQ;
        if (c->bm_cmd & BM_CMD_START)
            start_dma(c);
        break;
    case ATA_PROTO_PACKET: {
        uint32_t limit = ((uint32_t)d->r.lbah << 8 | d->r.lbam) & ~1u;
        c->atapi_limit = limit ? limit : 0xfffe;
        c->phase = PHASE_PACKET;
        c->pio_pos = 0;
        c->pio_len = 12;
        d->r.status = ATA_SR_DRDY | ATA_SR_DRQ;
        d->r.count = ATAPI_IR_COD;
        break;
    }
    default:
        /* NCQ is not a command of a parallel ATA device. */
        ata_cmd_abort(d);
        end_phase(c);
        raise_irq(c, d);
        break;
    }
}

static uint8_t read_register(struct ide_channel *c, unsigned reg)
{
    /* An empty channel floats, except that the host's pull-down on DD7
     * keeps BSY clear: status reads 0 (as QEMU's does), so firmware that
     * waits for BSY to drop (OVMF) sees "no device" at once. */
    if (channel_empty(c))
        return reg == 7 ? 0 : 0xff;
    struct ata_drive *d = &c->drive[c->sel];
    bool hob = c->control & ATA_DC_HOB;
    switch (reg) {
    case 1: return d->r.error;
    case 2: return hob ? d->r.hob_count : d->r.count;
    case 3: return hob ? d->r.hob_lbal : d->r.lbal;
    case 4: return hob ? d->r.hob_lbam : d->r.lbam;
    case 5: return hob ? d->r.hob_lbah : d->r.lbah;
    case 6: return d->r.device | 0xa0;
    case 7:
        if (!d->present)
            return 0;
        c->intrq[c->sel] = false;
        update_irq(c);
        return d->r.status;
    default:
        return 0xff;
    }
}

static void write_register(struct ide_channel *c, unsigned reg, uint8_t v)
{
    if (reg == 7) {
        write_command(c, v);
        return;
    }
    c->control &= (uint8_t)~ATA_DC_HOB;
    for (unsigned u = 0; u < IDE_UNITS; u++) {
        struct ata_regs *r = &c->drive[u].r;
        switch (reg) {
        case 1: r->hob_feature = r->feature; r->feature = v; break;
        case 2: r->hob_count = r->count; r->count = v; break;
        case 3: r->hob_lbal = r->lbal; r->lbal = v; break;
        case 4: r->hob_lbam = r->lbam; r->lbam = v; break;
        case 5: r->hob_lbah = r->lbah; r->lbah = v; break;
        case 6: r->device = v & 0x5f; break;
        default: break;
        }
    }
    if (reg == 6) {
        c->sel = (v & ATA_DEV_DEV1) ? 1 : 0;
        update_irq(c);
    }
}

static uint64_t cmd_read(void *opaque, uint64_t offset, unsigned size)
{
    struct ide_channel *c = opaque;
    g_mutex_lock(&c->ide->lock);
    uint64_t v;
    if (offset == 0 && size > 1)
        v = channel_empty(c) ? 0xffffffffu >> (32 - 8 * MIN(size, 4u)) : data_read(c, MIN(size, 4u));
    else
        v = read_register(c, (unsigned)offset);
    g_mutex_unlock(&c->ide->lock);
    return v;
}

static void cmd_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct ide_channel *c = opaque;
    g_mutex_lock(&c->ide->lock);
    if (offset == 0 && size > 1)
        data_write(c, (uint32_t)value, MIN(size, 4u));
    else if (offset != 0)
        write_register(c, (unsigned)offset, (uint8_t)value);
    g_mutex_unlock(&c->ide->lock);
}

static const struct io_ops cmd_ops = { .read = cmd_read, .write = cmd_write };

static uint64_t ctrl_read(void *opaque, uint64_t offset, unsigned size)
{
    struct ide_channel *c = opaque;
    g_mutex_lock(&c->ide->lock);
    uint8_t v;
    if (channel_empty(c))
        v = 0;      /* as the status register, above */
    else
        v = c->drive[c->sel].present ? c->drive[c->sel].r.status : 0;
    g_mutex_unlock(&c->ide->lock);
    return v;
}

static void ctrl_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct ide_channel *c = opaque;
    g_mutex_lock(&c->ide->lock);
    uint8_t old = c->control;
    c->control = (uint8_t)value & (ATA_DC_NIEN | ATA_DC_SRST | ATA_DC_HOB);
    if (c->control & ATA_DC_SRST) {
        if (!(old & ATA_DC_SRST)) {
            end_phase(c);
            for (unsigned u = 0; u < IDE_UNITS; u++)
                if (c->drive[u].present)
                    c->drive[u].r.status = ATA_SR_BSY;
        }
    } else if (old & ATA_DC_SRST) {
        reset_channel(c);
    }
    update_irq(c);
    g_mutex_unlock(&c->ide->lock);
}

static const struct io_ops ctrl_ops = { .read = ctrl_read, .write = ctrl_write };

/* ---- bus-master registers -------------------------------------------------- */

static uint8_t bm_read_byte(struct ide_controller *ide, unsigned off)
{
    struct ide_channel *c = &ide->ch[(off >> 3) & 1];
    unsigned reg = off & 7;
    switch (reg) {
    case BM_CMD: return c->bm_cmd;
    case BM_STATUS: return c->bm_status;
    case 4: case 5: case 6: case 7:
        return (uint8_t)(c->bm_prdt >> (8 * (reg - 4)));
    default: return 0;
    }
}

static void bm_write_byte(struct ide_controller *ide, unsigned off, uint8_t v)
{
    struct ide_channel *c = &ide->ch[(off >> 3) & 1];
    unsigned reg = off & 7;
    switch (reg) {
    case BM_CMD: {
        uint8_t old = c->bm_cmd;
        c->bm_cmd = v & (BM_CMD_START | BM_CMD_READ);
        if ((c->bm_cmd & BM_CMD_START) && !(old & BM_CMD_START)) {
            c->bm_status |= BM_ST_ACTIVE;
            start_dma(c);
        } else if (!(c->bm_cmd & BM_CMD_START) && (old & BM_CMD_START)) {
            c->bm_status &= (uint8_t)~BM_ST_ACTIVE;
        }
        break;
    }
    case BM_STATUS:
        c->bm_status = (uint8_t)((c->bm_status & ~(BM_ST_DMA_CAP | (v & (BM_ST_ERROR | BM_ST_INTR)))) |
                                 (v & BM_ST_DMA_CAP));
        break;
    case 4: case 5: case 6: case 7: {
        unsigned sh = 8 * (reg - 4);
        c->bm_prdt = (c->bm_prdt & ~(0xffu << sh)) | ((uint32_t)v << sh);
        c->bm_prdt &= ~3u;
        break;
    }
    default:
        break;
    }
}

static uint64_t bm_read(void *opaque, uint64_t offset, unsigned size)
{
    struct ide_controller *ide = opaque;
    g_mutex_lock(&ide->lock);
    uint64_t v = 0;
    for (unsigned i = 0; i < size && offset + i < 16; i++)
        v |= (uint64_t)bm_read_byte(ide, (unsigned)offset + i) << (8 * i);
    g_mutex_unlock(&ide->lock);
    return v;
}

static void bm_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct ide_controller *ide = opaque;
    g_mutex_lock(&ide->lock);
    /* Address bytes first, command last, so one 32-bit write that covers
     * both sees the new table. */
    for (int i = (int)size - 1; i >= 0; i--)
        if (offset + (unsigned)i < 16)
            bm_write_byte(ide, (unsigned)offset + (unsigned)i, (uint8_t)(value >> (8 * i)));
    g_mutex_unlock(&ide->lock);
}

static const struct io_ops bm_ops = { .read = bm_read, .write = bm_write };

/* ---- VM state -------------------------------------------------------------------- */

/* Per channel: the registers and interrupt state, both drives, and the
 * data phase in progress with its block buffer.  Bus-master transfers run
 * to completion inside the guest's register write, so at most one waits
 * for the guest to start the engine. */
static void save_channel(struct ide_channel *c, struct state_out *o)
{
    state_out_u8(o, c->control);
    state_out_u8(o, (uint8_t)c->sel);
    state_out_bool(o, c->intrq[0]);
    state_out_bool(o, c->intrq[1]);
    for (unsigned u = 0; u < IDE_UNITS; u++)
        if (c->drive[u].present)
            ata_drive_save(&c->drive[u], o);
    state_out_u8(o, (uint8_t)c->phase);
    if (c->phase != PHASE_IDLE) {
        state_out_u8(o, c->active == &c->drive[1]);
        ata_xfer_save(c->active, &c->x, o);
        state_out_u64(o, c->pos);
        state_out_u32(o, c->pio_pos);
        state_out_u32(o, c->pio_len);
        state_out_u32(o, c->atapi_limit);
        state_out_bytes(o, c->pio, c->pio_len);
    }
    state_out_u8(o, c->bm_cmd);
    state_out_u8(o, c->bm_status);
    state_out_u32(o, c->bm_prdt);
}

/* The data phase as the command paths leave it. */
static bool phase_valid(const struct ide_channel *c)
{
    const struct ata_xfer *x = &c->x;
    if (c->pos > x->len || c->pio_len > ATA_BUF_SIZE || c->pio_pos > c->pio_len ||
        c->atapi_limit > 0xfffe || (c->atapi_limit & 1))
        return false;
    switch (c->phase) {
    case PHASE_PIO_IN:
        return x->dir == ATA_DIR_IN && (x->block || x->atapi) && (!x->atapi || c->atapi_limit);
    case PHASE_PIO_OUT:
        return x->dir == ATA_DIR_OUT && x->block && x->media;
    case PHASE_PACKET:
        return c->pio_len == 12 && c->atapi_limit;
    case PHASE_DMA:
        return x->dir != ATA_DIR_NONE;
    default:
        return false;
    }
}

static bool load_phase(struct ide_channel *c, struct state_in *in, GError **error)
{
    c->phase = (enum ide_phase)state_in_u8(in);
    if (c->phase == PHASE_IDLE) {
        end_phase(c);
        return true;
    }
    unsigned unit = state_in_u8(in);
    if (c->phase > PHASE_DMA || unit >= IDE_UNITS || !c->drive[unit].present)
        return state_in_invalid(in, error, _("IDE channel %u: phase %u on unit %u"), c->index,
                                c->phase, unit);
    c->active = &c->drive[unit];
    if (!ata_xfer_load(c->active, &c->x, in, error))
        return false;
    c->pos = state_in_u64(in);
    c->pio_pos = state_in_u32(in);
    c->pio_len = state_in_u32(in);
    c->atapi_limit = state_in_u32(in);
    if (in->short_read || !phase_valid(c))
        return state_in_invalid(in, error, _("IDE channel %u: data phase"), c->index);
    state_in_bytes(in, c->pio, c->pio_len);
    return true;
}

static bool load_channel(struct ide_channel *c, struct state_in *in, GError **error)
{
    c->control = state_in_u8(in) & (ATA_DC_NIEN | ATA_DC_SRST | ATA_DC_HOB);
    c->sel = state_in_u8(in) & 1;
    c->intrq[0] = state_in_bool(in);
    c->intrq[1] = state_in_bool(in);
    for (unsigned u = 0; u < IDE_UNITS; u++)
        if (c->drive[u].present && !ata_drive_load(&c->drive[u], in, error))
            return false;
    if (!load_phase(c, in, error))
        return false;
    c->bm_cmd = state_in_u8(in) & (BM_CMD_START | BM_CMD_READ);
    c->bm_status = state_in_u8(in) & (BM_ST_ACTIVE | BM_ST_ERROR | BM_ST_INTR | BM_ST_DMA_CAP);
    c->bm_prdt = state_in_u32(in) & ~3u;
    if (in->short_read)
        return state_in_invalid(in, error, _("truncated"));
    /* This process's lines are low: drive them afresh. */
    c->irq_level = false;
    update_irq(c);
    return true;
}

static bool ide_save(struct pci_device *dev, struct state_out *o, GError **error)
{
    struct ide_controller *ide = dev->opaque;
    g_mutex_lock(&ide->lock);
    for (unsigned i = 0; i < IDE_CHANNELS; i++) {
        /* Which drives there are comes from the configuration. */
        for (unsigned u = 0; u < IDE_UNITS; u++)
            state_out_u8(o, (uint8_t)(ide->ch[i].drive[u].present |
                                      ide->ch[i].drive[u].cdrom << 1));
        save_channel(&ide->ch[i], o);
    }
    g_mutex_unlock(&ide->lock);
    return true;
}

static bool ide_load(struct pci_device *dev, struct state_in *in, uint32_t version,
                     GError **error)
{
    struct ide_controller *ide = dev->opaque;
    bool ok = true;
    g_mutex_lock(&ide->lock);
    for (unsigned i = 0; ok && i < IDE_CHANNELS; i++) {
        for (unsigned u = 0; ok && u < IDE_UNITS; u++) {
            const struct ata_drive *d = &ide->ch[i].drive[u];
            if (state_in_u8(in) != (uint8_t)(d->present | d->cdrom << 1))
                ok = state_in_invalid(in, error, _("IDE channel %u unit %u held another drive"),
                                      i, u);
        }
        ok = ok && load_channel(&ide->ch[i], in, error);
    }
    if (!ok) {
        for (unsigned i = 0; i < IDE_CHANNELS; i++)
            end_phase(&ide->ch[i]);
    }
    g_mutex_unlock(&ide->lock);
    return ok;
}

static const struct pci_state_ops ide_state_ops = {
    .version = 1, .save = ide_save, .load = ide_load,
};

/* ---- setup -------------------------------------------------------------------- */

/* IDETIM of both channels with the decode-enable bit set: drivers for the
 * PIIX treat a channel whose bit is clear as switched off, and a directly
 * booted kernel finds no firmware to set it. */
static void set_timing_defaults(struct pci_device *p)
{
    pci_set_word(&p->config[0x40], 0x8000);
    pci_set_word(&p->config[0x42], 0x8000);
}

static void ide_reset(void *opaque)
{
    struct ide_controller *ide = opaque;
    g_mutex_lock(&ide->lock);
    pci_device_reset(&ide->pci);
    set_timing_defaults(&ide->pci);
    for (unsigned i = 0; i < IDE_CHANNELS; i++) {
        struct ide_channel *c = &ide->ch[i];
        c->control = 0;
        c->bm_cmd = 0;
        c->bm_status &= BM_ST_DMA_CAP;
        c->bm_prdt = 0;
        reset_channel(c);
    }
    g_mutex_unlock(&ide->lock);
}

struct ide_controller *piix3_ide_create(struct vm *vm, struct pci_bus *bus, GError **error)
{
    struct ide_controller *ide = g_new0(struct ide_controller, 1);
    ide->vm = vm;
    g_mutex_init(&ide->lock);
    static const uint16_t ports[IDE_CHANNELS] = { IDE_PRIMARY_PORT, IDE_SECONDARY_PORT };
    static const uint16_t ctrls[IDE_CHANNELS] = { IDE_PRIMARY_CTRL, IDE_SECONDARY_CTRL };
    static const unsigned irqs[IDE_CHANNELS] = { IDE_PRIMARY_IRQ, IDE_SECONDARY_IRQ };
    for (unsigned i = 0; i < IDE_CHANNELS; i++) {
        struct ide_channel *c = &ide->ch[i];
        c->ide = ide;
        c->index = i;
        c->gsi = irqs[i];
        c->pio = g_malloc0(ATA_BUF_SIZE);
        dma_sg_init(&c->sg);
        for (unsigned u = 0; u < IDE_UNITS; u++)
            c->ref[u] = (struct ide_unit_ref){ ide, i, u };
    }

    /* Class: mass storage, IDE, bus master with both channels fixed in
     * compatibility mode. */
    struct pci_device *p = &ide->pci;
    pci_device_init(p, "piix3-ide", 0x8086, 0x7010, 0x010180, 0x00, 0);
    pci_set_word(&p->config[PCI_STATUS], 0x0280);
    for (unsigned o = 0x40; o < 0x50; o++)
        p->wmask[o] = 0xff;     /* IDE timing registers: storage for firmware */
    set_timing_defaults(p);
    pci_device_set_bar(p, 4, PCI_BAR_IO, false, 16, &bm_ops, ide);
    p->opaque = ide;
    p->state = &ide_state_ops;
    if (!pci_register_device_at(bus, p, 1, 1, error))
        goto fail;

    struct iobus *pio = vm_pio_bus(vm);
    for (unsigned i = 0; i < IDE_CHANNELS; i++) {
        if (!iobus_register(pio, ports[i], 8, &cmd_ops, &ide->ch[i], "ide") ||
            !iobus_register(pio, ctrls[i], 1, &ctrl_ops, &ide->ch[i], "ide")) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                        _("IDE ports 0x%x/0x%x are already in use"), ports[i], ctrls[i]);
            for (unsigned j = 0; j <= i; j++) {
                iobus_unregister(pio, ports[j], &ide->ch[j]);
                iobus_unregister(pio, ctrls[j], &ide->ch[j]);
            }
            pci_unregister_device(p);
            goto fail;
        }
    }
    vm_add_reset_handler(vm, ide_reset, ide);
    return ide;

fail:
    for (unsigned i = 0; i < IDE_CHANNELS; i++) {
        g_free(ide->ch[i].pio);
        dma_sg_free(&ide->ch[i].sg);
    }
    g_mutex_clear(&ide->lock);
    g_free(ide);
    return NULL;
}

void ide_free(struct ide_controller *ide)
{
    if (!ide)
        return;
    struct iobus *pio = vm_pio_bus(ide->vm);
    static const uint16_t ports[IDE_CHANNELS] = { IDE_PRIMARY_PORT, IDE_SECONDARY_PORT };
    static const uint16_t ctrls[IDE_CHANNELS] = { IDE_PRIMARY_CTRL, IDE_SECONDARY_CTRL };
    pci_unregister_device(&ide->pci);
    for (unsigned i = 0; i < IDE_CHANNELS; i++) {
        struct ide_channel *c = &ide->ch[i];
        iobus_unregister(pio, ports[i], c);
        iobus_unregister(pio, ctrls[i], c);
        for (unsigned u = 0; u < IDE_UNITS; u++)
            if (c->drive[u].present)
                ata_drive_destroy(&c->drive[u]);
        g_free(c->pio);
        dma_sg_free(&c->sg);
    }
    g_mutex_clear(&ide->lock);
    g_free(ide);
}

static void tray_changed(void *opaque, bool open)
{
    struct ide_unit_ref *ref = opaque;
    if (ref->ide->tray_fn)
        ref->ide->tray_fn(ref->ide->tray_opaque, ref->channel, ref->unit, open);
}

static bool check_unit(unsigned channel, unsigned unit, GError **error)
{
    if (channel >= IDE_CHANNELS || unit >= IDE_UNITS) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    _("There is no IDE channel %u unit %u"), channel, unit);
        return false;
    }
    return true;
}

bool ide_attach(struct ide_controller *ide, unsigned channel, unsigned unit,
                const struct disk_config *cfg, bool cdrom, GError **error)
{
    if (!check_unit(channel, unit, error))
        return false;
    g_mutex_lock(&ide->lock);
    struct ide_channel *c = &ide->ch[channel];
    struct ata_drive *d = &c->drive[unit];
    bool ok = false;
    if (d->present) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                    _("IDE channel %u unit %u is already in use"), channel, unit);
    } else if (ata_drive_init(d, cfg, cdrom, error)) {
        d->tray_changed = tray_changed;
        d->tray_opaque = &c->ref[unit];
        /* Both drives are DMA capable: firmware reads these bits. */
        c->bm_status |= (uint8_t)(0x20 << unit);
        ok = true;
    }
    g_mutex_unlock(&ide->lock);
    return ok;
}

static struct ata_drive *cdrom_unit(struct ide_controller *ide, unsigned channel, unsigned unit,
                                    GError **error)
{
    if (!check_unit(channel, unit, error))
        return NULL;
    struct ata_drive *d = &ide->ch[channel].drive[unit];
    if (!d->present || !d->cdrom) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    _("IDE channel %u unit %u is not a CD-ROM drive"), channel, unit);
        return NULL;
    }
    return d;
}

bool ide_cdrom_change_media(struct ide_controller *ide, unsigned channel, unsigned unit,
                            const char *path, GError **error)
{
    struct block_backend *bb = block_raw_open(path, true, error);
    if (!bb)
        return false;
    g_mutex_lock(&ide->lock);
    struct ata_drive *d = cdrom_unit(ide, channel, unit, error);
    if (d)
        atapi_insert_media(d, bb);
    g_mutex_unlock(&ide->lock);
    if (!d)
        block_backend_close(bb);
    return d != NULL;
}

bool ide_cdrom_eject(struct ide_controller *ide, unsigned channel, unsigned unit,
                     bool force, GError **error)
{
    g_mutex_lock(&ide->lock);
    struct ata_drive *d = cdrom_unit(ide, channel, unit, error);
    bool ok = d != NULL;
    if (d && !atapi_eject(d, force)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY,
                    _("The guest has locked the CD-ROM tray"));
        ok = false;
    }
    g_mutex_unlock(&ide->lock);
    return ok;
}

char *ide_boot_path(unsigned channel, unsigned unit)
{
    return g_strdup_printf("/pci@i0cf8/ide@1,1/drive@%x/disk@%x", channel, unit);
}

void ide_set_tray_handler(struct ide_controller *ide,
                          void (*fn)(void *opaque, unsigned channel, unsigned unit, bool open),
                          void *opaque)
{
    g_mutex_lock(&ide->lock);
    ide->tray_fn = fn;
    ide->tray_opaque = opaque;
    g_mutex_unlock(&ide->lock);
}

struct pci_device *ide_pci_device(struct ide_controller *ide)
{
    return &ide->pci;
}
