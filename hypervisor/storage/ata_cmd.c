/* The ATA command set shared by the IDE and AHCI controllers: drive setup,
 * signatures, IDENTIFY data, command decoding with range checks, and the
 * completion status of data transfers. */
#include "ata.h"

#include <errno.h>
#include <string.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

/* The CHS geometry reported for old guests: 16 heads, 63 sectors. */
#define ATA_HEADS 16
#define ATA_SPT   63
#define ATA_MAX_CYLS 16383
#define ATA_LBA28_MAX 0x0fffffffULL

static void pad_string(char *dst, size_t n, const char *src)
{
    memset(dst, ' ', n);
    if (src)
        memcpy(dst, src, MIN(strlen(src), n));
}

bool ata_drive_init(struct ata_drive *d, const struct disk_config *cfg, bool cdrom,
                    GError **error)
{
    memset(d, 0, sizeof(*d));
    if (!cdrom && !cfg->path) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    _("A hard disk needs an image file"));
        return false;
    }
    if (cfg->path) {
        d->bb = block_open(cfg->path, cfg->format, cdrom || cfg->readonly, error);
        if (!d->bb)
            return false;
    }
    d->present = true;
    d->cdrom = cdrom;
    d->readonly = cdrom || cfg->readonly;
    d->sectors = d->bb ? d->bb->size / ATA_SECTOR_SIZE : 0;
    if (!cdrom && d->sectors == 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    _("Disk %s is smaller than one sector"), cfg->path);
        block_backend_close(d->bb);
        d->bb = NULL;
        d->present = false;
        return false;
    }
    d->write_cache = true;
    d->buf = g_malloc0(ATA_BUF_SIZE);

    /* A serial derived from the path keeps it stable across runs. */
    char gen[21];
    g_snprintf(gen, sizeof(gen), "OR%08X", cfg->path ? g_str_hash(cfg->path) : 0x0cd0cd0cu);
    pad_string(d->serial, sizeof(d->serial), cfg->serial ? cfg->serial : gen);
    pad_string(d->model, sizeof(d->model), cdrom ? "ORIEL DVD-ROM" : "ORIEL HARDDISK");
    ata_drive_reset(d);
    return true;
}

void ata_drive_destroy(struct ata_drive *d)
{
    if (d->bb)
        block_backend_close(d->bb);
    g_free(d->buf);
    memset(d, 0, sizeof(*d));
}

void ata_drive_set_signature(struct ata_drive *d)
{
    d->r.count = 1;
    d->r.lbal = 1;
    d->r.lbam = d->cdrom ? 0x14 : 0;
    d->r.lbah = d->cdrom ? 0xeb : 0;
    d->r.hob_count = d->r.hob_lbal = d->r.hob_lbam = d->r.hob_lbah = 0;
    d->r.device &= ATA_DEV_DEV1;
    d->r.error = 0x01;   /* diagnostics passed */
    /* An ATAPI device leaves DRDY clear until IDENTIFY PACKET DEVICE. */
    d->r.status = d->cdrom ? 0 : ATA_SR_DRDY | ATA_SR_DSC;
}

void ata_drive_reset(struct ata_drive *d)
{
    if (!d->present)
        return;
    d->multiple = 0;
    d->sense = (struct atapi_sense){ 0 };
    ata_drive_set_signature(d);
}

void ata_cmd_abort(struct ata_drive *d)
{
    d->r.status = ATA_SR_DRDY | ATA_SR_ERR;
    d->r.error = ATA_ER_ABRT;
}

static void cmd_ok(struct ata_drive *d)
{
    d->r.status = ATA_SR_DRDY | ATA_SR_DSC;
    d->r.error = 0;
}

/* ---- IDENTIFY ------------------------------------------------------------ */

static void put_word(uint8_t *buf, unsigned w, uint16_t v)
{
    buf[w * 2] = (uint8_t)v;
    buf[w * 2 + 1] = (uint8_t)(v >> 8);
}

/* ATA strings put the first character of each pair in the high byte. */
static void put_string(uint8_t *buf, unsigned w, const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        buf[w * 2 + i] = (uint8_t)s[i + 1];
        buf[w * 2 + i + 1] = (uint8_t)s[i];
    }
}

static void put_checksum(uint8_t *buf)
{
    buf[510] = 0xa5;
    uint8_t sum = 0;
    for (unsigned i = 0; i < 511; i++)
        sum += buf[i];
    buf[511] = (uint8_t)-sum;
}

static void chs_geometry(const struct ata_drive *d, unsigned *cyls)
{
    uint64_t c = d->sectors / (ATA_HEADS * ATA_SPT);
    *cyls = (unsigned)MIN(c, (uint64_t)ATA_MAX_CYLS);
}

static void identify_device(struct ata_drive *d, uint8_t *b)
{
    memset(b, 0, 512);
    unsigned cyls;
    chs_geometry(d, &cyls);
    uint64_t lba28 = MIN(d->sectors, ATA_LBA28_MAX);
    uint32_t chs_cap = cyls * ATA_HEADS * ATA_SPT;

    put_word(b, 0, 0x0040);                 /* fixed device */
    put_word(b, 1, (uint16_t)cyls);
    put_word(b, 3, ATA_HEADS);
    put_word(b, 6, ATA_SPT);
    put_string(b, 10, d->serial, 20);
    put_string(b, 23, "1.0     ", 8);
    put_string(b, 27, d->model, 40);
    put_word(b, 47, 0x8000 | ATA_MAX_MULTIPLE);
    put_word(b, 49, 0x0f00);                /* IORDY, LBA, DMA */
    put_word(b, 50, 0x4000);
    put_word(b, 51, 0x0200);                /* PIO timing mode 2 (obsolete) */
    put_word(b, 53, 0x0007);                /* words 54-58, 64-70, 88 valid */
    put_word(b, 54, (uint16_t)cyls);
    put_word(b, 55, ATA_HEADS);
    put_word(b, 56, ATA_SPT);
    put_word(b, 57, (uint16_t)chs_cap);
    put_word(b, 58, (uint16_t)(chs_cap >> 16));
    put_word(b, 59, (uint16_t)(d->multiple ? 0x100 | d->multiple : 0));
    put_word(b, 60, (uint16_t)lba28);
    put_word(b, 61, (uint16_t)(lba28 >> 16));
    uint16_t mw = 0x07, udma = 0x3f;
    if ((d->xfer_mode & 0xf8) == 0x20)
        mw |= (uint16_t)(0x100 << (d->xfer_mode & 7));
    else if ((d->xfer_mode & 0xf8) == 0x40)
        udma |= (uint16_t)(0x100 << (d->xfer_mode & 7));
    put_word(b, 63, mw);
    put_word(b, 64, 0x0003);                /* PIO 3 and 4 */
    put_word(b, 65, 120);
    put_word(b, 66, 120);
    put_word(b, 67, 120);
    put_word(b, 68, 120);
    if (d->sata) {
        put_word(b, 75, 31);                /* queue depth - 1 */
        put_word(b, 76, 0x0106);            /* NCQ, SATA Gen1 and Gen2 */
    }
    put_word(b, 80, 0x00f0);                /* ATA/ATAPI-4 to -7 */
    put_word(b, 82, 0x4020);                /* write cache */
    put_word(b, 83, 0x7400);                /* FLUSH CACHE (EXT), 48-bit */
    put_word(b, 84, 0x4000);
    put_word(b, 85, (uint16_t)(d->write_cache ? 0x4020 : 0x4000));
    put_word(b, 86, 0x3400);
    put_word(b, 87, 0x4000);
    put_word(b, 88, udma);
    put_word(b, 93, 0x6001);                /* 80-conductor cable detected */
    for (unsigned i = 0; i < 4; i++)
        put_word(b, 100 + i, (uint16_t)(d->sectors >> (16 * i)));
    put_word(b, 106, 0x4000);
    put_checksum(b);
}

static void identify_packet(struct ata_drive *d, uint8_t *b)
{
    memset(b, 0, 512);
    /* ATAPI, CD-ROM class, removable, DRQ within 50 us, 12-byte packets. */
    put_word(b, 0, 0x85c0);
    put_string(b, 10, d->serial, 20);
    put_string(b, 23, "1.0     ", 8);
    put_string(b, 27, d->model, 40);
    put_word(b, 49, 0x0f00);
    put_word(b, 53, 0x0007);
    uint16_t mw = 0x07, udma = 0x3f;
    if ((d->xfer_mode & 0xf8) == 0x20)
        mw |= (uint16_t)(0x100 << (d->xfer_mode & 7));
    else if ((d->xfer_mode & 0xf8) == 0x40)
        udma |= (uint16_t)(0x100 << (d->xfer_mode & 7));
    put_word(b, 63, mw);
    put_word(b, 64, 0x0003);
    put_word(b, 65, 120);
    put_word(b, 66, 120);
    put_word(b, 67, 120);
    put_word(b, 68, 120);
    put_word(b, 80, 0x00f0);
    put_word(b, 82, 0x4010);                /* PACKET feature set */
    put_word(b, 83, 0x4000);
    put_word(b, 84, 0x4000);
    put_word(b, 85, 0x4010);
    put_word(b, 87, 0x4000);
    put_word(b, 88, udma);
    put_checksum(b);
}

/* NCQ command error log (SATA log 10h), one page. */
static bool read_log_ext(struct ata_drive *d, struct ata_xfer *x)
{
    unsigned log = d->r.lbal;
    unsigned page = (unsigned)d->r.hob_lbam << 8 | d->r.lbam;
    unsigned count = (unsigned)d->r.hob_count << 8 | d->r.count;
    if (!d->sata || log != 0x10 || page != 0 || count != 1) {
        ata_cmd_abort(d);
        return false;
    }
    uint8_t *b = d->buf;
    memset(b, 0, 512);
    if (d->ncq_error) {
        const struct ata_regs *r = &d->ncq_error_regs;
        b[0] = d->ncq_error_tag & 0x1f;
        b[2] = r->status;
        b[3] = r->error;
        b[4] = r->lbal;
        b[5] = r->lbam;
        b[6] = r->lbah;
        b[7] = r->device;
        b[8] = r->hob_lbal;
        b[9] = r->hob_lbam;
        b[10] = r->hob_lbah;
        b[12] = r->count;
        b[13] = r->hob_count;
        d->ncq_error = false;
    } else {
        b[0] = 0x80;    /* NQ: the last error was not a queued command's */
    }
    uint8_t sum = 0;
    for (unsigned i = 0; i < 511; i++)
        sum = (uint8_t)(sum + b[i]);
    b[511] = (uint8_t)-sum;
    x->dir = ATA_DIR_IN;
    x->proto = ATA_PROTO_PIO;
    x->buf = b;
    x->len = 512;
    x->block = 512;
    return true;
}

void ata_ncq_failed(struct ata_drive *d, unsigned tag)
{
    d->ncq_error = true;
    d->ncq_error_tag = (uint8_t)tag;
    d->ncq_error_regs = d->r;
}

/* ---- addressing ------------------------------------------------------------ */

static bool decode_lba(struct ata_drive *d, bool lba48, uint64_t *lba, uint32_t *count)
{
    const struct ata_regs *r = &d->r;
    if (lba48) {
        *lba = (uint64_t)r->hob_lbah << 40 | (uint64_t)r->hob_lbam << 32 |
               (uint64_t)r->hob_lbal << 24 | (uint64_t)r->lbah << 16 |
               (uint64_t)r->lbam << 8 | r->lbal;
        uint32_t n = (uint32_t)r->hob_count << 8 | r->count;
        *count = n ? n : 65536;
    } else if (r->device & ATA_DEV_LBA) {
        *lba = (uint64_t)(r->device & 0x0f) << 24 | (uint64_t)r->lbah << 16 |
               (uint64_t)r->lbam << 8 | r->lbal;
        *count = r->count ? r->count : 256;
    } else {
        /* CHS: cylinder in LBA mid/high, head in the device register,
         * 1-based sector number in LBA low. */
        unsigned cyl = (unsigned)r->lbah << 8 | r->lbam;
        unsigned head = r->device & 0x0f;
        unsigned sect = r->lbal;
        if (sect == 0 || sect > ATA_SPT || head >= ATA_HEADS)
            return false;
        *lba = ((uint64_t)cyl * ATA_HEADS + head) * ATA_SPT + (sect - 1);
        *count = r->count ? r->count : 256;
    }
    return *lba < d->sectors && *count <= d->sectors - *lba;
}

static void set_lba_result(struct ata_drive *d, uint64_t lba, bool lba48)
{
    d->r.lbal = (uint8_t)lba;
    d->r.lbam = (uint8_t)(lba >> 8);
    d->r.lbah = (uint8_t)(lba >> 16);
    if (lba48) {
        d->r.hob_lbal = (uint8_t)(lba >> 24);
        d->r.hob_lbam = (uint8_t)(lba >> 32);
        d->r.hob_lbah = (uint8_t)(lba >> 40);
    } else {
        d->r.device = (uint8_t)((d->r.device & 0xf0) | ((lba >> 24) & 0x0f));
    }
}

/* ---- commands -------------------------------------------------------------- */

static bool is_lba48(uint8_t cmd)
{
    switch (cmd) {
    case ATA_CMD_READ_SECTORS_EXT:
    case ATA_CMD_READ_DMA_EXT:
    case ATA_CMD_READ_MULTIPLE_EXT:
    case ATA_CMD_WRITE_SECTORS_EXT:
    case ATA_CMD_WRITE_DMA_EXT:
    case ATA_CMD_WRITE_MULTIPLE_EXT:
    case ATA_CMD_READ_VERIFY_EXT:
    case ATA_CMD_READ_FPDMA_QUEUED:
    case ATA_CMD_WRITE_FPDMA_QUEUED:
        return true;
    default:
        return false;
    }
}

/* A read or write of the medium: range-checked, with the protocol and DRQ
 * block size of the command. */
static bool rw_cmd(struct ata_drive *d, struct ata_xfer *x, enum ata_dir dir,
                   enum ata_proto proto, unsigned block_sectors)
{
    uint8_t cmd = d->r.command;
    bool lba48 = is_lba48(cmd);
    uint64_t lba;
    uint32_t count;
    d->lba48_cmd = lba48;
    if (proto == ATA_PROTO_NCQ) {
        /* Sector count in the features registers, tag in count[7:3]. */
        uint8_t c = d->r.count, hc = d->r.hob_count;
        d->r.count = d->r.feature;
        d->r.hob_count = d->r.hob_feature;
        bool ok = decode_lba(d, true, &lba, &count);
        d->r.count = c;
        d->r.hob_count = hc;
        x->ncq_tag = (uint8_t)(c >> 3);
        if (!ok) {
            d->r.status = ATA_SR_DRDY | ATA_SR_ERR;
            d->r.error = ATA_ER_IDNF;
            return false;
        }
    } else if (!decode_lba(d, lba48, &lba, &count)) {
        d->r.status = ATA_SR_DRDY | ATA_SR_ERR;
        d->r.error = ATA_ER_IDNF | ATA_ER_ABRT;
        return false;
    }
    if (dir == ATA_DIR_OUT && d->readonly) {
        ata_cmd_abort(d);
        return false;
    }
    x->dir = dir;
    x->proto = proto;
    x->media = true;
    x->offset = lba * ATA_SECTOR_SIZE;
    x->len = (uint64_t)count * ATA_SECTOR_SIZE;
    x->block = block_sectors * ATA_SECTOR_SIZE;
    /* The registers point at the last sector, as after a complete
     * transfer; an error report overwrites them. */
    set_lba_result(d, lba + count - 1, lba48);
    return true;
}

static bool data_in(struct ata_drive *d, struct ata_xfer *x, uint32_t len)
{
    x->dir = ATA_DIR_IN;
    x->proto = ATA_PROTO_PIO;
    x->media = false;
    x->buf = d->buf;
    x->len = len;
    x->block = len;
    return true;
}

static void set_features(struct ata_drive *d)
{
    switch (d->r.feature) {
    case 0x02:  /* enable write cache */
        d->write_cache = true;
        break;
    case 0x82:
        d->write_cache = false;
        break;
    case 0x03: {  /* transfer mode */
        uint8_t m = d->r.count;
        uint8_t cls = m & 0xf8, mode = m & 7;
        bool ok = (cls == 0x00 && mode <= 1) || (cls == 0x08 && mode <= 4) ||
                  (cls == 0x20 && mode <= 2) || (cls == 0x40 && mode <= 5);
        if (!ok) {
            ata_cmd_abort(d);
            return;
        }
        d->xfer_mode = m;
        break;
    }
    case 0x05: case 0x85:   /* advanced power management */
    case 0x55: case 0xaa:   /* read look-ahead */
    case 0x66: case 0xcc:   /* revert to power-on defaults */
    case 0x31: case 0x10: case 0x90:   /* media status, SATA features */
        break;
    default:
        ata_cmd_abort(d);
        return;
    }
    cmd_ok(d);
}

static bool ata_disk_cmd(struct ata_drive *d, struct ata_xfer *x)
{
    uint8_t cmd = d->r.command;
    unsigned mult = d->multiple;
    switch (cmd) {
    case ATA_CMD_READ_SECTORS:
    case 0x21:
    case ATA_CMD_READ_SECTORS_EXT:
        return rw_cmd(d, x, ATA_DIR_IN, ATA_PROTO_PIO, 1);
    case ATA_CMD_WRITE_SECTORS:
    case 0x31:
    case ATA_CMD_WRITE_SECTORS_EXT:
        return rw_cmd(d, x, ATA_DIR_OUT, ATA_PROTO_PIO, 1);
    case ATA_CMD_READ_MULTIPLE:
    case ATA_CMD_READ_MULTIPLE_EXT:
        if (!mult)
            break;
        return rw_cmd(d, x, ATA_DIR_IN, ATA_PROTO_PIO, mult);
    case ATA_CMD_WRITE_MULTIPLE:
    case ATA_CMD_WRITE_MULTIPLE_EXT:
        if (!mult)
            break;
        return rw_cmd(d, x, ATA_DIR_OUT, ATA_PROTO_PIO, mult);
    case ATA_CMD_READ_DMA:
    case 0xc9:
    case ATA_CMD_READ_DMA_EXT:
        return rw_cmd(d, x, ATA_DIR_IN, ATA_PROTO_DMA, 1);
    case ATA_CMD_WRITE_DMA:
    case 0xcb:
    case ATA_CMD_WRITE_DMA_EXT:
        return rw_cmd(d, x, ATA_DIR_OUT, ATA_PROTO_DMA, 1);
    case ATA_CMD_READ_FPDMA_QUEUED:
        if (!d->sata)
            break;
        return rw_cmd(d, x, ATA_DIR_IN, ATA_PROTO_NCQ, 1);
    case ATA_CMD_WRITE_FPDMA_QUEUED:
        if (!d->sata)
            break;
        return rw_cmd(d, x, ATA_DIR_OUT, ATA_PROTO_NCQ, 1);
    case ATA_CMD_READ_VERIFY:
    case 0x41:
    case ATA_CMD_READ_VERIFY_EXT: {
        uint64_t lba;
        uint32_t count;
        if (!decode_lba(d, cmd == ATA_CMD_READ_VERIFY_EXT, &lba, &count)) {
            d->r.status = ATA_SR_DRDY | ATA_SR_ERR;
            d->r.error = ATA_ER_IDNF | ATA_ER_ABRT;
            return false;
        }
        cmd_ok(d);
        return false;
    }
    case ATA_CMD_SEEK:
    case ATA_CMD_INIT_DEV_PARAMS:
        cmd_ok(d);
        return false;
    case ATA_CMD_SET_MULTIPLE: {
        unsigned n = d->r.count;
        if (n > ATA_MAX_MULTIPLE || (n & (n - 1)))
            break;
        d->multiple = n;
        cmd_ok(d);
        return false;
    }
    case ATA_CMD_IDENTIFY:
        identify_device(d, d->buf);
        return data_in(d, x, 512);
    case ATA_CMD_READ_LOG_EXT:
        return read_log_ext(d, x);
    case ATA_CMD_READ_NATIVE_MAX:
        set_lba_result(d, MIN(d->sectors, ATA_LBA28_MAX) - 1, false);
        cmd_ok(d);
        return false;
    case ATA_CMD_READ_NATIVE_MAX_EXT:
        set_lba_result(d, d->sectors - 1, true);
        cmd_ok(d);
        return false;
    case ATA_CMD_FLUSH_CACHE:
    case ATA_CMD_FLUSH_CACHE_EXT:
        if (!d->readonly && block_backend_flush(d->bb) < 0) {
            ata_cmd_abort(d);
            return false;
        }
        cmd_ok(d);
        return false;
    default:
        break;
    }
    ata_cmd_abort(d);
    return false;
}

static bool atapi_ata_cmd(struct ata_drive *d, struct ata_xfer *x)
{
    switch (d->r.command) {
    case ATA_CMD_IDENTIFY_PACKET:
        identify_packet(d, d->buf);
        return data_in(d, x, 512);
    case ATA_CMD_PACKET:
        x->dir = ATA_DIR_OUT;
        x->proto = ATA_PROTO_PACKET;
        x->media = false;
        x->dma = d->r.feature & 1;
        x->len = 12;
        x->block = 12;
        return true;
    case ATA_CMD_DEVICE_RESET:
        ata_drive_reset(d);
        return false;
    case ATA_CMD_IDENTIFY:
        /* ATAPI devices abort it and show their signature. */
        ata_drive_set_signature(d);
        ata_cmd_abort(d);
        return false;
    case ATA_CMD_FLUSH_CACHE:
        cmd_ok(d);
        return false;
    default:
        ata_cmd_abort(d);
        return false;
    }
}

bool ata_cmd_start(struct ata_drive *d, struct ata_xfer *x)
{
    memset(x, 0, sizeof(*x));
    d->lba48_cmd = false;
    switch (d->r.command) {
    case ATA_CMD_EXECUTE_DIAGNOSTIC:
        ata_drive_set_signature(d);
        return false;
    case ATA_CMD_SET_FEATURES:
        set_features(d);
        return false;
    case ATA_CMD_CHECK_POWER_MODE:
        d->r.count = 0xff;    /* active or idle */
        cmd_ok(d);
        return false;
    case ATA_CMD_STANDBY_IMMEDIATE:
    case ATA_CMD_IDLE_IMMEDIATE:
    case ATA_CMD_STANDBY:
    case ATA_CMD_IDLE:
    case ATA_CMD_SLEEP:
        cmd_ok(d);
        return false;
    default:
        break;
    }
    return d->cdrom ? atapi_ata_cmd(d, x) : ata_disk_cmd(d, x);
}

void ata_xfer_done(struct ata_drive *d, const struct ata_xfer *x)
{
    if (x->atapi)
        atapi_cmd_ok(d);
    else
        cmd_ok(d);
}

void ata_xfer_failed(struct ata_drive *d, const struct ata_xfer *x, bool media_error)
{
    if (x->atapi) {
        if (media_error)
            atapi_set_sense(d, 0x03, 0x11, 0x00);   /* unrecovered read error */
        else
            atapi_set_sense(d, 0x0b, 0x00, 0x00);   /* aborted command */
        atapi_check_condition(d);
        return;
    }
    d->r.status = ATA_SR_DRDY | ATA_SR_ERR;
    d->r.error = media_error ? ATA_ER_UNC : ATA_ER_ABRT;
}

bool ata_media_rw(struct ata_drive *d, const struct ata_xfer *x, uint64_t pos,
                  const struct iovec *iov, int iovcnt)
{
    uint64_t len = 0;
    for (int i = 0; i < iovcnt; i++)
        len += iov[i].iov_len;
    if (!x->media || !d->bb || pos > x->len || len > x->len - pos)
        return false;
    uint64_t off = x->offset + pos;
    if (off < x->offset || off > d->bb->size || len > d->bb->size - off)
        return false;
    int ret;
    if (x->dir == ATA_DIR_IN) {
        ret = block_backend_preadv(d->bb, iov, iovcnt, off);
    } else {
        if (d->readonly)
            return false;
        ret = block_backend_pwritev(d->bb, iov, iovcnt, off);
    }
    return ret == 0;
}
