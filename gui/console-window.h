/* One window per VM: its screen (VNC), serial console and details. */
#pragma once

#include <gtk/gtk.h>
#include "connection.h"

G_BEGIN_DECLS

typedef struct _OrielApplication OrielApplication;

#define ORIEL_TYPE_CONSOLE_WINDOW (oriel_console_window_get_type ())
G_DECLARE_FINAL_TYPE (OrielConsoleWindow, oriel_console_window, ORIEL, CONSOLE_WINDOW,
                      GtkApplicationWindow)

/* NULL if the domain cannot be found. */
OrielConsoleWindow *oriel_console_window_new (OrielApplication *app, OrielConnection *conn,
                                              const char *uuid);
/* page: "display", "serial" or "details". */
void oriel_console_window_show_page (OrielConsoleWindow *self, const char *page);

G_END_DECLS
