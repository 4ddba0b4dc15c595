/* Internal disk snapshots of shut-off domains: every writable disk is a
 * qcow2 image and keeps the snapshot inside itself (the stock qemu-img does
 * the image work); the daemon keeps each snapshot's description, with the
 * domain definition of that moment, as libvirt's <domainsnapshot> XML in
 * CONFIG_DIR/snapshot/DOMAIN/NAME.xml, and the current one's name in
 * CONFIG_DIR/snapshot/DOMAIN/current.
 *
 * Snapshots of running domains (which need the VM's memory) are refused
 * with a message saying so. */
#pragma once

#include "daemon.h"
#include "domain-def.h"

typedef struct {
  char *name;
  char *description;   /* NULL: none */
  char *parent;        /* NULL: a root */
  gint64 creation_time;
  char *domain_xml;    /* the domain's inactive definition when taken */
  GPtrArray *disks;    /* char*: "vda", ... the disks it covers */
} DomainSnapshot;

void domain_snapshot_free (DomainSnapshot *snap);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DomainSnapshot, domain_snapshot_free)

/* All of the domain's snapshots, oldest first (DomainSnapshot*). */
GPtrArray *domain_snapshot_list (Daemon *d, const char *domain);
guint domain_snapshot_count (Daemon *d, const char *domain);
DomainSnapshot *domain_snapshot_lookup (Daemon *d, const char *domain, const char *name,
                                        GError **error);
/* The current snapshot's name, or NULL. */
char *domain_snapshot_current (Daemon *d, const char *domain);

/* Takes a snapshot of def's disks from <domainsnapshot> XML (name and
 * description optional); the domain must be shut off (active FALSE). */
DomainSnapshot *domain_snapshot_create (Daemon *d, const DomainDef *def, gboolean active,
                                        const char *xml, guint flags, GError **error);
/* Puts every disk of the snapshot back to its contents; the caller then
 * redefines the domain from snap->domain_xml. */
gboolean domain_snapshot_revert_disks (Daemon *d, const char *domain, DomainSnapshot *snap,
                                       GError **error);
/* flags: VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN (1), _METADATA_ONLY (2),
 * _CHILDREN_ONLY (4). */
gboolean domain_snapshot_delete (Daemon *d, const char *domain, const char *name, guint flags,
                                 GError **error);
/* Forgets every snapshot's description (the images keep them): undefine
 * --snapshots-metadata. */
gboolean domain_snapshot_forget_all (Daemon *d, const char *domain, GError **error);

char *domain_snapshot_format (const DomainSnapshot *snap);
