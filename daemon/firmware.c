#include "firmware.h"
#include "virt-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* OVMF splits one flash image into code and variables; the two together
 * fill 1, 2 or 4 MiB (its FD_SIZE_*MB builds). */
#define FLASH_BLOCK 4096
#define FLASH_MAX (4u << 20)

static void
descriptor_free (gpointer p)
{
  FirmwareDescriptor *fw = p;
  g_free (fw->path); g_free (fw->code); g_free (fw->vars);
  g_strfreev (fw->machines);
  g_free (fw);
}

static gboolean
array_has_string (JsonArray *a, const char *s)
{
  for (guint i = 0; a && i < json_array_get_length (a); i++)
    {
      JsonNode *n = json_array_get_element (a, i);
      if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
          && g_str_equal (json_node_get_string (n), s))
        return TRUE;
    }
  return FALSE;
}

static JsonObject *
member_object (JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static JsonArray *
member_array (JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static const char *
member_string (JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  if (!n || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

/* One descriptor, or NULL if it is not one Oriel can use (a reason in
 * *why for the log when it is malformed rather than merely different). */
static FirmwareDescriptor *
descriptor_parse (const char *path, char **why)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  if (!json_parser_load_from_file (parser, path, &error))
    {
      *why = g_strdup (error->message);
      return NULL;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    {
      *why = g_strdup (_("not a JSON object"));
      return NULL;
    }
  JsonObject *o = json_node_get_object (root);
  if (!array_has_string (member_array (o, "interface-types"), "uefi"))
    return NULL;
  JsonObject *mapping = member_object (o, "mapping");
  const char *device = member_string (mapping, "device");
  const char *mode = member_string (mapping, "mode");
  if (!device || !g_str_equal (device, "flash") || (mode && !g_str_equal (mode, "split")))
    return NULL;
  JsonObject *exe = member_object (mapping, "executable");
  JsonObject *tmpl = member_object (mapping, "nvram-template");
  const char *code = member_string (exe, "filename");
  const char *vars = member_string (tmpl, "filename");
  const char *fmt_code = member_string (exe, "format");
  const char *fmt_vars = member_string (tmpl, "format");
  if (!code || !vars)
    {
      *why = g_strdup (_("a flash mapping without executable or nvram-template filename"));
      return NULL;
    }
  if ((fmt_code && !g_str_equal (fmt_code, "raw")) || (fmt_vars && !g_str_equal (fmt_vars, "raw")))
    return NULL;
  GPtrArray *machines = g_ptr_array_new ();
  JsonArray *targets = member_array (o, "targets");
  for (guint i = 0; targets && i < json_array_get_length (targets); i++)
    {
      JsonNode *tn = json_array_get_element (targets, i);
      JsonObject *t = JSON_NODE_HOLDS_OBJECT (tn) ? json_node_get_object (tn) : NULL;
      const char *arch = member_string (t, "architecture");
      if (!arch || !g_str_equal (arch, "x86_64"))
        continue;
      JsonArray *ms = member_array (t, "machines");
      for (guint j = 0; ms && j < json_array_get_length (ms); j++)
        {
          JsonNode *mn = json_array_get_element (ms, j);
          if (JSON_NODE_HOLDS_VALUE (mn) && json_node_get_value_type (mn) == G_TYPE_STRING)
            g_ptr_array_add (machines, g_strdup (json_node_get_string (mn)));
        }
    }
  if (!machines->len)
    {
      g_ptr_array_free (machines, TRUE);
      return NULL;
    }
  g_ptr_array_add (machines, NULL);
  FirmwareDescriptor *fw = g_new0 (FirmwareDescriptor, 1);
  fw->path = g_strdup (path);
  fw->code = g_strdup (code);
  fw->vars = g_strdup (vars);
  fw->machines = (GStrv) g_ptr_array_free (machines, FALSE);
  JsonArray *features = member_array (o, "features");
  fw->secure_boot = array_has_string (features, "secure-boot");
  fw->enrolled_keys = array_has_string (features, "enrolled-keys");
  fw->requires_smm = array_has_string (features, "requires-smm");
  return fw;
}

GPtrArray *
firmware_descriptors_load (const char *const *dirs)
{
  /* file name -> path of the directory that wins it */
  g_autoptr (GHashTable) chosen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (gsize i = 0; dirs && dirs[i]; i++)
    {
      g_autoptr (GDir) dir = g_dir_open (dirs[i], 0, NULL);
      const char *name;
      while (dir && (name = g_dir_read_name (dir)))
        if (g_str_has_suffix (name, ".json") && !g_hash_table_contains (chosen, name))
          g_hash_table_insert (chosen, g_strdup (name), g_build_filename (dirs[i], name, NULL));
    }
  g_autoptr (GList) names = g_list_sort (g_hash_table_get_keys (chosen), (GCompareFunc) strcmp);
  GPtrArray *list = g_ptr_array_new_with_free_func (descriptor_free);
  for (GList *l = names; l; l = l->next)
    {
      const char *path = g_hash_table_lookup (chosen, l->data);
      GStatBuf st;
      if (g_stat (path, &st) < 0 || st.st_size == 0)
        continue;   /* an empty file masks the name */
      g_autofree char *why = NULL;
      FirmwareDescriptor *fw = descriptor_parse (path, &why);
      if (fw)
        g_ptr_array_add (list, fw);
      else if (why)
        g_warning ("firmware descriptor %s skipped: %s", path, why);
    }
  return list;
}

const char *
firmware_canonical_machine (const char *machine)
{
  if (!machine || g_str_equal (machine, "pc"))
    return "pc-i440fx-oriel";
  if (g_str_equal (machine, "q35"))
    return "pc-q35-oriel";
  return machine;
}

gboolean
firmware_descriptor_supports_machine (const FirmwareDescriptor *fw, const char *machine)
{
  const char *m = firmware_canonical_machine (machine);
  for (gsize i = 0; fw->machines[i]; i++)
    if (g_pattern_match_simple (fw->machines[i], m))
      return TRUE;
  return FALSE;
}

static gboolean
wanted (FeatureState want, gboolean have)
{
  return want == FEATURE_UNSET || (want == FEATURE_ON) == have;
}

static gboolean
descriptor_fits (const FirmwareDescriptor *fw, const DomainDef *def)
{
  return firmware_descriptor_supports_machine (fw, def->machine)
         && wanted (def->fw_secure_boot, fw->secure_boot)
         && wanted (def->fw_enrolled_keys, fw->enrolled_keys)
         /* <loader secure> is about flash writes restricted to SMM */
         && wanted (def->loader_secure, fw->requires_smm)
         && !(fw->requires_smm && def->smm == FEATURE_OFF)
         && (!def->loader || g_str_equal (def->loader, fw->code))
         && (!def->nvram_template || g_str_equal (def->nvram_template, fw->vars));
}

/* A flash image: a regular file, whole 4 KiB blocks, at most 4 MiB. */
static gboolean
flash_file_size (const char *what, const char *path, goffset *size, GError **error)
{
  GStatBuf st;
  if (g_stat (path, &st) < 0)
    {
      int e = errno;
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED, _("%s '%s': %s"), what, path,
                   g_strerror (e));
      return FALSE;
    }
  if (!S_ISREG (st.st_mode) || st.st_size == 0 || st.st_size % FLASH_BLOCK
      || st.st_size > FLASH_MAX)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                   _("unsupported configuration: %s '%s' is not a flash image (%lld bytes; whole 4 KiB blocks, at most 4 MiB)"),
                   what, path, (long long) st.st_size);
      return FALSE;
    }
  *size = st.st_size;
  return TRUE;
}

/* The loader and its template exist and together make one flash layout. */
static gboolean
check_flash_pair (const DomainDef *def, goffset *vars_size, GError **error)
{
  goffset code = 0, vars = 0;
  if (!flash_file_size (_("UEFI loader"), def->loader, &code, error)
      || !flash_file_size (_("NVRAM template"), def->nvram_template, &vars, error))
    return FALSE;
  goffset total = code + vars;
  if (total != (1 << 20) && total != (2 << 20) && total != (4 << 20))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                   _("unsupported configuration: NVRAM template '%s' (%lld bytes) does not belong to loader '%s' (%lld bytes): together they must fill 1, 2 or 4 MiB"),
                   def->nvram_template, (long long) vars, def->loader, (long long) code);
      return FALSE;
    }
  if (vars_size)
    *vars_size = vars;
  return TRUE;
}

gboolean
firmware_fill_domain (DomainDef *def, const char *const *dirs, const char *nvram_dir,
                      GError **error)
{
  if (!def->firmware && !domain_def_is_uefi (def))
    return TRUE;
  g_autoptr (GPtrArray) fws = firmware_descriptors_load (dirs);
  if (def->firmware)
    {
      const FirmwareDescriptor *fw = NULL;
      for (guint i = 0; i < fws->len && !fw; i++)
        if (descriptor_fits (fws->pdata[i], def))
          fw = fws->pdata[i];
      if (!fw)
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                       _("operation failed: Unable to find any firmware to satisfy '%s'"),
                       def->firmware);
          return FALSE;
        }
      g_free (def->loader); def->loader = g_strdup (fw->code);
      g_free (def->loader_type); def->loader_type = g_strdup ("pflash");
      def->loader_readonly = FEATURE_ON;
      g_free (def->nvram_template); def->nvram_template = g_strdup (fw->vars);
      def->fw_secure_boot = fw->secure_boot ? FEATURE_ON : FEATURE_OFF;
      def->fw_enrolled_keys = fw->enrolled_keys ? FEATURE_ON : FEATURE_OFF;
      if (fw->requires_smm)
        {
          def->smm = FEATURE_ON;
          def->loader_secure = FEATURE_ON;
        }
    }
  else if (!def->nvram_template)
    {
      for (guint i = 0; i < fws->len && !def->nvram_template; i++)
        {
          const FirmwareDescriptor *fw = fws->pdata[i];
          if (g_str_equal (fw->code, def->loader))
            def->nvram_template = g_strdup (fw->vars);
        }
      if (!def->nvram_template)
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                       _("operation failed: unable to find any master var store for loader: %s"),
                       def->loader);
          return FALSE;
        }
    }
  if (def->loader_readonly == FEATURE_OFF)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                   _("unsupported configuration: a UEFI loader with an NVRAM file is read-only (readonly='no')"));
      return FALSE;
    }
  if (!def->nvram)
    {
      g_autofree char *file = g_strdup_printf ("%s_VARS.fd", def->name);
      def->nvram = g_build_filename (nvram_dir, file, NULL);
    }
  if (def->loader_secure == FEATURE_ON)
    {
      if (!domain_def_is_q35 (def))
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                       _("unsupported configuration: Secure boot is supported with q35 machine types only"));
          return FALSE;
        }
      /* With firmware='efi' SMM follows the firmware's own needs (above),
       * as in libvirt; an explicit secure loader must ask for it. */
      if (!def->firmware && def->smm != FEATURE_ON)
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                       _("unsupported configuration: Secure boot requires SMM feature enabled"));
          return FALSE;
        }
    }
  return check_flash_pair (def, NULL, error);
}

/* Copy template to path without ever replacing a file there: a private
 * temporary file in the same directory, linked into place. */
static gboolean
copy_new_file (const char *template, const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents (template, &data, &len, error))
    return FALSE;
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *tmp = g_build_filename (dir, ".nvram-XXXXXX", NULL);
  int fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot create NVRAM file in %s: %s"),
                   dir, g_strerror (e));
      return FALSE;
    }
  gsize done = 0;
  while (done < len)
    {
      ssize_t n = write (fd, data + done, len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      done += n;
    }
  int e = done == len && fsync (fd) == 0 ? 0 : (errno ? errno : EIO);
  close (fd);
  if (!e && link (tmp, path) < 0 && errno != EEXIST)
    e = errno;   /* EEXIST: created meanwhile; that one stays */
  g_unlink (tmp);
  if (e)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot create NVRAM file %s: %s"),
                   path, g_strerror (e));
      return FALSE;
    }
  return TRUE;
}

gboolean
firmware_nvram_prepare (const DomainDef *def, const char *nvram_dir, GError **error)
{
  if (!domain_def_is_uefi (def))
    return TRUE;
  if (!def->nvram || !def->nvram_template)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INTERNAL_ERROR,
                   _("internal error: UEFI loader '%s' without NVRAM file or template"), def->loader);
      return FALSE;
    }
  goffset vars = 0;
  if (!check_flash_pair (def, &vars, error))
    return FALSE;
  GStatBuf st;
  if (g_stat (def->nvram, &st) == 0)
    {
      if (!S_ISREG (st.st_mode) || st.st_size != vars)
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                       _("unsupported configuration: NVRAM file '%s' (%lld bytes) does not match its template '%s' (%lld bytes)"),
                       def->nvram, (long long) st.st_size, def->nvram_template, (long long) vars);
          return FALSE;
        }
      return TRUE;
    }
  g_autofree char *dir = g_path_get_dirname (def->nvram);
  if (nvram_dir && g_str_equal (dir, nvram_dir) && g_mkdir_with_parents (dir, 0700) < 0)
    {
      int e = errno;
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot create %s: %s"), dir,
                   g_strerror (e));
      return FALSE;
    }
  return copy_new_file (def->nvram_template, def->nvram, error);
}
