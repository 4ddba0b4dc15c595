/* Event registration procedures, and the listener that turns the domain
 * driver's typed events into event messages for the clients that asked. */
#include "procedures.h"

#include <glib/gi18n.h>

static gboolean
p_domain_event_register (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_connect_domain_event_callback_register_any_args *args = argp;
  if (args->eventID < 0 || args->eventID > 64)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("unsupported event ID %d"), args->eventID);
      return FALSE;
    }
  const guint8 *filter = args->dom ? (const guint8 *) args->dom->uuid : NULL;
  ((remote_callback_id_ret *) retp)->callbackID
    = rpc_client_add_domain_callback (rpc_call_client (call), args->eventID, filter);
  return TRUE;
}

/* The answer to a deregistration that removed something or not. */
static gboolean
deregistered (gboolean removed, int callback_id, GError **error)
{
  if (!removed)
    g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("callback %d is not registered"), callback_id);
  return removed;
}

static gboolean
p_domain_event_deregister (RpcCall *call, void *argp, void *retp, GError **error)
{
  int cb = ((const remote_callback_id_args *) argp)->callbackID;
  return deregistered (rpc_client_remove_domain_callback (rpc_call_client (call), cb), cb, error);
}

/* Network, pool, node device and secret events: ids are handed out so
 * clients can register; Oriel's fixed objects never change. */
static gboolean
p_other_event_register (RpcCall *call, void *argp, void *retp, GError **error)
{
  ((remote_callback_id_ret *) retp)->callbackID = rpc_client_add_other_callback (rpc_call_client (call));
  return TRUE;
}

static gboolean
p_other_event_deregister (RpcCall *call, void *argp, void *retp, GError **error)
{
  int cb = ((const remote_callback_id_args *) argp)->callbackID;
  return deregistered (rpc_client_remove_other_callback (rpc_call_client (call), cb), cb, error);
}

const RpcProcedure procedures_events[] = {
  PROC_ROW (CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, 0, remote_connect_domain_event_callback_register_any_args,
            remote_callback_id_ret, p_domain_event_register),
  PROC_ROW (CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, 0, remote_callback_id_args, rpc_void,
            p_domain_event_deregister),
  PROC_ROW (CONNECT_NETWORK_EVENT_REGISTER_ANY, 0, remote_connect_network_event_register_any_args,
            remote_callback_id_ret, p_other_event_register),
  PROC_ROW (CONNECT_NETWORK_EVENT_DEREGISTER_ANY, 0, remote_callback_id_args, rpc_void, p_other_event_deregister),
  PROC_ROW (CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY, 0, remote_connect_storage_pool_event_register_any_args,
            remote_callback_id_ret, p_other_event_register),
  PROC_ROW (CONNECT_STORAGE_POOL_EVENT_DEREGISTER_ANY, 0, remote_callback_id_args, rpc_void,
            p_other_event_deregister),
  PROC_ROW (CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY, 0, remote_connect_node_device_event_register_any_args,
            remote_callback_id_ret, p_other_event_register),
  PROC_ROW (CONNECT_NODE_DEVICE_EVENT_DEREGISTER_ANY, 0, remote_callback_id_args, rpc_void,
            p_other_event_deregister),
  PROC_ROW (CONNECT_SECRET_EVENT_REGISTER_ANY, 0, remote_connect_secret_event_register_any_args,
            remote_callback_id_ret, p_other_event_register),
  PROC_ROW (CONNECT_SECRET_EVENT_DEREGISTER_ANY, 0, remote_callback_id_args, rpc_void, p_other_event_deregister),
};
const gsize procedures_events_count = G_N_ELEMENTS (procedures_events);

/* ---- domain events to event messages ---- */

static void
send_lifecycle (RpcClient *client, int callback_id, gpointer data)
{
  remote_domain_event_callback_lifecycle_msg *m = data;
  m->callbackID = callback_id;
  rpc_client_send_message (client, REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE,
                           (xdrproc_t) xdr_remote_domain_event_callback_lifecycle_msg, m);
}

static void
send_reboot (RpcClient *client, int callback_id, gpointer data)
{
  remote_domain_event_callback_reboot_msg *m = data;
  m->callbackID = callback_id;
  rpc_client_send_message (client, REMOTE_PROC_DOMAIN_EVENT_CALLBACK_REBOOT,
                           (xdrproc_t) xdr_remote_domain_event_callback_reboot_msg, m);
}

static void
on_domain_event (const DomainEvent *ev, gpointer user)
{
  Daemon *d = user;
  const guint8 *uuid = ev->dom->def->uuid;
  switch (ev->type)
    {
    case DOMAIN_EVENT_LIFECYCLE:
      {
        remote_domain_event_callback_lifecycle_msg m = { 0 };
        proc_make_domain (&m.msg.dom, ev->dom);
        m.msg.event = ev->lifecycle.event;
        m.msg.detail = ev->lifecycle.detail;
        rpc_server_foreach_domain_callback (d->server, DOMAIN_EVENT_ID_LIFECYCLE, uuid, send_lifecycle, &m);
        rpc_marshal_free ((xdrproc_t) xdr_remote_domain_event_callback_lifecycle_msg, &m);
        break;
      }
    case DOMAIN_EVENT_REBOOT:
      {
        remote_domain_event_callback_reboot_msg m = { 0 };
        proc_make_domain (&m.msg.dom, ev->dom);
        rpc_server_foreach_domain_callback (d->server, DOMAIN_EVENT_ID_REBOOT, uuid, send_reboot, &m);
        rpc_marshal_free ((xdrproc_t) xdr_remote_domain_event_callback_reboot_msg, &m);
        break;
      }
    }
}

void
procedures_events_attach (Daemon *d)
{
  domain_events_listen (d, on_domain_event, d);
}
