/* Save images as virtorield writes them through oriel-vmm's `save`
 * command: the VMM's state file, whose opaque header (hypervisor/SAVE.md)
 * carries what the daemon needs to restore it: the domain XML and whether
 * the domain was paused. */
#pragma once

#include <glib.h>

/* The header text for a domain saved while running or paused. */
char *save_image_header_build (const char *domain_xml, gboolean paused);

/* Read the header of the save image at path.  Errors (libvirt codes):
 * missing or unreadable file, not an Oriel save image, a version this
 * daemon does not know, a truncated or malformed header. */
gboolean save_image_read_header (const char *path, char **domain_xml, gboolean *paused,
                                 GError **error);

/* Parse a header text as built by save_image_header_build. */
gboolean save_image_parse_header (const char *text, gsize len, char **domain_xml,
                                  gboolean *paused, GError **error);
