/* The RPC server: listening sockets (read-write and read-only), client
 * connections, packet dispatch, keepalive, deferred replies, event
 * messages and streams. */
#pragma once

#include <gio/gio.h>
#include "rpc-marshal.h"
#include "rpc-packet.h"

typedef struct RpcServer RpcServer;
typedef struct RpcClient RpcClient;
typedef struct RpcCall RpcCall;
typedef struct RpcStream RpcStream;

/* A procedure handler gets its decoded arguments (the procedure's args
 * struct) and fills its result (the ret struct, zeroed, with memory the
 * server frees after encoding: strings and arrays are g_malloc'ed).  It
 * returns TRUE, or sets error and returns FALSE.  A handler that must wait
 * (VMM start, shutdown) calls rpc_call_defer and later completes it. */
typedef gboolean (*RpcHandler) (RpcCall *call, void *args, void *ret, GError **error);

typedef enum {
  PROC_FLAG_BEFORE_OPEN = 1 << 0, /* allowed before CONNECT_OPEN */
  PROC_FLAG_WRITE = 1 << 1,       /* changes state: refused on read-only */
  PROC_FLAG_AUTH = 1 << 2,        /* allowed before authentication */
} RpcProcedureFlags;

/* One procedure: its number and name, flags, how its args and ret structs
 * are marshalled (generated XDR routines and struct sizes), and its
 * handler. */
typedef struct {
  int proc;
  const char *name;
  guint flags;
  xdrproc_t args_filter;
  gsize args_size;
  xdrproc_t ret_filter;
  gsize ret_size;
  RpcHandler handler;
} RpcProcedure;

/* Finds the procedure of a number, or NULL. */
typedef const RpcProcedure *(*RpcProcedureLookup) (int proc);

RpcServer *rpc_server_new (gpointer daemon, RpcProcedureLookup lookup);
void rpc_server_free (RpcServer *server);
/* Before listening: read-write clients other than root must be authorized
 * by polkit, and the read-write socket is created for everyone (0666). */
void rpc_server_set_rw_polkit (RpcServer *server, gboolean polkit);
gboolean rpc_server_listen_path (RpcServer *server, const char *path, gboolean readonly, GError **error);
/* Adopt an already listening socket (systemd socket activation). */
gboolean rpc_server_listen_fd (RpcServer *server, int fd, GError **error);
guint rpc_server_client_count (RpcServer *server);

/* Calls */
gpointer rpc_call_daemon (RpcCall *call);
RpcClient *rpc_call_client (RpcCall *call);
const RpcHeader *rpc_call_header (RpcCall *call);
RpcCall *rpc_call_defer (RpcCall *call);   /* returns a reference */
/* Completes a deferred call with ret (its procedure's ret struct, still
 * owned by the caller; NULL for void) or error. */
void rpc_call_complete (RpcCall *call, gpointer ret, const GError *error);
void rpc_call_unref (RpcCall *call);
/* Pass fd (taken over) to the client with the successful reply, as
 * libvirt's REPLY_WITH_FDS; closed if the call fails. */
void rpc_call_attach_fd (RpcCall *call, int fd);

/* Clients */
RpcClient *rpc_client_ref (RpcClient *client);
void rpc_client_unref (RpcClient *client);
gboolean rpc_client_is_readonly (RpcClient *client);
/* polkit on the read-write socket (rpc_server_set_rw_polkit): a client that
 * is not root must pass AUTH_POLKIT first. */
gboolean rpc_client_auth_pending (RpcClient *client);
void rpc_client_set_authenticated (RpcClient *client);
/* The connecting process (SO_PEERCRED); uid -1 when unknown. */
void rpc_client_peer (RpcClient *client, pid_t *pid, uid_t *uid);
gboolean rpc_client_is_open (RpcClient *client);
void rpc_client_set_open (RpcClient *client, gboolean readonly);
gboolean rpc_client_is_gone (RpcClient *client);
gsize rpc_client_queued_bytes (RpcClient *client);
void rpc_client_send (RpcClient *client, GBytes *packet);
/* An asynchronous MESSAGE (an event) of procedure proc carrying msg. */
void rpc_client_send_message (RpcClient *client, int proc, xdrproc_t filter, gpointer msg);

/* Domain event callbacks (ids are per connection). */
int rpc_client_add_domain_callback (RpcClient *client, int event_id, const guint8 *uuid_filter);
gboolean rpc_client_remove_domain_callback (RpcClient *client, int callback_id);
int rpc_client_add_other_callback (RpcClient *client);
gboolean rpc_client_remove_other_callback (RpcClient *client, int callback_id);
/* Calls fn for each client callback registered for event_id whose filter
 * admits the domain of uuid. */
typedef void (*RpcDomainCallbackFn) (RpcClient *client, int callback_id, gpointer data);
void rpc_server_foreach_domain_callback (RpcServer *server, int event_id, const guint8 *uuid,
                                         RpcDomainCallbackFn fn, gpointer data);

/* Streams: the server routes STREAM packets by (proc, serial). */
typedef struct {
  void (*data) (RpcStream *s, const guint8 *buf, gsize len);
  void (*finish) (RpcStream *s);      /* client finished or aborted */
  void (*free) (gpointer user);
} RpcStreamOps;

RpcStream *rpc_stream_new (RpcCall *call, const RpcStreamOps *ops, gpointer user);
gpointer rpc_stream_user (RpcStream *s);
RpcClient *rpc_stream_client (RpcStream *s);
void rpc_stream_send_data (RpcStream *s, const guint8 *buf, gsize len);
void rpc_stream_send_eof (RpcStream *s);
void rpc_stream_send_error (RpcStream *s, int code, const char *message);
/* Pause/resume the producer when the client's queue is large. */
gboolean rpc_stream_client_congested (RpcStream *s);
void rpc_stream_close (RpcStream *s);
