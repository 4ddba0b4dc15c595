/* Domains with <oriel:dualboot>: this computer's own Windows disk shown to
 * the guest as a synthetic disk.  What define checks and fills in, the
 * per-domain files (map, overlays, the partition table record) and the
 * safety checks and disk lock of every start. */
#pragma once

#include "daemon.h"
#include "disk-lock.h"
#include "domain-def.h"

/* The domain's dual-boot disk, or NULL. */
DomainDisk *dualboot_domain_disk (const DomainDef *def);

/* DUALBOOT_DIR/NAME: map, overlays, partition table record. */
char *dualboot_domain_dir (Daemon *d, const char *name);

/* At define (def is the new definition, old the one it replaces or NULL):
 * fill in the fingerprint, check the listed partitions against the disk,
 * apply a mode switch (trial to real drops the trial overlay) or
 * discard-trial='yes', and write the files.  running refuses changes to
 * the files a running VM uses. */
gboolean dualboot_domain_define (Daemon *d, DomainDef *def, const DomainDef *old, gboolean running,
                                 GError **error);

/* Before a start of live (a no-op without a dual-boot disk): the safety
 * checks in the domain's mode against the recorded table, the files, the
 * map's path in the disk's live_map.  *lock gets the disk's lock, to be
 * held as long as the VMM runs (NULL without a dual-boot disk). */
gboolean dualboot_domain_prepare_start (Daemon *d, DomainDef *live, OrielDiskLock **lock, GError **error);

/* undefine: the domain's directory goes. */
gboolean dualboot_domain_remove (Daemon *d, const char *name, GError **error);
