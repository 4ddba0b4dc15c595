/* Reading the FAT EFI system partition without mounting it: mtools works on
 * the disk at the partition's offset, read-only. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TRUE when the FAT filesystem at byte offset of device holds path
 * ("EFI/Microsoft/Boot/bootmgfw.efi", matched case-insensitively as FAT
 * does).  FALSE with an error when mtools could not run. */
gboolean oriel_esp_has_file (const char *device, guint64 offset, const char *path, GError **error);

G_END_DECLS
