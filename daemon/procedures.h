/* The procedure layer: shared helpers of the handlers, the per-area
 * procedure tables that procedures.c indexes, and the row macro.
 *
 * A handler receives its procedure's decoded args struct and fills its ret
 * struct (generated from protocol/remote.x); the RPC server does the
 * marshalling around it.  Strings and arrays put into a ret struct are
 * owned by it (g_strdup, g_new0): the server frees them after encoding. */
#pragma once

#include "daemon.h"
#include "domain-driver.h"
#include "rpc-marshal.h"
#include "rpc-protocol.h"
#include "rpc-server.h"
#include "storage-pool.h"
#include "virt-error.h"

#define DAEMON(call) ((Daemon *) rpc_call_daemon (call))

/* A table row for REMOTE_PROC_<NAME>: flags, its args and ret struct types
 * (rpc_void for none) and its handler. */
#define PROC_ROW(NAME, flags, args, ret, handler) \
  { REMOTE_PROC_##NAME, #NAME, (flags), (xdrproc_t) xdr_##args, sizeof (args), \
    (xdrproc_t) xdr_##ret, sizeof (ret), (handler) }

/* remote_nonnull_domain: looked up by uuid like libvirtd does. */
DomainObj *proc_domain (RpcCall *call, const remote_nonnull_domain *ref, GError **error);
void proc_make_domain (remote_nonnull_domain *out, DomainObj *dom);
/* The names array of a remote_*_ret names<> field. */
void proc_set_names (u_int *len, remote_nonnull_string **val, const char *const *names, guint n);

/* Handlers several tables use. */
gboolean proc_void (RpcCall *call, void *args, void *ret, GError **error);
/* Fill remote_num_ret (or any ret that is one int) with 1 or 0. */
gboolean proc_int_one (RpcCall *call, void *args, void *ret, GError **error);
gboolean proc_int_zero (RpcCall *call, void *args, void *ret, GError **error);
/* remote_names_ret: "default" when maxnames allows; and the empty list. */
gboolean proc_list_default_name (RpcCall *call, void *args, void *ret, GError **error);
gboolean proc_list_none (RpcCall *call, void *args, void *ret, GError **error);

/* The 'default' pool and network are active, persistent and autostarted:
 * does a LIST_ALL_* flags filter admit them? */
gboolean proc_default_object_matches (guint32 flags, gboolean is_pool);

/* Domain events reach the clients that registered for them. */
void procedures_events_attach (Daemon *d);

/* Every procedure virtorield serves, by number (NULL: none). */
const RpcProcedure *procedures_lookup (int proc);
/* All of them, in table order, for tests and fuzzers. */
const RpcProcedure *const *procedures_all (gsize *n);

extern const RpcProcedure procedures_host[];
extern const gsize procedures_host_count;
extern const RpcProcedure procedures_events[];
extern const gsize procedures_events_count;
extern const RpcProcedure procedures_domain[];
extern const gsize procedures_domain_count;
extern const RpcProcedure procedures_graphics[];
extern const gsize procedures_graphics_count;
extern const RpcProcedure procedures_stats[];
extern const gsize procedures_stats_count;
extern const RpcProcedure procedures_save[];
extern const gsize procedures_save_count;
extern const RpcProcedure procedures_snapshot[];
extern const gsize procedures_snapshot_count;
extern const RpcProcedure procedures_storage[];
extern const gsize procedures_storage_count;
extern const RpcProcedure procedures_network[];
extern const gsize procedures_network_count;
extern const RpcProcedure procedures_live[];
extern const gsize procedures_live_count;
extern const RpcProcedure procedures_devices[];
extern const gsize procedures_devices_count;
