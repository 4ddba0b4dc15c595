/* Dialog asking for a libvirt URI to connect to. */
#pragma once

#include <gtk/gtk.h>

/* Runs the dialog; returns the URI chosen, or NULL if cancelled. */
char *oriel_add_connection_dialog_run (GtkWindow *parent);
