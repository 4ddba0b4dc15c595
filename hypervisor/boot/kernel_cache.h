/* Unpacked kernels, kept on disk between boots.  Booting the kernel proper
 * directly skips the bzImage's own decompressor, which is most of the time
 * before the kernel's first line; the cache makes the unpacking a one-time
 * cost per kernel file. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <glib.h>

/* The default directory: /var/cache/oriel/kernels for root (VMs of the
 * system daemon), else $XDG_CACHE_HOME/oriel/kernels. */
char *kernel_cache_default_dir(void);

/* The kernel proper (ELF vmlinux, checked with vmlinux_parse) of the
 * bzImage `bz` read from `path`.  With a cache_dir it comes from an entry
 * made for this very file (same size, times, inode and the same first and
 * last 64 KiB) or is unpacked now and stored; NULL cache_dir unpacks
 * without storing.  A cache that cannot be written is reported with
 * g_warning and the boot goes on.  NULL with error when the payload cannot
 * be unpacked: the caller then boots the bzImage as it is. */
GBytes *kernel_cache_get(const char *cache_dir, const char *path, const uint8_t *bz, size_t bz_len,
                         GError **error);
