/* One virtual machine of a connection, as the views see it: name, uuid,
 * state, statistics and XML, kept up to date by its OrielConnection. */
#pragma once

#include <gio/gio.h>
#include <libvirt/libvirt.h>
#include "vm-stats.h"

G_BEGIN_DECLS

#define ORIEL_TYPE_DOMAIN (oriel_domain_get_type ())
G_DECLARE_FINAL_TYPE (OrielDomain, oriel_domain, ORIEL, DOMAIN, GObject)

/* Takes a new reference on dom; name and state were read by the caller
 * (off the main thread). */
OrielDomain *oriel_domain_new (virDomainPtr dom, const char *name, int state, int reason);

/* Owned by the domain; thread-safe to use from a worker while a
 * reference to the OrielDomain is held. */
virDomainPtr oriel_domain_get_virdomain (OrielDomain *self);
const char *oriel_domain_get_name (OrielDomain *self);
const char *oriel_domain_get_uuid (OrielDomain *self);
/* virDomainState, -1 when unknown; reason is the matching virDomain*Reason. */
int oriel_domain_get_state (OrielDomain *self);
int oriel_domain_get_reason (OrielDomain *self);
/* The live domain XML; NULL until oriel_domain_fetch_xml() delivered it
 * ("notify::xml"). */
const char *oriel_domain_get_xml (OrielDomain *self);
/* What is being done to the domain right now ("Starting…"), or NULL. */
const char *oriel_domain_get_busy (OrielDomain *self);
const OrielDomainStats *oriel_domain_get_stats (OrielDomain *self);
/* TRUE once the domain was undefined; the connection no longer has it. */
gboolean oriel_domain_is_removed (OrielDomain *self);

/* Fetches the XML in a worker thread; asked again while one is under way,
 * it fetches once more after it. */
void oriel_domain_fetch_xml (OrielDomain *self);
/* Reads state and reason again in a worker thread. */
void oriel_domain_refresh_state (OrielDomain *self);

/* For the connection and the actions (main thread only). */
void oriel_domain_update (OrielDomain *self, const char *name, int state, int reason);
void oriel_domain_set_busy (OrielDomain *self, const char *label);
OrielDomainStats *oriel_domain_stats_mut (OrielDomain *self);
void oriel_domain_stats_changed (OrielDomain *self);
void oriel_domain_mark_removed (OrielDomain *self);

G_END_DECLS
