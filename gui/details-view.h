/* Read-only overview of a VM's hardware with live CPU and memory graphs. */
#pragma once

#include <gtk/gtk.h>
#include "connection.h"

G_BEGIN_DECLS

#define ORIEL_TYPE_DETAILS_VIEW (oriel_details_view_get_type ())
G_DECLARE_FINAL_TYPE (OrielDetailsView, oriel_details_view, ORIEL, DETAILS_VIEW, GtkBox)

GtkWidget *oriel_details_view_new (OrielDomain *domain);
/* Re-reads the domain XML (after a define or state change). */
void oriel_details_view_refresh (OrielDetailsView *self);

G_END_DECLS
