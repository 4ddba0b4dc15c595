/* Changes to a dual-boot VM's <oriel:dualboot> element. */
#include "dualboot-xml.h"
#include "domain-xml-builder.h"

#include <glib/gi18n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

static xmlDocPtr
read_xml (const char *xml)
{
  return xml != NULL ? xmlReadMemory (xml, strlen (xml), "domain.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
                     : NULL;
}

static gboolean
is_element (xmlNodePtr node, const char *name, const char *ns)
{
  if (node->type != XML_ELEMENT_NODE || !xmlStrEqual (node->name, BAD_CAST name))
    return FALSE;
  if (ns == NULL)
    return node->ns == NULL;
  return node->ns != NULL && xmlStrEqual (node->ns->href, BAD_CAST ns);
}

/* /domain/devices/disk/oriel:dualboot, the first one. */
static xmlNodePtr
find_dualboot (xmlDocPtr doc)
{
  xmlNodePtr root = doc != NULL ? xmlDocGetRootElement (doc) : NULL;

  if (root == NULL || !is_element (root, "domain", NULL))
    return NULL;
  for (xmlNodePtr devices = root->children; devices != NULL; devices = devices->next)
    {
      if (!is_element (devices, "devices", NULL))
        continue;
      for (xmlNodePtr disk = devices->children; disk != NULL; disk = disk->next)
        {
          if (!is_element (disk, "disk", NULL))
            continue;
          for (xmlNodePtr n = disk->children; n != NULL; n = n->next)
            if (is_element (n, "dualboot", ORIEL_DOMAIN_XMLNS))
              return n;
        }
    }
  return NULL;
}

char *
oriel_dualboot_xml_mode (const char *xml)
{
  xmlDocPtr doc = read_xml (xml);
  xmlNodePtr db = find_dualboot (doc);
  xmlChar *mode = db != NULL ? xmlGetProp (db, BAD_CAST "mode") : NULL;
  char *result = NULL;

  if (db != NULL)
    result = g_strdup (mode != NULL ? (const char *) mode : "trial");
  xmlFree (mode);
  xmlFreeDoc (doc);
  return result;
}

char *
oriel_dualboot_xml_update (const char *xml, const char *mode, gboolean discard_trial, GError **error)
{
  xmlDocPtr doc = read_xml (xml);
  xmlNodePtr db = find_dualboot (doc);
  xmlChar *out = NULL;
  int len = 0;
  char *result;

  if (db == NULL)
    {
      g_set_error_literal (error, ORIEL_SPEC_ERROR, 0,
                           _("This virtual machine does not use the Windows installed on this computer."));
      xmlFreeDoc (doc);
      return NULL;
    }
  if (mode != NULL)
    xmlSetProp (db, BAD_CAST "mode", BAD_CAST mode);
  if (discard_trial)
    xmlSetProp (db, BAD_CAST "discard-trial", BAD_CAST "yes");
  xmlDocDumpFormatMemoryEnc (doc, &out, &len, "UTF-8", 1);
  xmlFreeDoc (doc);
  if (out == NULL)
    {
      g_set_error_literal (error, ORIEL_SPEC_ERROR, 0, _("Could not serialize the domain XML."));
      return NULL;
    }
  result = g_strndup ((const char *) out, len);
  xmlFree (out);
  return result;
}
