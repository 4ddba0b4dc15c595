#include "kernel_cache.h"
#include "kernel_payload.h"
#include "vmlinux_elf.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#define KEY_SAMPLE     (64u << 10)
#define KEEP_ENTRIES   4           /* unpacked kernels are ~50 MiB each */
#define ENTRY_SUFFIX   ".vmlinux"

char *kernel_cache_default_dir(void)
{
    /* root runs VMs for the system (virtorield): the system's cache. */
    if (geteuid() == 0)
        return g_strdup("/var/cache/oriel/kernels");
    return g_build_filename(g_get_user_cache_dir(), "oriel", "kernels", NULL);
}

/* Names the entry for this file: what identifies the file on disk plus
 * its first and last bytes (the setup header, the start of the payload and
 * its size trailer), without reading the whole image. */
static char *entry_key(const struct stat *st, const uint8_t *bz, size_t len)
{
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    int64_t meta[] = {
        1, (int64_t)st->st_size, (int64_t)st->st_ino, st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
        st->st_ctim.tv_sec, st->st_ctim.tv_nsec,
    };
    g_checksum_update(sum, (const guchar *)meta, sizeof(meta));
    size_t head = MIN(len, (size_t)KEY_SAMPLE);
    g_checksum_update(sum, bz, head);
    if (len > head)
        g_checksum_update(sum, bz + len - MIN(len - head, (size_t)KEY_SAMPLE), MIN(len - head, (size_t)KEY_SAMPLE));
    return g_strdup(g_checksum_get_string(sum));
}

/* Only a directory of our own that nobody else can write to may supply
 * kernels: anything in it runs as the guest's kernel. */
static bool usable_dir(const char *dir, GError **error)
{
    if (g_mkdir_with_parents(dir, 0700) != 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), _("cannot create %s: %s"),
                    dir, g_strerror(errno));
        return false;
    }
    struct stat st;
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid()
        || (st.st_mode & (S_IWGRP | S_IWOTH))) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_PERM,
                    _("%s is not a directory owned by this user and writable only by it"), dir);
        return false;
    }
    return true;
}

static GBytes *load_entry(const char *file)
{
    g_autoptr(GMappedFile) f = g_mapped_file_new(file, FALSE, NULL);
    if (!f)
        return NULL;
    GBytes *b = g_mapped_file_get_bytes(f);
    struct vmlinux_info info;
    g_autoptr(GError) bad = NULL;
    if (!vmlinux_parse(g_bytes_get_data(b, NULL), g_bytes_get_size(b), &info, &bad)) {
        g_warning(_("removing the damaged unpacked kernel %s: %s"), file, bad->message);
        g_unlink(file);
        g_bytes_unref(b);
        return NULL;
    }
    utimensat(AT_FDCWD, file, NULL, 0);     /* recently used: kept by prune() */
    return b;
}

struct cache_entry {
    char *path;
    struct timespec used;
};

static void cache_entry_clear(void *p)
{
    g_free(((struct cache_entry *)p)->path);
}

static gint newest_first(gconstpointer a, gconstpointer b)
{
    const struct timespec *ta = &((const struct cache_entry *)a)->used;
    const struct timespec *tb = &((const struct cache_entry *)b)->used;
    if (ta->tv_sec != tb->tv_sec)
        return ta->tv_sec < tb->tv_sec ? 1 : -1;
    return ta->tv_nsec < tb->tv_nsec ? 1 : ta->tv_nsec > tb->tv_nsec ? -1 : 0;
}

/* Keep the KEEP_ENTRIES most recently used entries. */
static void prune(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    if (!d)
        return;
    g_autoptr(GArray) entries = g_array_new(FALSE, FALSE, sizeof(struct cache_entry));
    g_array_set_clear_func(entries, cache_entry_clear);
    const char *name;
    while ((name = g_dir_read_name(d))) {
        struct cache_entry e = { g_build_filename(dir, name, NULL), { 0, 0 } };
        struct stat st;
        if (!g_str_has_suffix(name, ENTRY_SUFFIX) || stat(e.path, &st) != 0) {
            g_free(e.path);
            continue;
        }
        e.used = st.st_mtim;
        g_array_append_val(entries, e);
    }
    g_array_sort(entries, newest_first);
    for (guint i = KEEP_ENTRIES; i < entries->len; i++)
        g_unlink(g_array_index(entries, struct cache_entry, i).path);
}

static void store_entry(const char *dir, const char *file, GBytes *vmlinux)
{
    g_autoptr(GError) error = NULL;
    gsize len;
    const char *data = g_bytes_get_data(vmlinux, &len);
    if (!g_file_set_contents_full(file, data, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error)) {
        g_warning(_("cannot keep the unpacked kernel in %s: %s"), dir, error->message);
        return;
    }
    prune(dir);
}

GBytes *kernel_cache_get(const char *cache_dir, const char *path, const uint8_t *bz, size_t bz_len,
                         GError **error)
{
    g_autofree char *file = NULL;
    if (cache_dir) {
        struct stat st;
        g_autoptr(GError) why = NULL;
        if (stat(path, &st) != 0) {
            g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", path,
                        g_strerror(errno));
            return NULL;
        }
        if (usable_dir(cache_dir, &why)) {
            g_autofree char *key = entry_key(&st, bz, bz_len);
            g_autofree char *base = g_strconcat(key, ENTRY_SUFFIX, NULL);
            file = g_build_filename(cache_dir, base, NULL);
            GBytes *hit = load_entry(file);
            if (hit) {
                g_debug("kernel: unpacked %s found in %s", path, file);
                return hit;
            }
        } else {
            g_warning(_("not keeping unpacked kernels: %s"), why->message);
        }
    }

    const uint8_t *payload;
    size_t payload_len;
    if (!kernel_payload_find(bz, bz_len, &payload, &payload_len, error))
        return NULL;
    GBytes *vmlinux = kernel_payload_decompress(payload, payload_len, error);
    if (!vmlinux)
        return NULL;
    struct vmlinux_info info;
    if (!vmlinux_parse(g_bytes_get_data(vmlinux, NULL), g_bytes_get_size(vmlinux), &info, error)) {
        g_bytes_unref(vmlinux);
        return NULL;
    }
    g_debug("kernel: unpacked %s (%s, %zu bytes)", path,
            kernel_compression_name(kernel_payload_compression(payload, payload_len)),
            g_bytes_get_size(vmlinux));
    if (file)
        store_entry(cache_dir, file, vmlinux);
    return vmlinux;
}
