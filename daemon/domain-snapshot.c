#include "domain-snapshot.h"
#include "virt-error.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

enum {
  CREATE_REDEFINE = 1, CREATE_CURRENT = 2, CREATE_NO_METADATA = 4, CREATE_HALT = 8,
  CREATE_DISK_ONLY = 16, CREATE_REUSE_EXT = 32, CREATE_QUIESCE = 64, CREATE_ATOMIC = 128,
  CREATE_LIVE = 256, CREATE_VALIDATE = 512,
};
enum { DELETE_CHILDREN = 1, DELETE_METADATA_ONLY = 2, DELETE_CHILDREN_ONLY = 4 };

void
domain_snapshot_free (DomainSnapshot *snap)
{
  if (!snap)
    return;
  g_free (snap->name);
  g_free (snap->description);
  g_free (snap->parent);
  g_free (snap->domain_xml);
  if (snap->disks)
    g_ptr_array_unref (snap->disks);
  g_free (snap);
}

static char *
snapshot_dir (Daemon *d, const char *domain)
{
  return g_build_filename (d->paths.config_dir, "snapshot", domain, NULL);
}

static char *
snapshot_file (Daemon *d, const char *domain, const char *name)
{
  g_autofree char *dir = snapshot_dir (d, domain);
  g_autofree char *file = g_strconcat (name, ".xml", NULL);
  return g_build_filename (dir, file, NULL);
}

static gboolean
name_valid (const char *name)
{
  return name && *name && name[0] != '.' && !strchr (name, '/') && strlen (name) <= 200
         && g_utf8_validate (name, -1, NULL) && !g_str_equal (name, "current");
}

static char *
child_text (xmlNode *parent, const char *name)
{
  for (xmlNode *c = parent->children; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE && g_str_equal ((const char *) c->name, name))
      {
        xmlChar *t = xmlNodeGetContent (c);
        char *s = g_strstrip (g_strdup ((const char *) t));
        xmlFree (t);
        return s;
      }
  return NULL;
}

static xmlNode *
child_el (xmlNode *parent, const char *name)
{
  for (xmlNode *c = parent ? parent->children : NULL; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE && g_str_equal ((const char *) c->name, name))
      return c;
  return NULL;
}

static xmlDoc *
read_xml (const char *xml, GError **error)
{
  xmlDoc *doc = xmlReadMemory (xml, strlen (xml), "snapshot.xml", NULL,
                               XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  xmlNode *root = doc ? xmlDocGetRootElement (doc) : NULL;
  if (!root || !g_str_equal ((const char *) root->name, "domainsnapshot"))
    {
      if (doc)
        xmlFreeDoc (doc);
      g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR,
                   _("XML error: expected a <domainsnapshot> document"));
      return NULL;
    }
  return doc;
}

/* A stored description (what domain_snapshot_format wrote). */
static DomainSnapshot *
snapshot_parse_stored (const char *xml, GError **error)
{
  xmlDoc *doc = read_xml (xml, error);
  if (!doc)
    return NULL;
  xmlNode *root = xmlDocGetRootElement (doc);
  DomainSnapshot *snap = g_new0 (DomainSnapshot, 1);
  snap->name = child_text (root, "name");
  snap->description = child_text (root, "description");
  xmlNode *parent = child_el (root, "parent");
  snap->parent = parent ? child_text (parent, "name") : NULL;
  g_autofree char *t = child_text (root, "creationTime");
  snap->creation_time = t ? g_ascii_strtoll (t, NULL, 10) : 0;
  snap->disks = g_ptr_array_new_with_free_func (g_free);
  for (xmlNode *c = child_el (root, "disks") ? child_el (root, "disks")->children : NULL; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE && g_str_equal ((const char *) c->name, "disk"))
      {
        xmlChar *n = xmlGetProp (c, (const xmlChar *) "name");
        xmlChar *how = xmlGetProp (c, (const xmlChar *) "snapshot");
        if (n && how && g_str_equal ((const char *) how, "internal"))
          g_ptr_array_add (snap->disks, g_strdup ((const char *) n));
        xmlFree (n);
        xmlFree (how);
      }
  xmlNode *dom = child_el (root, "domain");
  if (dom)
    {
      xmlBuffer *buf = xmlBufferCreate ();
      xmlNodeDump (buf, doc, dom, 0, 1);
      snap->domain_xml = g_strdup ((const char *) xmlBufferContent (buf));
      xmlBufferFree (buf);
    }
  xmlFreeDoc (doc);
  if (!name_valid (snap->name) || !snap->domain_xml)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_XML_ERROR, _("XML error: damaged snapshot description"));
      domain_snapshot_free (snap);
      return NULL;
    }
  return snap;
}

char *
domain_snapshot_format (const DomainSnapshot *snap)
{
  GString *s = g_string_new ("<domainsnapshot>\n");
  g_autofree char *name = g_markup_escape_text (snap->name, -1);
  g_string_append_printf (s, "  <name>%s</name>\n", name);
  if (snap->description)
    {
      g_autofree char *desc = g_markup_escape_text (snap->description, -1);
      g_string_append_printf (s, "  <description>%s</description>\n", desc);
    }
  g_string_append (s, "  <state>shutoff</state>\n");
  if (snap->parent)
    {
      g_autofree char *parent = g_markup_escape_text (snap->parent, -1);
      g_string_append_printf (s, "  <parent>\n    <name>%s</name>\n  </parent>\n", parent);
    }
  g_string_append_printf (s, "  <creationTime>%" G_GINT64_FORMAT "</creationTime>\n", snap->creation_time);
  g_string_append (s, "  <memory snapshot='no'/>\n  <disks>\n");
  for (guint i = 0; i < snap->disks->len; i++)
    {
      g_autofree char *dev = g_markup_escape_text (g_ptr_array_index (snap->disks, i), -1);
      g_string_append_printf (s, "    <disk name='%s' snapshot='internal'/>\n", dev);
    }
  g_string_append (s, "  </disks>\n");
  /* The domain definition, indented one level. */
  g_auto (GStrv) lines = g_strsplit (snap->domain_xml, "\n", -1);
  for (char **l = lines; *l; l++)
    if (**l)
      g_string_append_printf (s, "  %s\n", *l);
  g_string_append (s, "</domainsnapshot>\n");
  return g_string_free (s, FALSE);
}

static gint
by_time (gconstpointer a, gconstpointer b)
{
  const DomainSnapshot *x = *(DomainSnapshot **) a, *y = *(DomainSnapshot **) b;
  if (x->creation_time != y->creation_time)
    return x->creation_time < y->creation_time ? -1 : 1;
  return strcmp (x->name, y->name);
}

GPtrArray *
domain_snapshot_list (Daemon *d, const char *domain)
{
  GPtrArray *all = g_ptr_array_new_with_free_func ((GDestroyNotify) domain_snapshot_free);
  g_autofree char *dir = snapshot_dir (d, domain);
  g_autoptr (GDir) gd = g_dir_open (dir, 0, NULL);
  const char *entry;
  while (gd && (entry = g_dir_read_name (gd)))
    {
      if (!g_str_has_suffix (entry, ".xml"))
        continue;
      g_autofree char *path = g_build_filename (dir, entry, NULL);
      g_autofree char *xml = NULL;
      g_autoptr (GError) err = NULL;
      DomainSnapshot *snap;
      if (g_file_get_contents (path, &xml, NULL, NULL) && (snap = snapshot_parse_stored (xml, &err)))
        g_ptr_array_add (all, snap);
      else
        g_warning ("ignoring snapshot description %s: %s", path, err ? err->message : "unreadable");
    }
  g_ptr_array_sort (all, by_time);
  return all;
}

guint
domain_snapshot_count (Daemon *d, const char *domain)
{
  g_autoptr (GPtrArray) all = domain_snapshot_list (d, domain);
  return all->len;
}

DomainSnapshot *
domain_snapshot_lookup (Daemon *d, const char *domain, const char *name, GError **error)
{
  g_autofree char *path = name_valid (name) ? snapshot_file (d, domain, name) : NULL;
  g_autofree char *xml = NULL;
  DomainSnapshot *snap = NULL;
  if (path && g_file_get_contents (path, &xml, NULL, NULL))
    snap = snapshot_parse_stored (xml, NULL);
  if (!snap)
    g_set_error (error, VIRT_ERROR, VIR_ERR_NO_DOMAIN_SNAPSHOT,
                 _("Domain snapshot not found: no domain snapshot with matching name '%s'"),
                 name ? name : "");
  return snap;
}

char *
domain_snapshot_current (Daemon *d, const char *domain)
{
  g_autofree char *dir = snapshot_dir (d, domain);
  g_autofree char *path = g_build_filename (dir, "current", NULL);
  char *name = NULL;
  if (!g_file_get_contents (path, &name, NULL, NULL))
    return NULL;
  g_strstrip (name);
  g_autofree char *file = name_valid (name) ? snapshot_file (d, domain, name) : NULL;
  if (!file || !g_file_test (file, G_FILE_TEST_EXISTS))
    g_clear_pointer (&name, g_free);
  return name;
}

static gboolean
set_current (Daemon *d, const char *domain, const char *name, GError **error)
{
  g_autofree char *dir = snapshot_dir (d, domain);
  g_autofree char *path = g_build_filename (dir, "current", NULL);
  if (!name)
    {
      g_unlink (path);
      return TRUE;
    }
  return g_file_set_contents (path, name, -1, error);
}

static gboolean
save (Daemon *d, const char *domain, const DomainSnapshot *snap, GError **error)
{
  g_autofree char *dir = snapshot_dir (d, domain);
  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot create %s: %s"), dir,
                   g_strerror (errno));
      return FALSE;
    }
  g_autofree char *path = snapshot_file (d, domain, snap->name);
  g_autofree char *xml = domain_snapshot_format (snap);
  return g_file_set_contents (path, xml, -1, error);
}

/* qemu-img snapshot -c|-a|-d NAME IMAGE; its message becomes the error. */
static gboolean
qemu_img_snapshot (const char *op, const char *name, const char *image, GError **error)
{
  /* qemu-img snapshot takes no -f: the format is forced through
   * --image-opts (commas in the path doubled), never probed. */
  g_autoptr (GString) opts = g_string_new ("driver=qcow2,file.filename=");
  for (const char *p = image; *p; p++)
    {
      if (*p == ',')
        g_string_append_c (opts, ',');
      g_string_append_c (opts, *p);
    }
  const char *argv[] = { "qemu-img", "snapshot", "-q", "--image-opts", op, name, opts->str, NULL };
  g_autofree char *err = NULL;
  int status = 0;
  g_autoptr (GError) local = NULL;
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, NULL, &err, &status, &local))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                   _("cannot run qemu-img (package qemu-utils): %s"), local->message);
      return FALSE;
    }
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                   _("internal snapshot of %s failed: %s"), image,
                   err && *err ? g_strstrip (err) : _("no message"));
      return FALSE;
    }
  return TRUE;
}

/* The writable disks of a definition: each must be a qcow2 image. */
static GPtrArray *
snapshot_disks (const DomainDef *def, GError **error)
{
  GPtrArray *disks = g_ptr_array_new ();
  for (guint i = 0; i < def->disks->len; i++)
    {
      DomainDisk *disk = g_ptr_array_index (def->disks, i);
      if (!g_str_equal (disk->device, "disk") || disk->readonly || !disk->source)
        continue;
      if (!g_str_equal (disk->driver_type, "qcow2"))
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                       _("unsupported configuration: internal snapshot for disk %s unsupported for storage type %s"),
                       disk->target_dev, disk->driver_type);
          g_ptr_array_unref (disks);
          return NULL;
        }
      g_ptr_array_add (disks, disk);
    }
  return disks;
}

DomainSnapshot *
domain_snapshot_create (Daemon *d, const DomainDef *def, gboolean active, const char *xml,
                        guint flags, GError **error)
{
  if (flags & ~(guint) CREATE_ATOMIC)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_ARGUMENT_UNSUPPORTED,
                   _("argument unsupported: snapshot flags 0x%x are not supported by Oriel "
                     "(internal disk snapshots of shut-off domains only)"),
                   flags & ~(guint) CREATE_ATOMIC);
      return NULL;
    }
  if (active)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_UNSUPPORTED,
                   _("Operation not supported: snapshots of a running domain are not supported yet; "
                     "shut domain '%s' down first"), def->name);
      return NULL;
    }
  xmlDoc *doc = read_xml (xml, error);
  if (!doc)
    return NULL;
  xmlNode *root = xmlDocGetRootElement (doc);
  g_autoptr (DomainSnapshot) snap = g_new0 (DomainSnapshot, 1);
  snap->name = child_text (root, "name");
  snap->description = child_text (root, "description");
  xmlNode *memory = child_el (root, "memory");
  xmlChar *mem = memory ? xmlGetProp (memory, (const xmlChar *) "snapshot") : NULL;
  gboolean external_memory = mem && !g_str_equal ((const char *) mem, "no");
  xmlFree (mem);
  gboolean other = FALSE;
  for (xmlNode *c = root->children; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE
        && !g_str_equal ((const char *) c->name, "name") && !g_str_equal ((const char *) c->name, "description")
        && !g_str_equal ((const char *) c->name, "memory") && !g_str_equal ((const char *) c->name, "disks"))
      other = TRUE;
  xmlFreeDoc (doc);
  if (external_memory || other)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                   _("unsupported configuration: only internal disk snapshots (name, description) "
                     "are supported by Oriel"));
      return NULL;
    }
  if (!snap->name)
    snap->name = g_strdup_printf ("%" G_GINT64_FORMAT, g_get_real_time () / G_USEC_PER_SEC);
  if (!name_valid (snap->name))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("invalid argument: invalid snapshot name '%s'"),
                   snap->name);
      return NULL;
    }
  g_autofree char *existing = snapshot_file (d, def->name, snap->name);
  if (g_file_test (existing, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                   _("Requested operation is not valid: domain snapshot '%s' already exists"), snap->name);
      return NULL;
    }
  g_autoptr (GPtrArray) disks = snapshot_disks (def, error);
  if (!disks)
    return NULL;
  if (disks->len == 0)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                   _("unsupported configuration: domain '%s' has no writable disk to snapshot"), def->name);
      return NULL;
    }
  /* All disks or none: a failure takes back the ones already done. */
  for (guint i = 0; i < disks->len; i++)
    {
      DomainDisk *disk = g_ptr_array_index (disks, i);
      if (!qemu_img_snapshot ("-c", snap->name, disk->source, error))
        {
          while (i-- > 0)
            qemu_img_snapshot ("-d", snap->name, ((DomainDisk *) g_ptr_array_index (disks, i))->source, NULL);
          return NULL;
        }
    }
  snap->disks = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < disks->len; i++)
    g_ptr_array_add (snap->disks, g_strdup (((DomainDisk *) g_ptr_array_index (disks, i))->target_dev));
  snap->parent = domain_snapshot_current (d, def->name);
  snap->creation_time = g_get_real_time () / G_USEC_PER_SEC;
  snap->domain_xml = domain_def_format (def, DOMAIN_FORMAT_INACTIVE, -1);
  if (!save (d, def->name, snap, error) || !set_current (d, def->name, snap->name, error))
    {
      for (guint i = 0; i < disks->len; i++)
        qemu_img_snapshot ("-d", snap->name, ((DomainDisk *) g_ptr_array_index (disks, i))->source, NULL);
      g_autofree char *file = snapshot_file (d, def->name, snap->name);
      g_unlink (file);
      return NULL;
    }
  return g_steal_pointer (&snap);
}

/* The images of the snapshot's own definition, for its disks. */
static GPtrArray *
snapshot_images (DomainSnapshot *snap, GError **error)
{
  g_autoptr (DomainDef) def = domain_def_parse (snap->domain_xml, strlen (snap->domain_xml), 0, error);
  if (!def)
    return NULL;
  GPtrArray *images = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < snap->disks->len; i++)
    for (guint j = 0; j < def->disks->len; j++)
      {
        DomainDisk *disk = g_ptr_array_index (def->disks, j);
        if (disk->source && g_strcmp0 (disk->target_dev, g_ptr_array_index (snap->disks, i)) == 0)
          g_ptr_array_add (images, g_strdup (disk->source));
      }
  return images;
}

gboolean
domain_snapshot_revert_disks (Daemon *d, const char *domain, DomainSnapshot *snap, GError **error)
{
  g_autoptr (GPtrArray) images = snapshot_images (snap, error);
  if (!images)
    return FALSE;
  for (guint i = 0; i < images->len; i++)
    if (!qemu_img_snapshot ("-a", snap->name, g_ptr_array_index (images, i), error))
      return FALSE;
  return set_current (d, domain, snap->name, error);
}

static gboolean
delete_one (Daemon *d, const char *domain, DomainSnapshot *snap, gboolean metadata_only,
            GPtrArray *all, GError **error)
{
  if (!metadata_only)
    {
      g_autoptr (GPtrArray) images = snapshot_images (snap, error);
      if (!images)
        return FALSE;
      for (guint i = 0; i < images->len; i++)
        if (!qemu_img_snapshot ("-d", snap->name, g_ptr_array_index (images, i), error))
          return FALSE;
    }
  /* Its children now hang from its parent. */
  for (guint i = 0; i < all->len; i++)
    {
      DomainSnapshot *other = g_ptr_array_index (all, i);
      if (g_strcmp0 (other->parent, snap->name) == 0)
        {
          g_free (other->parent);
          other->parent = g_strdup (snap->parent);
          if (!save (d, domain, other, error))
            return FALSE;
        }
    }
  g_autofree char *current = domain_snapshot_current (d, domain);
  if (g_strcmp0 (current, snap->name) == 0 && !set_current (d, domain, snap->parent, error))
    return FALSE;
  g_autofree char *file = snapshot_file (d, domain, snap->name);
  if (g_unlink (file) < 0)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot remove %s: %s"), file, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

/* Depth first: children go before their parent. */
static gboolean
delete_tree (Daemon *d, const char *domain, const char *name, gboolean include_self,
             gboolean metadata_only, GError **error)
{
  g_autoptr (GPtrArray) all = domain_snapshot_list (d, domain);
  for (guint i = 0; i < all->len; i++)
    {
      DomainSnapshot *child = g_ptr_array_index (all, i);
      if (g_strcmp0 (child->parent, name) == 0
          && !delete_tree (d, domain, child->name, TRUE, metadata_only, error))
        return FALSE;
    }
  if (!include_self)
    return TRUE;
  g_autoptr (GPtrArray) now = domain_snapshot_list (d, domain);
  for (guint i = 0; i < now->len; i++)
    {
      DomainSnapshot *snap = g_ptr_array_index (now, i);
      if (g_str_equal (snap->name, name))
        return delete_one (d, domain, snap, metadata_only, now, error);
    }
  return TRUE;
}

gboolean
domain_snapshot_delete (Daemon *d, const char *domain, const char *name, guint flags, GError **error)
{
  if (flags & ~(guint) (DELETE_CHILDREN | DELETE_METADATA_ONLY | DELETE_CHILDREN_ONLY))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("invalid argument: unsupported flags (0x%x)"),
                   flags);
      return FALSE;
    }
  g_autoptr (DomainSnapshot) snap = domain_snapshot_lookup (d, domain, name, error);
  if (!snap)
    return FALSE;
  gboolean metadata_only = (flags & DELETE_METADATA_ONLY) != 0;
  if (flags & (DELETE_CHILDREN | DELETE_CHILDREN_ONLY))
    return delete_tree (d, domain, name, !(flags & DELETE_CHILDREN_ONLY), metadata_only, error);
  g_autoptr (GPtrArray) all = domain_snapshot_list (d, domain);
  return delete_one (d, domain, snap, metadata_only, all, error);
}

gboolean
domain_snapshot_forget_all (Daemon *d, const char *domain, GError **error)
{
  g_autofree char *dir = snapshot_dir (d, domain);
  g_autoptr (GDir) gd = g_dir_open (dir, 0, NULL);
  const char *entry;
  while (gd && (entry = g_dir_read_name (gd)))
    {
      g_autofree char *path = g_build_filename (dir, entry, NULL);
      if (g_unlink (path) < 0)
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot remove %s: %s"), path,
                       g_strerror (errno));
          return FALSE;
        }
    }
  g_rmdir (dir);
  return TRUE;
}
