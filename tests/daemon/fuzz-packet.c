/* libFuzzer target: the packet decoder.  Bytes arrive in fuzzer-chosen
 * chunks through the framer; every packet's header is decoded and its
 * payload walked with the XDR readers the procedures use. */
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
