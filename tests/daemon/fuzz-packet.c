/* libFuzzer target: the packet decoder.  Bytes arrive in fuzzer-chosen
 * chunks through the framer; every packet's header is decoded and its
 * payload walked with the XDR readers of the header codec and with the
 * generated decoders of the procedures (protocol/remote.x). */
#include "procedures.h"
#include "rpc-marshal.h"
#include "rpc-packet.h"
#include "rpc-protocol.h"
#include "xdr-codec.h"

#include <stdint.h>

static void
walk_payload (const guint8 *p, gsize len)
{
  XdrReader r;
  xdr_reader_init (&r, p, len);
  /* Decode a plausible argument shape: nonnull_domain, opt string, flags. */
  char *name = NULL, *opt = NULL;
  guint8 uuid[16];
  gint32 id;
  guint32 flags;
  GBytes *op = NULL;
  if (xdr_get_string (&r, RPC_STRING_MAX, &name, NULL)
      && xdr_get_fixed_opaque (&r, uuid, 16, NULL)
      && xdr_get_i32 (&r, &id, NULL)
      && xdr_get_opt_string (&r, RPC_STRING_MAX, &opt, NULL)
      && xdr_get_u32 (&r, &flags, NULL)
      && xdr_get_opaque (&r, RPC_MESSAGE_MAX, &op, NULL))
    xdr_reader_finish (&r, NULL);
  g_free (name);
  g_free (opt);
  if (op)
    g_bytes_unref (op);
}

/* Decode p with one generated routine; what decodes must encode again. */
static void
decode_with (xdrproc_t filter, gsize size, const guint8 *p, gsize len)
{
  gpointer obj = g_malloc0 (MAX (size, 1));
  if (rpc_marshal_decode (filter, p, len, obj, NULL))
    {
      GByteArray *b = g_byte_array_new ();
      g_assert (rpc_marshal_encode (filter, obj, b, NULL));
      g_assert (b->len == len);
      g_byte_array_unref (b);
      rpc_marshal_free (filter, obj);
    }
  g_free (obj);
}

/* The procedure the header names, as the server would decode its
 * arguments, and, so that every decoder is reached whatever the number, the
 * procedure the serial picks from the tables; both args and ret. */
static void
decode_procedures (const RpcHeader *h, const guint8 *p, gsize len)
{
  gsize n;
  const RpcProcedure *const *all = procedures_all (&n);
  const RpcProcedure *picks[] = { procedures_lookup (h->proc), all[h->serial % n] };
  for (gsize i = 0; i < G_N_ELEMENTS (picks); i++)
    if (picks[i])
      {
        decode_with (picks[i]->args_filter, picks[i]->args_size, p, len);
        decode_with (picks[i]->ret_filter, picks[i]->ret_size, p, len);
      }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  gsize chunk = 1 + data[0] % 64;
  data++;
  size--;
  RpcFramer f;
  rpc_framer_init (&f);
  for (gsize off = 0; off < size; off += chunk)
    {
      rpc_framer_push (&f, data + off, MIN (chunk, size - off));
      for (;;)
        {
          RpcFrame fr;
          GError *error = NULL;
          RpcFrameResult res = rpc_framer_next (&f, &fr, &error);
          g_clear_error (&error);
          if (res == RPC_FRAME_PACKET)
            {
              walk_payload (fr.payload, fr.payload_len);
              decode_procedures (&fr.header, fr.payload, fr.payload_len);
              /* Replies built from hostile headers must stay well formed. */
              GBytes *reply = rpc_error_reply (&fr.header, 39, "fuzz");
              g_assert (g_bytes_get_size (reply) >= 28);
              g_bytes_unref (reply);
              continue;
            }
          if (res == RPC_FRAME_FATAL)
            goto done;
          break;
        }
    }
done:
  rpc_framer_clear (&f);
  return 0;
}
