/* Per-disk locks (see disk-lock.h). */
#include "disk-lock.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct _OrielDiskLock {
  int fd;
  char *path;
};

static char *
sanitize (const char *s)
{
  char *out = g_strdup (s);

  for (char *c = out; *c != '\0'; c++)
    if (!g_ascii_isalnum (*c) && *c != '.' && *c != '-' && *c != '_')
      *c = '_';
  return out;
}

char *
oriel_disk_lock_name (const OrielHostDisk *disk)
{
  g_autofree char *key = NULL;

  if (disk->serial != NULL)
    key = g_strconcat ("serial-", disk->serial, NULL);
  else if (disk->table_id != NULL)
    key = g_strconcat ("table-", disk->table_id, NULL);
  else if (disk->devnum != 0)
    key = g_strdup_printf ("dev-%u-%u", major (disk->devnum), minor (disk->devnum));
  else
    key = g_strconcat ("path-", disk->device, NULL);
  {
    g_autofree char *safe = sanitize (key);
    return g_strdup_printf ("dualboot-%s.lock", safe);
  }
}

static int
open_lock_file (const OrielHostDisk *disk, const char *lock_dir, char **path_out, GError **error)
{
  g_autofree char *name = oriel_disk_lock_name (disk);
  g_autofree char *path = NULL;
  int fd;

  if (lock_dir == NULL)
    lock_dir = ORIEL_DISK_LOCK_DIR;
  if (g_mkdir_with_parents (lock_dir, 0755) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _("Cannot create %s: %s"), lock_dir,
                   g_strerror (saved));
      return -1;
    }
  path = g_build_filename (lock_dir, name, NULL);
  fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _("Cannot open %s: %s"), path,
                   g_strerror (saved));
      return -1;
    }
  *path_out = g_steal_pointer (&path);
  return fd;
}

static int
read_holder (int fd)
{
  char buf[32] = { 0 };

  if (pread (fd, buf, sizeof buf - 1, 0) <= 0)
    return 0;
  return (int) g_ascii_strtoll (buf, NULL, 10);
}

static void
write_holder (int fd, const char *path, int pid)
{
  char text[32];

  g_snprintf (text, sizeof text, "%d\n", pid);
  if (ftruncate (fd, 0) != 0 || pwrite (fd, text, strlen (text), 0) < 0)
    g_debug ("%s: cannot record the holder: %s", path, g_strerror (errno));
}

OrielDiskLock *
oriel_disk_lock_acquire (const OrielHostDisk *disk, const char *lock_dir, GError **error)
{
  g_autofree char *path = NULL;
  int fd = open_lock_file (disk, lock_dir, &path, error);
  OrielDiskLock *lock;

  if (fd < 0)
    return NULL;
  if (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      int holder = read_holder (fd);
      if (holder > 0)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                     _("Another virtual machine is using this disk (process %d)."), holder);
      else
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY, _("Another virtual machine is using this disk."));
      close (fd);
      return NULL;
    }
  /* The holder's pid, for the message the next taker sees. */
  write_holder (fd, path, (int) getpid ());
  lock = g_new0 (OrielDiskLock, 1);
  lock->fd = fd;
  lock->path = g_steal_pointer (&path);
  return lock;
}

void
oriel_disk_lock_release (OrielDiskLock *lock)
{
  if (lock == NULL)
    return;
  /* The file stays: unlinking it would race with a process that opened
   * it and is about to lock it. */
  if (ftruncate (lock->fd, 0) != 0)
    g_debug ("%s: %s", lock->path, g_strerror (errno));
  close (lock->fd);
  g_free (lock->path);
  g_free (lock);
}

int
oriel_disk_lock_fd (const OrielDiskLock *lock)
{
  return lock->fd;
}

void
oriel_disk_lock_close (OrielDiskLock *lock)
{
  if (lock == NULL)
    return;
  close (lock->fd);
  g_free (lock->path);
  g_free (lock);
}

void
oriel_disk_lock_set_holder (OrielDiskLock *lock, int pid)
{
  write_holder (lock->fd, lock->path, pid);
}

gboolean
oriel_disk_lock_is_free (const OrielHostDisk *disk, const char *lock_dir, int *holder_pid, GError **error)
{
  g_autofree char *path = NULL;
  int fd = open_lock_file (disk, lock_dir, &path, error);
  gboolean free_now;

  *holder_pid = 0;
  if (fd < 0)
    return FALSE;
  free_now = flock (fd, LOCK_EX | LOCK_NB) == 0;
  if (!free_now)
    *holder_pid = read_holder (fd);
  close (fd);
  return free_now;
}
