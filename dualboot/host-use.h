/* Whether the host itself uses a block device: mounted, swap, or held by
 * device-mapper, md or LVM.  The parsers take text so tests can feed them. */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* Mount points of devnum in /proc/self/mountinfo text: by major:minor
 * (the third field), or by mount source equal to device when given (a FUSE
 * driver run by a user, ntfs-3g without fuseblk, reports an anonymous
 * major:minor).  Mount points are unescaped ("\040" is a space). */
GPtrArray *oriel_mountinfo_mount_points (const char *mountinfo, dev_t devnum, const char *device);

/* The device paths listed in /proc/swaps text (the first column). */
GPtrArray *oriel_swaps_devices (const char *swaps);

/* Names in sysfs_root/class/block/NAME/holders ("dm-0", "md127"). */
GPtrArray *oriel_block_holders (const char *sysfs_root, const char *name);

/* How the host uses devnum (whose sysfs name is name, may be NULL):
 * mount points, "swap", and holder names, from the live system files;
 * device is its node path for the mount source match, or NULL.
 * Empty when the host does not use it. */
typedef struct {
  GPtrArray *mount_points;
  gboolean swap;
  GPtrArray *holders;
} OrielHostUse;

OrielHostUse *oriel_host_use_query (dev_t devnum, const char *name, const char *device, const char *sysfs_root);
gboolean oriel_host_use_is_busy (const OrielHostUse *use);
void oriel_host_use_free (OrielHostUse *use);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrielHostUse, oriel_host_use_free)

G_END_DECLS
