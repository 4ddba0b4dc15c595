#include "rpc-server.h"
#include "rpc-protocol.h"
#include "virt-error.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <gio/gunixfdmessage.h>
#include <gio/gunixsocketaddress.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Stop reading from a client whose replies pile up unread. */
#define CLIENT_OUTQ_HIGH (8u << 20)

typedef struct {
  GSocket *socket;
  GSource *source;
  gboolean readonly;
  char *path;
  RpcServer *server;
} RpcListener;

struct RpcServer {
  gpointer daemon;
  RpcProcedureLookup lookup;
  GPtrArray *listeners;
  GList *clients;
  guint next_client_id;
  gboolean rw_polkit;   /* read-write clients other than root ask polkit */
};

typedef struct {
  int callback_id;
  int event_id;
  gboolean filtered;
  guint8 uuid[16];
} DomainCallback;

struct RpcClient {
  gint ref;
  guint id;
  RpcServer *server;
  GSocket *socket;
  GSource *in_source;
  GSource *out_source;
  gboolean listener_readonly;
  gboolean readonly;
  gboolean opened;
  gboolean auth_pending;   /* must pass AUTH_POLKIT before anything else */
  pid_t peer_pid;
  uid_t peer_uid;
  gboolean gone;
  RpcFramer framer;
  GQueue outq;          /* OutItem* */
  gsize out_off;
  gsize out_bytes;
  GList *domain_callbacks;
  GList *other_callbacks; /* GINT_TO_POINTER ids */
  int next_callback_id;
  GHashTable *streams;  /* serial -> RpcStream* */
};

struct RpcCall {
  gint ref;
  RpcClient *client;
  RpcHeader header;
  const RpcProcedure *procedure;
  gboolean deferred;
  int reply_fd;         /* passed with the reply, -1 = none */
};

/* Bytes to write; with fd >= 0, a one-byte item whose sendmsg() also
 * carries fd (SCM_RIGHTS), as libvirt passes descriptors after a
 * REPLY_WITH_FDS packet. */
typedef struct {
  GBytes *bytes;
  int fd;
} OutItem;

static void
out_item_free (OutItem *item)
{
  g_bytes_unref (item->bytes);
  if (item->fd >= 0)
    close (item->fd);
  g_free (item);
}

struct RpcStream {
  RpcClient *client;
  gint proc;
  guint32 serial;
  const RpcStreamOps *ops;
  gpointer user;
  gboolean closed;
};

static void client_close (RpcClient *c, const char *why);
static gboolean client_readable (GSocket *sock, GIOCondition cond, gpointer data);
static void client_update_sources (RpcClient *c);

/* ------------------------------------------------------------------ */

RpcServer *
rpc_server_new (gpointer daemon, RpcProcedureLookup lookup)
{
  RpcServer *s = g_new0 (RpcServer, 1);
  s->daemon = daemon;
  s->lookup = lookup;
  s->listeners = g_ptr_array_new ();
  return s;
}

void
rpc_server_free (RpcServer *server)
{
  while (server->clients)
    client_close (server->clients->data, "server shutting down");
  for (guint i = 0; i < server->listeners->len; i++)
    {
      RpcListener *l = server->listeners->pdata[i];
      g_source_destroy (l->source);
      g_source_unref (l->source);
      g_socket_close (l->socket, NULL);
      g_object_unref (l->socket);
      if (l->path)
        unlink (l->path);
      g_free (l->path);
      g_free (l);
    }
  g_ptr_array_unref (server->listeners);
  g_free (server);
}

guint
rpc_server_client_count (RpcServer *server)
{
  return g_list_length (server->clients);
}

static gboolean
listener_accept (GSocket *sock, GIOCondition cond, gpointer data)
{
  RpcListener *l = data;
  g_autoptr (GError) error = NULL;
  GSocket *cs = g_socket_accept (sock, NULL, &error);
  if (!cs)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        g_warning ("accept: %s", error->message);
      return G_SOURCE_CONTINUE;
    }
  g_socket_set_blocking (cs, FALSE);
  RpcClient *c = g_new0 (RpcClient, 1);
  c->ref = 1;
  c->id = ++l->server->next_client_id;
  c->server = l->server;
  c->socket = cs;
  c->listener_readonly = l->readonly;
  c->readonly = l->readonly;
  c->peer_pid = 0;
  c->peer_uid = (uid_t) -1;
  g_autoptr (GCredentials) cred = g_socket_get_credentials (cs, NULL);
  if (cred)
    {
      c->peer_pid = g_credentials_get_unix_pid (cred, NULL);
      c->peer_uid = g_credentials_get_unix_user (cred, NULL);
    }
  c->auth_pending = l->server->rw_polkit && !l->readonly && c->peer_uid != 0;
  rpc_framer_init (&c->framer);
  g_queue_init (&c->outq);
  c->streams = g_hash_table_new (g_direct_hash, g_direct_equal);
  l->server->clients = g_list_prepend (l->server->clients, c);
  g_debug ("client %u connected (%s)", c->id, l->readonly ? "read-only" : "read-write");
  client_update_sources (c);
  return G_SOURCE_CONTINUE;
}

static void
add_listener (RpcServer *server, GSocket *sock, gboolean readonly, const char *path)
{
  RpcListener *l = g_new0 (RpcListener, 1);
  l->socket = sock;
  l->readonly = readonly;
  l->path = g_strdup (path);
  l->server = server;
  g_socket_set_blocking (sock, FALSE);
  l->source = g_socket_create_source (sock, G_IO_IN, NULL);
  g_source_set_callback (l->source, (GSourceFunc) (void (*) (void)) listener_accept, l, NULL);
  g_source_attach (l->source, NULL);
  g_ptr_array_add (server->listeners, l);
}

gboolean
rpc_server_listen_path (RpcServer *server, const char *path, gboolean readonly, GError **error)
{
  unlink (path);
  g_autoptr (GSocket) sock = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                                           G_SOCKET_PROTOCOL_DEFAULT, error);
  if (!sock)
    return FALSE;
  g_autoptr (GSocketAddress) addr = g_unix_socket_address_new (path);
  /* Create the socket node with the right mode from the start. */
  mode_t old = umask (readonly ? 0111 : 0177);
  gboolean ok = g_socket_bind (sock, addr, FALSE, error);
  umask (old);
  if (!ok)
    return FALSE;
  /* With polkit deciding, every user may connect to ask it. */
  chmod (path, readonly || server->rw_polkit ? 0666 : 0600);
  g_socket_set_listen_backlog (sock, 256);
  if (!g_socket_listen (sock, error))
    return FALSE;
  add_listener (server, g_steal_pointer (&sock), readonly, path);
  return TRUE;
}

gboolean
rpc_server_listen_fd (RpcServer *server, int fd, GError **error)
{
  GSocket *sock = g_socket_new_from_fd (fd, error);
  if (!sock)
    return FALSE;
  struct sockaddr_un sa = { 0 };
  socklen_t len = sizeof sa;
  gboolean readonly = FALSE;
  if (getsockname (fd, (struct sockaddr *) &sa, &len) == 0 && sa.sun_family == AF_UNIX)
    {
      readonly = g_str_has_suffix (sa.sun_path, "-ro");
      /* One socket unit gives both sockets one mode; monitoring is for
       * all, and so is asking polkit. */
      if (readonly || server->rw_polkit)
        chmod (sa.sun_path, 0666);
    }
  add_listener (server, sock, readonly, NULL);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* output */

gsize
rpc_client_queued_bytes (RpcClient *c)
{
  return c->out_bytes;
}

static gboolean
flush_out (RpcClient *c)
{
  while (!g_queue_is_empty (&c->outq))
    {
      OutItem *item = g_queue_peek_head (&c->outq);
      gsize len;
      const guint8 *data = g_bytes_get_data (item->bytes, &len);
      g_autoptr (GError) error = NULL;
      gssize n;
      if (item->fd >= 0)
        {
          g_autoptr (GSocketControlMessage) msg = g_unix_fd_message_new ();
          if (!g_unix_fd_message_append_fd (G_UNIX_FD_MESSAGE (msg), item->fd, &error))
            {
              client_close (c, error->message);
              return FALSE;
            }
          GOutputVector v = { data, len };
          GSocketControlMessage *msgs[] = { msg };
          n = g_socket_send_message (c->socket, NULL, &v, 1, msgs, 1, G_SOCKET_MSG_NONE, NULL, &error);
        }
      else
        n = g_socket_send (c->socket, (const char *) data + c->out_off, len - c->out_off, NULL, &error);
      if (n < 0)
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            return TRUE;
          client_close (c, error->message);
          return FALSE;
        }
      c->out_off += n;
      c->out_bytes -= n;
      if (c->out_off == len)
        {
          out_item_free (g_queue_pop_head (&c->outq));
          c->out_off = 0;
        }
    }
  return TRUE;
}

static gboolean
client_writable (GSocket *sock, GIOCondition cond, gpointer data)
{
  RpcClient *c = data;
  rpc_client_ref (c);
  if (flush_out (c))
    client_update_sources (c);
  rpc_client_unref (c);
  return G_SOURCE_CONTINUE;
}

static void
client_update_sources (RpcClient *c)
{
  if (c->gone)
    return;
  gboolean want_out = !g_queue_is_empty (&c->outq);
  gboolean want_in = c->out_bytes < CLIENT_OUTQ_HIGH;
  if (want_out && !c->out_source)
    {
      c->out_source = g_socket_create_source (c->socket, G_IO_OUT, NULL);
      g_source_set_callback (c->out_source, (GSourceFunc) (void (*) (void)) client_writable, c, NULL);
      g_source_attach (c->out_source, NULL);
    }
  else if (!want_out && c->out_source)
    {
      g_source_destroy (c->out_source);
      g_clear_pointer (&c->out_source, g_source_unref);
    }
  if (want_in && !c->in_source)
    {
      c->in_source = g_socket_create_source (c->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
      g_source_set_callback (c->in_source, (GSourceFunc) (void (*) (void)) client_readable, c, NULL);
      g_source_attach (c->in_source, NULL);
    }
  else if (!want_in && c->in_source)
    {
      g_source_destroy (c->in_source);
      g_clear_pointer (&c->in_source, g_source_unref);
    }
}

static void
client_queue (RpcClient *c, GBytes *bytes, int fd)
{
  OutItem *item = g_new (OutItem, 1);
  item->bytes = bytes;
  item->fd = fd;
  c->out_bytes += g_bytes_get_size (bytes);
  g_queue_push_tail (&c->outq, item);
}

/* Takes packet and fd (-1: none). */
static void
client_send_with_fd (RpcClient *c, GBytes *packet, int fd)
{
  if (c->gone)
    {
      g_bytes_unref (packet);
      if (fd >= 0)
        close (fd);
      return;
    }
  client_queue (c, packet, -1);
  if (fd >= 0)
    client_queue (c, g_bytes_new_static ("", 1), fd);
  rpc_client_ref (c);
  if (flush_out (c))
    client_update_sources (c);
  rpc_client_unref (c);
}

void
rpc_client_send (RpcClient *c, GBytes *packet)
{
  client_send_with_fd (c, packet, -1);
}

static void
send_error (RpcClient *c, const RpcHeader *call, int code, const char *message)
{
  g_debug ("client %u: proc %d serial %u error %d: %s", c->id, call->proc, call->serial, code, message);
  rpc_client_send (c, rpc_error_reply (call, code, message));
}

/* ------------------------------------------------------------------ */
/* client lifetime */

RpcClient *
rpc_client_ref (RpcClient *c)
{
  g_atomic_int_inc (&c->ref);
  return c;
}

void
rpc_client_unref (RpcClient *c)
{
  if (!g_atomic_int_dec_and_test (&c->ref))
    return;
  g_queue_clear_full (&c->outq, (GDestroyNotify) out_item_free);
  rpc_framer_clear (&c->framer);
  g_list_free_full (c->domain_callbacks, g_free);
  g_list_free (c->other_callbacks);
  g_hash_table_unref (c->streams);
  g_clear_object (&c->socket);
  g_free (c);
}

gboolean rpc_client_is_readonly (RpcClient *c) { return c->readonly; }
gboolean rpc_client_auth_pending (RpcClient *c) { return c->auth_pending; }
void rpc_client_set_authenticated (RpcClient *c) { c->auth_pending = FALSE; }

void
rpc_client_peer (RpcClient *c, pid_t *pid, uid_t *uid)
{
  *pid = c->peer_pid;
  *uid = c->peer_uid;
}

void
rpc_server_set_rw_polkit (RpcServer *server, gboolean polkit)
{
  server->rw_polkit = polkit;
}
gboolean rpc_client_is_open (RpcClient *c) { return c->opened; }
gboolean rpc_client_is_gone (RpcClient *c) { return c->gone; }

void
rpc_client_set_open (RpcClient *c, gboolean readonly)
{
  c->opened = TRUE;
  /* A read-only socket stays read-only whatever the client asks. */
  c->readonly = c->listener_readonly || readonly;
}

static void
client_close (RpcClient *c, const char *why)
{
  if (c->gone)
    return;
  g_debug ("client %u closed: %s", c->id, why);
  c->gone = TRUE;
  c->server->clients = g_list_remove (c->server->clients, c);
  if (c->in_source)
    {
      g_source_destroy (c->in_source);
      g_clear_pointer (&c->in_source, g_source_unref);
    }
  if (c->out_source)
    {
      g_source_destroy (c->out_source);
      g_clear_pointer (&c->out_source, g_source_unref);
    }
  /* Streams end with their client. */
  GList *streams = g_hash_table_get_values (c->streams);
  for (GList *l = streams; l; l = l->next)
    {
      RpcStream *s = l->data;
      if (s->ops->finish)
        s->ops->finish (s);
      rpc_stream_close (s);
    }
  g_list_free (streams);
  g_socket_close (c->socket, NULL);
  rpc_client_unref (c);
}

/* ------------------------------------------------------------------ */
/* calls */

gpointer rpc_call_daemon (RpcCall *call) { return call->client->server->daemon; }
RpcClient *rpc_call_client (RpcCall *call) { return call->client; }
const RpcHeader *rpc_call_header (RpcCall *call) { return &call->header; }

RpcCall *
rpc_call_defer (RpcCall *call)
{
  call->deferred = TRUE;
  g_atomic_int_inc (&call->ref);
  return call;
}

void
rpc_call_unref (RpcCall *call)
{
  if (!g_atomic_int_dec_and_test (&call->ref))
    return;
  if (call->reply_fd >= 0)
    close (call->reply_fd);
  rpc_client_unref (call->client);
  g_free (call);
}

/* Takes fd (-1: none): a reply with a descriptor is a REPLY_WITH_FDS
 * whose body starts with the descriptor count.  ret is p's ret struct
 * (NULL: all zero). */
static void
send_reply (RpcClient *c, const RpcHeader *call, const RpcProcedure *p, gpointer ret,
            const GError *error, int fd)
{
  if (error)
    {
      if (fd >= 0)
        close (fd);
      send_error (c, call, virt_error_code_of (error), error->message);
      return;
    }
  RpcHeader h = *call;
  h.type = fd >= 0 ? RPC_REPLY_WITH_FDS : RPC_REPLY;
  h.status = RPC_OK;
  GByteArray *b = rpc_packet_begin (&h);
  if (fd >= 0)
    xdr_put_u32 (b, 1);
  g_autofree gpointer zero = ret ? NULL : g_malloc0 (MAX (p->ret_size, 1));
  g_autoptr (GError) enc_error = NULL;
  if (!rpc_marshal_encode (p->ret_filter, ret ? ret : zero, b, &enc_error))
    {
      g_byte_array_unref (b);
      if (fd >= 0)
        close (fd);
      g_autofree char *msg = g_strdup_printf (_("internal error: cannot encode the result of %s: %s"),
                                              p->name, enc_error->message);
      send_error (c, call, VIR_ERR_INTERNAL_ERROR, msg);
      return;
    }
  client_send_with_fd (c, rpc_packet_finish (b), fd);
}

static int
take_reply_fd (RpcCall *call)
{
  int fd = call->reply_fd;
  call->reply_fd = -1;
  return fd;
}

void
rpc_call_attach_fd (RpcCall *call, int fd)
{
  if (call->reply_fd >= 0)
    close (call->reply_fd);
  call->reply_fd = fd;
}

void
rpc_call_complete (RpcCall *call, gpointer ret, const GError *error)
{
  send_reply (call->client, &call->header, call->procedure, ret, error, take_reply_fd (call));
}

static void
dispatch_call (RpcClient *c, const RpcHeader *h, const guint8 *payload, gsize len)
{
  const RpcProcedure *p = c->server->lookup (h->proc);
  if (!p)
    {
      g_autofree char *msg = g_strdup_printf (_("unknown procedure: %d"), h->proc);
      /* NO_SUPPORT lets clients degrade gracefully (see the RPC brief). */
      send_error (c, h, VIR_ERR_NO_SUPPORT, msg);
      return;
    }
  if (c->auth_pending && !(p->flags & PROC_FLAG_AUTH))
    {
      g_autofree char *msg = g_strdup_printf (_("authentication required before %s"), p->name);
      send_error (c, h, VIR_ERR_AUTH_FAILED, msg);
      return;
    }
  if (!c->opened && !(p->flags & PROC_FLAG_BEFORE_OPEN))
    {
      send_error (c, h, VIR_ERR_RPC, _("connection not open"));
      return;
    }
  if (c->readonly && (p->flags & PROC_FLAG_WRITE))
    {
      g_autofree char *msg = g_strdup_printf (_("operation forbidden: %s is not allowed on a read-only connection"),
                                              p->name);
      send_error (c, h, VIR_ERR_OPERATION_DENIED, msg);
      return;
    }
  g_autofree gpointer args = g_malloc0 (MAX (p->args_size, 1));
  g_autoptr (GError) error = NULL;
  if (!rpc_marshal_decode (p->args_filter, payload, len, args, &error))
    {
      g_autofree char *msg = g_strdup_printf (_("malformed arguments for %s: %s"), p->name, error->message);
      send_error (c, h, VIR_ERR_RPC, msg);
      return;
    }
  RpcCall *call = g_new0 (RpcCall, 1);
  call->ref = 1;
  call->client = rpc_client_ref (c);
  call->header = *h;
  call->procedure = p;
  call->reply_fd = -1;
  g_autofree gpointer ret = g_malloc0 (MAX (p->ret_size, 1));
  gboolean ok = p->handler (call, args, ret, &error);
  if (!ok)
    send_reply (c, h, p, NULL, error, take_reply_fd (call));
  else if (!call->deferred)
    send_reply (c, h, p, ret, NULL, take_reply_fd (call));
  rpc_marshal_free (p->ret_filter, ret);
  rpc_marshal_free (p->args_filter, args);
  rpc_call_unref (call);
}

static void
handle_stream_packet (RpcClient *c, const RpcHeader *h, const guint8 *payload, gsize len)
{
  RpcStream *s = g_hash_table_lookup (c->streams, GUINT_TO_POINTER (h->serial));
  if (!s || s->proc != h->proc)
    {
      /* Data for a stream that already ended: drop it, as libvirtd does. */
      g_debug ("client %u: stream packet for unknown stream %d/%u", c->id, h->proc, h->serial);
      return;
    }
  if (h->status == RPC_CONTINUE)
    {
      if (len && s->ops->data)
        s->ops->data (s, payload, len);
      return;
    }
  /* OK = finish, ERROR = abort; both are confirmed with an empty OK. */
  if (s->ops->finish)
    s->ops->finish (s);
  if (!s->closed)
    {
      RpcHeader r = { RPC_PROGRAM_REMOTE, RPC_PROTOCOL_VERSION, s->proc, RPC_STREAM, s->serial, RPC_OK };
      rpc_client_send (c, rpc_packet_finish (rpc_packet_begin (&r)));
      rpc_stream_close (s);
    }
}

static void
handle_keepalive (RpcClient *c, const RpcHeader *h)
{
  if (h->type == RPC_MESSAGE && h->proc == KEEPALIVE_PROC_PING)
    {
      RpcHeader r = { RPC_PROGRAM_KEEPALIVE, RPC_PROTOCOL_VERSION, KEEPALIVE_PROC_PONG, RPC_MESSAGE, 0, RPC_OK };
      rpc_client_send (c, rpc_packet_finish (rpc_packet_begin (&r)));
    }
  /* PONG and anything else on this program needs no answer. */
}

static void
handle_packet (RpcClient *c, const RpcFrame *f)
{
  const RpcHeader *h = &f->header;
  if (h->prog == RPC_PROGRAM_KEEPALIVE && h->vers == RPC_PROTOCOL_VERSION)
    {
      handle_keepalive (c, h);
      return;
    }
  if (h->prog != RPC_PROGRAM_REMOTE)
    {
      g_autofree char *msg = g_strdup_printf (_("cannot find program %d version %d"), (int) h->prog, (int) h->vers);
      if (h->type == RPC_CALL)
        send_error (c, h, VIR_ERR_RPC, msg);
      return;
    }
  if (h->vers != RPC_PROTOCOL_VERSION)
    {
      g_autofree char *msg = g_strdup_printf (_("cannot find program %d version %d"), (int) h->prog, (int) h->vers);
      if (h->type == RPC_CALL)
        send_error (c, h, VIR_ERR_RPC, msg);
      return;
    }
  switch (h->type)
    {
    case RPC_CALL:
      if (h->status != RPC_OK)
        {
          send_error (c, h, VIR_ERR_RPC, _("unexpected status in a call"));
          return;
        }
      dispatch_call (c, h, f->payload, f->payload_len);
      break;
    case RPC_STREAM:
      handle_stream_packet (c, h, f->payload, f->payload_len);
      break;
    case RPC_CALL_WITH_FDS:
      send_error (c, h, VIR_ERR_RPC, _("passing file descriptors to the server is not supported"));
      /* The FDs that follow would desynchronise the stream. */
      client_close (c, "client sent file descriptors");
      break;
    default:
      {
        g_autofree char *msg = g_strdup_printf (_("unexpected message type %u"), h->type);
        send_error (c, h, VIR_ERR_RPC, msg);
      }
    }
}

static gboolean
client_readable (GSocket *sock, GIOCondition cond, gpointer data)
{
  RpcClient *c = data;
  guint8 buf[65536];
  g_autoptr (GError) error = NULL;
  gssize n = g_socket_receive (sock, (char *) buf, sizeof buf, NULL, &error);
  if (n < 0)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return G_SOURCE_CONTINUE;
      client_close (c, error->message);
      return G_SOURCE_REMOVE;
    }
  if (n == 0)
    {
      client_close (c, "end of file");
      return G_SOURCE_REMOVE;
    }
  rpc_client_ref (c);
  rpc_framer_push (&c->framer, buf, n);
  for (;;)
    {
      RpcFrame f;
      g_autoptr (GError) ferr = NULL;
      RpcFrameResult res = rpc_framer_next (&c->framer, &f, &ferr);
      if (res == RPC_FRAME_NEED_MORE)
        break;
      if (res == RPC_FRAME_FATAL)
        {
          g_message ("client %u: %s; closing the connection", c->id, ferr->message);
          client_close (c, ferr->message);
          break;
        }
      if (res == RPC_FRAME_OVERSIZED)
        {
          g_autofree char *msg = g_strdup_printf (_("packet of %u bytes exceeds the maximum message size of %u bytes"),
                                                  f.announced_len, RPC_MESSAGE_MAX);
          if (f.header.type == RPC_CALL)
            send_error (c, &f.header, VIR_ERR_RPC, msg);
          else
            g_message ("client %u: %s", c->id, msg);
          continue;
        }
      handle_packet (c, &f);
      if (c->gone)
        break;
    }
  gboolean gone = c->gone;
  if (!gone)
    client_update_sources (c);
  rpc_client_unref (c);
  return gone ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------------ */
/* events */

int
rpc_client_add_domain_callback (RpcClient *c, int event_id, const guint8 *uuid)
{
  DomainCallback *cb = g_new0 (DomainCallback, 1);
  cb->callback_id = ++c->next_callback_id;
  cb->event_id = event_id;
  if (uuid)
    {
      cb->filtered = TRUE;
      memcpy (cb->uuid, uuid, 16);
    }
  c->domain_callbacks = g_list_append (c->domain_callbacks, cb);
  return cb->callback_id;
}

gboolean
rpc_client_remove_domain_callback (RpcClient *c, int callback_id)
{
  for (GList *l = c->domain_callbacks; l; l = l->next)
    {
      DomainCallback *cb = l->data;
      if (cb->callback_id == callback_id)
        {
          c->domain_callbacks = g_list_delete_link (c->domain_callbacks, l);
          g_free (cb);
          return TRUE;
        }
    }
  return FALSE;
}

int
rpc_client_add_other_callback (RpcClient *c)
{
  int id = ++c->next_callback_id;
  c->other_callbacks = g_list_append (c->other_callbacks, GINT_TO_POINTER (id));
  return id;
}

gboolean
rpc_client_remove_other_callback (RpcClient *c, int callback_id)
{
  GList *l = g_list_find (c->other_callbacks, GINT_TO_POINTER (callback_id));
  if (!l)
    return FALSE;
  c->other_callbacks = g_list_delete_link (c->other_callbacks, l);
  return TRUE;
}

void
rpc_server_foreach_domain_callback (RpcServer *server, int event_id, const guint8 *uuid,
                                    RpcDomainCallbackFn fn, gpointer data)
{
  /* A failed send closes that client and edits the client list: walk a
   * referenced copy. */
  GList *clients = g_list_copy_deep (server->clients, (GCopyFunc) (void (*) (void)) rpc_client_ref, NULL);
  for (GList *cl = clients; cl; cl = cl->next)
    {
      RpcClient *c = cl->data;
      for (GList *l = c->domain_callbacks; l && !c->gone; l = l->next)
        {
          DomainCallback *cb = l->data;
          if (cb->event_id != event_id || (cb->filtered && memcmp (cb->uuid, uuid, 16) != 0))
            continue;
          fn (c, cb->callback_id, data);
        }
    }
  g_list_free_full (clients, (GDestroyNotify) rpc_client_unref);
}

void
rpc_client_send_message (RpcClient *c, int proc, xdrproc_t filter, gpointer msg)
{
  RpcHeader h = { RPC_PROGRAM_REMOTE, RPC_PROTOCOL_VERSION, proc, RPC_MESSAGE, 0, RPC_OK };
  GByteArray *b = rpc_packet_begin (&h);
  g_autoptr (GError) error = NULL;
  if (!rpc_marshal_encode (filter, msg, b, &error))
    {
      g_warning ("client %u: event %d not sent: %s", c->id, proc, error->message);
      g_byte_array_unref (b);
      return;
    }
  rpc_client_send (c, rpc_packet_finish (b));
}

/* ------------------------------------------------------------------ */
/* streams */

RpcStream *
rpc_stream_new (RpcCall *call, const RpcStreamOps *ops, gpointer user)
{
  RpcStream *s = g_new0 (RpcStream, 1);
  s->client = rpc_client_ref (call->client);
  s->proc = call->header.proc;
  s->serial = call->header.serial;
  s->ops = ops;
  s->user = user;
  g_hash_table_replace (call->client->streams, GUINT_TO_POINTER (s->serial), s);
  return s;
}

gpointer rpc_stream_user (RpcStream *s) { return s->user; }
RpcClient *rpc_stream_client (RpcStream *s) { return s->client; }

static void
stream_send (RpcStream *s, guint32 status, const guint8 *buf, gsize len)
{
  RpcHeader h = { RPC_PROGRAM_REMOTE, RPC_PROTOCOL_VERSION, s->proc, RPC_STREAM, s->serial, status };
  GByteArray *b = rpc_packet_begin (&h);
  if (len)
    g_byte_array_append (b, buf, len);
  rpc_client_send (s->client, rpc_packet_finish (b));
}

void
rpc_stream_send_data (RpcStream *s, const guint8 *buf, gsize len)
{
  while (len && !s->closed)
    {
      gsize chunk = MIN (len, RPC_STREAM_PAYLOAD_MAX);
      stream_send (s, RPC_CONTINUE, buf, chunk);
      buf += chunk;
      len -= chunk;
    }
}

void
rpc_stream_send_eof (RpcStream *s)
{
  /* End of data is an empty CONTINUE; OK only confirms a client finish. */
  if (!s->closed)
    stream_send (s, RPC_CONTINUE, NULL, 0);
}

void
rpc_stream_send_error (RpcStream *s, int code, const char *message)
{
  if (s->closed)
    return;
  RpcHeader h = { RPC_PROGRAM_REMOTE, RPC_PROTOCOL_VERSION, s->proc, RPC_STREAM, s->serial, RPC_ERROR };
  GByteArray *b = rpc_packet_begin (&h);
  rpc_put_error (b, code, message);
  rpc_client_send (s->client, rpc_packet_finish (b));
}

gboolean
rpc_stream_client_congested (RpcStream *s)
{
  return s->client->out_bytes > (1u << 20);
}

void
rpc_stream_close (RpcStream *s)
{
  if (s->closed)
    return;
  s->closed = TRUE;
  if (g_hash_table_lookup (s->client->streams, GUINT_TO_POINTER (s->serial)) == s)
    g_hash_table_remove (s->client->streams, GUINT_TO_POINTER (s->serial));
  if (s->ops->free)
    s->ops->free (s->user);
  rpc_client_unref (s->client);
  g_free (s);
}
