/* Power and lifecycle actions on a domain, with errors shown to the user. */
#include "domain-actions.h"
#include "connection.h"
#include "domain-xml-info.h"
#include "error-dialog.h"

#include <glib/gi18n.h>

gboolean
oriel_domain_action_allowed (OrielDomainAction action, int state)
{
  gboolean active = state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_BLOCKED
                    || state == VIR_DOMAIN_PAUSED || state == VIR_DOMAIN_SHUTDOWN;

  switch (action)
    {
    case ORIEL_ACTION_RUN:
      return state == VIR_DOMAIN_SHUTOFF || state == VIR_DOMAIN_CRASHED
             || state == VIR_DOMAIN_PMSUSPENDED;
    case ORIEL_ACTION_PAUSE:
      return state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_BLOCKED;
    case ORIEL_ACTION_RESUME:
      return state == VIR_DOMAIN_PAUSED;
    case ORIEL_ACTION_SHUTDOWN:
    case ORIEL_ACTION_REBOOT:
      return state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_BLOCKED;
    case ORIEL_ACTION_FORCE_OFF:
    case ORIEL_ACTION_SAVE:
      return active;
    default:
      return FALSE;
    }
}

const char *
oriel_domain_action_progress_label (OrielDomainAction action)
{
  switch (action)
    {
    case ORIEL_ACTION_RUN: return _("Starting…");
    case ORIEL_ACTION_PAUSE: return _("Pausing…");
    case ORIEL_ACTION_RESUME: return _("Resuming…");
    case ORIEL_ACTION_SHUTDOWN: return _("Shutting down…");
    case ORIEL_ACTION_REBOOT: return _("Rebooting…");
    case ORIEL_ACTION_FORCE_OFF: return _("Forcing off…");
    case ORIEL_ACTION_SAVE: return _("Saving…");
    default: return _("Working…");
    }
}

static const char *
failure_summary (OrielDomainAction action)
{
  switch (action)
    {
    case ORIEL_ACTION_RUN: return _("Could not start the virtual machine");
    case ORIEL_ACTION_PAUSE: return _("Could not pause the virtual machine");
    case ORIEL_ACTION_RESUME: return _("Could not resume the virtual machine");
    case ORIEL_ACTION_SHUTDOWN: return _("Could not shut down the virtual machine");
    case ORIEL_ACTION_REBOOT: return _("Could not reboot the virtual machine");
    case ORIEL_ACTION_FORCE_OFF: return _("Could not force off the virtual machine");
    case ORIEL_ACTION_SAVE: return _("Could not save the virtual machine");
    default: return NULL;
    }
}

/* Where a worker's result is shown: the window may be gone by then. */
typedef struct {
  GWeakRef parent;
  OrielDomainAction action;
  char *name;
} ActionRequest;

static void
action_request_free (gpointer data)
{
  ActionRequest *req = data;

  g_weak_ref_clear (&req->parent);
  g_free (req->name);
  g_free (req);
}

static void
action_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ActionRequest *req = task_data;
  virDomainPtr dom = oriel_domain_get_virdomain (ORIEL_DOMAIN (source));
  int rc = -1;

  switch (req->action)
    {
    case ORIEL_ACTION_RUN: rc = virDomainCreate (dom); break;
    case ORIEL_ACTION_PAUSE: rc = virDomainSuspend (dom); break;
    case ORIEL_ACTION_RESUME: rc = virDomainResume (dom); break;
    case ORIEL_ACTION_SHUTDOWN: rc = virDomainShutdown (dom); break;
    case ORIEL_ACTION_REBOOT: rc = virDomainReboot (dom, 0); break;
    case ORIEL_ACTION_FORCE_OFF: rc = virDomainDestroy (dom); break;
    case ORIEL_ACTION_SAVE: rc = virDomainManagedSave (dom, 0); break;
    default: break;
    }
  /* libvirt's last error is per thread: read it here. */
  if (rc < 0)
    {
      GError *error = NULL;
      oriel_set_libvirt_error (&error, req->name);
      g_task_return_error (task, error);
    }
  else
    g_task_return_boolean (task, TRUE);
}

static void
action_done (GObject *source, GAsyncResult *result, gpointer data)
{
  OrielDomain *domain = ORIEL_DOMAIN (source);
  ActionRequest *req = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;

  oriel_domain_set_busy (domain, NULL);
  /* Events normally say the same; this covers drivers without them. */
  oriel_domain_refresh_state (domain);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_autoptr (GtkWindow) parent = g_weak_ref_get (&req->parent);
      oriel_error_dialog_show_gerror (parent, failure_summary (req->action), error);
    }
}

void
oriel_domain_action_start (GtkWindow *parent, OrielDomain *domain, OrielDomainAction action)
{
  ActionRequest *req;
  GTask *task;

  /* One operation at a time per domain; the views disable the buttons. */
  if (oriel_domain_get_busy (domain) != NULL)
    return;
  req = g_new0 (ActionRequest, 1);
  g_weak_ref_init (&req->parent, parent);
  req->action = action;
  req->name = g_strdup (oriel_domain_get_name (domain));
  oriel_domain_set_busy (domain, oriel_domain_action_progress_label (action));
  /* The task holds a reference to the domain (and so its virDomainPtr). */
  task = g_task_new (domain, NULL, action_done, NULL);
  g_task_set_task_data (task, req, action_request_free);
  g_task_run_in_thread (task, action_thread);
  g_object_unref (task);
}

/* ---- delete ---- */

typedef struct {
  GWeakRef parent;
  char **paths;        /* disk images to delete */
  GPtrArray *checks;   /* GtkCheckButton*, data "path" (main thread only) */
  GPtrArray *failures; /* FailedStep* from the worker */
} DeleteRequest;

typedef struct {
  const char *summary;  /* static, translated */
  GError *error;
} FailedStep;

static void
failed_step_free (gpointer data)
{
  FailedStep *step = data;

  g_clear_error (&step->error);
  g_free (step);
}

static void
delete_request_free (gpointer data)
{
  DeleteRequest *req = data;

  g_weak_ref_clear (&req->parent);
  g_strfreev (req->paths);
  g_clear_pointer (&req->checks, g_ptr_array_unref);
  g_ptr_array_unref (req->failures);
  g_free (req);
}

static void
add_failure (DeleteRequest *req, const char *summary, const char *what)
{
  FailedStep *step = g_new0 (FailedStep, 1);

  step->summary = summary;
  oriel_set_libvirt_error (&step->error, what);
  g_ptr_array_add (req->failures, step);
}

static void
delete_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  DeleteRequest *req = task_data;
  virDomainPtr dom = oriel_domain_get_virdomain (ORIEL_DOMAIN (source));
  virConnectPtr conn = virDomainGetConnect (dom);
  int state = -1;

  virDomainGetState (dom, &state, NULL, 0);
  if (state != VIR_DOMAIN_SHUTOFF && virDomainDestroy (dom) < 0)
    {
      add_failure (req, _("The virtual machine was not deleted."),
                   _("Could not stop the virtual machine"));
      g_task_return_boolean (task, FALSE);
      return;
    }
  for (guint i = 0; req->paths[i] != NULL; i++)
    {
      virStorageVolPtr vol = virStorageVolLookupByPath (conn, req->paths[i]);

      if (vol == NULL || virStorageVolDelete (vol, 0) < 0)
        {
          g_autofree char *what = g_strdup_printf (_("Could not delete %s"), req->paths[i]);
          add_failure (req, _("A disk image was not deleted."), what);
        }
      if (vol != NULL)
        virStorageVolFree (vol);
    }
  if (virDomainUndefineFlags (dom, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                                   | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                                   | VIR_DOMAIN_UNDEFINE_NVRAM) < 0
      && virDomainUndefine (dom) < 0)
    add_failure (req, _("Could not delete the virtual machine"), virDomainGetName (dom));
  g_task_return_boolean (task, TRUE);
}

static void
delete_done (GObject *source, GAsyncResult *result, gpointer data)
{
  DeleteRequest *req = g_task_get_task_data (G_TASK (result));
  g_autoptr (GtkWindow) parent = g_weak_ref_get (&req->parent);

  oriel_domain_set_busy (ORIEL_DOMAIN (source), NULL);
  for (guint i = 0; i < req->failures->len; i++)
    {
      FailedStep *step = req->failures->pdata[i];
      oriel_error_dialog_show_gerror (parent, step->summary, step->error);
    }
}

static void
delete_response (GtkDialog *dialog, int response, DeleteRequest *req)
{
  OrielDomain *domain = g_object_get_data (G_OBJECT (dialog), "domain");
  g_autoptr (GStrvBuilder) paths = g_strv_builder_new ();
  GTask *task;

  if (response != GTK_RESPONSE_ACCEPT || oriel_domain_get_busy (domain) != NULL)
    {
      delete_request_free (req);
      gtk_widget_destroy (GTK_WIDGET (dialog));
      return;
    }
  for (guint i = 0; i < req->checks->len; i++)
    if (gtk_toggle_button_get_active (req->checks->pdata[i]))
      g_strv_builder_add (paths, g_object_get_data (req->checks->pdata[i], "path"));
  req->paths = g_strv_builder_end (paths);
  g_clear_pointer (&req->checks, g_ptr_array_unref);
  oriel_domain_set_busy (domain, _("Deleting…"));
  task = g_task_new (domain, NULL, delete_done, NULL);
  g_task_set_task_data (task, req, delete_request_free);
  g_task_run_in_thread (task, delete_thread);
  g_object_unref (task);
  gtk_widget_destroy (GTK_WIDGET (dialog));
}

static void
show_delete_dialog (GtkWindow *parent, OrielDomain *domain, const char *xml)
{
  g_autoptr (OrielDomainInfo) info = xml != NULL ? oriel_domain_info_parse (xml, NULL) : NULL;
  DeleteRequest *req = g_new0 (DeleteRequest, 1);
  GtkWidget *dialog, *area, *box, *label;

  g_weak_ref_init (&req->parent, parent);
  req->checks = g_ptr_array_new ();
  req->failures = g_ptr_array_new_with_free_func (failed_step_free);

  dialog = gtk_message_dialog_new (parent, GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                   GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE,
                                   _("Delete “%s”?"), oriel_domain_get_name (domain));
  g_object_set_data_full (G_OBJECT (dialog), "domain", g_object_ref (domain), g_object_unref);
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog),
    _("The virtual machine is stopped and its configuration removed."));
  gtk_dialog_add_buttons (GTK_DIALOG (dialog), _("_Cancel"), GTK_RESPONSE_CANCEL,
                          _("_Delete"), GTK_RESPONSE_ACCEPT, NULL);
  area = gtk_message_dialog_get_message_area (GTK_MESSAGE_DIALOG (dialog));
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  for (guint i = 0; info != NULL && i < info->disks->len; i++)
    {
      OrielDiskInfo *d = info->disks->pdata[i];
      g_autofree char *text = NULL;
      GtkWidget *check;

      /* Installer media and host disks (the Windows installed on this
       * computer among them) are never offered for deletion. */
      if (d->source == NULL || d->readonly || d->dualboot_mode != NULL || g_strcmp0 (d->device, "disk") != 0)
        continue;
      text = g_strdup_printf (_("Delete disk image %s"), d->source);
      check = gtk_check_button_new_with_label (text);
      g_object_set_data_full (G_OBJECT (check), "path", g_strdup (d->source), g_free);
      gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (check), TRUE);
      gtk_box_pack_start (GTK_BOX (box), check, FALSE, FALSE, 0);
      g_ptr_array_add (req->checks, check);
    }
  if (req->checks->len == 0)
    {
      label = gtk_label_new (_("This virtual machine has no disk images to delete."));
      gtk_box_pack_start (GTK_BOX (box), label, FALSE, FALSE, 0);
    }
  gtk_box_pack_start (GTK_BOX (area), box, FALSE, FALSE, 0);
  gtk_widget_show_all (box);
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);
  g_signal_connect (dialog, "response", G_CALLBACK (delete_response), req);
  gtk_widget_show (dialog);
}

typedef struct {
  GWeakRef parent;
} XmlForDelete;

static void
delete_xml_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  virDomainPtr dom = oriel_domain_get_virdomain (ORIEL_DOMAIN (source));
  char *xml = virDomainGetXMLDesc (dom, VIR_DOMAIN_XML_INACTIVE);

  g_task_return_pointer (task, xml, free);
}

static void
delete_xml_done (GObject *source, GAsyncResult *result, gpointer data)
{
  XmlForDelete *x = g_task_get_task_data (G_TASK (result));
  g_autoptr (GtkWindow) parent = g_weak_ref_get (&x->parent);
  char *xml = g_task_propagate_pointer (G_TASK (result), NULL);

  if (parent != NULL)
    show_delete_dialog (parent, ORIEL_DOMAIN (source), xml);
  free (xml);
}

static void
xml_for_delete_free (gpointer data)
{
  XmlForDelete *x = data;

  g_weak_ref_clear (&x->parent);
  g_free (x);
}

void
oriel_domain_delete_interactive (GtkWindow *parent, OrielDomain *domain)
{
  /* The inactive XML lists the disks to offer; read it off the UI thread. */
  XmlForDelete *x = g_new0 (XmlForDelete, 1);
  GTask *task = g_task_new (domain, NULL, delete_xml_done, NULL);

  g_weak_ref_init (&x->parent, parent);
  g_task_set_task_data (task, x, xml_for_delete_free);
  g_task_run_in_thread (task, delete_xml_thread);
  g_object_unref (task);
}
