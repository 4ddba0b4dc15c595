#include "display-password-prompt.h"

#include <glib/gi18n.h>

struct _OrielDisplayPasswordPrompt
{
  GtkBox parent_instance;
  GtkWidget *error;
  GtkWidget *entry;
  GtkWidget *button;
};

G_DEFINE_TYPE (OrielDisplayPasswordPrompt, oriel_display_password_prompt, GTK_TYPE_BOX)

enum { SUBMITTED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
submit (OrielDisplayPasswordPrompt *self)
{
  const char *text = gtk_entry_get_text (GTK_ENTRY (self->entry));

  if (*text == '\0')
    return;
  g_signal_emit (self, signals[SUBMITTED], 0, text);
  /* The entry does not keep the secret once it is handed on. */
  gtk_entry_set_text (GTK_ENTRY (self->entry), "");
}

static void
entry_changed (GtkEditable *entry, OrielDisplayPasswordPrompt *self)
{
  gtk_widget_set_sensitive (self->button, *gtk_entry_get_text (GTK_ENTRY (entry)) != '\0');
}

static void
oriel_display_password_prompt_init (OrielDisplayPasswordPrompt *self)
{
  GtkWidget *title, *row;

  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing (GTK_BOX (self), 12);
  gtk_widget_set_halign (GTK_WIDGET (self), GTK_ALIGN_CENTER);
  gtk_widget_set_valign (GTK_WIDGET (self), GTK_ALIGN_CENTER);

  title = gtk_label_new (_("The display of this virtual machine is protected by a password."));
  gtk_label_set_line_wrap (GTK_LABEL (title), TRUE);
  gtk_container_add (GTK_CONTAINER (self), title);

  self->error = gtk_label_new (NULL);
  gtk_style_context_add_class (gtk_widget_get_style_context (self->error), GTK_STYLE_CLASS_ERROR);
  gtk_widget_set_no_show_all (self->error, TRUE);
  gtk_container_add (GTK_CONTAINER (self), self->error);

  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->entry = gtk_entry_new ();
  gtk_entry_set_visibility (GTK_ENTRY (self->entry), FALSE);
  gtk_entry_set_input_purpose (GTK_ENTRY (self->entry), GTK_INPUT_PURPOSE_PASSWORD);
  gtk_entry_set_activates_default (GTK_ENTRY (self->entry), FALSE);
  gtk_entry_set_placeholder_text (GTK_ENTRY (self->entry), _("Password"));
  atk_object_set_name (gtk_widget_get_accessible (self->entry), _("Display password"));
  g_signal_connect_swapped (self->entry, "activate", G_CALLBACK (submit), self);
  g_signal_connect (self->entry, "changed", G_CALLBACK (entry_changed), self);
  gtk_box_pack_start (GTK_BOX (row), self->entry, TRUE, TRUE, 0);

  self->button = gtk_button_new_with_mnemonic (_("_Connect"));
  gtk_widget_set_sensitive (self->button, FALSE);
  g_signal_connect_swapped (self->button, "clicked", G_CALLBACK (submit), self);
  gtk_box_pack_start (GTK_BOX (row), self->button, FALSE, FALSE, 0);
  gtk_container_add (GTK_CONTAINER (self), row);
  gtk_widget_show_all (GTK_WIDGET (self));
}

static void
oriel_display_password_prompt_class_init (OrielDisplayPasswordPromptClass *klass)
{
  signals[SUBMITTED] = g_signal_new ("submitted", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                     NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

GtkWidget *
oriel_display_password_prompt_new (void)
{
  return g_object_new (ORIEL_TYPE_DISPLAY_PASSWORD_PROMPT, NULL);
}

void
oriel_display_password_prompt_ask (OrielDisplayPasswordPrompt *self, const char *error)
{
  gtk_entry_set_text (GTK_ENTRY (self->entry), "");
  gtk_label_set_text (GTK_LABEL (self->error), error != NULL ? error : "");
  gtk_widget_set_visible (self->error, error != NULL);
  gtk_widget_grab_focus (self->entry);
}
