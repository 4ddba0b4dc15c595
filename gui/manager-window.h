/* The main window: every connection and its virtual machines. */
#pragma once

#include <gtk/gtk.h>
#include "connection.h"

G_BEGIN_DECLS

typedef struct _OrielApplication OrielApplication;

#define ORIEL_TYPE_MANAGER_WINDOW (oriel_manager_window_get_type ())
G_DECLARE_FINAL_TYPE (OrielManagerWindow, oriel_manager_window, ORIEL, MANAGER_WINDOW,
                      GtkApplicationWindow)

OrielManagerWindow *oriel_manager_window_new (OrielApplication *app);
/* Shows the connection and opens it if needed. */
void oriel_manager_window_add_connection (OrielManagerWindow *self, OrielConnection *conn);
void oriel_manager_window_remove_connection (OrielManagerWindow *self, OrielConnection *conn);

G_END_DECLS
