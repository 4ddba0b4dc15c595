#include "host-info.h"
#include "domain-def.h"
#include "firmware.h"
#include "virt-error.h"

#include <glib/gi18n.h>

#include <string.h>
#include <unistd.h>

static char *
cpuinfo_field (const char *contents, const char *key)
{
  const char *p = contents;
  gsize klen = strlen (key);
  while (p && *p)
    {
      if (strncmp (p, key, klen) == 0 && (p[klen] == '\t' || p[klen] == ' ' || p[klen] == ':'))
        {
          const char *colon = strchr (p, ':');
          const char *nl = strchr (p, '\n');
          if (colon && (!nl || colon < nl))
            return g_strstrip (g_strndup (colon + 1, nl ? (gsize) (nl - colon - 1) : strlen (colon + 1)));
        }
      p = strchr (p, '\n');
      if (p)
        p++;
    }
  return NULL;
}

void
host_node_info (HostNodeInfo *info)
{
  memset (info, 0, sizeof *info);
  g_strlcpy (info->model, "x86_64", sizeof info->model);
  long pages = sysconf (_SC_PHYS_PAGES), psz = sysconf (_SC_PAGESIZE);
  info->memory_kib = (guint64) pages * psz / 1024;
  info->cpus = (int) sysconf (_SC_NPROCESSORS_ONLN);
  info->nodes = 1;
  info->sockets = 1;
  info->threads = 1;
  info->cores = info->cpus;
  g_autofree char *ci = NULL;
  if (g_file_get_contents ("/proc/cpuinfo", &ci, NULL, NULL))
    {
      g_autofree char *mhz = cpuinfo_field (ci, "cpu MHz");
      if (mhz)
        info->mhz = (int) g_ascii_strtod (mhz, NULL);
      g_autofree char *siblings = cpuinfo_field (ci, "siblings");
      g_autofree char *cores = cpuinfo_field (ci, "cpu cores");
      if (siblings && cores && atoi (cores) > 0)
        {
          info->threads = MAX (1, atoi (siblings) / atoi (cores));
          info->cores = atoi (cores);
          info->sockets = MAX (1, info->cpus / (info->cores * info->threads));
        }
    }
}

guint64
host_free_memory_bytes (void)
{
  long pages = sysconf (_SC_AVPHYS_PAGES), psz = sysconf (_SC_PAGESIZE);
  return (guint64) pages * psz;
}

char *
host_capabilities_xml (const guint8 host_uuid[16], const char *emulator)
{
  HostNodeInfo ni;
  host_node_info (&ni);
  char uuid[37];
  domain_uuid_format (host_uuid, uuid);
  g_autofree char *ci = NULL;
  g_autofree char *vendor = NULL;
  if (g_file_get_contents ("/proc/cpuinfo", &ci, NULL, NULL))
    vendor = cpuinfo_field (ci, "vendor_id");
  const char *v = vendor && g_str_equal (vendor, "AuthenticAMD") ? "AMD" : "Intel";
  g_autofree char *esc_emu = g_markup_escape_text (emulator, -1);
  GString *cpus = g_string_new (NULL);
  for (int i = 0; i < ni.cpus; i++)
    g_string_append_printf (cpus, "            <cpu id='%d' socket_id='0' core_id='%d' siblings='%d'/>\n", i, i, i);
  char *xml = g_strdup_printf (
    "<capabilities>\n"
    "  <host>\n"
    "    <uuid>%s</uuid>\n"
    "    <cpu>\n"
    "      <arch>x86_64</arch>\n"
    "      <model>host</model>\n"
    "      <vendor>%s</vendor>\n"
    "      <topology sockets='%d' dies='1' cores='%d' threads='%d'/>\n"
    "    </cpu>\n"
    "    <power_management/>\n"
    "    <iommu support='no'/>\n"
    "    <migration_features/>\n"
    "    <topology>\n"
    "      <cells num='1'>\n"
    "        <cell id='0'>\n"
    "          <memory unit='KiB'>%" G_GUINT64_FORMAT "</memory>\n"
    "          <cpus num='%d'>\n%s"
    "          </cpus>\n"
    "        </cell>\n"
    "      </cells>\n"
    "    </topology>\n"
    "    <secmodel>\n"
    "      <model>none</model>\n"
    "      <doi>0</doi>\n"
    "    </secmodel>\n"
    "  </host>\n"
    "  <guest>\n"
    "    <os_type>hvm</os_type>\n"
    "    <arch name='x86_64'>\n"
    "      <wordsize>64</wordsize>\n"
    "      <emulator>%s</emulator>\n"
    "      <machine maxCpus='64'>pc-i440fx-oriel</machine>\n"
    "      <machine canonical='pc-i440fx-oriel' maxCpus='64'>pc</machine>\n"
    "      <machine maxCpus='64'>pc-q35-oriel</machine>\n"
    "      <machine canonical='pc-q35-oriel' maxCpus='64'>q35</machine>\n"
    "      <domain type='kvm'/>\n"
    "    </arch>\n"
    "    <features>\n"
    "      <acpi default='on' toggle='yes'/>\n"
    "      <apic default='on' toggle='no'/>\n"
    "    </features>\n"
    "  </guest>\n"
    "</capabilities>\n",
    uuid, v, ni.sockets, ni.cores, ni.threads, ni.memory_kib, ni.cpus, cpus->str, esc_emu);
  g_string_free (cpus, TRUE);
  return xml;
}

/* The <os> part: UEFI from the descriptors that fit the machine. */
static void
format_os_caps (GString *s, const char *machine, const char *const *firmware_dirs)
{
  g_autoptr (GPtrArray) fws = firmware_descriptors_load (firmware_dirs);
  g_autoptr (GPtrArray) codes = g_ptr_array_new ();
  gboolean secure = FALSE, plain = FALSE;
  for (guint i = 0; i < fws->len; i++)
    {
      FirmwareDescriptor *fw = fws->pdata[i];
      if (!firmware_descriptor_supports_machine (fw, machine))
        continue;
      gboolean seen = FALSE;
      for (guint j = 0; j < codes->len; j++)
        seen |= g_str_equal (codes->pdata[j], fw->code);
      if (!seen)
        g_ptr_array_add (codes, fw->code);
      if (fw->requires_smm)   /* <loader secure='yes'>: flash writes only from SMM */
        secure = TRUE;
      else
        plain = TRUE;
    }
  g_string_append (s, "  <os supported='yes'>\n");
  if (codes->len)
    g_string_append (s, "    <enum name='firmware'>\n      <value>efi</value>\n    </enum>\n");
  else
    g_string_append (s, "    <enum name='firmware'/>\n");
  g_string_append (s, "    <loader supported='yes'>\n");
  for (guint j = 0; j < codes->len; j++)
    {
      g_autofree char *e = g_markup_escape_text (codes->pdata[j], -1);
      g_string_append_printf (s, "      <value>%s</value>\n", e);
    }
  g_string_append (s, "      <enum name='type'>\n        <value>rom</value>\n");
  if (codes->len)
    g_string_append (s, "        <value>pflash</value>\n");
  g_string_append (s, "      </enum>\n      <enum name='readonly'>\n        <value>yes</value>\n"
                      "      </enum>\n      <enum name='secure'>\n");
  if (secure)
    g_string_append (s, "        <value>yes</value>\n");
  if (plain || !codes->len)
    g_string_append (s, "        <value>no</value>\n");
  g_string_append (s, "      </enum>\n    </loader>\n  </os>\n");
}

char *
host_domain_capabilities_xml (const char *emulator, const char *machine,
                              const char *const *firmware_dirs, GError **error)
{
  if (machine && !g_str_equal (machine, "pc") && !g_str_equal (machine, "q35")
      && !g_str_has_prefix (machine, "pc-i440fx-") && !g_str_has_prefix (machine, "pc-q35-"))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG,
                   _("invalid argument: the machine '%s' is not supported by emulator '%s'"),
                   machine, emulator);
      return NULL;
    }
  g_autofree char *esc_emu = g_markup_escape_text (emulator, -1);
  const char *canonical = firmware_canonical_machine (machine);
  gboolean q35 = g_str_has_prefix (canonical, "pc-q35-");
  GString *s = g_string_new (NULL);
  g_string_append_printf (s,
    "<domainCapabilities>\n"
    "  <path>%s</path>\n"
    "  <domain>kvm</domain>\n"
    "  <machine>%s</machine>\n"
    "  <arch>x86_64</arch>\n"
    "  <vcpu max='64'/>\n"
    "  <iothreads supported='no'/>\n",
    esc_emu, canonical);
  format_os_caps (s, machine, firmware_dirs);
  g_string_append (s,
    "  <cpu>\n"
    "    <mode name='host-passthrough' supported='yes'/>\n"
    "    <mode name='maximum' supported='no'/>\n"
    "    <mode name='host-model' supported='no'/>\n"
    "    <mode name='custom' supported='no'/>\n"
    "  </cpu>\n"
    "  <devices>\n"
    "    <disk supported='yes'>\n"
    "      <enum name='diskDevice'>\n"
    "        <value>disk</value>\n"
    "        <value>cdrom</value>\n"
    "      </enum>\n"
    "      <enum name='bus'>\n");
  if (!q35)
    g_string_append (s, "        <value>ide</value>\n");
  g_string_append (s,
    "        <value>sata</value>\n"
    "        <value>virtio</value>\n"
    "        <value>nvme</value>\n"
    "      </enum>\n"
    "    </disk>\n"
    "    <graphics supported='yes'>\n"
    "      <enum name='type'>\n"
    "        <value>vnc</value>\n"
    "      </enum>\n"
    "    </graphics>\n"
    "    <video supported='yes'>\n"
    "      <enum name='modelType'>\n"
    "        <value>vga</value>\n"
    "        <value>none</value>\n"
    "      </enum>\n"
    "    </video>\n"
    "    <hostdev supported='no'/>\n"
    "    <rng supported='yes'>\n"
    "      <enum name='model'>\n"
    "        <value>virtio</value>\n"
    "      </enum>\n"
    "      <enum name='backendModel'>\n"
    "        <value>random</value>\n"
    "      </enum>\n"
    "    </rng>\n"
    "    <filesystem supported='no'/>\n"
    "    <tpm supported='yes'>\n"
    "      <enum name='model'>\n"
    "        <value>tpm-crb</value>\n"
    "      </enum>\n"
    "      <enum name='backendModel'>\n"
    "        <value>emulator</value>\n"
    "      </enum>\n"
    "      <enum name='backendVersion'>\n"
    "        <value>2.0</value>\n"
    "      </enum>\n"
    "    </tpm>\n"
    "    <redirdev supported='no'/>\n"
    "  </devices>\n"
    "  <features>\n"
    "    <gic supported='no'/>\n"
    "    <vmcoreinfo supported='no'/>\n"
    "    <genid supported='no'/>\n"
    "    <sev supported='no'/>\n"
    "    <hyperv supported='yes'>\n"
    "      <enum name='features'>\n");
  for (int f = 0; f < HV_COUNT; f++)
    if (f != HV_EVMCS)   /* refused at start: an Intel-only interface */
      g_string_append_printf (s, "        <value>%s</value>\n", domain_hyperv_names[f]);
  g_string_append (s,
    "      </enum>\n"
    "    </hyperv>\n"
    "  </features>\n"
    "</domainCapabilities>\n");
  return g_string_free (s, FALSE);
}
