/* The page a console window shows when a VM's VNC display asks for a
 * password: an explanation, an error from the last attempt, a hidden
 * entry and a button.  Emits "submitted" with the password. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define ORIEL_TYPE_DISPLAY_PASSWORD_PROMPT (oriel_display_password_prompt_get_type ())
G_DECLARE_FINAL_TYPE (OrielDisplayPasswordPrompt, oriel_display_password_prompt, ORIEL,
                      DISPLAY_PASSWORD_PROMPT, GtkBox)

GtkWidget *oriel_display_password_prompt_new (void);
/* Empty the entry, show error (NULL: none) and focus the entry. */
void oriel_display_password_prompt_ask (OrielDisplayPasswordPrompt *self, const char *error);

G_END_DECLS
