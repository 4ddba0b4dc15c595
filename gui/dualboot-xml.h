/* Changes to a dual-boot VM's <oriel:dualboot> element, made by
 * redefining the domain: switching the mode, discarding the trial overlay. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The dual-boot mode ("trial" or "real") of a domain's XML; NULL when the
 * domain is not a dual-boot VM (or xml does not parse). */
char *oriel_dualboot_xml_mode (const char *xml);

/* xml (the inactive definition) with the dual-boot disk's mode set to mode
 * when it is not NULL, and with discard-trial='yes' when discard_trial: the
 * daemon then deletes the trial overlay and does not keep the attribute.
 * NULL with error set when xml has no dual-boot disk. */
char *oriel_dualboot_xml_update (const char *xml, const char *mode, gboolean discard_trial, GError **error);

G_END_DECLS
