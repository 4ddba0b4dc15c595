/* Dialog asking for a libvirt URI to connect to. */
#pragma once

#include <gtk/gtk.h>

/* Called with the URI chosen; not called if the dialog is cancelled. */
typedef void (*OrielUriChosenFunc) (const char *uri, gpointer user_data);

/* Shows the dialog without blocking (a nested main loop would stall
 * accessibility clients waiting for the button press to return). */
void oriel_add_connection_dialog_show (GtkWindow *parent, OrielUriChosenFunc done,
                                       gpointer user_data);
