/* libFuzzer target: bytes a real-mode guest can write reach the host's
 * parsers at the next start.  The first byte picks the reader: the SYSTEM
 * or SOFTWARE hive walk (hivex plus our value checks), or the GPT header
 * and entries behind the partition table fingerprint. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "partition-fingerprint.h"
#include "windows-install.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  int fd;
  char path[64];

  if (size < 1)
    return 0;
  fd = memfd_create ("fuzz-hive", MFD_CLOEXEC);
  if (fd < 0 || write (fd, data + 1, size - 1) != (ssize_t) (size - 1))
    abort ();
  g_snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
  switch (data[0] % 3)
    {
    case 0:
      {
        g_autoptr (OrielWindowsInstall) win = oriel_windows_install_new (1);
        g_autoptr (GError) error = NULL;
        oriel_windows_read_system_hive (path, win, &error);
        break;
      }
    case 1:
      {
        g_autoptr (OrielWindowsInstall) win = oriel_windows_install_new (1);
        g_autoptr (GError) error = NULL;
        oriel_windows_read_software_hive (path, win, &error);
        break;
      }
    default:
      {
        g_autoptr (GError) error = NULL;
        g_free (oriel_partition_table_sha256 (fd, 512, TRUE, &error));
        break;
      }
    }
  close (fd);
  return 0;
}
