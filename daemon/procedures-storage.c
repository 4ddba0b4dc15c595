/* Storage procedures: the 'default' directory pool and its volumes. */
#include "procedures.h"
#include "domain-def.h"

#include <glib/gi18n.h>
#include <string.h>

#define W PROC_FLAG_WRITE

static void
make_pool (remote_nonnull_storage_pool *out, StoragePool *pool)
{
  out->name = g_strdup (pool->name);
  memcpy (out->uuid, pool->uuid, 16);
}

static void
pool_not_found (GError **error, const char *how, const char *what)
{
  g_set_error (error, VIRT_ERROR, VIR_ERR_NO_STORAGE_POOL,
               _("Storage pool not found: no storage pool with matching %s '%s'"), how, what);
}

/* The pool a remote_nonnull_storage_pool names (by uuid). */
static StoragePool *
get_pool (RpcCall *call, const remote_nonnull_storage_pool *ref, GError **error)
{
  StoragePool *pool = daemon_storage_pool (DAEMON (call));
  if (memcmp (ref->uuid, pool->uuid, 16) != 0)
    {
      pool_not_found (error, "name", ref->name);
      return NULL;
    }
  return pool;
}

static void
make_vol (remote_nonnull_storage_vol *out, StoragePool *pool, StorageVol *vol)
{
  out->pool = g_strdup (pool->name);
  out->name = g_strdup (vol->name);
  out->key = g_strdup (vol->path);
}

static StorageVol *
get_vol (RpcCall *call, const remote_nonnull_storage_vol *ref, GError **error)
{
  StoragePool *pool = daemon_storage_pool (DAEMON (call));
  if (!g_str_equal (ref->pool, pool->name))
    {
      pool_not_found (error, "name", ref->pool);
      return NULL;
    }
  return storage_pool_find_vol (pool, ref->name, error);
}

static gboolean
p_list_all_pools (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_list_all_args *args = argp;
  remote_connect_list_all_storage_pools_ret *ret = retp;
  gboolean match = proc_default_object_matches (args->flags, TRUE);
  if (args->need_results && match)
    {
      ret->pools.pools_len = 1;
      ret->pools.pools_val = g_new0 (remote_nonnull_storage_pool, 1);
      make_pool (&ret->pools.pools_val[0], daemon_storage_pool (DAEMON (call)));
    }
  ret->ret = match ? 1 : 0;
  return TRUE;
}

static gboolean
p_pool_lookup_by_name (RpcCall *call, void *argp, void *retp, GError **error)
{
  const char *name = ((const remote_storage_pool_lookup_by_name_args *) argp)->name;
  StoragePool *pool = daemon_storage_pool (DAEMON (call));
  if (!g_str_equal (name, pool->name))
    {
      pool_not_found (error, "name", name);
      return FALSE;
    }
  make_pool (&((remote_storage_pool_ret *) retp)->pool, pool);
  return TRUE;
}

static gboolean
p_pool_lookup_by_uuid (RpcCall *call, void *argp, void *retp, GError **error)
{
  const char *uuid = ((const remote_storage_pool_lookup_by_uuid_args *) argp)->uuid;
  StoragePool *pool = daemon_storage_pool (DAEMON (call));
  if (memcmp (uuid, pool->uuid, 16) != 0)
    {
      char u[37];
      domain_uuid_format ((const guint8 *) uuid, u);
      pool_not_found (error, "uuid", u);
      return FALSE;
    }
  make_pool (&((remote_storage_pool_ret *) retp)->pool, pool);
  return TRUE;
}

static gboolean
p_pool_lookup_by_volume (RpcCall *call, void *argp, void *retp, GError **error)
{
  g_autoptr (StorageVol) vol = get_vol (call, &((const remote_storage_vol_args *) argp)->vol, error);
  if (!vol)
    return FALSE;
  make_pool (&((remote_storage_pool_ret *) retp)->pool, daemon_storage_pool (DAEMON (call)));
  return TRUE;
}

static gboolean
p_pool_get_info (RpcCall *call, void *argp, void *retp, GError **error)
{
  remote_storage_pool_get_info_ret *ret = retp;
  StoragePool *pool = get_pool (call, &((const remote_storage_pool_args *) argp)->pool, error);
  if (!pool)
    return FALSE;
  guint64 cap, alloc, avail;
  storage_pool_space (pool, &cap, &alloc, &avail);
  ret->state = 2;  /* VIR_STORAGE_POOL_RUNNING */
  ret->capacity = cap;
  ret->allocation = alloc;
  ret->available = avail;
  return TRUE;
}

static gboolean
p_pool_get_xml (RpcCall *call, void *argp, void *retp, GError **error)
{
  StoragePool *pool = get_pool (call, &((const remote_storage_pool_flags_args *) argp)->pool, error);
  if (!pool)
    return FALSE;
  ((remote_xml_ret *) retp)->xml = storage_pool_xml (pool);
  return TRUE;
}

static gboolean
p_pool_one (RpcCall *call, void *argp, void *retp, GError **error)
{
  if (!get_pool (call, &((const remote_storage_pool_args *) argp)->pool, error))
    return FALSE;
  ((remote_num_ret *) retp)->num = 1;
  return TRUE;
}

static gboolean
p_pool_refresh (RpcCall *call, void *argp, void *retp, GError **error)
{
  /* Volumes are read from the directory on every call: nothing to cache. */
  StoragePool *pool = get_pool (call, &((const remote_storage_pool_flags_args *) argp)->pool, error);
  return pool && storage_pool_ensure (pool, error);
}

static gboolean
p_pool_num_of_volumes (RpcCall *call, void *argp, void *retp, GError **error)
{
  StoragePool *pool = get_pool (call, &((const remote_storage_pool_args *) argp)->pool, error);
  if (!pool)
    return FALSE;
  g_autoptr (GPtrArray) vols = storage_pool_list_vols (pool);
  ((remote_num_ret *) retp)->num = vols->len;
  return TRUE;
}

static gboolean
p_pool_list_volumes (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_storage_pool_list_volumes_args *args = argp;
  remote_storage_pool_list_volumes_ret *ret = retp;
  StoragePool *pool = get_pool (call, &args->pool, error);
  if (!pool)
    return FALSE;
  g_autoptr (GPtrArray) vols = storage_pool_list_vols (pool);
  guint n = MIN (vols->len, (guint) MAX (args->maxnames, 0));
  ret->names.names_len = n;
  ret->names.names_val = n ? g_new0 (remote_nonnull_string, n) : NULL;
  for (guint i = 0; i < n; i++)
    ret->names.names_val[i] = g_strdup (((StorageVol *) vols->pdata[i])->name);
  return TRUE;
}

static gboolean
p_pool_list_all_volumes (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_storage_pool_list_all_volumes_args *args = argp;
  remote_storage_pool_list_all_volumes_ret *ret = retp;
  StoragePool *pool = get_pool (call, &args->pool, error);
  if (!pool)
    return FALSE;
  g_autoptr (GPtrArray) vols = storage_pool_list_vols (pool);
  if (args->need_results && vols->len)
    {
      ret->vols.vols_len = vols->len;
      ret->vols.vols_val = g_new0 (remote_nonnull_storage_vol, vols->len);
      for (guint i = 0; i < vols->len; i++)
        make_vol (&ret->vols.vols_val[i], pool, vols->pdata[i]);
    }
  ret->ret = vols->len;
  return TRUE;
}

static gboolean
p_vol_create_xml (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_storage_vol_create_xml_args *args = argp;
  StoragePool *pool = get_pool (call, &args->pool, error);
  if (!pool || !storage_pool_ensure (pool, error))
    return FALSE;
  g_autoptr (StorageVol) vol = storage_pool_create_vol (pool, args->xml, error);
  if (!vol)
    return FALSE;
  make_vol (&((remote_storage_vol_ret *) retp)->vol, pool, vol);
  return TRUE;
}

static gboolean
p_vol_create_xml_from (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_storage_vol_create_xml_from_args *args = argp;
  StoragePool *pool = get_pool (call, &args->pool, error);
  if (!pool || !storage_pool_ensure (pool, error))
    return FALSE;
  g_autoptr (StorageVol) source = get_vol (call, &args->clonevol, error);
  if (!source)
    return FALSE;
  g_autoptr (StorageVol) vol = storage_pool_clone_vol (pool, args->xml, source, error);
  if (!vol)
    return FALSE;
  make_vol (&((remote_storage_vol_ret *) retp)->vol, pool, vol);
  return TRUE;
}

static gboolean
p_vol_resize (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_storage_vol_resize_args *args = argp;
  g_autoptr (StorageVol) vol = get_vol (call, &args->vol, error);
  return vol && storage_pool_resize_vol (daemon_storage_pool (DAEMON (call)), vol, args->capacity,
                                         args->flags, error);
}

static gboolean
p_vol_delete (RpcCall *call, void *argp, void *retp, GError **error)
{
  g_autoptr (StorageVol) vol = get_vol (call, &((const remote_storage_vol_flags_args *) argp)->vol, error);
  return vol && storage_pool_delete_vol (daemon_storage_pool (DAEMON (call)), vol->name, error);
}

static gboolean
p_vol_lookup_by_name (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_storage_vol_lookup_by_name_args *args = argp;
  StoragePool *pool = get_pool (call, &args->pool, error);
  if (!pool)
    return FALSE;
  g_autoptr (StorageVol) vol = storage_pool_find_vol (pool, args->name, error);
  if (!vol)
    return FALSE;
  make_vol (&((remote_storage_vol_ret *) retp)->vol, pool, vol);
  return TRUE;
}

/* A volume's key is its path. */
static gboolean
vol_lookup_by_path (RpcCall *call, const char *path, void *retp, GError **error)
{
  StoragePool *pool = daemon_storage_pool (DAEMON (call));
  g_autoptr (StorageVol) vol = storage_pool_find_vol_by_path (pool, path, error);
  if (!vol)
    return FALSE;
  make_vol (&((remote_storage_vol_ret *) retp)->vol, pool, vol);
  return TRUE;
}

static gboolean
p_vol_lookup_by_key (RpcCall *call, void *argp, void *retp, GError **error)
{
  return vol_lookup_by_path (call, ((const remote_storage_vol_lookup_by_key_args *) argp)->key, retp, error);
}

static gboolean
p_vol_lookup_by_path (RpcCall *call, void *argp, void *retp, GError **error)
{
  return vol_lookup_by_path (call, ((const remote_storage_vol_lookup_by_path_args *) argp)->path, retp, error);
}

static gboolean
p_vol_get_info (RpcCall *call, void *argp, void *retp, GError **error)
{
  remote_storage_vol_get_info_ret *ret = retp;
  g_autoptr (StorageVol) vol = get_vol (call, &((const remote_storage_vol_args *) argp)->vol, error);
  if (!vol)
    return FALSE;
  ret->type = 0;  /* VIR_STORAGE_VOL_FILE */
  ret->capacity = vol->capacity;
  ret->allocation = vol->allocation;
  return TRUE;
}

static gboolean
p_vol_get_xml (RpcCall *call, void *argp, void *retp, GError **error)
{
  g_autoptr (StorageVol) vol = get_vol (call, &((const remote_storage_vol_flags_args *) argp)->vol, error);
  if (!vol)
    return FALSE;
  ((remote_xml_ret *) retp)->xml = storage_vol_xml (daemon_storage_pool (DAEMON (call)), vol);
  return TRUE;
}

static gboolean
p_vol_get_path (RpcCall *call, void *argp, void *retp, GError **error)
{
  g_autoptr (StorageVol) vol = get_vol (call, &((const remote_storage_vol_args *) argp)->vol, error);
  if (!vol)
    return FALSE;
  ((remote_storage_vol_get_path_ret *) retp)->name = g_strdup (vol->path);
  return TRUE;
}

const RpcProcedure procedures_storage[] = {
  PROC_ROW (CONNECT_LIST_ALL_STORAGE_POOLS, 0, remote_list_all_args, remote_connect_list_all_storage_pools_ret,
            p_list_all_pools),
  PROC_ROW (CONNECT_NUM_OF_STORAGE_POOLS, 0, rpc_void, remote_num_ret, proc_int_one),
  PROC_ROW (CONNECT_LIST_STORAGE_POOLS, 0, remote_maxnames_args, remote_names_ret, proc_list_default_name),
  PROC_ROW (CONNECT_NUM_OF_DEFINED_STORAGE_POOLS, 0, rpc_void, remote_num_ret, proc_int_zero),
  PROC_ROW (CONNECT_LIST_DEFINED_STORAGE_POOLS, 0, remote_maxnames_args, remote_names_ret, proc_list_none),
  PROC_ROW (STORAGE_POOL_LOOKUP_BY_NAME, 0, remote_storage_pool_lookup_by_name_args, remote_storage_pool_ret,
            p_pool_lookup_by_name),
  PROC_ROW (STORAGE_POOL_LOOKUP_BY_UUID, 0, remote_storage_pool_lookup_by_uuid_args, remote_storage_pool_ret,
            p_pool_lookup_by_uuid),
  PROC_ROW (STORAGE_POOL_LOOKUP_BY_VOLUME, 0, remote_storage_vol_args, remote_storage_pool_ret,
            p_pool_lookup_by_volume),
  PROC_ROW (STORAGE_POOL_GET_INFO, 0, remote_storage_pool_args, remote_storage_pool_get_info_ret, p_pool_get_info),
  PROC_ROW (STORAGE_POOL_GET_XML_DESC, 0, remote_storage_pool_flags_args, remote_xml_ret, p_pool_get_xml),
  PROC_ROW (STORAGE_POOL_GET_AUTOSTART, 0, remote_storage_pool_args, remote_num_ret, p_pool_one),
  PROC_ROW (STORAGE_POOL_IS_ACTIVE, 0, remote_storage_pool_args, remote_num_ret, p_pool_one),
  PROC_ROW (STORAGE_POOL_IS_PERSISTENT, 0, remote_storage_pool_args, remote_num_ret, p_pool_one),
  PROC_ROW (STORAGE_POOL_REFRESH, 0, remote_storage_pool_flags_args, rpc_void, p_pool_refresh),
  PROC_ROW (STORAGE_POOL_NUM_OF_VOLUMES, 0, remote_storage_pool_args, remote_num_ret, p_pool_num_of_volumes),
  PROC_ROW (STORAGE_POOL_LIST_VOLUMES, 0, remote_storage_pool_list_volumes_args,
            remote_storage_pool_list_volumes_ret, p_pool_list_volumes),
  PROC_ROW (STORAGE_POOL_LIST_ALL_VOLUMES, 0, remote_storage_pool_list_all_volumes_args,
            remote_storage_pool_list_all_volumes_ret, p_pool_list_all_volumes),
  PROC_ROW (STORAGE_VOL_CREATE_XML, W, remote_storage_vol_create_xml_args, remote_storage_vol_ret,
            p_vol_create_xml),
  PROC_ROW (STORAGE_VOL_CREATE_XML_FROM, W, remote_storage_vol_create_xml_from_args, remote_storage_vol_ret,
            p_vol_create_xml_from),
  PROC_ROW (STORAGE_VOL_RESIZE, W, remote_storage_vol_resize_args, rpc_void, p_vol_resize),
  PROC_ROW (STORAGE_VOL_DELETE, W, remote_storage_vol_flags_args, rpc_void, p_vol_delete),
  PROC_ROW (STORAGE_VOL_LOOKUP_BY_NAME, 0, remote_storage_vol_lookup_by_name_args, remote_storage_vol_ret,
            p_vol_lookup_by_name),
  PROC_ROW (STORAGE_VOL_LOOKUP_BY_KEY, 0, remote_storage_vol_lookup_by_key_args, remote_storage_vol_ret,
            p_vol_lookup_by_key),
  PROC_ROW (STORAGE_VOL_LOOKUP_BY_PATH, 0, remote_storage_vol_lookup_by_path_args, remote_storage_vol_ret,
            p_vol_lookup_by_path),
  PROC_ROW (STORAGE_VOL_GET_INFO, 0, remote_storage_vol_args, remote_storage_vol_get_info_ret, p_vol_get_info),
  PROC_ROW (STORAGE_VOL_GET_XML_DESC, 0, remote_storage_vol_flags_args, remote_xml_ret, p_vol_get_xml),
  PROC_ROW (STORAGE_VOL_GET_PATH, 0, remote_storage_vol_args, remote_storage_vol_get_path_ret, p_vol_get_path),
};
const gsize procedures_storage_count = G_N_ELEMENTS (procedures_storage);
