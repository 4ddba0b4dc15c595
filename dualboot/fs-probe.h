/* Filesystem and partition-table identification through util-linux's
 * libblkid.  Everything here only reads. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The filesystem libblkid finds in [offset, offset + size) of fd, as its TYPE
 * name ("ntfs", "vfat", "ext4", "swap", "BitLocker"), or NULL.  size 0 means
 * up to the end of fd.  The label, when wanted and present, goes to *label. */
char *oriel_fs_probe_fd (int fd, guint64 offset, guint64 size, char **label);

/* The same for a whole file or device path; NULL when it cannot be opened
 * (*readable is FALSE then) or holds no known filesystem. */
char *oriel_fs_probe_path (const char *path, gboolean *readable);

G_END_DECLS
