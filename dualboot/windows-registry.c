/* Offline registry reading with libhivex (see windows-install.h). */
#include "windows-install.h"

#include <errno.h>
#include <gio/gio.h>
#include <hivex.h>
#include <stdlib.h>

OrielWindowsInstall *
oriel_windows_install_new (int partition)
{
  OrielWindowsInstall *win = g_new0 (OrielWindowsInstall, 1);

  win->partition = partition;
  win->stornvme_start = -1;
  win->storahci_start = -1;
  return win;
}

void
oriel_windows_install_free (OrielWindowsInstall *win)
{
  if (win == NULL)
    return;
  g_free (win->read_error);
  g_free (win->product_name);
  g_free (win->edition_id);
  g_free (win->current_build);
  g_free (win->display_version);
  g_free (win);
}

static hive_h *
open_hive (const char *path, GError **error)
{
  hive_h *h = hivex_open (path, 0);

  if (h == NULL)
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                 "%s: not a registry hive (%s)", path, g_strerror (errno));
  return h;
}

/* Follows a backslash-separated key path from node; 0 when absent. */
static hive_node_h
walk (hive_h *h, hive_node_h node, const char *path)
{
  g_auto (GStrv) parts = g_strsplit (path, "\\", -1);

  for (guint i = 0; parts[i] != NULL && node != 0; i++)
    node = hivex_node_get_child (h, node, parts[i]);
  return node;
}

/* A REG_DWORD value, or -1 when absent or of another type. */
static gint64
get_dword (hive_h *h, hive_node_h node, const char *name)
{
  hive_value_h v;
  hive_type t;
  size_t len;

  if (node == 0 || (v = hivex_node_get_value (h, node, name)) == 0)
    return -1;
  if (hivex_value_type (h, v, &t, &len) != 0 || t != hive_t_REG_DWORD || len != 4)
    return -1;
  return (gint64) (guint32) hivex_value_dword (h, v);
}

static char *
get_string (hive_h *h, hive_node_h node, const char *name)
{
  hive_value_h v;
  char *s, *copy;

  if (node == 0 || (v = hivex_node_get_value (h, node, name)) == 0)
    return NULL;
  s = hivex_value_string (h, v);
  if (s == NULL)
    return NULL;
  /* Registry text is shown to users: keep it valid UTF-8 and printable. */
  copy = g_utf8_make_valid (s, -1);
  free (s);
  g_strstrip (copy);
  if (*copy == '\0')
    g_clear_pointer (&copy, g_free);
  return copy;
}

/* The Start Windows uses for a service: StartOverride\0 (written when the
 * driver's boot-start state was switched by Safe Mode or a storage change)
 * takes precedence over Start. */
static int
service_start (hive_h *h, hive_node_h control_set, const char *service)
{
  hive_node_h svc = walk (h, control_set, "Services");
  gint64 start, over;

  svc = svc != 0 ? hivex_node_get_child (h, svc, service) : 0;
  if (svc == 0)
    return -1;
  start = get_dword (h, svc, "Start");
  over = get_dword (h, hivex_node_get_child (h, svc, "StartOverride"), "0");
  if (over >= 0 && over <= 4)
    return (int) over;
  return start >= 0 && start <= 4 ? (int) start : -1;
}

gboolean
oriel_windows_read_system_hive (const char *hive_path, OrielWindowsInstall *win, GError **error)
{
  hive_h *h = open_hive (hive_path, error);
  hive_node_h root, cs;
  gint64 current;
  char name[32];

  if (h == NULL)
    return FALSE;
  root = hivex_root (h);
  current = get_dword (h, walk (h, root, "Select"), "Current");
  if (current < 1 || current > 999)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: no valid Select\\Current", hive_path);
      hivex_close (h);
      return FALSE;
    }
  g_snprintf (name, sizeof name, "ControlSet%03d", (int) current);
  cs = hivex_node_get_child (h, root, name);
  if (cs == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: no %s", hive_path, name);
      hivex_close (h);
      return FALSE;
    }
  win->control_set = (int) current;
  win->stornvme_start = service_start (h, cs, "stornvme");
  win->storahci_start = service_start (h, cs, "storahci");
  hivex_close (h);
  return TRUE;
}

gboolean
oriel_windows_read_software_hive (const char *hive_path, OrielWindowsInstall *win, GError **error)
{
  hive_h *h = open_hive (hive_path, error);
  hive_node_h cv;

  if (h == NULL)
    return FALSE;
  cv = walk (h, hivex_root (h), "Microsoft\\Windows NT\\CurrentVersion");
  if (cv == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: no Microsoft\\Windows NT\\CurrentVersion", hive_path);
      hivex_close (h);
      return FALSE;
    }
  win->product_name = get_string (h, cv, "ProductName");
  win->edition_id = get_string (h, cv, "EditionID");
  win->current_build = get_string (h, cv, "CurrentBuildNumber");
  if (win->current_build == NULL)
    win->current_build = get_string (h, cv, "CurrentBuild");
  win->display_version = get_string (h, cv, "DisplayVersion");
  if (win->display_version == NULL)
    win->display_version = get_string (h, cv, "ReleaseId");
  hivex_close (h);
  return TRUE;
}
