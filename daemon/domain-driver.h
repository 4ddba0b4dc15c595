/* Domains: the registry of defined and running domains, their persistent
 * configuration, lifecycle operations driving one oriel-vmm per running
 * domain, and lifecycle events. */
#pragma once

#include "daemon.h"
#include "disk-lock.h"
#include "domain-def.h"
#include "virt-api.h"

typedef struct VmmProcess VmmProcess;

struct DomainObj {
  Daemon *daemon;
  DomainDef *def;        /* persistent (or transient) configuration */
  DomainDef *live;       /* while active: what the VMM really runs */
  gboolean persistent;
  gboolean autostart;
  int id;                /* -1 when inactive */
  DomainState state;
  int reason;
  VmmProcess *vmm;
  gboolean starting;
  gboolean stop_requested;  /* destroy: exit is expected */
  gboolean shutdown_requested;
  gboolean guest_shutdown;  /* VMM reported a guest power-off */
  gboolean save_requested;  /* its state is saved: the coming exit is "saved" */
  gboolean saving;          /* a save is under way */
  GList *waiters;            /* RpcCall* waiting for this domain to stop */
  GPid swtpm;                /* while running with a TPM */
  OrielDiskLock *dualboot_lock; /* while running on a dual-boot disk (the VMM holds a copy) */
};

void domain_driver_init (Daemon *d);
/* Load persistent domains, re-adopt running VMMs, start autostart ones. */
void domain_driver_load (Daemon *d);
void domain_driver_shutdown (Daemon *d);

DomainObj *domain_lookup_name (Daemon *d, const char *name);
DomainObj *domain_lookup_uuid (Daemon *d, const guint8 *uuid);
DomainObj *domain_lookup_id (Daemon *d, int id);
/* Sorted by name. */
GPtrArray *domain_list (Daemon *d);
gboolean domain_matches_filter (DomainObj *dom, guint flags);
gboolean domain_is_active (DomainObj *dom);
/* CPU time the domain's VMM has used (user + system), 0 when not running. */
guint64 domain_cpu_time_ns (DomainObj *dom);

DomainObj *domain_define (Daemon *d, const char *xml, GError **error);
/* flags: UNDEFINE_NVRAM / UNDEFINE_KEEP_NVRAM (a domain whose NVRAM file
 * exists needs one of them), UNDEFINE_TPM / UNDEFINE_KEEP_TPM (see
 * domain_undefine).  domain_undefine_check refuses what domain_undefine
 * would, before anything is removed. */
gboolean domain_undefine_check (DomainObj *dom, guint flags, GError **error);
gboolean domain_undefine (DomainObj *dom, guint flags, GError **error);
char *domain_tpm_state_dir (DomainObj *dom);
gboolean domain_set_autostart (DomainObj *dom, gboolean autostart, GError **error);

typedef void (*DomainDoneFn) (DomainObj *dom, const GError *error, gpointer data);
/* Asynchronous: done runs when the VMM is up (or failed). */
void domain_start (DomainObj *dom, guint flags, DomainDoneFn done, gpointer data);
/* Start dom's VMM continuing the VM saved in image, with the configuration
 * it was saved with (live, taken; NULL: dom->def).  remove_image: a managed
 * save image, deleted once the VM runs again. */
void domain_start_restore (DomainObj *dom, DomainDef *live, const char *image, gboolean paused,
                           gboolean remove_image, DomainDoneFn done, gpointer data);
/* The inactive domain of def's name and uuid, or a new transient one with
 * a copy of def (for create and restore).  NULL with error when the name
 * or uuid belongs to another domain or the domain runs. */
DomainObj *domain_obj_for_def (Daemon *d, const DomainDef *def, GError **error);
/* Create a transient domain and start it. */
DomainObj *domain_create_transient (Daemon *d, const char *xml, guint flags,
                                    DomainDoneFn done, gpointer data, GError **error);
/* Asynchronous: done runs once the VMM has exited. */
void domain_destroy (DomainObj *dom, DomainDoneFn done, gpointer data);
gboolean domain_shutdown (DomainObj *dom, GError **error);
gboolean domain_reboot (DomainObj *dom, GError **error);
gboolean domain_reset (DomainObj *dom, GError **error);
void domain_suspend (DomainObj *dom, DomainDoneFn done, gpointer data);
void domain_resume (DomainObj *dom, DomainDoneFn done, gpointer data);

/* Write dom->def to the configuration directory. */
gboolean domain_save_config (DomainObj *dom, GError **error);
/* Record dom->live in the run directory (what a restarted daemon adopts). */
void domain_save_live_state (DomainObj *dom);
/* The file behind a disk: its source, or the pool's file of a <disk
 * type='volume'>. */
char *domain_disk_path (Daemon *d, const DomainDisk *disk, GError **error);

/* The XML a client sees: live when active unless inactive is asked for. */
char *domain_get_xml (DomainObj *dom, gboolean inactive);

/* Events, typed: listeners (the RPC procedure layer) turn them into
 * whatever their clients speak. */
typedef enum {
  DOMAIN_EVENT_LIFECYCLE,   /* virDomainEventType + detail */
  DOMAIN_EVENT_REBOOT,      /* the guest reset itself; no fields */
} DomainEventType;

typedef struct {
  DomainEventType type;
  DomainObj *dom;
  union {
    struct {
      int event;    /* EVENT_* */
      int detail;   /* the event's *_DETAIL value */
    } lifecycle;
  };
} DomainEvent;

typedef void (*DomainEventFn) (const DomainEvent *ev, gpointer user);
/* fn sees every domain event from now until domain_driver_shutdown. */
void domain_events_listen (Daemon *d, DomainEventFn fn, gpointer user);
void domain_emit_lifecycle (DomainObj *dom, int event, int detail);

/* Errors for lookups. */
void domain_set_not_found (GError **error, const char *how, const char *what);
