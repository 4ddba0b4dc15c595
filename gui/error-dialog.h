/* Error dialog: a short message with the technical details folded away. */
#pragma once

#include <gtk/gtk.h>

/* Non-modal; destroys itself when dismissed. details may be NULL. */
GtkWidget *oriel_error_dialog_show (GtkWindow *parent, const char *summary,
                                    const char *details);
void oriel_error_dialog_show_gerror (GtkWindow *parent, const char *summary,
                                     const GError *error);
