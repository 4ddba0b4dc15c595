/* FAT file lookups through mtools (see esp-files.h). */
#include "esp-files.h"

#include <gio/gio.h>

gboolean
oriel_esp_has_file (const char *device, guint64 offset, const char *path, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                                                        | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr (GSubprocess) proc = NULL;
  /* "image@@offset" is mtools' syntax for a filesystem inside a larger file. */
  g_autofree char *image = g_strdup_printf ("%s@@%" G_GUINT64_FORMAT, device, offset);
  g_autofree char *target = g_strconcat ("::/", path, NULL);

  /* No ~/.mtoolsrc, no geometry sanity check (it rejects valid volumes
   * whose size is not a whole number of tracks). */
  g_subprocess_launcher_setenv (launcher, "MTOOLS_SKIP_CHECK", "1", TRUE);
  g_subprocess_launcher_setenv (launcher, "MTOOLSRC", "/dev/null", TRUE);
  proc = g_subprocess_launcher_spawn (launcher, error, "mdir", "-b", "-i", image, target, NULL);
  if (proc == NULL)
    {
      g_prefix_error (error, "mtools: ");
      return FALSE;
    }
  if (!g_subprocess_wait (proc, NULL, error))
    return FALSE;
  return g_subprocess_get_if_exited (proc) && g_subprocess_get_exit_status (proc) == 0;
}
