/* `virsh console`: a libvirt stream joined to the guest's serial pty. */
#pragma once

#include "rpc-server.h"

/* Opens pty_path and starts relaying; on failure sets error and returns
 * FALSE before any reply has been sent. */
gboolean console_stream_open (RpcCall *call, const char *pty_path, GError **error);
