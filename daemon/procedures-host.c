/* Connection procedures (authentication, open/close, features, identity)
 * and host procedures (node information, capabilities, native config
 * import, the device classes Oriel does not manage). */
#include "procedures.h"
#include "host-info.h"
#include "host-stats.h"
#include "polkit-auth.h"
#include "xen-xm-import.h"

#include <glib/gi18n.h>
#include <string.h>

static gboolean
p_auth_list (RpcCall *call, void *argp, void *retp, GError **error)
{
  remote_auth_list_ret *ret = retp;
  /* By default only root (or the socket's group) can reach the read-write
   * socket: the file mode is the access control, as with libvirtd's
   * unix_sock.  With --auth-rw polkit other users must ask polkit. */
  ret->types.types_len = 1;
  ret->types.types_val = g_new0 (remote_auth_type, 1);
  ret->types.types_val[0] = rpc_client_auth_pending (rpc_call_client (call)) ? REMOTE_AUTH_POLKIT
                                                                             : REMOTE_AUTH_NONE;
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
      remote_auth_polkit_ret ret = { .complete = 1 };
      rpc_call_complete (call, &ret, NULL);
    }
  rpc_call_unref (call);
}

static gboolean
p_auth_polkit (RpcCall *call, void *argp, void *retp, GError **error)
{
  remote_auth_polkit_ret *ret = retp;
  RpcClient *client = rpc_call_client (call);
  if (!rpc_client_auth_pending (client))
    {
      ret->complete = 1;
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
p_supports_feature (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_connect_supports_feature_args *args = argp;
  remote_connect_supports_feature_ret *ret = retp;
  int feature = args->feature;
  ret->supported = feature == FEATURE_PROGRAM_KEEPALIVE || feature == FEATURE_REMOTE_EVENT_CALLBACK
                || feature == FEATURE_REMOTE_CLOSE_CALLBACK || feature == FEATURE_TYPED_PARAM_STRING
                || feature == FEATURE_FD_PASSING;
  return TRUE;
}

static gboolean
p_open (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_connect_open_args *args = argp;
  const char *name = args->name ? *args->name : NULL;
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
  rpc_client_set_open (rpc_call_client (call), (args->flags & CONNECT_RO) != 0);
  return TRUE;
}

static gboolean
p_get_type (RpcCall *call, void *argp, void *retp, GError **error)
{
  ((remote_connect_get_type_ret *) retp)->type = g_strdup ("Oriel");
  return TRUE;
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
p_get_version (RpcCall *call, void *argp, void *retp, GError **error)
{
  ((remote_connect_get_version_ret *) retp)->hv_ver = version_number (ORIEL_VERSION);
  return TRUE;
}

static gboolean
p_get_lib_version (RpcCall *call, void *argp, void *retp, GError **error)
{
  /* The libvirt API level the daemon implements. */
  ((remote_connect_get_lib_version_ret *) retp)->lib_ver = 9000000;
  return TRUE;
}

static gboolean
p_get_hostname (RpcCall *call, void *argp, void *retp, GError **error)
{
  ((remote_connect_get_hostname_ret *) retp)->hostname = g_strdup (g_get_host_name ());
  return TRUE;
}

static gboolean
p_get_uri (RpcCall *call, void *argp, void *retp, GError **error)
{
  ((remote_connect_get_uri_ret *) retp)->uri = g_strdup ("oriel:///system");
  return TRUE;
}

static gboolean
p_get_max_vcpus (RpcCall *call, void *argp, void *retp, GError **error)
{
  ((remote_connect_get_max_vcpus_ret *) retp)->max_vcpus = 64;
  return TRUE;
}

static gboolean
p_node_get_info (RpcCall *call, void *argp, void *retp, GError **error)
{
  remote_node_get_info_ret *ret = retp;
  HostNodeInfo ni;
  host_node_info (&ni);
  /* char[32]: NUL-padded, without a terminator when full. */
  memcpy (ret->model, ni.model, MIN (strlen (ni.model), sizeof ret->model));
  ret->memory = ni.memory_kib;
  ret->cpus = ni.cpus;
  ret->mhz = ni.mhz;
  ret->nodes = ni.nodes;
  ret->sockets = ni.sockets;
  ret->cores = ni.cores;
  ret->threads = ni.threads;
  return TRUE;
}

/* virNodeGetCPUMap: the host's CPUs, all online (as nodeinfo counts them);
 * vcpuinfo and python's vcpus() size their maps with it. */
static gboolean
p_node_get_cpu_map (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_node_get_cpu_map_args *args = argp;
  remote_node_get_cpu_map_ret *ret = retp;
  if (args->flags)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("unsupported flags (0x%x) in function %s"),
                   args->flags, "virNodeGetCPUMap");
      return FALSE;
    }
  HostNodeInfo ni;
  host_node_info (&ni);
  int cpus = CLAMP (ni.cpus, 1, REMOTE_CPUMAP_MAX * 8);
  if (args->need_map)
    {
      ret->cpumap.cpumap_len = (cpus + 7) / 8;
      ret->cpumap.cpumap_val = g_malloc0 (ret->cpumap.cpumap_len);
      for (int c = 0; c < cpus; c++)
        ret->cpumap.cpumap_val[c / 8] |= 1u << (c % 8);
    }
  if (args->need_online)
    ret->online = cpus;
  ret->ret = cpus;
  return TRUE;
}

static gboolean
p_node_get_free_memory (RpcCall *call, void *argp, void *retp, GError **error)
{
  ((remote_node_get_free_memory_ret *) retp)->freeMem = host_free_memory_bytes ();
  return TRUE;
}

/* virNodeGet*Stats: nparams 0 asks how many counters there are; otherwise
 * it must be that many, as libvirt's own drivers require. */
static gboolean
stats_reply (int n, const HostStat *stats, int nparams, remote_node_get_stats_field **val,
             u_int *len, int *ret_nparams, GError **error)
{
  if (n < 0)
    return FALSE;
  if (nparams == 0)
    {
      *ret_nparams = n;
      return TRUE;
    }
  if (nparams != n)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG,
                   _("invalid argument: nparams must be %d, not %d"), n, nparams);
      return FALSE;
    }
  *val = g_new0 (remote_node_get_stats_field, n);
  for (int i = 0; i < n; i++)
    {
      (*val)[i].field = g_strdup (stats[i].field);
      (*val)[i].value = stats[i].value;
    }
  *len = (u_int) n;
  *ret_nparams = n;
  return TRUE;
}

static gboolean
p_node_get_cpu_stats (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_node_get_cpu_stats_args *args = argp;
  remote_node_get_cpu_stats_ret *ret = retp;
  HostStat stats[HOST_STATS_MAX];
  int n = host_cpu_stats (args->cpuNum, stats, error);
  return stats_reply (n, stats, args->nparams, &ret->params.params_val, &ret->params.params_len,
                      &ret->nparams, error);
}

static gboolean
p_node_get_memory_stats (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_node_get_memory_stats_args *args = argp;
  remote_node_get_memory_stats_ret *ret = retp;
  HostStat stats[HOST_STATS_MAX];
  int n = host_memory_stats (args->cellNum, stats, error);
  return stats_reply (n, stats, args->nparams, &ret->params.params_val, &ret->params.params_len,
                      &ret->nparams, error);
}

static gboolean
p_get_sysinfo (RpcCall *call, void *argp, void *retp, GError **error)
{
  ((remote_connect_get_sysinfo_ret *) retp)->sysinfo = host_sysinfo_xml ();
  return TRUE;
}

static gboolean
p_get_capabilities (RpcCall *call, void *argp, void *retp, GError **error)
{
  Daemon *d = DAEMON (call);
  ((remote_connect_get_capabilities_ret *) retp)->capabilities
    = host_capabilities_xml (d->host_uuid, d->paths.vmm_path);
  return TRUE;
}

static gboolean
p_get_domain_capabilities (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_connect_get_domain_capabilities_args *args = argp;
  const char *arch = args->arch ? *args->arch : NULL;
  const char *virttype = args->virttype ? *args->virttype : NULL;
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
  Daemon *d = DAEMON (call);
  char *xml = host_domain_capabilities_xml (d->paths.vmm_path, args->machine ? *args->machine : NULL,
                                            (const char *const *) d->paths.firmware_dirs, error);
  ((remote_connect_get_domain_capabilities_ret *) retp)->capabilities = xml;
  return xml != NULL;
}

/* char<> with the trailing NUL counted, as libvirt sends security models. */
static void
set_char_array (u_int *len, char **val, const char *s)
{
  *len = strlen (s) + 1;
  *val = g_strdup (s);
}

static gboolean
p_node_get_security_model (RpcCall *call, void *argp, void *retp, GError **error)
{
  remote_node_get_security_model_ret *ret = retp;
  set_char_array (&ret->model.model_len, &ret->model.model_val, "none");
  set_char_array (&ret->doi.doi_len, &ret->doi.doi_val, "0");
  return TRUE;
}

static gboolean
p_domain_xml_from_native (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_connect_domain_xml_from_native_args *args = argp;
  if (!g_str_equal (args->nativeFormat, "xen-xm"))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                   _("unsupported configuration: native format '%s' (Oriel reads 'xen-xm')"),
                   args->nativeFormat);
      return FALSE;
    }
  char *xml = xen_xm_to_domain_xml (args->nativeConfig, error);
  ((remote_connect_domain_xml_from_native_ret *) retp)->domainXml = xml;
  return xml != NULL;
}

/* Interfaces, node devices, nwfilters, secrets: Oriel manages none, and
 * the zeroed ret of each LIST_ALL_* is the empty list with count 0. */
#define p_list_all_empty proc_void

#define B PROC_FLAG_BEFORE_OPEN
#define A PROC_FLAG_AUTH
const RpcProcedure procedures_host[] = {
  PROC_ROW (NODE_GET_CPU_MAP, 0, remote_node_get_cpu_map_args, remote_node_get_cpu_map_ret, p_node_get_cpu_map),
  PROC_ROW (AUTH_LIST, B | A, rpc_void, remote_auth_list_ret, p_auth_list),
  PROC_ROW (AUTH_POLKIT, B | A, rpc_void, remote_auth_polkit_ret, p_auth_polkit),
  PROC_ROW (CONNECT_SUPPORTS_FEATURE, B, remote_connect_supports_feature_args,
            remote_connect_supports_feature_ret, p_supports_feature),
  PROC_ROW (CONNECT_OPEN, B, remote_connect_open_args, rpc_void, p_open),
  PROC_ROW (CONNECT_CLOSE, 0, rpc_void, rpc_void, proc_void),
  PROC_ROW (CONNECT_REGISTER_CLOSE_CALLBACK, 0, rpc_void, rpc_void, proc_void),
  PROC_ROW (CONNECT_UNREGISTER_CLOSE_CALLBACK, 0, rpc_void, rpc_void, proc_void),
  PROC_ROW (CONNECT_GET_TYPE, 0, rpc_void, remote_connect_get_type_ret, p_get_type),
  PROC_ROW (CONNECT_GET_VERSION, 0, rpc_void, remote_connect_get_version_ret, p_get_version),
  PROC_ROW (CONNECT_GET_LIB_VERSION, 0, rpc_void, remote_connect_get_lib_version_ret, p_get_lib_version),
  PROC_ROW (CONNECT_GET_HOSTNAME, 0, rpc_void, remote_connect_get_hostname_ret, p_get_hostname),
  PROC_ROW (CONNECT_GET_URI, 0, rpc_void, remote_connect_get_uri_ret, p_get_uri),
  PROC_ROW (CONNECT_GET_MAX_VCPUS, 0, remote_connect_get_max_vcpus_args, remote_connect_get_max_vcpus_ret,
            p_get_max_vcpus),
  PROC_ROW (CONNECT_IS_SECURE, 0, rpc_void, remote_connect_is_secure_ret, proc_int_one),
  PROC_ROW (NODE_GET_INFO, 0, rpc_void, remote_node_get_info_ret, p_node_get_info),
  PROC_ROW (NODE_GET_FREE_MEMORY, 0, rpc_void, remote_node_get_free_memory_ret, p_node_get_free_memory),
  PROC_ROW (NODE_GET_CPU_STATS, 0, remote_node_get_cpu_stats_args, remote_node_get_cpu_stats_ret,
            p_node_get_cpu_stats),
  PROC_ROW (NODE_GET_MEMORY_STATS, 0, remote_node_get_memory_stats_args, remote_node_get_memory_stats_ret,
            p_node_get_memory_stats),
  PROC_ROW (CONNECT_GET_SYSINFO, 0, remote_connect_get_sysinfo_args, remote_connect_get_sysinfo_ret,
            p_get_sysinfo),
  PROC_ROW (NODE_GET_SECURITY_MODEL, 0, rpc_void, remote_node_get_security_model_ret, p_node_get_security_model),
  PROC_ROW (CONNECT_GET_CAPABILITIES, 0, rpc_void, remote_connect_get_capabilities_ret, p_get_capabilities),
  PROC_ROW (CONNECT_GET_DOMAIN_CAPABILITIES, 0, remote_connect_get_domain_capabilities_args,
            remote_connect_get_domain_capabilities_ret, p_get_domain_capabilities),
  PROC_ROW (CONNECT_DOMAIN_XML_FROM_NATIVE, 0, remote_connect_domain_xml_from_native_args,
            remote_connect_domain_xml_from_native_ret, p_domain_xml_from_native),
  PROC_ROW (NODE_NUM_OF_DEVICES, 0, remote_node_num_of_devices_args, remote_num_ret, proc_int_zero),
  PROC_ROW (NODE_LIST_DEVICES, 0, remote_node_list_devices_args, remote_node_list_devices_ret, proc_list_none),
  PROC_ROW (CONNECT_LIST_ALL_NODE_DEVICES, 0, remote_list_all_args, remote_connect_list_all_node_devices_ret,
            p_list_all_empty),
  PROC_ROW (CONNECT_LIST_ALL_INTERFACES, 0, remote_list_all_args, remote_connect_list_all_interfaces_ret,
            p_list_all_empty),
  PROC_ROW (CONNECT_LIST_ALL_NWFILTERS, 0, remote_list_all_args, remote_connect_list_all_nwfilters_ret,
            p_list_all_empty),
  PROC_ROW (CONNECT_LIST_ALL_SECRETS, 0, remote_list_all_args, remote_connect_list_all_secrets_ret,
            p_list_all_empty),
  PROC_ROW (CONNECT_NUM_OF_SECRETS, 0, rpc_void, remote_num_ret, proc_int_zero),
};
const gsize procedures_host_count = G_N_ELEMENTS (procedures_host);
