/* Host use of block devices (see host-use.h). */
#include "host-use.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

/* mountinfo and /proc/swaps escape space, tab, newline and backslash as
 * three octal digits. */
static char *
unescape_octal (const char *s)
{
  GString *out = g_string_new (NULL);

  for (; *s != '\0'; s++)
    {
      if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7')
        {
          g_string_append_c (out, (char) (((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0')));
          s += 3;
        }
      else
        g_string_append_c (out, *s);
    }
  return g_string_free (out, FALSE);
}

/* The mount source: the field after the fstype that follows " - ". */
static char *
mount_source (const char *line)
{
  const char *sep = strstr (line, " - ");
  g_auto (GStrv) f = NULL;

  if (sep == NULL)
    return NULL;
  f = g_strsplit (sep + 3, " ", 3);
  return g_strv_length (f) >= 2 ? unescape_octal (f[1]) : NULL;
}

GPtrArray *
oriel_mountinfo_mount_points (const char *mountinfo, dev_t devnum, const char *device)
{
  GPtrArray *points = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) lines = g_strsplit (mountinfo, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      /* id parent major:minor root mount-point ... */
      g_auto (GStrv) f = g_strsplit (lines[i], " ", 6);
      guint maj, min;
      char tail;

      if (g_strv_length (f) < 5 || sscanf (f[2], "%u:%u%c", &maj, &min, &tail) != 2)
        continue;
      if (makedev (maj, min) == devnum)
        g_ptr_array_add (points, unescape_octal (f[4]));
      else if (device != NULL)
        {
          g_autofree char *source = mount_source (lines[i]);
          if (g_strcmp0 (source, device) == 0)
            g_ptr_array_add (points, unescape_octal (f[4]));
        }
    }
  return points;
}

GPtrArray *
oriel_swaps_devices (const char *swaps)
{
  GPtrArray *devices = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) lines = g_strsplit (swaps, "\n", -1);

  /* The first line is the column header. */
  for (guint i = 1; lines[0] != NULL && lines[i] != NULL; i++)
    {
      const char *end = lines[i];

      while (*end != '\0' && *end != ' ' && *end != '\t')
        end++;
      if (end != lines[i])
        {
          g_autofree char *raw = g_strndup (lines[i], (gsize) (end - lines[i]));
          g_ptr_array_add (devices, unescape_octal (raw));
        }
    }
  return devices;
}

GPtrArray *
oriel_block_holders (const char *sysfs_root, const char *name)
{
  g_autofree char *dir_path = g_build_filename (sysfs_root, "class", "block", name, "holders", NULL);
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  GPtrArray *holders = g_ptr_array_new_with_free_func (g_free);
  const char *entry;

  while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (holders, g_strdup (entry));
  return holders;
}

OrielHostUse *
oriel_host_use_query (dev_t devnum, const char *name, const char *device, const char *sysfs_root)
{
  OrielHostUse *use = g_new0 (OrielHostUse, 1);
  g_autofree char *mountinfo = NULL, *swaps = NULL;

  if (g_file_get_contents ("/proc/self/mountinfo", &mountinfo, NULL, NULL))
    use->mount_points = oriel_mountinfo_mount_points (mountinfo, devnum, device);
  else
    use->mount_points = g_ptr_array_new_with_free_func (g_free);
  if (g_file_get_contents ("/proc/swaps", &swaps, NULL, NULL))
    {
      g_autoptr (GPtrArray) devices = oriel_swaps_devices (swaps);
      struct stat st;

      for (guint i = 0; i < devices->len; i++)
        if (stat (devices->pdata[i], &st) == 0 && S_ISBLK (st.st_mode) && st.st_rdev == devnum)
          use->swap = TRUE;
    }
  use->holders = name != NULL ? oriel_block_holders (sysfs_root, name)
                              : g_ptr_array_new_with_free_func (g_free);
  return use;
}

gboolean
oriel_host_use_is_busy (const OrielHostUse *use)
{
  return use->mount_points->len > 0 || use->swap || use->holders->len > 0;
}

void
oriel_host_use_free (OrielHostUse *use)
{
  if (use == NULL)
    return;
  g_ptr_array_unref (use->mount_points);
  g_ptr_array_unref (use->holders);
  g_free (use);
}
