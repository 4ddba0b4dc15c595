/* What the host offers: capabilities XML, domain capabilities XML and
 * node information, read from /proc and sysconf. */
#pragma once

#include <glib.h>

typedef struct {
  char model[32];
  guint64 memory_kib;
  int cpus;
  int mhz;
  int nodes;
  int sockets;
  int cores;
  int threads;
} HostNodeInfo;

void host_node_info (HostNodeInfo *info);
guint64 host_free_memory_bytes (void);
char *host_capabilities_xml (const guint8 host_uuid[16], const char *emulator);
/* machine: NULL for the default (i440FX); firmware_dirs: where the UEFI
 * firmware descriptors are (firmware.h).  NULL with error for a machine
 * type Oriel does not have. */
char *host_domain_capabilities_xml (const char *emulator, const char *machine,
                                    const char *const *firmware_dirs, GError **error);
