/* Reads the parts of a domain's XML the application displays. */
#include "domain-xml-info.h"
#include "domain-xml-builder.h"

#include <glib/gi18n.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <stdlib.h>
#include <string.h>

static void
disk_free (OrielDiskInfo *d)
{
  g_free (d->device);
  g_free (d->target);
  g_free (d->bus);
  g_free (d->source);
  g_free (d->dualboot_mode);
  g_free (d);
}

static void
nic_free (OrielNicInfo *n)
{
  g_free (n->type);
  g_free (n->source);
  g_free (n->mac);
  g_free (n->model);
  g_free (n);
}

void
oriel_domain_info_free (OrielDomainInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_free (info->os_id);
  g_free (info->firmware);
  g_free (info->kernel);
  g_ptr_array_unref (info->disks);
  g_ptr_array_unref (info->nics);
  g_free (info->graphics_type);
  g_free (info->graphics_listen);
  g_free (info->graphics_socket);
  g_free (info);
}

/* String value of an XPath expression relative to node, or NULL if empty. */
static char *
xpath_string (xmlXPathContextPtr ctx, xmlNodePtr node, const char *expr)
{
  xmlXPathObjectPtr obj;
  char *result = NULL;

  ctx->node = node;
  obj = xmlXPathEvalExpression (BAD_CAST expr, ctx);
  if (obj != NULL)
    {
      xmlChar *s = xmlXPathCastToString (obj);
      if (s != NULL && *s != '\0')
        result = g_strdup ((const char *) s);
      xmlFree (s);
      xmlXPathFreeObject (obj);
    }
  return result;
}

static xmlXPathObjectPtr
xpath_nodes (xmlXPathContextPtr ctx, xmlNodePtr node, const char *expr)
{
  ctx->node = node;
  return xmlXPathEvalExpression (BAD_CAST expr, ctx);
}

/* Whether expr (relative to node) selects at least one node. */
static gboolean
xpath_selects (xmlXPathContextPtr ctx, xmlNodePtr node, const char *expr)
{
  xmlXPathObjectPtr set = xpath_nodes (ctx, node, expr);
  gboolean found = set != NULL && set->nodesetval != NULL && set->nodesetval->nodeNr > 0;

  xmlXPathFreeObject (set);
  return found;
}

static guint64
memory_to_kib (const char *value, const char *unit)
{
  guint64 v = g_ascii_strtoull (value, NULL, 10);

  if (unit == NULL || g_ascii_strcasecmp (unit, "KiB") == 0 || g_ascii_strcasecmp (unit, "k") == 0)
    return v;
  if (g_ascii_strcasecmp (unit, "MiB") == 0 || g_ascii_strcasecmp (unit, "M") == 0)
    return v * 1024;
  if (g_ascii_strcasecmp (unit, "GiB") == 0 || g_ascii_strcasecmp (unit, "G") == 0)
    return v * 1024 * 1024;
  if (g_ascii_strcasecmp (unit, "b") == 0 || g_ascii_strcasecmp (unit, "bytes") == 0)
    return v / 1024;
  if (g_ascii_strcasecmp (unit, "KB") == 0)
    return v * 1000 / 1024;
  if (g_ascii_strcasecmp (unit, "MB") == 0)
    return v * 1000000 / 1024;
  if (g_ascii_strcasecmp (unit, "GB") == 0)
    return v * 1000000000 / 1024;
  return v;
}

OrielDomainInfo *
oriel_domain_info_parse (const char *xml, GError **error)
{
  xmlDocPtr doc;
  xmlXPathContextPtr ctx;
  xmlXPathObjectPtr set;
  xmlNodePtr root;
  OrielDomainInfo *info;
  g_autofree char *mem = NULL, *unit = NULL, *vcpu = NULL, *port = NULL;

  doc = xmlReadMemory (xml, strlen (xml), "domain.xml", NULL,
                       XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  root = doc != NULL ? xmlDocGetRootElement (doc) : NULL;
  if (root == NULL || !xmlStrEqual (root->name, BAD_CAST "domain"))
    {
      g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_PARSE,
                   _("The virtual machine’s configuration could not be read."));
      if (doc != NULL)
        xmlFreeDoc (doc);
      return NULL;
    }

  ctx = xmlXPathNewContext (doc);
  xmlXPathRegisterNs (ctx, BAD_CAST "libosinfo", BAD_CAST ORIEL_LIBOSINFO_XMLNS);
  xmlXPathRegisterNs (ctx, BAD_CAST "oriel", BAD_CAST ORIEL_DOMAIN_XMLNS);
  info = g_new0 (OrielDomainInfo, 1);
  info->disks = g_ptr_array_new_with_free_func ((GDestroyNotify) disk_free);
  info->nics = g_ptr_array_new_with_free_func ((GDestroyNotify) nic_free);

  info->name = xpath_string (ctx, root, "string(/domain/name)");
  info->os_id = xpath_string (ctx, root, "string(/domain/metadata/libosinfo:libosinfo/libosinfo:os/@id)");
  mem = xpath_string (ctx, root, "string(/domain/memory)");
  unit = xpath_string (ctx, root, "string(/domain/memory/@unit)");
  if (mem != NULL)
    info->memory_kib = memory_to_kib (mem, unit);
  vcpu = xpath_string (ctx, root, "string(/domain/vcpu)");
  info->vcpus = vcpu != NULL ? (guint) g_ascii_strtoull (vcpu, NULL, 10) : 1;
  info->firmware = xpath_string (ctx, root, "string(/domain/os/@firmware)");
  if (info->firmware == NULL)
    {
      g_autofree char *loader = xpath_string (ctx, root, "string(/domain/os/loader/@type)");
      info->firmware = g_strdup (g_strcmp0 (loader, "pflash") == 0 ? "efi" : "bios");
    }
  info->kernel = xpath_string (ctx, root, "string(/domain/os/kernel)");

  set = xpath_nodes (ctx, root, "/domain/devices/disk");
  if (set != NULL && set->nodesetval != NULL)
    for (int i = 0; i < set->nodesetval->nodeNr; i++)
      {
        xmlNodePtr n = set->nodesetval->nodeTab[i];
        OrielDiskInfo *d = g_new0 (OrielDiskInfo, 1);
        g_autofree char *ro = NULL;

        d->device = xpath_string (ctx, n, "string(@device)");
        d->target = xpath_string (ctx, n, "string(target/@dev)");
        d->bus = xpath_string (ctx, n, "string(target/@bus)");
        d->source = xpath_string (ctx, n, "string(source/@file | source/@dev | source/@name)");
        ro = xpath_string (ctx, n, "name(readonly)");
        d->readonly = ro != NULL;
        if (xpath_selects (ctx, n, "oriel:dualboot"))
          {
            d->dualboot_mode = xpath_string (ctx, n, "string(oriel:dualboot/@mode)");
            if (d->dualboot_mode == NULL)
              d->dualboot_mode = g_strdup ("trial");
          }
        g_ptr_array_add (info->disks, d);
      }
  xmlXPathFreeObject (set);

  set = xpath_nodes (ctx, root, "/domain/devices/interface");
  if (set != NULL && set->nodesetval != NULL)
    for (int i = 0; i < set->nodesetval->nodeNr; i++)
      {
        xmlNodePtr n = set->nodesetval->nodeTab[i];
        OrielNicInfo *nic = g_new0 (OrielNicInfo, 1);

        nic->type = xpath_string (ctx, n, "string(@type)");
        nic->source = xpath_string (ctx, n, "string(source/@network | source/@bridge | source/@dev)");
        nic->mac = xpath_string (ctx, n, "string(mac/@address)");
        nic->model = xpath_string (ctx, n, "string(model/@type)");
        g_ptr_array_add (info->nics, nic);
      }
  xmlXPathFreeObject (set);

  info->graphics_type = xpath_string (ctx, root, "string(/domain/devices/graphics[1]/@type)");
  port = xpath_string (ctx, root, "string(/domain/devices/graphics[1]/@port)");
  info->graphics_port = port != NULL ? atoi (port) : -1;
  info->graphics_listen = xpath_string (ctx, root,
    "string(/domain/devices/graphics[1]/listen[@type='address']/@address | /domain/devices/graphics[1]/@listen)");
  info->graphics_socket = xpath_string (ctx, root,
    "string(/domain/devices/graphics[1]/listen[@type='socket']/@socket | /domain/devices/graphics[1]/@socket)");

  xmlXPathFreeContext (ctx);
  xmlFreeDoc (doc);
  return info;
}
