/* Sampling math for the CPU and memory graphs. */
#include "vm-stats.h"

#include <string.h>

void
oriel_stats_ring_init (OrielStatsRing *ring)
{
  memset (ring, 0, sizeof *ring);
}

void
oriel_stats_ring_push (OrielStatsRing *ring, double value)
{
  ring->values[ring->head] = value;
  ring->head = (ring->head + 1) % ORIEL_STATS_RING_SIZE;
  if (ring->len < ORIEL_STATS_RING_SIZE)
    ring->len++;
}

guint
oriel_stats_ring_len (const OrielStatsRing *ring)
{
  return ring->len;
}

double
oriel_stats_ring_get (const OrielStatsRing *ring, guint i)
{
  guint oldest;

  g_return_val_if_fail (i < ring->len, 0.0);
  oldest = (ring->head + ORIEL_STATS_RING_SIZE - ring->len) % ORIEL_STATS_RING_SIZE;
  return ring->values[(oldest + i) % ORIEL_STATS_RING_SIZE];
}

double
oriel_stats_ring_latest (const OrielStatsRing *ring)
{
  if (ring->len == 0)
    return 0.0;
  return oriel_stats_ring_get (ring, ring->len - 1);
}

double
oriel_stats_cpu_percent (const OrielStatsSample *prev,
                         const OrielStatsSample *cur)
{
  double wall_ns, used_ns, pct;

  if (!prev->valid || !cur->valid || cur->vcpus == 0)
    return -1.0;
  if (cur->wall_us <= prev->wall_us || cur->cpu_time_ns < prev->cpu_time_ns)
    return -1.0;

  wall_ns = (double) (cur->wall_us - prev->wall_us) * 1000.0;
  used_ns = (double) (cur->cpu_time_ns - prev->cpu_time_ns);
  pct = 100.0 * used_ns / (wall_ns * cur->vcpus);
  return CLAMP (pct, 0.0, 100.0);
}

double
oriel_stats_mem_percent (const OrielStatsSample *cur)
{
  double pct;

  if (!cur->valid || cur->max_mem_kib == 0)
    return 0.0;
  pct = 100.0 * (double) cur->mem_kib / (double) cur->max_mem_kib;
  return CLAMP (pct, 0.0, 100.0);
}

void
oriel_domain_stats_init (OrielDomainStats *stats)
{
  memset (&stats->last, 0, sizeof stats->last);
  oriel_stats_ring_init (&stats->cpu);
  oriel_stats_ring_init (&stats->mem);
}

void
oriel_domain_stats_add_sample (OrielDomainStats *stats,
                               const OrielStatsSample *sample)
{
  double cpu = oriel_stats_cpu_percent (&stats->last, sample);

  /* The first sample only sets the baseline for the CPU rate. */
  if (cpu >= 0.0)
    oriel_stats_ring_push (&stats->cpu, cpu);
  oriel_stats_ring_push (&stats->mem, oriel_stats_mem_percent (sample));
  stats->last = *sample;
}

void
oriel_domain_stats_add_idle (OrielDomainStats *stats)
{
  oriel_stats_ring_push (&stats->cpu, 0.0);
  oriel_stats_ring_push (&stats->mem, 0.0);
  stats->last.valid = FALSE;
}
