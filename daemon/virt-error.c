#include "virt-error.h"
#include "xdr-codec.h"

#include <gio/gio.h>

G_DEFINE_QUARK (oriel-virt-error-quark, virt_error)

VirtErrorFrom
virt_error_from_for_code (int code)
{
  switch (code)
    {
    case VIR_ERR_RPC:
      return VIR_FROM_RPC;
    case VIR_ERR_NO_STORAGE_POOL:
    case VIR_ERR_NO_STORAGE_VOL:
    case VIR_ERR_STORAGE_VOL_EXIST:
      return VIR_FROM_STORAGE;
    case VIR_ERR_NO_NETWORK:
      return VIR_FROM_NETWORK;
    default:
      return VIR_FROM_DOMAIN;
    }
}

int
virt_error_code_of (const GError *error)
{
  if (error->domain == VIRT_ERROR)
    return error->code;
  if (error->domain == XDR_ERROR)
    return VIR_ERR_RPC;
  if (error->domain == G_IO_ERROR || error->domain == G_FILE_ERROR)
    return VIR_ERR_SYSTEM_ERROR;
  return VIR_ERR_INTERNAL_ERROR;
}
