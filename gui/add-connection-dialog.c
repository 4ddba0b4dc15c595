/* Dialog asking for a libvirt URI to connect to. */
#include "add-connection-dialog.h"

#include <glib/gi18n.h>
#include <string.h>

typedef struct {
  const char *uri;
  const char *description;
} KnownUri;

static void
uri_changed (GtkComboBox *combo, GtkWidget *dialog)
{
  const char *text = gtk_entry_get_text (GTK_ENTRY (gtk_bin_get_child (GTK_BIN (combo))));
  gboolean ok = text != NULL && strstr (text, ":/") != NULL;

  gtk_dialog_set_response_sensitive (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT, ok);
}

typedef struct {
  GtkEntry *entry;
  OrielUriChosenFunc done;
  gpointer user_data;
} Pending;

static void
dialog_response (GtkDialog *dialog, int response, Pending *pending)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autofree char *uri = g_strstrip (g_strdup (gtk_entry_get_text (pending->entry)));
      if (*uri != '\0')
        pending->done (uri, pending->user_data);
    }
  gtk_widget_destroy (GTK_WIDGET (dialog));
  g_free (pending);
}

void
oriel_add_connection_dialog_show (GtkWindow *parent, OrielUriChosenFunc done,
                                  gpointer user_data)
{
  Pending *pending = g_new0 (Pending, 1);
  const KnownUri known[] = {
    { "oriel:///system", N_("Oriel on this computer") },
    { "qemu:///system", N_("QEMU/KVM on this computer (system)") },
    { "qemu:///session", N_("QEMU/KVM on this computer (user session)") },
    { "test:///default", N_("libvirt test driver (simulated machines)") },
    { "qemu+ssh://root@host/system", N_("QEMU/KVM on another computer over SSH") },
    { "oriel+ssh://root@host/system", N_("Oriel on another computer over SSH") },
  };
  GtkWidget *dialog, *area, *grid, *label, *combo, *help;
  GtkEntry *entry;
  g_autoptr (GString) help_text = g_string_new (NULL);

  dialog = gtk_dialog_new_with_buttons (_("Add Connection"), parent,
                                        GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                        _("_Cancel"), GTK_RESPONSE_CANCEL,
                                        _("C_onnect"), GTK_RESPONSE_ACCEPT,
                                        NULL);
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT);
  area = gtk_dialog_get_content_area (GTK_DIALOG (dialog));
  grid = gtk_grid_new ();
  g_object_set (grid, "margin", 12, "row-spacing", 8, "column-spacing", 12, NULL);

  label = gtk_label_new_with_mnemonic (_("Connection _URI:"));
  gtk_label_set_xalign (GTK_LABEL (label), 1.0);
  combo = gtk_combo_box_text_new_with_entry ();
  gtk_widget_set_hexpand (combo, TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (known); i++)
    {
      gtk_combo_box_text_append_text (GTK_COMBO_BOX_TEXT (combo), known[i].uri);
      g_string_append_printf (help_text, "%s — %s\n", known[i].uri, _(known[i].description));
    }
  entry = GTK_ENTRY (gtk_bin_get_child (GTK_BIN (combo)));
  gtk_entry_set_activates_default (entry, TRUE);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), GTK_WIDGET (entry));
  gtk_combo_box_set_active (GTK_COMBO_BOX (combo), 1);
  g_signal_connect (combo, "changed", G_CALLBACK (uri_changed), dialog);

  help = gtk_label_new (help_text->str);
  gtk_label_set_xalign (GTK_LABEL (help), 0.0);
  gtk_style_context_add_class (gtk_widget_get_style_context (help), "dim-label");

  gtk_grid_attach (GTK_GRID (grid), label, 0, 0, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), combo, 1, 0, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), help, 1, 1, 1, 1);
  gtk_container_add (GTK_CONTAINER (area), grid);
  gtk_widget_show_all (grid);

  pending->entry = entry;
  pending->done = done;
  pending->user_data = user_data;
  g_signal_connect (dialog, "response", G_CALLBACK (dialog_response), pending);
  gtk_widget_show (dialog);
}
