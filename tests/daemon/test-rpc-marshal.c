/* The generated marshalling (protocol/remote.x through rpcgen): every
 * procedure in the tables round-trips representative arguments and
 * results; every truncation of them, trailing bytes, and absurd lengths are
 * refused with an error; and a few layouts are checked byte for byte
 * against the public wire format. */
#include "procedures.h"
#include "rpc-marshal.h"
#include "rpc-packet.h"
#include "xdr-codec.h"

#include <string.h>

/* ---- a value generator ----
 * Running a generated routine in DECODE mode over this stream builds a
 * value of its type: every length, count, discriminant and optional-pointer
 * flag comes from a small cycling sequence (so arrays and strings have 0 to
 * 7 elements and every union arm and NULL pointer shows up for some seed),
 * and bytes are letters, so strings survive C string handling. */

typedef struct {
  guint next;
  u_int pos;
} Gen;

static bool_t
gen_getlong (XDR *x, long *lp)
{
  Gen *g = (Gen *) x->x_private;
  *lp = g->next++ % 8;
  g->pos += 4;
  return TRUE;
}

static bool_t
gen_getbytes (XDR *x, char *addr, u_int len)
{
  Gen *g = (Gen *) x->x_private;
  for (u_int i = 0; i < len; i++)
    addr[i] = 'a' + (g->next + i) % 26;
  g->pos += len;
  return TRUE;
}

static bool_t
gen_putlong (XDR *x, const long *lp)
{
  return FALSE;
}

static bool_t
gen_putbytes (XDR *x, const char *addr, u_int len)
{
  return FALSE;
}

static u_int
gen_getpostn (XDR *x)
{
  return ((Gen *) x->x_private)->pos;
}

static bool_t
gen_setpostn (XDR *x, u_int pos)
{
  return FALSE;
}

static int32_t *
gen_inline (XDR *x, u_int len)
{
  return NULL;
}

static void
gen_destroy (XDR *x)
{
}

static bool_t
gen_control (XDR *x, int req, void *info)
{
  return FALSE;
}

static const struct xdr_ops gen_ops = {
  gen_getlong, gen_putlong, gen_getbytes, gen_putbytes, gen_getpostn,
  gen_setpostn, gen_inline, gen_destroy, gen_control,
};

/* Fill obj (zeroed) with the value of seed; FALSE (obj freed) when the
 * sequence makes an invalid value, e.g. a union discriminant without arm. */
static gboolean
generate (xdrproc_t filter, gpointer obj, guint seed)
{
  Gen g = { seed, 0 };
  XDR x = { 0 };
  x.x_op = XDR_DECODE;
  x.x_ops = (struct xdr_ops *) &gen_ops;
  x.x_private = (char *) &g;
  if (filter (&x, obj))
    return TRUE;
  xdr_free (filter, obj);
  return FALSE;
}

/* ---- round trips and refusals ---- */

#define SEEDS 16

static void
check_refusals (const char *what, xdrproc_t filter, gsize size, const GByteArray *enc)
{
  g_autofree gpointer obj = g_malloc0 (MAX (size, 1));
  /* Every truncation. */
  for (guint len = 0; len < enc->len; len++)
    {
      g_autoptr (GError) error = NULL;
      if (rpc_marshal_decode (filter, enc->data, len, obj, &error))
        g_error ("%s: a truncation to %u of %u bytes was accepted", what, len, enc->len);
      g_assert_error (error, XDR_ERROR, XDR_ERROR_TRUNCATED);
    }
  /* Bytes beyond the value. */
  g_autoptr (GByteArray) longer = g_byte_array_new ();
  g_byte_array_append (longer, enc->data, enc->len);
  g_byte_array_append (longer, (const guint8 *) "\0\0\0\1", 4);
  g_autoptr (GError) error = NULL;
  g_assert_false (rpc_marshal_decode (filter, longer->data, longer->len, obj, &error));
  g_assert_error (error, XDR_ERROR, XDR_ERROR_TRAILING);
  /* Absurd counts and lengths in every word: refused or decoded, never a
   * crash, a leak or an allocation of what the count claims. */
  g_autoptr (GByteArray) bent = g_byte_array_new ();
  g_byte_array_append (bent, enc->data, enc->len);
  static const guint8 words[][4] = { { 0xff, 0xff, 0xff, 0xff }, { 0x7f, 0xff, 0xff, 0xff }, { 0, 0x40, 0, 1 } };
  for (guint off = 0; off + 4 <= bent->len; off += 4)
    for (guint w = 0; w < G_N_ELEMENTS (words); w++)
      {
        guint8 saved[4];
        memcpy (saved, bent->data + off, 4);
        memcpy (bent->data + off, words[w], 4);
        if (rpc_marshal_decode (filter, bent->data, bent->len, obj, NULL))
          rpc_marshal_free (filter, obj);
        memset (obj, 0, MAX (size, 1));
        memcpy (bent->data + off, saved, 4);
      }
}

/* Generate, encode, decode, encode again: the two encodings are equal and
 * the decoder consumed them exactly. */
static guint
round_trip (const char *what, xdrproc_t filter, gsize size)
{
  guint good = 0;
  for (guint seed = 0; seed < SEEDS; seed++)
    {
      g_autofree gpointer value = g_malloc0 (MAX (size, 1));
      if (!generate (filter, value, seed))
        continue;
      good++;
      g_autoptr (GByteArray) enc = g_byte_array_new ();
      g_autoptr (GError) error = NULL;
      if (!rpc_marshal_encode (filter, value, enc, &error))
        g_error ("%s seed %u: encoding failed: %s", what, seed, error->message);
      g_assert_cmpuint (enc->len % 4, ==, 0);
      g_autofree gpointer back = g_malloc0 (MAX (size, 1));
      if (!rpc_marshal_decode (filter, enc->data, enc->len, back, &error))
        g_error ("%s seed %u: decoding failed: %s", what, seed, error->message);
      g_autoptr (GByteArray) again = g_byte_array_new ();
      g_assert_true (rpc_marshal_encode (filter, back, again, NULL));
      g_assert_cmpmem (again->data, again->len, enc->data, enc->len);
      check_refusals (what, filter, size, enc);
      rpc_marshal_free (filter, back);
      rpc_marshal_free (filter, value);
    }
  return good;
}

static void
test_every_procedure (void)
{
  gsize n;
  const RpcProcedure *const *all = procedures_all (&n);
  g_assert_cmpuint (n, >, 100);
  for (gsize i = 0; i < n; i++)
    {
      const RpcProcedure *p = all[i];
      g_assert_true (p->name && *p->name && p->handler && p->args_filter && p->ret_filter);
      g_assert_true (procedures_lookup (p->proc) == p);
      g_autofree char *a = g_strdup_printf ("%s args", p->name);
      g_autofree char *r = g_strdup_printf ("%s ret", p->name);
      g_test_message ("%s (%d)", p->name, p->proc);
      g_assert_cmpuint (round_trip (a, p->args_filter, p->args_size), >, 0);
      g_assert_cmpuint (round_trip (r, p->ret_filter, p->ret_size), >, 0);
    }
  g_assert_null (procedures_lookup (0));
  g_assert_null (procedures_lookup (8));   /* unused number */
  g_assert_null (procedures_lookup (100000));
}

static void
test_event_messages (void)
{
  g_assert_cmpuint (round_trip ("lifecycle msg", (xdrproc_t) xdr_remote_domain_event_callback_lifecycle_msg,
                                sizeof (remote_domain_event_callback_lifecycle_msg)), >, 0);
  g_assert_cmpuint (round_trip ("reboot msg", (xdrproc_t) xdr_remote_domain_event_callback_reboot_msg,
                                sizeof (remote_domain_event_callback_reboot_msg)), >, 0);
}

/* Each procedure's arguments in a whole CALL packet through the framer;
 * the same packet cut short, and one announcing more than the limit. */
static void
test_packets (void)
{
  gsize n;
  const RpcProcedure *const *all = procedures_all (&n);
  for (gsize i = 0; i < n; i++)
    {
      const RpcProcedure *p = all[i];
      g_autofree gpointer args = g_malloc0 (MAX (p->args_size, 1));
      guint seed = 0;
      while (!generate (p->args_filter, args, seed))
        seed++;
      RpcHeader h = { RPC_PROGRAM_REMOTE, 1, p->proc, RPC_CALL, (guint32) i, RPC_OK };
      GByteArray *b = rpc_packet_begin (&h);
      g_assert_true (rpc_marshal_encode (p->args_filter, args, b, NULL));
      rpc_marshal_free (p->args_filter, args);
      g_autoptr (GBytes) packet = rpc_packet_finish (b);
      gsize len;
      const guint8 *d = g_bytes_get_data (packet, &len);

      RpcFramer f;
      rpc_framer_init (&f);
      rpc_framer_push (&f, d, len);
      RpcFrame fr;
      g_assert_cmpint (rpc_framer_next (&f, &fr, NULL), ==, RPC_FRAME_PACKET);
      g_assert_cmpint (fr.header.proc, ==, p->proc);
      g_autofree gpointer got = g_malloc0 (MAX (p->args_size, 1));
      g_assert_true (rpc_marshal_decode (p->args_filter, fr.payload, fr.payload_len, got, NULL));
      rpc_marshal_free (p->args_filter, got);
      rpc_framer_clear (&f);

      /* Truncated: the length word says so, the payload lacks its end. */
      if (len > RPC_LEN_SIZE + RPC_HEADER_SIZE)
        {
          g_autofree guint8 *cut = g_memdup2 (d, len - 4);
          guint32 l = len - 4;
          cut[0] = l >> 24; cut[1] = l >> 16; cut[2] = l >> 8; cut[3] = l;
          rpc_framer_init (&f);
          rpc_framer_push (&f, cut, l);
          g_assert_cmpint (rpc_framer_next (&f, &fr, NULL), ==, RPC_FRAME_PACKET);
          g_autoptr (GError) error = NULL;
          g_assert_false (rpc_marshal_decode (p->args_filter, fr.payload, fr.payload_len, got, &error));
          g_assert_error (error, XDR_ERROR, XDR_ERROR_TRUNCATED);
          rpc_framer_clear (&f);
        }

      /* Oversized: answered from the header, the body is dropped. */
      g_autofree guint8 *big = g_memdup2 (d, len);
      guint32 l = RPC_MESSAGE_MAX + RPC_LEN_SIZE + 1;
      big[0] = l >> 24; big[1] = l >> 16; big[2] = l >> 8; big[3] = l;
      rpc_framer_init (&f);
      rpc_framer_push (&f, big, len);
      g_assert_cmpint (rpc_framer_next (&f, &fr, NULL), ==, RPC_FRAME_OVERSIZED);
      g_assert_cmpint (fr.header.proc, ==, p->proc);
      rpc_framer_clear (&f);
    }
}

/* ---- layouts from the public wire format ---- */

static void
test_layout_domain_ref (void)
{
  remote_domain_ret r = { { (char *) "abcde", { 0 }, 7 } };
  for (int i = 0; i < 16; i++)
    r.dom.uuid[i] = i * 17;
  g_autoptr (GByteArray) b = g_byte_array_new ();
  g_assert_true (rpc_marshal_encode ((xdrproc_t) xdr_remote_domain_ret, &r, b, NULL));
  /* "abcde": length word, five bytes, three of padding; 16 raw uuid
   * bytes without a length; the id. */
  g_assert_cmpuint (b->len, ==, 12 + 16 + 4);
  g_assert_cmpmem (b->data, 12, "\0\0\0\5abcde\0\0\0", 12);
  g_assert_cmpmem (b->data + 12, 16, r.dom.uuid, 16);
  g_assert_cmpmem (b->data + 28, 4, "\0\0\0\7", 4);
}

static void
test_layout_char_arrays (void)
{
  /* char<> counts the NUL and takes one 4-byte word per character.
   * (libtirpc's xdr_char stores back even when encoding: no literals.) */
  char model[] = "none", doi[] = "0";
  remote_node_get_security_model_ret m = { { 5, model }, { 2, doi } };
  g_autoptr (GByteArray) b = g_byte_array_new ();
  g_assert_true (rpc_marshal_encode ((xdrproc_t) xdr_remote_node_get_security_model_ret, &m, b, NULL));
  g_assert_cmpuint (b->len, ==, 4 + 5 * 4 + 4 + 2 * 4);
  g_assert_cmpmem (b->data, 8, "\0\0\0\5\0\0\0n", 8);

  /* char[32]: 128 bytes, then the hyper and six ints. */
  remote_node_get_info_ret ni = { .model = "x86_64", .memory = 1 };
  g_byte_array_set_size (b, 0);
  g_assert_true (rpc_marshal_encode ((xdrproc_t) xdr_remote_node_get_info_ret, &ni, b, NULL));
  g_assert_cmpuint (b->len, ==, 128 + 8 + 6 * 4);
  g_assert_cmpmem (b->data, 8, "\0\0\0x\0\0\0" "8", 8);
  g_assert_cmpmem (b->data + 128, 8, "\0\0\0\0\0\0\0\1", 8);
}

static void
test_layout_small_ints (void)
{
  /* unsigned char and unsigned short take 4 bytes each. */
  remote_domain_get_info_ret gi = { .state = 1, .maxMem = 2, .memory = 3, .nrVirtCpu = 4, .cpuTime = 5 };
  g_autoptr (GByteArray) b = g_byte_array_new ();
  g_assert_true (rpc_marshal_encode ((xdrproc_t) xdr_remote_domain_get_info_ret, &gi, b, NULL));
  static const guint8 want[] = {
    0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3,
    0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 5,
  };
  g_assert_cmpmem (b->data, b->len, want, sizeof want);
}

static void
test_layout_lifecycle_event (void)
{
  remote_domain_event_callback_lifecycle_msg m = {
    .callbackID = 3, .msg = { .dom = { (char *) "vm", { 0 }, -1 }, .event = 5, .detail = 1 },
  };
  g_autoptr (GByteArray) b = g_byte_array_new ();
  g_assert_true (rpc_marshal_encode ((xdrproc_t) xdr_remote_domain_event_callback_lifecycle_msg, &m, b, NULL));
  /* callbackID, then the nested msg flattened: dom, event, detail. */
  g_assert_cmpuint (b->len, ==, 4 + 8 + 16 + 4 + 4 + 4);
  g_assert_cmpmem (b->data, 12, "\0\0\0\3\0\0\0\2vm\0\0", 12);
  g_assert_cmpmem (b->data + 28, 12, "\xff\xff\xff\xff\0\0\0\5\0\0\0\1", 12);
}

static void
test_limits (void)
{
  /* A string over REMOTE_STRING_MAX, a length word near 4 GiB, a list over
   * its bound: refused before anything that size is allocated.  (The
   * error code is the same for all: rpcgen's routines only say no.) */
  remote_domain_lookup_by_name_args a = { 0 };
  g_autoptr (GError) error = NULL;
  const guint8 over[] = { 0, 0x40, 0, 1, 'a', 'b', 'c', 'd' };
  g_assert_false (rpc_marshal_decode ((xdrproc_t) xdr_remote_domain_lookup_by_name_args, over, sizeof over,
                                      &a, &error));
  g_assert_error (error, XDR_ERROR, XDR_ERROR_TRUNCATED);
  g_clear_error (&error);
  const guint8 huge[] = { 0xff, 0xff, 0xff, 0xfe, 'a', 'b', 'c', 'd' };
  g_assert_false (rpc_marshal_decode ((xdrproc_t) xdr_remote_domain_lookup_by_name_args, huge, sizeof huge,
                                      &a, &error));
  g_assert_error (error, XDR_ERROR, XDR_ERROR_TRUNCATED);
  g_clear_error (&error);
  g_assert_null (a.name);
  /* Every consumer treats strings as C strings: no NUL inside. */
  const guint8 nul[] = { 0, 0, 0, 3, 'a', 0, 'b', 0 };
  g_assert_false (rpc_marshal_decode ((xdrproc_t) xdr_remote_domain_lookup_by_name_args, nul, sizeof nul,
                                      &a, &error));
  g_assert_error (error, XDR_ERROR, XDR_ERROR_TRUNCATED);
  g_clear_error (&error);
  g_assert_null (a.name);

  remote_connect_get_all_domain_stats_args s = { 0 };
  const guint8 many[] = { 0, 0, 0x40, 1, 0, 0, 0, 0, 0, 0, 0, 0 };  /* 16385 domains */
  g_assert_false (rpc_marshal_decode ((xdrproc_t) xdr_remote_connect_get_all_domain_stats_args, many,
                                      sizeof many, &s, &error));
  g_assert_error (error, XDR_ERROR, XDR_ERROR_TRUNCATED);
  g_assert_null (s.doms.doms_val);

  /* A value the description cannot carry is an error, not a crash. */
  remote_domain_ret unset = { 0 };
  g_autoptr (GByteArray) b = g_byte_array_new ();
  g_clear_error (&error);
  g_assert_false (rpc_marshal_encode ((xdrproc_t) xdr_remote_domain_ret, &unset, b, &error));
  g_assert_error (error, XDR_ERROR, XDR_ERROR_INVALID);
  g_assert_cmpuint (b->len, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rpc-marshal/every-procedure", test_every_procedure);
  g_test_add_func ("/rpc-marshal/event-messages", test_event_messages);
  g_test_add_func ("/rpc-marshal/packets", test_packets);
  g_test_add_func ("/rpc-marshal/layout/domain-ref", test_layout_domain_ref);
  g_test_add_func ("/rpc-marshal/layout/char-arrays", test_layout_char_arrays);
  g_test_add_func ("/rpc-marshal/layout/small-ints", test_layout_small_ints);
  g_test_add_func ("/rpc-marshal/layout/lifecycle-event", test_layout_lifecycle_event);
  g_test_add_func ("/rpc-marshal/limits", test_limits);
  return g_test_run ();
}
