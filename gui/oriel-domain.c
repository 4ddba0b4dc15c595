/* One virtual machine of a connection, as the views see it.
 *
 * Everything here lives on the main thread; the libvirt calls that read
 * the state or the XML run in GTask worker threads, each holding a
 * reference to the OrielDomain (and so to its virDomainPtr). */
#include "oriel-domain.h"

#include <glib/gi18n.h>
#include <libvirt/virterror.h>

struct _OrielDomain {
  GObject parent_instance;

  virDomainPtr dom;
  char *name;
  char uuid[VIR_UUID_STRING_BUFLEN];
  int state;
  int reason;
  char *xml;
  char *busy;
  OrielDomainStats stats;
  gboolean fetching_xml;
  gboolean xml_stale;   /* changed while a fetch was under way */
  guint state_seq;      /* the newest state refresh wins */
  gboolean removed;
};

G_DEFINE_TYPE (OrielDomain, oriel_domain, G_TYPE_OBJECT)

enum { PROP_0, PROP_NAME, PROP_UUID, PROP_STATE, PROP_REASON, PROP_XML, PROP_BUSY, N_PROPS };
static GParamSpec *props[N_PROPS];

enum { SIGNAL_STATS_UPDATED, SIGNAL_REMOVED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
oriel_domain_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  OrielDomain *self = ORIEL_DOMAIN (object);

  switch (id)
    {
    case PROP_NAME: g_value_set_string (value, self->name); break;
    case PROP_UUID: g_value_set_string (value, self->uuid); break;
    case PROP_STATE: g_value_set_int (value, self->state); break;
    case PROP_REASON: g_value_set_int (value, self->reason); break;
    case PROP_XML: g_value_set_string (value, self->xml); break;
    case PROP_BUSY: g_value_set_string (value, self->busy); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
oriel_domain_finalize (GObject *object)
{
  OrielDomain *self = ORIEL_DOMAIN (object);

  virDomainFree (self->dom);
  g_free (self->name);
  g_free (self->xml);
  g_free (self->busy);
  G_OBJECT_CLASS (oriel_domain_parent_class)->finalize (object);
}

static void
oriel_domain_class_init (OrielDomainClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->get_property = oriel_domain_get_property;
  object_class->finalize = oriel_domain_finalize;
  props[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, ro);
  props[PROP_UUID] = g_param_spec_string ("uuid", NULL, NULL, NULL, ro);
  props[PROP_STATE] = g_param_spec_int ("state", NULL, NULL, -1, G_MAXINT, -1, ro);
  props[PROP_REASON] = g_param_spec_int ("reason", NULL, NULL, 0, G_MAXINT, 0, ro);
  props[PROP_XML] = g_param_spec_string ("xml", NULL, NULL, NULL, ro);
  props[PROP_BUSY] = g_param_spec_string ("busy", NULL, NULL, NULL, ro);
  g_object_class_install_properties (object_class, N_PROPS, props);

  signals[SIGNAL_STATS_UPDATED] =
    g_signal_new ("stats-updated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* The domain was undefined; views showing it close or drop it. */
  signals[SIGNAL_REMOVED] =
    g_signal_new ("removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
oriel_domain_init (OrielDomain *self)
{
  self->state = -1;
  oriel_domain_stats_init (&self->stats);
}

OrielDomain *
oriel_domain_new (virDomainPtr dom, const char *name, int state, int reason)
{
  OrielDomain *self = g_object_new (ORIEL_TYPE_DOMAIN, NULL);

  virDomainRef (dom);
  self->dom = dom;
  self->name = g_strdup (name);
  self->state = state;
  self->reason = reason;
  /* Kept by the virDomain object itself: no round trip. */
  virDomainGetUUIDString (dom, self->uuid);
  return self;
}

virDomainPtr oriel_domain_get_virdomain (OrielDomain *self) { return self->dom; }
const char *oriel_domain_get_name (OrielDomain *self) { return self->name; }
const char *oriel_domain_get_uuid (OrielDomain *self) { return self->uuid; }
int oriel_domain_get_state (OrielDomain *self) { return self->state; }
int oriel_domain_get_reason (OrielDomain *self) { return self->reason; }
const char *oriel_domain_get_xml (OrielDomain *self) { return self->xml; }
const char *oriel_domain_get_busy (OrielDomain *self) { return self->busy; }
const OrielDomainStats *oriel_domain_get_stats (OrielDomain *self) { return &self->stats; }
OrielDomainStats *oriel_domain_stats_mut (OrielDomain *self) { return &self->stats; }
gboolean oriel_domain_is_removed (OrielDomain *self) { return self->removed; }

void
oriel_domain_stats_changed (OrielDomain *self)
{
  g_signal_emit (self, signals[SIGNAL_STATS_UPDATED], 0);
}

void
oriel_domain_update (OrielDomain *self, const char *name, int state, int reason)
{
  g_object_freeze_notify (G_OBJECT (self));
  if (name != NULL && g_strcmp0 (name, self->name) != 0)
    {
      g_free (self->name);
      self->name = g_strdup (name);
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_NAME]);
    }
  if (reason != self->reason)
    {
      self->reason = reason;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_REASON]);
    }
  if (state != self->state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

void
oriel_domain_set_busy (OrielDomain *self, const char *label)
{
  if (g_strcmp0 (label, self->busy) == 0)
    return;
  g_free (self->busy);
  self->busy = g_strdup (label);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_BUSY]);
}

void
oriel_domain_mark_removed (OrielDomain *self)
{
  if (self->removed)
    return;
  self->removed = TRUE;
  g_signal_emit (self, signals[SIGNAL_REMOVED], 0);
}

/* ---- XML ---- */

static void
xml_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  char *xml = virDomainGetXMLDesc (ORIEL_DOMAIN (source)->dom, 0);

  if (xml == NULL)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", virGetLastErrorMessage ());
  else
    g_task_return_pointer (task, xml, free);
}

static void
xml_done (GObject *source, GAsyncResult *result, gpointer data)
{
  OrielDomain *self = ORIEL_DOMAIN (source);
  char *xml = g_task_propagate_pointer (G_TASK (result), NULL);

  self->fetching_xml = FALSE;
  /* A failed read (the domain went away) keeps the last XML. */
  if (xml != NULL)
    {
      g_free (self->xml);
      self->xml = g_strdup (xml);
      free (xml);
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_XML]);
    }
  if (self->xml_stale)
    oriel_domain_fetch_xml (self);
}

void
oriel_domain_fetch_xml (OrielDomain *self)
{
  GTask *task;

  if (self->removed)
    return;
  if (self->fetching_xml)
    {
      self->xml_stale = TRUE;
      return;
    }
  self->fetching_xml = TRUE;
  self->xml_stale = FALSE;
  task = g_task_new (self, NULL, xml_done, NULL);
  g_task_run_in_thread (task, xml_thread);
  g_object_unref (task);
}

/* ---- state ---- */

typedef struct {
  guint seq;
  int state;
  int reason;
} StateResult;

static void
state_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  StateResult *res = task_data;

  if (virDomainGetState (ORIEL_DOMAIN (source)->dom, &res->state, &res->reason, 0) < 0)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", virGetLastErrorMessage ());
  else
    g_task_return_boolean (task, TRUE);
}

static void
state_done (GObject *source, GAsyncResult *result, gpointer data)
{
  OrielDomain *self = ORIEL_DOMAIN (source);
  StateResult *res = g_task_get_task_data (G_TASK (result));

  if (g_task_propagate_boolean (G_TASK (result), NULL) && res->seq == self->state_seq)
    oriel_domain_update (self, NULL, res->state, res->reason);
}

void
oriel_domain_refresh_state (OrielDomain *self)
{
  GTask *task;
  StateResult *res;

  if (self->removed)
    return;
  res = g_new0 (StateResult, 1);
  res->seq = ++self->state_seq;
  task = g_task_new (self, NULL, state_done, NULL);
  g_task_set_task_data (task, res, g_free);
  g_task_run_in_thread (task, state_thread);
  g_object_unref (task);
}
