/* Discarding a dual-boot VM's trial overlay and switching it to real mode. */
#include "dualboot-actions.h"
#include "connection.h"
#include "dualboot-xml.h"
#include "error-dialog.h"

#include <glib/gi18n.h>

typedef struct {
  GWeakRef parent;
  gboolean to_real;      /* else: discard the trial overlay */
  char *name;
} RedefineRequest;

static void
redefine_request_free (gpointer data)
{
  RedefineRequest *req = data;

  g_weak_ref_clear (&req->parent);
  g_free (req->name);
  g_free (req);
}

static void
redefine_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  RedefineRequest *req = task_data;
  virDomainPtr dom = oriel_domain_get_virdomain (ORIEL_DOMAIN (source));
  virDomainPtr defined;
  GError *error = NULL;
  g_autofree char *updated = NULL;
  char *xml;

  /* The persistent definition, with what only a privileged client may
   * read, so the new definition loses nothing. */
  xml = virDomainGetXMLDesc (dom, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
  if (xml == NULL)
    {
      oriel_set_libvirt_error (&error, req->name);
      g_task_return_error (task, error);
      return;
    }
  updated = oriel_dualboot_xml_update (xml, req->to_real ? "real" : NULL, !req->to_real, &error);
  free (xml);
  if (updated == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  defined = virDomainDefineXML (virDomainGetConnect (dom), updated);
  if (defined == NULL)
    {
      oriel_set_libvirt_error (&error, req->name);
      g_task_return_error (task, error);
      return;
    }
  virDomainFree (defined);
  g_task_return_boolean (task, TRUE);
}

static void
redefine_done (GObject *source, GAsyncResult *result, gpointer data)
{
  OrielDomain *domain = ORIEL_DOMAIN (source);
  RedefineRequest *req = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;

  oriel_domain_set_busy (domain, NULL);
  /* The "defined" event brings it too; this covers drivers without events. */
  oriel_domain_fetch_xml (domain);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_autoptr (GtkWindow) parent = g_weak_ref_get (&req->parent);
      oriel_error_dialog_show_gerror (parent,
                                      req->to_real ? _("Could not switch the virtual machine to real mode")
                                                   : _("Could not discard the trial changes"),
                                      error);
    }
}

static void
redefine_start (GtkWindow *parent, OrielDomain *domain, gboolean to_real)
{
  RedefineRequest *req;
  GTask *task;

  if (oriel_domain_get_busy (domain) != NULL)
    return;
  req = g_new0 (RedefineRequest, 1);
  g_weak_ref_init (&req->parent, parent);
  req->to_real = to_real;
  req->name = g_strdup (oriel_domain_get_name (domain));
  oriel_domain_set_busy (domain, to_real ? _("Switching to real mode…") : _("Discarding trial changes…"));
  task = g_task_new (domain, NULL, redefine_done, NULL);
  g_task_set_task_data (task, req, redefine_request_free);
  g_task_run_in_thread (task, redefine_thread);
  g_object_unref (task);
}

typedef struct {
  GWeakRef parent;
  OrielDomain *domain;
  gboolean to_real;
} Question;

static void
question_response (GtkDialog *dialog, int response, Question *q)
{
  g_autoptr (GtkWindow) parent = g_weak_ref_get (&q->parent);

  gtk_widget_destroy (GTK_WIDGET (dialog));
  if (response == GTK_RESPONSE_ACCEPT)
    redefine_start (parent, q->domain, q->to_real);
  g_weak_ref_clear (&q->parent);
  g_object_unref (q->domain);
  g_free (q);
}

static void
ask (GtkWindow *parent, OrielDomain *domain, gboolean to_real)
{
  Question *q = g_new0 (Question, 1);
  GtkWidget *dialog;

  g_weak_ref_init (&q->parent, parent);
  q->domain = g_object_ref (domain);
  q->to_real = to_real;
  dialog = gtk_message_dialog_new (parent, GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                   GTK_MESSAGE_WARNING, GTK_BUTTONS_NONE,
                                   to_real ? _("Switch “%s” to real mode?") : _("Discard the trial changes of “%s”?"),
                                   oriel_domain_get_name (domain));
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog), "%s",
    to_real ? _("From the next start, Windows writes to its partitions on this computer’s disk. What it wrote in "
                "trial mode is not copied to the disk; it is deleted.")
            : _("Everything Windows wrote while it ran in trial mode is deleted. The next start begins again "
                "from the disk as it is."));
  gtk_dialog_add_buttons (GTK_DIALOG (dialog), _("_Cancel"), GTK_RESPONSE_CANCEL,
                          to_real ? _("_Switch to Real Mode") : _("_Discard"), GTK_RESPONSE_ACCEPT, NULL);
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);
  g_signal_connect (dialog, "response", G_CALLBACK (question_response), q);
  gtk_widget_show (dialog);
}

void
oriel_dualboot_discard_trial_interactive (GtkWindow *parent, OrielDomain *domain)
{
  ask (parent, domain, FALSE);
}

void
oriel_dualboot_switch_to_real_interactive (GtkWindow *parent, OrielDomain *domain)
{
  ask (parent, domain, TRUE);
}
