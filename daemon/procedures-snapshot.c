/* Snapshot procedures: internal disk snapshots of shut-off domains
 * (domain-snapshot.c keeps them). */
#include "procedures.h"
#include "domain-snapshot.h"

#include <glib/gi18n.h>
#include <string.h>

#define W PROC_FLAG_WRITE

/* virDomainSnapshotListFlags */
enum {
  LIST_ROOTS = 1, LIST_DESCENDANTS = 1, LIST_METADATA = 2, LIST_LEAVES = 4, LIST_NO_LEAVES = 8,
  LIST_NO_METADATA = 16, LIST_INACTIVE = 32, LIST_ACTIVE = 64, LIST_DISK_ONLY = 128,
  LIST_INTERNAL = 256, LIST_EXTERNAL = 512, LIST_TOPOLOGICAL = 1024,
};
enum { REVERT_RUNNING = 1, REVERT_PAUSED = 2, REVERT_FORCE = 4 };

static void
make_snap (remote_nonnull_domain_snapshot *out, DomainObj *dom, const char *name)
{
  out->name = g_strdup (name);
  proc_make_domain (&out->dom, dom);
}

/* The domain and the snapshot a remote_nonnull_domain_snapshot names. */
static DomainSnapshot *
arg_snap (RpcCall *call, const remote_nonnull_domain_snapshot *ref, DomainObj **dom_out, GError **error)
{
  DomainObj *dom = proc_domain (call, &ref->dom, error);
  if (!dom)
    return NULL;
  if (dom_out)
    *dom_out = dom;
  return domain_snapshot_lookup (DAEMON (call), dom->def->name, ref->name, error);
}

static gboolean
has_child (GPtrArray *all, const char *name)
{
  for (guint i = 0; i < all->len; i++)
    if (g_strcmp0 (((DomainSnapshot *) g_ptr_array_index (all, i))->parent, name) == 0)
      return TRUE;
  return FALSE;
}

/* Whether a snapshot passes a list filter.  Every Oriel snapshot is an
 * internal, inactive (shut-off) one with metadata. */
static gboolean
snap_matches (GPtrArray *all, DomainSnapshot *snap, guint flags, gboolean roots_flag)
{
  if (roots_flag && (flags & LIST_ROOTS) && snap->parent)
    return FALSE;
  if ((flags & (LIST_LEAVES | LIST_NO_LEAVES)) && (flags & (LIST_LEAVES | LIST_NO_LEAVES)) != (LIST_LEAVES | LIST_NO_LEAVES))
    {
      gboolean leaf = !has_child (all, snap->name);
      if ((flags & LIST_LEAVES) ? !leaf : leaf)
        return FALSE;
    }
  if ((flags & (LIST_METADATA | LIST_NO_METADATA)) == LIST_NO_METADATA)
    return FALSE;
  guint state = flags & (LIST_INACTIVE | LIST_ACTIVE | LIST_DISK_ONLY);
  if (state && !(state & LIST_INACTIVE))
    return FALSE;
  guint location = flags & (LIST_INTERNAL | LIST_EXTERNAL);
  if (location && !(location & LIST_INTERNAL))
    return FALSE;
  return TRUE;
}

static gboolean
is_descendant (GPtrArray *all, DomainSnapshot *snap, const char *ancestor)
{
  const char *p = snap->parent;
  for (guint depth = 0; p && depth <= all->len; depth++)
    {
      if (g_str_equal (p, ancestor))
        return TRUE;
      const char *next = NULL;
      for (guint i = 0; i < all->len; i++)
        if (g_str_equal (((DomainSnapshot *) g_ptr_array_index (all, i))->name, p))
          next = ((DomainSnapshot *) g_ptr_array_index (all, i))->parent;
      p = next;
    }
  return FALSE;
}

/* Names of the domain's snapshots that pass flags; under parent (direct
 * children, or all descendants with LIST_DESCENDANTS) when given. */
static GPtrArray *
matching_names (Daemon *d, DomainObj *dom, guint flags, const char *parent)
{
  g_autoptr (GPtrArray) all = domain_snapshot_list (d, dom->def->name);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < all->len; i++)
    {
      DomainSnapshot *snap = g_ptr_array_index (all, i);
      if (parent)
        {
          gboolean under = (flags & LIST_DESCENDANTS) ? is_descendant (all, snap, parent)
                                                      : g_strcmp0 (snap->parent, parent) == 0;
          if (!under || !snap_matches (all, snap, flags, FALSE))
            continue;
        }
      else if (!snap_matches (all, snap, flags, TRUE))
        continue;
      g_ptr_array_add (names, g_strdup (snap->name));
    }
  return names;
}

static gboolean
p_create_xml (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_snapshot_create_xml_args *args = argp;
  DomainObj *dom = proc_domain (call, &args->dom, error);
  if (!dom)
    return FALSE;
  g_autoptr (DomainSnapshot) snap = domain_snapshot_create (DAEMON (call), dom->def, domain_is_active (dom),
                                                            args->xml_desc, args->flags, error);
  if (!snap)
    return FALSE;
  make_snap (&((remote_domain_snapshot_ret *) retp)->snap, dom, snap->name);
  return TRUE;
}

static gboolean
p_get_xml_desc (RpcCall *call, void *argp, void *retp, GError **error)
{
  g_autoptr (DomainSnapshot) snap = arg_snap (call, &((remote_domain_snapshot_flags_args *) argp)->snap, NULL, error);
  if (!snap)
    return FALSE;
  ((remote_xml_ret *) retp)->xml = domain_snapshot_format (snap);
  return TRUE;
}

static gboolean
p_num (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_flags_args *args = argp;
  DomainObj *dom = proc_domain (call, &args->dom, error);
  if (!dom)
    return FALSE;
  g_autoptr (GPtrArray) names = matching_names (DAEMON (call), dom, args->flags, NULL);
  ((remote_num_ret *) retp)->num = (int) names->len;
  return TRUE;
}

static gboolean
p_list_names (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_snapshot_list_names_args *args = argp;
  DomainObj *dom = proc_domain (call, &args->dom, error);
  if (!dom)
    return FALSE;
  if (args->maxnames < 0 || args->maxnames > REMOTE_DOMAIN_SNAPSHOT_LIST_MAX)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_RPC, _("maxnames out of range"));
      return FALSE;
    }
  g_autoptr (GPtrArray) names = matching_names (DAEMON (call), dom, args->flags, NULL);
  remote_domain_snapshot_list_names_ret *ret = retp;
  proc_set_names (&ret->names.names_len, &ret->names.names_val, (const char *const *) names->pdata,
                  MIN (names->len, (guint) args->maxnames));
  return TRUE;
}

static void
fill_list (remote_nonnull_domain_snapshot **val, u_int *len, int *count, DomainObj *dom,
           GPtrArray *names, gboolean need_results)
{
  if (need_results && names->len > 0)
    {
      *val = g_new0 (remote_nonnull_domain_snapshot, names->len);
      *len = names->len;
      for (guint i = 0; i < names->len; i++)
        make_snap (&(*val)[i], dom, g_ptr_array_index (names, i));
    }
  *count = (int) names->len;
}

static gboolean
p_list_all (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_list_all_snapshots_args *args = argp;
  DomainObj *dom = proc_domain (call, &args->dom, error);
  if (!dom)
    return FALSE;
  g_autoptr (GPtrArray) names = matching_names (DAEMON (call), dom, args->flags, NULL);
  names->len = MIN (names->len, REMOTE_DOMAIN_SNAPSHOT_LIST_MAX);
  remote_domain_list_all_snapshots_ret *ret = retp;
  fill_list (&ret->snapshots.snapshots_val, &ret->snapshots.snapshots_len, &ret->ret, dom, names,
             args->need_results);
  return TRUE;
}

static gboolean
p_list_all_children (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_snapshot_list_all_children_args *args = argp;
  DomainObj *dom = NULL;
  g_autoptr (DomainSnapshot) snap = arg_snap (call, &args->snapshot, &dom, error);
  if (!snap)
    return FALSE;
  g_autoptr (GPtrArray) names = matching_names (DAEMON (call), dom, args->flags, snap->name);
  names->len = MIN (names->len, REMOTE_DOMAIN_SNAPSHOT_LIST_MAX);
  remote_domain_list_all_snapshots_ret *ret = retp;
  fill_list (&ret->snapshots.snapshots_val, &ret->snapshots.snapshots_len, &ret->ret, dom, names,
             args->need_results);
  return TRUE;
}

static gboolean
p_num_children (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_snapshot_flags_args *args = argp;
  DomainObj *dom = NULL;
  g_autoptr (DomainSnapshot) snap = arg_snap (call, &args->snap, &dom, error);
  if (!snap)
    return FALSE;
  g_autoptr (GPtrArray) names = matching_names (DAEMON (call), dom, args->flags, snap->name);
  ((remote_num_ret *) retp)->num = (int) names->len;
  return TRUE;
}

static gboolean
p_list_children_names (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_snapshot_list_children_names_args *args = argp;
  DomainObj *dom = NULL;
  g_autoptr (DomainSnapshot) snap = arg_snap (call, &args->snap, &dom, error);
  if (!snap)
    return FALSE;
  if (args->maxnames < 0 || args->maxnames > REMOTE_DOMAIN_SNAPSHOT_LIST_MAX)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_RPC, _("maxnames out of range"));
      return FALSE;
    }
  g_autoptr (GPtrArray) names = matching_names (DAEMON (call), dom, args->flags, snap->name);
  remote_domain_snapshot_list_names_ret *ret = retp;
  proc_set_names (&ret->names.names_len, &ret->names.names_val, (const char *const *) names->pdata,
                  MIN (names->len, (guint) args->maxnames));
  return TRUE;
}

static gboolean
p_lookup_by_name (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_snapshot_lookup_by_name_args *args = argp;
  DomainObj *dom = proc_domain (call, &args->dom, error);
  if (!dom)
    return FALSE;
  g_autoptr (DomainSnapshot) snap = domain_snapshot_lookup (DAEMON (call), dom->def->name, args->name, error);
  if (!snap)
    return FALSE;
  make_snap (&((remote_domain_snapshot_ret *) retp)->snap, dom, snap->name);
  return TRUE;
}

static gboolean
p_has_current (RpcCall *call, void *argp, void *retp, GError **error)
{
  DomainObj *dom = proc_domain (call, &((remote_domain_flags_args *) argp)->dom, error);
  if (!dom)
    return FALSE;
  g_autofree char *current = domain_snapshot_current (DAEMON (call), dom->def->name);
  ((remote_num_ret *) retp)->num = current != NULL;
  return TRUE;
}

static gboolean
p_current (RpcCall *call, void *argp, void *retp, GError **error)
{
  DomainObj *dom = proc_domain (call, &((remote_domain_flags_args *) argp)->dom, error);
  if (!dom)
    return FALSE;
  g_autofree char *current = domain_snapshot_current (DAEMON (call), dom->def->name);
  if (!current)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_NO_DOMAIN_SNAPSHOT,
                   _("Domain snapshot not found: the domain does not have a current snapshot"));
      return FALSE;
    }
  make_snap (&((remote_domain_snapshot_ret *) retp)->snap, dom, current);
  return TRUE;
}

static gboolean
p_get_parent (RpcCall *call, void *argp, void *retp, GError **error)
{
  DomainObj *dom = NULL;
  g_autoptr (DomainSnapshot) snap = arg_snap (call, &((remote_domain_snapshot_flags_args *) argp)->snap, &dom, error);
  if (!snap)
    return FALSE;
  if (!snap->parent)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_NO_DOMAIN_SNAPSHOT,
                   _("Domain snapshot not found: snapshot '%s' does not have a parent"), snap->name);
      return FALSE;
    }
  make_snap (&((remote_domain_snapshot_ret *) retp)->snap, dom, snap->parent);
  return TRUE;
}

static gboolean
p_is_current (RpcCall *call, void *argp, void *retp, GError **error)
{
  DomainObj *dom = NULL;
  g_autoptr (DomainSnapshot) snap = arg_snap (call, &((remote_domain_snapshot_flags_args *) argp)->snap, &dom, error);
  if (!snap)
    return FALSE;
  g_autofree char *current = domain_snapshot_current (DAEMON (call), dom->def->name);
  ((remote_num_ret *) retp)->num = g_strcmp0 (current, snap->name) == 0;
  return TRUE;
}

static gboolean
p_has_metadata (RpcCall *call, void *argp, void *retp, GError **error)
{
  g_autoptr (DomainSnapshot) snap = arg_snap (call, &((remote_domain_snapshot_flags_args *) argp)->snap, NULL, error);
  if (!snap)
    return FALSE;
  ((remote_num_ret *) retp)->num = 1;
  return TRUE;
}

static gboolean
p_revert (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_snapshot_flags_args *args = argp;
  DomainObj *dom = NULL;
  g_autoptr (DomainSnapshot) snap = arg_snap (call, &args->snap, &dom, error);
  if (!snap)
    return FALSE;
  if (args->flags & ~(guint) REVERT_FORCE)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_ARGUMENT_UNSUPPORTED,
                   _("argument unsupported: reverting into a running or paused domain is not supported yet; "
                     "start it after the revert"));
      return FALSE;
    }
  if (domain_is_active (dom))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                   _("Requested operation is not valid: domain '%s' is running; shut it down before "
                     "reverting to snapshot '%s'"), dom->def->name, snap->name);
      return FALSE;
    }
  /* The definition first: a snapshot whose definition no longer parses
   * leaves the disks untouched. */
  g_autoptr (DomainDef) def = domain_def_parse (snap->domain_xml, strlen (snap->domain_xml), 0, error);
  if (!def)
    return FALSE;
  g_autofree char *domain = g_strdup (dom->def->name);
  if (!domain_snapshot_revert_disks (DAEMON (call), domain, snap, error))
    return FALSE;
  return domain_define (DAEMON (call), snap->domain_xml, error) != NULL;
}

static gboolean
p_delete (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_snapshot_flags_args *args = argp;
  DomainObj *dom = NULL;
  g_autoptr (DomainSnapshot) snap = arg_snap (call, &args->snap, &dom, error);
  if (!snap)
    return FALSE;
  if (domain_is_active (dom) && !(args->flags & 2 /* METADATA_ONLY */))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                   _("Requested operation is not valid: domain '%s' is running; its disks are in use"),
                   dom->def->name);
      return FALSE;
    }
  return domain_snapshot_delete (DAEMON (call), dom->def->name, snap->name, args->flags, error);
}

const RpcProcedure procedures_snapshot[] = {
  PROC_ROW (DOMAIN_SNAPSHOT_CREATE_XML, W, remote_domain_snapshot_create_xml_args, remote_domain_snapshot_ret,
            p_create_xml),
  PROC_ROW (DOMAIN_SNAPSHOT_GET_XML_DESC, 0, remote_domain_snapshot_flags_args, remote_xml_ret, p_get_xml_desc),
  PROC_ROW (DOMAIN_SNAPSHOT_NUM, 0, remote_domain_flags_args, remote_num_ret, p_num),
  PROC_ROW (DOMAIN_SNAPSHOT_LIST_NAMES, 0, remote_domain_snapshot_list_names_args,
            remote_domain_snapshot_list_names_ret, p_list_names),
  PROC_ROW (DOMAIN_SNAPSHOT_LOOKUP_BY_NAME, 0, remote_domain_snapshot_lookup_by_name_args,
            remote_domain_snapshot_ret, p_lookup_by_name),
  PROC_ROW (DOMAIN_HAS_CURRENT_SNAPSHOT, 0, remote_domain_flags_args, remote_num_ret, p_has_current),
  PROC_ROW (DOMAIN_SNAPSHOT_CURRENT, 0, remote_domain_flags_args, remote_domain_snapshot_ret, p_current),
  PROC_ROW (DOMAIN_REVERT_TO_SNAPSHOT, W, remote_domain_snapshot_flags_args, rpc_void, p_revert),
  PROC_ROW (DOMAIN_SNAPSHOT_DELETE, W, remote_domain_snapshot_flags_args, rpc_void, p_delete),
  PROC_ROW (DOMAIN_SNAPSHOT_GET_PARENT, 0, remote_domain_snapshot_flags_args, remote_domain_snapshot_ret,
            p_get_parent),
  PROC_ROW (DOMAIN_SNAPSHOT_NUM_CHILDREN, 0, remote_domain_snapshot_flags_args, remote_num_ret, p_num_children),
  PROC_ROW (DOMAIN_SNAPSHOT_LIST_CHILDREN_NAMES, 0, remote_domain_snapshot_list_children_names_args,
            remote_domain_snapshot_list_names_ret, p_list_children_names),
  PROC_ROW (DOMAIN_SNAPSHOT_IS_CURRENT, 0, remote_domain_snapshot_flags_args, remote_num_ret, p_is_current),
  PROC_ROW (DOMAIN_SNAPSHOT_HAS_METADATA, 0, remote_domain_snapshot_flags_args, remote_num_ret, p_has_metadata),
  PROC_ROW (DOMAIN_LIST_ALL_SNAPSHOTS, 0, remote_domain_list_all_snapshots_args,
            remote_domain_list_all_snapshots_ret, p_list_all),
  PROC_ROW (DOMAIN_SNAPSHOT_LIST_ALL_CHILDREN, 0, remote_domain_snapshot_list_all_children_args,
            remote_domain_list_all_snapshots_ret, p_list_all_children),
};
const gsize procedures_snapshot_count = G_N_ELEMENTS (procedures_snapshot);
