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

gboolean
oriel_domain_action_run (GtkWindow *parent, virDomainPtr dom, OrielDomainAction action)
{
  int rc = -1;
  const char *what = NULL;

  switch (action)
    {
    case ORIEL_ACTION_RUN:
      what = _("Could not start the virtual machine");
      rc = virDomainCreate (dom);
      break;
    case ORIEL_ACTION_PAUSE:
      what = _("Could not pause the virtual machine");
      rc = virDomainSuspend (dom);
      break;
    case ORIEL_ACTION_RESUME:
      what = _("Could not resume the virtual machine");
      rc = virDomainResume (dom);
      break;
    case ORIEL_ACTION_SHUTDOWN:
      what = _("Could not shut down the virtual machine");
      rc = virDomainShutdown (dom);
      break;
    case ORIEL_ACTION_REBOOT:
      what = _("Could not reboot the virtual machine");
      rc = virDomainReboot (dom, 0);
      break;
    case ORIEL_ACTION_FORCE_OFF:
      what = _("Could not force off the virtual machine");
      rc = virDomainDestroy (dom);
      break;
    case ORIEL_ACTION_SAVE:
      what = _("Could not save the virtual machine");
      rc = virDomainManagedSave (dom, 0);
      break;
    default:
      break;
    }
  if (rc < 0)
    {
      g_autoptr (GError) error = NULL;
      oriel_set_libvirt_error (&error, virDomainGetName (dom));
      oriel_error_dialog_show_gerror (parent, what, error);
      return FALSE;
    }
  return TRUE;
}

typedef struct {
  virDomainPtr dom;
  GtkWindow *parent;
  GPtrArray *checks;  /* GtkCheckButton*, data "path" */
} DeleteRequest;

static void
delete_request_free (DeleteRequest *req)
{
  virDomainFree (req->dom);
  g_ptr_array_unref (req->checks);
  g_free (req);
}

static void
delete_response (GtkDialog *dialog, int response, DeleteRequest *req)
{
  g_autoptr (GError) error = NULL;
  virConnectPtr conn = virDomainGetConnect (req->dom);
  int state;

  if (response != GTK_RESPONSE_ACCEPT)
    goto out;
  state = -1;
  virDomainGetState (req->dom, &state, NULL, 0);
  if (state != VIR_DOMAIN_SHUTOFF && virDomainDestroy (req->dom) < 0)
    {
      oriel_set_libvirt_error (&error, _("Could not stop the virtual machine"));
      oriel_error_dialog_show_gerror (req->parent, _("The virtual machine was not deleted."), error);
      goto out;
    }
  for (guint i = 0; i < req->checks->len; i++)
    {
      GtkToggleButton *check = req->checks->pdata[i];
      const char *path = g_object_get_data (G_OBJECT (check), "path");
      virStorageVolPtr vol;

      if (!gtk_toggle_button_get_active (check))
        continue;
      vol = virStorageVolLookupByPath (conn, path);
      if (vol == NULL || virStorageVolDelete (vol, 0) < 0)
        {
          g_autofree char *what = g_strdup_printf (_("Could not delete %s"), path);
          g_clear_error (&error);
          oriel_set_libvirt_error (&error, what);
          oriel_error_dialog_show_gerror (req->parent, _("A disk image was not deleted."), error);
        }
      if (vol != NULL)
        virStorageVolFree (vol);
    }
  if (virDomainUndefineFlags (req->dom, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                                        | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                                        | VIR_DOMAIN_UNDEFINE_NVRAM) < 0
      && virDomainUndefine (req->dom) < 0)
    {
      g_clear_error (&error);
      oriel_set_libvirt_error (&error, virDomainGetName (req->dom));
      oriel_error_dialog_show_gerror (req->parent, _("Could not delete the virtual machine"), error);
    }
out:
  gtk_widget_destroy (GTK_WIDGET (dialog));
  delete_request_free (req);
}

void
oriel_domain_delete_interactive (GtkWindow *parent, virDomainPtr dom)
{
  g_autofree char *xml = virDomainGetXMLDesc (dom, VIR_DOMAIN_XML_INACTIVE);
  g_autoptr (OrielDomainInfo) info = xml != NULL ? oriel_domain_info_parse (xml, NULL) : NULL;
  DeleteRequest *req = g_new0 (DeleteRequest, 1);
  GtkWidget *dialog, *area, *box, *label;

  req->parent = parent;
  req->dom = dom;
  virDomainRef (dom);
  req->checks = g_ptr_array_new ();

  dialog = gtk_message_dialog_new (parent, GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                   GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE,
                                   _("Delete “%s”?"), virDomainGetName (dom));
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

      /* Installer media and host disks are never offered for deletion. */
      if (d->source == NULL || d->readonly || g_strcmp0 (d->device, "disk") != 0)
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
