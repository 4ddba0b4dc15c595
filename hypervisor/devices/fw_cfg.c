#include "fw_cfg.h"

#include <inttypes.h>
#include <string.h>
#include <glib/gi18n.h>

#include "core/e820.h"
#include "core/vm_state.h"
#include "config/pc_layout.h"

#define REG_SELECTOR 0
#define REG_DATA     1
#define REG_DMA      4   /* .. 11 */

struct fw_cfg_file_slot {
    char name[FW_CFG_FILE_NAME_MAX];
    uint16_t key;
};

struct fw_cfg {
    struct vm *vm;
    GMutex lock;                 /* vCPU threads race on the ports */
    GHashTable *items;           /* key -> GBytes */
    struct fw_cfg_file_slot files[FW_CFG_MAX_FILES];
    unsigned nfiles;

    GBytes *cur;                 /* the selected item (a reference), or NULL */
    uint16_t cur_key;            /* the selector as written */
    uint32_t cur_offset;
    uint8_t dma_addr[8];         /* big-endian, as the guest wrote it */

    /* SMI feature negotiation (fw_cfg_add_smi_features), 0 keys: none. */
    uint16_t smi_requested_key, smi_ok_key;
    uint64_t smi_supported;
    uint8_t smi_requested[8];    /* little-endian, as the guest wrote it */
    uint8_t smi_ok;
    uint64_t smi_negotiated;
};

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint64_t be64(const uint8_t *p)
{
    return ((uint64_t)be32(p) << 32) | be32(p + 4);
}

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* Store an item; called with the lock held (or before the guest runs). */
static void set_item(struct fw_cfg *fw, uint16_t key, GBytes *data)
{
    g_hash_table_replace(fw->items, GUINT_TO_POINTER(key), g_bytes_ref(data));
}

static bool user_key_ok(uint16_t key)
{
    if (key & FW_CFG_WRITE_CHANNEL)
        return false;
    uint16_t k = key & ~FW_CFG_ARCH_LOCAL;
    if (key & FW_CFG_ARCH_LOCAL)
        return true;
    return k != FW_CFG_SIGNATURE && k != FW_CFG_ID && k != FW_CFG_FILE_DIR &&
           !(k >= FW_CFG_FILE_FIRST && k < FW_CFG_FILE_FIRST + FW_CFG_MAX_FILES);
}

bool fw_cfg_add_gbytes(struct fw_cfg *fw, uint16_t key, GBytes *data)
{
    if (!user_key_ok(key) || g_bytes_get_size(data) > UINT32_MAX)
        return false;
    g_mutex_lock(&fw->lock);
    set_item(fw, key, data);
    g_mutex_unlock(&fw->lock);
    return true;
}

bool fw_cfg_add_bytes(struct fw_cfg *fw, uint16_t key, const void *data, size_t len)
{
    g_autoptr(GBytes) b = g_bytes_new(data, len);
    return fw_cfg_add_gbytes(fw, key, b);
}

bool fw_cfg_add_i16(struct fw_cfg *fw, uint16_t key, uint16_t value)
{
    uint16_t le = GUINT16_TO_LE(value);
    return fw_cfg_add_bytes(fw, key, &le, sizeof(le));
}

bool fw_cfg_add_i32(struct fw_cfg *fw, uint16_t key, uint32_t value)
{
    uint32_t le = GUINT32_TO_LE(value);
    return fw_cfg_add_bytes(fw, key, &le, sizeof(le));
}

bool fw_cfg_add_i64(struct fw_cfg *fw, uint16_t key, uint64_t value)
{
    uint64_t le = GUINT64_TO_LE(value);
    return fw_cfg_add_bytes(fw, key, &le, sizeof(le));
}

static bool add_piece(struct fw_cfg *fw, uint16_t addr_key, uint16_t size_key,
                      uint16_t data_key, uint32_t addr, GBytes *data)
{
    g_autoptr(GBytes) empty = g_bytes_new(NULL, 0);
    GBytes *d = data ? data : empty;
    return fw_cfg_add_i32(fw, addr_key, addr) &&
           g_bytes_get_size(d) <= UINT32_MAX &&
           fw_cfg_add_i32(fw, size_key, (uint32_t)g_bytes_get_size(d)) &&
           fw_cfg_add_gbytes(fw, data_key, d);
}

bool fw_cfg_add_linux_boot(struct fw_cfg *fw, const struct fw_cfg_linux_boot *boot)
{
    const char *cmdline = boot->cmdline ? boot->cmdline : "";
    g_autoptr(GBytes) cmd = g_bytes_new(cmdline, strlen(cmdline) + 1);   /* with the NUL */
    return add_piece(fw, FW_CFG_SETUP_ADDR, FW_CFG_SETUP_SIZE, FW_CFG_SETUP_DATA,
                     boot->setup_addr, boot->setup) &&
           add_piece(fw, FW_CFG_KERNEL_ADDR, FW_CFG_KERNEL_SIZE, FW_CFG_KERNEL_DATA,
                     boot->kernel_addr, boot->kernel) &&
           add_piece(fw, FW_CFG_INITRD_ADDR, FW_CFG_INITRD_SIZE, FW_CFG_INITRD_DATA,
                     boot->initrd_addr, boot->initrd) &&
           add_piece(fw, FW_CFG_CMDLINE_ADDR, FW_CFG_CMDLINE_SIZE, FW_CFG_CMDLINE_DATA,
                     boot->cmdline_addr, cmd);
}

static int compare_slots(const void *a, const void *b)
{
    return strcmp(((const struct fw_cfg_file_slot *)a)->name,
                  ((const struct fw_cfg_file_slot *)b)->name);
}

/* The directory: a big-endian count, then per file (sorted by name) its
 * size (be32), key (be16), two reserved bytes and the 56-byte name. */
static void rebuild_dir(struct fw_cfg *fw)
{
    struct fw_cfg_file_slot sorted[FW_CFG_MAX_FILES];
    memcpy(sorted, fw->files, fw->nfiles * sizeof(sorted[0]));
    qsort(sorted, fw->nfiles, sizeof(sorted[0]), compare_slots);

    size_t len = 4 + (size_t)fw->nfiles * (8 + FW_CFG_FILE_NAME_MAX);
    uint8_t *dir = g_malloc0(len);
    put_be(dir, fw->nfiles, 4);
    for (unsigned i = 0; i < fw->nfiles; i++) {
        uint8_t *e = dir + 4 + i * (8 + FW_CFG_FILE_NAME_MAX);
        GBytes *data = g_hash_table_lookup(fw->items, GUINT_TO_POINTER(sorted[i].key));
        put_be(e, g_bytes_get_size(data), 4);
        put_be(e + 4, sorted[i].key, 2);
        memcpy(e + 8, sorted[i].name, FW_CFG_FILE_NAME_MAX);
    }
    g_autoptr(GBytes) b = g_bytes_new_take(dir, len);
    set_item(fw, FW_CFG_FILE_DIR, b);
}

static int find_file(struct fw_cfg *fw, const char *name)
{
    for (unsigned i = 0; i < fw->nfiles; i++)
        if (strcmp(fw->files[i].name, name) == 0)
            return (int)i;
    return -1;
}

bool fw_cfg_add_file_gbytes(struct fw_cfg *fw, const char *name, GBytes *data)
{
    size_t nlen = strlen(name);
    if (nlen == 0 || nlen >= FW_CFG_FILE_NAME_MAX || g_bytes_get_size(data) > UINT32_MAX)
        return false;
    g_mutex_lock(&fw->lock);
    int slot = find_file(fw, name);
    if (slot < 0) {
        if (fw->nfiles == FW_CFG_MAX_FILES) {
            g_mutex_unlock(&fw->lock);
            return false;
        }
        slot = (int)fw->nfiles++;
        memset(fw->files[slot].name, 0, FW_CFG_FILE_NAME_MAX);
        memcpy(fw->files[slot].name, name, nlen);
        fw->files[slot].key = (uint16_t)(FW_CFG_FILE_FIRST + slot);
    }
    set_item(fw, fw->files[slot].key, data);
    rebuild_dir(fw);
    g_mutex_unlock(&fw->lock);
    return true;
}

bool fw_cfg_add_file(struct fw_cfg *fw, const char *name, const void *data, size_t len)
{
    g_autoptr(GBytes) b = g_bytes_new(data, len);
    return fw_cfg_add_file_gbytes(fw, name, b);
}

bool fw_cfg_add_smi_features(struct fw_cfg *fw, uint64_t supported)
{
    uint64_t le = GUINT64_TO_LE(supported);
    uint8_t zero[8] = { 0 };
    if (fw->smi_ok_key || !fw_cfg_add_file(fw, "etc/smi/supported-features", &le, sizeof(le)) ||
        !fw_cfg_add_file(fw, "etc/smi/requested-features", zero, sizeof(zero)) ||
        !fw_cfg_add_file(fw, "etc/smi/features-ok", zero, 1))
        return false;
    int req = fw_cfg_file_key(fw, "etc/smi/requested-features");
    int ok = fw_cfg_file_key(fw, "etc/smi/features-ok");
    g_mutex_lock(&fw->lock);
    fw->smi_supported = supported;
    fw->smi_requested_key = (uint16_t)req;
    fw->smi_ok_key = (uint16_t)ok;
    g_mutex_unlock(&fw->lock);
    return true;
}

uint64_t fw_cfg_smi_negotiated(struct fw_cfg *fw)
{
    g_mutex_lock(&fw->lock);
    uint64_t v = fw->smi_negotiated;
    g_mutex_unlock(&fw->lock);
    return v;
}

int fw_cfg_file_key(struct fw_cfg *fw, const char *name)
{
    g_mutex_lock(&fw->lock);
    int slot = find_file(fw, name);
    int key = slot < 0 ? -1 : fw->files[slot].key;
    g_mutex_unlock(&fw->lock);
    return key;
}

/* --- Guest side ------------------------------------------------------------ */

static void select_item(struct fw_cfg *fw, uint16_t key);

/* The negotiation files' contents from their state.  Lock held. */
static void smi_publish(struct fw_cfg *fw)
{
    g_autoptr(GBytes) req = g_bytes_new(fw->smi_requested, sizeof(fw->smi_requested));
    g_autoptr(GBytes) ok = g_bytes_new(&fw->smi_ok, 1);
    set_item(fw, fw->smi_requested_key, req);
    set_item(fw, fw->smi_ok_key, ok);
}

/* Selecting features-ok checks the request: a subset of what is
 * supported is accepted, once; from then on the features are fixed. */
static void smi_check(struct fw_cfg *fw)
{
    if (fw->smi_ok)
        return;
    uint64_t req;
    memcpy(&req, fw->smi_requested, sizeof(req));
    req = GUINT64_FROM_LE(req);
    if (req & ~fw->smi_supported)
        return;
    fw->smi_negotiated = req;
    fw->smi_ok = 1;
    smi_publish(fw);
}

/* A DMA write into the selected item: only requested-features takes
 * one, within its 8 bytes and before the features are fixed. */
static bool dma_write(struct fw_cfg *fw, uint64_t addr, uint32_t length)
{
    uint16_t key = fw->cur_key & ~FW_CFG_WRITE_CHANNEL;
    if (!fw->smi_requested_key || key != fw->smi_requested_key || fw->smi_ok ||
        fw->cur_offset > sizeof(fw->smi_requested) ||
        length > sizeof(fw->smi_requested) - fw->cur_offset)
        return false;
    if (!guest_memory_read(vm_memory(fw->vm), addr, fw->smi_requested + fw->cur_offset, length))
        return false;
    uint32_t offset = fw->cur_offset + length;
    smi_publish(fw);
    /* The item changed under the selection: select it anew, same place. */
    select_item(fw, fw->cur_key);
    fw->cur_offset = offset;
    return true;
}

static void select_item(struct fw_cfg *fw, uint16_t key)
{
    /* Writes through the data port are not supported (as in current
     * firmware interfaces), so the write-channel bit selects the same item. */
    g_clear_pointer(&fw->cur, g_bytes_unref);
    fw->cur_key = key;
    if (fw->smi_ok_key && (key & ~FW_CFG_WRITE_CHANNEL) == fw->smi_ok_key)
        smi_check(fw);
    GBytes *b = g_hash_table_lookup(fw->items, GUINT_TO_POINTER(key & ~FW_CFG_WRITE_CHANNEL));
    fw->cur = b ? g_bytes_ref(b) : NULL;
    fw->cur_offset = 0;
}

static size_t remaining(struct fw_cfg *fw, const uint8_t **data)
{
    if (!fw->cur) {
        *data = NULL;
        return 0;
    }
    gsize n;
    *data = g_bytes_get_data(fw->cur, &n);
    return fw->cur_offset < n ? n - fw->cur_offset : 0;
}

static uint8_t data_byte(struct fw_cfg *fw)
{
    const uint8_t *d;
    if (remaining(fw, &d) == 0)
        return 0;
    return d[fw->cur_offset++];
}

/* Run the DMA request whose descriptor is at desc_gpa. */
static void dma_transfer(struct fw_cfg *fw, uint64_t desc_gpa)
{
    struct guest_memory *m = vm_memory(fw->vm);
    uint8_t desc[16];

    /* A copy, so that another vCPU rewriting the descriptor cannot change
     * it between checks and use.  No RAM there: nowhere to report. */
    if (!guest_memory_read(m, desc_gpa, desc, sizeof(desc)))
        return;
    uint32_t control = be32(desc);
    uint32_t length = be32(desc + 4);
    uint64_t addr = be64(desc + 8);
    bool error = false;

    if (control & FW_CFG_DMA_CTL_SELECT)
        select_item(fw, (uint16_t)(control >> 16));

    const uint8_t *data;
    size_t avail = remaining(fw, &data);
    size_t n = MIN((size_t)length, avail);
    if (control & FW_CFG_DMA_CTL_READ) {
        uint8_t *dst = guest_memory_ptr(m, addr, length);
        if (!dst) {
            error = true;
        } else {
            /* Past the end of the item reads as zeros. */
            if (n)
                memcpy(dst, data + fw->cur_offset, n);
            memset(dst + n, 0, length - n);
            fw->cur_offset += (uint32_t)n;
        }
    } else if (control & FW_CFG_DMA_CTL_WRITE) {
        error = !dma_write(fw, addr, length);
    } else if (control & FW_CFG_DMA_CTL_SKIP) {
        fw->cur_offset += (uint32_t)n;
    }

    uint8_t status[4];
    put_be(status, error ? FW_CFG_DMA_CTL_ERROR : 0, 4);
    guest_memory_write(m, desc_gpa, status, sizeof(status));
}

static uint64_t port_read(void *opaque, uint64_t offset, unsigned size)
{
    struct fw_cfg *fw = opaque;
    uint64_t v = 0;
    g_mutex_lock(&fw->lock);
    for (unsigned i = 0; i < size; i++) {
        uint64_t o = offset + i;
        uint8_t b = 0;
        if (o == REG_DATA)
            b = data_byte(fw);
        else if (o >= REG_DMA && o < REG_DMA + 8)
            b = (uint8_t)(FW_CFG_DMA_SIGNATURE >> (8 * (7 - (o - REG_DMA))));
        v |= (uint64_t)b << (8 * i);
    }
    g_mutex_unlock(&fw->lock);
    return v;
}

static void port_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct fw_cfg *fw = opaque;
    bool start = false;
    g_mutex_lock(&fw->lock);
    if (offset == REG_SELECTOR && size >= 2)
        select_item(fw, (uint16_t)value);
    for (unsigned i = 0; i < size; i++) {
        uint64_t o = offset + i;
        if (o >= REG_DMA && o < REG_DMA + 8) {
            fw->dma_addr[o - REG_DMA] = (uint8_t)(value >> (8 * i));
            /* The write that completes the low half starts the transfer. */
            if (o == REG_DMA + 7)
                start = true;
        }
    }
    if (start) {
        uint64_t desc = be64(fw->dma_addr);
        memset(fw->dma_addr, 0, sizeof(fw->dma_addr));
        dma_transfer(fw, desc);
    }
    g_mutex_unlock(&fw->lock);
}

static const struct io_ops fw_cfg_ops = { .read = port_read, .write = port_write };

static void fw_cfg_reset(void *opaque)
{
    struct fw_cfg *fw = opaque;
    g_mutex_lock(&fw->lock);
    g_clear_pointer(&fw->cur, g_bytes_unref);
    fw->cur_offset = 0;
    memset(fw->dma_addr, 0, sizeof(fw->dma_addr));
    if (fw->smi_ok_key) {
        memset(fw->smi_requested, 0, sizeof(fw->smi_requested));
        fw->smi_ok = 0;
        fw->smi_negotiated = 0;
        smi_publish(fw);
    }
    g_mutex_unlock(&fw->lock);
}

/* --- VM state: the selected item and the read position; the items come
 * from the configuration again.  DMA transfers complete within the guest's
 * write that starts them, so none is ever in flight. */

static bool fw_cfg_save(void *opaque, struct state_out *o, GError **error)
{
    struct fw_cfg *fw = opaque;
    g_mutex_lock(&fw->lock);
    state_out_bool(o, fw->cur != NULL);
    state_out_u16(o, fw->cur_key);
    state_out_u32(o, fw->cur_offset);
    state_out_bytes(o, fw->dma_addr, sizeof(fw->dma_addr));
    state_out_bytes(o, fw->smi_requested, sizeof(fw->smi_requested));
    state_out_u8(o, fw->smi_ok);
    state_out_u64(o, fw->smi_negotiated);
    g_mutex_unlock(&fw->lock);
    return true;
}

static bool fw_cfg_load(void *opaque, struct state_in *in, uint32_t version, GError **error)
{
    struct fw_cfg *fw = opaque;
    bool selected = state_in_bool(in);
    uint16_t key = state_in_u16(in);
    uint32_t offset = state_in_u32(in);
    uint8_t dma[8];
    state_in_bytes(in, dma, sizeof(dma));
    uint8_t smi_requested[8];
    state_in_bytes(in, smi_requested, sizeof(smi_requested));
    uint8_t smi_ok = state_in_u8(in);
    uint64_t smi_negotiated = state_in_u64(in);
    if (in->short_read)
        return state_in_invalid(in, error, _("truncated"));
    bool smi_used = smi_ok || smi_negotiated;
    for (unsigned i = 0; i < sizeof(smi_requested); i++)
        smi_used |= smi_requested[i] != 0;
    if (smi_ok > 1 || (smi_used && !fw->smi_ok_key) ||
        (smi_negotiated & ~fw->smi_supported) || (!smi_ok && smi_negotiated))
        return state_in_invalid(in, error, _("SMI features 0x%" PRIx64),
                                smi_negotiated);
    g_mutex_lock(&fw->lock);
    if (fw->smi_ok_key) {
        memcpy(fw->smi_requested, smi_requested, sizeof(smi_requested));
        fw->smi_ok = smi_ok;
        fw->smi_negotiated = smi_negotiated;
        smi_publish(fw);
    }
    /* A device no firmware has used yet has nothing selected, whatever
     * the key says. */
    select_item(fw, key);
    if (!selected && key == 0)
        g_clear_pointer(&fw->cur, g_bytes_unref);
    bool ok = selected == (fw->cur != NULL) &&
              (!fw->cur || offset <= g_bytes_get_size(fw->cur));
    fw->cur_offset = ok ? offset : 0;
    memcpy(fw->dma_addr, dma, sizeof(dma));
    g_mutex_unlock(&fw->lock);
    return ok || state_in_invalid(in, error, _("item 0x%x at offset %u"), key, offset);
}

const struct vm_state_ops fw_cfg_state_ops = {
    .version = 2, .stage = VM_STATE_STAGE_DEVICE, .save = fw_cfg_save, .load = fw_cfg_load,
};

struct fw_cfg *fw_cfg_create(struct vm *vm)
{
    G_STATIC_ASSERT(PC_FW_CFG_DMA_PORT == PC_FW_CFG_PORT + REG_DMA);
    struct fw_cfg *fw = g_new0(struct fw_cfg, 1);
    fw->vm = vm;
    g_mutex_init(&fw->lock);
    fw->items = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)g_bytes_unref);

    if (!iobus_register(vm_pio_bus(vm), PC_FW_CFG_PORT, FW_CFG_PORT_LEN, &fw_cfg_ops, fw,
                        "fw-cfg")) {
        g_hash_table_unref(fw->items);
        g_mutex_clear(&fw->lock);
        g_free(fw);
        return NULL;
    }

    g_autoptr(GBytes) sig = g_bytes_new_static("QEMU", 4);
    set_item(fw, FW_CFG_SIGNATURE, sig);
    uint32_t id = GUINT32_TO_LE(FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA);
    g_autoptr(GBytes) idb = g_bytes_new(&id, sizeof(id));
    set_item(fw, FW_CFG_ID, idb);
    rebuild_dir(fw);

    const struct guest_memory *m = vm_memory(vm);
    fw_cfg_add_i16(fw, FW_CFG_NB_CPUS, (uint16_t)vm_cpu_count(vm));
    fw_cfg_add_i16(fw, FW_CFG_MAX_CPUS, (uint16_t)vm_cpu_count(vm));
    fw_cfg_add_i64(fw, FW_CFG_RAM_SIZE, m->ram_size);
    size_t e820_len;
    uint8_t *e820 = e820_fw_cfg_blob(m, &e820_len);
    g_autoptr(GBytes) e820b = g_bytes_new_take(e820, e820_len);
    fw_cfg_add_file_gbytes(fw, "etc/e820", e820b);

    vm_add_reset_handler(vm, fw_cfg_reset, fw);
    return fw;
}

void fw_cfg_free(struct fw_cfg *fw)
{
    if (!fw)
        return;
    iobus_unregister(vm_pio_bus(fw->vm), PC_FW_CFG_PORT, fw);
    g_clear_pointer(&fw->cur, g_bytes_unref);
    g_hash_table_unref(fw->items);
    g_mutex_clear(&fw->lock);
    g_free(fw);
}
