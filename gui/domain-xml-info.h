/* Reads the parts of a domain's XML the application displays. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char *device;   /* "disk", "cdrom" */
  char *target;   /* "vda" */
  char *bus;
  char *source;   /* file path or block device, may be NULL */
  gboolean readonly;
  /* "trial" or "real" for the Windows installed on this computer's disk
   * (<oriel:dualboot>), NULL otherwise. */
  char *dualboot_mode;
} OrielDiskInfo;

typedef struct {
  char *type;     /* "network", "user", "bridge" */
  char *source;
  char *mac;
  char *model;
} OrielNicInfo;

typedef struct {
  char *name;
  char *os_id;            /* libosinfo id from the metadata, or NULL */
  guint64 memory_kib;
  guint vcpus;
  char *firmware;         /* "efi" or "bios" */
  char *kernel;
  GPtrArray *disks;       /* OrielDiskInfo* */
  GPtrArray *nics;        /* OrielNicInfo* */
  char *graphics_type;    /* "vnc", "spice" or NULL */
  int graphics_port;      /* -1 if none */
  char *graphics_listen;
  char *graphics_socket;
} OrielDomainInfo;

/* NULL with error set if xml is not a domain. */
OrielDomainInfo *oriel_domain_info_parse (const char *xml, GError **error);
void oriel_domain_info_free (OrielDomainInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrielDomainInfo, oriel_domain_info_free)

G_END_DECLS
