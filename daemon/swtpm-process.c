#include "swtpm-process.h"
#include "virt-error.h"

#include <errno.h>
#include <signal.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* swtpm makes its socket within milliseconds; a first start that creates
 * the TPM's keys takes longer. */
#define READY_TIMEOUT_US (10 * G_USEC_PER_SEC)

static void
reaped (GPid pid, gint status, gpointer data)
{
  g_spawn_close_pid (pid);
}

GPid
swtpm_process_start (const char *state_dir, const char *ctrl_path, const char *log_path,
                     GError **error)
{
  if (g_mkdir_with_parents (state_dir, 0700) < 0)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot create %s: %s"),
                   state_dir, g_strerror (errno));
      return 0;
    }
  g_unlink (ctrl_path);
  g_autofree char *state = g_strdup_printf ("dir=%s,mode=0600", state_dir);
  g_autofree char *ctrl = g_strdup_printf ("type=unixio,path=%s,mode=0600", ctrl_path);
  g_autofree char *log = g_strdup_printf ("file=%s", log_path);
  const char *argv[] = { "swtpm", "socket", "--tpm2", "--tpmstate", state, "--ctrl", ctrl,
                         "--log", log, "--terminate", NULL };
  GPid pid = 0;
  g_autoptr (GError) local = NULL;
  if (!g_spawn_async (NULL, (char **) argv, NULL,
                      G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL
                      | G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, &pid, &local))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                   _("cannot start swtpm for the TPM: %s"), local->message);
      return 0;
    }
  /* Short and bounded: swtpm listens before it does anything else. */
  gint64 deadline = g_get_monotonic_time () + READY_TIMEOUT_US;
  while (!g_file_test (ctrl_path, G_FILE_TEST_EXISTS))
    {
      int status;
      if (waitpid (pid, &status, WNOHANG) == pid)
        {
          g_spawn_close_pid (pid);
          g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                       _("swtpm exited at start (TPM state %s; see %s)"), state_dir, log_path);
          return 0;
        }
      if (g_get_monotonic_time () > deadline)
        {
          swtpm_process_stop (pid);
          g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                       _("swtpm did not start listening on %s"), ctrl_path);
          return 0;
        }
      g_usleep (10000);
    }
  g_child_watch_add (pid, reaped, NULL);
  return pid;
}

void
swtpm_process_stop (GPid pid)
{
  if (pid > 0)
    kill (pid, SIGTERM);
}

gboolean
swtpm_state_remove (const char *state_dir, GError **error)
{
  g_autoptr (GDir) dir = g_dir_open (state_dir, 0, NULL);
  if (!dir)
    return TRUE;    /* never started: nothing to remove */
  const char *name;
  while ((name = g_dir_read_name (dir)))
    {
      g_autofree char *f = g_build_filename (state_dir, name, NULL);
      if (g_unlink (f) < 0)
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot remove %s: %s"),
                       f, g_strerror (errno));
          return FALSE;
        }
    }
  if (g_rmdir (state_dir) < 0)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot remove %s: %s"),
                   state_dir, g_strerror (errno));
      return FALSE;
    }
  /* The per-domain parent (tpm_dir/UUID) goes too when empty. */
  g_autofree char *parent = g_path_get_dirname (state_dir);
  g_rmdir (parent);
  return TRUE;
}
