/* Live requests to a running domain's VMM: block statistics
 * (query-blockstats), growing a disk (block_resize), keys (send-key) and
 * screenshots (screendump). */
#include "domain-live.h"
#include "virt-error.h"
#include "vmm-process.h"

#include <inttypes.h>
#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

/* prefix + a..z, aa.., as oriel-vmm names drives. */
static char *
drive_name (const char *prefix, guint index)
{
  char letters[8];
  guint n = sizeof letters - 1;
  letters[n] = '\0';
  do
    {
      letters[--n] = (char) ('a' + index % 26);
      index /= 26;
    }
  while (index-- > 0 && n > 0);
  return g_strconcat (prefix, letters + n, NULL);
}

char *
domain_disk_vmm_name (DomainDef *def, const DomainDisk *disk)
{
  if (g_str_equal (disk->device, "cdrom"))
    return disk->source ? g_strdup ("cdrom") : NULL;
  /* The VMM numbers each bus's disks in the order they come; on IDE the
   * CD-ROM holds the secondary master (position 2). */
  gboolean cdrom = FALSE;
  for (guint i = 0; i < def->disks->len; i++)
    {
      const DomainDisk *d = def->disks->pdata[i];
      cdrom |= g_str_equal (d->device, "cdrom") && d->source;
    }
  guint index = 0;
  for (guint i = 0; i < def->disks->len; i++)
    {
      const DomainDisk *d = def->disks->pdata[i];
      if (d == disk)
        break;
      if (!g_str_equal (d->device, "cdrom") && g_str_equal (d->target_bus, disk->target_bus))
        index++;
    }
  if (g_str_equal (disk->target_bus, "virtio"))
    return drive_name ("vd", index);
  if (g_str_equal (disk->target_bus, "sata"))
    return drive_name ("sd", index);
  if (g_str_equal (disk->target_bus, "ide"))
    return drive_name ("hd", cdrom && index >= 2 ? index + 1 : index);
  return NULL;
}

static gboolean
check_running (DomainObj *dom, GError **error)
{
  if (!domain_is_active (dom) || !dom->live || !dom->vmm)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                   _("Requested operation is not valid: domain is not running"));
      return FALSE;
    }
  return TRUE;
}

/* The disk of the running definition whose target or source is path. */
static DomainDisk *
live_disk (DomainObj *dom, const char *path, GError **error)
{
  for (guint i = 0; i < dom->live->disks->len; i++)
    {
      DomainDisk *d = dom->live->disks->pdata[i];
      if (g_strcmp0 (d->target_dev, path) == 0 || g_strcmp0 (d->source, path) == 0)
        return d;
    }
  g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG,
               _("invalid argument: invalid path: %s"), path);
  return NULL;
}

/* A request waiting for the VMM's reply; the domain is looked up again
 * then (it may have gone meanwhile). */
typedef struct {
  char *name;
  Daemon *d;
  char *what;           /* the command, for messages */
  GPtrArray *drives;    /* block stats: VMM names to add up; NULL: all */
  char *file;           /* screenshot: where the VMM writes it */
  gpointer done;
  gpointer data;
} LiveJob;

static LiveJob *
job_new (DomainObj *dom, const char *what, gpointer done, gpointer data)
{
  LiveJob *job = g_new0 (LiveJob, 1);
  job->name = g_strdup (dom->def->name);
  job->d = dom->daemon;
  job->what = g_strdup (what);
  job->done = done;
  job->data = data;
  return job;
}

static void
job_free (LiveJob *job)
{
  g_free (job->name);
  g_free (job->what);
  if (job->drives)
    g_ptr_array_unref (job->drives);
  if (job->file)
    g_unlink (job->file);
  g_free (job->file);
  g_free (job);
}

/* The domain, or NULL with the VMM's error (or its absence) in e. */
static DomainObj *
job_domain (LiveJob *job, const GError *error, GError **e)
{
  DomainObj *dom = domain_lookup_name (job->d, job->name);
  if (error)
    *e = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_FAILED, _("operation failed: %s: %s"), job->what,
                      error->message);
  else if (!dom || !domain_is_active (dom))
    *e = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                      _("Requested operation is not valid: domain is not running"));
  return *e ? NULL : dom;
}

/* ---- block statistics ---- */

static guint64
member_u64 (JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  if (!n || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return 0;
  gint64 v = json_node_get_int (n);
  return v > 0 ? (guint64) v : 0;
}

static void
add_drive_stats (DomainBlockStats *st, JsonObject *s)
{
  st->rd_req += member_u64 (s, "rd_operations");
  st->rd_bytes += member_u64 (s, "rd_bytes");
  st->rd_ns += member_u64 (s, "rd_total_time_ns");
  st->wr_req += member_u64 (s, "wr_operations");
  st->wr_bytes += member_u64 (s, "wr_bytes");
  st->wr_ns += member_u64 (s, "wr_total_time_ns");
  st->flush_req += member_u64 (s, "flush_operations");
  st->flush_ns += member_u64 (s, "flush_total_time_ns");
  st->errs += member_u64 (s, "failed_rd_operations") + member_u64 (s, "failed_wr_operations")
              + member_u64 (s, "failed_flush_operations");
}

static void
blockstats_reply (VmmProcess *vmm, JsonNode *result, const GError *error, gpointer data)
{
  LiveJob *job = data;
  g_autoptr (GError) e = NULL;
  DomainObj *dom = job_domain (job, error, &e);
  DomainBlockStats st = { 0 };
  guint found = 0;
  if (dom)
    {
      JsonArray *arr = result && JSON_NODE_HOLDS_ARRAY (result) ? json_node_get_array (result) : NULL;
      for (guint i = 0; arr && i < json_array_get_length (arr); i++)
        {
          JsonNode *n = json_array_get_element (arr, i);
          JsonObject *o = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
          const char *dev = o ? json_object_get_string_member_with_default (o, "device", NULL) : NULL;
          JsonNode *s = o ? json_object_get_member (o, "stats") : NULL;
          if (!dev || !s || !JSON_NODE_HOLDS_OBJECT (s))
            continue;
          if (job->drives && !g_ptr_array_find_with_equal_func (job->drives, dev, g_str_equal, NULL))
            continue;
          add_drive_stats (&st, json_node_get_object (s));
          found++;
        }
      if (job->drives && found == 0)
        e = g_error_new (VIRT_ERROR, VIR_ERR_INTERNAL_ERROR,
                         _("internal error: the VMM reports no statistics for drive '%s'"),
                         (const char *) job->drives->pdata[0]);
    }
  ((DomainBlockStatsFn) job->done) (dom, e ? NULL : &st, e, job->data);
  job_free (job);
}

void
domain_block_stats (DomainObj *dom, const char *path, DomainBlockStatsFn done, gpointer data)
{
  g_autoptr (GError) e = NULL;
  if (!check_running (dom, &e))
    {
      done (dom, NULL, e, data);
      return;
    }
  GPtrArray *drives = NULL;
  if (path && *path)
    {
      DomainDisk *disk = live_disk (dom, path, &e);
      char *name = disk ? domain_disk_vmm_name (dom->live, disk) : NULL;
      if (disk && !name)
        e = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                         _("Requested operation is not valid: disk '%s' has no medium"), disk->target_dev);
      if (e)
        {
          done (dom, NULL, e, data);
          return;
        }
      drives = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (drives, name);
    }
  LiveJob *job = job_new (dom, "query-blockstats", done, data);
  job->drives = drives;
  vmm_process_command (dom->vmm, "query-blockstats", blockstats_reply, job);
}

/* ---- interface statistics ---- */

static void
netstats_reply (VmmProcess *vmm, JsonNode *result, const GError *error, gpointer data)
{
  LiveJob *job = data;
  g_autoptr (GError) e = NULL;
  DomainObj *dom = job_domain (job, error, &e);
  DomainInterfaceStats st = { 0 };
  gboolean found = FALSE;
  JsonArray *arr = dom && result && JSON_NODE_HOLDS_ARRAY (result) ? json_node_get_array (result) : NULL;
  for (guint i = 0; arr && i < json_array_get_length (arr) && !found; i++)
    {
      JsonNode *n = json_array_get_element (arr, i);
      JsonObject *o = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
      const char *mac = o ? json_object_get_string_member_with_default (o, "mac", NULL) : NULL;
      JsonNode *sn = o ? json_object_get_member (o, "stats") : NULL;
      if (!mac || g_ascii_strcasecmp (mac, job->drives->pdata[0]) != 0 || !sn || !JSON_NODE_HOLDS_OBJECT (sn))
        continue;
      JsonObject *s = json_node_get_object (sn);
      st.rx_bytes = member_u64 (s, "rx_bytes");
      st.rx_packets = member_u64 (s, "rx_packets");
      st.rx_drop = member_u64 (s, "rx_dropped");
      st.tx_bytes = member_u64 (s, "tx_bytes");
      st.tx_packets = member_u64 (s, "tx_packets");
      found = TRUE;
    }
  if (dom && !e && !found)
    e = g_error_new (VIRT_ERROR, VIR_ERR_INTERNAL_ERROR,
                     _("internal error: the VMM reports no statistics for the interface with MAC %s"),
                     (const char *) job->drives->pdata[0]);
  ((DomainInterfaceStatsFn) job->done) (dom, e ? NULL : &st, e, job->data);
  job_free (job);
}

void
domain_interface_stats (DomainObj *dom, const char *path, DomainInterfaceStatsFn done, gpointer data)
{
  g_autoptr (GError) e = NULL;
  DomainNic *nic = NULL;
  if (check_running (dom, &e))
    {
      for (guint i = 0; i < dom->live->nics->len && !nic; i++)
        {
          DomainNic *n = dom->live->nics->pdata[i];
          if (g_strcmp0 (n->live_target, path) == 0 || (n->mac && g_ascii_strcasecmp (n->mac, path) == 0))
            nic = n;
        }
      if (!nic)
        e = g_error_new (VIRT_ERROR, VIR_ERR_INVALID_ARG, _("invalid argument: invalid path, '%s' is not a known interface"),
                         path);
    }
  if (e)
    {
      done (dom, NULL, e, data);
      return;
    }
  LiveJob *job = job_new (dom, "query-net", done, data);
  /* The VMM knows its NICs by MAC. */
  job->drives = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (job->drives, g_strdup (nic->mac));
  vmm_process_command (dom->vmm, "query-net", netstats_reply, job);
}

/* ---- commands answered with {} ---- */

static void
done_reply (VmmProcess *vmm, JsonNode *result, const GError *error, gpointer data)
{
  LiveJob *job = data;
  g_autoptr (GError) e = NULL;
  DomainObj *dom = job_domain (job, error, &e);
  ((DomainDoneFn) job->done) (dom, e, job->data);
  job_free (job);
}

void
domain_block_resize (DomainObj *dom, const char *path, guint64 bytes, DomainDoneFn done, gpointer data)
{
  g_autoptr (GError) e = NULL;
  DomainDisk *disk = check_running (dom, &e) ? live_disk (dom, path, &e) : NULL;
  g_autofree char *name = disk ? domain_disk_vmm_name (dom->live, disk) : NULL;
  if (disk && (g_str_equal (disk->device, "cdrom") || disk->readonly))
    e = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_UNSUPPORTED,
                     _("Operation not supported: disk '%s' is read-only"), disk->target_dev);
  else if (disk && !g_str_equal (disk->target_bus, "virtio"))
    e = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_UNSUPPORTED,
                     _("Operation not supported: disk '%s' on bus '%s' cannot grow while the domain runs "
                       "(only virtio disks tell the guest)"), disk->target_dev, disk->target_bus);
  else if (disk && bytes > G_MAXINT64)
    e = g_error_new (VIRT_ERROR, VIR_ERR_INVALID_ARG, _("size %" PRIu64 " is too large"), bytes);
  if (e)
    {
      done (dom, e, data);
      return;
    }
  g_autoptr (JsonObject) args = json_object_new ();
  json_object_set_string_member (args, "device", name);
  json_object_set_int_member (args, "size", (gint64) bytes);
  vmm_process_command_args (dom->vmm, "block_resize", args, done_reply, job_new (dom, "block_resize", done, data));
}

void
domain_send_keys (DomainObj *dom, const guint *qnums, guint n, guint holdtime, DomainDoneFn done, gpointer data)
{
  g_autoptr (GError) e = NULL;
  if (!check_running (dom, &e))
    {
      done (dom, e, data);
      return;
    }
  g_autoptr (JsonObject) args = json_object_new ();
  JsonArray *keys = json_array_new ();
  for (guint i = 0; i < n; i++)
    json_array_add_int_element (keys, qnums[i]);
  json_object_set_array_member (args, "keys", keys);
  if (holdtime)
    json_object_set_int_member (args, "hold-time", holdtime);
  vmm_process_command_args (dom->vmm, "send-key", args, done_reply, job_new (dom, "send-key", done, data));
}

/* ---- screenshots ---- */

static void
screendump_reply (VmmProcess *vmm, JsonNode *result, const GError *error, gpointer data)
{
  LiveJob *job = data;
  g_autoptr (GError) e = NULL;
  DomainObj *dom = job_domain (job, error, &e);
  g_autoptr (GBytes) png = NULL;
  gchar *contents = NULL;
  gsize len = 0;
  g_autoptr (GError) read_error = NULL;
  if (dom && !g_file_get_contents (job->file, &contents, &len, &read_error))
    e = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_FAILED, _("operation failed: cannot read the screenshot: %s"),
                     read_error->message);
  else if (dom)
    png = g_bytes_new_take (contents, len);
  ((DomainScreenshotFn) job->done) (dom, png, e, job->data);
  job_free (job);
}

void
domain_screenshot (DomainObj *dom, DomainScreenshotFn done, gpointer data)
{
  g_autoptr (GError) e = NULL;
  if (check_running (dom, &e) && !dom->live->has_vnc)
    e = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                     _("Requested operation is not valid: the domain has no graphics to take a screenshot of"));
  if (e)
    {
      done (dom, NULL, e, data);
      return;
    }
  /* A fresh name in the run directory (mode 0700, the daemon's): nobody
   * else can put a file or link there. */
  static guint counter;
  g_autofree char *base = g_strdup_printf ("screenshot-%u.png", ++counter);
  LiveJob *job = job_new (dom, "screendump", done, data);
  job->file = domain_run_file (dom, base);
  g_unlink (job->file);
  g_autoptr (JsonObject) args = json_object_new ();
  json_object_set_string_member (args, "filename", job->file);
  vmm_process_command_args (dom->vmm, "screendump", args, screendump_reply, job);
}

/* ---- the memory balloon ---- */

/* virDomainMemoryStatTags */
enum {
  MEMSTAT_SWAP_IN = 0, MEMSTAT_SWAP_OUT = 1, MEMSTAT_MAJOR_FAULT = 2, MEMSTAT_MINOR_FAULT = 3,
  MEMSTAT_UNUSED = 4, MEMSTAT_AVAILABLE = 5, MEMSTAT_ACTUAL_BALLOON = 6, MEMSTAT_USABLE = 8,
  MEMSTAT_LAST_UPDATE = 9, MEMSTAT_DISK_CACHES = 10, MEMSTAT_HUGETLB_PGALLOC = 11,
  MEMSTAT_HUGETLB_PGFAIL = 12,
};

gboolean
domain_has_balloon (DomainObj *dom)
{
  DomainDef *def = dom->live ? dom->live : dom->def;
  return def->has_balloon && g_str_equal (def->balloon_model, "virtio");
}

static void
log_reply (VmmProcess *vmm, JsonNode *result, const GError *error, gpointer data)
{
  g_autofree char *what = data;
  if (error)
    g_warning (_("%s: %s"), what, error->message);
}

void
domain_balloon_setup (DomainObj *dom)
{
  if (!dom->vmm || !dom->live || !domain_has_balloon (dom))
    return;
  DomainDef *def = dom->live;
  if (def->current_memory_kib && def->current_memory_kib < def->memory_kib)
    {
      g_autoptr (JsonObject) args = json_object_new ();
      json_object_set_int_member (args, "value", (gint64) (def->current_memory_kib * 1024));
      vmm_process_command_args (dom->vmm, "balloon", args, log_reply,
                                g_strdup_printf ("domain %s: balloon", def->name));
    }
  if (def->balloon_period)
    {
      g_autoptr (JsonObject) args = json_object_new ();
      json_object_set_int_member (args, "seconds", def->balloon_period);
      vmm_process_command_args (dom->vmm, "balloon-stats-period", args, log_reply,
                                g_strdup_printf ("domain %s: balloon-stats-period", def->name));
    }
}

typedef struct {
  LiveJob base;
  guint64 kib;
} MemoryJob;

static void
setmem_reply (VmmProcess *vmm, JsonNode *result, const GError *error, gpointer data)
{
  MemoryJob *job = data;
  g_autoptr (GError) e = NULL;
  DomainObj *dom = job_domain (&job->base, error, &e);
  if (dom && dom->live)
    {
      dom->live->current_memory_kib = job->kib;
      domain_save_live_state (dom);
    }
  ((DomainDoneFn) job->base.done) (dom, e, job->base.data);
  g_free (job->base.name);
  g_free (job->base.what);
  g_free (job);
}

void
domain_set_memory_live (DomainObj *dom, guint64 kib, DomainDoneFn done, gpointer data)
{
  g_autoptr (GError) e = NULL;
  if (check_running (dom, &e) && !domain_has_balloon (dom))
    e = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_UNSUPPORTED,
                     _("Operation not supported: the domain has no memory balloon (<memballoon model='none'/>), "
                       "so its memory cannot change while it runs"));
  else if (!e && kib > dom->live->memory_kib)
    e = g_error_new (VIRT_ERROR, VIR_ERR_INVALID_ARG,
                     _("invalid argument: cannot set memory higher than max memory"));
  else if (!e && kib < 1024)
    e = g_error_new (VIRT_ERROR, VIR_ERR_INVALID_ARG,
                     _("invalid argument: a domain needs at least 1 MiB of memory, not %" PRIu64 " KiB"), kib);
  if (e)
    {
      done (dom, e, data);
      return;
    }
  MemoryJob *job = g_new0 (MemoryJob, 1);
  job->base.name = g_strdup (dom->def->name);
  job->base.d = dom->daemon;
  job->base.what = g_strdup ("balloon");
  job->base.done = done;
  job->base.data = data;
  job->kib = kib;
  g_autoptr (JsonObject) args = json_object_new ();
  json_object_set_int_member (args, "value", (gint64) (kib * 1024));
  vmm_process_command_args (dom->vmm, "balloon", args, setmem_reply, job);
}

static void
add_stat (GArray *a, int tag, guint64 val)
{
  DomainMemoryStat s = { tag, val };
  g_array_append_val (a, s);
}

static void
balloon_stats_reply (VmmProcess *vmm, JsonNode *result, const GError *error, gpointer data)
{
  LiveJob *job = data;
  g_autoptr (GError) e = NULL;
  DomainObj *dom = job_domain (job, error, &e);
  g_autoptr (GArray) stats = g_array_new (FALSE, FALSE, sizeof (DomainMemoryStat));
  JsonObject *o = result && JSON_NODE_HOLDS_OBJECT (result) ? json_node_get_object (result) : NULL;
  if (dom && !o)
    e = g_error_new (VIRT_ERROR, VIR_ERR_INTERNAL_ERROR, _("internal error: query-balloon gave no object"));
  if (!e)
    {
      /* libvirt's order; memory sizes in KiB, fault counts as they are. */
      JsonNode *sn = json_object_get_member (o, "stats");
      JsonObject *s = sn && JSON_NODE_HOLDS_OBJECT (sn) ? json_node_get_object (sn) : NULL;
      static const struct { const char *name; int tag; gboolean bytes; } map[] = {
        { "stat-swap-in", MEMSTAT_SWAP_IN, TRUE },
        { "stat-swap-out", MEMSTAT_SWAP_OUT, TRUE },
        { "stat-major-faults", MEMSTAT_MAJOR_FAULT, FALSE },
        { "stat-minor-faults", MEMSTAT_MINOR_FAULT, FALSE },
        { "stat-free-memory", MEMSTAT_UNUSED, TRUE },
        { "stat-total-memory", MEMSTAT_AVAILABLE, TRUE },
        { "stat-available-memory", MEMSTAT_USABLE, TRUE },
        { "stat-disk-caches", MEMSTAT_DISK_CACHES, TRUE },
        { "stat-htlb-pgalloc", MEMSTAT_HUGETLB_PGALLOC, FALSE },
        { "stat-htlb-pgfail", MEMSTAT_HUGETLB_PGFAIL, FALSE },
      };
      for (gsize i = 0; s && i < G_N_ELEMENTS (map); i++)
        if (json_object_has_member (s, map[i].name))
          {
            guint64 v = member_u64 (s, map[i].name);
            add_stat (stats, map[i].tag, map[i].bytes ? v / 1024 : v);
          }
      add_stat (stats, MEMSTAT_ACTUAL_BALLOON, member_u64 (o, "actual") / 1024);
      guint64 when = member_u64 (o, "last-update");
      if (when)
        add_stat (stats, MEMSTAT_LAST_UPDATE, when);
    }
  ((DomainMemoryStatsFn) job->done) (dom, e ? NULL : stats, e, job->data);
  job_free (job);
}

void
domain_memory_stats (DomainObj *dom, DomainMemoryStatsFn done, gpointer data)
{
  g_autoptr (GError) e = NULL;
  if (check_running (dom, &e) && !domain_has_balloon (dom))
    {
      /* Without a balloon the guest has all of its current memory. */
      g_autoptr (GArray) stats = g_array_new (FALSE, FALSE, sizeof (DomainMemoryStat));
      add_stat (stats, MEMSTAT_ACTUAL_BALLOON, dom->live->current_memory_kib);
      done (dom, stats, NULL, data);
      return;
    }
  if (e)
    {
      done (dom, NULL, e, data);
      return;
    }
  vmm_process_command (dom->vmm, "query-balloon", balloon_stats_reply, job_new (dom, "query-balloon", done, data));
}

void
domain_set_memory_stats_period (DomainObj *dom, guint period, DomainDoneFn done, gpointer data)
{
  g_autoptr (GError) e = NULL;
  if (check_running (dom, &e) && !domain_has_balloon (dom))
    e = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                     _("Requested operation is not valid: the domain has no memory balloon"));
  if (e)
    {
      done (dom, e, data);
      return;
    }
  dom->live->balloon_period = period;
  domain_save_live_state (dom);
  g_autoptr (JsonObject) args = json_object_new ();
  json_object_set_int_member (args, "seconds", period);
  vmm_process_command_args (dom->vmm, "balloon-stats-period", args, done_reply,
                            job_new (dom, "balloon-stats-period", done, data));
}
