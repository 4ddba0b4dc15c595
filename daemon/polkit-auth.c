#include "polkit-auth.h"
#include "virt-error.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

/* CheckAuthorization flags */
#define ALLOW_USER_INTERACTION 1u

typedef struct {
  pid_t pid;
  uid_t uid;
  char *action;
  PolkitAuthDone done;
  gpointer data;
} PolkitJob;

static void
job_finish (PolkitJob *job, const GError *error)
{
  job->done (error, job->data);
  g_free (job->action);
  g_free (job);
}

guint64
polkit_process_start_time (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  /* The command name (field 2) may hold spaces and parentheses: count
   * fields after its last ')'. */
  const char *p = strrchr (text, ')');
  if (!p)
    return 0;
  g_auto (GStrv) fields = g_strsplit (p + 2, " ", 0);
  /* fields[0] is field 3 (state); field 22 is fields[19]. */
  if (g_strv_length (fields) < 20)
    return 0;
  return g_ascii_strtoull (fields[19], NULL, 10);
}

static void
checked (GObject *source, GAsyncResult *res, gpointer data)
{
  PolkitJob *job = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), res, &error);
  if (!reply)
    {
      g_autoptr (GError) e = g_error_new (VIRT_ERROR, VIR_ERR_AUTH_UNAVAILABLE,
                                          _("authentication unavailable: polkit could not be asked (%s)"),
                                          error->message);
      job_finish (job, e);
      return;
    }
  gboolean authorized, challenge;
  g_autoptr (GVariant) details = NULL;
  g_variant_get (reply, "((bb@a{ss}))", &authorized, &challenge, &details);
  g_debug ("polkit: %s for pid %d uid %u: authorized %d, challenge %d", job->action,
           (int) job->pid, (unsigned) job->uid, authorized, challenge);
  if (authorized)
    {
      job_finish (job, NULL);
      return;
    }
  g_autoptr (GError) e = challenge
    ? g_error_new (VIRT_ERROR, VIR_ERR_AUTH_UNAVAILABLE,
                   _("authentication unavailable: no polkit agent available to authenticate action '%s'"),
                   job->action)
    : g_error_new (VIRT_ERROR, VIR_ERR_AUTH_FAILED,
                   _("authentication failed: access denied by policy for action '%s'"), job->action);
  job_finish (job, e);
}

static void
got_bus (GObject *source, GAsyncResult *res, gpointer data)
{
  PolkitJob *job = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) bus = g_bus_get_finish (res, &error);
  if (!bus)
    {
      g_autoptr (GError) e = g_error_new (VIRT_ERROR, VIR_ERR_AUTH_UNAVAILABLE,
                                          _("authentication unavailable: no system bus for polkit (%s)"),
                                          error->message);
      job_finish (job, e);
      return;
    }
  /* The bus going away must not take the daemon with it. */
  g_dbus_connection_set_exit_on_close (bus, FALSE);
  GVariantBuilder subject;
  g_variant_builder_init (&subject, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&subject, "{sv}", "pid", g_variant_new_uint32 ((guint32) job->pid));
  g_variant_builder_add (&subject, "{sv}", "start-time",
                         g_variant_new_uint64 (polkit_process_start_time (job->pid)));
  g_variant_builder_add (&subject, "{sv}", "uid", g_variant_new_int32 ((gint32) job->uid));
  GVariant *params = g_variant_new ("((sa{sv})sa{ss}us)", "unix-process", &subject, job->action,
                                    NULL, ALLOW_USER_INTERACTION, "");
  /* No timeout: an agent may be waiting for the user to type a password. */
  g_dbus_connection_call (bus, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                          "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization", params,
                          G_VARIANT_TYPE ("((bba{ss}))"), G_DBUS_CALL_FLAGS_NONE, G_MAXINT, NULL,
                          checked, job);
}

void
polkit_auth_check (pid_t pid, uid_t uid, const char *action, PolkitAuthDone done, gpointer data)
{
  PolkitJob *job = g_new0 (PolkitJob, 1);
  job->pid = pid;
  job->uid = uid;
  job->action = g_strdup (action);
  job->done = done;
  job->data = data;
  g_bus_get (G_BUS_TYPE_SYSTEM, NULL, got_bus, job);
}
