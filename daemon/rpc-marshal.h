/* Marshalling of protocol structs: the C types and XDR routines rpcgen
 * generates from protocol/remote.x, applied to memory buffers. */
#pragma once

#include <glib.h>
#include <rpc/rpc.h>
#include "remote-protocol.h"

/* Procedures without arguments or results name rpc_void: nothing on the
 * wire. */
typedef struct {
  char unused;
} rpc_void;
bool_t xdr_rpc_void (XDR *xdrs, rpc_void *obj);

/* Decode exactly len bytes into obj (zeroed by the caller).  A truncated
 * buffer, a length beyond the description's bounds or bytes left over fail
 * with XDR_ERROR; obj is then freed and zeroed again. */
gboolean rpc_marshal_decode (xdrproc_t filter, const guint8 *data, gsize len, gpointer obj, GError **error);
/* Append obj's encoding to out; fails (out unchanged) for a value the
 * description cannot carry, such as a NULL non-null string. */
gboolean rpc_marshal_encode (xdrproc_t filter, gpointer obj, GByteArray *out, GError **error);
/* Free what decoding (or a handler filling a result) allocated in obj. */
void rpc_marshal_free (xdrproc_t filter, gpointer obj);
