/* Numbers of libvirt's remote wire protocol outside the procedures' own
 * description (protocol/remote.x, which has the procedure numbers):
 * programs, message types, limits, features and CONNECT_OPEN flags. */
#pragma once

#define RPC_PROGRAM_REMOTE 0x20008086u
#define RPC_PROGRAM_KEEPALIVE 0x6b656570u
#define RPC_PROTOCOL_VERSION 1u

#define RPC_LEN_SIZE 4u
#define RPC_HEADER_SIZE 24u
#define RPC_MESSAGE_MAX 33554432u          /* body limit (length minus 4) */
#define RPC_STREAM_PAYLOAD_MAX 262120u
#define RPC_STRING_MAX 4194304u
#define RPC_LIST_MAX 16384u

typedef enum {
  RPC_CALL = 0,
  RPC_REPLY = 1,
  RPC_MESSAGE = 2,
  RPC_STREAM = 3,
  RPC_CALL_WITH_FDS = 4,
  RPC_REPLY_WITH_FDS = 5,
  RPC_STREAM_HOLE = 6,
} RpcType;

typedef enum {
  RPC_OK = 0,
  RPC_ERROR = 1,
  RPC_CONTINUE = 2,
} RpcStatus;

enum {
  KEEPALIVE_PROC_PING = 1,
  KEEPALIVE_PROC_PONG = 2,
};

/* CONNECT_SUPPORTS_FEATURE values */
enum {
  FEATURE_FD_PASSING = 8,
  FEATURE_TYPED_PARAM_STRING = 9,
  FEATURE_PROGRAM_KEEPALIVE = 10,
  FEATURE_REMOTE_EVENT_CALLBACK = 14,
  FEATURE_REMOTE_CLOSE_CALLBACK = 15,
};

/* CONNECT_OPEN flags */
enum { CONNECT_RO = 1 };
