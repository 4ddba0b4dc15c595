#include "xdr-codec.h"

#include <glib/gi18n.h>
#include <string.h>

G_DEFINE_QUARK (oriel-xdr-error-quark, xdr_error)

void
xdr_reader_init (XdrReader *r, const guint8 *data, gsize len)
{
  r->data = data;
  r->len = len;
  r->pos = 0;
}

gsize
xdr_reader_remaining (const XdrReader *r)
{
  return r->len - r->pos;
}

static gboolean
need (XdrReader *r, gsize n, GError **error)
{
  if (xdr_reader_remaining (r) < n)
    {
      g_set_error (error, XDR_ERROR, XDR_ERROR_TRUNCATED,
                   _("truncated XDR data: need %zu bytes at offset %zu, have %zu"),
                   n, r->pos, xdr_reader_remaining (r));
      return FALSE;
    }
  return TRUE;
}

static gsize
padded (gsize n)
{
  return (n + 3) & ~(gsize) 3;
}

gboolean
xdr_get_u32 (XdrReader *r, guint32 *out, GError **error)
{
  if (!need (r, 4, error))
    return FALSE;
  const guint8 *p = r->data + r->pos;
  *out = ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
  r->pos += 4;
  return TRUE;
}

gboolean
xdr_get_i32 (XdrReader *r, gint32 *out, GError **error)
{
  guint32 v;
  if (!xdr_get_u32 (r, &v, error))
    return FALSE;
  *out = (gint32) v;
  return TRUE;
}

gboolean
xdr_get_u64 (XdrReader *r, guint64 *out, GError **error)
{
  guint32 hi, lo;
  if (!need (r, 8, error))
    return FALSE;
  xdr_get_u32 (r, &hi, NULL);
  xdr_get_u32 (r, &lo, NULL);
  *out = ((guint64) hi << 32) | lo;
  return TRUE;
}

gboolean
xdr_get_i64 (XdrReader *r, gint64 *out, GError **error)
{
  guint64 v;
  if (!xdr_get_u64 (r, &v, error))
    return FALSE;
  *out = (gint64) v;
  return TRUE;
}

gboolean
xdr_get_bool (XdrReader *r, gboolean *out, GError **error)
{
  guint32 v;
  if (!xdr_get_u32 (r, &v, error))
    return FALSE;
  if (v > 1)
    {
      g_set_error (error, XDR_ERROR, XDR_ERROR_INVALID,
                   _("invalid XDR boolean value %u"), v);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

gboolean
xdr_get_string (XdrReader *r, gsize max, char **out, GError **error)
{
  guint32 len;
  if (!xdr_get_u32 (r, &len, error))
    return FALSE;
  if (len > max)
    {
      g_set_error (error, XDR_ERROR, XDR_ERROR_LIMIT,
                   _("XDR string of %u bytes exceeds the limit of %zu"),
                   len, max);
      return FALSE;
    }
  if (!need (r, padded (len), error))
    return FALSE;
  const char *p = (const char *) r->data + r->pos;
  if (memchr (p, '\0', len) != NULL)
    {
      g_set_error (error, XDR_ERROR, XDR_ERROR_INVALID,
                   _("XDR string contains a NUL byte"));
      return FALSE;
    }
  *out = g_strndup (p, len);
  r->pos += padded (len);
  return TRUE;
}

gboolean
xdr_get_opt_string (XdrReader *r, gsize max, char **out, GError **error)
{
  gboolean present;
  if (!xdr_get_bool (r, &present, error))
    return FALSE;
  if (!present)
    {
      *out = NULL;
      return TRUE;
    }
  return xdr_get_string (r, max, out, error);
}

gboolean
xdr_get_fixed_opaque (XdrReader *r, guint8 *out, gsize n, GError **error)
{
  if (!need (r, padded (n), error))
    return FALSE;
  memcpy (out, r->data + r->pos, n);
  r->pos += padded (n);
  return TRUE;
}

gboolean
xdr_get_opaque (XdrReader *r, gsize max, GBytes **out, GError **error)
{
  guint32 len;
  if (!xdr_get_u32 (r, &len, error))
    return FALSE;
  if (len > max)
    {
      g_set_error (error, XDR_ERROR, XDR_ERROR_LIMIT,
                   _("XDR opaque of %u bytes exceeds the limit of %zu"),
                   len, max);
      return FALSE;
    }
  if (!need (r, padded (len), error))
    return FALSE;
  *out = g_bytes_new (r->data + r->pos, len);
  r->pos += padded (len);
  return TRUE;
}

gboolean
xdr_reader_finish (XdrReader *r, GError **error)
{
  if (r->pos != r->len)
    {
      g_set_error (error, XDR_ERROR, XDR_ERROR_TRAILING,
                   _("%zu unexpected trailing bytes in XDR data"),
                   r->len - r->pos);
      return FALSE;
    }
  return TRUE;
}

void
xdr_put_u32 (GByteArray *b, guint32 v)
{
  guint8 p[4] = { v >> 24, v >> 16, v >> 8, v };
  g_byte_array_append (b, p, 4);
}

void
xdr_put_i32 (GByteArray *b, gint32 v)
{
  xdr_put_u32 (b, (guint32) v);
}

void
xdr_put_u64 (GByteArray *b, guint64 v)
{
  xdr_put_u32 (b, v >> 32);
  xdr_put_u32 (b, v & 0xffffffffu);
}

void
xdr_put_i64 (GByteArray *b, gint64 v)
{
  xdr_put_u64 (b, (guint64) v);
}

static void
put_padding (GByteArray *b, gsize n)
{
  static const guint8 zeros[4] = { 0 };
  g_byte_array_append (b, zeros, padded (n) - n);
}

void
xdr_put_opaque (GByteArray *b, const guint8 *data, gsize n)
{
  xdr_put_u32 (b, n);
  if (n)
    g_byte_array_append (b, data, n);
  put_padding (b, n);
}

void
xdr_put_string (GByteArray *b, const char *s)
{
  xdr_put_opaque (b, (const guint8 *) (s ? s : ""), s ? strlen (s) : 0);
}

void
xdr_put_opt_string (GByteArray *b, const char *s)
{
  xdr_put_u32 (b, s != NULL);
  if (s)
    xdr_put_string (b, s);
}

void
xdr_put_fixed_opaque (GByteArray *b, const guint8 *data, gsize n)
{
  g_byte_array_append (b, data, n);
  put_padding (b, n);
}

void
xdr_put_char_array_fixed (GByteArray *b, const char *s, gsize n)
{
  gsize len = strlen (s);
  for (gsize i = 0; i < n; i++)
    xdr_put_i32 (b, i < len ? (gint8) s[i] : 0);
}

void
xdr_put_char_array_var (GByteArray *b, const char *s)
{
  gsize len = strlen (s) + 1;
  xdr_put_u32 (b, len);
  for (gsize i = 0; i < len; i++)
    xdr_put_i32 (b, (gint8) s[i]);
}
