/* Power and lifecycle actions on a domain, with errors shown to the user. */
#pragma once

#include <gtk/gtk.h>
#include <libvirt/libvirt.h>

typedef enum {
  ORIEL_ACTION_RUN,
  ORIEL_ACTION_PAUSE,
  ORIEL_ACTION_RESUME,
  ORIEL_ACTION_SHUTDOWN,
  ORIEL_ACTION_REBOOT,
  ORIEL_ACTION_FORCE_OFF,
  ORIEL_ACTION_SAVE,
} OrielDomainAction;

/* Which actions make sense in a state (libvirt virDomainState). */
gboolean oriel_domain_action_allowed (OrielDomainAction action, int state);

/* Runs the action; on failure shows an error dialog over parent. */
gboolean oriel_domain_action_run (GtkWindow *parent, virDomainPtr dom,
                                  OrielDomainAction action);

/* Asks for confirmation (and whether to delete disk images), then stops
 * and undefines the domain. */
void oriel_domain_delete_interactive (GtkWindow *parent, virDomainPtr dom);
