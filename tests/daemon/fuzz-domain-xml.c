/* libFuzzer target: the domain XML parser (and the xen-xm importer on
 * the same bytes).  Whatever parses must format, re-parse to the same
 * text, and translate to a VMM config or fail cleanly. */
#include "domain-def.h"
#include "vmm-config.h"
#include "xen-xm-import.h"

#include <libxml/parser.h>
#include <stdint.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = g_strndup ((const char *) data, size);
  GError *error = NULL;
  DomainDef *def = domain_def_parse ((const char *) data, size, DOMAIN_PARSE_LIVE, &error);
  g_clear_error (&error);
  if (def)
    {
      char *a = domain_def_format (def, DOMAIN_FORMAT_LIVE, 1);
      DomainDef *again = domain_def_parse (a, strlen (a), DOMAIN_PARSE_LIVE, &error);
      if (!again)
        g_error ("formatted XML does not re-parse: %s\n%s", error->message, a);
      char *b = domain_def_format (again, DOMAIN_FORMAT_LIVE, 1);
      if (strcmp (a, b) != 0)
        g_error ("format is not stable:\n%s\n---\n%s", a, b);
      char *conf = vmm_config_build (def, "/run/oriel/x/ctl", &error);
      g_clear_error (&error);
      g_free (conf);
      g_free (a);
      g_free (b);
      domain_def_free (again);
      domain_def_free (def);
    }
  char *xml = xen_xm_to_domain_xml (text, &error);
  g_clear_error (&error);
  g_free (xml);
  g_free (text);
  return 0;
}
