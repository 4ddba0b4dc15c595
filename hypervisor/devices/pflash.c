#include "pflash.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

#include "core/vm_state.h"

/* An x8 device: every command and status access is one byte wide; wider
 * reads see consecutive bytes. */
#define BUFFER_MAX 256u          /* write-buffer size offered in the CFI table */
#define CFI_TABLE_SIZE 0x40u
#define MANUFACTURER_INTEL 0x89
#define DEVICE_ID 0x18

/* What reads return. */
enum read_mode { MODE_ARRAY, MODE_STATUS, MODE_ID, MODE_CFI, MODE_COUNT };

/* The second (and later) cycle a multi-cycle command waits for. */
enum pending {
    PENDING_NONE,
    PENDING_PROGRAM,        /* next write is the data */
    PENDING_ERASE,          /* next write must be the confirm */
    PENDING_BUFFER_COUNT,   /* next write is the byte count - 1 */
    PENDING_BUFFER_DATA,    /* data writes until the count is used up */
    PENDING_BUFFER_CONFIRM, /* then the confirm */
    PENDING_LOCK,           /* lock-bit command, accepted and ignored */
    PENDING_COUNT,
};

struct pflash {
    struct vm *vm;
    char *name, *path;
    int fd;
    uint64_t base, size, mapped_size;
    uint32_t block_size;
    bool readonly, secure;
    bool (*in_smm)(void *opaque);
    void *smm_opaque;

    uint8_t *contents;      /* page-aligned, mapped_size bytes */
    int slot;               /* KVM memory slot while in read-array mode, or -1 */
    bool warned_write, warned_smm;
    uint8_t cfi[CFI_TABLE_SIZE];

    GMutex lock;            /* vCPU threads dispatch concurrently */
    enum read_mode mode;
    enum pending pending;
    uint8_t status;
    uint32_t buf_start;     /* write buffer: first address, bytes left, data */
    uint32_t buf_left;
    uint32_t buf_len;
    uint8_t buf[BUFFER_MAX];
};

uint64_t pflash_size(const struct pflash *fl) { return fl->size; }
const uint8_t *pflash_contents(const struct pflash *fl) { return fl->contents; }

static void build_cfi_table(struct pflash *fl)
{
    uint8_t *t = fl->cfi;
    uint32_t blocks = (uint32_t)(fl->size / fl->block_size);
    unsigned size_log2 = 0;
    while ((1ull << size_log2) < fl->size)
        size_log2++;

    memset(t, 0, sizeof fl->cfi);
    t[0x10] = 'Q', t[0x11] = 'R', t[0x12] = 'Y';
    t[0x13] = 0x01;                          /* Intel/Sharp extended command set */
    t[0x15] = 0x31;                          /* its extended table at 0x31 */
    t[0x1b] = 0x45, t[0x1c] = 0x55;          /* Vcc 4.5-5.5 V */
    t[0x1f] = 0x07, t[0x20] = 0x07;          /* typical program times, 2^n us */
    t[0x21] = 0x0a;                          /* typical block erase, 2^n ms */
    t[0x23] = 0x04, t[0x24] = 0x04, t[0x25] = 0x04;
    t[0x27] = (uint8_t)size_log2;
    t[0x28] = 0x00;                          /* x8 asynchronous interface */
    t[0x2a] = 8;                             /* write buffer 2^8 bytes */
    t[0x2c] = 1;                             /* one erase-block region */
    t[0x2d] = (uint8_t)(blocks - 1), t[0x2e] = (uint8_t)((blocks - 1) >> 8);
    t[0x2f] = (uint8_t)(fl->block_size >> 8), t[0x30] = (uint8_t)(fl->block_size >> 16);
    t[0x31] = 'P', t[0x32] = 'R', t[0x33] = 'I';
    t[0x34] = '1', t[0x35] = '0';
}

/* Keep the memory slot exactly while reads may come straight from the
 * array.  Called with the lock held. */
static void update_mapping(struct pflash *fl)
{
    bool want = fl->mode == MODE_ARRAY && fl->pending == PENDING_NONE;
    if (want && fl->slot < 0)
        fl->slot = vm_map_memory(fl->vm, fl->base, fl->mapped_size, fl->contents, true, false);
    else if (!want && fl->slot >= 0) {
        vm_unmap_memory(fl->vm, fl->slot);
        fl->slot = -1;
    }
}

/* Write [off, off + len) of the contents to the file.  A failure turns into
 * a program error the firmware sees; the guest's data stays in memory. */
static bool persist(struct pflash *fl, uint64_t off, uint64_t len)
{
    while (len) {
        ssize_t n = pwrite(fl->fd, fl->contents + off, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (!fl->warned_write)
                g_warning(_("Cannot write the flash file %s: %s"), fl->path,
                          n < 0 ? g_strerror(errno) : _("short write"));
            fl->warned_write = true;
            fl->status |= PFLASH_STATUS_PROGRAM_ERROR;
            return false;
        }
        off += (uint64_t)n, len -= (uint64_t)n;
    }
    return true;
}

static uint8_t read_byte(struct pflash *fl, uint64_t off, bool array_only)
{
    if (off >= fl->size)
        return 0xff;
    if (array_only)
        return fl->contents[off];
    switch (fl->mode) {
    case MODE_STATUS:
        return fl->status;
    case MODE_ID:
        switch (off & 0xff) {
        case 0: return MANUFACTURER_INTEL;
        case 1: return DEVICE_ID;
        default: return 0;      /* block lock status: unlocked */
        }
    case MODE_CFI:
        return (off & 0xff) < CFI_TABLE_SIZE ? fl->cfi[off & 0xff] : 0;
    default:
        return fl->contents[off];
    }
}

static bool from_outside_smm(struct pflash *fl)
{
    return fl->secure && !(fl->in_smm && fl->in_smm(fl->smm_opaque));
}

static uint64_t pflash_read(void *opaque, uint64_t offset, unsigned size)
{
    struct pflash *fl = opaque;
    /* Code outside SMM must not see the state of a command SMM has begun. */
    bool array_only = from_outside_smm(fl);
    uint64_t v = 0;
    g_mutex_lock(&fl->lock);
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)read_byte(fl, offset + i, array_only) << (8 * i);
    g_mutex_unlock(&fl->lock);
    return v;
}

static void program(struct pflash *fl, uint64_t off, uint64_t value, unsigned size)
{
    /* A plain store, not the AND of real NOR cells: OVMF's variable driver
     * was written against flash that overwrites, and it never relies on
     * bits staying cleared. */
    unsigned n = 0;
    for (; n < size && off + n < fl->size; n++)
        fl->contents[off + n] = (uint8_t)(value >> (8 * n));
    if (n)
        persist(fl, off, n);
    else
        fl->status |= PFLASH_STATUS_PROGRAM_ERROR;
}

static void erase_block(struct pflash *fl, uint64_t off)
{
    if (off >= fl->size) {
        fl->status |= PFLASH_STATUS_ERASE_ERROR;
        return;
    }
    uint64_t start = off - off % fl->block_size;
    memset(fl->contents + start, 0xff, fl->block_size);
    persist(fl, start, fl->block_size);
}

static void sequence_error(struct pflash *fl)
{
    fl->status |= PFLASH_STATUS_ERASE_ERROR | PFLASH_STATUS_PROGRAM_ERROR;
    fl->pending = PENDING_NONE;
    fl->mode = MODE_STATUS;
}

static void buffer_data(struct pflash *fl, uint64_t off, uint64_t value, unsigned size)
{
    /* Every data write must land inside the buffer's window. */
    if (off < fl->buf_start || off + size > (uint64_t)fl->buf_start + BUFFER_MAX ||
        off + size > fl->size || size > fl->buf_left) {
        sequence_error(fl);
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        uint32_t at = (uint32_t)(off - fl->buf_start) + i;
        fl->buf[at] = (uint8_t)(value >> (8 * i));
        if (at + 1 > fl->buf_len)
            fl->buf_len = at + 1;
    }
    fl->buf_left -= size;
    if (!fl->buf_left)
        fl->pending = PENDING_BUFFER_CONFIRM;
}

static void command(struct pflash *fl, uint64_t off, uint8_t cmd)
{
    switch (cmd) {
    case 0x00:
    case PFLASH_CMD_READ_ARRAY:
        fl->mode = MODE_ARRAY;
        break;
    case PFLASH_CMD_PROGRAM:
    case PFLASH_CMD_PROGRAM_ALT:
        fl->pending = PENDING_PROGRAM;
        fl->mode = MODE_STATUS;
        break;
    case PFLASH_CMD_ERASE:
        fl->pending = PENDING_ERASE;
        fl->mode = MODE_STATUS;
        break;
    case PFLASH_CMD_WRITE_BUFFER:
        fl->pending = PENDING_BUFFER_COUNT;
        fl->mode = MODE_STATUS;  /* the extended status: buffer available */
        fl->buf_start = (uint32_t)MIN(off, fl->size);
        break;
    case PFLASH_CMD_CLEAR_STATUS:
        fl->status = 0;          /* the read mode stays as it was */
        break;
    case PFLASH_CMD_READ_STATUS:
        fl->mode = MODE_STATUS;
        break;
    case PFLASH_CMD_READ_ID:
        fl->mode = MODE_ID;
        break;
    case PFLASH_CMD_CFI_QUERY:
        fl->mode = MODE_CFI;
        break;
    case PFLASH_CMD_LOCK_SETUP:
        fl->pending = PENDING_LOCK;
        fl->mode = MODE_STATUS;
        break;
    default:
        /* Suspend/resume and commands this chip lacks: back to the array,
         * as a chip that ignores them would leave it. */
        fl->mode = MODE_ARRAY;
        break;
    }
}

static void pflash_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct pflash *fl = opaque;
    if (fl->readonly)
        return;
    if (from_outside_smm(fl)) {
        if (!fl->warned_smm)
            g_message(_("%s: write from outside SMM ignored (secure flash)"), fl->name);
        fl->warned_smm = true;
        return;
    }
    uint8_t cmd = (uint8_t)value;
    g_mutex_lock(&fl->lock);
    switch (fl->pending) {
    case PENDING_PROGRAM:
        fl->pending = PENDING_NONE;
        program(fl, offset, value, size);
        fl->status |= PFLASH_STATUS_READY;
        break;
    case PENDING_ERASE:
        fl->pending = PENDING_NONE;
        if (cmd == PFLASH_CMD_CONFIRM) {
            erase_block(fl, offset);
            fl->status |= PFLASH_STATUS_READY;
        } else {
            sequence_error(fl);
        }
        break;
    case PENDING_BUFFER_COUNT:
        if ((uint32_t)cmd + 1 > BUFFER_MAX) {
            sequence_error(fl);
            break;
        }
        fl->buf_left = (uint32_t)cmd + 1;
        fl->buf_len = 0;
        memset(fl->buf, 0xff, sizeof fl->buf);
        fl->pending = PENDING_BUFFER_DATA;
        break;
    case PENDING_BUFFER_DATA:
        buffer_data(fl, offset, value, size);
        break;
    case PENDING_BUFFER_CONFIRM:
        fl->pending = PENDING_NONE;
        if (cmd != PFLASH_CMD_CONFIRM) {
            sequence_error(fl);
            break;
        }
        /* Only the bytes written are programmed; the 0xff fill is unused. */
        memcpy(fl->contents + fl->buf_start, fl->buf, fl->buf_len);
        if (fl->buf_len)
            persist(fl, fl->buf_start, fl->buf_len);
        fl->status |= PFLASH_STATUS_READY;
        break;
    case PENDING_LOCK:
        /* Lock, unlock and lock-down: block locking is not modelled. */
        fl->pending = PENDING_NONE;
        fl->status |= PFLASH_STATUS_READY;
        break;
    default:
        command(fl, offset, cmd);
        break;
    }
    update_mapping(fl);
    g_mutex_unlock(&fl->lock);
}

static const struct io_ops pflash_ops = { .read = pflash_read, .write = pflash_write };

void pflash_reset(void *opaque)
{
    struct pflash *fl = opaque;
    g_mutex_lock(&fl->lock);
    fl->mode = MODE_ARRAY;
    fl->pending = PENDING_NONE;
    fl->status = PFLASH_STATUS_READY;
    fl->buf_left = fl->buf_len = fl->buf_start = 0;
    update_mapping(fl);
    g_mutex_unlock(&fl->lock);
}

/* ---- VM state -------------------------------------------------------------- */

/* The code image is not saved, only its digest: restoring on a different
 * firmware build would run the guest on code it never saw. */
static char *contents_digest(struct pflash *fl)
{
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, fl->contents, fl->size);
}

static bool pflash_save(void *opaque, struct state_out *o, GError **error)
{
    struct pflash *fl = opaque;
    g_mutex_lock(&fl->lock);
    state_out_u8(o, (uint8_t)fl->mode);
    state_out_u8(o, (uint8_t)fl->pending);
    state_out_u8(o, fl->status);
    state_out_u32(o, fl->buf_start);
    state_out_u32(o, fl->buf_left);
    state_out_u32(o, fl->buf_len);
    state_out_bytes(o, fl->buf, sizeof fl->buf);
    state_out_u64(o, fl->size);
    if (fl->readonly) {
        g_autofree char *digest = contents_digest(fl);
        state_out_bytes(o, digest, 64);
    } else {
        state_out_bytes(o, fl->contents, fl->size);
    }
    g_mutex_unlock(&fl->lock);
    return true;
}

static bool pflash_load(void *opaque, struct state_in *in, uint32_t version, GError **error)
{
    struct pflash *fl = opaque;
    uint8_t mode = state_in_u8(in), pending = state_in_u8(in), status = state_in_u8(in);
    uint32_t buf_start = state_in_u32(in), buf_left = state_in_u32(in), buf_len = state_in_u32(in);
    uint8_t buf[BUFFER_MAX];
    state_in_bytes(in, buf, sizeof buf);
    uint64_t size = state_in_u64(in);
    if (size != fl->size)
        return state_in_invalid(in, error, _("the flash %s has %" PRIu64
                                             " bytes, the saved one %" PRIu64),
                                fl->path, fl->size, size);
    const void *data = state_in_ptr(in, fl->readonly ? 64 : size);
    if (!state_in_finish(in, error))
        return false;
    if (mode >= MODE_COUNT || pending >= PENDING_COUNT || buf_left > BUFFER_MAX ||
        buf_len > BUFFER_MAX || buf_start > fl->size || buf_start + buf_len > fl->size)
        return state_in_invalid(in, error, _("flash command state out of range"));
    if (fl->readonly) {
        g_autofree char *digest = contents_digest(fl);
        if (memcmp(digest, data, 64) != 0)
            return state_in_invalid(in, error,
                                    _("the firmware %s differs from the one the VM was saved with"),
                                    fl->path);
    }

    g_mutex_lock(&fl->lock);
    fl->mode = mode;
    fl->pending = pending;
    fl->status = status;
    fl->buf_start = buf_start, fl->buf_left = buf_left, fl->buf_len = buf_len;
    memcpy(fl->buf, buf, sizeof buf);
    bool ok = true;
    if (!fl->readonly) {
        /* The variables come back as saved, in memory and in the file. */
        memcpy(fl->contents, data, size);
        ok = persist(fl, 0, size);
    }
    update_mapping(fl);
    g_mutex_unlock(&fl->lock);
    if (!ok)
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    _("Cannot write the flash file %s"), fl->path);
    return ok;
}

const struct vm_state_ops pflash_state_ops = {
    .version = 1,
    .stage = VM_STATE_STAGE_DEVICE,
    .save = pflash_save,
    .load = pflash_load,
};

/* ---- creation -------------------------------------------------------------- */

static bool read_all(int fd, uint8_t *p, uint64_t len)
{
    uint64_t off = 0;
    while (off < len) {
        ssize_t n = pread(fd, p + off, len - off, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        off += (uint64_t)n;
    }
    return true;
}

struct pflash *pflash_create(struct vm *vm, const struct pflash_config *c, GError **error)
{
    g_return_val_if_fail(c->block_size && c->name && c->path, NULL);
    int fd = open(c->path, (c->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                    _("Cannot open the flash file %s: %s"), c->path, g_strerror(e));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    _("The flash file %s is not a regular file"), c->path);
        close(fd);
        return NULL;
    }
    uint64_t size = (uint64_t)st.st_size;
    long page = sysconf(_SC_PAGESIZE);
    if (size == 0 || size % c->block_size || size % (uint64_t)page || size > (1ull << 30) ||
        c->base + size > (1ull << 32) || c->base % (uint64_t)page) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    _("The flash file %s has %" PRIu64 " bytes: it must be a "
                      "non-empty multiple of %u bytes that fits below 4 GiB"),
                    c->path, size, c->block_size);
        close(fd);
        return NULL;
    }

    struct pflash *fl = g_new0(struct pflash, 1);
    fl->vm = vm;
    fl->name = g_strdup(c->name);
    fl->path = g_strdup(c->path);
    fl->fd = fd;
    fl->base = c->base;
    fl->size = fl->mapped_size = size;
    fl->block_size = c->block_size;
    fl->readonly = c->readonly;
    fl->secure = c->secure;
    fl->in_smm = c->in_smm;
    fl->smm_opaque = c->smm_opaque;
    fl->slot = -1;
    g_mutex_init(&fl->lock);
    fl->contents = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (fl->contents == MAP_FAILED) {
        fl->contents = NULL;
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                    _("Cannot allocate memory for the flash %s"), c->path);
        pflash_free(fl);
        return NULL;
    }
    if (!read_all(fd, fl->contents, size)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                    _("Cannot read the flash file %s"), c->path);
        pflash_free(fl);
        return NULL;
    }
    build_cfi_table(fl);
    /* Writes exit to the device in every mode; reads only while the slot
     * is unmapped. */
    if (!iobus_register(vm_mmio_bus(vm), c->base, size, &pflash_ops, fl, fl->name)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                    _("The flash %s at 0x%" PRIx64 " overlaps another device"),
                    c->path, c->base);
        pflash_free(fl);
        return NULL;
    }
    fl->status = PFLASH_STATUS_READY;
    update_mapping(fl);
    return fl;
}

void pflash_free(struct pflash *fl)
{
    if (!fl)
        return;
    if (fl->contents)
        munmap(fl->contents, fl->mapped_size);
    if (fl->fd >= 0)
        close(fl->fd);
    g_mutex_clear(&fl->lock);
    g_free(fl->name);
    g_free(fl->path);
    g_free(fl);
}
