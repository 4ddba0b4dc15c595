#include "ata.h"

#include <inttypes.h>
#include <string.h>
#include <glib/gi18n.h>

#include "core/state_stream.h"

static void save_regs(const struct ata_regs *r, struct state_out *o)
{
    const uint8_t b[] = {
        r->feature, r->hob_feature, r->count, r->hob_count, r->lbal, r->hob_lbal,
        r->lbam, r->hob_lbam, r->lbah, r->hob_lbah, r->device, r->command, r->status, r->error,
    };
    state_out_bytes(o, b, sizeof(b));
}

static void load_regs(struct ata_regs *r, struct state_in *in)
{
    uint8_t b[14];
    state_in_bytes(in, b, sizeof(b));
    *r = (struct ata_regs){
        .feature = b[0], .hob_feature = b[1], .count = b[2], .hob_count = b[3],
        .lbal = b[4], .hob_lbal = b[5], .lbam = b[6], .hob_lbam = b[7],
        .lbah = b[8], .hob_lbah = b[9], .device = b[10], .command = b[11],
        .status = b[12], .error = b[13],
    };
}

void ata_drive_save(const struct ata_drive *d, struct state_out *o)
{
    save_regs(&d->r, o);
    state_out_u16(o, (uint16_t)d->multiple);
    state_out_u8(o, d->xfer_mode);
    state_out_bool(o, d->write_cache);
    state_out_bool(o, d->lba48_cmd);
    state_out_bool(o, d->ncq_error);
    state_out_u8(o, d->ncq_error_tag);
    save_regs(&d->ncq_error_regs, o);
    state_out_bytes(o, d->packet, sizeof(d->packet));
    const uint8_t atapi[] = { d->sense.key, d->sense.asc, d->sense.ascq, d->unit_attention,
                              d->tray_open, d->locked, (uint8_t)d->event };
    state_out_bytes(o, atapi, sizeof(atapi));
    state_out_bool(o, d->bb != NULL);
    state_out_u64(o, d->bb ? d->bb->size : 0);
    state_out_sparse(o, d->buf, ATA_BUF_SIZE);
}

/* The medium: as configured now, or taken out as it was when saved. */
static bool load_medium(struct ata_drive *d, struct state_in *in, GError **error)
{
    bool had = state_in_bool(in);
    uint64_t size = state_in_u64(in);
    if (in->short_read)
        return state_in_invalid(in, error, _("truncated"));
    if (had && !d->bb)
        return state_in_invalid(in, error, _("the drive held a medium of %" PRIu64
                                             " bytes; start the VM with it"), size);
    if (had && d->bb->size != size)
        return state_in_invalid(in, error, _("the drive held a medium of %" PRIu64
                                             " bytes, not this one of %" PRIu64),
                                size, d->bb->size);
    if (!had && d->bb) {
        if (!d->cdrom)
            return state_in_invalid(in, error, _("a hard disk without its image"));
        block_backend_close(d->bb);
        d->bb = NULL;
    }
    return true;
}

bool ata_drive_load(struct ata_drive *d, struct state_in *in, GError **error)
{
    struct ata_regs r, ncq_regs;
    load_regs(&r, in);
    unsigned multiple = state_in_u16(in);
    uint8_t xfer_mode = state_in_u8(in);
    bool write_cache = state_in_bool(in), lba48 = state_in_bool(in);
    bool ncq_error = state_in_bool(in);
    uint8_t ncq_tag = state_in_u8(in);
    load_regs(&ncq_regs, in);
    uint8_t packet[16], atapi[7];
    state_in_bytes(in, packet, sizeof(packet));
    state_in_bytes(in, atapi, sizeof(atapi));
    if (in->short_read)
        return state_in_invalid(in, error, _("truncated"));
    /* SET MULTIPLE MODE takes powers of two up to 128. */
    if (multiple > 128 || (multiple & (multiple - 1)) || atapi[6] > ATAPI_EVENT_MEDIA_REMOVAL)
        return state_in_invalid(in, error, _("drive settings"));
    if (!load_medium(d, in, error))
        return false;
    if (!state_in_sparse(in, d->buf, ATA_BUF_SIZE))
        return state_in_invalid(in, error, _("truncated"));
    d->r = r;
    d->multiple = multiple;
    d->xfer_mode = xfer_mode;
    d->write_cache = write_cache;
    d->lba48_cmd = lba48;
    d->ncq_error = ncq_error;
    d->ncq_error_tag = ncq_tag & 0x1f;
    d->ncq_error_regs = ncq_regs;
    memcpy(d->packet, packet, sizeof(packet));
    d->sense = (struct atapi_sense){ atapi[0], atapi[1], atapi[2] };
    d->unit_attention = atapi[3];
    d->tray_open = atapi[4];
    d->locked = atapi[5];
    d->event = (enum atapi_media_event)atapi[6];
    return true;
}

void ata_xfer_save(const struct ata_drive *d, const struct ata_xfer *x, struct state_out *o)
{
    const uint8_t b[] = { (uint8_t)x->dir, (uint8_t)x->proto, x->media, x->atapi, x->dma,
                          x->ncq_tag };
    state_out_bytes(o, b, sizeof(b));
    state_out_u64(o, x->offset);
    state_out_u64(o, x->len);
    state_out_u32(o, x->block);
    /* Generated data always lives in the drive's buffer. */
    state_out_u32(o, x->buf && d->buf ? (uint32_t)(x->buf - d->buf) : UINT32_MAX);
}

bool ata_xfer_load(const struct ata_drive *d, struct ata_xfer *x, struct state_in *in,
                   GError **error)
{
    uint8_t b[6];
    state_in_bytes(in, b, sizeof(b));
    uint64_t offset = state_in_u64(in), len = state_in_u64(in);
    uint32_t block = state_in_u32(in), buf_off = state_in_u32(in);
    if (in->short_read)
        return state_in_invalid(in, error, _("truncated"));
    bool media = b[2];
    bool ok = b[0] <= ATA_DIR_OUT && b[1] <= ATA_PROTO_PACKET && block <= ATA_BUF_SIZE;
    if (media)
        ok = ok && d->bb && offset <= d->bb->size && len <= d->bb->size - offset;
    else
        ok = ok && (len == 0 || (buf_off < ATA_BUF_SIZE && len <= ATA_BUF_SIZE - buf_off));
    if (!ok)
        return state_in_invalid(in, error, _("transfer of %" PRIu64 " bytes"), len);
    *x = (struct ata_xfer){
        .dir = (enum ata_dir)b[0], .proto = (enum ata_proto)b[1], .media = media,
        .atapi = b[3], .dma = b[4], .ncq_tag = b[5] & 0x1f,
        .offset = offset, .len = len, .block = block,
        .buf = !media && buf_off < ATA_BUF_SIZE ? d->buf + buf_off : NULL,
    };
    return true;
}
