/* The details view's actions on a VM running the Windows installed on this
 * computer: discard the trial overlay, switch to real mode.  Both redefine
 * the domain (only while it is shut off). */
#pragma once

#include <gtk/gtk.h>
#include "oriel-domain.h"

G_BEGIN_DECLS

/* Asks, then redefines the domain with discard-trial='yes' on its
 * oriel:dualboot element: the daemon deletes the trial overlay. */
void oriel_dualboot_discard_trial_interactive (GtkWindow *parent, OrielDomain *domain);

/* Asks (trial writes are not copied to the disk), then redefines the
 * domain with mode='real'. */
void oriel_dualboot_switch_to_real_interactive (GtkWindow *parent, OrielDomain *domain);

G_END_DECLS
