#include "rpc-marshal.h"
#include "xdr-codec.h"

#include <glib/gi18n.h>
#include <string.h>

bool_t
xdr_rpc_void (XDR *xdrs, rpc_void *obj)
{
  return TRUE;
}

gboolean
rpc_marshal_decode (xdrproc_t filter, const guint8 *data, gsize len, gpointer obj, GError **error)
{
  if (len > G_MAXUINT)
    {
      g_set_error (error, XDR_ERROR, XDR_ERROR_LIMIT, _("message too large"));
      return FALSE;
    }
  XDR x;
  /* Decoding only reads the buffer. */
  xdrmem_create (&x, (char *) data, (u_int) len, XDR_DECODE);
  gboolean ok = filter (&x, obj);
  u_int used = ok ? xdr_getpos (&x) : 0;
  xdr_destroy (&x);
  if (!ok)
    g_set_error (error, XDR_ERROR, XDR_ERROR_TRUNCATED,
                 _("truncated XDR data, or a length over the protocol's limit"));
  else if (used != len)
    {
      g_set_error (error, XDR_ERROR, XDR_ERROR_TRAILING, _("%zu unexpected trailing bytes in XDR data"),
                   len - used);
      ok = FALSE;
    }
  /* Partly decoded values own what was allocated so far. */
  if (!ok)
    xdr_free (filter, obj);
  return ok;
}

gboolean
rpc_marshal_encode (xdrproc_t filter, gpointer obj, GByteArray *out, GError **error)
{
  /* xdr_sizeof runs the same routine over a counting stream: 0 is also its
   * answer for a value that cannot be encoded, which the real pass below
   * then reports. */
  gsize size = xdr_sizeof (filter, obj);
  guint old = out->len;
  if (size > G_MAXUINT - old)
    {
      g_set_error (error, XDR_ERROR, XDR_ERROR_LIMIT, _("message too large"));
      return FALSE;
    }
  g_byte_array_set_size (out, old + size);
  /* An empty array has no data pointer; the pass still checks the value. */
  char none[4];
  XDR x;
  xdrmem_create (&x, size ? (char *) out->data + old : none, (u_int) size, XDR_ENCODE);
  gboolean ok = filter (&x, obj) && xdr_getpos (&x) == size;
  xdr_destroy (&x);
  if (!ok)
    {
      g_byte_array_set_size (out, old);
      g_set_error (error, XDR_ERROR, XDR_ERROR_INVALID, _("the value cannot be encoded"));
    }
  return ok;
}

void
rpc_marshal_free (xdrproc_t filter, gpointer obj)
{
  xdr_free (filter, obj);
}
