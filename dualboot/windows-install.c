/* A Windows installation read from its NTFS volume (see windows-install.h). */
#include "windows-install.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ntfs-volume.h"

#define SYSTEM_HIVE "Windows/System32/config/SYSTEM"
#define SOFTWARE_HIVE "Windows/System32/config/SOFTWARE"
/* Real SOFTWARE hives reach a few hundred MiB; anything far beyond is not
 * a hive worth reading. */
#define HIVE_MAX_BYTES (G_GUINT64_CONSTANT (1) << 30)

gboolean
oriel_hiberfil_magic_is_hibernated (const guint8 *buf, gsize len)
{
  /* Windows writes "hibr" (older releases) or "HIBR" while an image is
   * waiting to be resumed, and "wake" while resuming from one; it zeroes
   * the header once the image is used up. */
  static const char *const magics[] = { "hibr", "HIBR", "wake", NULL };

  if (len < 4)
    return FALSE;
  for (guint i = 0; magics[i] != NULL; i++)
    if (memcmp (buf, magics[i], 4) == 0)
      return TRUE;
  return FALSE;
}

/* libhivex opens files by name: the hive goes into an anonymous memory
 * file, named through /proc/self/fd, so nothing lands on the host's disk. */
static gboolean
read_hive (OrielNtfsVolume *vol, const char *path, OrielWindowsInstall *win,
           gboolean (*parse) (const char *, OrielWindowsInstall *, GError **), GError **error)
{
  int fd = memfd_create ("oriel-hive", MFD_CLOEXEC);
  g_autofree char *name = NULL;
  gboolean ok;

  if (fd < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "memfd_create: %s", g_strerror (errno));
      return FALSE;
    }
  ok = oriel_ntfs_volume_copy_to_fd (vol, path, fd, HIVE_MAX_BYTES, error);
  if (ok)
    {
      name = g_strdup_printf ("/proc/self/fd/%d", fd);
      ok = parse (name, win, error);
    }
  close (fd);
  return ok;
}

OrielWindowsInstall *
oriel_windows_install_read (int fd, guint64 offset, guint64 size, int partition, GError **error)
{
  g_autoptr (OrielNtfsVolume) vol = oriel_ntfs_volume_open (fd, offset, size, error);
  g_autoptr (OrielWindowsInstall) win = NULL;
  g_autoptr (GError) local = NULL;
  guint8 magic[4];
  gssize got;
  gboolean known;

  if (vol == NULL)
    return NULL;
  win = oriel_windows_install_new (partition);
  if (!read_hive (vol, SYSTEM_HIVE, win, oriel_windows_read_system_hive, &local))
    {
      if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        return NULL; /* an NTFS data partition, not an installation */
      win->read_error = g_strdup (local->message);
      g_clear_error (&local);
    }
  if (!read_hive (vol, SOFTWARE_HIVE, win, oriel_windows_read_software_hive, &local)
      && !g_error_matches (local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) && win->read_error == NULL)
    win->read_error = g_strdup (local->message);
  g_clear_error (&local);

  got = oriel_ntfs_volume_read (vol, "hiberfil.sys", magic, sizeof magic, &local);
  if (got >= 0)
    {
      win->has_hiberfil = TRUE;
      for (gssize i = 0; i < got; i++)
        win->hiberfil_magic[i] = g_ascii_isprint (magic[i]) ? (char) magic[i] : '.';
      win->hibernated = oriel_hiberfil_magic_is_hibernated (magic, (gsize) got);
    }
  win->volume_dirty = oriel_ntfs_volume_is_dirty (vol);
  win->logfile_unclean = !oriel_ntfs_volume_logfile_is_clean (vol, &known) && known;
  return g_steal_pointer (&win);
}
