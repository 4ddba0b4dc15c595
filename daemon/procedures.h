/* Shared helpers of the procedure handlers, and the per-area procedure
 * tables that procedures.c merges into the dispatch index. */
#pragma once

#include "daemon.h"
#include "domain-driver.h"
#include "rpc-protocol.h"
#include "rpc-server.h"
#include "storage-pool.h"
#include "virt-error.h"
#include "xdr-codec.h"

#define DAEMON(call) ((Daemon *) rpc_call_daemon (call))

/* remote_nonnull_domain: looked up by uuid like libvirtd does. */
gboolean proc_get_domain (RpcCall *call, XdrReader *r, DomainObj **out, GError **error);
void proc_put_domain (GByteArray *b, DomainObj *dom);
gboolean proc_get_flags (XdrReader *r, guint32 *flags, GError **error);
gboolean proc_end (XdrReader *r, GError **error);
/* Decode need_results + flags of the LIST_ALL_* calls. */
gboolean proc_get_list_all_args (XdrReader *r, gint32 *need_results, guint32 *flags, GError **error);

extern const RpcProcedure procedures_host[];
extern const gsize procedures_host_count;
extern const RpcProcedure procedures_domain[];
extern const gsize procedures_domain_count;
extern const RpcProcedure procedures_graphics[];
extern const gsize procedures_graphics_count;
extern const RpcProcedure procedures_stats[];
extern const gsize procedures_stats_count;
extern const RpcProcedure procedures_save[];
extern const gsize procedures_save_count;
extern const RpcProcedure procedures_storage[];
extern const gsize procedures_storage_count;
extern const RpcProcedure procedures_network[];
extern const gsize procedures_network_count;
