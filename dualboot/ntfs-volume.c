/* Read-only NTFS access through libntfs-3g (see ntfs-volume.h).
 *
 * The volume is reached through our own device operations, which read at an
 * offset of the whole disk: the partition needs no device node of its own
 * (image files, partitions the kernel has not scanned), and every write is
 * refused below the library, whatever it tries. */
#include "ntfs-volume.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ntfs-3g/types.h>
#include <ntfs-3g/attrib.h>
#include <ntfs-3g/device.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/layout.h>
#include <ntfs-3g/logfile.h>
#include <ntfs-3g/logging.h>
#include <ntfs-3g/volume.h>

typedef struct {
  int fd;
  guint64 offset;
  guint64 size;
  guint64 pos;
} WindowDevice;

struct _OrielNtfsVolume {
  WindowDevice window;
  ntfs_volume *vol;
};

static int
window_open (struct ntfs_device *dev, int flags)
{
  if ((flags & O_ACCMODE) != O_RDONLY)
    {
      errno = EROFS;
      return -1;
    }
  NDevSetOpen (dev);
  NDevSetReadOnly (dev);
  return 0;
}

static int
window_close (struct ntfs_device *dev)
{
  NDevClearOpen (dev);
  return 0;
}

static s64
window_seek (struct ntfs_device *dev, s64 offset, int whence)
{
  WindowDevice *w = dev->d_private;
  s64 base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (s64) w->pos : (s64) w->size;

  if ((whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END) || base + offset < 0)
    {
      errno = EINVAL;
      return -1;
    }
  w->pos = (guint64) (base + offset);
  return (s64) w->pos;
}

static s64
window_pread (struct ntfs_device *dev, void *buf, s64 count, s64 offset)
{
  WindowDevice *w = dev->d_private;
  s64 done = 0;

  if (count < 0 || offset < 0)
    {
      errno = EINVAL;
      return -1;
    }
  if ((guint64) offset >= w->size)
    return 0;
  if ((guint64) count > w->size - (guint64) offset)
    count = (s64) (w->size - (guint64) offset);
  while (done < count)
    {
      ssize_t got = pread (w->fd, (char *) buf + done, (size_t) (count - done),
                           (off_t) (w->offset + (guint64) offset + (guint64) done));
      if (got < 0 && errno == EINTR)
        continue;
      if (got < 0)
        return done > 0 ? done : -1;
      if (got == 0)
        break;
      done += got;
    }
  return done;
}

static s64
window_read (struct ntfs_device *dev, void *buf, s64 count)
{
  WindowDevice *w = dev->d_private;
  s64 got = window_pread (dev, buf, count, (s64) w->pos);

  if (got > 0)
    w->pos += (guint64) got;
  return got;
}

static s64
window_write (struct ntfs_device *dev, const void *buf, s64 count)
{
  errno = EROFS;
  return -1;
}

static s64
window_pwrite (struct ntfs_device *dev, const void *buf, s64 count, s64 offset)
{
  errno = EROFS;
  return -1;
}

static int
window_sync (struct ntfs_device *dev)
{
  return 0;
}

static int
window_stat (struct ntfs_device *dev, struct stat *st)
{
  WindowDevice *w = dev->d_private;

  memset (st, 0, sizeof *st);
  st->st_mode = S_IFREG | 0444;
  st->st_size = (off_t) w->size;
  return 0;
}

static int
window_ioctl (struct ntfs_device *dev, unsigned long request, void *argp)
{
  errno = ENOTTY;
  return -1;
}

static struct ntfs_device_operations window_ops = {
  .open = window_open,
  .close = window_close,
  .seek = window_seek,
  .read = window_read,
  .write = window_write,
  .pread = window_pread,
  .pwrite = window_pwrite,
  .sync = window_sync,
  .stat = window_stat,
  .ioctl = window_ioctl,
};

OrielNtfsVolume *
oriel_ntfs_volume_open (int fd, guint64 offset, guint64 size, GError **error)
{
  g_autofree OrielNtfsVolume *v = g_new0 (OrielNtfsVolume, 1);
  struct ntfs_device *dev;
  int saved;

  /* The library reports through its own logger; failures come back here
   * as errno and are reported once, by the caller. */
  ntfs_log_set_handler (ntfs_log_handler_null);
  v->window = (WindowDevice) { .fd = fd, .offset = offset, .size = size };
  dev = ntfs_device_alloc ("oriel-ntfs", 0, &window_ops, &v->window);
  if (dev == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "ntfs_device_alloc: %s", g_strerror (errno));
      return NULL;
    }
  /* Read-only, and never looking at hiberfil.sys itself: this code reports
   * hibernation as a check instead of refusing to open. */
  v->vol = ntfs_device_mount (dev, NTFS_MNT_RDONLY | NTFS_MNT_IGNORE_HIBERFILE);
  if (v->vol == NULL)
    {
      saved = errno;
      ntfs_device_free (dev);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "not a readable NTFS volume: %s", g_strerror (saved));
      return NULL;
    }
  return g_steal_pointer (&v);
}

void
oriel_ntfs_volume_close (OrielNtfsVolume *v)
{
  if (v == NULL)
    return;
  /* Also frees the device. */
  ntfs_umount (v->vol, FALSE);
  g_free (v);
}

static ntfs_attr *
open_data (OrielNtfsVolume *v, const char *path, ntfs_inode **ni_out, GError **error)
{
  ntfs_inode *ni = ntfs_pathname_to_inode (v->vol, NULL, path);
  ntfs_attr *na;

  if (ni == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s: not found", path);
      return NULL;
    }
  na = ntfs_attr_open (ni, AT_DATA, AT_UNNAMED, 0);
  if (na == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE, "%s: no data", path);
      ntfs_inode_close (ni);
      return NULL;
    }
  *ni_out = ni;
  return na;
}

gssize
oriel_ntfs_volume_read (OrielNtfsVolume *v, const char *path, void *buf, gsize len, GError **error)
{
  ntfs_inode *ni = NULL;
  ntfs_attr *na = open_data (v, path, &ni, error);
  s64 got;

  if (na == NULL)
    return -1;
  got = ntfs_attr_pread (na, 0, (s64) MIN (len, (gsize) na->data_size), buf);
  ntfs_attr_close (na);
  ntfs_inode_close (ni);
  if (got < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", path, g_strerror (errno));
      return -1;
    }
  return (gssize) got;
}

gboolean
oriel_ntfs_volume_copy_to_fd (OrielNtfsVolume *v, const char *path, int out_fd,
                              guint64 max_len, GError **error)
{
  ntfs_inode *ni = NULL;
  ntfs_attr *na = open_data (v, path, &ni, error);
  g_autofree char *chunk = NULL;
  gboolean ok = TRUE;
  s64 pos = 0;

  if (na == NULL)
    return FALSE;
  if (na->data_size < 0 || (guint64) na->data_size > max_len)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: %" G_GINT64_FORMAT " bytes, more than the %" G_GUINT64_FORMAT " expected",
                   path, (gint64) na->data_size, max_len);
      ok = FALSE;
    }
  chunk = g_malloc (1 << 20);
  while (ok && pos < na->data_size)
    {
      s64 got = ntfs_attr_pread (na, pos, MIN ((s64) (1 << 20), na->data_size - pos), chunk);

      if (got <= 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: read failed at %" G_GINT64_FORMAT,
                       path, (gint64) pos);
          ok = FALSE;
          break;
        }
      for (s64 off = 0; off < got;)
        {
          ssize_t put = write (out_fd, chunk + off, (size_t) (got - off));
          if (put < 0 && errno == EINTR)
            continue;
          if (put <= 0)
            {
              g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "copying %s: %s",
                           path, g_strerror (errno));
              ok = FALSE;
              break;
            }
          off += put;
        }
      pos += got;
    }
  ntfs_attr_close (na);
  ntfs_inode_close (ni);
  return ok;
}

gboolean
oriel_ntfs_volume_is_dirty (OrielNtfsVolume *v)
{
  return (v->vol->flags & VOLUME_IS_DIRTY) != 0;
}

gboolean
oriel_ntfs_volume_logfile_is_clean (OrielNtfsVolume *v, gboolean *known)
{
  ntfs_inode *ni = ntfs_inode_open (v->vol, FILE_LogFile);
  RESTART_PAGE_HEADER *rp = NULL;
  ntfs_attr *na;
  gboolean clean = TRUE;

  *known = FALSE;
  if (ni == NULL)
    return TRUE;
  na = ntfs_attr_open (ni, AT_DATA, AT_UNNAMED, 0);
  if (na != NULL)
    {
      if (ntfs_check_logfile (na, &rp))
        {
          *known = TRUE;
          clean = ntfs_is_logfile_clean (na, rp);
        }
      free (rp);
      ntfs_attr_close (na);
    }
  ntfs_inode_close (ni);
  return clean;
}
