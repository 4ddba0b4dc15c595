/* One libvirt connection: opening, lifecycle events and stats sampling.
 *
 * libvirt's default event loop runs in a thread of its own; callbacks from
 * it are forwarded to the GTK main context before any widget sees them. */
#include "connection.h"

#include <glib/gi18n.h>
#include <libvirt/virterror.h>

#define STATS_INTERVAL_MS 1000

struct _OrielConnection {
  GObject parent_instance;

  char *uri;
  virConnectPtr conn;
  char *error_text;
  int lifecycle_cb_id;
  GHashTable *stats;     /* uuid string -> OrielDomainStats* */
  guint stats_source;
  gboolean opening;
};

G_DEFINE_TYPE (OrielConnection, oriel_connection, G_TYPE_OBJECT)
G_DEFINE_QUARK (oriel-libvirt-error-quark, oriel_libvirt_error)

enum { SIGNAL_DOMAIN_EVENT, SIGNAL_STATS_UPDATED, SIGNAL_CLOSED, SIGNAL_OPENED, N_SIGNALS };
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

typedef struct {
  OrielConnection *self;
  char *uuid;
  int event;
  int detail;
} PendingEvent;

static gboolean
deliver_event (gpointer data)
{
  PendingEvent *ev = data;

  if (ev->self->conn != NULL)
    g_signal_emit (ev->self, signals[SIGNAL_DOMAIN_EVENT], 0,
                   ev->uuid, ev->event, ev->detail);
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
  g_hash_table_unref (self->stats);
  G_OBJECT_CLASS (oriel_connection_parent_class)->finalize (object);
}

static void
oriel_connection_class_init (OrielConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = oriel_connection_dispose;
  object_class->finalize = oriel_connection_finalize;

  /* (uuid, virDomainEventType, detail) */
  signals[SIGNAL_DOMAIN_EVENT] =
    g_signal_new ("domain-event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 3,
                  G_TYPE_STRING, G_TYPE_INT, G_TYPE_INT);
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
  self->stats = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
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

/* Runs on the main thread once virConnectOpen succeeded. */
static void
attach (OrielConnection *self, virConnectPtr conn)
{
  self->conn = conn;
  g_clear_pointer (&self->error_text, g_free);
  /* Remote connections notice a dead peer through keepalive; local
   * drivers do not support it, which is fine. */
  virConnectSetKeepAlive (conn, 5, 3);
  virConnectRegisterCloseCallback (conn, close_cb, g_object_ref (self), g_object_unref);
  self->lifecycle_cb_id =
    virConnectDomainEventRegisterAny (conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                      VIR_DOMAIN_EVENT_CALLBACK (lifecycle_cb),
                                      g_object_ref (self), g_object_unref);
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
conn_unref (gpointer conn)
{
  virConnectClose (conn);
}

static void
domain_unref (gpointer dom)
{
  virDomainFree (dom);
}

static void
open_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;
  virConnectPtr conn = open_uri (task_data, &error);

  if (conn == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, conn, conn_unref);
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
  virConnectPtr conn = g_task_propagate_pointer (G_TASK (result), &local);

  if (conn == NULL)
    {
      g_free (self->error_text);
      self->error_text = g_strdup (local->message);
      g_propagate_error (error, local);
      return FALSE;
    }
  attach (self, conn);
  return TRUE;
}

gboolean
oriel_connection_open_sync (OrielConnection *self, GError **error)
{
  GError *local = NULL;
  virConnectPtr conn;

  oriel_libvirt_events_init ();
  conn = open_uri (self->uri, &local);
  if (conn == NULL)
    {
      g_free (self->error_text);
      self->error_text = g_strdup (local->message);
      g_propagate_error (error, local);
      return FALSE;
    }
  attach (self, conn);
  return TRUE;
}

static void
open_done (GObject *source, GAsyncResult *result, gpointer data)
{
  OrielConnection *self = ORIEL_CONNECTION (source);

  self->opening = FALSE;
  oriel_connection_open_finish (self, result, NULL);
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

void
oriel_connection_close (OrielConnection *self)
{
  virConnectPtr conn = self->conn;

  if (conn == NULL)
    return;
  self->conn = NULL;
  g_clear_handle_id (&self->stats_source, g_source_remove);
  if (self->lifecycle_cb_id >= 0)
    virConnectDomainEventDeregisterAny (conn, self->lifecycle_cb_id);
  self->lifecycle_cb_id = -1;
  virConnectUnregisterCloseCallback (conn, close_cb);
  virConnectClose (conn);
}

GPtrArray *
oriel_connection_list_domains (OrielConnection *self, GError **error)
{
  virDomainPtr *doms = NULL;
  GPtrArray *result;
  int n;

  if (self->conn == NULL)
    {
      g_set_error (error, ORIEL_LIBVIRT_ERROR, 0, _("Not connected to %s"), self->uri);
      return NULL;
    }
  n = virConnectListAllDomains (self->conn, &doms, 0);
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

virDomainPtr
oriel_connection_lookup (OrielConnection *self, const char *uuid)
{
  if (self->conn == NULL || uuid == NULL)
    return NULL;
  return virDomainLookupByUUIDString (self->conn, uuid);
}

const OrielDomainStats *
oriel_connection_get_stats (OrielConnection *self, const char *uuid)
{
  return g_hash_table_lookup (self->stats, uuid);
}

static OrielDomainStats *
stats_for (OrielConnection *self, const char *uuid)
{
  OrielDomainStats *stats = g_hash_table_lookup (self->stats, uuid);

  if (stats == NULL)
    {
      stats = g_new (OrielDomainStats, 1);
      oriel_domain_stats_init (stats);
      g_hash_table_insert (self->stats, g_strdup (uuid), stats);
    }
  return stats;
}

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

void
oriel_connection_sample_stats (OrielConnection *self)
{
  virDomainStatsRecordPtr *records = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer key;
  int n;

  if (self->conn == NULL)
    return;
  /* One round trip for every domain, which matters on remote connections. */
  n = virConnectGetAllDomainStats (self->conn,
                                   VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL
                                   | VIR_DOMAIN_STATS_BALLOON | VIR_DOMAIN_STATS_VCPU,
                                   &records, 0);
  for (int i = 0; i < n; i++)
    {
      char uuid[VIR_UUID_STRING_BUFLEN];
      OrielStatsSample sample = { 0 };
      OrielDomainStats *stats;
      int state = -1;
      gboolean ok;

      if (virDomainGetUUIDString (records[i]->dom, uuid) < 0)
        continue;
      ok = sample_from_record (records[i], &sample, &state);
      if (!ok && (state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_PAUSED
                  || state == VIR_DOMAIN_BLOCKED || state < 0))
        ok = sample_from_info (records[i]->dom, &sample, &state);
      stats = stats_for (self, uuid);
      g_hash_table_lookup_extended (self->stats, uuid, &key, NULL);
      g_hash_table_add (seen, key);
      if (ok && (state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_PAUSED
                 || state == VIR_DOMAIN_BLOCKED))
        oriel_domain_stats_add_sample (stats, &sample);
      else
        oriel_domain_stats_add_idle (stats);
    }
  if (records != NULL)
    virDomainStatsRecordListFree (records);
  if (n < 0)
    {
      /* Drivers without bulk stats: one call per domain. */
      g_autoptr (GPtrArray) doms = oriel_connection_list_domains (self, NULL);
      for (guint i = 0; doms != NULL && i < doms->len; i++)
        {
          char uuid[VIR_UUID_STRING_BUFLEN];
          OrielStatsSample sample = { 0 };
          OrielDomainStats *stats;
          int state = -1;

          if (virDomainGetUUIDString (doms->pdata[i], uuid) < 0)
            continue;
          stats = stats_for (self, uuid);
          g_hash_table_lookup_extended (self->stats, uuid, &key, NULL);
          g_hash_table_add (seen, key);
          if (sample_from_info (doms->pdata[i], &sample, &state)
              && (state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_PAUSED
                  || state == VIR_DOMAIN_BLOCKED))
            oriel_domain_stats_add_sample (stats, &sample);
          else
            oriel_domain_stats_add_idle (stats);
        }
      if (doms == NULL)
        return;
    }
  /* Forget domains that are gone. */
  g_hash_table_iter_init (&iter, self->stats);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (seen, key))
      g_hash_table_iter_remove (&iter);
  g_signal_emit (self, signals[SIGNAL_STATS_UPDATED], 0);
}
