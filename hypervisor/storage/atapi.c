/* The SCSI/MMC command set of an ATAPI CD/DVD-ROM, shared by IDE and AHCI:
 * packets are decoded into data phases of struct ata_xfer; sense data,
 * the tray, the lock and media-change events live in struct ata_drive. */
#include <string.h>
#include <glib.h>

#include "ata.h"

/* Sense keys and additional sense codes (SPC/MMC). */
#define SK_NO_SENSE        0x00
#define SK_NOT_READY       0x02
#define SK_MEDIUM_ERROR    0x03
#define SK_ILLEGAL_REQUEST 0x05
#define SK_UNIT_ATTENTION  0x06
#define SK_DATA_PROTECT    0x07

#define ASC_INVALID_OPCODE       0x20
#define ASC_LBA_OUT_OF_RANGE     0x21
#define ASC_INVALID_FIELD        0x24
#define ASC_WRITE_PROTECTED      0x27
#define ASC_MEDIUM_CHANGED       0x28
#define ASC_SAVING_NOT_SUPPORTED 0x39
#define ASC_MEDIUM_NOT_PRESENT   0x3a
#define ASC_REMOVAL_PREVENTED    0x53

/* Discs larger than a CD are reported as DVDs. */
#define CD_MAX_BLOCKS 404850u

#define MMC_PROFILE_CD_ROM  0x0008
#define MMC_PROFILE_DVD_ROM 0x0010

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

void atapi_set_sense(struct ata_drive *d, uint8_t key, uint8_t asc, uint8_t ascq)
{
    d->sense = (struct atapi_sense){ key, asc, ascq };
}

void atapi_check_condition(struct ata_drive *d)
{
    d->r.status = ATA_SR_DRDY | ATA_SR_ERR;
    d->r.error = (uint8_t)(d->sense.key << 4) | ATA_ER_ABRT;
    d->r.count = ATAPI_IR_IO | ATAPI_IR_COD;
}

void atapi_cmd_ok(struct ata_drive *d)
{
    d->r.status = ATA_SR_DRDY | ATA_SR_DSC;
    d->r.error = 0;
    d->r.count = ATAPI_IR_IO | ATAPI_IR_COD;
}

static bool fail(struct ata_drive *d, uint8_t key, uint8_t asc, uint8_t ascq)
{
    atapi_set_sense(d, key, asc, ascq);
    atapi_check_condition(d);
    return false;
}

static bool media_present(const struct ata_drive *d)
{
    return d->bb && !d->tray_open;
}

static uint32_t capacity_blocks(const struct ata_drive *d)
{
    uint64_t b = media_present(d) ? d->bb->size / ATAPI_BLOCK_SIZE : 0;
    return (uint32_t)MIN(b, (uint64_t)UINT32_MAX);
}

static bool is_dvd(const struct ata_drive *d)
{
    return capacity_blocks(d) > CD_MAX_BLOCKS;
}

static bool not_ready(struct ata_drive *d)
{
    return fail(d, SK_NOT_READY, ASC_MEDIUM_NOT_PRESENT, d->tray_open ? 0x02 : 0x01);
}

/* Answer with len bytes of d->buf, cut to the allocation length. */
static bool respond(struct ata_drive *d, struct ata_xfer *x, uint32_t len, uint32_t alloc)
{
    len = MIN(len, alloc);
    if (len == 0) {
        atapi_cmd_ok(d);
        return false;
    }
    x->dir = ATA_DIR_IN;
    x->media = false;
    x->buf = d->buf;
    x->len = len;
    return true;
}

static bool read_blocks(struct ata_drive *d, struct ata_xfer *x, uint32_t lba, uint32_t count)
{
    if (!media_present(d))
        return not_ready(d);
    uint32_t cap = capacity_blocks(d);
    if (lba > cap || count > cap - lba)
        return fail(d, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
    if (count == 0) {
        atapi_cmd_ok(d);
        return false;
    }
    x->dir = ATA_DIR_IN;
    x->media = true;
    x->offset = (uint64_t)lba * ATAPI_BLOCK_SIZE;
    x->len = (uint64_t)count * ATAPI_BLOCK_SIZE;
    return true;
}

static void lba_to_msf(uint8_t *p, uint32_t lba)
{
    lba += 150;
    p[0] = 0;
    p[1] = (uint8_t)(lba / (75 * 60));
    p[2] = (uint8_t)((lba / 75) % 60);
    p[3] = (uint8_t)(lba % 75);
}

static void put_addr(uint8_t *p, uint32_t lba, bool msf)
{
    if (msf)
        lba_to_msf(p, lba);
    else
        put_be32(p, lba);
}

static bool read_toc(struct ata_drive *d, struct ata_xfer *x, const uint8_t *cdb)
{
    if (!media_present(d))
        return not_ready(d);
    bool msf = cdb[1] & 0x02;
    unsigned format = cdb[2] & 0x0f;
    if (format == 0 && cdb[9] >> 6)
        format = cdb[9] >> 6;   /* the older SFF-8020 place for it */
    unsigned track = cdb[6];
    uint32_t alloc = be16(cdb + 7);
    uint32_t cap = capacity_blocks(d);
    uint8_t *b = d->buf;
    unsigned n;
    memset(b, 0, 64);
    switch (format) {
    case 0:
        if (track > 1 && track != 0xaa)
            return fail(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        b[2] = 1;
        b[3] = 1;
        n = 4;
        if (track <= 1) {
            b[n + 1] = 0x14;    /* data track, Q sub-channel position */
            b[n + 2] = 1;
            put_addr(b + n + 4, 0, msf);
            n += 8;
        }
        b[n + 1] = 0x14;
        b[n + 2] = 0xaa;        /* lead-out */
        put_addr(b + n + 4, cap, msf);
        n += 8;
        break;
    case 1:
        b[2] = 1;
        b[3] = 1;
        b[5] = 0x14;
        b[6] = 1;
        put_addr(b + 8, 0, msf);
        n = 12;
        break;
    case 2: {
        b[2] = 1;
        b[3] = 1;
        n = 4;
        static const uint8_t points[] = { 0xa0, 0xa1, 0xa2, 0x01 };
        for (unsigned i = 0; i < G_N_ELEMENTS(points); i++) {
            uint8_t *e = b + n;
            e[0] = 1;           /* session */
            e[1] = 0x14;
            e[3] = points[i];
            switch (points[i]) {
            case 0xa0:
                e[8] = 1;       /* first track; disc type CD-ROM */
                break;
            case 0xa1:
                e[8] = 1;       /* last track */
                break;
            case 0xa2:
                lba_to_msf(e + 7, cap);
                e[7] = 0;
                break;
            default:
                lba_to_msf(e + 7, 0);
                e[7] = 0;
                break;
            }
            n += 11;
        }
        break;
    }
    default:
        return fail(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
    }
    put_be16(b, (uint16_t)(n - 2));
    return respond(d, x, n, alloc);
}

/* One feature descriptor of GET CONFIGURATION. */
static unsigned put_feature(uint8_t *p, uint16_t code, uint8_t version, bool current,
                            const uint8_t *data, uint8_t len)
{
    put_be16(p, code);
    p[2] = (uint8_t)(version << 2 | 0x02 /* persistent */ | (current ? 1 : 0));
    p[3] = len;
    memcpy(p + 4, data, len);
    return 4u + len;
}

static bool get_configuration(struct ata_drive *d, struct ata_xfer *x, const uint8_t *cdb)
{
    unsigned rt = cdb[1] & 3;
    uint16_t start = be16(cdb + 2);
    uint32_t alloc = be16(cdb + 7);
    if (rt == 3)
        return fail(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
    bool media = media_present(d);
    bool dvd = is_dvd(d);
    uint16_t profile = !media ? 0 : dvd ? MMC_PROFILE_DVD_ROM : MMC_PROFILE_CD_ROM;
    uint8_t *b = d->buf;
    memset(b, 0, 256);
    put_be16(b + 6, profile);
    unsigned n = 8;

    struct {
        uint16_t code;
        uint8_t version;
        bool current;
        uint8_t len;
        uint8_t data[8];
    } f[] = {
        { 0x0000, 0, true, 8, { 0x00, 0x10, dvd && media, 0, 0x00, 0x08, media && !dvd, 0 } },
        { 0x0001, 2, true, 8, { 0, 0, 0, 2 /* ATAPI */, 0x01, 0, 0, 0 } },
        { 0x0002, 1, true, 4, { 0x02 } },
        { 0x0003, 0, true, 4, { 0x29 /* tray, eject, lock */ } },
        { 0x0010, 0, media, 8, { 0, 0, 0x08, 0x00, 0, 1, 0, 0 } },
        { 0x001e, 2, media && !dvd, 4, { 0 } },
        { 0x001f, 0, media && dvd, 4, { 0 } },
    };
    for (unsigned i = 0; i < G_N_ELEMENTS(f); i++) {
        if (rt == 2 ? f[i].code != start : f[i].code < start)
            continue;
        if (rt == 1 && !f[i].current)
            continue;
        n += put_feature(b + n, f[i].code, f[i].version, f[i].current, f[i].data, f[i].len);
    }
    put_be32(b, n - 4);
    return respond(d, x, n, alloc);
}

static bool get_event_status(struct ata_drive *d, struct ata_xfer *x, const uint8_t *cdb)
{
    if (!(cdb[1] & 1))  /* only polled operation */
        return fail(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
    uint32_t alloc = be16(cdb + 7);
    uint8_t *b = d->buf;
    memset(b, 0, 8);
    b[3] = 0x10;            /* supports the media class */
    unsigned n;
    if (cdb[4] & 0x10) {
        put_be16(b, 6);
        b[2] = 0x04;        /* media class */
        b[4] = (uint8_t)d->event;
        b[5] = (uint8_t)((d->bb ? 0x02 : 0) | (d->tray_open ? 0x01 : 0));
        d->event = ATAPI_EVENT_NONE;
        n = 8;
    } else {
        put_be16(b, 2);
        b[2] = 0x80;        /* no event available */
        n = 4;
    }
    return respond(d, x, n, alloc);
}

static unsigned mode_page(struct ata_drive *d, uint8_t *p, unsigned page, unsigned pc)
{
    bool changeable = pc == 1;
    switch (page) {
    case 0x01:      /* read error recovery */
        memset(p, 0, 12);
        p[0] = 0x01;
        p[1] = 0x0a;
        if (!changeable)
            p[3] = 5;
        return 12;
    case 0x2a:      /* CD/DVD capabilities and mechanical status */
        memset(p, 0, 28);
        p[0] = 0x2a;
        p[1] = 0x1a;
        if (changeable)
            return 28;
        p[2] = 0x3b;            /* reads CD-R, CD-RW, DVD-ROM ... */
        p[4] = 0x71;
        p[5] = 0x7f;
        p[6] = (uint8_t)(0x29 | (d->locked ? 0x02 : 0));
        put_be16(p + 8, 706 * 8);
        put_be16(p + 10, 256);
        put_be16(p + 12, 512);
        put_be16(p + 14, 706 * 8);
        return 28;
    default:
        return 0;
    }
}

static bool mode_sense(struct ata_drive *d, struct ata_xfer *x, const uint8_t *cdb, bool ten)
{
    unsigned page = cdb[2] & 0x3f, pc = cdb[2] >> 6;
    uint32_t alloc = ten ? be16(cdb + 7) : cdb[4];
    if (pc == 3)
        return fail(d, SK_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED, 0);
    uint8_t *b = d->buf;
    unsigned hdr = ten ? 8 : 4;
    memset(b, 0, hdr);
    unsigned n = hdr;
    if (page == 0x3f) {
        n += mode_page(d, b + n, 0x01, pc);
        n += mode_page(d, b + n, 0x2a, pc);
    } else {
        unsigned len = mode_page(d, b + n, page, pc);
        if (!len)
            return fail(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
        n += len;
    }
    if (ten)
        put_be16(b, (uint16_t)(n - 2));
    else
        b[0] = (uint8_t)(n - 1);
    return respond(d, x, n, alloc);
}

static bool start_stop(struct ata_drive *d, const uint8_t *cdb)
{
    bool start = cdb[4] & 1, loej = cdb[4] & 2;
    if (loej) {
        if (!start) {
            if (d->locked)
                return fail(d, SK_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED, 0x02);
            if (!d->tray_open) {
                d->tray_open = true;
                if (d->tray_changed)
                    d->tray_changed(d->tray_opaque, true);
            }
        } else if (d->tray_open) {
            d->tray_open = false;
            if (d->bb) {
                d->unit_attention = true;
                d->event = ATAPI_EVENT_NEW_MEDIA;
            }
            if (d->tray_changed)
                d->tray_changed(d->tray_opaque, false);
        }
    }
    atapi_cmd_ok(d);
    return false;
}

static bool inquiry(struct ata_drive *d, struct ata_xfer *x, const uint8_t *cdb)
{
    if (cdb[1] & 1)     /* no vital product data pages */
        return fail(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
    uint8_t *b = d->buf;
    memset(b, 0, 36);
    b[0] = 0x05;        /* CD/DVD device */
    b[1] = 0x80;        /* removable */
    b[2] = 0x00;
    b[3] = 0x21;        /* ATAPI, response data format 1 */
    b[4] = 31;
    memcpy(b + 8, "ORIEL   ", 8);
    memcpy(b + 16, "DVD-ROM         ", 16);
    memcpy(b + 32, "1.0 ", 4);
    return respond(d, x, 36, cdb[4]);
}

static bool request_sense(struct ata_drive *d, struct ata_xfer *x, const uint8_t *cdb)
{
    if (d->unit_attention) {
        d->unit_attention = false;
        atapi_set_sense(d, SK_UNIT_ATTENTION, ASC_MEDIUM_CHANGED, 0);
    }
    uint8_t *b = d->buf;
    memset(b, 0, 18);
    b[0] = 0x70;        /* current error, fixed format */
    b[2] = d->sense.key;
    b[7] = 10;
    b[12] = d->sense.asc;
    b[13] = d->sense.ascq;
    d->sense = (struct atapi_sense){ 0 };
    return respond(d, x, 18, cdb[4]);
}

static bool read_disc_information(struct ata_drive *d, struct ata_xfer *x, const uint8_t *cdb)
{
    if (!media_present(d))
        return not_ready(d);
    if (cdb[1] & 7)
        return fail(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
    uint8_t *b = d->buf;
    memset(b, 0, 34);
    put_be16(b, 32);
    b[2] = 0x0e;        /* complete disc, complete last session */
    b[3] = 1;           /* first track */
    b[4] = 1;           /* sessions */
    b[5] = 1;
    b[6] = 1;
    b[7] = 0x20;        /* unrestricted use */
    memset(b + 16, 0xff, 8);    /* no lead-in/out start times */
    return respond(d, x, 34, be16(cdb + 7));
}

static bool mechanism_status(struct ata_drive *d, struct ata_xfer *x, const uint8_t *cdb)
{
    uint8_t *b = d->buf;
    memset(b, 0, 8);
    b[1] = d->tray_open ? 0x10 : 0;
    return respond(d, x, 8, be16(cdb + 8));
}

static bool read_cd(struct ata_drive *d, struct ata_xfer *x, const uint8_t *cdb)
{
    uint32_t lba = be32(cdb + 2);
    uint32_t count = (uint32_t)cdb[6] << 16 | (uint32_t)cdb[7] << 8 | cdb[8];
    uint8_t fields = cdb[9] & 0xf8;
    if ((cdb[1] >> 2 & 7) > 2)  /* only "any" or CD-DA/mode-1 sector types */
        return fail(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
    if (fields == 0) {
        if (!media_present(d))
            return not_ready(d);
        atapi_cmd_ok(d);
        return false;
    }
    if (fields != 0x10)     /* user data only: no raw sectors from an image */
        return fail(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
    return read_blocks(d, x, lba, count);
}

/* Commands that must not fail because of a pending unit attention. */
static bool skips_unit_attention(uint8_t op)
{
    return op == 0x12 || op == 0x03 || op == 0x4a || op == 0x46;
}

bool atapi_cmd_start(struct ata_drive *d, struct ata_xfer *x, bool dma)
{
    const uint8_t *cdb = d->packet;
    uint8_t op = cdb[0];
    memset(x, 0, sizeof(*x));
    x->atapi = true;
    x->dma = dma;
    x->proto = dma ? ATA_PROTO_DMA : ATA_PROTO_PIO;

    if (d->unit_attention && !skips_unit_attention(op)) {
        d->unit_attention = false;
        return fail(d, SK_UNIT_ATTENTION, ASC_MEDIUM_CHANGED, 0);
    }
    if (op != 0x03)
        d->sense = (struct atapi_sense){ 0 };

    switch (op) {
    case 0x00:      /* TEST UNIT READY */
        if (!media_present(d))
            return not_ready(d);
        atapi_cmd_ok(d);
        return false;
    case 0x03:
        return request_sense(d, x, cdb);
    case 0x12:
        return inquiry(d, x, cdb);
    case 0x1a:
        return mode_sense(d, x, cdb, false);
    case 0x5a:
        return mode_sense(d, x, cdb, true);
    case 0x1b:
        return start_stop(d, cdb);
    case 0x1e:      /* PREVENT ALLOW MEDIUM REMOVAL */
        d->locked = cdb[4] & 1;
        atapi_cmd_ok(d);
        return false;
    case 0x25: {    /* READ CAPACITY */
        if (!media_present(d))
            return not_ready(d);
        uint32_t cap = capacity_blocks(d);
        put_be32(d->buf, cap ? cap - 1 : 0);
        put_be32(d->buf + 4, ATAPI_BLOCK_SIZE);
        return respond(d, x, 8, 8);
    }
    case 0x28:      /* READ(10) */
        return read_blocks(d, x, be32(cdb + 2), be16(cdb + 7));
    case 0xa8:      /* READ(12) */
        return read_blocks(d, x, be32(cdb + 2), be32(cdb + 6));
    case 0xbe:
        return read_cd(d, x, cdb);
    case 0x2b:      /* SEEK(10) */
        if (!media_present(d))
            return not_ready(d);
        if (be32(cdb + 2) >= capacity_blocks(d))
            return fail(d, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
        atapi_cmd_ok(d);
        return false;
    case 0x43:
        return read_toc(d, x, cdb);
    case 0x46:
        return get_configuration(d, x, cdb);
    case 0x4a:
        return get_event_status(d, x, cdb);
    case 0x51:
        return read_disc_information(d, x, cdb);
    case 0xbd:
        return mechanism_status(d, x, cdb);
    case 0xbb:      /* SET CD SPEED */
    case 0x35:      /* SYNCHRONIZE CACHE */
        atapi_cmd_ok(d);
        return false;
    case 0x2a:      /* WRITE(10) */
    case 0xaa:      /* WRITE(12) */
    case 0x2e:      /* WRITE AND VERIFY(10) */
        return fail(d, SK_DATA_PROTECT, ASC_WRITE_PROTECTED, 0);
    default:
        return fail(d, SK_ILLEGAL_REQUEST, ASC_INVALID_OPCODE, 0);
    }
}

void atapi_insert_media(struct ata_drive *d, struct block_backend *bb)
{
    if (d->bb)
        block_backend_close(d->bb);
    d->bb = bb;
    d->tray_open = false;
    d->unit_attention = true;
    d->event = ATAPI_EVENT_NEW_MEDIA;
    if (d->tray_changed)
        d->tray_changed(d->tray_opaque, false);
}

bool atapi_eject(struct ata_drive *d, bool force)
{
    if (d->locked && !force) {
        /* Ask the guest to let go, as the eject button of a drive does. */
        d->event = ATAPI_EVENT_EJECT_REQUEST;
        return false;
    }
    if (d->bb)
        block_backend_close(d->bb);
    d->bb = NULL;
    d->locked = false;
    d->tray_open = true;
    d->unit_attention = true;
    d->event = ATAPI_EVENT_MEDIA_REMOVAL;
    if (d->tray_changed)
        d->tray_changed(d->tray_opaque, true);
    return true;
}
