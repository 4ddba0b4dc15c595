/* An ATA/ATAPI device as both the IDE and the AHCI controllers present it:
 * the shadow register file, the ATA command set, and the state of a
 * removable medium for ATAPI CD-ROMs.
 *
 * The command layer decodes a command into a transfer plan (struct
 * ata_xfer); the controller moves the data its own way (PIO data register,
 * bus-master PRD table, AHCI PRDT) and then calls ata_xfer_done() or
 * ata_xfer_failed().  Nothing here touches guest memory directly. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <glib.h>

#include "backends/block_backend.h"
#include "config/disk_config.h"

#define ATA_SECTOR_SIZE 512
#define ATAPI_BLOCK_SIZE 2048
/* Largest block of data a command produces from its own buffer (IDENTIFY,
 * SCSI responses) and the largest PIO DRQ block. */
#define ATA_BUF_SIZE 65536
#define ATA_MAX_MULTIPLE 16

/* Status register. */
#define ATA_SR_ERR  0x01
#define ATA_SR_DRQ  0x08
#define ATA_SR_DSC  0x10
#define ATA_SR_DF   0x20
#define ATA_SR_DRDY 0x40
#define ATA_SR_BSY  0x80
/* Error register. */
#define ATA_ER_AMNF 0x01
#define ATA_ER_ABRT 0x04
#define ATA_ER_IDNF 0x10
#define ATA_ER_UNC  0x40
/* Device control register. */
#define ATA_DC_NIEN 0x02
#define ATA_DC_SRST 0x04
#define ATA_DC_HOB  0x80
/* Device register. */
#define ATA_DEV_LBA 0x40
#define ATA_DEV_DEV1 0x10
/* ATAPI interrupt reason (in the sector count register). */
#define ATAPI_IR_COD 0x01
#define ATAPI_IR_IO  0x02

/* Commands. */
#define ATA_CMD_DEVICE_RESET          0x08
#define ATA_CMD_READ_SECTORS          0x20
#define ATA_CMD_READ_SECTORS_EXT      0x24
#define ATA_CMD_READ_DMA_EXT          0x25
#define ATA_CMD_READ_MULTIPLE_EXT     0x29
#define ATA_CMD_READ_LOG_EXT          0x2f
#define ATA_CMD_WRITE_SECTORS         0x30
#define ATA_CMD_WRITE_SECTORS_EXT     0x34
#define ATA_CMD_WRITE_DMA_EXT         0x35
#define ATA_CMD_WRITE_MULTIPLE_EXT    0x39
#define ATA_CMD_READ_VERIFY           0x40
#define ATA_CMD_READ_VERIFY_EXT       0x42
#define ATA_CMD_READ_FPDMA_QUEUED     0x60
#define ATA_CMD_WRITE_FPDMA_QUEUED    0x61
#define ATA_CMD_SEEK                  0x70
#define ATA_CMD_EXECUTE_DIAGNOSTIC    0x90
#define ATA_CMD_INIT_DEV_PARAMS       0x91
#define ATA_CMD_PACKET                0xa0
#define ATA_CMD_IDENTIFY_PACKET       0xa1
#define ATA_CMD_READ_MULTIPLE         0xc4
#define ATA_CMD_WRITE_MULTIPLE        0xc5
#define ATA_CMD_SET_MULTIPLE          0xc6
#define ATA_CMD_READ_DMA              0xc8
#define ATA_CMD_WRITE_DMA             0xca
#define ATA_CMD_STANDBY_IMMEDIATE     0xe0
#define ATA_CMD_IDLE_IMMEDIATE        0xe1
#define ATA_CMD_STANDBY               0xe2
#define ATA_CMD_IDLE                  0xe3
#define ATA_CMD_CHECK_POWER_MODE      0xe5
#define ATA_CMD_SLEEP                 0xe6
#define ATA_CMD_FLUSH_CACHE           0xe7
#define ATA_CMD_FLUSH_CACHE_EXT       0xea
#define ATA_CMD_IDENTIFY              0xec
#define ATA_CMD_SET_FEATURES          0xef
#define ATA_CMD_READ_NATIVE_MAX       0xf8
#define ATA_CMD_READ_NATIVE_MAX_EXT   0x27

/* The register file as the host sees it.  hob_* hold the previous value
 * written to each register (the "high order byte" of LBA48 commands). */
struct ata_regs {
    uint8_t feature, hob_feature;
    uint8_t count, hob_count;
    uint8_t lbal, hob_lbal;
    uint8_t lbam, hob_lbam;
    uint8_t lbah, hob_lbah;
    uint8_t device;
    uint8_t command;
    uint8_t status;
    uint8_t error;
};

enum ata_dir {
    ATA_DIR_NONE,
    ATA_DIR_IN,     /* device to host */
    ATA_DIR_OUT,    /* host to device */
};

enum ata_proto {
    ATA_PROTO_NONDATA,
    ATA_PROTO_PIO,
    ATA_PROTO_DMA,
    ATA_PROTO_NCQ,      /* first-party DMA, AHCI only */
    ATA_PROTO_PACKET,   /* the 12-byte command packet follows */
};

/* A data transfer the device wants.  Either the medium is the source or
 * sink (media: bytes from/to offset), or buf holds the data (IN only). */
struct ata_xfer {
    enum ata_dir dir;
    enum ata_proto proto;
    bool media;
    bool atapi;             /* data phase of a PACKET command */
    bool dma;               /* PACKET with the DMA feature bit */
    uint64_t offset;        /* media byte offset of the transfer's first byte */
    uint64_t len;           /* total bytes */
    uint32_t block;         /* PIO: bytes per DRQ block (interrupt granule) */
    const uint8_t *buf;     /* !media: the data, len bytes */
    uint8_t ncq_tag;
};

/* SCSI sense for ATAPI. */
struct atapi_sense {
    uint8_t key, asc, ascq;
};

/* Events a CD-ROM reports through GET EVENT STATUS NOTIFICATION. */
enum atapi_media_event {
    ATAPI_EVENT_NONE = 0,
    ATAPI_EVENT_EJECT_REQUEST = 1,
    ATAPI_EVENT_NEW_MEDIA = 2,
    ATAPI_EVENT_MEDIA_REMOVAL = 3,
};

struct ata_drive {
    bool present;
    bool cdrom;
    bool readonly;          /* refuse guest writes (disk) */
    bool sata;              /* on AHCI: NCQ and the SATA IDENTIFY words */
    struct block_backend *bb;   /* NULL: no medium */
    uint64_t sectors;       /* capacity in 512-byte sectors (disk) */
    char serial[20];        /* space padded, ATA string order applied at IDENTIFY */
    char model[40];
    struct ata_regs r;
    unsigned multiple;      /* sectors per DRQ block of READ/WRITE MULTIPLE, 0 = off */
    uint8_t xfer_mode;      /* last SET FEATURES 03h value */
    bool write_cache;
    bool lba48_cmd;         /* the current command used 48-bit addressing */
    /* The last failed queued command, for the NCQ command error log. */
    bool ncq_error;
    uint8_t ncq_error_tag;
    struct ata_regs ncq_error_regs;
    uint8_t *buf;           /* ATA_BUF_SIZE bytes for generated data */

    /* ATAPI */
    uint8_t packet[16];
    struct atapi_sense sense;
    bool unit_attention;    /* report a medium change before the next command */
    bool tray_open;
    bool locked;            /* PREVENT MEDIUM REMOVAL */
    enum atapi_media_event event;
    void (*tray_changed)(void *opaque, bool open);
    void *tray_opaque;
};

/* A drive on disk cfg (CD-ROMs may have cfg->path NULL: an empty tray).
 * The image is opened read-only for CD-ROMs. */
bool ata_drive_init(struct ata_drive *d, const struct disk_config *cfg, bool cdrom,
                    GError **error);
void ata_drive_destroy(struct ata_drive *d);

/* Power-on or hardware/software reset: signature in the registers. */
void ata_drive_reset(struct ata_drive *d);
void ata_drive_set_signature(struct ata_drive *d);

/* Decode the command in d->r.command.  Non-data commands complete here
 * (registers hold the result) and return false.  Otherwise x describes the
 * data phase (or, for PACKET, that the 12-byte packet is expected) and
 * true is returned. */
bool ata_cmd_start(struct ata_drive *d, struct ata_xfer *x);

/* The controller moved every byte: set the completion status. */
void ata_xfer_done(struct ata_drive *d, const struct ata_xfer *x);
/* The transfer broke off (bad guest buffer, backend error). */
void ata_xfer_failed(struct ata_drive *d, const struct ata_xfer *x, bool media_error);

/* Move len bytes at position pos of a media transfer between the medium
 * and iov.  Returns false on an I/O error or a range outside the medium. */
bool ata_media_rw(struct ata_drive *d, const struct ata_xfer *x, uint64_t pos,
                  const struct iovec *iov, int iovcnt);

/* A queued command with tag failed (its error is in the registers):
 * remember it for READ LOG EXT page 10h. */
void ata_ncq_failed(struct ata_drive *d, unsigned tag);

/* Abort the current command with ABRT. */
void ata_cmd_abort(struct ata_drive *d);

/* --- ATAPI (atapi.c) ------------------------------------------------ */

/* Execute d->packet.  Like ata_cmd_start(): false when the command is
 * already complete (success or CHECK CONDITION in the registers), true when
 * x describes a data phase. */
bool atapi_cmd_start(struct ata_drive *d, struct ata_xfer *x, bool dma);
void atapi_set_sense(struct ata_drive *d, uint8_t key, uint8_t asc, uint8_t ascq);
/* Complete with CHECK CONDITION for the current sense. */
void atapi_check_condition(struct ata_drive *d);
void atapi_cmd_ok(struct ata_drive *d);

/* Medium handling.  insert takes ownership of bb (read-only). */
void atapi_insert_media(struct ata_drive *d, struct block_backend *bb);
/* Open the tray and drop the medium; refused (false) while the guest has
 * locked it unless force. */
bool atapi_eject(struct ata_drive *d, bool force);

/* ---- VM state (storage/ata_state.c) ---------------------------------------
 * A drive's registers, settings, ATAPI state and generated-data buffer; a
 * transfer in progress, its data pointer as an offset into that buffer.
 * Loads check enumerations, lengths and offsets as the command layer would
 * have produced them.  A drive without a medium now but with one saved (or
 * the other way round for a hard disk) is refused: the machine must be
 * started with the medium it had. */
struct state_out;
struct state_in;
void ata_drive_save(const struct ata_drive *d, struct state_out *out);
bool ata_drive_load(struct ata_drive *d, struct state_in *in, GError **error);
void ata_xfer_save(const struct ata_drive *d, const struct ata_xfer *x, struct state_out *out);
bool ata_xfer_load(const struct ata_drive *d, struct ata_xfer *x, struct state_in *in,
                   GError **error);
