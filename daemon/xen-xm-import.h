/* `virsh domxml-from-native xen-xm FILE`: classic Xen xm configuration
 * files (Python-style assignments) converted to Oriel domain XML. */
#pragma once

#include <glib.h>

char *xen_xm_to_domain_xml (const char *config, GError **error);
