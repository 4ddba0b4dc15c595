/* Filesystem identification through libblkid (see fs-probe.h). */
#include "fs-probe.h"

#include <blkid.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

char *
oriel_fs_probe_fd (int fd, guint64 offset, guint64 size, char **label)
{
  blkid_probe pr = blkid_new_probe ();
  const char *value = NULL;
  char *type = NULL;

  if (label != NULL)
    *label = NULL;
  if (pr == NULL)
    return NULL;
  if (blkid_probe_set_device (pr, fd, (blkid_loff_t) offset, (blkid_loff_t) size) == 0)
    {
      blkid_probe_enable_superblocks (pr, 1);
      blkid_probe_set_superblocks_flags (pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL);
      /* Partition tables inside a partition are not what is asked for. */
      blkid_probe_enable_partitions (pr, 0);
      if (blkid_do_safeprobe (pr) == 0)
        {
          if (blkid_probe_lookup_value (pr, "TYPE", &value, NULL) == 0)
            type = g_strdup (value);
          if (label != NULL && blkid_probe_lookup_value (pr, "LABEL", &value, NULL) == 0)
            *label = g_strdup (value);
        }
    }
  blkid_free_probe (pr);
  return type;
}

char *
oriel_fs_probe_path (const char *path, gboolean *readable)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  char *type;

  *readable = fd >= 0;
  if (fd < 0)
    return NULL;
  type = oriel_fs_probe_fd (fd, 0, 0, NULL);
  close (fd);
  return type;
}
