/* Errors that travel to libvirt clients: a GError whose code is libvirt's
 * public virErrorNumber, so handlers can report precise codes. */
#pragma once

#include <glib.h>

#define VIRT_ERROR (virt_error_quark ())
GQuark virt_error_quark (void);

/* virErrorNumber values used by the daemon (public libvirt ABI). */
typedef enum {
  VIR_ERR_INTERNAL_ERROR = 1,
  VIR_ERR_NO_SUPPORT = 3,
  VIR_ERR_INVALID_ARG = 8,
  VIR_ERR_OPERATION_FAILED = 9,
  VIR_ERR_XML_ERROR = 27,
  VIR_ERR_DOM_EXIST = 28,
  VIR_ERR_OPERATION_DENIED = 29,
  VIR_ERR_CONF_SYNTAX = 33,
  VIR_ERR_SYSTEM_ERROR = 38,
  VIR_ERR_RPC = 39,
  VIR_ERR_NO_DOMAIN = 42,
  VIR_ERR_NO_NETWORK = 43,
  VIR_ERR_AUTH_FAILED = 45,
  VIR_ERR_NO_STORAGE_POOL = 49,
  VIR_ERR_NO_STORAGE_VOL = 50,
  VIR_ERR_NO_NODE_DEVICE = 53,
  VIR_ERR_OPERATION_INVALID = 55,
  VIR_ERR_NO_SECRET = 66,
  VIR_ERR_CONFIG_UNSUPPORTED = 67,
  VIR_ERR_OPERATION_TIMEOUT = 68,
  VIR_ERR_NO_DOMAIN_SNAPSHOT = 72,
  VIR_ERR_ARGUMENT_UNSUPPORTED = 74,
  VIR_ERR_NO_DOMAIN_METADATA = 80,
  VIR_ERR_OPERATION_UNSUPPORTED = 84,
  VIR_ERR_STORAGE_VOL_EXIST = 90,
  VIR_ERR_AUTH_UNAVAILABLE = 94,
} VirtErrorCode;

/* virErrorDomain values (the subsystem the client prints). */
typedef enum {
  VIR_FROM_NONE = 0,
  VIR_FROM_RPC = 7,
  VIR_FROM_REMOTE = 13,
  VIR_FROM_STORAGE = 18,
  VIR_FROM_NETWORK = 19,
  VIR_FROM_DOMAIN = 20,
} VirtErrorFrom;

/* The subsystem reported for an error code. */
VirtErrorFrom virt_error_from_for_code (int code);

/* Convert any GError into one carrying a libvirt code (XDR errors become
 * VIR_ERR_RPC, I/O errors VIR_ERR_SYSTEM_ERROR, others INTERNAL_ERROR). */
int virt_error_code_of (const GError *error);
