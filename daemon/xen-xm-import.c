#include "xen-xm-import.h"
#include "domain-def.h"
#include "virt-error.h"

#include <glib/gi18n.h>
#include <string.h>

/* A value is a number, a quoted string, or a list of quoted strings. */
typedef struct {
  char *scalar;
  GPtrArray *list;
} XmValue;

static void
xm_value_free (gpointer p)
{
  XmValue *v = p;
  g_free (v->scalar);
  if (v->list)
    g_ptr_array_unref (v->list);
  g_free (v);
}

static void
skip_space (const char **p, gboolean newlines)
{
  for (;;)
    {
      while (**p == ' ' || **p == '\t' || (newlines && (**p == '\n' || **p == '\r')))
        (*p)++;
      if (newlines && **p == '#')
        {
          while (**p && **p != '\n')
            (*p)++;
          continue;
        }
      return;
    }
}

static char *
parse_quoted (const char **p, GError **error, int line)
{
  char q = **p;
  const char *start = ++(*p);
  /* Triple quotes are valid Python and occur in hand-written configs. */
  gboolean triple = (*p)[0] == q && (*p)[1] == q;
  if (triple)
    start = (*p += 2);
  GString *s = g_string_new (NULL);
  for (;;)
    {
      if (!**p)
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_CONF_SYNTAX,
                       _("config line %d: unterminated string"), line);
          g_string_free (s, TRUE);
          return NULL;
        }
      if (**p == q && (!triple || ((*p)[1] == q && (*p)[2] == q)))
        break;
      if (**p == '\n' && !triple)
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_CONF_SYNTAX,
                       _("config line %d: unterminated string"), line);
          g_string_free (s, TRUE);
          return NULL;
        }
      g_string_append_c (s, **p);
      (*p)++;
    }
  (*p) += triple ? 3 : 1;
  (void) start;
  return g_string_free (s, FALSE);
}

static GHashTable *
parse_config (const char *text, GError **error)
{
  GHashTable *vars = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, xm_value_free);
  const char *p = text;
  int line = 1;
  for (;;)
    {
      /* Count lines as we skip blank ones and comments. */
      for (;;)
        {
          while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
          if (*p == '#')
            while (*p && *p != '\n')
              p++;
          if (*p == '\n')
            {
              p++;
              line++;
              continue;
            }
          break;
        }
      if (!*p)
        break;
      const char *ks = p;
      while (g_ascii_isalnum (*p) || *p == '_')
        p++;
      if (p == ks)
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_CONF_SYNTAX,
                       _("config line %d: expected a setting name"), line);
          goto fail;
        }
      g_autofree char *key = g_strndup (ks, p - ks);
      skip_space (&p, FALSE);
      if (*p != '=')
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_CONF_SYNTAX,
                       _("config line %d: expected '=' after '%s'"), line, key);
          goto fail;
        }
      p++;
      skip_space (&p, FALSE);
      XmValue *v = g_new0 (XmValue, 1);
      if (*p == '"' || *p == '\'')
        {
          v->scalar = parse_quoted (&p, error, line);
          if (!v->scalar)
            {
              xm_value_free (v);
              goto fail;
            }
        }
      else if (*p == '[')
        {
          p++;
          v->list = g_ptr_array_new_with_free_func (g_free);
          for (;;)
            {
              const char *before = p;
              skip_space (&p, TRUE);
              for (const char *c = before; c < p; c++)
                if (*c == '\n')
                  line++;
              if (*p == ']')
                {
                  p++;
                  break;
                }
              if (*p == ',')
                {
                  p++;
                  continue;
                }
              if (*p != '"' && *p != '\'')
                {
                  g_set_error (error, VIRT_ERROR, VIR_ERR_CONF_SYNTAX,
                               _("config line %d: list '%s' must hold quoted strings"), line, key);
                  xm_value_free (v);
                  goto fail;
                }
              char *item = parse_quoted (&p, error, line);
              if (!item)
                {
                  xm_value_free (v);
                  goto fail;
                }
              g_ptr_array_add (v->list, item);
            }
        }
      else
        {
          const char *vs = p;
          while (*p && *p != '\n' && *p != '#' && *p != ' ' && *p != '\t' && *p != '\r')
            p++;
          v->scalar = g_strndup (vs, p - vs);
          if (!*v->scalar)
            {
              g_set_error (error, VIRT_ERROR, VIR_ERR_CONF_SYNTAX,
                           _("config line %d: missing value for '%s'"), line, key);
              xm_value_free (v);
              goto fail;
            }
        }
      g_hash_table_replace (vars, g_steal_pointer (&key), v);
      skip_space (&p, FALSE);
      if (*p == '#')
        while (*p && *p != '\n')
          p++;
      if (*p == '\r')
        p++;
      if (*p == '\n')
        {
          p++;
          line++;
        }
      else if (*p)
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_CONF_SYNTAX,
                       _("config line %d: unexpected text after the value"), line);
          goto fail;
        }
    }
  return vars;

fail:
  g_hash_table_unref (vars);
  return NULL;
}

static const char *
str (GHashTable *vars, const char *key)
{
  XmValue *v = g_hash_table_lookup (vars, key);
  return v ? v->scalar : NULL;
}

static GPtrArray *
list (GHashTable *vars, const char *key)
{
  XmValue *v = g_hash_table_lookup (vars, key);
  return v ? v->list : NULL;
}

static void
append_escaped (GString *s, const char *v)
{
  g_autofree char *e = g_markup_escape_text (v, -1);
  g_string_append (s, e);
}

static gboolean
truthy (const char *v)
{
  return v && (g_str_equal (v, "1") || g_ascii_strcasecmp (v, "True") == 0 || g_str_equal (v, "yes"));
}

static const char *
lifecycle (const char *v, const char *dflt)
{
  if (!v)
    return dflt;
  if (g_str_equal (v, "restart") || g_str_equal (v, "rename-restart"))
    return "restart";
  return "destroy";
}

/* "phy:/dev/sda1,hda1,w" / "file:/img,xvda,w" / "tap:aio:/img,xvda,r" / ",hdc:cdrom,r" */
static gboolean
convert_disk (GString *s, const char *spec, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (spec, ",", 3);
  if (g_strv_length (parts) < 3)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_CONF_SYNTAX, _("malformed disk entry '%s'"), spec);
      return FALSE;
    }
  char *src = g_strstrip (parts[0]), *dev = g_strstrip (parts[1]), *mode = g_strstrip (parts[2]);
  const char *type = "file";
  const char *path = src;
  if (g_str_has_prefix (src, "phy:"))
    {
      type = "block";
      path = src + 4;
    }
  else if (g_str_has_prefix (src, "file:"))
    path = src + 5;
  else if (g_str_has_prefix (src, "tap:aio:") || g_str_has_prefix (src, "tap2:aio:"))
    path = strchr (src, ':') + 5;
  else if (g_str_has_prefix (src, "tap:qcow:"))
    path = src + 9;
  g_autofree char *abs = NULL;
  if (*path && g_str_equal (type, "block") && path[0] != '/')
    path = abs = g_strconcat ("/dev/", path, NULL);
  gboolean cdrom = g_str_has_suffix (dev, ":cdrom");
  if (cdrom)
    dev[strlen (dev) - 6] = '\0';
  char *colon = strchr (dev, ':');
  if (colon)
    *colon = '\0';
  /* Partition names (hda1) name whole disks for Oriel. */
  gsize dl = strlen (dev);
  while (dl > 0 && g_ascii_isdigit (dev[dl - 1]))
    dev[--dl] = '\0';
  const char *bus;
  g_autofree char *target = NULL;
  if (g_str_has_prefix (dev, "xvd"))
    {
      bus = "virtio";
      target = g_strconcat ("vd", dev + 3, NULL);
    }
  else if (g_str_has_prefix (dev, "hd"))
    {
      bus = "ide";
      target = g_strdup (dev);
    }
  else if (g_str_has_prefix (dev, "sd"))
    {
      bus = "sata";
      target = g_strdup (dev);
    }
  else if (g_str_has_prefix (dev, "vd"))
    {
      bus = "virtio";
      target = g_strdup (dev);
    }
  else
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                   _("unsupported configuration: disk device name '%s'"), dev);
      return FALSE;
    }
  g_string_append_printf (s, "    <disk type='%s' device='%s'>\n", type, cdrom ? "cdrom" : "disk");
  g_string_append (s, "      <driver name='oriel' type='raw'/>\n");
  if (*path)
    {
      g_string_append_printf (s, "      <source %s='", g_str_equal (type, "block") ? "dev" : "file");
      append_escaped (s, path);
      g_string_append (s, "'/>\n");
    }
  g_string_append_printf (s, "      <target dev='%s' bus='%s'/>\n", target, bus);
  if (cdrom || g_str_equal (mode, "r"))
    g_string_append (s, "      <readonly/>\n");
  g_string_append (s, "    </disk>\n");
  return TRUE;
}

/* "mac=00:16:3e:00:00:11, bridge=xenbr0, model=e1000" */
static void
convert_vif (GString *s, const char *spec)
{
  g_auto (GStrv) kvs = g_strsplit (spec, ",", -1);
  const char *mac = NULL, *model = "virtio";
  for (char **kv = kvs; *kv; kv++)
    {
      char *item = g_strstrip (*kv);
      if (g_str_has_prefix (item, "mac="))
        mac = item + 4;
      else if (g_str_has_prefix (item, "model=") && g_str_has_prefix (item + 6, "e1000"))
        model = "e1000";
    }
  /* Xen bridges become Oriel's default NAT network, which needs no host setup. */
  g_string_append (s, "    <interface type='network'>\n");
  if (mac)
    {
      g_string_append (s, "      <mac address='");
      append_escaped (s, mac);
      g_string_append (s, "'/>\n");
    }
  g_string_append_printf (s, "      <source network='default'/>\n      <model type='%s'/>\n    </interface>\n", model);
}

char *
xen_xm_to_domain_xml (const char *config, GError **error)
{
  g_autoptr (GHashTable) vars = parse_config (config, error);
  if (!vars)
    return NULL;
  const char *name = str (vars, "name");
  if (!name)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_CONF_SYNTAX, _("config has no 'name' setting"));
      return NULL;
    }
  const char *mem = str (vars, "memory");
  guint64 mib = mem ? g_ascii_strtoull (mem, NULL, 10) : 128;
  const char *maxmem = str (vars, "maxmem");
  guint64 max_mib = maxmem ? MAX (mib, g_ascii_strtoull (maxmem, NULL, 10)) : mib;
  const char *vcpus = str (vars, "vcpus");
  const char *builder = str (vars, "builder");
  gboolean hvm = builder && g_str_equal (builder, "hvm");

  GString *s = g_string_new ("<domain type='kvm'>\n  <name>");
  append_escaped (s, name);
  g_string_append (s, "</name>\n");
  if (str (vars, "uuid"))
    {
      g_string_append (s, "  <uuid>");
      append_escaped (s, str (vars, "uuid"));
      g_string_append (s, "</uuid>\n");
    }
  g_string_append_printf (s, "  <memory unit='KiB'>%" G_GUINT64_FORMAT "</memory>\n", max_mib * 1024);
  g_string_append_printf (s, "  <currentMemory unit='KiB'>%" G_GUINT64_FORMAT "</currentMemory>\n", mib * 1024);
  g_string_append_printf (s, "  <vcpu>%u</vcpu>\n", vcpus ? (guint) g_ascii_strtoull (vcpus, NULL, 10) : 1);
  g_string_append (s, "  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n");
  if (!hvm && str (vars, "kernel"))
    {
      g_string_append (s, "    <kernel>");
      append_escaped (s, str (vars, "kernel"));
      g_string_append (s, "</kernel>\n");
      if (str (vars, "ramdisk"))
        {
          g_string_append (s, "    <initrd>");
          append_escaped (s, str (vars, "ramdisk"));
          g_string_append (s, "</initrd>\n");
        }
      GString *cmd = g_string_new (NULL);
      if (str (vars, "root"))
        g_string_append_printf (cmd, "root=%s", str (vars, "root"));
      if (str (vars, "extra"))
        g_string_append_printf (cmd, "%s%s", cmd->len ? " " : "", str (vars, "extra"));
      if (cmd->len)
        {
          g_string_append (s, "    <cmdline>");
          append_escaped (s, cmd->str);
          g_string_append (s, "</cmdline>\n");
        }
      g_string_free (cmd, TRUE);
    }
  else if (hvm)
    {
      const char *boot = str (vars, "boot");
      for (const char *b = boot ? boot : "c"; *b; b++)
        g_string_append_printf (s, "    <boot dev='%s'/>\n", *b == 'd' ? "cdrom" : *b == 'n' ? "network" : "hd");
    }
  else if (str (vars, "bootloader"))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                   _("unsupported configuration: bootloader '%s' (give the guest kernel with kernel=)"),
                   str (vars, "bootloader"));
      g_string_free (s, TRUE);
      return NULL;
    }
  g_string_append (s, "  </os>\n  <features>\n");
  if (!hvm || !str (vars, "acpi") || truthy (str (vars, "acpi")))
    g_string_append (s, "    <acpi/>\n");
  if (!hvm || !str (vars, "apic") || truthy (str (vars, "apic")))
    g_string_append (s, "    <apic/>\n");
  g_string_append (s, "  </features>\n");
  g_string_append_printf (s, "  <clock offset='%s'/>\n", truthy (str (vars, "localtime")) ? "localtime" : "utc");
  g_string_append_printf (s, "  <on_poweroff>%s</on_poweroff>\n", lifecycle (str (vars, "on_poweroff"), "destroy"));
  g_string_append_printf (s, "  <on_reboot>%s</on_reboot>\n", lifecycle (str (vars, "on_reboot"), "restart"));
  g_string_append_printf (s, "  <on_crash>%s</on_crash>\n", lifecycle (str (vars, "on_crash"), "restart"));
  g_string_append (s, "  <devices>\n");
  GPtrArray *disks = list (vars, "disk");
  for (guint i = 0; disks && i < disks->len; i++)
    if (!convert_disk (s, disks->pdata[i], error))
      {
        g_string_free (s, TRUE);
        return NULL;
      }
  GPtrArray *vifs = list (vars, "vif");
  for (guint i = 0; vifs && i < vifs->len; i++)
    convert_vif (s, vifs->pdata[i]);
  /* PV guests always have a console; HVM ones when serial= asks for it. */
  const char *serial = str (vars, "serial");
  if (!hvm || (serial && g_str_equal (serial, "pty")))
    g_string_append (s, "    <serial type='pty'>\n      <target port='0'/>\n    </serial>\n"
                        "    <console type='pty'>\n      <target type='serial' port='0'/>\n    </console>\n");
  const char *usbdev = str (vars, "usbdevice");
  if (usbdev && g_str_equal (usbdev, "tablet"))
    g_string_append (s, "    <input type='tablet' bus='usb'/>\n");
  GPtrArray *vfb = list (vars, "vfb");
  gboolean vnc = truthy (str (vars, "vnc"));
  for (guint i = 0; vfb && i < vfb->len; i++)
    if (strstr (vfb->pdata[i], "vnc=1") || strstr (vfb->pdata[i], "type=vnc"))
      vnc = TRUE;
  if (vnc)
    {
      const char *display = str (vars, "vncdisplay");
      gboolean unused = !str (vars, "vncunused") || truthy (str (vars, "vncunused"));
      if (display && !unused)
        g_string_append_printf (s, "    <graphics type='vnc' port='%d' autoport='no' listen='127.0.0.1'/>\n",
                                5900 + atoi (display));
      else
        g_string_append (s, "    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'/>\n");
      g_string_append (s, "    <video>\n      <model type='vga'/>\n    </video>\n");
    }
  g_string_append (s, "  </devices>\n</domain>\n");

  /* Round-trip through the strict parser so the result is always valid. */
  g_autofree char *xml = g_string_free (s, FALSE);
  g_autoptr (DomainDef) def = domain_def_parse (xml, strlen (xml), DOMAIN_PARSE_DEFAULT, error);
  if (!def)
    return NULL;
  return domain_def_format (def, DOMAIN_FORMAT_INACTIVE, -1);
}
