/* The host's CPU and memory counters, as virsh nodecpustats and
 * nodememstats show them, and its SMBIOS (virsh sysinfo). */
#pragma once

#include <glib.h>

typedef struct {
  const char *field;    /* libvirt's names: "kernel", "user", "total", ... */
  guint64 value;        /* CPU: nanoseconds; memory: KiB */
} HostStat;

#define HOST_STATS_MAX 4

/* cpu -1: all CPUs.  Fills stats, returns how many, or -1 with error set
 * (no such CPU). */
int host_cpu_stats (int cpu, HostStat stats[HOST_STATS_MAX], GError **error);
/* cell -1: the whole host; otherwise that NUMA node. */
int host_memory_stats (int cell, HostStat stats[HOST_STATS_MAX], GError **error);
/* <sysinfo type='smbios'> from the firmware's DMI data. */
char *host_sysinfo_xml (void);
