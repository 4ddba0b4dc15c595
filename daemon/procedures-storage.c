/* Storage procedures (the 'default' directory pool and its volumes) and
 * network procedures (the 'default' user-mode NAT network). */
#include "procedures.h"
#include "domain-def.h"

#include <glib/gi18n.h>
#include <string.h>

#define W PROC_FLAG_WRITE

/* virConnectListAllStoragePools / Networks filter bits shared by both. */
enum {
  LIST_OBJ_INACTIVE = 1, LIST_OBJ_ACTIVE = 2, LIST_OBJ_PERSISTENT = 4,
  LIST_OBJ_TRANSIENT = 8, LIST_OBJ_AUTOSTART = 16, LIST_OBJ_NO_AUTOSTART = 32,
  LIST_POOLS_DIR = 64,
};

/* The default pool and network are active, persistent and autostarted. */
static gboolean
default_object_matches (guint32 flags, gboolean is_pool)
{
  if ((flags & (LIST_OBJ_INACTIVE | LIST_OBJ_ACTIVE)) && !(flags & LIST_OBJ_ACTIVE))
    return FALSE;
  if ((flags & (LIST_OBJ_PERSISTENT | LIST_OBJ_TRANSIENT)) && !(flags & LIST_OBJ_PERSISTENT))
    return FALSE;
  if ((flags & (LIST_OBJ_AUTOSTART | LIST_OBJ_NO_AUTOSTART)) && !(flags & LIST_OBJ_AUTOSTART))
    return FALSE;
  if (is_pool && (flags & ~(guint32) 63) && !(flags & LIST_POOLS_DIR))
    return FALSE;
  return TRUE;
}

/* ---- storage pool ---- */

static void
put_pool (GByteArray *b, StoragePool *pool)
{
  xdr_put_string (b, pool->name);
  xdr_put_fixed_opaque (b, pool->uuid, 16);
}

static void
pool_not_found (GError **error, const char *how, const char *what)
{
  g_set_error (error, VIRT_ERROR, VIR_ERR_NO_STORAGE_POOL,
               _("Storage pool not found: no storage pool with matching %s '%s'"), how, what);
}

static gboolean
get_pool (RpcCall *call, XdrReader *r, StoragePool **out, GError **error)
{
  g_autofree char *name = NULL;
  guint8 uuid[16];
  if (!xdr_get_string (r, RPC_STRING_MAX, &name, error) || !xdr_get_fixed_opaque (r, uuid, 16, error))
    return FALSE;
  StoragePool *pool = daemon_storage_pool (DAEMON (call));
  if (memcmp (uuid, pool->uuid, 16) != 0)
    {
      pool_not_found (error, "name", name);
      return FALSE;
    }
  *out = pool;
  return TRUE;
}

static void
put_vol (GByteArray *b, StoragePool *pool, StorageVol *vol)
{
  xdr_put_string (b, pool->name);
  xdr_put_string (b, vol->name);
  xdr_put_string (b, vol->path);
}

static gboolean
get_vol (RpcCall *call, XdrReader *r, StorageVol **out, GError **error)
{
  g_autofree char *pool_name = NULL, *name = NULL, *key = NULL;
  if (!xdr_get_string (r, RPC_STRING_MAX, &pool_name, error)
      || !xdr_get_string (r, RPC_STRING_MAX, &name, error)
      || !xdr_get_string (r, RPC_STRING_MAX, &key, error))
    return FALSE;
  StoragePool *pool = daemon_storage_pool (DAEMON (call));
  if (!g_str_equal (pool_name, pool->name))
    {
      pool_not_found (error, "name", pool_name);
      return FALSE;
    }
  *out = storage_pool_find_vol (pool, name, error);
  return *out != NULL;
}

static gboolean
p_list_all_pools (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  gint32 need;
  guint32 flags;
  if (!proc_get_list_all_args (r, &need, &flags, error))
    return FALSE;
  gboolean match = default_object_matches (flags, TRUE);
  if (need && match)
    {
      xdr_put_u32 (ret, 1);
      put_pool (ret, daemon_storage_pool (DAEMON (call)));
    }
  else
    xdr_put_u32 (ret, 0);
  xdr_put_u32 (ret, match ? 1 : 0);
  return TRUE;
}

static gboolean
p_num_one (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  xdr_put_i32 (ret, 1);
  return proc_end (r, error);
}

static gboolean
p_num_zero (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  xdr_put_i32 (ret, 0);
  return proc_end (r, error);
}

static gboolean
p_list_default_name (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  gint32 max;
  if (!xdr_get_i32 (r, &max, error) || !proc_end (r, error))
    return FALSE;
  if (max > 0)
    {
      xdr_put_u32 (ret, 1);
      xdr_put_string (ret, "default");
    }
  else
    xdr_put_u32 (ret, 0);
  return TRUE;
}

static gboolean
p_list_none (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  gint32 max;
  if (!xdr_get_i32 (r, &max, error) || !proc_end (r, error))
    return FALSE;
  xdr_put_u32 (ret, 0);
  return TRUE;
}

static gboolean
p_pool_lookup_by_name (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  g_autofree char *name = NULL;
  if (!xdr_get_string (r, RPC_STRING_MAX, &name, error) || !proc_end (r, error))
    return FALSE;
  StoragePool *pool = daemon_storage_pool (DAEMON (call));
  if (!g_str_equal (name, pool->name))
    {
      pool_not_found (error, "name", name);
      return FALSE;
    }
  put_pool (ret, pool);
  return TRUE;
}

static gboolean
p_pool_lookup_by_uuid (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  guint8 uuid[16];
  if (!xdr_get_fixed_opaque (r, uuid, 16, error) || !proc_end (r, error))
    return FALSE;
  StoragePool *pool = daemon_storage_pool (DAEMON (call));
  if (memcmp (uuid, pool->uuid, 16) != 0)
    {
      char u[37];
      domain_uuid_format (uuid, u);
      pool_not_found (error, "uuid", u);
      return FALSE;
    }
  put_pool (ret, pool);
  return TRUE;
}

static gboolean
p_pool_lookup_by_volume (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  g_autoptr (StorageVol) vol = NULL;
  if (!get_vol (call, r, &vol, error) || !proc_end (r, error))
    return FALSE;
  put_pool (ret, daemon_storage_pool (DAEMON (call)));
  return TRUE;
}

static gboolean
p_pool_get_info (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  StoragePool *pool;
  if (!get_pool (call, r, &pool, error) || !proc_end (r, error))
    return FALSE;
  guint64 cap, alloc, avail;
  storage_pool_space (pool, &cap, &alloc, &avail);
  xdr_put_u32 (ret, 2);  /* VIR_STORAGE_POOL_RUNNING */
  xdr_put_u64 (ret, cap);
  xdr_put_u64 (ret, alloc);
  xdr_put_u64 (ret, avail);
  return TRUE;
}

static gboolean
p_pool_get_xml (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  StoragePool *pool;
  guint32 flags;
  if (!get_pool (call, r, &pool, error) || !proc_get_flags (r, &flags, error) || !proc_end (r, error))
    return FALSE;
  g_autofree char *xml = storage_pool_xml (pool);
  xdr_put_string (ret, xml);
  return TRUE;
}

static gboolean
p_pool_one (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  StoragePool *pool;
  if (!get_pool (call, r, &pool, error) || !proc_end (r, error))
    return FALSE;
  xdr_put_i32 (ret, 1);
  return TRUE;
}

static gboolean
p_pool_refresh (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  StoragePool *pool;
  guint32 flags;
  /* Volumes are read from the directory on every call: nothing to cache. */
  return get_pool (call, r, &pool, error) && proc_get_flags (r, &flags, error) && proc_end (r, error)
      && storage_pool_ensure (pool, error);
}

static gboolean
p_pool_num_of_volumes (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  StoragePool *pool;
  if (!get_pool (call, r, &pool, error) || !proc_end (r, error))
    return FALSE;
  g_autoptr (GPtrArray) vols = storage_pool_list_vols (pool);
  xdr_put_i32 (ret, vols->len);
  return TRUE;
}

static gboolean
p_pool_list_volumes (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  StoragePool *pool;
  gint32 max;
  if (!get_pool (call, r, &pool, error) || !xdr_get_i32 (r, &max, error) || !proc_end (r, error))
    return FALSE;
  g_autoptr (GPtrArray) vols = storage_pool_list_vols (pool);
  guint n = MIN (vols->len, (guint) MAX (max, 0));
  xdr_put_u32 (ret, n);
  for (guint i = 0; i < n; i++)
    xdr_put_string (ret, ((StorageVol *) vols->pdata[i])->name);
  return TRUE;
}

static gboolean
p_pool_list_all_volumes (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  StoragePool *pool;
  gint32 need;
  guint32 flags;
  if (!get_pool (call, r, &pool, error) || !proc_get_list_all_args (r, &need, &flags, error))
    return FALSE;
  g_autoptr (GPtrArray) vols = storage_pool_list_vols (pool);
  if (need)
    {
      xdr_put_u32 (ret, vols->len);
      for (guint i = 0; i < vols->len; i++)
        put_vol (ret, pool, vols->pdata[i]);
    }
  else
    xdr_put_u32 (ret, 0);
  xdr_put_u32 (ret, vols->len);
  return TRUE;
}

static gboolean
p_vol_create_xml (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  StoragePool *pool;
  g_autofree char *xml = NULL;
  guint32 flags;
  if (!get_pool (call, r, &pool, error) || !xdr_get_string (r, RPC_STRING_MAX, &xml, error)
      || !proc_get_flags (r, &flags, error) || !proc_end (r, error))
    return FALSE;
  if (!storage_pool_ensure (pool, error))
    return FALSE;
  g_autoptr (StorageVol) vol = storage_pool_create_vol (pool, xml, error);
  if (!vol)
    return FALSE;
  put_vol (ret, pool, vol);
  return TRUE;
}

static gboolean
p_vol_delete (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  g_autoptr (StorageVol) vol = NULL;
  guint32 flags;
  if (!get_vol (call, r, &vol, error) || !proc_get_flags (r, &flags, error) || !proc_end (r, error))
    return FALSE;
  return storage_pool_delete_vol (daemon_storage_pool (DAEMON (call)), vol->name, error);
}

static gboolean
p_vol_lookup_by_name (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  StoragePool *pool;
  g_autofree char *name = NULL;
  if (!get_pool (call, r, &pool, error) || !xdr_get_string (r, RPC_STRING_MAX, &name, error)
      || !proc_end (r, error))
    return FALSE;
  g_autoptr (StorageVol) vol = storage_pool_find_vol (pool, name, error);
  if (!vol)
    return FALSE;
  put_vol (ret, pool, vol);
  return TRUE;
}

static gboolean
p_vol_lookup_by_path (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  g_autofree char *path = NULL;
  if (!xdr_get_string (r, RPC_STRING_MAX, &path, error) || !proc_end (r, error))
    return FALSE;
  StoragePool *pool = daemon_storage_pool (DAEMON (call));
  g_autoptr (StorageVol) vol = storage_pool_find_vol_by_path (pool, path, error);
  if (!vol)
    return FALSE;
  put_vol (ret, pool, vol);
  return TRUE;
}

static gboolean
p_vol_get_info (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  g_autoptr (StorageVol) vol = NULL;
  if (!get_vol (call, r, &vol, error) || !proc_end (r, error))
    return FALSE;
  xdr_put_u32 (ret, 0);  /* VIR_STORAGE_VOL_FILE */
  xdr_put_u64 (ret, vol->capacity);
  xdr_put_u64 (ret, vol->allocation);
  return TRUE;
}

static gboolean
p_vol_get_xml (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  g_autoptr (StorageVol) vol = NULL;
  guint32 flags;
  if (!get_vol (call, r, &vol, error) || !proc_get_flags (r, &flags, error) || !proc_end (r, error))
    return FALSE;
  g_autofree char *xml = storage_vol_xml (daemon_storage_pool (DAEMON (call)), vol);
  xdr_put_string (ret, xml);
  return TRUE;
}

static gboolean
p_vol_get_path (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  g_autoptr (StorageVol) vol = NULL;
  if (!get_vol (call, r, &vol, error) || !proc_end (r, error))
    return FALSE;
  xdr_put_string (ret, vol->path);
  return TRUE;
}

const RpcProcedure procedures_storage[] = {
  { PROC_CONNECT_LIST_ALL_STORAGE_POOLS, "CONNECT_LIST_ALL_STORAGE_POOLS", 0, p_list_all_pools },
  { PROC_CONNECT_NUM_OF_STORAGE_POOLS, "CONNECT_NUM_OF_STORAGE_POOLS", 0, p_num_one },
  { PROC_CONNECT_LIST_STORAGE_POOLS, "CONNECT_LIST_STORAGE_POOLS", 0, p_list_default_name },
  { PROC_CONNECT_NUM_OF_DEFINED_STORAGE_POOLS, "CONNECT_NUM_OF_DEFINED_STORAGE_POOLS", 0, p_num_zero },
  { PROC_CONNECT_LIST_DEFINED_STORAGE_POOLS, "CONNECT_LIST_DEFINED_STORAGE_POOLS", 0, p_list_none },
  { PROC_STORAGE_POOL_LOOKUP_BY_NAME, "STORAGE_POOL_LOOKUP_BY_NAME", 0, p_pool_lookup_by_name },
  { PROC_STORAGE_POOL_LOOKUP_BY_UUID, "STORAGE_POOL_LOOKUP_BY_UUID", 0, p_pool_lookup_by_uuid },
  { PROC_STORAGE_POOL_LOOKUP_BY_VOLUME, "STORAGE_POOL_LOOKUP_BY_VOLUME", 0, p_pool_lookup_by_volume },
  { PROC_STORAGE_POOL_GET_INFO, "STORAGE_POOL_GET_INFO", 0, p_pool_get_info },
  { PROC_STORAGE_POOL_GET_XML_DESC, "STORAGE_POOL_GET_XML_DESC", 0, p_pool_get_xml },
  { PROC_STORAGE_POOL_GET_AUTOSTART, "STORAGE_POOL_GET_AUTOSTART", 0, p_pool_one },
  { PROC_STORAGE_POOL_IS_ACTIVE, "STORAGE_POOL_IS_ACTIVE", 0, p_pool_one },
  { PROC_STORAGE_POOL_IS_PERSISTENT, "STORAGE_POOL_IS_PERSISTENT", 0, p_pool_one },
  { PROC_STORAGE_POOL_REFRESH, "STORAGE_POOL_REFRESH", 0, p_pool_refresh },
  { PROC_STORAGE_POOL_NUM_OF_VOLUMES, "STORAGE_POOL_NUM_OF_VOLUMES", 0, p_pool_num_of_volumes },
  { PROC_STORAGE_POOL_LIST_VOLUMES, "STORAGE_POOL_LIST_VOLUMES", 0, p_pool_list_volumes },
  { PROC_STORAGE_POOL_LIST_ALL_VOLUMES, "STORAGE_POOL_LIST_ALL_VOLUMES", 0, p_pool_list_all_volumes },
  { PROC_STORAGE_VOL_CREATE_XML, "STORAGE_VOL_CREATE_XML", W, p_vol_create_xml },
  { PROC_STORAGE_VOL_DELETE, "STORAGE_VOL_DELETE", W, p_vol_delete },
  { PROC_STORAGE_VOL_LOOKUP_BY_NAME, "STORAGE_VOL_LOOKUP_BY_NAME", 0, p_vol_lookup_by_name },
  { PROC_STORAGE_VOL_LOOKUP_BY_KEY, "STORAGE_VOL_LOOKUP_BY_KEY", 0, p_vol_lookup_by_path },
  { PROC_STORAGE_VOL_LOOKUP_BY_PATH, "STORAGE_VOL_LOOKUP_BY_PATH", 0, p_vol_lookup_by_path },
  { PROC_STORAGE_VOL_GET_INFO, "STORAGE_VOL_GET_INFO", 0, p_vol_get_info },
  { PROC_STORAGE_VOL_GET_XML_DESC, "STORAGE_VOL_GET_XML_DESC", 0, p_vol_get_xml },
  { PROC_STORAGE_VOL_GET_PATH, "STORAGE_VOL_GET_PATH", 0, p_vol_get_path },
};
const gsize procedures_storage_count = G_N_ELEMENTS (procedures_storage);

/* ---- network ---- */

static void
put_network (GByteArray *b, Daemon *d)
{
  xdr_put_string (b, "default");
  xdr_put_fixed_opaque (b, d->network_uuid, 16);
}

static void
network_not_found (GError **error, const char *how, const char *what)
{
  g_set_error (error, VIRT_ERROR, VIR_ERR_NO_NETWORK,
               _("Network not found: no network with matching %s '%s'"), how, what);
}

static gboolean
get_network (RpcCall *call, XdrReader *r, GError **error)
{
  g_autofree char *name = NULL;
  guint8 uuid[16];
  if (!xdr_get_string (r, RPC_STRING_MAX, &name, error) || !xdr_get_fixed_opaque (r, uuid, 16, error))
    return FALSE;
  if (memcmp (uuid, DAEMON (call)->network_uuid, 16) != 0)
    {
      network_not_found (error, "name", name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
p_list_all_networks (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  gint32 need;
  guint32 flags;
  if (!proc_get_list_all_args (r, &need, &flags, error))
    return FALSE;
  gboolean match = default_object_matches (flags, FALSE);
  if (need && match)
    {
      xdr_put_u32 (ret, 1);
      put_network (ret, DAEMON (call));
    }
  else
    xdr_put_u32 (ret, 0);
  xdr_put_u32 (ret, match ? 1 : 0);
  return TRUE;
}

static gboolean
p_network_lookup_by_name (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  g_autofree char *name = NULL;
  if (!xdr_get_string (r, RPC_STRING_MAX, &name, error) || !proc_end (r, error))
    return FALSE;
  if (!g_str_equal (name, "default"))
    {
      network_not_found (error, "name", name);
      return FALSE;
    }
  put_network (ret, DAEMON (call));
  return TRUE;
}

static gboolean
p_network_lookup_by_uuid (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  guint8 uuid[16];
  if (!xdr_get_fixed_opaque (r, uuid, 16, error) || !proc_end (r, error))
    return FALSE;
  if (memcmp (uuid, DAEMON (call)->network_uuid, 16) != 0)
    {
      char u[37];
      domain_uuid_format (uuid, u);
      network_not_found (error, "uuid", u);
      return FALSE;
    }
  put_network (ret, DAEMON (call));
  return TRUE;
}

static gboolean
p_network_get_xml (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  guint32 flags;
  if (!get_network (call, r, error) || !proc_get_flags (r, &flags, error) || !proc_end (r, error))
    return FALSE;
  char uuid[37];
  domain_uuid_format (DAEMON (call)->network_uuid, uuid);
  /* User-mode NAT inside each VMM: the addresses are the guest's view. */
  g_autofree char *xml = g_strdup_printf ("<network>\n"
                                          "  <name>default</name>\n"
                                          "  <uuid>%s</uuid>\n"
                                          "  <forward mode='nat'/>\n"
                                          "  <ip address='10.0.2.2' netmask='255.255.255.0'>\n"
                                          "    <dhcp>\n"
                                          "      <range start='10.0.2.15' end='10.0.2.15'/>\n"
                                          "    </dhcp>\n"
                                          "  </ip>\n"
                                          "</network>\n", uuid);
  xdr_put_string (ret, xml);
  return TRUE;
}

static gboolean
p_network_one (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  if (!get_network (call, r, error) || !proc_end (r, error))
    return FALSE;
  xdr_put_i32 (ret, 1);
  return TRUE;
}

static gboolean
p_network_get_bridge_name (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  if (!get_network (call, r, error) || !proc_end (r, error))
    return FALSE;
  g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_UNSUPPORTED,
               _("network 'default' is user-mode NAT inside each VM and has no host bridge"));
  return FALSE;
}

const RpcProcedure procedures_network[] = {
  { PROC_CONNECT_LIST_ALL_NETWORKS, "CONNECT_LIST_ALL_NETWORKS", 0, p_list_all_networks },
  { PROC_CONNECT_NUM_OF_NETWORKS, "CONNECT_NUM_OF_NETWORKS", 0, p_num_one },
  { PROC_CONNECT_LIST_NETWORKS, "CONNECT_LIST_NETWORKS", 0, p_list_default_name },
  { PROC_CONNECT_NUM_OF_DEFINED_NETWORKS, "CONNECT_NUM_OF_DEFINED_NETWORKS", 0, p_num_zero },
  { PROC_CONNECT_LIST_DEFINED_NETWORKS, "CONNECT_LIST_DEFINED_NETWORKS", 0, p_list_none },
  { PROC_NETWORK_LOOKUP_BY_NAME, "NETWORK_LOOKUP_BY_NAME", 0, p_network_lookup_by_name },
  { PROC_NETWORK_LOOKUP_BY_UUID, "NETWORK_LOOKUP_BY_UUID", 0, p_network_lookup_by_uuid },
  { PROC_NETWORK_GET_XML_DESC, "NETWORK_GET_XML_DESC", 0, p_network_get_xml },
  { PROC_NETWORK_GET_AUTOSTART, "NETWORK_GET_AUTOSTART", 0, p_network_one },
  { PROC_NETWORK_IS_ACTIVE, "NETWORK_IS_ACTIVE", 0, p_network_one },
  { PROC_NETWORK_IS_PERSISTENT, "NETWORK_IS_PERSISTENT", 0, p_network_one },
  { PROC_NETWORK_GET_BRIDGE_NAME, "NETWORK_GET_BRIDGE_NAME", 0, p_network_get_bridge_name },
};
const gsize procedures_network_count = G_N_ELEMENTS (procedures_network);
