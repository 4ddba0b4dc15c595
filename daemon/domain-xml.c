/* Parsing and formatting of domain XML.  Every element the parser does not
 * know is refused with its name, so nothing a user asked for is silently
 * dropped. */
#include "domain-def.h"
#include "virt-error.h"

#include <glib/gi18n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

static void
dualboot_partition_free (gpointer p)
{
  DomainDualbootPartition *part = p;
  g_free (part->role);
  g_free (part);
}

static void
dualboot_free (DomainDualboot *db)
{
  if (!db)
    return;
  g_free (db->mode);
  g_free (db->fingerprint);
  g_ptr_array_unref (db->partitions);
  g_free (db);
}

static void
disk_free (gpointer p)
{
  DomainDisk *d = p;
  dualboot_free (d->dualboot);
  g_free (d->live_map);
  g_free (d->type); g_free (d->device); g_free (d->driver_type);
  g_free (d->source); g_free (d->target_dev); g_free (d->target_bus);
  g_free (d->source_pool); g_free (d->source_volume);
  g_free (d->serial);
  g_free (d);
}

void
domain_disk_free (DomainDisk *disk)
{
  if (disk)
    disk_free (disk);
}

static void
nic_free (gpointer p)
{
  DomainNic *n = p;
  g_free (n->type); g_free (n->source); g_free (n->mac);
  g_free (n->model); g_free (n->live_target);
  g_free (n);
}

static void
input_free (gpointer p)
{
  DomainInput *i = p;
  g_free (i->type); g_free (i->bus);
  g_free (i);
}

static DomainDef *
domain_def_new (void)
{
  DomainDef *def = g_new0 (DomainDef, 1);
  def->boot_devs = g_ptr_array_new_with_free_func (g_free);
  def->disks = g_ptr_array_new_with_free_func (disk_free);
  def->nics = g_ptr_array_new_with_free_func (nic_free);
  def->inputs = g_ptr_array_new_with_free_func (input_free);
  def->controllers_xml = g_ptr_array_new_with_free_func (g_free);
  def->vnc_port = -1;
  def->live_vnc_port = -1;
  return def;
}

void
domain_def_free (DomainDef *def)
{
  if (!def)
    return;
  g_free (def->name); g_free (def->title); g_free (def->description);
  g_free (def->metadata_xml); g_free (def->arch); g_free (def->machine);
  g_free (def->loader); g_free (def->loader_type); g_free (def->firmware);
  g_free (def->nvram); g_free (def->nvram_template); g_free (def->usb_model);
  g_free (def->kernel); g_free (def->initrd);
  g_free (def->hyperv_mode); g_free (def->hv_vendor_id); g_free (def->live_tpm_socket);
  g_free (def->cmdline); g_ptr_array_unref (def->boot_devs);
  g_free (def->cpu_xml); g_free (def->clock_offset); g_free (def->clock_xml);
  g_free (def->pm_xml); g_free (def->on_poweroff); g_free (def->on_reboot);
  g_free (def->on_crash); g_free (def->emulator);
  g_ptr_array_unref (def->disks); g_ptr_array_unref (def->nics);
  g_ptr_array_unref (def->inputs); g_ptr_array_unref (def->controllers_xml);
  g_free (def->vnc_listen); g_free (def->video_model);
  g_free (def->balloon_model); g_free (def->live_pty);
  g_free (def);
}

void
domain_uuid_format (const guint8 u[16], char out[37])
{
  g_snprintf (out, 37,
              "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
              u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
              u[10], u[11], u[12], u[13], u[14], u[15]);
}

gboolean
domain_uuid_parse (const char *s, guint8 uuid[16])
{
  int n = 0;
  for (const char *p = s; *p; p++)
    {
      if (*p == '-' || *p == ' ')
        continue;
      if (!g_ascii_isxdigit (p[0]) || !g_ascii_isxdigit (p[1]) || n >= 16)
        return FALSE;
      uuid[n++] = (g_ascii_xdigit_value (p[0]) << 4) | g_ascii_xdigit_value (p[1]);
      p++;
    }
  return n == 16;
}

gboolean
domain_name_is_valid (const char *name)
{
  if (!name || !*name || strlen (name) > 200 || name[0] == '.')
    return FALSE;
  for (const char *p = name; *p; p++)
    if (*p == '/' || g_ascii_iscntrl (*p))
      return FALSE;
  return g_utf8_validate (name, -1, NULL);
}

char *
domain_mac_generate (void)
{
  return g_strdup_printf ("52:54:00:%02x:%02x:%02x",
                          g_random_int_range (0, 256),
                          g_random_int_range (0, 256),
                          g_random_int_range (0, 256));
}

/* ---- parsing helpers ---- */

static gboolean
is_el (xmlNode *n, const char *name)
{
  return n->type == XML_ELEMENT_NODE && strcmp ((const char *) n->name, name) == 0;
}

static char *
attr (xmlNode *n, const char *name)
{
  xmlChar *v = xmlGetProp (n, (const xmlChar *) name);
  if (!v)
    return NULL;
  char *s = g_strdup ((const char *) v);
  xmlFree (v);
  return s;
}

static char *
text (xmlNode *n)
{
  xmlChar *v = xmlNodeGetContent (n);
  char *s = g_strstrip (g_strdup (v ? (const char *) v : ""));
  xmlFree (v);
  return s;
}

static char *
node_dump (xmlNode *n)
{
  xmlBuffer *buf = xmlBufferCreate ();
  xmlNodeDump (buf, n->doc, n, 0, 0);
  char *s = g_strdup ((const char *) xmlBufferContent (buf));
  xmlBufferFree (buf);
  return s;
}

static gboolean
unsupported (GError **error, const char *what, const char *parent)
{
  g_set_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
               _("unsupported configuration: element <%s> in <%s> is not supported by Oriel"),
               what, parent);
  return FALSE;
}

static gboolean
unsupported_value (GError **error, const char *what, const char *value)
{
  g_set_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
               _("unsupported configuration: %s '%s' is not supported by Oriel"),
               what, value);
  return FALSE;
}

static gboolean
xml_error (GError **error, const char *msg)
{
  g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR, "%s", msg);
  return FALSE;
}

/* Parse a size with libvirt's unit names; result in KiB. */
static gboolean
parse_memory (xmlNode *n, guint64 *kib, GError **error)
{
  g_autofree char *unit = attr (n, "unit");
  g_autofree char *val = text (n);
  char *end = NULL;
  guint64 v = g_ascii_strtoull (val, &end, 10);
  if (!*val || *end)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR,
                   _("invalid value '%s' for <%s>"), val, (const char *) n->name);
      return FALSE;
    }
  static const struct { const char *name; guint64 bytes; } units[] = {
    { "b", 1 }, { "bytes", 1 }, { "KB", 1000 }, { "k", 1024 }, { "KiB", 1024 },
    { "MB", 1000000 }, { "M", 1 << 20 }, { "MiB", 1 << 20 },
    { "GB", 1000000000 }, { "G", 1 << 30 }, { "GiB", 1 << 30 },
    { "TB", 1000000000000ull }, { "T", 1ull << 40 }, { "TiB", 1ull << 40 },
  };
  guint64 mult = 1024;
  if (unit)
    {
      mult = 0;
      for (gsize i = 0; i < G_N_ELEMENTS (units); i++)
        if (g_ascii_strcasecmp (unit, units[i].name) == 0)
          mult = units[i].bytes;
      if (!mult)
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR,
                       _("unknown memory unit '%s'"), unit);
          return FALSE;
        }
    }
  if (v > G_MAXUINT64 / mult)
    return xml_error (error, _("memory size is too large"));
  *kib = (v * mult + 1023) / 1024;
  return TRUE;
}

static gboolean
yes (const char *v)
{
  return v && (strcmp (v, "yes") == 0 || strcmp (v, "on") == 0);
}

/* yes/no attributes of <loader>: absent is FEATURE_UNSET. */
static gboolean
parse_yes_no (xmlNode *n, const char *name, FeatureState *out, GError **error)
{
  g_autofree char *v = attr (n, name);
  if (!v)
    *out = FEATURE_UNSET;
  else if (g_str_equal (v, "yes"))
    *out = FEATURE_ON;
  else if (g_str_equal (v, "no"))
    *out = FEATURE_OFF;
  else
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR,
                   _("invalid value '%s' for attribute '%s' of <%s>"), v, name,
                   (const char *) n->name);
      return FALSE;
    }
  return TRUE;
}

/* <os><firmware>: the features a chosen firmware must (not) have. */
static gboolean
parse_firmware_features (DomainDef *def, xmlNode *fw, GError **error)
{
  for (xmlNode *c = fw->children; c; c = c->next)
    {
      if (c->type != XML_ELEMENT_NODE)
        continue;
      if (!is_el (c, "feature"))
        return unsupported (error, (const char *) c->name, "firmware");
      g_autofree char *name = attr (c, "name");
      FeatureState *slot = NULL;
      if (name && g_str_equal (name, "secure-boot"))
        slot = &def->fw_secure_boot;
      else if (name && g_str_equal (name, "enrolled-keys"))
        slot = &def->fw_enrolled_keys;
      else
        return unsupported_value (error, _("firmware feature"), name ? name : "");
      if (!parse_yes_no (c, "enabled", slot, error))
        return FALSE;
      if (*slot == FEATURE_UNSET)
        return xml_error (error, _("missing 'enabled' in <firmware><feature>"));
    }
  return TRUE;
}

static gboolean
parse_loader (DomainDef *def, xmlNode *c, GError **error)
{
  g_free (def->loader);
  def->loader = text (c);
  if (!*def->loader)
    g_clear_pointer (&def->loader, g_free);
  g_free (def->loader_type);
  def->loader_type = attr (c, "type");
  if (def->loader_type && !g_str_equal (def->loader_type, "rom")
      && !g_str_equal (def->loader_type, "pflash"))
    return unsupported_value (error, _("loader type"), def->loader_type);
  if (!parse_yes_no (c, "readonly", &def->loader_readonly, error)
      || !parse_yes_no (c, "secure", &def->loader_secure, error))
    return FALSE;
  g_autofree char *format = attr (c, "format");
  if (format && !g_str_equal (format, "raw"))
    return unsupported_value (error, _("loader format"), format);
  return TRUE;
}

static gboolean
parse_nvram (DomainDef *def, xmlNode *c, GError **error)
{
  g_free (def->nvram);
  def->nvram = text (c);
  if (!*def->nvram)
    g_clear_pointer (&def->nvram, g_free);
  g_free (def->nvram_template);
  def->nvram_template = attr (c, "template");
  g_autofree char *format = attr (c, "format");
  if (format && !g_str_equal (format, "raw"))
    return unsupported_value (error, _("NVRAM format"), format);
  for (xmlNode *s = c->children; s; s = s->next)
    if (s->type == XML_ELEMENT_NODE)
      return unsupported (error, (const char *) s->name, "nvram");
  if (def->nvram && !g_path_is_absolute (def->nvram))
    return unsupported_value (error, _("NVRAM path (absolute paths only)"), def->nvram);
  if (def->nvram_template && !g_path_is_absolute (def->nvram_template))
    return unsupported_value (error, _("NVRAM template (absolute paths only)"),
                              def->nvram_template);
  return TRUE;
}

static gboolean
parse_os (DomainDef *def, xmlNode *os, GError **error)
{
  g_free (def->firmware);
  def->firmware = attr (os, "firmware");
  if (def->firmware && !g_str_equal (def->firmware, "efi"))
    return unsupported_value (error, _("firmware"), def->firmware);
  for (xmlNode *c = os->children; c; c = c->next)
    {
      if (c->type != XML_ELEMENT_NODE)
        continue;
      if (is_el (c, "type"))
        {
          g_autofree char *t = text (c);
          if (strcmp (t, "hvm") != 0)
            return unsupported_value (error, _("OS type"), t);
          g_free (def->arch); def->arch = attr (c, "arch");
          g_free (def->machine); def->machine = attr (c, "machine");
          if (def->arch && strcmp (def->arch, "x86_64") != 0 && strcmp (def->arch, "i686") != 0)
            return unsupported_value (error, _("architecture"), def->arch);
        }
      else if (is_el (c, "loader"))
        {
          if (!parse_loader (def, c, error))
            return FALSE;
        }
      else if (is_el (c, "nvram"))
        {
          if (!parse_nvram (def, c, error))
            return FALSE;
        }
      else if (is_el (c, "firmware"))
        {
          if (!parse_firmware_features (def, c, error))
            return FALSE;
        }
      else if (is_el (c, "kernel"))
        { g_free (def->kernel); def->kernel = text (c); }
      else if (is_el (c, "initrd"))
        { g_free (def->initrd); def->initrd = text (c); }
      else if (is_el (c, "cmdline"))
        { g_free (def->cmdline); def->cmdline = text (c); }
      else if (is_el (c, "boot"))
        {
          char *dev = attr (c, "dev");
          if (!dev || !(g_str_equal (dev, "hd") || g_str_equal (dev, "cdrom")
                        || g_str_equal (dev, "network") || g_str_equal (dev, "fd")))
            {
              g_autofree char *d = dev;
              return unsupported_value (error, _("boot device"), d ? d : "");
            }
          g_ptr_array_add (def->boot_devs, dev);
        }
      else if (is_el (c, "bootmenu"))
        {
          g_autofree char *en = attr (c, "enable");
          def->bootmenu = yes (en);
        }
      else if (is_el (c, "smbios") || is_el (c, "bios"))
        ; /* firmware hints that do not change the platform */
      else
        return unsupported (error, (const char *) c->name, "os");
    }
  if (!def->arch)
    def->arch = g_strdup ("x86_64");
  if ((def->nvram || def->nvram_template) && !domain_def_is_uefi (def) && !def->firmware)
    return xml_error (error, _("<nvram> needs <loader type='pflash'> or <os firmware='efi'>"));
  if (def->loader_secure == FEATURE_ON && !domain_def_is_uefi (def) && !def->firmware)
    return xml_error (error, _("<loader secure='yes'> needs <loader type='pflash'>"));
  return TRUE;
}

gboolean
domain_def_is_uefi (const DomainDef *def)
{
  return def->loader && def->loader_type && g_str_equal (def->loader_type, "pflash");
}

gboolean
domain_def_is_q35 (const DomainDef *def)
{
  return def->machine && (g_str_equal (def->machine, "q35")
                          || g_str_has_prefix (def->machine, "pc-q35-"));
}

const char *const domain_hyperv_names[HV_COUNT] = {
  [HV_RELAXED] = "relaxed", [HV_VAPIC] = "vapic", [HV_SPINLOCKS] = "spinlocks",
  [HV_VPINDEX] = "vpindex", [HV_RUNTIME] = "runtime", [HV_SYNIC] = "synic",
  [HV_STIMER] = "stimer", [HV_RESET] = "reset", [HV_VENDOR_ID] = "vendor_id",
  [HV_FREQUENCIES] = "frequencies", [HV_REENLIGHTENMENT] = "reenlightenment",
  [HV_TLBFLUSH] = "tlbflush", [HV_IPI] = "ipi", [HV_EVMCS] = "evmcs", [HV_AVIC] = "avic",
};

/* state='on'|'off' of a feature element; absent means on, as in libvirt. */
static gboolean
parse_state (xmlNode *n, FeatureState *out, GError **error)
{
  g_autofree char *st = attr (n, "state");
  if (!st || g_str_equal (st, "on") || g_str_equal (st, "yes"))
    *out = FEATURE_ON;
  else if (g_str_equal (st, "off") || g_str_equal (st, "no"))
    *out = FEATURE_OFF;
  else
    return unsupported_value (error, _("feature state"), st);
  return TRUE;
}

static gboolean
parse_hyperv (DomainDef *def, xmlNode *h, GError **error)
{
  def->hyperv = TRUE;
  def->hyperv_mode = attr (h, "mode");
  if (def->hyperv_mode && !g_str_equal (def->hyperv_mode, "custom"))
    return unsupported_value (error, _("Hyper-V mode"), def->hyperv_mode);
  for (xmlNode *c = h->children; c; c = c->next)
    {
      if (c->type != XML_ELEMENT_NODE)
        continue;
      int f;
      for (f = 0; f < HV_COUNT; f++)
        if (g_str_equal ((const char *) c->name, domain_hyperv_names[f]))
          break;
      if (f == HV_COUNT)
        return unsupported (error, (const char *) c->name, "hyperv");
      if (!parse_state (c, &def->hv[f], error))
        return FALSE;
      if (f == HV_SPINLOCKS && def->hv[f] == FEATURE_ON)
        {
          g_autofree char *r = attr (c, "retries");
          guint64 v = 0;
          if (!r || !g_ascii_string_to_unsigned (r, 10, 4095, G_MAXUINT32, &v, NULL))
            return unsupported_value (error, _("Hyper-V spinlock retries (at least 4095)"),
                                      r ? r : "");
          def->hv_spinlock_retries = (guint) v;
        }
      else if (f == HV_VENDOR_ID && def->hv[f] == FEATURE_ON)
        {
          def->hv_vendor_id = attr (c, "value");
          if (!def->hv_vendor_id || !*def->hv_vendor_id || strlen (def->hv_vendor_id) > 12)
            return unsupported_value (error, _("Hyper-V vendor_id (1 to 12 characters)"),
                                      def->hv_vendor_id ? def->hv_vendor_id : "");
        }
      else if (f == HV_STIMER)
        for (xmlNode *d = c->children; d; d = d->next)
          {
            if (d->type != XML_ELEMENT_NODE)
              continue;
            if (!is_el (d, "direct"))
              return unsupported (error, (const char *) d->name, "stimer");
            if (!parse_state (d, &def->hv_stimer_direct, error))
              return FALSE;
          }
    }
  return TRUE;
}

static gboolean
parse_features (DomainDef *def, xmlNode *f, GError **error)
{
  def->acpi = def->apic = def->pae = FALSE;
  for (xmlNode *c = f->children; c; c = c->next)
    {
      if (c->type != XML_ELEMENT_NODE)
        continue;
      if (is_el (c, "acpi"))
        def->acpi = TRUE;
      else if (is_el (c, "apic"))
        def->apic = TRUE;
      else if (is_el (c, "pae"))
        def->pae = TRUE;
      else if (is_el (c, "vmport"))
        {
          if (!parse_state (c, &def->vmport, error))
            return FALSE;
          if (def->vmport == FEATURE_ON)
            return unsupported_value (error, _("feature"), "vmport");
        }
      else if (is_el (c, "smm"))
        {
          if (!parse_state (c, &def->smm, error))
            return FALSE;
        }
      else if (is_el (c, "hyperv"))
        {
          if (!parse_hyperv (def, c, error))
            return FALSE;
        }
      else if (is_el (c, "kvm"))
        {
          for (xmlNode *k = c->children; k; k = k->next)
            {
              if (k->type != XML_ELEMENT_NODE)
                continue;
              if (!is_el (k, "hidden"))
                return unsupported (error, (const char *) k->name, "kvm");
              if (!parse_state (k, &def->kvm_hidden, error))
                return FALSE;
            }
        }
      else
        return unsupported (error, (const char *) c->name, "features");
    }
  return TRUE;
}

static gboolean
is_oriel_el (xmlNode *n, const char *name)
{
  return is_el (n, name) && n->ns && n->ns->href
         && strcmp ((const char *) n->ns->href, ORIEL_DOMAIN_XMLNS) == 0;
}

static const char *const dualboot_roles[] = { "esp", "msr", "windows", "recovery", NULL };

/* <oriel:dualboot mode= fingerprint= discard-trial=> with its
 * <oriel:partition number= role=/> children. */
static gboolean
parse_dualboot (DomainDisk *d, xmlNode *n, GError **error)
{
  if (d->dualboot)
    return xml_error (error, _("a <disk> has at most one <oriel:dualboot>"));
  DomainDualboot *db = g_new0 (DomainDualboot, 1);
  db->partitions = g_ptr_array_new_with_free_func (dualboot_partition_free);
  d->dualboot = db;
  db->mode = attr (n, "mode");
  if (!db->mode)
    db->mode = g_strdup ("trial");
  if (!g_str_equal (db->mode, "trial") && !g_str_equal (db->mode, "real"))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR,
                   _("invalid mode '%s' in <oriel:dualboot> (trial or real)"), db->mode);
      return FALSE;
    }
  db->fingerprint = attr (n, "fingerprint");
  if (db->fingerprint)
    {
      gboolean hex = strlen (db->fingerprint) == 64;
      for (char *c = db->fingerprint; hex && *c; c++)
        {
          hex = g_ascii_isxdigit (*c);
          *c = g_ascii_tolower (*c);
        }
      if (!hex)
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR,
                       _("invalid fingerprint '%s' in <oriel:dualboot> (64 hexadecimal digits of SHA-256)"),
                       db->fingerprint);
          return FALSE;
        }
    }
  FeatureState discard;
  if (!parse_yes_no (n, "discard-trial", &discard, error))
    return FALSE;
  db->discard_trial = discard == FEATURE_ON;
  g_autofree char *confirm = attr (n, "confirm");
  if (confirm)
    {
      if (!g_str_equal (confirm, "bitlocker"))
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR,
                       _("invalid confirm '%s' in <oriel:dualboot> (bitlocker)"), confirm);
          return FALSE;
        }
      db->confirm_bitlocker = TRUE;
    }
  for (xmlNode *c = n->children; c; c = c->next)
    {
      if (c->type != XML_ELEMENT_NODE)
        continue;
      if (!is_oriel_el (c, "partition"))
        return unsupported (error, (const char *) c->name, "oriel:dualboot");
      g_autofree char *number = attr (c, "number");
      g_autofree char *role = attr (c, "role");
      guint64 num = 0;
      if (!number || !g_ascii_string_to_unsigned (number, 10, 1, 256, &num, NULL))
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR,
                       _("invalid partition number '%s' in <oriel:partition> (1 to 256)"),
                       number ? number : "");
          return FALSE;
        }
      if (!role || !g_strv_contains (dualboot_roles, role))
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR,
                       _("invalid role '%s' of partition %s in <oriel:partition> (esp, msr, windows or recovery)"),
                       role ? role : "", number);
          return FALSE;
        }
      for (guint i = 0; i < db->partitions->len; i++)
        if (((DomainDualbootPartition *) db->partitions->pdata[i])->number == (int) num)
          {
            g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR,
                         _("partition %s is listed twice in <oriel:dualboot>"), number);
            return FALSE;
          }
      DomainDualbootPartition *part = g_new0 (DomainDualbootPartition, 1);
      part->number = (int) num;
      part->role = g_steal_pointer (&role);
      g_ptr_array_add (db->partitions, part);
    }
  gboolean windows = FALSE;
  for (guint i = 0; i < db->partitions->len; i++)
    windows |= g_str_equal (((DomainDualbootPartition *) db->partitions->pdata[i])->role, "windows");
  if (!windows)
    return xml_error (error, _("<oriel:dualboot> lists no partition with role 'windows'"));
  return TRUE;
}

static gboolean
parse_disk (DomainDef *def, xmlNode *n, GError **error)
{
  DomainDisk *d = g_new0 (DomainDisk, 1);
  g_ptr_array_add (def->disks, d);
  d->type = attr (n, "type");
  d->device = attr (n, "device");
  if (!d->type)
    d->type = g_strdup ("file");
  if (!d->device)
    d->device = g_strdup ("disk");
  gboolean volume = g_str_equal (d->type, "volume");
  if (!g_str_equal (d->type, "file") && !g_str_equal (d->type, "block") && !volume)
    return unsupported_value (error, _("disk type"), d->type);
  if (!g_str_equal (d->device, "disk") && !g_str_equal (d->device, "cdrom"))
    return unsupported_value (error, _("disk device"), d->device);
  for (xmlNode *c = n->children; c; c = c->next)
    {
      if (c->type != XML_ELEMENT_NODE)
        continue;
      if (is_el (c, "driver"))
        {
          g_free (d->driver_type);
          d->driver_type = attr (c, "type");
        }
      else if (is_el (c, "source"))
        {
          if (volume)
            {
              g_free (d->source_pool); d->source_pool = attr (c, "pool");
              g_free (d->source_volume); d->source_volume = attr (c, "volume");
              if (!d->source_pool || !d->source_volume)
                return xml_error (error, _("a <disk type='volume'> needs <source pool=... volume=.../>"));
            }
          else
            {
              g_free (d->source);
              d->source = attr (c, g_str_equal (d->type, "block") ? "dev" : "file");
            }
        }
      else if (is_el (c, "target"))
        {
          g_free (d->target_dev); d->target_dev = attr (c, "dev");
          g_free (d->target_bus); d->target_bus = attr (c, "bus");
        }
      else if (is_el (c, "readonly"))
        d->readonly = TRUE;
      else if (is_el (c, "serial"))
        { g_free (d->serial); d->serial = text (c); }
      else if (is_el (c, "boot"))
        {
          g_autofree char *o = attr (c, "order");
          d->boot_order = o ? atoi (o) : 0;
        }
      else if (is_oriel_el (c, "dualboot"))
        {
          if (!parse_dualboot (d, c, error))
            return FALSE;
        }
      else if (is_el (c, "address") || is_el (c, "alias"))
        ; /* placement is chosen by the VMM */
      else
        return unsupported (error, (const char *) c->name, "disk");
    }
  if (!d->target_dev)
    return xml_error (error, _("missing <target dev=...> in <disk>"));
  if (!d->driver_type)
    d->driver_type = g_strdup ("raw");
  if (!g_str_equal (d->driver_type, "raw") && !g_str_equal (d->driver_type, "qcow2"))
    return unsupported_value (error, _("disk format"), d->driver_type);
  if (!d->target_bus)
    d->target_bus = g_strdup (g_str_has_prefix (d->target_dev, "vd") ? "virtio"
                              : g_str_has_prefix (d->target_dev, "hd") ? "ide"
                              : g_str_has_prefix (d->target_dev, "nvme") ? "nvme" : "sata");
  if (!g_str_equal (d->target_bus, "virtio") && !g_str_equal (d->target_bus, "sata")
      && !g_str_equal (d->target_bus, "ide") && !g_str_equal (d->target_bus, "nvme"))
    return unsupported_value (error, _("disk bus"), d->target_bus);
  if (g_str_equal (d->target_bus, "nvme") && g_str_equal (d->device, "cdrom"))
    return unsupported_value (error, _("CD-ROM bus"), d->target_bus);
  if (g_str_equal (d->device, "cdrom"))
    d->readonly = TRUE;
  else if (!d->source && !d->source_volume)
    return xml_error (error, _("missing <source> in <disk>"));
  if (d->dualboot)
    {
      if (!g_str_equal (d->type, "block") || !g_str_equal (d->device, "disk"))
        return xml_error (error, _("<oriel:dualboot> needs <disk type='block' device='disk'>"));
      if (!g_path_is_absolute (d->source))
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR,
                       _("the dual-boot disk's <source dev='%s'> is not an absolute path"), d->source);
          return FALSE;
        }
      if (!g_str_equal (d->driver_type, "raw"))
        return xml_error (error, _("the dual-boot disk's <driver type=...> must be 'raw'"));
      if (d->readonly)
        return xml_error (error, _("<readonly/> does not go with <oriel:dualboot>: trial mode keeps the disk unchanged"));
      if (g_str_equal (d->target_bus, "ide"))
        return unsupported_value (error, _("dual-boot disk bus (nvme, sata or virtio)"), d->target_bus);
      if (def)
        for (guint i = 0; i + 1 < def->disks->len; i++)
          if (((DomainDisk *) def->disks->pdata[i])->dualboot)
            return xml_error (error, _("a domain has at most one disk with <oriel:dualboot>"));
    }
  return TRUE;
}

static gboolean
parse_interface (DomainDef *def, xmlNode *n, DomainParseFlags flags, GError **error)
{
  DomainNic *nic = g_new0 (DomainNic, 1);
  gboolean upgrade_e1000e = FALSE;
  g_ptr_array_add (def->nics, nic);
  nic->type = attr (n, "type");
  if (!nic->type || !(g_str_equal (nic->type, "user") || g_str_equal (nic->type, "network")
                      || g_str_equal (nic->type, "bridge")))
    return unsupported_value (error, _("interface type"), nic->type ? nic->type : "");
  for (xmlNode *c = n->children; c; c = c->next)
    {
      if (c->type == XML_COMMENT_NODE && c->content)
        {
          /* The note older versions left when they ran e1000e as e1000:
           * such a NIC is an e1000e again. */
          char requested[32];
          if (sscanf ((const char *) c->content, " model '%31[a-z0-9]' was requested", requested) == 1)
            upgrade_e1000e = g_str_equal (requested, "e1000e");
          continue;
        }
      if (c->type != XML_ELEMENT_NODE)
        continue;
      if (is_el (c, "source"))
        {
          g_free (nic->source);
          nic->source = attr (c, g_str_equal (nic->type, "bridge") ? "bridge" : "network");
        }
      else if (is_el (c, "mac"))
        { g_free (nic->mac); nic->mac = attr (c, "address"); }
      else if (is_el (c, "model"))
        { g_free (nic->model); nic->model = attr (c, "type"); }
      else if (is_el (c, "target"))
        {
          /* The device name is the daemon's choice; only live state keeps it. */
          if (flags & DOMAIN_PARSE_LIVE)
            { g_free (nic->live_target); nic->live_target = attr (c, "dev"); }
        }
      else if (is_el (c, "address") || is_el (c, "alias"))
        ;
      else
        return unsupported (error, (const char *) c->name, "interface");
    }
  if (g_str_equal (nic->type, "network") && !nic->source)
    return xml_error (error, _("missing <source network=...> in <interface type='network'>"));
  if (g_str_equal (nic->type, "bridge") && !nic->source)
    return xml_error (error, _("missing <source bridge=...> in <interface type='bridge'>"));
  if (!nic->model)
    nic->model = g_strdup ("virtio");
  if (upgrade_e1000e && g_str_equal (nic->model, "e1000"))
    {
      g_free (nic->model);
      nic->model = g_strdup ("e1000e");
    }
  if (!g_str_equal (nic->model, "virtio") && !g_str_equal (nic->model, "e1000")
      && !g_str_equal (nic->model, "e1000e"))
    return unsupported_value (error, _("NIC model"), nic->model);
  if (nic->mac)
    {
      guint8 m[6];
      if (sscanf (nic->mac, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx",
                  &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6 || strlen (nic->mac) != 17)
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR,
                       _("invalid MAC address '%s'"), nic->mac);
          return FALSE;
        }
      for (char *p = nic->mac; *p; p++)
        *p = g_ascii_tolower (*p);
    }
  else
    nic->mac = domain_mac_generate ();
  return TRUE;
}

static gboolean
parse_chardev (DomainDef *def, xmlNode *n, DomainParseFlags flags, GError **error)
{
  g_autofree char *type = attr (n, "type");
  if (!type || !g_str_equal (type, "pty"))
    return unsupported_value (error, _("character device type"), type ? type : "");
  for (xmlNode *c = n->children; c; c = c->next)
    {
      if (c->type != XML_ELEMENT_NODE)
        continue;
      if (is_el (c, "target"))
        {
          g_autofree char *tt = attr (c, "type");
          g_autofree char *port = attr (c, "port");
          if (is_el (n, "console") && tt && !g_str_equal (tt, "serial"))
            return unsupported_value (error, _("console target type"), tt);
          if (port && !g_str_equal (port, "0"))
            return unsupported_value (error, _("serial port"), port);
        }
      else if (is_el (c, "source"))
        {
          if (flags & DOMAIN_PARSE_LIVE)
            {
              g_free (def->live_pty);
              def->live_pty = attr (c, "path");
            }
        }
      else if (is_el (c, "alias") || is_el (c, "address"))
        ;
      else
        return unsupported (error, (const char *) c->name, (const char *) n->name);
    }
  def->has_serial = TRUE;
  return TRUE;
}

static gboolean
parse_graphics (DomainDef *def, xmlNode *n, DomainParseFlags flags, GError **error)
{
  g_autofree char *type = attr (n, "type");
  if (!type || !g_str_equal (type, "vnc"))
    return unsupported_value (error, _("graphics type"), type ? type : "");
  if (def->has_vnc)
    return unsupported_value (error, _("graphics"), _("more than one VNC display"));
  def->has_vnc = TRUE;
  g_autofree char *autoport = attr (n, "autoport");
  g_autofree char *port = attr (n, "port");
  int p = port ? atoi (port) : -1;
  if (yes (autoport) || p <= 0)
    {
      def->vnc_port = -1;
      if ((flags & DOMAIN_PARSE_LIVE) && p > 0)
        def->live_vnc_port = p;
    }
  else
    {
      if (p < 5900 || p > 65535)
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR, _("invalid VNC port %d"), p);
          return FALSE;
        }
      def->vnc_port = p;
      if (flags & DOMAIN_PARSE_LIVE)
        def->live_vnc_port = p;
    }
  def->vnc_listen = attr (n, "listen");
  for (xmlNode *c = n->children; c; c = c->next)
    {
      if (c->type != XML_ELEMENT_NODE)
        continue;
      if (is_el (c, "listen"))
        {
          g_autofree char *lt = attr (c, "type");
          if (lt && !g_str_equal (lt, "address"))
            return unsupported_value (error, _("VNC listen type"), lt);
          char *a = attr (c, "address");
          if (a)
            { g_free (def->vnc_listen); def->vnc_listen = a; }
        }
      else if (is_el (c, "image") || is_el (c, "alias"))
        ;
      else
        return unsupported (error, (const char *) c->name, "graphics");
    }
  if (!def->vnc_listen)
    def->vnc_listen = g_strdup ("127.0.0.1");
  return TRUE;
}

static gboolean
parse_video (DomainDef *def, xmlNode *n, GError **error)
{
  for (xmlNode *c = n->children; c; c = c->next)
    {
      if (c->type != XML_ELEMENT_NODE)
        continue;
      if (is_el (c, "model"))
        {
          g_free (def->video_model);
          def->video_model = attr (c, "type");
          g_autofree char *vram = attr (c, "vram");
          def->video_vram = vram ? (guint) g_ascii_strtoull (vram, NULL, 10) : 16384;
        }
      else if (is_el (c, "address") || is_el (c, "alias"))
        ;
      else
        return unsupported (error, (const char *) c->name, "video");
    }
  if (!def->video_model)
    def->video_model = g_strdup ("vga");
  if (!g_str_equal (def->video_model, "vga") && !g_str_equal (def->video_model, "none"))
    return unsupported_value (error, _("video model"), def->video_model);
  if (!def->video_vram)
    def->video_vram = 16384;
  def->has_video = TRUE;
  return TRUE;
}

static gboolean parse_tpm (DomainDef *def, xmlNode *t, GError **error);

static gboolean
parse_devices (DomainDef *def, xmlNode *devs, DomainParseFlags flags, GError **error)
{
  for (xmlNode *c = devs->children; c; c = c->next)
    {
      if (c->type != XML_ELEMENT_NODE)
        continue;
      if (is_el (c, "emulator"))
        { g_free (def->emulator); def->emulator = text (c); }
      else if (is_el (c, "disk"))
        {
          if (!parse_disk (def, c, error))
            return FALSE;
        }
      else if (is_el (c, "interface"))
        {
          if (!parse_interface (def, c, flags, error))
            return FALSE;
        }
      else if (is_el (c, "serial") || is_el (c, "console"))
        {
          if (!parse_chardev (def, c, flags, error))
            return FALSE;
        }
      else if (is_el (c, "graphics"))
        {
          if (!parse_graphics (def, c, flags, error))
            return FALSE;
        }
      else if (is_el (c, "video"))
        {
          if (!parse_video (def, c, error))
            return FALSE;
        }
      else if (is_el (c, "input"))
        {
          DomainInput *in = g_new0 (DomainInput, 1);
          g_ptr_array_add (def->inputs, in);
          in->type = attr (c, "type");
          in->bus = attr (c, "bus");
          if (!in->type || !(g_str_equal (in->type, "tablet") || g_str_equal (in->type, "keyboard")
                             || g_str_equal (in->type, "mouse")))
            return unsupported_value (error, _("input type"), in->type ? in->type : "");
          if (!in->bus)
            in->bus = g_strdup (g_str_equal (in->type, "tablet") ? "usb" : "ps2");
          if (!g_str_equal (in->bus, "usb") && !g_str_equal (in->bus, "ps2")
              && !g_str_equal (in->bus, "virtio"))
            return unsupported_value (error, _("input bus"), in->bus);
        }
      else if (is_el (c, "controller"))
        {
          g_autofree char *t = attr (c, "type");
          if (!t || !(g_str_equal (t, "usb") || g_str_equal (t, "sata") || g_str_equal (t, "ide")
                      || g_str_equal (t, "pci") || g_str_equal (t, "virtio-serial")))
            return unsupported_value (error, _("controller type"), t ? t : "");
          if (g_str_equal (t, "usb"))
            {
              g_autofree char *idx = attr (c, "index");
              if (idx && !g_str_equal (idx, "0"))
                return unsupported_value (error, _("USB controller index (one USB controller)"), idx);
              g_free (def->usb_model);
              def->usb_model = attr (c, "model");
            }
          g_ptr_array_add (def->controllers_xml, node_dump (c));
        }
      else if (is_el (c, "memballoon"))
        {
          def->has_balloon = TRUE;
          g_free (def->balloon_model);
          def->balloon_model = attr (c, "model");
          if (!def->balloon_model)
            def->balloon_model = g_strdup ("virtio");
          if (!g_str_equal (def->balloon_model, "virtio") && !g_str_equal (def->balloon_model, "none"))
            return unsupported_value (error, _("memory balloon model"), def->balloon_model);
        }
      else if (is_el (c, "tpm"))
        {
          if (!parse_tpm (def, c, error))
            return FALSE;
        }
      else if (is_el (c, "rng"))
        {
          g_autofree char *m = attr (c, "model");
          if (!m || !g_str_equal (m, "virtio"))
            return unsupported_value (error, _("RNG model"), m ? m : "");
          def->has_rng = TRUE;
        }
      else
        return unsupported (error, (const char *) c->name, "devices");
    }
  return TRUE;
}

/* A TPM 2.0 with the CRB interface, emulated by swtpm: what virt-install
 * and virt-manager write for Windows 11. */
static gboolean
parse_tpm (DomainDef *def, xmlNode *t, GError **error)
{
  if (def->has_tpm)
    return unsupported_value (error, _("TPM"), _("a second one"));
  g_autofree char *model = attr (t, "model");
  if (model && !g_str_equal (model, "tpm-crb"))
    return unsupported_value (error, _("TPM model (tpm-crb only)"), model);
  gboolean backend = FALSE;
  for (xmlNode *c = t->children; c; c = c->next)
    {
      if (c->type != XML_ELEMENT_NODE)
        continue;
      if (!is_el (c, "backend") || backend)
        return unsupported (error, (const char *) c->name, "tpm");
      backend = TRUE;
      g_autofree char *type = attr (c, "type");
      g_autofree char *version = attr (c, "version");
      if (!type || !g_str_equal (type, "emulator"))
        return unsupported_value (error, _("TPM backend (emulator only)"), type ? type : "");
      if (version && !g_str_equal (version, "2.0"))
        return unsupported_value (error, _("TPM version (2.0 only)"), version);
      FeatureState persistent;
      if (!parse_yes_no (c, "persistent_state", &persistent, error))
        return FALSE;
      def->tpm_persistent_state = persistent == FEATURE_ON;
      for (xmlNode *d = c->children; d; d = d->next)
        if (d->type == XML_ELEMENT_NODE)
          return unsupported (error, (const char *) d->name, "backend");
    }
  if (!backend)
    return unsupported_value (error, _("TPM backend"), _("none"));
  def->has_tpm = TRUE;
  return TRUE;
}

static gboolean
parse_root (DomainDef *def, xmlNode *root, DomainParseFlags flags, GError **error)
{
  if (!is_el (root, "domain"))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR,
                   _("expected root element <domain>, found <%s>"), (const char *) root->name);
      return FALSE;
    }
  g_autofree char *type = attr (root, "type");
  if (!type)
    return xml_error (error, _("missing domain type attribute"));
  if (!g_str_equal (type, "kvm") && !g_str_equal (type, "oriel"))
    return unsupported_value (error, _("domain type"), type);

  gboolean have_uuid = FALSE, have_vcpu = FALSE, have_os = FALSE;
  def->acpi = def->apic = FALSE;
  for (xmlNode *c = root->children; c; c = c->next)
    {
      if (c->type != XML_ELEMENT_NODE)
        continue;
      if (is_el (c, "name"))
        { g_free (def->name); def->name = text (c); }
      else if (is_el (c, "uuid"))
        {
          g_autofree char *u = text (c);
          if (!domain_uuid_parse (u, def->uuid))
            {
              g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR, _("malformed UUID '%s'"), u);
              return FALSE;
            }
          have_uuid = TRUE;
        }
      else if (is_el (c, "title"))
        { g_free (def->title); def->title = text (c); }
      else if (is_el (c, "description"))
        { g_free (def->description); def->description = text (c); }
      else if (is_el (c, "metadata"))
        { g_free (def->metadata_xml); def->metadata_xml = node_dump (c); }
      else if (is_el (c, "memory") || is_el (c, "maxMemory"))
        {
          if (is_el (c, "maxMemory"))
            return unsupported (error, "maxMemory", "domain");
          if (!parse_memory (c, &def->memory_kib, error))
            return FALSE;
        }
      else if (is_el (c, "currentMemory"))
        {
          if (!parse_memory (c, &def->current_memory_kib, error))
            return FALSE;
        }
      else if (is_el (c, "vcpu"))
        {
          g_autofree char *v = text (c);
          g_autofree char *cur = attr (c, "current");
          char *end;
          guint64 n = g_ascii_strtoull (v, &end, 10);
          if (!*v || *end || n < 1 || n > 64)
            {
              g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR,
                           _("invalid vCPU count '%s' (Oriel supports 1 to 64)"), v);
              return FALSE;
            }
          if (cur && strtoul (cur, NULL, 10) != n)
            return unsupported_value (error, _("vcpu current"), cur);
          def->vcpus = n;
          have_vcpu = TRUE;
        }
      else if (is_el (c, "os"))
        {
          have_os = TRUE;
          if (!parse_os (def, c, error))
            return FALSE;
        }
      else if (is_el (c, "features"))
        {
          if (!parse_features (def, c, error))
            return FALSE;
        }
      else if (is_el (c, "cpu"))
        { g_free (def->cpu_xml); def->cpu_xml = node_dump (c); }
      else if (is_el (c, "clock"))
        {
          g_free (def->clock_offset);
          def->clock_offset = attr (c, "offset");
          if (def->clock_offset && !g_str_equal (def->clock_offset, "utc")
              && !g_str_equal (def->clock_offset, "localtime"))
            return unsupported_value (error, _("clock offset"), def->clock_offset);
          GString *s = g_string_new (NULL);
          for (xmlNode *t = c->children; t; t = t->next)
            if (t->type == XML_ELEMENT_NODE)
              {
                if (!is_el (t, "timer"))
                  return unsupported (error, (const char *) t->name, "clock");
                g_autofree char *tname = attr (t, "name");
                if (tname && g_str_equal (tname, "hypervclock"))
                  {
                    g_autofree char *present = attr (t, "present");
                    def->hv_clock = !present || yes (present) ? FEATURE_ON : FEATURE_OFF;
                  }
                g_autofree char *d = node_dump (t);
                g_string_append_printf (s, "    %s\n", d);
              }
          g_free (def->clock_xml);
          def->clock_xml = g_string_free (s, FALSE);
        }
      else if (is_el (c, "pm"))
        { g_free (def->pm_xml); def->pm_xml = node_dump (c); }
      else if (is_el (c, "on_poweroff"))
        { g_free (def->on_poweroff); def->on_poweroff = text (c); }
      else if (is_el (c, "on_reboot"))
        { g_free (def->on_reboot); def->on_reboot = text (c); }
      else if (is_el (c, "on_crash"))
        { g_free (def->on_crash); def->on_crash = text (c); }
      else if (is_el (c, "devices"))
        {
          if (!parse_devices (def, c, flags, error))
            return FALSE;
        }
      else if (is_el (c, "resource") || is_el (c, "seclabel"))
        ; /* accepted and ignored: no cgroups partition or labels in Oriel */
      else
        return unsupported (error, (const char *) c->name, "domain");
    }

  if (!def->name)
    return xml_error (error, _("missing <name> in domain XML"));
  if (!domain_name_is_valid (def->name))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR, _("invalid domain name '%s'"), def->name);
      return FALSE;
    }
  if (!def->memory_kib)
    return xml_error (error, _("missing or zero <memory> in domain XML"));
  if (!def->current_memory_kib || def->current_memory_kib > def->memory_kib)
    def->current_memory_kib = def->memory_kib;
  if (!have_vcpu)
    def->vcpus = 1;
  if (!have_os)
    return xml_error (error, _("missing <os> in domain XML"));
  if (!have_uuid)
    {
      for (int i = 0; i < 16; i++)
        def->uuid[i] = g_random_int_range (0, 256);
      def->uuid[6] = (def->uuid[6] & 0x0f) | 0x40;
      def->uuid[8] = (def->uuid[8] & 0x3f) | 0x80;
    }
  if ((def->initrd || def->cmdline) && !def->kernel)
    return xml_error (error, _("<initrd> and <cmdline> need <kernel>"));
  const char *acts[3] = { def->on_poweroff, def->on_reboot, def->on_crash };
  for (int i = 0; i < 3; i++)
    if (acts[i] && !g_str_equal (acts[i], "destroy") && !g_str_equal (acts[i], "restart"))
      return unsupported_value (error, _("lifecycle action"), acts[i]);
  return TRUE;
}

static void
silent_xml_error (void *ctx, const xmlError *e)
{
}

DomainDef *
domain_def_parse (const char *xml, gsize len, DomainParseFlags flags, GError **error)
{
  if (len > G_MAXINT)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR, _("domain XML is too large"));
      return NULL;
    }
  xmlSetStructuredErrorFunc (NULL, (xmlStructuredErrorFunc) silent_xml_error);
  xmlDoc *doc = xmlReadMemory (xml, (int) len, "domain.xml", NULL,
                               XML_PARSE_NONET | XML_PARSE_NOBLANKS);
  if (!doc)
    {
      const xmlError *e = xmlGetLastError ();
      g_autofree char *why = g_strstrip (g_strdup (e && e->message ? e->message : ""));
      g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR,
                   _("XML error: malformed domain XML at line %d: %s"), e ? e->line : 0, why);
      xmlResetLastError ();
      return NULL;
    }
  xmlNode *root = xmlDocGetRootElement (doc);
  DomainDef *def = domain_def_new ();
  gboolean ok = root && parse_root (def, root, flags, error);
  if (!root)
    g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR, _("empty domain XML"));
  xmlFreeDoc (doc);
  if (!ok)
    {
      domain_def_free (def);
      return NULL;
    }
  return def;
}

DomainDisk *
domain_disk_parse (const char *xml, gsize len, GError **error)
{
  if (len > G_MAXINT)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR, _("device XML is too large"));
      return NULL;
    }
  xmlSetStructuredErrorFunc (NULL, (xmlStructuredErrorFunc) silent_xml_error);
  xmlDoc *doc = xmlReadMemory (xml, (int) len, "device.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOBLANKS);
  if (!doc)
    {
      const xmlError *e = xmlGetLastError ();
      g_autofree char *why = g_strstrip (g_strdup (e && e->message ? e->message : ""));
      g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR,
                   _("XML error: malformed device XML at line %d: %s"), e ? e->line : 0, why);
      xmlResetLastError ();
      return NULL;
    }
  xmlNode *root = xmlDocGetRootElement (doc);
  DomainDisk *disk = NULL;
  if (!root || !is_el (root, "disk"))
    g_set_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                 _("unsupported configuration: device <%s> cannot be changed (only <disk> is)"),
                 root ? (const char *) root->name : "");
  else
    {
      g_autoptr (DomainDef) tmp = domain_def_new ();
      if (parse_disk (tmp, root, error))
        disk = g_ptr_array_steal_index (tmp->disks, 0);
    }
  xmlFreeDoc (doc);
  return disk;
}

/* ---- formatting ---- */

static void
esc (GString *s, const char *v)
{
  g_autofree char *e = g_markup_escape_text (v ? v : "", -1);
  g_string_append (s, e);
}

static void
element (GString *s, const char *indent, const char *name, const char *value)
{
  if (!value)
    return;
  g_string_append_printf (s, "%s<%s>", indent, name);
  esc (s, value);
  g_string_append_printf (s, "</%s>\n", name);
}

static const char *
state_name (FeatureState st)
{
  return st == FEATURE_OFF ? "off" : "on";
}

static void
format_hyperv (GString *s, const DomainDef *def)
{
  g_string_append (s, "    <hyperv");
  if (def->hyperv_mode)
    g_string_append_printf (s, " mode='%s'", def->hyperv_mode);
  gboolean any = FALSE;
  for (int f = 0; f < HV_COUNT; f++)
    any |= def->hv[f] != FEATURE_UNSET;
  if (!any)
    {
      g_string_append (s, "/>\n");
      return;
    }
  g_string_append (s, ">\n");
  for (int f = 0; f < HV_COUNT; f++)
    {
      if (def->hv[f] == FEATURE_UNSET)
        continue;
      g_string_append_printf (s, "      <%s state='%s'", domain_hyperv_names[f],
                              state_name (def->hv[f]));
      if (f == HV_SPINLOCKS && def->hv[f] == FEATURE_ON)
        g_string_append_printf (s, " retries='%u'", def->hv_spinlock_retries);
      if (f == HV_VENDOR_ID && def->hv[f] == FEATURE_ON)
        {
          g_string_append (s, " value='");
          esc (s, def->hv_vendor_id);
          g_string_append_c (s, '\'');
        }
      if (f == HV_STIMER && def->hv_stimer_direct != FEATURE_UNSET)
        g_string_append_printf (s, ">\n        <direct state='%s'/>\n      </stimer>\n",
                                state_name (def->hv_stimer_direct));
      else
        g_string_append (s, "/>\n");
    }
  g_string_append (s, "    </hyperv>\n");
}

static void
format_features (GString *s, const DomainDef *def)
{
  if (!(def->acpi || def->apic || def->pae || def->hyperv || def->kvm_hidden || def->smm ||
        def->vmport))
    return;
  g_string_append (s, "  <features>\n");
  if (def->acpi) g_string_append (s, "    <acpi/>\n");
  if (def->apic) g_string_append (s, "    <apic/>\n");
  if (def->pae) g_string_append (s, "    <pae/>\n");
  if (def->hyperv)
    format_hyperv (s, def);
  if (def->kvm_hidden)
    g_string_append_printf (s, "    <kvm>\n      <hidden state='%s'/>\n    </kvm>\n",
                            state_name (def->kvm_hidden));
  if (def->vmport)
    g_string_append_printf (s, "    <vmport state='%s'/>\n", state_name (def->vmport));
  if (def->smm)
    g_string_append_printf (s, "    <smm state='%s'/>\n", state_name (def->smm));
  g_string_append (s, "  </features>\n");
}

/* In libvirt's layout: <firmware>, <loader readonly secure type>, <nvram template>. */
static void
format_loader (GString *s, const DomainDef *def)
{
  if (def->fw_secure_boot || def->fw_enrolled_keys)
    {
      g_string_append (s, "    <firmware>\n");
      if (def->fw_enrolled_keys)
        g_string_append_printf (s, "      <feature enabled='%s' name='enrolled-keys'/>\n",
                                def->fw_enrolled_keys == FEATURE_ON ? "yes" : "no");
      if (def->fw_secure_boot)
        g_string_append_printf (s, "      <feature enabled='%s' name='secure-boot'/>\n",
                                def->fw_secure_boot == FEATURE_ON ? "yes" : "no");
      g_string_append (s, "    </firmware>\n");
    }
  if (def->loader || def->loader_type || def->loader_readonly || def->loader_secure)
    {
      g_string_append (s, "    <loader");
      if (def->loader_readonly)
        g_string_append_printf (s, " readonly='%s'", def->loader_readonly == FEATURE_ON ? "yes" : "no");
      if (def->loader_secure)
        g_string_append_printf (s, " secure='%s'", def->loader_secure == FEATURE_ON ? "yes" : "no");
      if (def->loader_type)
        g_string_append_printf (s, " type='%s'", def->loader_type);
      if (def->loader)
        {
          g_string_append_c (s, '>');
          esc (s, def->loader);
          g_string_append (s, "</loader>\n");
        }
      else
        g_string_append (s, "/>\n");
    }
  if (def->nvram || def->nvram_template)
    {
      g_string_append (s, "    <nvram");
      if (def->nvram_template)
        {
          g_string_append (s, " template='");
          esc (s, def->nvram_template);
          g_string_append_c (s, '\'');
        }
      if (def->nvram)
        {
          g_string_append_c (s, '>');
          esc (s, def->nvram);
          g_string_append (s, "</nvram>\n");
        }
      else
        g_string_append (s, "/>\n");
    }
}

/* discard-trial is a request to define, not part of the definition. */
static void
format_dualboot (GString *s, const DomainDualboot *db)
{
  g_string_append_printf (s, "      <oriel:dualboot mode='%s'", db->mode);
  if (db->fingerprint)
    g_string_append_printf (s, " fingerprint='%s'", db->fingerprint);
  if (db->confirm_bitlocker)
    g_string_append (s, " confirm='bitlocker'");
  g_string_append (s, ">\n");
  for (guint i = 0; i < db->partitions->len; i++)
    {
      const DomainDualbootPartition *p = db->partitions->pdata[i];
      g_string_append_printf (s, "        <oriel:partition number='%d' role='%s'/>\n", p->number, p->role);
    }
  g_string_append (s, "      </oriel:dualboot>\n");
}

char *
domain_def_format (const DomainDef *def, DomainFormatFlags flags, int id)
{
  GString *s = g_string_new ("<domain type='kvm'");
  gboolean live = flags & DOMAIN_FORMAT_LIVE;
  char uuid[37];
  domain_uuid_format (def->uuid, uuid);
  if (id >= 0)
    g_string_append_printf (s, " id='%d'", id);
  for (guint i = 0; i < def->disks->len; i++)
    if (((DomainDisk *) def->disks->pdata[i])->dualboot)
      {
        g_string_append (s, " xmlns:oriel='" ORIEL_DOMAIN_XMLNS "'");
        break;
      }
  g_string_append (s, ">\n");
  element (s, "  ", "name", def->name);
  element (s, "  ", "uuid", uuid);
  element (s, "  ", "title", def->title);
  element (s, "  ", "description", def->description);
  if (def->metadata_xml)
    g_string_append_printf (s, "  %s\n", def->metadata_xml);
  g_string_append_printf (s, "  <memory unit='KiB'>%" G_GUINT64_FORMAT "</memory>\n", def->memory_kib);
  g_string_append_printf (s, "  <currentMemory unit='KiB'>%" G_GUINT64_FORMAT "</currentMemory>\n",
                          def->current_memory_kib);
  g_string_append_printf (s, "  <vcpu placement='static'>%u</vcpu>\n", def->vcpus);

  g_string_append (s, "  <os");
  if (def->firmware)
    g_string_append_printf (s, " firmware='%s'", def->firmware);
  g_string_append (s, ">\n    <type arch='");
  esc (s, def->arch ? def->arch : "x86_64");
  g_string_append (s, "' machine='");
  esc (s, def->machine ? def->machine : "pc");
  g_string_append (s, "'>hvm</type>\n");
  format_loader (s, def);
  element (s, "    ", "kernel", def->kernel);
  element (s, "    ", "initrd", def->initrd);
  element (s, "    ", "cmdline", def->cmdline);
  for (guint i = 0; i < def->boot_devs->len; i++)
    {
      g_string_append (s, "    <boot dev='");
      esc (s, def->boot_devs->pdata[i]);
      g_string_append (s, "'/>\n");
    }
  if (def->bootmenu)
    g_string_append (s, "    <bootmenu enable='yes'/>\n");
  g_string_append (s, "  </os>\n");

  format_features (s, def);
  if (def->cpu_xml)
    g_string_append_printf (s, "  %s\n", def->cpu_xml);
  g_string_append_printf (s, "  <clock offset='%s'", def->clock_offset ? def->clock_offset : "utc");
  if (def->clock_xml && *def->clock_xml)
    g_string_append_printf (s, ">\n%s  </clock>\n", def->clock_xml);
  else
    g_string_append (s, "/>\n");
  element (s, "  ", "on_poweroff", def->on_poweroff ? def->on_poweroff : "destroy");
  element (s, "  ", "on_reboot", def->on_reboot ? def->on_reboot : "restart");
  element (s, "  ", "on_crash", def->on_crash ? def->on_crash : "destroy");
  if (def->pm_xml)
    g_string_append_printf (s, "  %s\n", def->pm_xml);

  g_string_append (s, "  <devices>\n");
  element (s, "    ", "emulator", def->emulator);
  for (guint i = 0; i < def->disks->len; i++)
    {
      DomainDisk *d = def->disks->pdata[i];
      g_string_append_printf (s, "    <disk type='%s' device='%s'>\n", d->type, d->device);
      g_string_append_printf (s, "      <driver name='oriel' type='%s'/>\n", d->driver_type);
      if (d->source_volume)
        {
          g_string_append (s, "      <source pool='");
          esc (s, d->source_pool);
          g_string_append (s, "' volume='");
          esc (s, d->source_volume);
          g_string_append (s, "'/>\n");
        }
      else if (d->source)
        {
          g_string_append_printf (s, "      <source %s='", g_str_equal (d->type, "block") ? "dev" : "file");
          esc (s, d->source);
          g_string_append (s, "'/>\n");
        }
      g_string_append (s, "      <target dev='");
      esc (s, d->target_dev);
      g_string_append_printf (s, "' bus='%s'/>\n", d->target_bus);
      if (d->readonly)
        g_string_append (s, "      <readonly/>\n");
      element (s, "      ", "serial", d->serial);
      if (d->boot_order > 0)
        g_string_append_printf (s, "      <boot order='%d'/>\n", d->boot_order);
      if (d->dualboot)
        format_dualboot (s, d->dualboot);
      g_string_append (s, "    </disk>\n");
    }
  for (guint i = 0; i < def->controllers_xml->len; i++)
    g_string_append_printf (s, "    %s\n", (char *) def->controllers_xml->pdata[i]);
  for (guint i = 0; i < def->nics->len; i++)
    {
      DomainNic *n = def->nics->pdata[i];
      g_string_append_printf (s, "    <interface type='%s'>\n", n->type);
      g_string_append_printf (s, "      <mac address='%s'/>\n", n->mac);
      if (n->source)
        {
          g_string_append_printf (s, "      <source %s='", g_str_equal (n->type, "bridge") ? "bridge" : "network");
          esc (s, n->source);
          g_string_append (s, "'/>\n");
        }
      if (live && n->live_target)
        {
          g_string_append (s, "      <target dev='");
          esc (s, n->live_target);
          g_string_append (s, "'/>\n");
        }
      g_string_append_printf (s, "      <model type='%s'/>\n", n->model);
      g_string_append (s, "    </interface>\n");
    }
  if (def->has_serial)
    {
      const char *pty = live ? def->live_pty : NULL;
      g_string_append (s, "    <serial type='pty'>\n");
      if (pty)
        {
          g_string_append (s, "      <source path='");
          esc (s, pty);
          g_string_append (s, "'/>\n");
        }
      g_string_append (s, "      <target port='0'/>\n    </serial>\n");
      g_string_append (s, "    <console type='pty'");
      if (pty)
        {
          g_string_append (s, " tty='");
          esc (s, pty);
          g_string_append (s, "'");
        }
      g_string_append (s, ">\n");
      if (pty)
        {
          g_string_append (s, "      <source path='");
          esc (s, pty);
          g_string_append (s, "'/>\n");
        }
      g_string_append (s, "      <target type='serial' port='0'/>\n    </console>\n");
    }
  for (guint i = 0; i < def->inputs->len; i++)
    {
      DomainInput *in = def->inputs->pdata[i];
      g_string_append_printf (s, "    <input type='%s' bus='%s'/>\n", in->type, in->bus);
    }
  if (def->has_vnc)
    {
      int port = def->vnc_port;
      if (live && def->live_vnc_port > 0)
        port = def->live_vnc_port;
      g_string_append_printf (s, "    <graphics type='vnc' port='%d' autoport='%s' listen='",
                              port, def->vnc_port < 0 ? "yes" : "no");
      esc (s, def->vnc_listen);
      g_string_append (s, "'>\n      <listen type='address' address='");
      esc (s, def->vnc_listen);
      g_string_append (s, "'/>\n    </graphics>\n");
    }
  if (def->has_video)
    g_string_append_printf (s, "    <video>\n      <model type='%s' vram='%u' heads='1' primary='yes'/>\n    </video>\n",
                            def->video_model, def->video_vram);
  if (def->has_balloon)
    g_string_append_printf (s, "    <memballoon model='%s'/>\n", def->balloon_model);
  if (def->has_tpm)
    g_string_append_printf (s, "    <tpm model='tpm-crb'>\n      <backend type='emulator' version='2.0'%s/>\n    </tpm>\n",
                            def->tpm_persistent_state ? " persistent_state='yes'" : "");
  if (def->has_rng)
    g_string_append (s, "    <rng model='virtio'>\n      <backend model='random'>/dev/urandom</backend>\n    </rng>\n");
  g_string_append (s, "  </devices>\n</domain>\n");
  return g_string_free (s, FALSE);
}

DomainDef *
domain_def_copy (const DomainDef *def)
{
  g_autofree char *xml = domain_def_format (def, DOMAIN_FORMAT_LIVE, -1);
  g_autoptr (GError) error = NULL;
  DomainDef *copy = domain_def_parse (xml, strlen (xml), DOMAIN_PARSE_LIVE, &error);
  g_assert_no_error (error);
  return copy;
}
