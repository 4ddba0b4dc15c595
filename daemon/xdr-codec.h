/* XDR (RFC 4506) encoding and bounds-checked decoding of the few fields the
 * RPC layer handles itself: the packet header, error replies, descriptor
 * counts.  Procedure arguments, results and events go through the code
 * rpcgen generates from protocol/remote.x (rpc-marshal.h). */
#pragma once

#include <glib.h>

typedef struct {
  const guint8 *data;
  gsize len;
  gsize pos;
} XdrReader;

void xdr_reader_init (XdrReader *r, const guint8 *data, gsize len);
gsize xdr_reader_remaining (const XdrReader *r);

/* Each getter returns FALSE (and sets error) on truncation or a limit
 * violation; the reader position is then unspecified. */
gboolean xdr_get_u32 (XdrReader *r, guint32 *out, GError **error);
gboolean xdr_get_i32 (XdrReader *r, gint32 *out, GError **error);
gboolean xdr_get_u64 (XdrReader *r, guint64 *out, GError **error);
gboolean xdr_get_i64 (XdrReader *r, gint64 *out, GError **error);
gboolean xdr_get_bool (XdrReader *r, gboolean *out, GError **error);
/* A non-null string of at most max bytes; embedded NULs are refused since
 * every consumer treats it as a C string. */
gboolean xdr_get_string (XdrReader *r, gsize max, char **out, GError **error);
/* The nullable form: u32 0/1 then the string. *out is NULL for null. */
gboolean xdr_get_opt_string (XdrReader *r, gsize max, char **out, GError **error);
gboolean xdr_get_fixed_opaque (XdrReader *r, guint8 *out, gsize n, GError **error);
gboolean xdr_get_opaque (XdrReader *r, gsize max, GBytes **out, GError **error);
/* Succeeds only if every byte has been consumed. */
gboolean xdr_reader_finish (XdrReader *r, GError **error);

void xdr_put_u32 (GByteArray *b, guint32 v);
void xdr_put_i32 (GByteArray *b, gint32 v);
void xdr_put_u64 (GByteArray *b, guint64 v);
void xdr_put_i64 (GByteArray *b, gint64 v);
void xdr_put_string (GByteArray *b, const char *s);
void xdr_put_opt_string (GByteArray *b, const char *s);
void xdr_put_fixed_opaque (GByteArray *b, const guint8 *data, gsize n);
void xdr_put_opaque (GByteArray *b, const guint8 *data, gsize n);
/* char[] fields travel as one 4-byte word per character. */
void xdr_put_char_array_fixed (GByteArray *b, const char *s, gsize n);
/* char<> with the trailing NUL counted, as libvirt sends security models. */
void xdr_put_char_array_var (GByteArray *b, const char *s);

#define XDR_ERROR (xdr_error_quark ())
GQuark xdr_error_quark (void);

typedef enum {
  XDR_ERROR_TRUNCATED,
  XDR_ERROR_LIMIT,
  XDR_ERROR_INVALID,
  XDR_ERROR_TRAILING,
} XdrErrorCode;
