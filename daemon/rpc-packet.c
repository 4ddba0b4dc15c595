#include "rpc-packet.h"
#include "rpc-protocol.h"
#include "virt-error.h"

#include <glib/gi18n.h>
#include <string.h>

gboolean
rpc_header_decode (XdrReader *r, RpcHeader *h, GError **error)
{
  return xdr_get_u32 (r, &h->prog, error)
      && xdr_get_u32 (r, &h->vers, error)
      && xdr_get_i32 (r, &h->proc, error)
      && xdr_get_u32 (r, &h->type, error)
      && xdr_get_u32 (r, &h->serial, error)
      && xdr_get_u32 (r, &h->status, error);
}

GByteArray *
rpc_packet_begin (const RpcHeader *h)
{
  GByteArray *b = g_byte_array_sized_new (64);
  xdr_put_u32 (b, 0);
  xdr_put_u32 (b, h->prog);
  xdr_put_u32 (b, h->vers);
  xdr_put_i32 (b, h->proc);
  xdr_put_u32 (b, h->type);
  xdr_put_u32 (b, h->serial);
  xdr_put_u32 (b, h->status);
  return b;
}

GBytes *
rpc_packet_finish (GByteArray *b)
{
  guint32 len = b->len;
  b->data[0] = len >> 24;
  b->data[1] = len >> 16;
  b->data[2] = len >> 8;
  b->data[3] = len;
  return g_byte_array_free_to_bytes (b);
}

void
rpc_put_error (GByteArray *b, int code, const char *message)
{
  xdr_put_i32 (b, code);
  xdr_put_i32 (b, virt_error_from_for_code (code));
  xdr_put_opt_string (b, message);
  xdr_put_i32 (b, 2);           /* VIR_ERR_ERROR */
  xdr_put_u32 (b, 0);           /* dom: null */
  xdr_put_u32 (b, 0);           /* str1 */
  xdr_put_u32 (b, 0);           /* str2 */
  xdr_put_u32 (b, 0);           /* str3 */
  xdr_put_i32 (b, 0);           /* int1 */
  xdr_put_i32 (b, 0);           /* int2 */
  xdr_put_u32 (b, 0);           /* net: null */
}

GBytes *
rpc_error_reply (const RpcHeader *call, int code, const char *message)
{
  RpcHeader h = *call;
  h.type = RPC_REPLY;
  h.status = RPC_ERROR;
  GByteArray *b = rpc_packet_begin (&h);
  rpc_put_error (b, code, message);
  return rpc_packet_finish (b);
}

void
rpc_framer_init (RpcFramer *f)
{
  memset (f, 0, sizeof *f);
  f->buf = g_byte_array_new ();
}

void
rpc_framer_clear (RpcFramer *f)
{
  g_clear_pointer (&f->buf, g_byte_array_unref);
}

void
rpc_framer_push (RpcFramer *f, const guint8 *data, gsize len)
{
  if (f->discard)
    {
      gsize drop = MIN ((guint64) len, f->discard);
      f->discard -= drop;
      data += drop;
      len -= drop;
    }
  if (len == 0)
    return;
  /* Compact the consumed prefix before growing. */
  if (f->start > 0)
    {
      g_byte_array_remove_range (f->buf, 0, f->start);
      f->start = 0;
    }
  g_byte_array_append (f->buf, data, len);
}

static guint32
be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

RpcFrameResult
rpc_framer_next (RpcFramer *f, RpcFrame *frame, GError **error)
{
  gsize avail = f->buf->len - f->start;
  const guint8 *p = f->buf->data + f->start;

  if (f->discard || avail < RPC_LEN_SIZE)
    return RPC_FRAME_NEED_MORE;

  guint32 len = be32 (p);
  if (len < RPC_LEN_SIZE + RPC_HEADER_SIZE)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_RPC,
                   _("packet length %u is too small to hold a message header"), len);
      return RPC_FRAME_FATAL;
    }
  if (avail < RPC_LEN_SIZE + RPC_HEADER_SIZE)
    return RPC_FRAME_NEED_MORE;

  XdrReader r;
  xdr_reader_init (&r, p + RPC_LEN_SIZE, RPC_HEADER_SIZE);
  rpc_header_decode (&r, &frame->header, NULL);
  frame->announced_len = len;

  if (len - RPC_LEN_SIZE > RPC_MESSAGE_MAX)
    {
      /* Answerable: drop the body as it arrives, keep the stream in sync. */
      gsize have = MIN ((guint64) avail, len);
      f->start += have;
      f->discard = len - have;
      frame->payload = NULL;
      frame->payload_len = 0;
      return RPC_FRAME_OVERSIZED;
    }
  if (avail < len)
    return RPC_FRAME_NEED_MORE;

  frame->payload = p + RPC_LEN_SIZE + RPC_HEADER_SIZE;
  frame->payload_len = len - RPC_LEN_SIZE - RPC_HEADER_SIZE;
  f->start += len;
  return RPC_FRAME_PACKET;
}
