/* The daemon's state: where things live, the domain registry, the RPC
 * server, and the one storage pool and network it offers. */
#pragma once

#include <glib.h>
#include "storage-pool.h"

typedef struct {
  char *socket_dir;    /* virtorield-sock and virtorield-sock-ro */
  char *config_dir;    /* persistent domain XML */
  char *state_dir;     /* per running VM: pid, control socket, live XML */
  char *image_dir;     /* the 'default' storage pool */
  char *save_dir;      /* managed save images */
  char *tpm_dir;       /* per domain: its TPM's state (swtpm), UUID/tpm2 */
  char *nvram_dir;     /* per domain: its UEFI variable store, NAME_VARS.fd */
  char *dualboot_dir;  /* per dual-boot domain: NAME/ with its map file and overlays */
  char **firmware_dirs; /* firmware descriptors (*.json), earlier ones first */
  char *vmm_path;      /* oriel-vmm binary */
} DaemonPaths;

typedef struct Daemon Daemon;
typedef struct RpcServer RpcServer;
typedef struct DomainObj DomainObj;

struct Daemon {
  DaemonPaths paths;
  RpcServer *server;
  GHashTable *domains;    /* name -> DomainObj* */
  GList *event_listeners; /* domain event listeners (domain-driver.c) */
  int next_id;
  guint8 host_uuid[16];
  guint8 pool_uuid[16];
  guint8 network_uuid[16];
  StoragePool pool;
};

static inline StoragePool *
daemon_storage_pool (Daemon *d)
{
  return &d->pool;
}
