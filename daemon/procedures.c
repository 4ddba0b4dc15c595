/* The dispatch index over every procedure table, the connection and host
 * procedures, and event registration. */
#include "procedures.h"
#include "host-info.h"
#include "polkit-auth.h"
#include "xen-xm-import.h"

#include <glib/gi18n.h>
#include <string.h>

gboolean
proc_end (XdrReader *r, GError **error)
{
  return xdr_reader_finish (r, error);
}

gboolean
proc_get_flags (XdrReader *r, guint32 *flags, GError **error)
{
  return xdr_get_u32 (r, flags, error);
}

gboolean
proc_get_list_all_args (XdrReader *r, gint32 *need_results, guint32 *flags, GError **error)
{
  return xdr_get_i32 (r, need_results, error) && xdr_get_u32 (r, flags, error) && proc_end (r, error);
}

gboolean
proc_get_domain (RpcCall *call, XdrReader *r, DomainObj **out, GError **error)
{
  g_autofree char *name = NULL;
  guint8 uuid[16];
  gint32 id;
  if (!xdr_get_string (r, RPC_STRING_MAX, &name, error)
      || !xdr_get_fixed_opaque (r, uuid, 16, error)
      || !xdr_get_i32 (r, &id, error))
    return FALSE;
  DomainObj *dom = domain_lookup_uuid (DAEMON (call), uuid);
  if (!dom)
    {
      char u[37];
      domain_uuid_format (uuid, u);
      domain_set_not_found (error, "uuid", u);
      return FALSE;
    }
  *out = dom;
  return TRUE;
}

void
proc_put_domain (GByteArray *b, DomainObj *dom)
{
  xdr_put_string (b, dom->def->name);
  xdr_put_fixed_opaque (b, dom->def->uuid, 16);
  xdr_put_i32 (b, dom->id);
}

/* ---------------------------------------------------------------- */

static gboolean
p_auth_list (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  if (!proc_end (r, error))
    return FALSE;
  /* By default only root (or the socket's group) can reach the read-write
   * socket: the file mode is the access control, as with libvirtd's
   * unix_sock.  With --auth-rw polkit other users must ask polkit. */
  xdr_put_u32 (ret, 1);
  xdr_put_i32 (ret, rpc_client_auth_pending (rpc_call_client (call)) ? REMOTE_AUTH_POLKIT
                                                                     : REMOTE_AUTH_NONE);
  return TRUE;
}

static void
polkit_done (const GError *error, gpointer data)
{
  RpcCall *call = data;
  if (error)
    rpc_call_complete (call, NULL, error);
  else
    {
      rpc_client_set_authenticated (rpc_call_client (call));
      g_autoptr (GByteArray) ret = g_byte_array_new ();
      xdr_put_i32 (ret, 1);   /* complete */
      rpc_call_complete (call, ret, NULL);
    }
  rpc_call_unref (call);
}

static gboolean
p_auth_polkit (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  if (!proc_end (r, error))
    return FALSE;
  RpcClient *client = rpc_call_client (call);
  if (!rpc_client_auth_pending (client))
    {
      xdr_put_i32 (ret, 1);
      return TRUE;
    }
  pid_t pid;
  uid_t uid;
  rpc_client_peer (client, &pid, &uid);
  if (pid <= 0)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_AUTH_FAILED,
                   _("authentication failed: the client process is unknown"));
      return FALSE;
    }
  polkit_auth_check (pid, uid, POLKIT_ACTION_MANAGE, polkit_done, rpc_call_defer (call));
  return TRUE;
}

static gboolean
p_supports_feature (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  gint32 feature;
  if (!xdr_get_i32 (r, &feature, error) || !proc_end (r, error))
    return FALSE;
  gboolean yes = feature == FEATURE_PROGRAM_KEEPALIVE || feature == FEATURE_REMOTE_EVENT_CALLBACK
              || feature == FEATURE_REMOTE_CLOSE_CALLBACK || feature == FEATURE_TYPED_PARAM_STRING
              || feature == FEATURE_FD_PASSING;
  xdr_put_i32 (ret, yes);
  return TRUE;
}

static gboolean
p_open (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  g_autofree char *name = NULL;
  guint32 flags;
  if (!xdr_get_opt_string (r, RPC_STRING_MAX, &name, error) || !proc_get_flags (r, &flags, error)
      || !proc_end (r, error))
    return FALSE;
  if (rpc_client_is_open (rpc_call_client (call)))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INTERNAL_ERROR, _("connection already open"));
      return FALSE;
    }
  if (name && *name && !g_str_has_prefix (name, "oriel"))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_NO_SUPPORT,
                   _("this server only handles oriel:// URIs, not '%s'"), name);
      return FALSE;
    }
  rpc_client_set_open (rpc_call_client (call), (flags & CONNECT_RO) != 0);
  return TRUE;
}

static gboolean
p_void (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  return proc_end (r, error);
}

static gboolean
p_get_type (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  xdr_put_string (ret, "Oriel");
  return proc_end (r, error);
}

static guint64
version_number (const char *v)
{
  g_auto (GStrv) parts = g_strsplit (v, ".", 3);
  guint64 n = 0;
  for (int i = 0; i < 3; i++)
    n = n * 1000 + (parts[0] && i < (int) g_strv_length (parts) ? g_ascii_strtoull (parts[i], NULL, 10) : 0);
  return n;
}

static gboolean
p_get_version (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  xdr_put_u64 (ret, version_number (ORIEL_VERSION));
  return proc_end (r, error);
}

static gboolean
p_get_lib_version (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  /* The libvirt API level the daemon implements. */
  xdr_put_u64 (ret, 9000000);
  return proc_end (r, error);
}

static gboolean
p_get_hostname (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  xdr_put_string (ret, g_get_host_name ());
  return proc_end (r, error);
}

static gboolean
p_get_uri (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  xdr_put_string (ret, "oriel:///system");
  return proc_end (r, error);
}

static gboolean
p_get_max_vcpus (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  g_autofree char *type = NULL;
  if (!xdr_get_opt_string (r, RPC_STRING_MAX, &type, error) || !proc_end (r, error))
    return FALSE;
  xdr_put_i32 (ret, 64);
  return TRUE;
}

static gboolean
p_node_get_info (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  HostNodeInfo ni;
  host_node_info (&ni);
  xdr_put_char_array_fixed (ret, ni.model, 32);
  xdr_put_u64 (ret, ni.memory_kib);
  xdr_put_i32 (ret, ni.cpus);
  xdr_put_i32 (ret, ni.mhz);
  xdr_put_i32 (ret, ni.nodes);
  xdr_put_i32 (ret, ni.sockets);
  xdr_put_i32 (ret, ni.cores);
  xdr_put_i32 (ret, ni.threads);
  return proc_end (r, error);
}

static gboolean
p_node_get_free_memory (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  xdr_put_u64 (ret, host_free_memory_bytes ());
  return proc_end (r, error);
}

static gboolean
p_get_capabilities (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  Daemon *d = DAEMON (call);
  g_autofree char *xml = host_capabilities_xml (d->host_uuid, d->paths.vmm_path);
  xdr_put_string (ret, xml);
  return proc_end (r, error);
}

static gboolean
p_get_domain_capabilities (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  g_autofree char *emulator = NULL, *arch = NULL, *machine = NULL, *virttype = NULL;
  guint32 flags;
  if (!xdr_get_opt_string (r, RPC_STRING_MAX, &emulator, error)
      || !xdr_get_opt_string (r, RPC_STRING_MAX, &arch, error)
      || !xdr_get_opt_string (r, RPC_STRING_MAX, &machine, error)
      || !xdr_get_opt_string (r, RPC_STRING_MAX, &virttype, error)
      || !proc_get_flags (r, &flags, error) || !proc_end (r, error))
    return FALSE;
  if (arch && !g_str_equal (arch, "x86_64"))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                   _("unsupported configuration: architecture '%s'"), arch);
      return FALSE;
    }
  if (virttype && !g_str_equal (virttype, "kvm"))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                   _("unsupported configuration: virtualization type '%s'"), virttype);
      return FALSE;
    }
  g_autofree char *xml = host_domain_capabilities_xml (DAEMON (call)->paths.vmm_path, machine);
  xdr_put_string (ret, xml);
  return TRUE;
}

static gboolean
p_node_get_security_model (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  xdr_put_char_array_var (ret, "none");
  xdr_put_char_array_var (ret, "0");
  return proc_end (r, error);
}

static gboolean
p_int_one (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  xdr_put_i32 (ret, 1);
  return proc_end (r, error);
}

static gboolean
p_int_zero (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  xdr_put_i32 (ret, 0);
  return proc_end (r, error);
}

static gboolean
p_node_num_of_devices (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  g_autofree char *cap = NULL;
  guint32 flags;
  if (!xdr_get_opt_string (r, RPC_STRING_MAX, &cap, error) || !proc_get_flags (r, &flags, error)
      || !proc_end (r, error))
    return FALSE;
  xdr_put_i32 (ret, 0);
  return TRUE;
}

static gboolean
p_node_list_devices (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  g_autofree char *cap = NULL;
  gint32 max;
  guint32 flags;
  if (!xdr_get_opt_string (r, RPC_STRING_MAX, &cap, error) || !xdr_get_i32 (r, &max, error)
      || !proc_get_flags (r, &flags, error) || !proc_end (r, error))
    return FALSE;
  xdr_put_u32 (ret, 0);
  return TRUE;
}

/* Interfaces, node devices, nwfilters, secrets: Oriel manages none. */
static gboolean
p_list_all_empty (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  gint32 need;
  guint32 flags;
  if (!proc_get_list_all_args (r, &need, &flags, error))
    return FALSE;
  xdr_put_u32 (ret, 0);
  xdr_put_u32 (ret, 0);
  return TRUE;
}

static gboolean
p_domain_xml_from_native (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  g_autofree char *format = NULL, *config = NULL;
  guint32 flags;
  if (!xdr_get_string (r, RPC_STRING_MAX, &format, error)
      || !xdr_get_string (r, RPC_STRING_MAX, &config, error)
      || !proc_get_flags (r, &flags, error) || !proc_end (r, error))
    return FALSE;
  if (!g_str_equal (format, "xen-xm"))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                   _("unsupported configuration: native format '%s' (Oriel reads 'xen-xm')"), format);
      return FALSE;
    }
  g_autofree char *xml = xen_xm_to_domain_xml (config, error);
  if (!xml)
    return FALSE;
  xdr_put_string (ret, xml);
  return TRUE;
}

/* ---- events ---- */

static gboolean
p_domain_event_register (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  gint32 event_id;
  gboolean present;
  guint8 uuid[16];
  g_autofree char *name = NULL;
  gint32 id;
  if (!xdr_get_i32 (r, &event_id, error) || !xdr_get_bool (r, &present, error))
    return FALSE;
  if (present && (!xdr_get_string (r, RPC_STRING_MAX, &name, error)
                  || !xdr_get_fixed_opaque (r, uuid, 16, error) || !xdr_get_i32 (r, &id, error)))
    return FALSE;
  if (!proc_end (r, error))
    return FALSE;
  if (event_id < 0 || event_id > 64)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("unsupported event ID %d"), event_id);
      return FALSE;
    }
  xdr_put_i32 (ret, rpc_client_add_domain_callback (rpc_call_client (call), event_id, present ? uuid : NULL));
  return TRUE;
}

static gboolean
p_domain_event_deregister (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  gint32 cb;
  if (!xdr_get_i32 (r, &cb, error) || !proc_end (r, error))
    return FALSE;
  if (!rpc_client_remove_domain_callback (rpc_call_client (call), cb))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("callback %d is not registered"), cb);
      return FALSE;
    }
  return TRUE;
}

/* Network, pool, node device and secret events: ids are handed out so
 * clients can register; Oriel's fixed objects never change. */
static gboolean
p_other_event_register (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  gint32 event_id;
  gboolean present;
  if (!xdr_get_i32 (r, &event_id, error) || !xdr_get_bool (r, &present, error))
    return FALSE;
  /* The optional object filter is skipped whatever its shape. */
  r->pos = r->len;
  xdr_put_i32 (ret, rpc_client_add_other_callback (rpc_call_client (call)));
  return TRUE;
}

static gboolean
p_other_event_deregister (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  gint32 cb;
  if (!xdr_get_i32 (r, &cb, error) || !proc_end (r, error))
    return FALSE;
  if (!rpc_client_remove_other_callback (rpc_call_client (call), cb))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("callback %d is not registered"), cb);
      return FALSE;
    }
  return TRUE;
}

#define B PROC_FLAG_BEFORE_OPEN
#define A PROC_FLAG_AUTH
const RpcProcedure procedures_host[] = {
  { PROC_AUTH_LIST, "AUTH_LIST", B | A, p_auth_list },
  { PROC_AUTH_POLKIT, "AUTH_POLKIT", B | A, p_auth_polkit },
  { PROC_CONNECT_SUPPORTS_FEATURE, "CONNECT_SUPPORTS_FEATURE", B, p_supports_feature },
  { PROC_CONNECT_OPEN, "CONNECT_OPEN", B, p_open },
  { PROC_CONNECT_CLOSE, "CONNECT_CLOSE", 0, p_void },
  { PROC_CONNECT_REGISTER_CLOSE_CALLBACK, "CONNECT_REGISTER_CLOSE_CALLBACK", 0, p_void },
  { PROC_CONNECT_UNREGISTER_CLOSE_CALLBACK, "CONNECT_UNREGISTER_CLOSE_CALLBACK", 0, p_void },
  { PROC_CONNECT_GET_TYPE, "CONNECT_GET_TYPE", 0, p_get_type },
  { PROC_CONNECT_GET_VERSION, "CONNECT_GET_VERSION", 0, p_get_version },
  { PROC_CONNECT_GET_LIB_VERSION, "CONNECT_GET_LIB_VERSION", 0, p_get_lib_version },
  { PROC_CONNECT_GET_HOSTNAME, "CONNECT_GET_HOSTNAME", 0, p_get_hostname },
  { PROC_CONNECT_GET_URI, "CONNECT_GET_URI", 0, p_get_uri },
  { PROC_CONNECT_GET_MAX_VCPUS, "CONNECT_GET_MAX_VCPUS", 0, p_get_max_vcpus },
  { PROC_CONNECT_IS_SECURE, "CONNECT_IS_SECURE", 0, p_int_one },
  { PROC_NODE_GET_INFO, "NODE_GET_INFO", 0, p_node_get_info },
  { PROC_NODE_GET_FREE_MEMORY, "NODE_GET_FREE_MEMORY", 0, p_node_get_free_memory },
  { PROC_NODE_GET_SECURITY_MODEL, "NODE_GET_SECURITY_MODEL", 0, p_node_get_security_model },
  { PROC_CONNECT_GET_CAPABILITIES, "CONNECT_GET_CAPABILITIES", 0, p_get_capabilities },
  { PROC_CONNECT_GET_DOMAIN_CAPABILITIES, "CONNECT_GET_DOMAIN_CAPABILITIES", 0, p_get_domain_capabilities },
  { PROC_CONNECT_DOMAIN_XML_FROM_NATIVE, "CONNECT_DOMAIN_XML_FROM_NATIVE", 0, p_domain_xml_from_native },
  { PROC_NODE_NUM_OF_DEVICES, "NODE_NUM_OF_DEVICES", 0, p_node_num_of_devices },
  { PROC_NODE_LIST_DEVICES, "NODE_LIST_DEVICES", 0, p_node_list_devices },
  { PROC_CONNECT_LIST_ALL_NODE_DEVICES, "CONNECT_LIST_ALL_NODE_DEVICES", 0, p_list_all_empty },
  { PROC_CONNECT_LIST_ALL_INTERFACES, "CONNECT_LIST_ALL_INTERFACES", 0, p_list_all_empty },
  { PROC_CONNECT_LIST_ALL_NWFILTERS, "CONNECT_LIST_ALL_NWFILTERS", 0, p_list_all_empty },
  { PROC_CONNECT_LIST_ALL_SECRETS, "CONNECT_LIST_ALL_SECRETS", 0, p_list_all_empty },
  { PROC_CONNECT_NUM_OF_SECRETS, "CONNECT_NUM_OF_SECRETS", 0, p_int_zero },
  { PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, "CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY", 0, p_domain_event_register },
  { PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, "CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY", 0, p_domain_event_deregister },
  { PROC_CONNECT_NETWORK_EVENT_REGISTER_ANY, "CONNECT_NETWORK_EVENT_REGISTER_ANY", 0, p_other_event_register },
  { PROC_CONNECT_NETWORK_EVENT_DEREGISTER_ANY, "CONNECT_NETWORK_EVENT_DEREGISTER_ANY", 0, p_other_event_deregister },
  { PROC_CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY, "CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY", 0, p_other_event_register },
  { PROC_CONNECT_STORAGE_POOL_EVENT_DEREGISTER_ANY, "CONNECT_STORAGE_POOL_EVENT_DEREGISTER_ANY", 0, p_other_event_deregister },
  { PROC_CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY, "CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY", 0, p_other_event_register },
  { PROC_CONNECT_NODE_DEVICE_EVENT_DEREGISTER_ANY, "CONNECT_NODE_DEVICE_EVENT_DEREGISTER_ANY", 0, p_other_event_deregister },
  { PROC_CONNECT_SECRET_EVENT_REGISTER_ANY, "CONNECT_SECRET_EVENT_REGISTER_ANY", 0, p_other_event_register },
  { PROC_CONNECT_SECRET_EVENT_DEREGISTER_ANY, "CONNECT_SECRET_EVENT_DEREGISTER_ANY", 0, p_other_event_deregister },
};
const gsize procedures_host_count = G_N_ELEMENTS (procedures_host);

#define MAX_PROC 512

const RpcProcedure *
rpc_procedure_lookup (int proc)
{
  static const RpcProcedure *index[MAX_PROC];
  static gsize initialized;
  if (g_once_init_enter (&initialized))
    {
      const struct { const RpcProcedure *t; gsize n; } tables[] = {
        { procedures_host, procedures_host_count },
        { procedures_domain, procedures_domain_count },
        { procedures_stats, procedures_stats_count },
        { procedures_save, procedures_save_count },
        { procedures_graphics, procedures_graphics_count },
        { procedures_storage, procedures_storage_count },
        { procedures_network, procedures_network_count },
      };
      for (gsize t = 0; t < G_N_ELEMENTS (tables); t++)
        for (gsize i = 0; i < tables[t].n; i++)
          {
            g_assert (tables[t].t[i].proc > 0 && tables[t].t[i].proc < MAX_PROC);
            g_assert (index[tables[t].t[i].proc] == NULL);
            index[tables[t].t[i].proc] = &tables[t].t[i];
          }
      g_once_init_leave (&initialized, 1);
    }
  if (proc <= 0 || proc >= MAX_PROC)
    return NULL;
  return index[proc];
}
