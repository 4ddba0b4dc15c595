/* One libvirt connection: opening, lifecycle events and stats sampling. */
#pragma once

#include <gio/gio.h>
#include <libvirt/libvirt.h>
#include "oriel-domain.h"
#include "vm-stats.h"

G_BEGIN_DECLS

#define ORIEL_TYPE_CONNECTION (oriel_connection_get_type ())
G_DECLARE_FINAL_TYPE (OrielConnection, oriel_connection, ORIEL, CONNECTION, GObject)

#define ORIEL_LIBVIRT_ERROR (oriel_libvirt_error_quark ())
GQuark oriel_libvirt_error_quark (void);

/* Sets error to "<what>: <libvirt's last error>". */
void oriel_set_libvirt_error (GError **error, const char *what);

/* Starts libvirt's event loop in its own thread; safe to call repeatedly. */
void oriel_libvirt_events_init (void);

OrielConnection *oriel_connection_new (const char *uri);
const char *oriel_connection_get_uri (OrielConnection *self);
gboolean oriel_connection_is_open (OrielConnection *self);
/* NULL until the connection is open; owned by the connection. */
virConnectPtr oriel_connection_get_virconn (OrielConnection *self);
/* Last error text if the open failed, else NULL. */
const char *oriel_connection_get_error (OrielConnection *self);

/* Opens in a worker thread (remote URIs may take seconds), reading the
 * domain list there too. */
void oriel_connection_open_async (OrielConnection *self, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data);
gboolean oriel_connection_open_finish (OrielConnection *self, GAsyncResult *result,
                                       GError **error);
/* Starts opening in the background; "opened" is emitted when done. */
void oriel_connection_open (OrielConnection *self);
gboolean oriel_connection_is_opening (OrielConnection *self);
void oriel_connection_close (OrielConnection *self);

/* The domain model: the connection receives libvirt's lifecycle events
 * and keeps one OrielDomain per domain up to date ("domain-added",
 * "domain-removed", and each domain's notify signals). */
/* OrielDomain*, owned by the connection; empty while not connected. */
GPtrArray *oriel_connection_get_domains (OrielConnection *self);
/* Owned by the connection, or NULL. */
OrielDomain *oriel_connection_get_domain (OrielConnection *self, const char *uuid);
/* Owned by the connection, or NULL. */
OrielDomain *oriel_connection_find_domain_by_name (OrielConnection *self, const char *name);
/* Adds a domain the caller just read (a definition that may be faster
 * than its event), or updates it; returns the connection's object. */
OrielDomain *oriel_connection_track_domain (OrielConnection *self, virDomainPtr dom,
                                            const char *name, int state, int reason);

/* Starts one sample of every running domain in a worker (also done every
 * second); "stats-updated" follows. */
void oriel_connection_sample_stats (OrielConnection *self);

G_END_DECLS
