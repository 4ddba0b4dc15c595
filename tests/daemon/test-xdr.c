/* XDR encode/decode round trips, truncation and limits; packet framing
 * across arbitrary splits, oversized packets and lost framing. */
#include "rpc-packet.h"
#include "rpc-protocol.h"
#include "xdr-codec.h"

#include <string.h>

static void
test_roundtrip (void)
{
  g_autoptr (GByteArray) b = g_byte_array_new ();
  guint8 uuid[16];
  for (int i = 0; i < 16; i++)
    uuid[i] = i * 17;
  xdr_put_u32 (b, 0xdeadbeef);
  xdr_put_i32 (b, -5);
  xdr_put_u64 (b, G_GUINT64_CONSTANT (0x0102030405060708));
  xdr_put_i64 (b, -7);
  xdr_put_string (b, "abcde");
  xdr_put_opt_string (b, NULL);
  xdr_put_opt_string (b, "xy");
  xdr_put_fixed_opaque (b, uuid, 16);
  xdr_put_opaque (b, (const guint8 *) "\1\2\3", 3);
  g_assert_cmpuint (b->len % 4, ==, 0);
  /* "abcde" is padded to 8 bytes after its length word */
  g_assert_cmpmem (b->data + 24, 12, "\0\0\0\5abcde\0\0\0", 12);

  XdrReader r;
  xdr_reader_init (&r, b->data, b->len);
  guint32 u; gint32 i; guint64 q; gint64 sq; g_autofree char *s = NULL, *n = NULL, *o = NULL;
  guint8 uu[16]; g_autoptr (GBytes) op = NULL;
  g_assert_true (xdr_get_u32 (&r, &u, NULL));
  g_assert_cmphex (u, ==, 0xdeadbeef);
  g_assert_true (xdr_get_i32 (&r, &i, NULL));
  g_assert_cmpint (i, ==, -5);
  g_assert_true (xdr_get_u64 (&r, &q, NULL));
  g_assert_cmphex (q, ==, G_GUINT64_CONSTANT (0x0102030405060708));
  g_assert_true (xdr_get_i64 (&r, &sq, NULL));
  g_assert_cmpint (sq, ==, -7);
  g_assert_true (xdr_get_string (&r, 100, &s, NULL));
  g_assert_cmpstr (s, ==, "abcde");
  g_assert_true (xdr_get_opt_string (&r, 100, &n, NULL));
  g_assert_null (n);
  g_assert_true (xdr_get_opt_string (&r, 100, &o, NULL));
  g_assert_cmpstr (o, ==, "xy");
  g_assert_true (xdr_get_fixed_opaque (&r, uu, 16, NULL));
  g_assert_cmpmem (uu, 16, uuid, 16);
  g_assert_true (xdr_get_opaque (&r, 100, &op, NULL));
  g_assert_cmpmem (g_bytes_get_data (op, NULL), g_bytes_get_size (op), "\1\2\3", 3);
  g_assert_true (xdr_reader_finish (&r, NULL));
}

static void
test_char_arrays (void)
{
  g_autoptr (GByteArray) b = g_byte_array_new ();
  xdr_put_char_array_var (b, "none");
  /* count includes the NUL; one 4-byte word per character */
  g_assert_cmpuint (b->len, ==, 4 + 5 * 4);
  g_assert_cmpmem (b->data, 8, "\0\0\0\5\0\0\0n", 8);
  g_byte_array_set_size (b, 0);
  xdr_put_char_array_fixed (b, "x86_64", 32);
  g_assert_cmpuint (b->len, ==, 128);
}

static void
test_truncation_every_prefix (void)
{
  g_autoptr (GByteArray) b = g_byte_array_new ();
  xdr_put_string (b, "hello world");
  xdr_put_u64 (b, 42);
  for (gsize len = 0; len < b->len; len++)
    {
      XdrReader r;
      xdr_reader_init (&r, b->data, len);
      g_autofree char *s = NULL;
      guint64 q;
      g_autoptr (GError) error = NULL;
      gboolean ok = xdr_get_string (&r, 100, &s, &error) && xdr_get_u64 (&r, &q, &error);
      g_assert_false (ok);
      g_assert_error (error, XDR_ERROR, XDR_ERROR_TRUNCATED);
    }
}

static void
test_limits_and_invalid (void)
{
  g_autoptr (GByteArray) b = g_byte_array_new ();
  xdr_put_string (b, "0123456789");
  XdrReader r;
  g_autofree char *s = NULL;
  g_autoptr (GError) error = NULL;
  xdr_reader_init (&r, b->data, b->len);
  g_assert_false (xdr_get_string (&r, 5, &s, &error));
  g_assert_error (error, XDR_ERROR, XDR_ERROR_LIMIT);
  g_clear_error (&error);

  /* a length word near 4 GiB must not wrap the padding computation */
  const guint8 huge[] = { 0xff, 0xff, 0xff, 0xfe, 'a', 'b', 'c', 'd' };
  xdr_reader_init (&r, huge, sizeof huge);
  g_assert_false (xdr_get_string (&r, G_MAXSIZE, &s, &error));
  g_assert_error (error, XDR_ERROR, XDR_ERROR_TRUNCATED);
  g_clear_error (&error);

  const guint8 nul[] = { 0, 0, 0, 3, 'a', 0, 'b', 0 };
  xdr_reader_init (&r, nul, sizeof nul);
  g_assert_false (xdr_get_string (&r, 100, &s, &error));
  g_assert_error (error, XDR_ERROR, XDR_ERROR_INVALID);
  g_clear_error (&error);

  const guint8 badbool[] = { 0, 0, 0, 2 };
  gboolean v;
  xdr_reader_init (&r, badbool, sizeof badbool);
  g_assert_false (xdr_get_bool (&r, &v, &error));
  g_assert_error (error, XDR_ERROR, XDR_ERROR_INVALID);
  g_clear_error (&error);

  xdr_reader_init (&r, badbool, sizeof badbool);
  g_assert_false (xdr_reader_finish (&r, &error));
  g_assert_error (error, XDR_ERROR, XDR_ERROR_TRAILING);
}

static GBytes *
make_packet (guint32 serial, const char *body)
{
  RpcHeader h = { RPC_PROGRAM_REMOTE, 1, 3, RPC_CALL, serial, RPC_OK };
  GByteArray *b = rpc_packet_begin (&h);
  if (body)
    xdr_put_string (b, body);
  return rpc_packet_finish (b);
}

static void
test_framer_splits (void)
{
  g_autoptr (GByteArray) stream = g_byte_array_new ();
  for (guint32 s = 0; s < 5; s++)
    {
      g_autoptr (GBytes) p = make_packet (s, s % 2 ? "payload" : NULL);
      gsize len;
      const guint8 *d = g_bytes_get_data (p, &len);
      g_byte_array_append (stream, d, len);
    }
  for (gsize chunk = 1; chunk <= 13; chunk++)
    {
      RpcFramer f;
      rpc_framer_init (&f);
      guint32 expect = 0;
      for (gsize off = 0; off < stream->len; off += chunk)
        {
          rpc_framer_push (&f, stream->data + off, MIN (chunk, stream->len - off));
          RpcFrame fr;
          RpcFrameResult res;
          while ((res = rpc_framer_next (&f, &fr, NULL)) == RPC_FRAME_PACKET)
            {
              g_assert_cmpuint (fr.header.serial, ==, expect);
              g_assert_cmpuint (fr.header.prog, ==, RPC_PROGRAM_REMOTE);
              g_assert_cmpuint (fr.payload_len, ==, expect % 2 ? 12 : 0);
              expect++;
            }
          g_assert_cmpint (res, ==, RPC_FRAME_NEED_MORE);
        }
      g_assert_cmpuint (expect, ==, 5);
      rpc_framer_clear (&f);
    }
}

static void
test_framer_oversized_then_sync (void)
{
  RpcFramer f;
  rpc_framer_init (&f);
  guint32 len = RPC_MESSAGE_MAX + 4 + 100;
  RpcHeader h = { RPC_PROGRAM_REMOTE, 1, 3, RPC_CALL, 9, RPC_OK };
  GByteArray *b = rpc_packet_begin (&h);
  b->data[0] = len >> 24; b->data[1] = len >> 16; b->data[2] = len >> 8; b->data[3] = len;
  rpc_framer_push (&f, b->data, b->len);
  RpcFrame fr;
  g_assert_cmpint (rpc_framer_next (&f, &fr, NULL), ==, RPC_FRAME_OVERSIZED);
  g_assert_cmpuint (fr.header.serial, ==, 9);
  g_assert_cmpuint (fr.announced_len, ==, len);
  guint32 rest = len - b->len;
  g_byte_array_unref (b);
  g_autofree guint8 *junk = g_malloc0 (1 << 20);
  while (rest)
    {
      guint32 n = MIN (rest, 1u << 20);
      rpc_framer_push (&f, junk, n);
      g_assert_cmpint (rpc_framer_next (&f, &fr, NULL), ==, RPC_FRAME_NEED_MORE);
      rest -= n;
    }
  g_autoptr (GBytes) p = make_packet (10, NULL);
  rpc_framer_push (&f, g_bytes_get_data (p, NULL), g_bytes_get_size (p));
  g_assert_cmpint (rpc_framer_next (&f, &fr, NULL), ==, RPC_FRAME_PACKET);
  g_assert_cmpuint (fr.header.serial, ==, 10);
  rpc_framer_clear (&f);
}

static void
test_framer_fatal_length (void)
{
  for (guint32 len = 0; len < 28; len++)
    {
      RpcFramer f;
      rpc_framer_init (&f);
      guint8 w[4] = { len >> 24, len >> 16, len >> 8, len };
      rpc_framer_push (&f, w, 4);
      RpcFrame fr;
      g_autoptr (GError) error = NULL;
      g_assert_cmpint (rpc_framer_next (&f, &fr, &error), ==, RPC_FRAME_FATAL);
      g_assert_nonnull (error);
      rpc_framer_clear (&f);
    }
}

static void
test_error_reply_layout (void)
{
  RpcHeader call = { RPC_PROGRAM_REMOTE, 1, 23, RPC_CALL, 7, RPC_OK };
  g_autoptr (GBytes) p = rpc_error_reply (&call, 42, "Domain not found");
  gsize len;
  const guint8 *d = g_bytes_get_data (p, &len);
  /* the example from the protocol brief: length 0x5c */
  g_assert_cmpuint (len, ==, 0x5c);
  static const guint8 head[] = {
    0, 0, 0, 0x5c, 0x20, 0, 0x80, 0x86, 0, 0, 0, 1, 0, 0, 0, 0x17,
    0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 0x2a,
  };
  g_assert_cmpmem (d, sizeof head, head, sizeof head);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/xdr/roundtrip", test_roundtrip);
  g_test_add_func ("/xdr/char-arrays", test_char_arrays);
  g_test_add_func ("/xdr/truncation", test_truncation_every_prefix);
  g_test_add_func ("/xdr/limits", test_limits_and_invalid);
  g_test_add_func ("/framer/splits", test_framer_splits);
  g_test_add_func ("/framer/oversized", test_framer_oversized_then_sync);
  g_test_add_func ("/framer/fatal-length", test_framer_fatal_length);
  g_test_add_func ("/packet/error-reply", test_error_reply_layout);
  return g_test_run ();
}
