/* One running VM per physical disk: an flock()ed file per disk under
 * /run/oriel, named after the disk's serial (or, without one, its
 * partition table's id), so two device paths of one disk share it. */
#pragma once

#include <glib.h>

#include "host-disk.h"

G_BEGIN_DECLS

#define ORIEL_DISK_LOCK_DIR "/run/oriel"

typedef struct _OrielDiskLock OrielDiskLock;

/* The lock file's name for disk: "dualboot-serial-S1234.lock",
 * "dualboot-table-<GUID>.lock" or "dualboot-dev-8-0.lock"; only
 * [A-Za-z0-9._-] survive. */
char *oriel_disk_lock_name (const OrielHostDisk *disk);

/* Takes the lock without waiting; G_IO_ERROR_BUSY naming the holder's
 * process when another process has it.  lock_dir NULL means
 * ORIEL_DISK_LOCK_DIR (created if missing). */
OrielDiskLock *oriel_disk_lock_acquire (const OrielHostDisk *disk, const char *lock_dir, GError **error);
void oriel_disk_lock_release (OrielDiskLock *lock);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrielDiskLock, oriel_disk_lock_release)

/* The locked file's descriptor: a process that inherits it holds the lock
 * too, until the last copy is closed (flock follows the open file). */
int oriel_disk_lock_fd (const OrielDiskLock *lock);

/* Closes this copy only, leaving the file as it is: the lock stays with
 * the processes that inherited it. */
void oriel_disk_lock_close (OrielDiskLock *lock);

/* Records pid as the holder, for the message the next taker sees. */
void oriel_disk_lock_set_holder (OrielDiskLock *lock, int pid);

/* TRUE when nobody holds the lock (taken and dropped at once); otherwise
 * *holder_pid is the holder's process id (0 when unknown). */
gboolean oriel_disk_lock_is_free (const OrielHostDisk *disk, const char *lock_dir, int *holder_pid, GError **error);

G_END_DECLS
