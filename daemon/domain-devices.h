/* Everyday changes and queries of one domain's devices and descriptive
 * fields: title and description, configured memory, the CD-ROM's medium,
 * and the VMM's vCPU threads.  libvirt's AFFECT_LIVE / AFFECT_CONFIG
 * rules decide which definition (running, persistent, or both) a change
 * reaches. */
#pragma once

#include "domain-driver.h"

/* virDomainModificationImpact */
#define DOMAIN_AFFECT_LIVE   1u
#define DOMAIN_AFFECT_CONFIG 2u

/* virDomainMetadataType */
enum { DOMAIN_METADATA_DESCRIPTION = 0, DOMAIN_METADATA_TITLE = 1, DOMAIN_METADATA_ELEMENT = 2 };

/* Turn CURRENT (0) into LIVE or CONFIG as the domain's state says, and
 * refuse LIVE of an inactive domain and CONFIG of a transient one. */
gboolean domain_modification_impact (DomainObj *dom, guint *flags, GError **error);

/* The disk whose target (vda, hdc) or source file is name; NULL if none. */
DomainDisk *domain_find_disk (DomainDef *def, const char *name);

/* <title> / <description>: value NULL or "" removes it. */
gboolean domain_set_metadata (DomainObj *dom, int type, const char *value, guint flags, GError **error);
/* A copy of the field; NULL with VIR_ERR_NO_DOMAIN_METADATA when absent. */
char *domain_get_metadata (DomainObj *dom, int type, guint flags, GError **error);

/* <currentMemory> (or with maximum, <memory>) of the persistent
 * definition; a running domain's cannot change without a balloon. */
gboolean domain_set_memory (DomainObj *dom, guint64 kib, guint flags, gboolean maximum, GError **error);

/* Put disk's medium (its source, or none: eject) into the CD-ROM of its
 * target; takes disk.  force: eject even while the guest locks the tray.
 * done runs when the VMM has done it. */
void domain_change_media (DomainObj *dom, DomainDisk *disk, guint flags, gboolean force,
                          DomainDoneFn done, gpointer data);

/* The host thread ids of the vCPUs, in vCPU order (GArray of pid_t). */
typedef void (*DomainVcpuThreadsFn) (DomainObj *dom, GArray *tids, const GError *error, gpointer data);
void domain_query_vcpu_threads (DomainObj *dom, DomainVcpuThreadsFn done, gpointer data);
