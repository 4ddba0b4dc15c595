/* Sampling math behind the VM list sparklines and the details graphs. */
#include "vm-stats.h"

static void
test_ring_order_and_wrap (void)
{
  OrielStatsRing ring;

  oriel_stats_ring_init (&ring);
  g_assert_cmpuint (oriel_stats_ring_len (&ring), ==, 0);
  g_assert_cmpfloat (oriel_stats_ring_latest (&ring), ==, 0.0);
  for (int i = 0; i < ORIEL_STATS_RING_SIZE + 5; i++)
    oriel_stats_ring_push (&ring, i);
  g_assert_cmpuint (oriel_stats_ring_len (&ring), ==, ORIEL_STATS_RING_SIZE);
  /* The five oldest values were overwritten. */
  g_assert_cmpfloat (oriel_stats_ring_get (&ring, 0), ==, 5.0);
  g_assert_cmpfloat (oriel_stats_ring_get (&ring, ORIEL_STATS_RING_SIZE - 1), ==,
                     ORIEL_STATS_RING_SIZE + 4);
  g_assert_cmpfloat (oriel_stats_ring_latest (&ring), ==, ORIEL_STATS_RING_SIZE + 4);
}

static void
test_cpu_percent (void)
{
  OrielStatsSample a = { .wall_us = 1000000, .cpu_time_ns = 0, .vcpus = 2, .valid = TRUE };
  OrielStatsSample b = a;

  /* One second of wall time, 1 s of CPU time over 2 vCPUs: 50 %. */
  b.wall_us = 2000000;
  b.cpu_time_ns = 1000000000ull;
  g_assert_cmpfloat_with_epsilon (oriel_stats_cpu_percent (&a, &b), 50.0, 1e-9);

  /* More CPU time than possible (clock skew) is clamped. */
  b.cpu_time_ns = 5000000000ull;
  g_assert_cmpfloat (oriel_stats_cpu_percent (&a, &b), ==, 100.0);

  /* Counter reset after a restart: no rate. */
  a.cpu_time_ns = 9000000000ull;
  g_assert_cmpfloat (oriel_stats_cpu_percent (&a, &b), <, 0.0);

  /* Same timestamp: no rate. */
  a.cpu_time_ns = 0;
  b.wall_us = a.wall_us;
  g_assert_cmpfloat (oriel_stats_cpu_percent (&a, &b), <, 0.0);

  /* First sample (previous invalid): no rate. */
  a.valid = FALSE;
  b.wall_us = 3000000;
  g_assert_cmpfloat (oriel_stats_cpu_percent (&a, &b), <, 0.0);
}

static void
test_mem_percent (void)
{
  OrielStatsSample s = { .mem_kib = 512 * 1024, .max_mem_kib = 2048 * 1024, .valid = TRUE };

  g_assert_cmpfloat_with_epsilon (oriel_stats_mem_percent (&s), 25.0, 1e-9);
  s.max_mem_kib = 0;
  g_assert_cmpfloat (oriel_stats_mem_percent (&s), ==, 0.0);
  s.max_mem_kib = 100;
  s.mem_kib = 200;
  g_assert_cmpfloat (oriel_stats_mem_percent (&s), ==, 100.0);
}

static void
test_domain_history (void)
{
  OrielDomainStats stats;
  OrielStatsSample s = { .wall_us = 0, .cpu_time_ns = 0, .mem_kib = 1024, .max_mem_kib = 4096,
                         .vcpus = 1, .valid = TRUE };

  oriel_domain_stats_init (&stats);
  oriel_domain_stats_add_sample (&stats, &s);
  /* The first sample gives memory but only a CPU baseline. */
  g_assert_cmpuint (oriel_stats_ring_len (&stats.cpu), ==, 0);
  g_assert_cmpuint (oriel_stats_ring_len (&stats.mem), ==, 1);
  g_assert_cmpfloat_with_epsilon (oriel_stats_ring_latest (&stats.mem), 25.0, 1e-9);

  s.wall_us = 1000000;
  s.cpu_time_ns = 250000000ull;
  oriel_domain_stats_add_sample (&stats, &s);
  g_assert_cmpuint (oriel_stats_ring_len (&stats.cpu), ==, 1);
  g_assert_cmpfloat_with_epsilon (oriel_stats_ring_latest (&stats.cpu), 25.0, 1e-9);

  /* Stopping drops both graphs to zero and resets the CPU baseline. */
  oriel_domain_stats_add_idle (&stats);
  g_assert_cmpfloat (oriel_stats_ring_latest (&stats.cpu), ==, 0.0);
  g_assert_cmpfloat (oriel_stats_ring_latest (&stats.mem), ==, 0.0);
  s.wall_us = 2000000;
  s.cpu_time_ns = 10;  /* restarted guest: counter small again */
  oriel_domain_stats_add_sample (&stats, &s);
  g_assert_cmpuint (oriel_stats_ring_len (&stats.cpu), ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vm-stats/ring", test_ring_order_and_wrap);
  g_test_add_func ("/vm-stats/cpu-percent", test_cpu_percent);
  g_test_add_func ("/vm-stats/mem-percent", test_mem_percent);
  g_test_add_func ("/vm-stats/domain-history", test_domain_history);
  return g_test_run ();
}
