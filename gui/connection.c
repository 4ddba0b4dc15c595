/* One libvirt connection: opening, lifecycle events and stats sampling.
 *
 * libvirt's default event loop runs in a thread of its own; callbacks from
 * it are forwarded to the GTK main context before any widget sees them. */
#include "connection.h"
#include "domain-state.h"

#include <glib/gi18n.h>
#include <libvirt/virterror.h>

#define STATS_INTERVAL_MS 1000

struct _OrielConnection {
  GObject parent_instance;

  char *uri;
  virConnectPtr conn;
  char *error_text;
  int lifecycle_cb_id;
  GHashTable *domains;   /* uuid string -> OrielDomain* */
  GPtrArray *order;      /* OrielDomain*, in the order they were found */
  guint stats_source;
  gboolean sampling;     /* a stats sample is under way in a worker */
  gboolean opening;
  GPtrArray *early_events; /* PendingEvent*, delivered before the list was applied */
};

G_DEFINE_TYPE (OrielConnection, oriel_connection, G_TYPE_OBJECT)
G_DEFINE_QUARK (oriel-libvirt-error-quark, oriel_libvirt_error)

enum { SIGNAL_DOMAIN_ADDED, SIGNAL_DOMAIN_REMOVED, SIGNAL_STATS_UPDATED, SIGNAL_CLOSED,
       SIGNAL_OPENED, N_SIGNALS };
static guint signals[N_SIGNALS];
void
oriel_set_libvirt_error (GError **error, const char *what)
{
  const char *msg = virGetLastErrorMessage ();

  g_set_error (error, ORIEL_LIBVIRT_ERROR, 0, "%s: %s", what,
               msg != NULL ? msg : _("unknown error"));
}

/* libvirt prints every error to stderr by default; the application shows
 * them in dialogs instead. */
static void
quiet_error_handler (void *data, virErrorPtr err)
{
}

static gpointer
event_thread (gpointer data)
{
  for (;;)
    if (virEventRunDefaultImpl () < 0)
      g_warning ("libvirt event loop: %s", virGetLastErrorMessage ());
  return NULL;
}

void
oriel_libvirt_events_init (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      virSetErrorFunc (NULL, quiet_error_handler);
      virInitialize ();
      if (virEventRegisterDefaultImpl () < 0)
        g_warning ("Could not start the libvirt event loop: %s",
                   virGetLastErrorMessage ());
      g_thread_unref (g_thread_new ("libvirt-events", event_thread, NULL));
      g_once_init_leave (&once, 1);
    }
}

static void
conn_unref (gpointer conn)
{
  virConnectClose (conn);
}

/* ---- the domain model ---- */

typedef struct {
  virDomainPtr dom;
  char *name;
  int state;
  int reason;
} DomainSnapshot;

static void
domain_snapshot_free (gpointer data)
{
  DomainSnapshot *snap = data;

  if (snap->dom != NULL)
    virDomainFree (snap->dom);
  g_free (snap->name);
  g_free (snap);
}

/* Worker thread: takes over the reference to dom. */
static DomainSnapshot *
domain_snapshot_take (virDomainPtr dom)
{
  DomainSnapshot *snap = g_new0 (DomainSnapshot, 1);

  snap->dom = dom;
  snap->name = g_strdup (virDomainGetName (dom));
  if (virDomainGetState (dom, &snap->state, &snap->reason, 0) < 0)
    snap->state = -1, snap->reason = 0;
  return snap;
}

OrielDomain *
oriel_connection_track_domain (OrielConnection *self, virDomainPtr dom,
                               const char *name, int state, int reason)
{
  char uuid[VIR_UUID_STRING_BUFLEN];
  OrielDomain *domain;

  virDomainGetUUIDString (dom, uuid);
  domain = g_hash_table_lookup (self->domains, uuid);
  if (domain != NULL)
    {
      oriel_domain_update (domain, name, state, reason);
      return domain;
    }
  domain = oriel_domain_new (dom, name, state, reason);
  g_hash_table_insert (self->domains, g_strdup (uuid), domain);
  g_ptr_array_add (self->order, g_object_ref (domain));
  g_signal_emit (self, signals[SIGNAL_DOMAIN_ADDED], 0, domain);
  return domain;
}

static void
forget_domain (OrielConnection *self, const char *uuid)
{
  g_autoptr (OrielDomain) domain = NULL;
  g_autofree char *key = NULL;

  if (!g_hash_table_steal_extended (self->domains, uuid, (gpointer *) &key, (gpointer *) &domain))
    return;
  g_ptr_array_remove (self->order, domain);
  oriel_domain_mark_removed (domain);
  g_signal_emit (self, signals[SIGNAL_DOMAIN_REMOVED], 0, domain);
}

OrielDomain *
oriel_connection_get_domain (OrielConnection *self, const char *uuid)
{
  return uuid != NULL ? g_hash_table_lookup (self->domains, uuid) : NULL;
}

OrielDomain *
oriel_connection_find_domain_by_name (OrielConnection *self, const char *name)
{
  for (guint i = 0; i < self->order->len; i++)
    if (g_strcmp0 (oriel_domain_get_name (self->order->pdata[i]), name) == 0)
      return self->order->pdata[i];
  return NULL;
}

GPtrArray *
oriel_connection_get_domains (OrielConnection *self)
{
  return self->order;
}

/* ---- events ---- */

typedef struct {
  OrielConnection *self;
  char *uuid;
  int event;
  int detail;
} PendingEvent;

static void
new_domain_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  virConnectPtr conn = g_task_get_task_data (task);
  virDomainPtr dom = virDomainLookupByUUIDString (conn, g_object_get_data (G_OBJECT (task), "uuid"));

  if (dom == NULL)
    g_task_return_new_error (task, ORIEL_LIBVIRT_ERROR, 0, "%s", virGetLastErrorMessage ());
  else
    g_task_return_pointer (task, domain_snapshot_take (dom), domain_snapshot_free);
}

static void
new_domain_done (GObject *source, GAsyncResult *result, gpointer data)
{
  OrielConnection *self = ORIEL_CONNECTION (source);
  DomainSnapshot *snap = g_task_propagate_pointer (G_TASK (result), NULL);

  /* Gone again, or the connection was closed meanwhile. */
  if (snap != NULL && self->conn != NULL)
    oriel_connection_track_domain (self, snap->dom, snap->name, snap->state, snap->reason);
  if (snap != NULL)
    domain_snapshot_free (snap);
}

/* Main thread: the one place where lifecycle events reach the model.
 * States are read again in a worker rather than guessed from the event. */
static gboolean
deliver_event (gpointer data)
{
  PendingEvent *ev = data;
  OrielConnection *self = ev->self;
  OrielDomain *domain;

  if (self->conn == NULL && self->opening)
    {
      /* Registered in the open worker before the list was read: replayed
       * once the list is in, so nothing between the two is lost. */
      g_ptr_array_add (self->early_events, ev);
      return G_SOURCE_REMOVE;
    }
  if (self->conn == NULL)
    goto out;
  domain = g_hash_table_lookup (self->domains, ev->uuid);
  if (ev->event == VIR_DOMAIN_EVENT_UNDEFINED)
    forget_domain (self, ev->uuid);
  else if (domain != NULL)
    {
      oriel_domain_refresh_state (domain);
      /* A new definition, or the live XML of a started domain (ports). */
      if (ev->event == VIR_DOMAIN_EVENT_DEFINED || ev->event == VIR_DOMAIN_EVENT_STARTED)
        oriel_domain_fetch_xml (domain);
    }
  else
    {
      GTask *task = g_task_new (self, NULL, new_domain_done, NULL);

      virConnectRef (self->conn);
      g_task_set_task_data (task, self->conn, conn_unref);
      g_object_set_data_full (G_OBJECT (task), "uuid", g_strdup (ev->uuid), g_free);
      g_task_run_in_thread (task, new_domain_thread);
      g_object_unref (task);
    }
out:
  g_object_unref (ev->self);
  g_free (ev->uuid);
  g_free (ev);
  return G_SOURCE_REMOVE;
}

static int
lifecycle_cb (virConnectPtr conn, virDomainPtr dom, int event, int detail,
              void *opaque)
{
  PendingEvent *ev = g_new0 (PendingEvent, 1);
  char uuid[VIR_UUID_STRING_BUFLEN];

  virDomainGetUUIDString (dom, uuid);
  ev->self = g_object_ref (opaque);
  ev->uuid = g_strdup (uuid);
  ev->event = event;
  ev->detail = detail;
  g_main_context_invoke (NULL, deliver_event, ev);
  return 0;
}

static gboolean
deliver_closed (gpointer data)
{
  OrielConnection *self = data;

  oriel_connection_close (self);
  g_free (self->error_text);
  self->error_text = g_strdup (_("The connection was closed."));
  g_signal_emit (self, signals[SIGNAL_CLOSED], 0);
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

static void
close_cb (virConnectPtr conn, int reason, void *opaque)
{
  g_main_context_invoke (NULL, deliver_closed, g_object_ref (opaque));
}

static void
oriel_connection_dispose (GObject *object)
{
  oriel_connection_close (ORIEL_CONNECTION (object));
  G_OBJECT_CLASS (oriel_connection_parent_class)->dispose (object);
}

static void
oriel_connection_finalize (GObject *object)
{
  OrielConnection *self = ORIEL_CONNECTION (object);

  g_free (self->uri);
  g_free (self->error_text);
  g_hash_table_unref (self->domains);
  g_ptr_array_unref (self->order);
  g_ptr_array_unref (self->early_events);
  G_OBJECT_CLASS (oriel_connection_parent_class)->finalize (object);
}

static void
oriel_connection_class_init (OrielConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = oriel_connection_dispose;
  object_class->finalize = oriel_connection_finalize;

  /* A domain appeared (defined, or found when the connection opened). */
  signals[SIGNAL_DOMAIN_ADDED] =
    g_signal_new ("domain-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, ORIEL_TYPE_DOMAIN);
  /* A domain was undefined; it also emits "removed" itself. */
  signals[SIGNAL_DOMAIN_REMOVED] =
    g_signal_new ("domain-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, ORIEL_TYPE_DOMAIN);
  signals[SIGNAL_STATS_UPDATED] =
    g_signal_new ("stats-updated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* Emitted when oriel_connection_open() finished, successfully or not. */
  signals[SIGNAL_OPENED] =
    g_signal_new ("opened", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_CLOSED] =
    g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
oriel_connection_init (OrielConnection *self)
{
  self->lifecycle_cb_id = -1;
  self->domains = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->order = g_ptr_array_new_with_free_func (g_object_unref);
  self->early_events = g_ptr_array_new ();
}

OrielConnection *
oriel_connection_new (const char *uri)
{
  OrielConnection *self = g_object_new (ORIEL_TYPE_CONNECTION, NULL);

  self->uri = g_strdup (uri);
  return self;
}

const char *
oriel_connection_get_uri (OrielConnection *self)
{
  return self->uri;
}

gboolean
oriel_connection_is_open (OrielConnection *self)
{
  return self->conn != NULL;
}

virConnectPtr
oriel_connection_get_virconn (OrielConnection *self)
{
  return self->conn;
}

const char *
oriel_connection_get_error (OrielConnection *self)
{
  return self->error_text;
}

static gboolean
stats_tick (gpointer data)
{
  oriel_connection_sample_stats (ORIEL_CONNECTION (data));
  return G_SOURCE_CONTINUE;
}

typedef struct {
  virConnectPtr conn;
  int lifecycle_cb_id;
  GPtrArray *domains;   /* DomainSnapshot* */
} OpenResult;

static void
open_result_free (gpointer data)
{
  OpenResult *res = data;

  if (res->conn != NULL && res->lifecycle_cb_id >= 0)
    virConnectDomainEventDeregisterAny (res->conn, res->lifecycle_cb_id);
  if (res->conn != NULL)
    virConnectClose (res->conn);
  g_clear_pointer (&res->domains, g_ptr_array_unref);
  g_free (res);
}

/* Runs on the main thread once virConnectOpen succeeded; takes over res's
 * connection. */
static void
attach (OrielConnection *self, OpenResult *res)
{
  g_autoptr (GPtrArray) early = g_steal_pointer (&self->early_events);

  self->conn = g_steal_pointer (&res->conn);
  self->lifecycle_cb_id = res->lifecycle_cb_id;
  res->lifecycle_cb_id = -1;
  self->early_events = g_ptr_array_new ();
  g_clear_pointer (&self->error_text, g_free);
  for (guint i = 0; res->domains != NULL && i < res->domains->len; i++)
    {
      DomainSnapshot *snap = res->domains->pdata[i];
      oriel_connection_track_domain (self, snap->dom, snap->name, snap->state, snap->reason);
    }
  for (guint i = 0; i < early->len; i++)
    deliver_event (early->pdata[i]);
  oriel_connection_sample_stats (self);
  self->stats_source = g_timeout_add (STATS_INTERVAL_MS, stats_tick, self);
}

static virConnectPtr
open_uri (const char *uri, GError **error)
{
  virConnectPtr conn = virConnectOpenAuth (uri, virConnectAuthPtrDefault, 0);

  if (conn == NULL)
    {
      g_autofree char *what = g_strdup_printf (_("Could not connect to %s"), uri);
      oriel_set_libvirt_error (error, what);
    }
  return conn;
}

static void
domain_unref (gpointer dom)
{
  virDomainFree (dom);
}

static GPtrArray *
list_all (virConnectPtr conn, const char *uri, GError **error)
{
  virDomainPtr *doms = NULL;
  GPtrArray *result;
  int n;

  if (conn == NULL)
    {
      g_set_error (error, ORIEL_LIBVIRT_ERROR, 0, _("Not connected to %s"), uri);
      return NULL;
    }
  n = virConnectListAllDomains (conn, &doms, 0);
  if (n < 0)
    {
      oriel_set_libvirt_error (error, _("Could not list the virtual machines"));
      return NULL;
    }
  result = g_ptr_array_new_full (n, domain_unref);
  for (int i = 0; i < n; i++)
    g_ptr_array_add (result, doms[i]);
  free (doms);
  return result;
}

/* Worker: connects, registers for events (round trips too) and reads
 * the domain list with every state, so the window is filled without a
 * round trip on the main thread. */
static void
open_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;
  OpenResult *res = g_new0 (OpenResult, 1);
  g_autoptr (GPtrArray) doms = NULL;

  res->lifecycle_cb_id = -1;
  res->conn = open_uri (task_data, &error);
  if (res->conn == NULL)
    {
      open_result_free (res);
      g_task_return_error (task, error);
      return;
    }
  /* Remote connections notice a dead peer through keepalive; local
   * drivers do not support it, which is fine. */
  virConnectSetKeepAlive (res->conn, 5, 3);
  virConnectRegisterCloseCallback (res->conn, close_cb, g_object_ref (source), g_object_unref);
  res->lifecycle_cb_id =
    virConnectDomainEventRegisterAny (res->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                      VIR_DOMAIN_EVENT_CALLBACK (lifecycle_cb),
                                      g_object_ref (source), g_object_unref);
  doms = list_all (res->conn, task_data, &error);
  if (doms == NULL)
    {
      open_result_free (res);
      g_task_return_error (task, error);
      return;
    }
  res->domains = g_ptr_array_new_with_free_func (domain_snapshot_free);
  for (guint i = 0; i < doms->len; i++)
    g_ptr_array_add (res->domains, domain_snapshot_take (g_steal_pointer (&doms->pdata[i])));
  g_task_return_pointer (task, res, open_result_free);
}

void
oriel_connection_open_async (OrielConnection *self, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  oriel_libvirt_events_init ();
  g_task_set_task_data (task, g_strdup (self->uri), g_free);
  g_task_run_in_thread (task, open_thread);
  g_object_unref (task);
}

gboolean
oriel_connection_open_finish (OrielConnection *self, GAsyncResult *result,
                              GError **error)
{
  GError *local = NULL;
  OpenResult *res = g_task_propagate_pointer (G_TASK (result), &local);

  if (res == NULL)
    {
      g_free (self->error_text);
      self->error_text = g_strdup (local->message);
      g_propagate_error (error, local);
      return FALSE;
    }
  attach (self, res);
  open_result_free (res);
  return TRUE;
}

static void
open_done (GObject *source, GAsyncResult *result, gpointer data)
{
  OrielConnection *self = ORIEL_CONNECTION (source);

  oriel_connection_open_finish (self, result, NULL);
  self->opening = FALSE;
  /* A failed open leaves no events to replay. */
  for (guint i = 0; i < self->early_events->len; i++)
    {
      PendingEvent *ev = self->early_events->pdata[i];
      g_object_unref (ev->self);
      g_free (ev->uuid);
      g_free (ev);
    }
  g_ptr_array_set_size (self->early_events, 0);
  g_signal_emit (self, signals[SIGNAL_OPENED], 0);
}

void
oriel_connection_open (OrielConnection *self)
{
  if (self->conn != NULL || self->opening)
    return;
  self->opening = TRUE;
  oriel_connection_open_async (self, NULL, open_done, NULL);
}

gboolean
oriel_connection_is_opening (OrielConnection *self)
{
  return self->opening;
}

static void
close_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  OpenResult *res = task_data;

  /* Deregistering and the last close are round trips. */
  virConnectUnregisterCloseCallback (res->conn, close_cb);
  if (res->lifecycle_cb_id >= 0)
    virConnectDomainEventDeregisterAny (res->conn, res->lifecycle_cb_id);
  virConnectClose (res->conn);
  res->conn = NULL;
  g_task_return_boolean (task, TRUE);
}

void
oriel_connection_close (OrielConnection *self)
{
  OpenResult *res;
  GTask *task;

  if (self->conn == NULL)
    return;
  res = g_new0 (OpenResult, 1);
  res->conn = g_steal_pointer (&self->conn);
  res->lifecycle_cb_id = self->lifecycle_cb_id;
  self->lifecycle_cb_id = -1;
  g_clear_handle_id (&self->stats_source, g_source_remove);
  task = g_task_new (NULL, NULL, NULL, NULL);
  g_task_set_task_data (task, res, open_result_free);
  g_task_run_in_thread (task, close_thread);
  g_object_unref (task);
  /* Open windows keep their OrielDomain; the list forgets it. */
  g_hash_table_remove_all (self->domains);
  g_ptr_array_set_size (self->order, 0);
}

/* ---- stats ---- */

typedef struct {
  char uuid[VIR_UUID_STRING_BUFLEN];
  OrielStatsSample sample;   /* valid only while the domain runs */
} StatsEntry;

/* Fills a sample from one bulk-stats record; FALSE if the driver left out
 * the CPU time (libvirt's test driver reports only the state). */
static gboolean
sample_from_record (virDomainStatsRecordPtr rec, OrielStatsSample *sample, int *state)
{
  unsigned long long cpu = 0, cur = 0, max = 0;
  unsigned int vcpus = 0;
  int st = -1;
  gboolean have_cpu = FALSE;

  for (int i = 0; i < rec->nparams; i++)
    {
      virTypedParameterPtr p = &rec->params[i];
      if (g_str_equal (p->field, "state.state") && p->type == VIR_TYPED_PARAM_INT)
        st = p->value.i;
      else if (g_str_equal (p->field, "cpu.time") && p->type == VIR_TYPED_PARAM_ULLONG)
        cpu = p->value.ul, have_cpu = TRUE;
      else if (g_str_equal (p->field, "balloon.current") && p->type == VIR_TYPED_PARAM_ULLONG)
        cur = p->value.ul;
      else if (g_str_equal (p->field, "balloon.maximum") && p->type == VIR_TYPED_PARAM_ULLONG)
        max = p->value.ul;
      else if (g_str_equal (p->field, "vcpu.current") && p->type == VIR_TYPED_PARAM_UINT)
        vcpus = p->value.ui;
    }
  *state = st;
  if (!have_cpu || vcpus == 0)
    return FALSE;
  sample->wall_us = g_get_monotonic_time ();
  sample->cpu_time_ns = cpu;
  sample->mem_kib = cur;
  sample->max_mem_kib = max != 0 ? max : cur;
  sample->vcpus = vcpus;
  sample->valid = TRUE;
  return TRUE;
}

static gboolean
sample_from_info (virDomainPtr dom, OrielStatsSample *sample, int *state)
{
  virDomainInfo info;

  if (virDomainGetInfo (dom, &info) < 0)
    return FALSE;
  *state = info.state;
  sample->wall_us = g_get_monotonic_time ();
  sample->cpu_time_ns = info.cpuTime;
  sample->mem_kib = info.memory;
  sample->max_mem_kib = info.maxMem;
  sample->vcpus = info.nrVirtCpu;
  sample->valid = TRUE;
  return TRUE;
}

static gboolean
counts_as_active (int state)
{
  return state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_PAUSED || state == VIR_DOMAIN_BLOCKED;
}

/* Worker: one sample of every domain; returns a GArray of StatsEntry. */
static void
stats_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  virConnectPtr conn = task_data;
  virDomainStatsRecordPtr *records = NULL;
  GArray *entries = g_array_new (FALSE, TRUE, sizeof (StatsEntry));
  int n;

  /* One round trip for every domain, which matters on remote connections. */
  n = virConnectGetAllDomainStats (conn,
                                   VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL
                                   | VIR_DOMAIN_STATS_BALLOON | VIR_DOMAIN_STATS_VCPU,
                                   &records, 0);
  for (int i = 0; i < n; i++)
    {
      StatsEntry e = { 0 };
      int state = -1;
      gboolean ok;

      if (virDomainGetUUIDString (records[i]->dom, e.uuid) < 0)
        continue;
      ok = sample_from_record (records[i], &e.sample, &state);
      if (!ok && (counts_as_active (state) || state < 0))
        ok = sample_from_info (records[i]->dom, &e.sample, &state);
      e.sample.valid = ok && counts_as_active (state);
      g_array_append_val (entries, e);
    }
  if (records != NULL)
    virDomainStatsRecordListFree (records);
  if (n < 0)
    {
      /* Drivers without bulk stats: one call per domain. */
      g_autoptr (GPtrArray) doms = list_all (conn, "", NULL);
      for (guint i = 0; doms != NULL && i < doms->len; i++)
        {
          StatsEntry e = { 0 };
          int state = -1;

          if (virDomainGetUUIDString (doms->pdata[i], e.uuid) < 0)
            continue;
          e.sample.valid = sample_from_info (doms->pdata[i], &e.sample, &state)
                           && counts_as_active (state);
          g_array_append_val (entries, e);
        }
      if (doms == NULL)
        {
          g_array_unref (entries);
          g_task_return_new_error (task, ORIEL_LIBVIRT_ERROR, 0, "no stats");
          return;
        }
    }
  g_task_return_pointer (task, entries, (GDestroyNotify) g_array_unref);
}

static void
stats_done (GObject *source, GAsyncResult *result, gpointer data)
{
  OrielConnection *self = ORIEL_CONNECTION (source);
  g_autoptr (GArray) entries = g_task_propagate_pointer (G_TASK (result), NULL);

  self->sampling = FALSE;
  if (entries == NULL || self->conn == NULL)
    return;
  for (guint i = 0; i < entries->len; i++)
    {
      StatsEntry *e = &g_array_index (entries, StatsEntry, i);
      OrielDomain *domain = g_hash_table_lookup (self->domains, e->uuid);

      if (domain == NULL)
        continue;
      if (e->sample.valid)
        oriel_domain_stats_add_sample (oriel_domain_stats_mut (domain), &e->sample);
      else
        oriel_domain_stats_add_idle (oriel_domain_stats_mut (domain));
      oriel_domain_stats_changed (domain);
    }
  g_signal_emit (self, signals[SIGNAL_STATS_UPDATED], 0);
}

void
oriel_connection_sample_stats (OrielConnection *self)
{
  GTask *task;

  /* On a slow connection a sample may take longer than the interval:
   * skip ticks rather than pile up requests. */
  if (self->conn == NULL || self->sampling)
    return;
  self->sampling = TRUE;
  task = g_task_new (self, NULL, stats_done, NULL);
  virConnectRef (self->conn);
  g_task_set_task_data (task, self->conn, conn_unref);
  g_task_run_in_thread (task, stats_thread);
  g_object_unref (task);
}
