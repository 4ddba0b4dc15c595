/* Power and lifecycle actions on a domain, with errors shown to the user. */
#pragma once

#include <gtk/gtk.h>
#include <libvirt/libvirt.h>
#include "oriel-domain.h"

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

/* What the domain shows while the action runs ("Starting…"). */
const char *oriel_domain_action_progress_label (OrielDomainAction action);

/* Runs the action in a worker thread; the domain is "busy" meanwhile.
 * The result comes back on the main loop: a fresh state, or an error
 * dialog over parent (if that window still exists). */
void oriel_domain_action_start (GtkWindow *parent, OrielDomain *domain,
                                OrielDomainAction action);

/* Asks for confirmation (and whether to delete disk images), then stops
 * and undefines the domain in a worker thread. */
void oriel_domain_delete_interactive (GtkWindow *parent, OrielDomain *domain);
