/* What a running domain's VMM does on request: per-disk I/O statistics,
 * growing a disk, typing keys, taking a screenshot.  Each asks the VMM
 * over its control socket and reports through a callback (also for errors
 * found before asking). */
#pragma once

#include "domain-driver.h"

/* The name the VMM gives disk of def in query-block ("vda", "hdc" is
 * "cdrom", ...), from its bus and position as vmm-config.c passes them. */
char *domain_disk_vmm_name (DomainDef *def, const DomainDisk *disk);

typedef struct {
  guint64 rd_req, rd_bytes, rd_ns;
  guint64 wr_req, wr_bytes, wr_ns;
  guint64 flush_req, flush_ns;
  guint64 errs;   /* failed reads, writes and flushes */
} DomainBlockStats;

/* The counters of the disk whose target or source is path, or, for an
 * empty path, of all disks together. */
typedef void (*DomainBlockStatsFn) (DomainObj *dom, const DomainBlockStats *stats, const GError *error,
                                    gpointer data);
void domain_block_stats (DomainObj *dom, const char *path, DomainBlockStatsFn done, gpointer data);

/* The frames of the NIC whose tap device or MAC address is path, as the
 * guest sees them (rx: to the guest). */
typedef struct {
  guint64 rx_bytes, rx_packets, rx_drop;
  guint64 tx_bytes, tx_packets;
} DomainInterfaceStats;
typedef void (*DomainInterfaceStatsFn) (DomainObj *dom, const DomainInterfaceStats *stats, const GError *error,
                                        gpointer data);
void domain_interface_stats (DomainObj *dom, const char *path, DomainInterfaceStatsFn done, gpointer data);

/* Grow the disk whose target or source is path to bytes. */
void domain_block_resize (DomainObj *dom, const char *path, guint64 bytes, DomainDoneFn done, gpointer data);

/* Press keys (qnums, keycodes.h) together for holdtime ms (0: the VMM's
 * default), then release them. */
void domain_send_keys (DomainObj *dom, const guint *qnums, guint n, guint holdtime, DomainDoneFn done,
                       gpointer data);

/* The screen as a PNG image. */
typedef void (*DomainScreenshotFn) (DomainObj *dom, GBytes *png, const GError *error, gpointer data);
void domain_screenshot (DomainObj *dom, DomainScreenshotFn done, gpointer data);

/* ---- the memory balloon ---- */

/* Whether the running domain has a virtio balloon. */
gboolean domain_has_balloon (DomainObj *dom);

/* Right after a fresh start: the balloon target of <currentMemory> when it
 * is below <memory>, and the statistics period of <stats period=>. */
void domain_balloon_setup (DomainObj *dom);

/* Have the guest keep kib of its memory (live), then record it as the
 * running definition's current memory. */
void domain_set_memory_live (DomainObj *dom, guint64 kib, DomainDoneFn done, gpointer data);

/* virDomainMemoryStatTags with their values (KiB, or counts), as the
 * balloon last reported them, plus the balloon's size and the time of
 * the report. */
typedef struct {
  int tag;
  guint64 val;
} DomainMemoryStat;
typedef void (*DomainMemoryStatsFn) (DomainObj *dom, GArray *stats, const GError *error, gpointer data);
void domain_memory_stats (DomainObj *dom, DomainMemoryStatsFn done, gpointer data);

/* Poll the guest's statistics every period seconds (0: stop). */
void domain_set_memory_stats_period (DomainObj *dom, guint period, DomainDoneFn done, gpointer data);
