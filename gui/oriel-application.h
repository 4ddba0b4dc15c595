/* The oriel GtkApplication: connections, settings and window bookkeeping. */
#pragma once

#include <gtk/gtk.h>
#include "connection.h"

G_BEGIN_DECLS

#define ORIEL_APP_ID "org.oriel.Oriel"
#define ORIEL_DEFAULT_URI "oriel:///system"

#define ORIEL_TYPE_APPLICATION (oriel_application_get_type ())
G_DECLARE_FINAL_TYPE (OrielApplication, oriel_application, ORIEL, APPLICATION, GtkApplication)

OrielApplication *oriel_application_new (void);
GSettings *oriel_application_get_settings (OrielApplication *self);
/* OrielConnection*, in display order. */
GPtrArray *oriel_application_get_connections (OrielApplication *self);
/* Adds and opens a connection; remember stores it in GSettings. Returns the
 * existing one if the URI is already present. */
OrielConnection *oriel_application_add_connection (OrielApplication *self,
                                                   const char *uri, gboolean remember);
void oriel_application_remove_connection (OrielApplication *self, OrielConnection *conn);
/* Opens (or presents) the console window of a domain. */
void oriel_application_open_console (OrielApplication *self, OrielConnection *conn,
                                     const char *uuid, const char *page);
void oriel_application_show_new_vm_wizard (OrielApplication *self, GtkWindow *parent,
                                           OrielConnection *conn);

G_END_DECLS
