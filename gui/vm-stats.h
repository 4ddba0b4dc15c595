/* Sampling math for the CPU and memory graphs. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ORIEL_STATS_RING_SIZE 40

/* Fixed-size history of percentages (0..100), oldest first when read. */
typedef struct {
  double values[ORIEL_STATS_RING_SIZE];
  guint len;
  guint head; /* index of the next write */
} OrielStatsRing;

void   oriel_stats_ring_init (OrielStatsRing *ring);
void   oriel_stats_ring_push (OrielStatsRing *ring, double value);
guint  oriel_stats_ring_len (const OrielStatsRing *ring);
/* i = 0 is the oldest value still held. */
double oriel_stats_ring_get (const OrielStatsRing *ring, guint i);
double oriel_stats_ring_latest (const OrielStatsRing *ring);

/* One raw observation of a domain. */
typedef struct {
  gint64 wall_us;      /* monotonic time of the sample */
  guint64 cpu_time_ns; /* cumulative guest CPU time */
  guint64 mem_kib;     /* memory in use */
  guint64 max_mem_kib; /* memory the guest may use */
  guint vcpus;
  gboolean valid;
} OrielStatsSample;

/* CPU use between two samples as a share of all vCPUs, clamped to 0..100.
 * Returns a negative value when the pair cannot give a rate (first sample,
 * clock not advancing, or the counter going backwards after a restart). */
double oriel_stats_cpu_percent (const OrielStatsSample *prev,
                                const OrielStatsSample *cur);

double oriel_stats_mem_percent (const OrielStatsSample *cur);

/* Per-domain history fed with successive samples. */
typedef struct {
  OrielStatsSample last;
  OrielStatsRing cpu;
  OrielStatsRing mem;
} OrielDomainStats;

void oriel_domain_stats_init (OrielDomainStats *stats);
void oriel_domain_stats_add_sample (OrielDomainStats *stats,
                                    const OrielStatsSample *sample);
/* Called when a domain stops: the graphs fall to zero rather than freeze. */
void oriel_domain_stats_add_idle (OrielDomainStats *stats);

G_END_DECLS
