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
  g_free (vol->format);
  g_free (vol);
}

static gboolean
vol_name_valid (const char *name)
{
  return name && *name && name[0] != '.' && !strchr (name, '/') && strlen (name) < 250;
}

StorageVol *
storage_file_stat (const char *path)
{
  struct stat st;
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  if (fstat (fd, &st) < 0 || (!S_ISREG (st.st_mode) && !S_ISBLK (st.st_mode)))
    {
      close (fd);
      return NULL;
    }
  StorageVol *v = g_new0 (StorageVol, 1);
  v->name = g_path_get_basename (path);
  v->path = g_strdup (path);
  /* A block device's size is where its end is. */
  off_t end = S_ISBLK (st.st_mode) ? lseek (fd, 0, SEEK_END) : st.st_size;
  v->physical = end > 0 ? (guint64) end : 0;
  v->capacity = v->physical;
  v->allocation = S_ISBLK (st.st_mode) ? v->physical : (guint64) st.st_blocks * 512;
  v->format = g_strdup ("raw");
  /* A qcow2 header: magic "QFI\xfb", the virtual size at byte 24. */
  guint8 hdr[32];
  if (pread (fd, hdr, sizeof hdr, 0) == (ssize_t) sizeof hdr && memcmp (hdr, "QFI\xfb", 4) == 0)
    {
      guint64 be;
      memcpy (&be, hdr + 24, 8);
      v->capacity = GUINT64_FROM_BE (be);
      g_free (v->format);
      v->format = g_strdup ("qcow2");
    }
  close (fd);
  return v;
}

static StorageVol *
vol_stat (StoragePool *pool, const char *name)
{
  g_autofree char *path = g_build_filename (pool->path, name, NULL);
  struct stat st;
  if (stat (path, &st) < 0 || !S_ISREG (st.st_mode))
    return NULL;
  StorageVol *v = storage_file_stat (path);
  if (v)
    {
      g_free (v->name);
      v->name = g_strdup (name);
    }
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

typedef struct {
  char *name;
  char *format;          /* NULL: not given */
  guint64 capacity, allocation;
  gboolean have_capacity;
} VolSpec;

static void
vol_spec_clear (VolSpec *v)
{
  g_free (v->name);
  g_free (v->format);
}

static gboolean
parse_vol_xml (const char *xml, VolSpec *out, GError **error)
{
  memset (out, 0, sizeof *out);
  xmlDoc *doc = xmlReadMemory (xml, strlen (xml), "volume.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (!doc)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR, _("XML error: malformed volume XML"));
      return FALSE;
    }
  xmlNode *root = xmlDocGetRootElement (doc);
  gboolean ok = TRUE;
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
          g_free (out->name);
          out->name = g_strstrip (g_strdup ((const char *) t));
          xmlFree (t);
        }
      else if (g_str_equal (n, "capacity"))
        ok = out->have_capacity = parse_size (c, &out->capacity, error);
      else if (g_str_equal (n, "allocation"))
        ok = parse_size (c, &out->allocation, error);
      else if (g_str_equal (n, "target"))
        {
          for (xmlNode *t = c->children; t; t = t->next)
            if (t->type == XML_ELEMENT_NODE && g_str_equal ((const char *) t->name, "format"))
              {
                xmlChar *ft = xmlGetProp (t, (const xmlChar *) "type");
                g_free (out->format);
                out->format = g_strdup ((const char *) ft);
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
  if (ok && !vol_name_valid (out->name))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR, _("invalid volume name '%s'"),
                   out->name ? out->name : "");
      ok = FALSE;
    }
  if (ok && out->format && !g_str_equal (out->format, "raw") && !g_str_equal (out->format, "qcow2"))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                   _("unsupported configuration: volume format '%s' (the default pool creates raw and qcow2 volumes)"),
                   out->format);
      ok = FALSE;
    }
  if (!ok)
    vol_spec_clear (out);
  return ok;
}

/* Runs qemu-img (the stock tool) with argv; its message becomes the error. */
static gboolean
qemu_img (const char *const *argv, GError **error)
{
  g_autofree char *err = NULL;
  int status = 0;
  g_autoptr (GError) local = NULL;
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, NULL, &err, &status, &local))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR,
                   _("cannot run qemu-img (package qemu-utils): %s"), local->message);
      return FALSE;
    }
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("qemu-img %s failed: %s"), argv[1],
                   err && *err ? g_strstrip (err) : _("no message"));
      return FALSE;
    }
  return TRUE;
}

/* Claims the name: the file is created here, exclusively, so that two
 * requests never write the same volume; the caller fills it. */
static char *
claim_path (StoragePool *pool, const char *name, GError **error)
{
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
  close (fd);
  return g_steal_pointer (&path);
}

StorageVol *
storage_pool_create_vol (StoragePool *pool, const char *xml, GError **error)
{
  VolSpec spec;
  if (!parse_vol_xml (xml, &spec, error))
    return NULL;
  if (!spec.have_capacity)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR, _("missing <capacity> in volume XML"));
      vol_spec_clear (&spec);
      return NULL;
    }
  g_autofree char *path = claim_path (pool, spec.name, error);
  gboolean ok = path != NULL;
  if (ok && spec.format && g_str_equal (spec.format, "qcow2"))
    {
      /* Thin: clusters are allocated as the guest writes. */
      g_autofree char *size = g_strdup_printf ("%" G_GUINT64_FORMAT, spec.capacity);
      const char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-o", "preallocation=off",
                             path, size, NULL };
      ok = qemu_img (argv, error);
    }
  else if (ok)
    {
      /* Sparse: blocks are allocated as the guest writes. */
      int rc = truncate (path, (off_t) spec.capacity);
      int e = errno;
      if (rc == 0 && spec.allocation > 0)
        {
          int fd = open (path, O_WRONLY | O_CLOEXEC);
          if (fd >= 0)
            {
              posix_fallocate (fd, 0, (off_t) MIN (spec.allocation, spec.capacity));
              close (fd);
            }
        }
      if (rc < 0)
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot size %s: %s"), path, g_strerror (e));
          ok = FALSE;
        }
    }
  if (!ok && path)
    unlink (path);
  StorageVol *v = ok ? vol_stat (pool, spec.name) : NULL;
  vol_spec_clear (&spec);
  return v;
}

StorageVol *
storage_pool_clone_vol (StoragePool *pool, const char *xml, StorageVol *source, GError **error)
{
  VolSpec spec;
  if (!parse_vol_xml (xml, &spec, error))
    return NULL;
  const char *format = spec.format ? spec.format : source->format;
  g_autofree char *path = claim_path (pool, spec.name, error);
  gboolean ok = path != NULL;
  if (ok)
    {
      const char *argv[] = { "qemu-img", "convert", "-q", "-f", source->format, "-O", format,
                             source->path, path, NULL };
      ok = qemu_img (argv, error);
    }
  if (ok && spec.have_capacity && spec.capacity > source->capacity)
    {
      g_autofree char *size = g_strdup_printf ("%" G_GUINT64_FORMAT, spec.capacity);
      const char *argv[] = { "qemu-img", "resize", "-q", "-f", format, path, size, NULL };
      ok = qemu_img (argv, error);
    }
  if (!ok && path)
    unlink (path);
  StorageVol *v = ok ? vol_stat (pool, spec.name) : NULL;
  vol_spec_clear (&spec);
  return v;
}

gboolean
storage_pool_resize_vol (StoragePool *pool, StorageVol *vol, guint64 capacity, guint flags,
                         GError **error)
{
  enum { RESIZE_ALLOCATE = 1, RESIZE_DELTA = 2, RESIZE_SHRINK = 4 };
  if (flags & ~(guint) (RESIZE_ALLOCATE | RESIZE_DELTA | RESIZE_SHRINK))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("unsupported flags (0x%x)"),
                   flags & ~(guint) (RESIZE_ALLOCATE | RESIZE_DELTA | RESIZE_SHRINK));
      return FALSE;
    }
  if (flags & RESIZE_ALLOCATE)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_ARGUMENT_UNSUPPORTED,
                   _("preallocation of the new capacity is not supported; volumes stay sparse"));
      return FALSE;
    }
  guint64 target = capacity;
  if (flags & RESIZE_DELTA)
    {
      /* libvirt: with SHRINK the delta is subtracted. */
      if (flags & RESIZE_SHRINK)
        target = capacity > vol->capacity ? 0 : vol->capacity - capacity;
      else if (capacity > G_MAXUINT64 - vol->capacity)
        target = G_MAXUINT64;
      else
        target = vol->capacity + capacity;
    }
  if (target < vol->capacity && !(flags & RESIZE_SHRINK))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG,
                   _("invalid argument: can't shrink capacity below existing capacity unless shrink flag explicitly specified"));
      return FALSE;
    }
  if (target == 0)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("invalid argument: capacity must be greater than 0"));
      return FALSE;
    }
  if (g_str_equal (vol->format, "qcow2"))
    {
      g_autofree char *size = g_strdup_printf ("%" G_GUINT64_FORMAT, target);
      const char *argv[] = { "qemu-img", "resize", "-q", "-f", "qcow2",
                             target < vol->capacity ? "--shrink" : "-q", vol->path, size, NULL };
      return qemu_img (argv, error);
    }
  if (truncate (vol->path, (off_t) target) < 0)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot resize %s: %s"), vol->path,
                   g_strerror (errno));
      return FALSE;
    }
  return TRUE;
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
                          "    <format type='%s'/>\n"
                          "    <permissions>\n      <mode>0600</mode>\n      <owner>0</owner>\n      <group>0</group>\n    </permissions>\n"
                          "  </target>\n"
                          "</volume>\n",
                          name, path, vol->capacity, vol->allocation, vol->physical, path, vol->format);
}
