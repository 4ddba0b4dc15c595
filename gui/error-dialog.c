/* Error dialog: a short message with the technical details folded away. */
#include "error-dialog.h"

#include <glib/gi18n.h>

GtkWidget *
oriel_error_dialog_show (GtkWindow *parent, const char *summary,
                         const char *details)
{
  GtkWidget *dialog, *area, *expander, *scroller, *view;
  GtkTextBuffer *buffer;

  dialog = gtk_message_dialog_new (parent, GTK_DIALOG_DESTROY_WITH_PARENT,
                                   GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE,
                                   "%s", summary);
  gtk_window_set_title (GTK_WINDOW (dialog), _("Error"));
  if (details != NULL && *details != '\0')
    {
      area = gtk_message_dialog_get_message_area (GTK_MESSAGE_DIALOG (dialog));
      expander = gtk_expander_new_with_mnemonic (_("_Details"));
      scroller = gtk_scrolled_window_new (NULL, NULL);
      gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (scroller), 120);
      gtk_scrolled_window_set_min_content_width (GTK_SCROLLED_WINDOW (scroller), 400);
      gtk_scrolled_window_set_shadow_type (GTK_SCROLLED_WINDOW (scroller), GTK_SHADOW_IN);
      view = gtk_text_view_new ();
      gtk_text_view_set_editable (GTK_TEXT_VIEW (view), FALSE);
      gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (view), GTK_WRAP_WORD_CHAR);
      gtk_text_view_set_monospace (GTK_TEXT_VIEW (view), TRUE);
      buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (view));
      gtk_text_buffer_set_text (buffer, details, -1);
      gtk_container_add (GTK_CONTAINER (scroller), view);
      gtk_container_add (GTK_CONTAINER (expander), scroller);
      gtk_box_pack_start (GTK_BOX (area), expander, TRUE, TRUE, 0);
      gtk_widget_show_all (expander);
    }
  g_signal_connect (dialog, "response", G_CALLBACK (gtk_widget_destroy), NULL);
  gtk_widget_show (dialog);
  return dialog;
}

void
oriel_error_dialog_show_gerror (GtkWindow *parent, const char *summary,
                                const GError *error)
{
  oriel_error_dialog_show (parent, summary, error != NULL ? error->message : NULL);
}
