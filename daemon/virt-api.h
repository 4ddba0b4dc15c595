/* Values of libvirt's public API that the domain driver and the procedures
 * share: domain states and reasons, lifecycle events, event ids and the
 * flags of the calls Oriel serves. */
#pragma once

/* virDomainState */
typedef enum {
  DOMAIN_STATE_NOSTATE = 0,
  DOMAIN_STATE_RUNNING = 1,
  DOMAIN_STATE_BLOCKED = 2,
  DOMAIN_STATE_PAUSED = 3,
  DOMAIN_STATE_SHUTDOWN = 4,
  DOMAIN_STATE_SHUTOFF = 5,
  DOMAIN_STATE_CRASHED = 6,
} DomainState;

/* reasons: running */
enum { RUNNING_BOOTED = 1, RUNNING_RESTORED = 3, RUNNING_UNPAUSED = 5 };
/* reasons: paused */
enum { PAUSED_USER = 1 };
/* reasons: shut off */
enum {
  SHUTOFF_UNKNOWN = 0, SHUTOFF_SHUTDOWN = 1, SHUTOFF_DESTROYED = 2,
  SHUTOFF_CRASHED = 3, SHUTOFF_SAVED = 5, SHUTOFF_FAILED = 6, SHUTOFF_DAEMON = 8,
};

/* lifecycle events and details */
enum {
  EVENT_DEFINED = 0, EVENT_UNDEFINED = 1, EVENT_STARTED = 2,
  EVENT_SUSPENDED = 3, EVENT_RESUMED = 4, EVENT_STOPPED = 5,
  EVENT_SHUTDOWN = 6,
};
enum { DEFINED_ADDED = 0, DEFINED_UPDATED = 1 };
enum { UNDEFINED_REMOVED = 0 };
enum { STARTED_BOOTED = 0, STARTED_RESTORED = 2 };
enum { SUSPENDED_PAUSED = 0, SUSPENDED_RESTORED = 4 };
enum { RESUMED_UNPAUSED = 0 };
enum {
  STOPPED_SHUTDOWN = 0, STOPPED_DESTROYED = 1, STOPPED_CRASHED = 2,
  STOPPED_SAVED = 4, STOPPED_FAILED = 5,
};
enum { SHUTDOWN_FINISHED = 0, SHUTDOWN_GUEST = 1 };

/* domain event ids */
enum { DOMAIN_EVENT_ID_LIFECYCLE = 0, DOMAIN_EVENT_ID_REBOOT = 1 };

/* virConnectListAllDomains filter flags */
enum {
  LIST_DOMAINS_ACTIVE = 1 << 0,
  LIST_DOMAINS_INACTIVE = 1 << 1,
  LIST_DOMAINS_PERSISTENT = 1 << 2,
  LIST_DOMAINS_TRANSIENT = 1 << 3,
  LIST_DOMAINS_RUNNING = 1 << 4,
  LIST_DOMAINS_PAUSED = 1 << 5,
  LIST_DOMAINS_SHUTOFF = 1 << 6,
  LIST_DOMAINS_OTHER = 1 << 7,
  LIST_DOMAINS_MANAGEDSAVE = 1 << 8,
  LIST_DOMAINS_NO_MANAGEDSAVE = 1 << 9,
  LIST_DOMAINS_AUTOSTART = 1 << 10,
  LIST_DOMAINS_NO_AUTOSTART = 1 << 11,
  LIST_DOMAINS_HAS_SNAPSHOT = 1 << 12,
  LIST_DOMAINS_NO_SNAPSHOT = 1 << 13,
  LIST_DOMAINS_HAS_CHECKPOINT = 1 << 14,
  LIST_DOMAINS_NO_CHECKPOINT = 1 << 15,
};

/* virDomainGetXMLDesc flags */
enum { DOMAIN_XML_SECURE = 1, DOMAIN_XML_INACTIVE = 2 };

/* virDomainUndefineFlags values oriel can honour trivially */
enum {
  UNDEFINE_MANAGED_SAVE = 1, UNDEFINE_SNAPSHOTS_METADATA = 2,
  UNDEFINE_NVRAM = 4, UNDEFINE_KEEP_NVRAM = 8,
  UNDEFINE_CHECKPOINTS_METADATA = 16, UNDEFINE_TPM = 32, UNDEFINE_KEEP_TPM = 64,
};

/* virDomainCreateFlags */
enum { CREATE_PAUSED = 1, CREATE_AUTODESTROY = 2, CREATE_FORCE_BOOT = 8 };

/* virDomainSaveRestoreFlags */
enum { SAVE_BYPASS_CACHE = 1, SAVE_RUNNING = 2, SAVE_PAUSED = 4 };

