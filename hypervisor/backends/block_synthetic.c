/* The synthetic disk: a guest-visible disk the size of a physical one,
 * assembled range by range from its map file (synthetic_map.c):
 *
 *   table   read from the device; writes fail
 *   pass    real mode: the device; trial mode: the trial overlay
 *   esp     the ESP overlay, always
 *   other   reads zeros; writes fail, with a rate-limited warning
 *
 * The overlays are qcow2 images whose backing is a read-only view of the
 * device given in memory, so they start out showing the device's bytes
 * and keep every guest write for themselves.  A request crossing range
 * boundaries is split; a write that touches any range it may not write
 * fails whole, before any of it is written. */
#include "block_backend.h"
#include "synthetic_map.h"

#include <inttypes.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

/* At most one warning about refused writes this often (µs). */
#define WARN_INTERVAL_US G_USEC_PER_SEC

struct synthetic {
    struct block_backend bb;
    struct synthetic_map *map;
    struct block_backend *device;
    struct block_backend *esp;      /* NULL without an esp-overlay line */
    struct block_backend *trial;    /* trial mode only */
    GMutex warn_lock;
    int64_t last_warning;
    unsigned suppressed;
};

static struct synthetic *syn(struct block_backend *bb)
{
    return (struct synthetic *)bb;
}

/* ---- the device view: the overlays' backing ---- */

/* Reads of the device; never writes it, and closing it leaves the device
 * open (the synthetic disk owns it). */
struct device_view {
    struct block_backend bb;
    struct block_backend *device;
};

static int view_preadv(struct block_backend *bb, const struct iovec *iov, int iovcnt, uint64_t off)
{
    return block_backend_preadv(((struct device_view *)bb)->device, iov, iovcnt, off);
}

static int view_pwritev(struct block_backend *bb, const struct iovec *iov, int iovcnt, uint64_t off)
{
    (void)bb, (void)iov, (void)iovcnt, (void)off;
    return -EROFS;
}

static int view_flush(struct block_backend *bb)
{
    (void)bb;
    return 0;
}

static int view_range(struct block_backend *bb, uint64_t off, uint64_t len)
{
    (void)bb, (void)off, (void)len;
    return -EROFS;
}

static void view_close(struct block_backend *bb)
{
    g_free(bb->path);
    g_free(bb);
}

static const struct block_backend_ops view_ops = {
    .preadv = view_preadv,
    .pwritev = view_pwritev,
    .flush = view_flush,
    .discard = view_range,
    .write_zeroes = view_range,
    .close = view_close,
};

static struct block_backend *device_view(struct block_backend *device)
{
    struct device_view *v = g_new0(struct device_view, 1);
    v->bb.ops = &view_ops;
    v->bb.size = device->size;
    v->bb.readonly = true;
    v->bb.path = g_strdup(device->path);
    v->device = device;
    return &v->bb;
}

/* ---- routing ---- */

/* Where a piece of a request goes; NULL: nowhere (zeros, or refused). */
static struct block_backend *read_target(struct synthetic *s, enum synthetic_kind kind)
{
    switch (kind) {
    case SYNTHETIC_TABLE: return s->device;
    case SYNTHETIC_PASS: return s->map->mode == SYNTHETIC_REAL ? s->device : s->trial;
    case SYNTHETIC_ESP: return s->esp;
    case SYNTHETIC_ZERO:
    default: return NULL;
    }
}

static struct block_backend *write_target(struct synthetic *s, enum synthetic_kind kind)
{
    return kind == SYNTHETIC_TABLE ? NULL : read_target(s, kind);
}

static void warn_refused(struct synthetic *s, const char *what, uint64_t offset,
                         enum synthetic_kind kind)
{
    g_mutex_lock(&s->warn_lock);
    int64_t now = g_get_monotonic_time();
    if (s->last_warning && now - s->last_warning < WARN_INTERVAL_US) {
        s->suppressed++;
        g_mutex_unlock(&s->warn_lock);
        return;
    }
    unsigned suppressed = s->suppressed;
    s->suppressed = 0;
    s->last_warning = now;
    g_mutex_unlock(&s->warn_lock);
    const char *where = kind == SYNTHETIC_TABLE ? _("the partition table")
                                                : _("a masked area");
    if (suppressed)
        g_warning(_("Synthetic disk %s: guest %s at byte %" PRIu64 " refused: it is in %s "
                    "(%u more refused since the last message)"),
                  s->bb.path, what, (guint64)offset, where, suppressed);
    else
        g_warning(_("Synthetic disk %s: guest %s at byte %" PRIu64 " refused: it is in %s"),
                  s->bb.path, what, (guint64)offset, where);
}

/* The part [skip, skip + len) of an I/O vector, as a vector in out (which
 * has room for iovcnt entries); returns its entry count. */
static int iov_slice(const struct iovec *iov, int iovcnt, uint64_t skip, uint64_t len,
                     struct iovec *out)
{
    int n = 0;
    for (int i = 0; i < iovcnt && len; i++) {
        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        size_t take = (size_t)MIN((uint64_t)iov[i].iov_len - skip, len);
        out[n].iov_base = (uint8_t *)iov[i].iov_base + skip;
        out[n].iov_len = take;
        n++;
        len -= take;
        skip = 0;
    }
    return n;
}

static uint64_t iov_total(const struct iovec *iov, int iovcnt)
{
    uint64_t t = 0;
    for (int i = 0; i < iovcnt; i++)
        t += iov[i].iov_len;
    return t;
}

static bool in_disk(const struct synthetic *s, uint64_t offset, uint64_t len)
{
    return offset <= s->bb.size && len <= s->bb.size - offset;
}

/* Refuses (-EIO, with a warning) a change of [offset, offset+len) that
 * touches a range the guest may not change. */
static int check_writable(struct synthetic *s, const char *what, uint64_t offset, uint64_t len)
{
    uint64_t end = offset + len;
    while (offset < end) {
        uint64_t n;
        enum synthetic_kind kind = synthetic_map_lookup(s->map, offset, end, &n);
        if (!write_target(s, kind)) {
            warn_refused(s, what, offset, kind);
            return -EIO;
        }
        offset += n;
    }
    return 0;
}

static int synthetic_transfer(struct synthetic *s, const struct iovec *iov, int iovcnt,
                              uint64_t offset, bool write)
{
    uint64_t total = iov_total(iov, iovcnt);
    if (!in_disk(s, offset, total))
        return -EINVAL;
    if (write) {
        int ret = check_writable(s, _("write"), offset, total);
        if (ret)
            return ret;
    }
    struct iovec local[64];
    struct iovec *piece = iovcnt <= 64 ? local : g_new(struct iovec, iovcnt);
    int ret = 0;
    for (uint64_t done = 0; done < total && ret == 0;) {
        uint64_t n;
        enum synthetic_kind kind = synthetic_map_lookup(s->map, offset + done, offset + total, &n);
        int cnt = iov_slice(iov, iovcnt, done, n, piece);
        struct block_backend *to = write ? write_target(s, kind) : read_target(s, kind);
        if (to)
            ret = write ? block_backend_pwritev(to, piece, cnt, offset + done)
                        : block_backend_preadv(to, piece, cnt, offset + done);
        else if (!write)
            for (int i = 0; i < cnt; i++)
                memset(piece[i].iov_base, 0, piece[i].iov_len);
        else
            ret = -EIO;     /* check_writable let it through: cannot happen */
        done += n;
    }
    if (piece != local)
        g_free(piece);
    return ret;
}

static int synthetic_preadv(struct block_backend *bb, const struct iovec *iov, int iovcnt,
                            uint64_t offset)
{
    return synthetic_transfer(syn(bb), iov, iovcnt, offset, false);
}

static int synthetic_pwritev(struct block_backend *bb, const struct iovec *iov, int iovcnt,
                             uint64_t offset)
{
    if (bb->readonly)
        return -EROFS;
    return synthetic_transfer(syn(bb), iov, iovcnt, offset, true);
}

static int synthetic_flush(struct block_backend *bb)
{
    struct synthetic *s = syn(bb);
    int ret = 0;
    struct block_backend *all[] = {
        s->map->mode == SYNTHETIC_REAL ? s->device : NULL, s->esp, s->trial,
    };
    for (size_t i = 0; i < G_N_ELEMENTS(all); i++) {
        if (all[i] && !all[i]->readonly) {
            int r = block_backend_flush(all[i]);
            if (ret == 0)
                ret = r;
        }
    }
    return ret;
}

/* Discard and write-zeroes go where writes go.  A discard of a pass range
 * in real mode is ignored: it would throw away data of the installed
 * system, and a discard only allows, never requires, forgetting data. */
static int synthetic_ranged(struct block_backend *bb, uint64_t offset, uint64_t len, bool zero)
{
    struct synthetic *s = syn(bb);
    if (bb->readonly)
        return -EROFS;
    if (!in_disk(s, offset, len))
        return -EINVAL;
    int ret = check_writable(s, zero ? _("write-zeroes") : _("discard"), offset, len);
    uint64_t end = offset + len;
    while (ret == 0 && offset < end) {
        uint64_t n;
        enum synthetic_kind kind = synthetic_map_lookup(s->map, offset, end, &n);
        struct block_backend *to = write_target(s, kind);
        if (!to)
            ret = -EIO;     /* check_writable let it through: cannot happen */
        else if (zero)
            ret = block_backend_write_zeroes(to, offset, n);
        else if (to != s->device)
            ret = block_backend_discard(to, offset, n);
        offset += n;
    }
    return ret;
}

static int synthetic_discard(struct block_backend *bb, uint64_t offset, uint64_t len)
{
    return synthetic_ranged(bb, offset, len, false);
}

static int synthetic_write_zeroes(struct block_backend *bb, uint64_t offset, uint64_t len)
{
    return synthetic_ranged(bb, offset, len, true);
}

static void synthetic_close(struct block_backend *bb)
{
    struct synthetic *s = syn(bb);
    /* The overlays first: their views read the device. */
    block_backend_close(s->esp);
    block_backend_close(s->trial);
    block_backend_close(s->device);
    synthetic_map_free(s->map);
    g_mutex_clear(&s->warn_lock);
    g_free(bb->path);
    g_free(s);
}

static const struct block_backend_ops synthetic_ops = {
    .preadv = synthetic_preadv,
    .pwritev = synthetic_pwritev,
    .flush = synthetic_flush,
    .discard = synthetic_discard,
    .write_zeroes = synthetic_write_zeroes,
    .close = synthetic_close,
};

/* ---- opening ---- */

/* Paths in the map file are relative to its folder. */
static char *resolve(const char *map_path, const char *path)
{
    if (g_path_is_absolute(path))
        return g_strdup(path);
    g_autofree char *dir = g_path_get_dirname(map_path);
    return g_build_filename(dir, path, NULL);
}

static struct synthetic_map *read_map(const char *path, GError **error)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > SYNTHETIC_MAP_MAX_SIZE) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    _("Synthetic disk map %s: the file is too large"), path);
        return NULL;
    }
    g_autofree char *text = NULL;
    gsize len = 0;
    g_autoptr(GError) err = NULL;
    if (!g_file_get_contents(path, &text, &len, &err)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    _("Cannot read synthetic disk map %s: %s"), path, err->message);
        return NULL;
    }
    return synthetic_map_parse(text, len, path, error);
}

static struct block_backend *open_overlay(struct synthetic *s, const char *map_path,
                                          const char *overlay, const char *what, bool readonly,
                                          GError **error)
{
    g_autofree char *full = resolve(map_path, overlay);
    struct block_backend *bb = block_qcow2_open_over(full, device_view(s->device), readonly, error);
    if (!bb)
        g_prefix_error(error, _("Synthetic disk %s, %s: "), map_path, what);
    return bb;
}

struct block_backend *block_synthetic_open(const char *map_path, bool readonly, GError **error)
{
    struct synthetic_map *map = read_map(map_path, error);
    if (!map)
        return NULL;
    struct synthetic *s = g_new0(struct synthetic, 1);
    g_mutex_init(&s->warn_lock);
    s->map = map;
    s->bb.ops = &synthetic_ops;
    s->bb.readonly = readonly;
    s->bb.path = g_strdup(map_path);

    /* Trial mode never writes the device; make that the kernel's job. */
    g_autofree char *device = resolve(map_path, map->device);
    s->device = block_raw_open_exclusive(device, readonly || map->mode == SYNTHETIC_TRIAL, error);
    if (!s->device)
        goto fail;
    if (!synthetic_map_check_size(map, s->device->size, error))
        goto fail;
    s->bb.size = s->device->size;
    if (map->esp_overlay) {
        s->esp = open_overlay(s, map_path, map->esp_overlay, "esp-overlay", readonly, error);
        if (!s->esp)
            goto fail;
    }
    /* In real mode a trial overlay left behind is not used. */
    if (map->mode == SYNTHETIC_TRIAL) {
        s->trial = open_overlay(s, map_path, map->trial_overlay, "trial-overlay", readonly, error);
        if (!s->trial)
            goto fail;
    }
    return &s->bb;

fail:
    synthetic_close(&s->bb);
    return NULL;
}
