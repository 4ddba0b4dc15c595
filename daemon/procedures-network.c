/* Network procedures: the 'default' network, user-mode NAT inside each
 * VMM. */
#include "procedures.h"
#include "domain-def.h"

#include <glib/gi18n.h>
#include <string.h>

static void
make_network (remote_nonnull_network *out, Daemon *d)
{
  out->name = g_strdup ("default");
  memcpy (out->uuid, d->network_uuid, 16);
}

static void
network_not_found (GError **error, const char *how, const char *what)
{
  g_set_error (error, VIRT_ERROR, VIR_ERR_NO_NETWORK,
               _("Network not found: no network with matching %s '%s'"), how, what);
}

/* Is ref the default network (by uuid)? */
static gboolean
check_network (RpcCall *call, const remote_nonnull_network *ref, GError **error)
{
  if (memcmp (ref->uuid, DAEMON (call)->network_uuid, 16) != 0)
    {
      network_not_found (error, "name", ref->name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
p_list_all_networks (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_list_all_args *args = argp;
  remote_connect_list_all_networks_ret *ret = retp;
  gboolean match = proc_default_object_matches (args->flags, FALSE);
  if (args->need_results && match)
    {
      ret->nets.nets_len = 1;
      ret->nets.nets_val = g_new0 (remote_nonnull_network, 1);
      make_network (&ret->nets.nets_val[0], DAEMON (call));
    }
  ret->ret = match ? 1 : 0;
  return TRUE;
}

static gboolean
p_network_lookup_by_name (RpcCall *call, void *argp, void *retp, GError **error)
{
  const char *name = ((const remote_network_lookup_by_name_args *) argp)->name;
  if (!g_str_equal (name, "default"))
    {
      network_not_found (error, "name", name);
      return FALSE;
    }
  make_network (&((remote_network_ret *) retp)->net, DAEMON (call));
  return TRUE;
}

static gboolean
p_network_lookup_by_uuid (RpcCall *call, void *argp, void *retp, GError **error)
{
  const char *uuid = ((const remote_network_lookup_by_uuid_args *) argp)->uuid;
  if (memcmp (uuid, DAEMON (call)->network_uuid, 16) != 0)
    {
      char u[37];
      domain_uuid_format ((const guint8 *) uuid, u);
      network_not_found (error, "uuid", u);
      return FALSE;
    }
  make_network (&((remote_network_ret *) retp)->net, DAEMON (call));
  return TRUE;
}

static gboolean
p_network_get_xml (RpcCall *call, void *argp, void *retp, GError **error)
{
  if (!check_network (call, &((const remote_network_flags_args *) argp)->net, error))
    return FALSE;
  char uuid[37];
  domain_uuid_format (DAEMON (call)->network_uuid, uuid);
  /* User-mode NAT inside each VMM: the addresses are the guest's view. */
  ((remote_xml_ret *) retp)->xml = g_strdup_printf ("<network>\n"
                                                     "  <name>default</name>\n"
                                                     "  <uuid>%s</uuid>\n"
                                                     "  <forward mode='nat'/>\n"
                                                     "  <ip address='10.0.2.2' netmask='255.255.255.0'>\n"
                                                     "    <dhcp>\n"
                                                     "      <range start='10.0.2.15' end='10.0.2.15'/>\n"
                                                     "    </dhcp>\n"
                                                     "  </ip>\n"
                                                     "</network>\n", uuid);
  return TRUE;
}

static gboolean
p_network_one (RpcCall *call, void *argp, void *retp, GError **error)
{
  if (!check_network (call, &((const remote_network_args *) argp)->net, error))
    return FALSE;
  ((remote_num_ret *) retp)->num = 1;
  return TRUE;
}

static gboolean
p_network_get_bridge_name (RpcCall *call, void *argp, void *retp, GError **error)
{
  if (!check_network (call, &((const remote_network_args *) argp)->net, error))
    return FALSE;
  g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_UNSUPPORTED,
               _("network 'default' is user-mode NAT inside each VM and has no host bridge"));
  return FALSE;
}

const RpcProcedure procedures_network[] = {
  PROC_ROW (CONNECT_LIST_ALL_NETWORKS, 0, remote_list_all_args, remote_connect_list_all_networks_ret,
            p_list_all_networks),
  PROC_ROW (CONNECT_NUM_OF_NETWORKS, 0, rpc_void, remote_num_ret, proc_int_one),
  PROC_ROW (CONNECT_LIST_NETWORKS, 0, remote_maxnames_args, remote_names_ret, proc_list_default_name),
  PROC_ROW (CONNECT_NUM_OF_DEFINED_NETWORKS, 0, rpc_void, remote_num_ret, proc_int_zero),
  PROC_ROW (CONNECT_LIST_DEFINED_NETWORKS, 0, remote_maxnames_args, remote_names_ret, proc_list_none),
  PROC_ROW (NETWORK_LOOKUP_BY_NAME, 0, remote_network_lookup_by_name_args, remote_network_ret,
            p_network_lookup_by_name),
  PROC_ROW (NETWORK_LOOKUP_BY_UUID, 0, remote_network_lookup_by_uuid_args, remote_network_ret,
            p_network_lookup_by_uuid),
  PROC_ROW (NETWORK_GET_XML_DESC, 0, remote_network_flags_args, remote_xml_ret, p_network_get_xml),
  PROC_ROW (NETWORK_GET_AUTOSTART, 0, remote_network_args, remote_num_ret, p_network_one),
  PROC_ROW (NETWORK_IS_ACTIVE, 0, remote_network_args, remote_num_ret, p_network_one),
  PROC_ROW (NETWORK_IS_PERSISTENT, 0, remote_network_args, remote_num_ret, p_network_one),
  PROC_ROW (NETWORK_GET_BRIDGE_NAME, 0, remote_network_args, remote_network_get_bridge_name_ret,
            p_network_get_bridge_name),
};
const gsize procedures_network_count = G_N_ELEMENTS (procedures_network);
