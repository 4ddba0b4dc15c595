#include "storage-pool.h"
#include "domain-def.h"
#include "virt-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

void
storage_pool_init (StoragePool *pool, const char *path, const guint8 uuid[16])
{
  pool->name = g_strdup ("default");
  pool->path = g_strdup (path);
  memcpy (pool->uuid, uuid, 16);
}

void
storage_pool_clear (StoragePool *pool)
{
  g_clear_pointer (&pool->name, g_free);
  g_clear_pointer (&pool->path, g_free);
}

gboolean
storage_pool_ensure (StoragePool *pool, GError **error)
{
  if (g_mkdir_with_parents (pool->path, 0711) < 0)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot create %s: %s"),
                   pool->path, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

void
storage_vol_free (StorageVol *vol)
{
  if (!vol)
    return;
  g_free (vol->name);
  g_free (vol->path);
  g_free (vol);
}

static gboolean
vol_name_valid (const char *name)
{
  return name && *name && name[0] != '.' && !strchr (name, '/') && strlen (name) < 250;
}

static StorageVol *
vol_stat (StoragePool *pool, const char *name)
{
  g_autofree char *path = g_build_filename (pool->path, name, NULL);
  struct stat st;
  if (stat (path, &st) < 0 || !S_ISREG (st.st_mode))
    return NULL;
  StorageVol *v = g_new0 (StorageVol, 1);
  v->name = g_strdup (name);
  v->path = g_steal_pointer (&path);
  v->capacity = st.st_size;
  v->allocation = (guint64) st.st_blocks * 512;
  return v;
}

static int
vol_by_name (gconstpointer a, gconstpointer b)
{
  return strcmp ((*(StorageVol **) a)->name, (*(StorageVol **) b)->name);
}

GPtrArray *
storage_pool_list_vols (StoragePool *pool)
{
  GPtrArray *arr = g_ptr_array_new_with_free_func ((GDestroyNotify) storage_vol_free);
  g_autoptr (GDir) dir = g_dir_open (pool->path, 0, NULL);
  if (!dir)
    return arr;
  const char *name;
  while ((name = g_dir_read_name (dir)))
    {
      if (!vol_name_valid (name))
        continue;
      StorageVol *v = vol_stat (pool, name);
      if (v)
        g_ptr_array_add (arr, v);
    }
  g_ptr_array_sort (arr, vol_by_name);
  return arr;
}

static void
vol_not_found (GError **error, const char *how, const char *what)
{
  g_set_error (error, VIRT_ERROR, VIR_ERR_NO_STORAGE_VOL,
               _("Storage volume not found: no storage vol with matching %s '%s'"), how, what);
}

StorageVol *
storage_pool_find_vol (StoragePool *pool, const char *name, GError **error)
{
  StorageVol *v = vol_name_valid (name) ? vol_stat (pool, name) : NULL;
  if (!v)
    vol_not_found (error, "name", name);
  return v;
}

StorageVol *
storage_pool_find_vol_by_path (StoragePool *pool, const char *path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *real_dir = realpath (dir, NULL);
  g_autofree char *real_pool = realpath (pool->path, NULL);
  StorageVol *v = NULL;
  if (real_dir && real_pool && g_str_equal (real_dir, real_pool) && vol_name_valid (base))
    v = vol_stat (pool, base);
  if (!v)
    vol_not_found (error, "path", path);
  return v;
}

static gboolean
parse_size (xmlNode *n, guint64 *bytes, GError **error)
{
  xmlChar *unit = xmlGetProp (n, (const xmlChar *) "unit");
  xmlChar *val = xmlNodeGetContent (n);
  char *end = NULL;
  guint64 v = g_ascii_strtoull ((const char *) val, &end, 10);
  gboolean ok = val && *val && end && *g_strstrip (end) == '\0';
  guint64 mult = 1;
  if (ok && unit)
    {
      const char *u = (const char *) unit;
      static const struct { const char *n; guint64 m; } units[] = {
        { "b", 1 }, { "bytes", 1 }, { "KB", 1000 }, { "k", 1024 }, { "KiB", 1024 },
        { "MB", 1000000 }, { "M", 1 << 20 }, { "MiB", 1 << 20 },
        { "GB", 1000000000 }, { "G", 1 << 30 }, { "GiB", 1 << 30 },
        { "TB", 1000000000000ull }, { "T", 1ull << 40 }, { "TiB", 1ull << 40 },
      };
      mult = 0;
      for (gsize i = 0; i < G_N_ELEMENTS (units); i++)
        if (g_ascii_strcasecmp (u, units[i].n) == 0)
          mult = units[i].m;
      ok = mult != 0;
    }
  if (ok && v > G_MAXUINT64 / mult)
    ok = FALSE;
  if (ok)
    *bytes = v * mult;
  else
    g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR, _("invalid volume size '%s'"),
                 val ? (const char *) val : "");
  xmlFree (unit);
  xmlFree (val);
  return ok;
}

StorageVol *
storage_pool_create_vol (StoragePool *pool, const char *xml, GError **error)
{
  xmlDoc *doc = xmlReadMemory (xml, strlen (xml), "volume.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (!doc)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR, _("XML error: malformed volume XML"));
      return NULL;
    }
  xmlNode *root = xmlDocGetRootElement (doc);
  g_autofree char *name = NULL;
  char *format = NULL;
  guint64 capacity = 0, allocation = 0;
  gboolean have_cap = FALSE, ok = TRUE;
  if (!root || strcmp ((const char *) root->name, "volume") != 0)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR, _("expected root element <volume>"));
      ok = FALSE;
    }
  for (xmlNode *c = root && ok ? root->children : NULL; c && ok; c = c->next)
    {
      if (c->type != XML_ELEMENT_NODE)
        continue;
      const char *n = (const char *) c->name;
      if (g_str_equal (n, "name"))
        {
          xmlChar *t = xmlNodeGetContent (c);
          g_free (name);
          name = g_strstrip (g_strdup ((const char *) t));
          xmlFree (t);
        }
      else if (g_str_equal (n, "capacity"))
        ok = have_cap = parse_size (c, &capacity, error);
      else if (g_str_equal (n, "allocation"))
        ok = parse_size (c, &allocation, error);
      else if (g_str_equal (n, "target"))
        {
          for (xmlNode *t = c->children; t; t = t->next)
            if (t->type == XML_ELEMENT_NODE && g_str_equal ((const char *) t->name, "format"))
              {
                xmlChar *ft = xmlGetProp (t, (const xmlChar *) "type");
                g_free (format);
                format = g_strdup ((const char *) ft);
                xmlFree (ft);
              }
        }
      else if (g_str_equal (n, "key") || g_str_equal (n, "source") || g_str_equal (n, "physical"))
        ;
      else
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                       _("unsupported configuration: element <%s> in <volume> is not supported by Oriel"), n);
          ok = FALSE;
        }
    }
  xmlFreeDoc (doc);
  g_autofree char *fmt = format;
  if (!ok)
    return NULL;
  if (!vol_name_valid (name))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR, _("invalid volume name '%s'"), name ? name : "");
      return NULL;
    }
  if (!have_cap)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR, _("missing <capacity> in volume XML"));
      return NULL;
    }
  if (fmt && !g_str_equal (fmt, "raw"))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                   _("unsupported configuration: volume format '%s' (the default pool creates raw volumes)"), fmt);
      return NULL;
    }
  g_autofree char *path = g_build_filename (pool->path, name, NULL);
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      if (errno == EEXIST)
        g_set_error (error, VIRT_ERROR, VIR_ERR_STORAGE_VOL_EXIST,
                     _("storage volume '%s' exists already"), name);
      else
        g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot create %s: %s"), path, g_strerror (errno));
      return NULL;
    }
  /* Sparse: blocks are allocated as the guest writes. */
  int rc = ftruncate (fd, (off_t) capacity);
  int e = errno;
  if (rc == 0 && allocation > 0)
    posix_fallocate (fd, 0, (off_t) MIN (allocation, capacity));
  close (fd);
  if (rc < 0)
    {
      unlink (path);
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot size %s: %s"), path, g_strerror (e));
      return NULL;
    }
  return vol_stat (pool, name);
}

gboolean
storage_pool_delete_vol (StoragePool *pool, const char *name, GError **error)
{
  g_autoptr (StorageVol) v = storage_pool_find_vol (pool, name, error);
  if (!v)
    return FALSE;
  if (g_unlink (v->path) < 0)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot remove %s: %s"), v->path, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

gboolean
storage_pool_space (StoragePool *pool, guint64 *capacity, guint64 *allocation, guint64 *available)
{
  struct statvfs sv;
  if (statvfs (pool->path, &sv) < 0)
    {
      *capacity = *allocation = *available = 0;
      return FALSE;
    }
  *capacity = (guint64) sv.f_blocks * sv.f_frsize;
  *available = (guint64) sv.f_bavail * sv.f_frsize;
  *allocation = *capacity - (guint64) sv.f_bfree * sv.f_frsize;
  return TRUE;
}

char *
storage_pool_xml (StoragePool *pool)
{
  guint64 cap, alloc, avail;
  storage_pool_space (pool, &cap, &alloc, &avail);
  char uuid[37];
  domain_uuid_format (pool->uuid, uuid);
  g_autofree char *path = g_markup_escape_text (pool->path, -1);
  return g_strdup_printf ("<pool type='dir'>\n"
                          "  <name>%s</name>\n"
                          "  <uuid>%s</uuid>\n"
                          "  <capacity unit='bytes'>%" G_GUINT64_FORMAT "</capacity>\n"
                          "  <allocation unit='bytes'>%" G_GUINT64_FORMAT "</allocation>\n"
                          "  <available unit='bytes'>%" G_GUINT64_FORMAT "</available>\n"
                          "  <source>\n  </source>\n"
                          "  <target>\n"
                          "    <path>%s</path>\n"
                          "    <permissions>\n      <mode>0711</mode>\n      <owner>0</owner>\n      <group>0</group>\n    </permissions>\n"
                          "  </target>\n"
                          "</pool>\n",
                          pool->name, uuid, cap, alloc, avail, path);
}

char *
storage_vol_xml (StoragePool *pool, StorageVol *vol)
{
  g_autofree char *name = g_markup_escape_text (vol->name, -1);
  g_autofree char *path = g_markup_escape_text (vol->path, -1);
  return g_strdup_printf ("<volume type='file'>\n"
                          "  <name>%s</name>\n"
                          "  <key>%s</key>\n"
                          "  <capacity unit='bytes'>%" G_GUINT64_FORMAT "</capacity>\n"
                          "  <allocation unit='bytes'>%" G_GUINT64_FORMAT "</allocation>\n"
                          "  <physical unit='bytes'>%" G_GUINT64_FORMAT "</physical>\n"
                          "  <target>\n"
                          "    <path>%s</path>\n"
                          "    <format type='raw'/>\n"
                          "    <permissions>\n      <mode>0600</mode>\n      <owner>0</owner>\n      <group>0</group>\n    </permissions>\n"
                          "  </target>\n"
                          "</volume>\n",
                          name, path, vol->capacity, vol->allocation, vol->capacity, path);
}
