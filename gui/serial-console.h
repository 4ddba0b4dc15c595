/* A VTE terminal attached to a domain's serial console stream. */
#pragma once

#include <gtk/gtk.h>
#include "connection.h"

G_BEGIN_DECLS

#define ORIEL_TYPE_SERIAL_CONSOLE (oriel_serial_console_get_type ())
G_DECLARE_FINAL_TYPE (OrielSerialConsole, oriel_serial_console, ORIEL, SERIAL_CONSOLE, GtkBox)

GtkWidget *oriel_serial_console_new (OrielDomain *domain);
/* Opens the stream if the domain runs and it is not open yet. */
void oriel_serial_console_connect (OrielSerialConsole *self);
void oriel_serial_console_disconnect (OrielSerialConsole *self);

G_END_DECLS
