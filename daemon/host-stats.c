#include "host-stats.h"
#include "virt-error.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gi18n.h>

/* /proc/stat: "cpuN user nice system idle iowait irq softirq ..." in clock
 * ticks.  libvirt reports user+nice, system+irq+softirq, idle and iowait. */
int
host_cpu_stats (int cpu, HostStat stats[HOST_STATS_MAX], GError **error)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents ("/proc/stat", &text, NULL, NULL))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot read %s"), "/proc/stat");
      return -1;
    }
  g_autofree char *want = cpu < 0 ? g_strdup ("cpu ") : g_strdup_printf ("cpu%d ", cpu);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  long hz = sysconf (_SC_CLK_TCK);
  guint64 ns_per_tick = hz > 0 ? 1000000000ull / (guint64) hz : 10000000ull;
  for (char **l = lines; *l; l++)
    {
      if (!g_str_has_prefix (*l, want))
        continue;
      guint64 v[7] = { 0 };
      if (sscanf (*l + strlen (want), "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                  " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
                  &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]) < 4)
        break;
      stats[0] = (HostStat){ "kernel", (v[2] + v[5] + v[6]) * ns_per_tick };
      stats[1] = (HostStat){ "user", (v[0] + v[1]) * ns_per_tick };
      stats[2] = (HostStat){ "idle", v[3] * ns_per_tick };
      stats[3] = (HostStat){ "iowait", v[4] * ns_per_tick };
      return 4;
    }
  g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("Invalid cpuNum %d: no such CPU"), cpu);
  return -1;
}

static gboolean
meminfo_value (const char *text, const char *key, guint64 *kib)
{
  const char *p = strstr (text, key);
  if (!p)
    return FALSE;
  p += strlen (key);
  return sscanf (p, " %" G_GUINT64_FORMAT, kib) == 1;
}

int
host_memory_stats (int cell, HostStat stats[HOST_STATS_MAX], GError **error)
{
  g_autofree char *path = cell < 0 ? g_strdup ("/proc/meminfo")
                                   : g_strdup_printf ("/sys/devices/system/node/node%d/meminfo", cell);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("Invalid cellNum %d: no such NUMA node"),
                   cell);
      return -1;
    }
  static const char *const keys[][2] = {
    { "total", "MemTotal:" }, { "free", "MemFree:" }, { "buffers", "Buffers:" }, { "cached", "Cached:" },
  };
  int n = 0;
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      guint64 kib;
      if (meminfo_value (text, keys[i][1], &kib))
        stats[n++] = (HostStat){ keys[i][0], kib };
    }
  if (n == 0)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot parse %s"), path);
      return -1;
    }
  return n;
}

static void
dmi_entry (GString *s, const char *name, const char *file)
{
  g_autofree char *path = g_build_filename ("/sys/class/dmi/id", file, NULL);
  g_autofree char *v = NULL;
  if (!g_file_get_contents (path, &v, NULL, NULL))
    return;
  g_strstrip (v);
  if (!*v)
    return;
  g_autofree char *e = g_markup_escape_text (v, -1);
  g_string_append_printf (s, "    <entry name='%s'>%s</entry>\n", name, e);
}

char *
host_sysinfo_xml (void)
{
  GString *s = g_string_new ("<sysinfo type='smbios'>\n  <bios>\n");
  dmi_entry (s, "vendor", "bios_vendor");
  dmi_entry (s, "version", "bios_version");
  dmi_entry (s, "date", "bios_date");
  g_string_append (s, "  </bios>\n  <system>\n");
  dmi_entry (s, "manufacturer", "sys_vendor");
  dmi_entry (s, "product", "product_name");
  dmi_entry (s, "version", "product_version");
  dmi_entry (s, "serial", "product_serial");
  dmi_entry (s, "uuid", "product_uuid");
  dmi_entry (s, "family", "product_family");
  g_string_append (s, "  </system>\n</sysinfo>\n");
  return g_string_free (s, FALSE);
}
