/* Everyday per-domain queries and controls that virsh and virt-manager
 * call: block info (domblkinfo), disk errors (domblkerror), jobs
 * (domjobinfo), title and description (desc), vCPUs and their pinning
 * (vcpuinfo, vcpupin, emulatorpin), memory statistics and size
 * (dommemstat, setmem) and CD-ROM media (change-media). */
#include "procedures.h"
#include "domain-devices.h"
#include "domain-live.h"
#include "host-info.h"
#include "vmm-process.h"

#include <glib/gi18n.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#define W PROC_FLAG_WRITE

/* virDomainJobType: NONE */
#define JOB_NONE 0
/* virDomainGetJobStatsFlags */
#define JOB_STATS_COMPLETED      1u
#define JOB_STATS_KEEP_COMPLETED 2u
/* virDomainMemoryFlags: MEM_MAXIMUM */
#define MEM_MAXIMUM 4u
/* virDomainDeviceModifyFlags: FORCE */
#define DEVICE_MODIFY_FORCE 4u
/* virDomainMemoryStatTags */
enum { MEMSTAT_RSS = 7 };
/* virVcpuState */
enum { VCPU_RUNNING = 1 };

#define ARG_DOM(call, argp) proc_domain ((call), (const remote_nonnull_domain *) (argp), error)

static gboolean
check_flags (guint32 flags, guint32 known, const char *func, GError **error)
{
  if (flags & ~known)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("unsupported flags (0x%x) in function %s"),
                   flags & ~known, func);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_running (DomainObj *dom, GError **error)
{
  if (!domain_is_active (dom) || !dom->live)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                   _("Requested operation is not valid: domain is not running"));
      return FALSE;
    }
  return TRUE;
}

static DomainDef *
current_def (DomainObj *dom)
{
  return domain_is_active (dom) && dom->live ? dom->live : dom->def;
}

/* ---- block devices ---- */

static gboolean
p_get_block_info (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_get_block_info_args *args = argp;
  remote_domain_get_block_info_ret *ret = retp;
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom || !check_flags (args->flags, 0, "virDomainGetBlockInfo", error))
    return FALSE;
  DomainDisk *disk = domain_find_disk (current_def (dom), args->path);
  if (!disk)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG,
                   _("invalid argument: invalid path %s not assigned to domain"), args->path);
      return FALSE;
    }
  if (!disk->source && !disk->source_volume)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG,
                   _("invalid argument: disk '%s' does not currently have a source assigned"), disk->target_dev);
      return FALSE;
    }
  g_autofree char *path = domain_disk_path (DAEMON (call), disk, error);
  if (!path)
    return FALSE;
  g_autoptr (StorageVol) info = storage_file_stat (path);
  if (!info)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot read the size of '%s' of disk '%s'"),
                   path, disk->target_dev);
      return FALSE;
    }
  ret->capacity = info->capacity;
  ret->allocation = info->allocation;
  ret->physical = info->physical;
  return TRUE;
}

static gboolean
p_get_disk_errors (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_get_disk_errors_args *args = argp;
  remote_domain_get_disk_errors_ret *ret = retp;
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom || !check_flags (args->flags, 0, "virDomainGetDiskErrors", error))
    return FALSE;
  if (args->maxerrors > REMOTE_DOMAIN_DISK_ERRORS_MAX)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_RPC, _("maxerrors too large"));
      return FALSE;
    }
  if (!check_running (dom, error))
    return FALSE;
  /* The VMM reports I/O errors to the guest, never by pausing: no disk
   * ever stands in an error state here. */
  ret->nerrors = 0;
  return TRUE;
}

/* ---- jobs: Oriel runs none that a client could watch ---- */

static gboolean
p_get_job_info (RpcCall *call, void *argp, void *retp, GError **error)
{
  remote_domain_get_job_info_ret *ret = retp;
  if (!ARG_DOM (call, argp))
    return FALSE;
  ret->type = JOB_NONE;
  return TRUE;
}

static gboolean
p_get_job_stats (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_flags_args *args = argp;
  remote_domain_get_job_stats_ret *ret = retp;
  if (!ARG_DOM (call, argp)
      || !check_flags (args->flags, JOB_STATS_COMPLETED | JOB_STATS_KEEP_COMPLETED, "virDomainGetJobStats", error))
    return FALSE;
  ret->type = JOB_NONE;
  return TRUE;
}

/* ---- title and description ---- */

static gboolean
p_set_metadata (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_set_metadata_args *args = argp;
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom || !check_flags (args->flags, DOMAIN_AFFECT_LIVE | DOMAIN_AFFECT_CONFIG, "virDomainSetMetadata", error))
    return FALSE;
  if (args->type != DOMAIN_METADATA_ELEMENT && (args->key || args->uri))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG,
                   _("invalid argument: a title or description takes no key or namespace URI"));
      return FALSE;
    }
  return domain_set_metadata (dom, args->type, args->metadata ? *args->metadata : NULL, args->flags, error);
}

static gboolean
p_get_metadata (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_get_metadata_args *args = argp;
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom || !check_flags (args->flags, DOMAIN_AFFECT_LIVE | DOMAIN_AFFECT_CONFIG, "virDomainGetMetadata", error))
    return FALSE;
  char *v = domain_get_metadata (dom, args->type, args->flags, error);
  if (!v)
    return FALSE;
  ((remote_domain_get_metadata_ret *) retp)->metadata = v;
  return TRUE;
}

/* ---- vCPUs ---- */

static int
host_cpus (void)
{
  HostNodeInfo info;
  host_node_info (&info);
  return info.cpus > 0 ? info.cpus : 1;
}

/* A map of maplen bytes with the bits of every host CPU set. */
static void
fill_all_cpus (guint8 *map, int maplen, int ncpus)
{
  for (int c = 0; c < ncpus && c < maplen * 8; c++)
    map[c / 8] |= 1u << (c % 8);
}

/* ncpumaps maps of maplen bytes: within what the reply may carry? */
static gboolean
check_maps (int ncpumaps, int maplen, GError **error)
{
  if (ncpumaps < 1 || maplen < 1)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("invalid argument: the number and length of cpu maps must be positive"));
      return FALSE;
    }
  if (ncpumaps > REMOTE_VCPUINFO_MAX || (gint64) ncpumaps * maplen > REMOTE_CPUMAPS_MAX)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_RPC, _("the cpu maps asked for are too large"));
      return FALSE;
    }
  return TRUE;
}

static gboolean
p_get_vcpu_pin_info (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_get_vcpu_pin_info_args *args = argp;
  remote_domain_get_vcpu_pin_info_ret *ret = retp;
  DomainObj *dom = ARG_DOM (call, argp);
  guint flags = args->flags;
  if (!dom || !check_flags (flags, DOMAIN_AFFECT_LIVE | DOMAIN_AFFECT_CONFIG, "virDomainGetVcpuPinInfo", error)
      || !check_maps (args->ncpumaps, args->maplen, error))
    return FALSE;
  if ((flags & DOMAIN_AFFECT_LIVE) && (flags & DOMAIN_AFFECT_CONFIG))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG,
                   _("invalid argument: Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive"));
      return FALSE;
    }
  if (!(flags & DOMAIN_AFFECT_CONFIG) && !domain_modification_impact (dom, &flags, error))
    return FALSE;
  DomainDef *def = (flags & DOMAIN_AFFECT_LIVE) ? dom->live : dom->def;
  /* Oriel pins nothing: every vCPU may run on every host CPU. */
  int n = MIN ((int) def->vcpus, args->ncpumaps), ncpus = host_cpus ();
  ret->cpumaps.cpumaps_len = (u_int) (args->ncpumaps * args->maplen);
  ret->cpumaps.cpumaps_val = g_malloc0 (ret->cpumaps.cpumaps_len);
  for (int v = 0; v < n; v++)
    fill_all_cpus ((guint8 *) ret->cpumaps.cpumaps_val + v * args->maplen, args->maplen, ncpus);
  ret->num = n;
  return TRUE;
}

static gboolean
p_get_emulator_pin_info (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_get_emulator_pin_info_args *args = argp;
  remote_domain_get_emulator_pin_info_ret *ret = retp;
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom || !check_flags (args->flags, DOMAIN_AFFECT_LIVE | DOMAIN_AFFECT_CONFIG, "virDomainGetEmulatorPinInfo", error)
      || !check_maps (1, args->maplen, error))
    return FALSE;
  ret->cpumaps.cpumaps_len = (u_int) args->maplen;
  ret->cpumaps.cpumaps_val = g_malloc0 (args->maplen);
  fill_all_cpus ((guint8 *) ret->cpumaps.cpumaps_val, args->maplen, host_cpus ());
  ret->ret = 1;
  return TRUE;
}

typedef struct {
  RpcCall *call;
  int maxinfo;
  int maplen;
} VcpusJob;

/* One vCPU thread's CPU time and current host CPU from
 * /proc/PID/task/TID/stat (fields 14 + 15, 39).  Its state is "running",
 * as libvirt's QEMU driver says of every online vCPU: a halted vCPU's
 * thread sleeps, which is no state of the vCPU. */
static void
thread_info (pid_t pid, pid_t tid, remote_vcpu_info *info)
{
  info->state = VCPU_RUNNING;
  info->cpu = -1;
  g_autofree char *path = g_strdup_printf ("/proc/%d/task/%d/stat", (int) pid, (int) tid);
  g_autofree char *stat = NULL;
  if (tid <= 0 || !g_file_get_contents (path, &stat, NULL, NULL))
    return;
  const char *p = strrchr (stat, ')');
  if (!p || !p[1])
    return;
  g_auto (GStrv) f = g_strsplit (p + 2, " ", 0);
  if (g_strv_length (f) < 37)
    return;
  guint64 ticks = g_ascii_strtoull (f[11], NULL, 10) + g_ascii_strtoull (f[12], NULL, 10);
  info->cpu_time = ticks * (1000000000ull / sysconf (_SC_CLK_TCK));
  info->cpu = (int) g_ascii_strtoll (f[36], NULL, 10);
}

static void
vcpus_done (DomainObj *dom, GArray *tids, const GError *error, gpointer data)
{
  VcpusJob *job = data;
  remote_domain_get_vcpus_ret ret = { 0 };
  if (!error && dom && dom->vmm)
    {
      pid_t pid = vmm_process_pid (dom->vmm);
      int n = MIN ((int) tids->len, job->maxinfo);
      ret.info.info_len = n;
      ret.info.info_val = n ? g_new0 (remote_vcpu_info, n) : NULL;
      for (int v = 0; v < n; v++)
        {
          ret.info.info_val[v].number = v;
          thread_info (pid, g_array_index (tids, pid_t, v), &ret.info.info_val[v]);
        }
      if (job->maplen > 0)
        {
          ret.cpumaps.cpumaps_len = (u_int) (job->maxinfo * job->maplen);
          ret.cpumaps.cpumaps_val = g_malloc0 (ret.cpumaps.cpumaps_len);
          for (int v = 0; v < n; v++)
            {
              guint8 *map = (guint8 *) ret.cpumaps.cpumaps_val + v * job->maplen;
              cpu_set_t set;
              pid_t tid = g_array_index (tids, pid_t, v);
              if (tid > 0 && sched_getaffinity (tid, sizeof set, &set) == 0)
                {
                  for (int c = 0; c < job->maplen * 8 && c < CPU_SETSIZE; c++)
                    if (CPU_ISSET (c, &set))
                      map[c / 8] |= 1u << (c % 8);
                }
              else
                fill_all_cpus (map, job->maplen, host_cpus ());
            }
        }
      rpc_call_complete (job->call, &ret, NULL);
    }
  else if (error)
    rpc_call_complete (job->call, NULL, error);
  else
    {
      g_autoptr (GError) e = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                                          _("Requested operation is not valid: domain is not running"));
      rpc_call_complete (job->call, NULL, e);
    }
  rpc_marshal_free ((xdrproc_t) xdr_remote_domain_get_vcpus_ret, &ret);
  rpc_call_unref (job->call);
  g_free (job);
}

static gboolean
p_get_vcpus (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_get_vcpus_args *args = argp;
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom)
    return FALSE;
  if (args->maxinfo < 1 || args->maplen < 0 || args->maxinfo > REMOTE_VCPUINFO_MAX
      || (gint64) args->maxinfo * args->maplen > REMOTE_CPUMAPS_MAX)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG,
                   _("invalid argument: maxinfo %d and maplen %d are out of range"), args->maxinfo, args->maplen);
      return FALSE;
    }
  if (!domain_is_active (dom) || !dom->vmm)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                   _("Requested operation is not valid: cannot retrieve vcpu information for inactive domain"));
      return FALSE;
    }
  VcpusJob *job = g_new0 (VcpusJob, 1);
  job->call = rpc_call_defer (call);
  job->maxinfo = args->maxinfo;
  job->maplen = args->maplen;
  domain_query_vcpu_threads (dom, vcpus_done, job);
  return TRUE;
}

/* ---- memory ---- */

/* The VMM's resident set in KiB (VmRSS of /proc/PID/status), 0 if unknown. */
static guint64
vmm_rss_kib (DomainObj *dom)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int) vmm_process_pid (dom->vmm));
  g_autofree char *status = NULL;
  if (!g_file_get_contents (path, &status, NULL, NULL))
    return 0;
  const char *p = strstr (status, "\nVmRSS:");
  return p ? g_ascii_strtoull (p + 7, NULL, 10) : 0;
}

typedef struct {
  RpcCall *call;
  guint max;
} MemStatsJob;

static void
memory_stats_done (DomainObj *dom, GArray *stats, const GError *error, gpointer data)
{
  MemStatsJob *job = data;
  remote_domain_memory_stats_ret ret = { 0 };
  if (stats && dom && dom->vmm)
    {
      DomainMemoryStat rss = { MEMSTAT_RSS, vmm_rss_kib (dom) };
      g_array_append_val (stats, rss);
      guint n = MIN (job->max, stats->len);
      ret.stats.stats_len = n;
      ret.stats.stats_val = n ? g_new0 (remote_domain_memory_stat, n) : NULL;
      for (guint i = 0; i < n; i++)
        {
          ret.stats.stats_val[i].tag = g_array_index (stats, DomainMemoryStat, i).tag;
          ret.stats.stats_val[i].val = g_array_index (stats, DomainMemoryStat, i).val;
        }
    }
  rpc_call_complete (job->call, stats ? &ret : NULL, error);
  rpc_marshal_free ((xdrproc_t) xdr_remote_domain_memory_stats_ret, &ret);
  rpc_call_unref (job->call);
  g_free (job);
}

static gboolean
p_memory_stats (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_memory_stats_args *args = argp;
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom || !check_flags (args->flags, 0, "virDomainMemoryStats", error))
    return FALSE;
  if (args->maxStats > REMOTE_DOMAIN_MEMORY_STATS_MAX)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_RPC, _("maxStats too large"));
      return FALSE;
    }
  if (!check_running (dom, error) || !dom->vmm)
    return FALSE;
  MemStatsJob *job = g_new0 (MemStatsJob, 1);
  job->call = rpc_call_defer (call);
  job->max = args->maxStats;
  domain_memory_stats (dom, memory_stats_done, job);
  return TRUE;
}

typedef struct {
  RpcCall *call;
  guint64 kib;
  gboolean config;    /* the persistent definition too, once live worked */
} SetMemJob;

static void
set_memory_live_done (DomainObj *dom, const GError *error, gpointer data)
{
  SetMemJob *job = data;
  g_autoptr (GError) e = NULL;
  if (!error && job->config && dom)
    domain_set_memory (dom, job->kib, DOMAIN_AFFECT_CONFIG, FALSE, &e);
  rpc_call_complete (job->call, NULL, error ? error : e);
  rpc_call_unref (job->call);
  g_free (job);
}

/* LIVE through the balloon (asynchronous), CONFIG in the definition. */
static gboolean
set_memory (RpcCall *call, DomainObj *dom, guint64 kib, guint flags, gboolean maximum, GError **error)
{
  if (!domain_modification_impact (dom, &flags, error))
    return FALSE;
  if (!(flags & DOMAIN_AFFECT_LIVE) || maximum)
    return domain_set_memory (dom, kib, flags, maximum, error);
  SetMemJob *job = g_new0 (SetMemJob, 1);
  job->call = rpc_call_defer (call);
  job->kib = kib;
  job->config = (flags & DOMAIN_AFFECT_CONFIG) != 0;
  domain_set_memory_live (dom, kib, set_memory_live_done, job);
  return TRUE;
}

static gboolean
p_set_memory (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_set_memory_args *args = argp;
  DomainObj *dom = ARG_DOM (call, argp);
  /* As libvirt's QEMU driver: the running domain's memory. */
  return dom && set_memory (call, dom, args->memory, DOMAIN_AFFECT_LIVE, FALSE, error);
}

static gboolean
p_set_memory_flags (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_set_memory_flags_args *args = argp;
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom || !check_flags (args->flags, DOMAIN_AFFECT_LIVE | DOMAIN_AFFECT_CONFIG | MEM_MAXIMUM,
                            "virDomainSetMemoryFlags", error))
    return FALSE;
  return set_memory (call, dom, args->memory, args->flags & ~MEM_MAXIMUM, (args->flags & MEM_MAXIMUM) != 0, error);
}

static void
period_done (DomainObj *dom, const GError *error, gpointer data)
{
  RpcCall *call = data;
  rpc_call_complete (call, NULL, error);
  rpc_call_unref (call);
}

static gboolean
p_set_memory_stats_period (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_set_memory_stats_period_args *args = argp;
  DomainObj *dom = ARG_DOM (call, argp);
  guint flags = args->flags;
  if (!dom || !check_flags (flags, DOMAIN_AFFECT_LIVE | DOMAIN_AFFECT_CONFIG, "virDomainSetMemoryStatsPeriod", error)
      || !domain_modification_impact (dom, &flags, error))
    return FALSE;
  if (args->period < 0 || args->period > 86400)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG,
                   _("invalid argument: the statistics period must be 0 to 86400 seconds, not %d"), args->period);
      return FALSE;
    }
  if (flags & DOMAIN_AFFECT_CONFIG)
    {
      if (!dom->def->has_balloon || !g_str_equal (dom->def->balloon_model, "virtio"))
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                       _("Requested operation is not valid: the domain has no memory balloon"));
          return FALSE;
        }
      guint old = dom->def->balloon_period;
      dom->def->balloon_period = (guint) args->period;
      if (!domain_save_config (dom, error))
        {
          dom->def->balloon_period = old;
          return FALSE;
        }
    }
  if (flags & DOMAIN_AFFECT_LIVE)
    domain_set_memory_stats_period (dom, (guint) args->period, period_done, rpc_call_defer (call));
  return TRUE;
}

/* ---- device update: CD-ROM media ---- */

static void
update_done (DomainObj *dom, const GError *error, gpointer data)
{
  RpcCall *call = data;
  rpc_call_complete (call, NULL, error);
  rpc_call_unref (call);
}

static gboolean
p_update_device_flags (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_update_device_flags_args *args = argp;
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom || !check_flags (args->flags, DOMAIN_AFFECT_LIVE | DOMAIN_AFFECT_CONFIG | DEVICE_MODIFY_FORCE,
                            "virDomainUpdateDeviceFlags", error))
    return FALSE;
  DomainDisk *disk = domain_disk_parse (args->xml, strlen (args->xml), error);
  if (!disk)
    return FALSE;
  domain_change_media (dom, disk, args->flags & ~DEVICE_MODIFY_FORCE, (args->flags & DEVICE_MODIFY_FORCE) != 0,
                       update_done, rpc_call_defer (call));
  return TRUE;
}

const RpcProcedure procedures_devices[] = {
  PROC_ROW (DOMAIN_GET_BLOCK_INFO, 0, remote_domain_get_block_info_args, remote_domain_get_block_info_ret,
            p_get_block_info),
  PROC_ROW (DOMAIN_GET_DISK_ERRORS, 0, remote_domain_get_disk_errors_args, remote_domain_get_disk_errors_ret,
            p_get_disk_errors),
  PROC_ROW (DOMAIN_GET_JOB_INFO, 0, remote_domain_args, remote_domain_get_job_info_ret, p_get_job_info),
  PROC_ROW (DOMAIN_GET_JOB_STATS, 0, remote_domain_flags_args, remote_domain_get_job_stats_ret, p_get_job_stats),
  PROC_ROW (DOMAIN_SET_METADATA, W, remote_domain_set_metadata_args, rpc_void, p_set_metadata),
  PROC_ROW (DOMAIN_GET_METADATA, 0, remote_domain_get_metadata_args, remote_domain_get_metadata_ret,
            p_get_metadata),
  PROC_ROW (DOMAIN_GET_VCPUS, 0, remote_domain_get_vcpus_args, remote_domain_get_vcpus_ret, p_get_vcpus),
  PROC_ROW (DOMAIN_GET_VCPU_PIN_INFO, 0, remote_domain_get_vcpu_pin_info_args, remote_domain_get_vcpu_pin_info_ret,
            p_get_vcpu_pin_info),
  PROC_ROW (DOMAIN_GET_EMULATOR_PIN_INFO, 0, remote_domain_get_emulator_pin_info_args,
            remote_domain_get_emulator_pin_info_ret, p_get_emulator_pin_info),
  PROC_ROW (DOMAIN_MEMORY_STATS, 0, remote_domain_memory_stats_args, remote_domain_memory_stats_ret, p_memory_stats),
  PROC_ROW (DOMAIN_SET_MEMORY, W, remote_domain_set_memory_args, rpc_void, p_set_memory),
  PROC_ROW (DOMAIN_SET_MEMORY_FLAGS, W, remote_domain_set_memory_flags_args, rpc_void, p_set_memory_flags),
  PROC_ROW (DOMAIN_SET_MEMORY_STATS_PERIOD, W, remote_domain_set_memory_stats_period_args, rpc_void,
            p_set_memory_stats_period),
  PROC_ROW (DOMAIN_UPDATE_DEVICE_FLAGS, W, remote_domain_update_device_flags_args, rpc_void, p_update_device_flags),
};
const gsize procedures_devices_count = G_N_ELEMENTS (procedures_devices);
