/* Framing of libvirt RPC packets: the length word, the 24-byte header, and
 * building replies, errors, events and stream packets. */
#pragma once

#include <glib.h>
#include "xdr-codec.h"

typedef struct {
  guint32 prog;
  guint32 vers;
  gint32 proc;
  guint32 type;
  guint32 serial;
  guint32 status;
} RpcHeader;

gboolean rpc_header_decode (XdrReader *r, RpcHeader *h, GError **error);

/* Start a packet: a length placeholder and the header.  Append the body with
 * the xdr_put_* helpers, then close it with rpc_packet_finish. */
GByteArray *rpc_packet_begin (const RpcHeader *h);
GBytes *rpc_packet_finish (GByteArray *packet);

/* The remote_error body for a failed reply or stream. */
void rpc_put_error (GByteArray *b, int code, const char *message);

/* A whole error reply answering the call described by h. */
GBytes *rpc_error_reply (const RpcHeader *call, int code, const char *message);

/* Incremental reassembly of packets from a byte stream. */
typedef enum {
  RPC_FRAME_NEED_MORE,
  RPC_FRAME_PACKET,      /* header and payload are valid */
  RPC_FRAME_OVERSIZED,   /* header valid; the body is being discarded */
  RPC_FRAME_FATAL,       /* framing lost: the connection must close */
} RpcFrameResult;

typedef struct {
  GByteArray *buf;
  gsize start;             /* consumed prefix of buf */
  guint64 discard;         /* bytes of an oversized packet still to drop */
  guint32 oversize_len;    /* announced length of the packet being dropped */
} RpcFramer;

typedef struct {
  RpcHeader header;
  const guint8 *payload;   /* valid until the next rpc_framer_* call */
  gsize payload_len;
  guint32 announced_len;   /* for OVERSIZED: the claimed packet length */
} RpcFrame;

void rpc_framer_init (RpcFramer *f);
void rpc_framer_clear (RpcFramer *f);
void rpc_framer_push (RpcFramer *f, const guint8 *data, gsize len);
RpcFrameResult rpc_framer_next (RpcFramer *f, RpcFrame *frame, GError **error);
