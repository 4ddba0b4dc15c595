#include "domain-driver.h"
#include "domain-snapshot.h"
#include "domain-save.h"
#include "dualboot-domain.h"
#include "firmware.h"
#include "virt-error.h"
#include "swtpm-process.h"
#include "tap-device.h"
#include "vmm-config.h"
#include "vmm-process.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* How long destroy waits for `quit` before SIGKILL. */
#define DESTROY_GRACE_MS 5000

typedef struct {
  DomainDoneFn done;
  gpointer data;
} Waiter;

static const VmmCallbacks vmm_callbacks;

void
domain_set_not_found (GError **error, const char *how, const char *what)
{
  g_set_error (error, VIRT_ERROR, VIR_ERR_NO_DOMAIN,
               _("Domain not found: no domain with matching %s '%s'"), how, what);
}

static void
domain_obj_free (DomainObj *dom)
{
  domain_def_free (dom->def);
  domain_def_free (dom->live);
  /* The daemon goes, the VM stays: its VMM keeps the disk's lock. */
  oriel_disk_lock_close (dom->dualboot_lock);
  if (dom->vmm)
    vmm_process_free (dom->vmm);
  g_list_free_full (dom->waiters, g_free);
  g_free (dom);
}

void
domain_driver_init (Daemon *d)
{
  d->domains = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) domain_obj_free);
  d->next_id = 1;
}

void
domain_driver_shutdown (Daemon *d)
{
  /* Running VMMs keep running; the next daemon re-adopts them. */
  g_clear_pointer (&d->domains, g_hash_table_unref);
  g_list_free_full (g_steal_pointer (&d->event_listeners), g_free);
}

DomainObj *
domain_lookup_name (Daemon *d, const char *name)
{
  return g_hash_table_lookup (d->domains, name);
}

DomainObj *
domain_lookup_uuid (Daemon *d, const guint8 *uuid)
{
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init (&it, d->domains);
  while (g_hash_table_iter_next (&it, NULL, &v))
    if (memcmp (((DomainObj *) v)->def->uuid, uuid, 16) == 0)
      return v;
  return NULL;
}

DomainObj *
domain_lookup_id (Daemon *d, int id)
{
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init (&it, d->domains);
  while (g_hash_table_iter_next (&it, NULL, &v))
    if (((DomainObj *) v)->id == id && id >= 0)
      return v;
  return NULL;
}

static int
by_name (gconstpointer a, gconstpointer b)
{
  const DomainObj *x = *(DomainObj **) a, *y = *(DomainObj **) b;
  return strcmp (x->def->name, y->def->name);
}

GPtrArray *
domain_list (Daemon *d)
{
  GPtrArray *arr = g_ptr_array_new ();
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init (&it, d->domains);
  while (g_hash_table_iter_next (&it, NULL, &v))
    g_ptr_array_add (arr, v);
  g_ptr_array_sort (arr, by_name);
  return arr;
}

gboolean
domain_is_active (DomainObj *dom)
{
  return dom->id >= 0;
}

guint64
domain_cpu_time_ns (DomainObj *dom)
{
  if (!dom->vmm)
    return 0;
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) vmm_process_pid (dom->vmm));
  g_autofree char *stat = NULL;
  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return 0;
  /* Fields after the parenthesised command name: utime is 14th, stime 15th. */
  const char *p = strrchr (stat, ')');
  if (!p)
    return 0;
  g_auto (GStrv) f = g_strsplit (p + 2, " ", 0);
  if (g_strv_length (f) < 13)
    return 0;
  guint64 ticks = g_ascii_strtoull (f[11], NULL, 10) + g_ascii_strtoull (f[12], NULL, 10);
  return ticks * (1000000000ull / sysconf (_SC_CLK_TCK));
}

gboolean
domain_matches_filter (DomainObj *dom, guint flags)
{
  gboolean active = domain_is_active (dom);
  if ((flags & (LIST_DOMAINS_ACTIVE | LIST_DOMAINS_INACTIVE))
      && !((flags & LIST_DOMAINS_ACTIVE && active) || (flags & LIST_DOMAINS_INACTIVE && !active)))
    return FALSE;
  if ((flags & (LIST_DOMAINS_PERSISTENT | LIST_DOMAINS_TRANSIENT))
      && !((flags & LIST_DOMAINS_PERSISTENT && dom->persistent)
           || (flags & LIST_DOMAINS_TRANSIENT && !dom->persistent)))
    return FALSE;
  if (flags & (LIST_DOMAINS_RUNNING | LIST_DOMAINS_PAUSED | LIST_DOMAINS_SHUTOFF | LIST_DOMAINS_OTHER))
    {
      gboolean running = dom->state == DOMAIN_STATE_RUNNING;
      gboolean paused = dom->state == DOMAIN_STATE_PAUSED;
      gboolean shutoff = dom->state == DOMAIN_STATE_SHUTOFF;
      gboolean other = !running && !paused && !shutoff;
      if (!((flags & LIST_DOMAINS_RUNNING && running) || (flags & LIST_DOMAINS_PAUSED && paused)
            || (flags & LIST_DOMAINS_SHUTOFF && shutoff) || (flags & LIST_DOMAINS_OTHER && other)))
        return FALSE;
    }
  if (flags & (LIST_DOMAINS_MANAGEDSAVE | LIST_DOMAINS_NO_MANAGEDSAVE))
    {
      gboolean saved = domain_has_managed_save (dom);
      if (!((flags & LIST_DOMAINS_MANAGEDSAVE && saved) || (flags & LIST_DOMAINS_NO_MANAGEDSAVE && !saved)))
        return FALSE;
    }
  /* Oriel keeps no checkpoints. */
  if ((flags & (LIST_DOMAINS_AUTOSTART | LIST_DOMAINS_NO_AUTOSTART))
      && !((flags & LIST_DOMAINS_AUTOSTART && dom->autostart)
           || (flags & LIST_DOMAINS_NO_AUTOSTART && !dom->autostart)))
    return FALSE;
  if (flags & (LIST_DOMAINS_HAS_SNAPSHOT | LIST_DOMAINS_NO_SNAPSHOT))
    {
      gboolean has = domain_snapshot_count (dom->daemon, dom->def->name) > 0;
      if (!((flags & LIST_DOMAINS_HAS_SNAPSHOT && has) || (flags & LIST_DOMAINS_NO_SNAPSHOT && !has)))
        return FALSE;
    }
  if ((flags & (LIST_DOMAINS_HAS_CHECKPOINT | LIST_DOMAINS_NO_CHECKPOINT))
      && !(flags & LIST_DOMAINS_NO_CHECKPOINT))
    return FALSE;
  return TRUE;
}

/* ---------------------------------------------------------------- */
/* events */

typedef struct {
  DomainEventFn fn;
  gpointer user;
} EventListener;

void
domain_events_listen (Daemon *d, DomainEventFn fn, gpointer user)
{
  EventListener *l = g_new (EventListener, 1);
  l->fn = fn;
  l->user = user;
  d->event_listeners = g_list_append (d->event_listeners, l);
}

static void
emit (const DomainEvent *ev)
{
  for (GList *l = ev->dom->daemon->event_listeners; l; l = l->next)
    {
      EventListener *el = l->data;
      el->fn (ev, el->user);
    }
}

void
domain_emit_lifecycle (DomainObj *dom, int event, int detail)
{
  DomainEvent ev = { .type = DOMAIN_EVENT_LIFECYCLE, .dom = dom,
                     .lifecycle = { .event = event, .detail = detail } };
  g_debug ("domain %s: lifecycle event %d detail %d", dom->def->name, event, detail);
  emit (&ev);
}

/* ---------------------------------------------------------------- */
/* persistence */

static char *
config_path (Daemon *d, const char *name)
{
  g_autofree char *file = g_strconcat (name, ".xml", NULL);
  return g_build_filename (d->paths.config_dir, file, NULL);
}

static char *
autostart_path (Daemon *d, const char *name)
{
  return g_build_filename (d->paths.config_dir, "autostart", name, NULL);
}

static char *
run_dir (DomainObj *dom)
{
  char uuid[37];
  domain_uuid_format (dom->def->uuid, uuid);
  return g_build_filename (dom->daemon->paths.state_dir, uuid, NULL);
}

static char *
run_file (DomainObj *dom, const char *name)
{
  g_autofree char *dir = run_dir (dom);
  return g_build_filename (dir, name, NULL);
}

gboolean
domain_save_config (DomainObj *dom, GError **error)
{
  g_autofree char *path = config_path (dom->daemon, dom->def->name);
  g_autofree char *xml = domain_def_format (dom->def, DOMAIN_FORMAT_INACTIVE, -1);
  if (g_mkdir_with_parents (dom->daemon->paths.config_dir, 0755) < 0)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot create %s: %s"),
                   dom->daemon->paths.config_dir, g_strerror (errno));
      return FALSE;
    }
  /* g_file_set_contents writes a temporary file and renames it. */
  g_autoptr (GError) e = NULL;
  if (!g_file_set_contents_full (path, xml, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &e))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot save domain configuration: %s"),
                   e->message);
      return FALSE;
    }
  return TRUE;
}

void
domain_save_live_state (DomainObj *dom)
{
  g_autofree char *xml = domain_def_format (dom->live, DOMAIN_FORMAT_LIVE, dom->id);
  g_autofree char *live = run_file (dom, "live.xml");
  g_autofree char *pid = run_file (dom, "pid");
  g_autofree char *pidtext = g_strdup_printf ("%d\n", (int) vmm_process_pid (dom->vmm));
  g_autoptr (GError) e = NULL;
  if (!g_file_set_contents_full (live, xml, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &e)
      || !g_file_set_contents_full (pid, pidtext, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &e))
    g_warning ("domain %s: cannot record runtime state: %s", dom->def->name, e->message);
}

static void
remove_run_dir (DomainObj *dom)
{
  g_autofree char *dir = run_dir (dom);
  const char *files[] = { "live.xml", "pid", "vmm.conf", "ctl", "vmm.log" };
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *p = g_build_filename (dir, files[i], NULL);
      g_unlink (p);
    }
  g_rmdir (dir);
}

/* ---------------------------------------------------------------- */
/* state changes */

static void
set_state (DomainObj *dom, DomainState state, int reason)
{
  dom->state = state;
  dom->reason = reason;
}

static void
finish_waiters (DomainObj *dom, const GError *error)
{
  GList *waiters = dom->waiters;
  dom->waiters = NULL;
  for (GList *l = waiters; l; l = l->next)
    {
      Waiter *w = l->data;
      w->done (dom, error, w->data);
      g_free (w);
    }
  g_list_free (waiters);
}

/* Where the domain's TPM keeps its state between runs. */
char *
domain_tpm_state_dir (DomainObj *dom)
{
  char uuid[37];
  domain_uuid_format (dom->def->uuid, uuid);
  return g_build_filename (dom->daemon->paths.tpm_dir, uuid, "tpm2", NULL);
}

/* Give back what a run of the domain held outside its VMM: the tap
 * devices of bridge NICs and the TPM's swtpm.  Before dom->live goes. */
static void
release_live_resources (DomainObj *dom)
{
  if (dom->swtpm)
    {
      /* Normally gone already: it ends when the VMM closes its socket. */
      swtpm_process_stop (dom->swtpm);
      dom->swtpm = 0;
    }
  /* The VMM's copy went with it; a re-adopted VMM's lock goes the same
   * way, without the daemon holding one. */
  g_clear_pointer (&dom->dualboot_lock, oriel_disk_lock_release);
  if (!dom->live)
    return;
  for (guint i = 0; i < dom->live->nics->len; i++)
    {
      DomainNic *n = dom->live->nics->pdata[i];
      if (n->live_target)
        {
          tap_device_delete (n->live_target);
          g_clear_pointer (&n->live_target, g_free);
        }
    }
}

/* Make a tap device on its bridge for every bridge NIC of dom->live, and
 * start the TPM's swtpm. */
static gboolean
acquire_live_resources (DomainObj *dom, GError **error)
{
  if (!firmware_nvram_prepare (dom->live, dom->daemon->paths.nvram_dir, error))
    return FALSE;
  /* The dual-boot safety checks run at every start, before anything else
   * is set up for the VM. */
  if (!dualboot_domain_prepare_start (dom->daemon, dom->live, &dom->dualboot_lock, error))
    return FALSE;
  for (guint i = 0; i < dom->live->disks->len; i++)
    {
      DomainDisk *disk = dom->live->disks->pdata[i];
      if (!disk->source_volume)
        continue;
      g_free (disk->source);
      disk->source = domain_disk_path (dom->daemon, disk, error);
      if (!disk->source)
        return FALSE;
    }
  if (dom->live->has_tpm)
    {
      g_autofree char *state = domain_tpm_state_dir (dom);
      g_autofree char *dir = run_dir (dom);
      g_autofree char *log = run_file (dom, "swtpm.log");
      g_free (dom->live->live_tpm_socket);
      dom->live->live_tpm_socket = run_file (dom, "swtpm.sock");
      if (g_mkdir_with_parents (dir, 0700) < 0)
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot create %s: %s"), dir,
                       g_strerror (errno));
          return FALSE;
        }
      dom->swtpm = swtpm_process_start (state, dom->live->live_tpm_socket, log, error);
      if (!dom->swtpm)
        return FALSE;
    }
  for (guint i = 0; i < dom->live->nics->len; i++)
    {
      DomainNic *n = dom->live->nics->pdata[i];
      if (!g_str_equal (n->type, "bridge"))
        continue;
      n->live_target = tap_device_create (n->source, error);
      if (!n->live_target)
        return FALSE;
    }
  return TRUE;
}

static void
became_inactive (DomainObj *dom, int reason, int event_detail)
{
  Daemon *d = dom->daemon;
  if (dom->vmm)
    {
      vmm_process_free (dom->vmm);
      dom->vmm = NULL;
    }
  set_state (dom, DOMAIN_STATE_SHUTOFF, reason);
  domain_emit_lifecycle (dom, EVENT_STOPPED, event_detail);
  remove_run_dir (dom);
  dom->id = -1;
  release_live_resources (dom);
  g_clear_pointer (&dom->live, domain_def_free);
  dom->stop_requested = dom->shutdown_requested = dom->guest_shutdown = FALSE;
  dom->save_requested = FALSE;
  finish_waiters (dom, NULL);
  if (!dom->persistent)
    g_hash_table_remove (d->domains, dom->def->name);
}

static void
vmm_exited (VmmProcess *vmm, int status, gpointer user)
{
  DomainObj *dom = user;
  if (dom->starting)
    {
      /* A start that failed after the process came up; cleaned by start. */
      return;
    }
  gboolean clean = status == -1 ? (dom->guest_shutdown || dom->shutdown_requested)
                                : (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  if (dom->save_requested)
    became_inactive (dom, SHUTOFF_SAVED, STOPPED_SAVED);
  else if (dom->stop_requested)
    became_inactive (dom, SHUTOFF_DESTROYED, STOPPED_DESTROYED);
  else if (clean && (dom->guest_shutdown || dom->shutdown_requested || status != -1))
    {
      domain_emit_lifecycle (dom, EVENT_SHUTDOWN, SHUTDOWN_FINISHED);
      became_inactive (dom, SHUTOFF_SHUTDOWN, STOPPED_SHUTDOWN);
    }
  else
    {
      if (status != -1)
        g_message ("domain %s: oriel-vmm %d died unexpectedly (wait status 0x%x)",
                   dom->def->name, (int) vmm_process_pid (vmm), status);
      else
        g_message ("domain %s: oriel-vmm %d died unexpectedly", dom->def->name, (int) vmm_process_pid (vmm));
      became_inactive (dom, SHUTOFF_CRASHED, STOPPED_CRASHED);
    }
}

static void
note_paused (DomainObj *dom, gboolean paused)
{
  if (!domain_is_active (dom))
    return;
  if (paused && dom->state != DOMAIN_STATE_PAUSED)
    {
      set_state (dom, DOMAIN_STATE_PAUSED, PAUSED_USER);
      domain_emit_lifecycle (dom, EVENT_SUSPENDED, SUSPENDED_PAUSED);
    }
  else if (!paused && dom->state == DOMAIN_STATE_PAUSED)
    {
      set_state (dom, DOMAIN_STATE_RUNNING, RUNNING_UNPAUSED);
      domain_emit_lifecycle (dom, EVENT_RESUMED, RESUMED_UNPAUSED);
    }
}

static void
vmm_event (VmmProcess *vmm, const char *name, JsonObject *data, gpointer user)
{
  DomainObj *dom = user;
  g_debug ("domain %s: VMM event %s", dom->def->name, name);
  if (dom->starting)
    return;
  if (g_str_equal (name, "STOP"))
    note_paused (dom, TRUE);
  else if (g_str_equal (name, "RESUME"))
    note_paused (dom, FALSE);
  else if (g_str_equal (name, "SHUTDOWN"))
    {
      const char *reason = data ? json_object_get_string_member_with_default (data, "reason", "") : "";
      if (g_str_equal (reason, "host-quit") && !dom->stop_requested)
        dom->shutdown_requested = TRUE;
      else
        dom->guest_shutdown = TRUE;
      if (dom->state == DOMAIN_STATE_RUNNING || dom->state == DOMAIN_STATE_PAUSED)
        set_state (dom, DOMAIN_STATE_SHUTDOWN, 1);
    }
  else if (g_str_equal (name, "RESET"))
    {
      DomainEvent ev = { .type = DOMAIN_EVENT_REBOOT, .dom = dom };
      emit (&ev);
    }
}

static const VmmCallbacks vmm_callbacks = {
  .event = vmm_event,
  .exited = vmm_exited,
};

/* ---------------------------------------------------------------- */
/* define / undefine */

/* Parse new domain XML and complete what the daemon chooses (firmware). */
static DomainDef *
parse_new_def (Daemon *d, const char *xml, GError **error)
{
  g_autoptr (DomainDef) def = domain_def_parse (xml, strlen (xml), DOMAIN_PARSE_DEFAULT, error);
  if (!def || !firmware_fill_domain (def, (const char *const *) d->paths.firmware_dirs,
                                     d->paths.nvram_dir, error))
    return NULL;
  return g_steal_pointer (&def);
}

DomainObj *
domain_define (Daemon *d, const char *xml, GError **error)
{
  g_autoptr (DomainDef) def = parse_new_def (d, xml, error);
  if (!def)
    return NULL;
  DomainObj *by_uuid = domain_lookup_uuid (d, def->uuid);
  DomainObj *dom = domain_lookup_name (d, def->name);
  char uuid[37];
  if (dom && memcmp (dom->def->uuid, def->uuid, 16) != 0)
    {
      domain_uuid_format (dom->def->uuid, uuid);
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                   _("domain '%s' is already defined with uuid %s"), def->name, uuid);
      return NULL;
    }
  if (!dom && by_uuid)
    {
      domain_uuid_format (def->uuid, uuid);
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                   _("domain '%s' already exists with uuid %s"), by_uuid->def->name, uuid);
      return NULL;
    }
  if (!dualboot_domain_define (d, def, dom ? dom->def : NULL, dom && (domain_is_active (dom) || dom->starting),
                               error))
    return NULL;
  gboolean added = !dom || !dom->persistent;
  if (!dom)
    {
      dom = g_new0 (DomainObj, 1);
      dom->daemon = d;
      dom->id = -1;
      dom->state = DOMAIN_STATE_SHUTOFF;
      dom->reason = SHUTOFF_UNKNOWN;
      dom->def = g_steal_pointer (&def);
      g_hash_table_insert (d->domains, dom->def->name, dom);
    }
  else
    {
      /* Same name and uuid: the new definition replaces the old one; a
       * running VM keeps its live configuration until it stops. */
      g_hash_table_steal (d->domains, dom->def->name);
      domain_def_free (dom->def);
      dom->def = g_steal_pointer (&def);
      g_hash_table_insert (d->domains, dom->def->name, dom);
    }
  gboolean was_persistent = dom->persistent;
  dom->persistent = TRUE;
  if (!domain_save_config (dom, error))
    {
      dom->persistent = was_persistent;
      if (!was_persistent && !domain_is_active (dom))
        g_hash_table_remove (d->domains, dom->def->name);
      return NULL;
    }
  domain_emit_lifecycle (dom, EVENT_DEFINED, added ? DEFINED_ADDED : DEFINED_UPDATED);
  return dom;
}

gboolean
domain_undefine_check (DomainObj *dom, guint flags, GError **error)
{
  if (!dom->persistent)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                   _("Requested operation is not valid: cannot undefine transient domain"));
      return FALSE;
    }
  if (dualboot_domain_disk (dom->def) && (domain_is_active (dom) || dom->starting))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                   _("Requested operation is not valid: cannot undefine a running dual-boot domain (its overlays "
                     "are in use); shut it down first"));
      return FALSE;
    }
  /* A variable store outlives the domain only when asked to. */
  const char *nvram = dom->def->nvram;
  if (nvram && g_file_test (nvram, G_FILE_TEST_EXISTS)
      && !(flags & (UNDEFINE_NVRAM | UNDEFINE_KEEP_NVRAM)))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                   _("Requested operation is not valid: cannot undefine domain with nvram"));
      return FALSE;
    }
  return TRUE;
}

gboolean
domain_undefine (DomainObj *dom, guint flags, GError **error)
{
  Daemon *d = dom->daemon;
  if (!domain_undefine_check (dom, flags, error))
    return FALSE;
  const char *nvram = dom->def->nvram;
  if (nvram && (flags & UNDEFINE_NVRAM) && g_unlink (nvram) < 0 && errno != ENOENT)
    {
      int e = errno;
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot remove nvram file '%s': %s"),
                   nvram, g_strerror (e));
      return FALSE;
    }
  /* The TPM's state, as libvirt 9: a persistent_state='yes' one goes only
   * with UNDEFINE_TPM, any other unless UNDEFINE_KEEP_TPM. */
  gboolean remove_tpm = dom->def->tpm_persistent_state ? (flags & UNDEFINE_TPM) != 0
                                                       : !(flags & UNDEFINE_KEEP_TPM);
  if (remove_tpm)
    {
      g_autofree char *tpm = domain_tpm_state_dir (dom);
      if (!swtpm_state_remove (tpm, error))
        return FALSE;
    }
  if (dualboot_domain_disk (dom->def) && !dualboot_domain_remove (d, dom->def->name, error))
    return FALSE;
  g_autofree char *path = config_path (d, dom->def->name);
  if (g_unlink (path) < 0 && errno != ENOENT)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot remove %s: %s"),
                   path, g_strerror (errno));
      return FALSE;
    }
  g_autofree char *ap = autostart_path (d, dom->def->name);
  g_unlink (ap);
  dom->autostart = FALSE;
  dom->persistent = FALSE;
  domain_emit_lifecycle (dom, EVENT_UNDEFINED, UNDEFINED_REMOVED);
  if (!domain_is_active (dom) && !dom->starting)
    g_hash_table_remove (d->domains, dom->def->name);
  return TRUE;
}

gboolean
domain_set_autostart (DomainObj *dom, gboolean autostart, GError **error)
{
  if (!dom->persistent)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                   _("Requested operation is not valid: cannot set autostart for transient domain"));
      return FALSE;
    }
  g_autofree char *path = autostart_path (dom->daemon, dom->def->name);
  if (autostart)
    {
      g_autofree char *dir = g_path_get_dirname (path);
      g_mkdir_with_parents (dir, 0755);
      g_autoptr (GError) e = NULL;
      if (!g_file_set_contents (path, "", 0, &e))
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, "%s", e->message);
          return FALSE;
        }
    }
  else if (g_unlink (path) < 0 && errno != ENOENT)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot remove %s: %s"),
                   path, g_strerror (errno));
      return FALSE;
    }
  dom->autostart = autostart;
  return TRUE;
}

/* ---------------------------------------------------------------- */
/* start */

typedef struct {
  DomainObj *dom;
  guint flags;
  DomainDoneFn done;
  gpointer data;
  VmmProcess *vmm;
  char *restore_path;        /* the VM continues from this save image */
  gboolean restore_paused;
  gboolean remove_image;     /* a managed save image: gone once restored */
} StartJob;

static void
start_job_free (StartJob *job)
{
  g_free (job->restore_path);
  g_free (job);
}

static void
start_failed (StartJob *job, const GError *error)
{
  DomainObj *dom = job->dom;
  dom->starting = FALSE;
  if (job->vmm)
    {
      /* Kill what did come up; its exit is no longer of interest. */
      vmm_process_kill (job->vmm, SIGKILL);
      vmm_process_free (job->vmm);
    }
  dom->vmm = NULL;
  remove_run_dir (dom);
  release_live_resources (dom);
  g_clear_pointer (&dom->live, domain_def_free);
  dom->id = -1;
  set_state (dom, DOMAIN_STATE_SHUTOFF, SHUTOFF_FAILED);
  job->done (dom, error, job->data);
  if (!dom->persistent)
    g_hash_table_remove (dom->daemon->domains, dom->def->name);
  start_job_free (job);
}

static void
start_complete (StartJob *job)
{
  DomainObj *dom = job->dom;
  dom->starting = FALSE;
  dom->vmm = job->vmm;
  dom->id = dom->daemon->next_id++;
  gboolean restored = job->restore_path != NULL;
  set_state (dom, DOMAIN_STATE_RUNNING, restored ? RUNNING_RESTORED : RUNNING_BOOTED);
  domain_save_live_state (dom);
  domain_emit_lifecycle (dom, EVENT_STARTED, restored ? STARTED_RESTORED : STARTED_BOOTED);
  if (job->flags & CREATE_PAUSED || job->restore_paused)
    {
      set_state (dom, DOMAIN_STATE_PAUSED, PAUSED_USER);
      domain_emit_lifecycle (dom, EVENT_SUSPENDED, restored ? SUSPENDED_RESTORED : SUSPENDED_PAUSED);
    }
  if (job->remove_image && g_unlink (job->restore_path) < 0)
    g_warning (_("domain %s: cannot remove the managed save image %s: %s"), dom->def->name,
               job->restore_path, g_strerror (errno));
  job->done (dom, NULL, job->data);
  start_job_free (job);
}

static void
start_paused_done (VmmProcess *vmm, JsonNode *result, const GError *error, gpointer data)
{
  StartJob *job = data;
  if (error)
    start_failed (job, error);
  else
    start_complete (job);
}

static void
start_chardev_done (VmmProcess *vmm, JsonNode *result, const GError *error, gpointer data)
{
  StartJob *job = data;
  if (error)
    {
      start_failed (job, error);
      return;
    }
  if (result && JSON_NODE_HOLDS_ARRAY (result))
    {
      JsonArray *arr = json_node_get_array (result);
      for (guint i = 0; i < json_array_get_length (arr); i++)
        {
          JsonObject *o = json_array_get_object_element (arr, i);
          if (!o)
            continue;
          const char *label = json_object_get_string_member_with_default (o, "label", "");
          const char *file = json_object_get_string_member_with_default (o, "filename", NULL);
          if (g_str_equal (label, "serial0") && file)
            {
              g_free (job->dom->live->live_pty);
              job->dom->live->live_pty = g_strdup (file);
            }
        }
    }
  if (job->flags & CREATE_PAUSED)
    vmm_process_command (job->vmm, "stop", start_paused_done, job);
  else
    start_complete (job);
}

static void
start_ready (VmmProcess *vmm, const GError *error, gpointer data)
{
  StartJob *job = data;
  job->vmm = vmm;
  if (error)
    {
      start_failed (job, error);
      return;
    }
  if (job->dom->dualboot_lock)
    oriel_disk_lock_set_holder (job->dom->dualboot_lock, (int) vmm_process_pid (vmm));
  if (job->dom->live->has_serial)
    vmm_process_command (vmm, "query-chardev", start_chardev_done, job);
  else
    start_chardev_done (vmm, NULL, NULL, job);
}

static void start_vmm (DomainObj *dom, DomainDef *live, const char *restore_path,
                       gboolean restore_paused, gboolean remove_image, guint flags,
                       DomainDoneFn done, gpointer data);

static GHashTable *
taken_vnc_ports (Daemon *d)
{
  GHashTable *taken = g_hash_table_new (g_direct_hash, g_direct_equal);
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init (&it, d->domains);
  while (g_hash_table_iter_next (&it, NULL, &v))
    {
      DomainObj *o = v;
      if (o->live && o->live->live_vnc_port > 0)
        g_hash_table_add (taken, GINT_TO_POINTER (o->live->live_vnc_port));
    }
  return taken;
}

void
domain_start (DomainObj *dom, guint flags, DomainDoneFn done, gpointer data)
{
  /* A managed save image makes start continue the saved VM. */
  if (flags & CREATE_FORCE_BOOT)
    {
      g_autofree char *image = domain_managed_save_path (dom);
      g_unlink (image);
    }
  else if (domain_managed_start (dom, (flags & CREATE_PAUSED) != 0, done, data))
    return;
  start_vmm (dom, NULL, NULL, FALSE, FALSE, flags & ~(guint) CREATE_FORCE_BOOT, done, data);
}

void
domain_start_restore (DomainObj *dom, DomainDef *live, const char *image, gboolean paused,
                      gboolean remove_image, DomainDoneFn done, gpointer data)
{
  start_vmm (dom, live, image, paused, remove_image, 0, done, data);
}

/* Start dom's VMM: booting dom->def, or continuing from a save image with
 * the configuration it was saved with (live, taken; NULL: dom->def). */
static void
start_vmm (DomainObj *dom, DomainDef *live, const char *restore_path, gboolean restore_paused,
           gboolean remove_image, guint flags, DomainDoneFn done, gpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DomainDef) given = live;
  if (domain_is_active (dom) || dom->starting)
    {
      error = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                           _("Requested operation is not valid: domain is already running"));
      done (dom, error, data);
      return;
    }
  Daemon *d = dom->daemon;
  dom->live = given ? g_steal_pointer (&given) : domain_def_copy (dom->def);
  if (dom->live->has_vnc)
    {
      if (dom->live->vnc_port > 0)
        dom->live->live_vnc_port = dom->live->vnc_port;
      else
        {
          g_autoptr (GHashTable) taken = taken_vnc_ports (d);
          dom->live->live_vnc_port = vmm_config_pick_vnc_port (taken);
        }
    }
  g_autofree char *dir = run_dir (dom);
  g_autofree char *conf_path = run_file (dom, "vmm.conf");
  g_autofree char *ctl_path = run_file (dom, "ctl");
  g_autofree char *log_path = run_file (dom, "vmm.log");
  g_autofree char *conf = acquire_live_resources (dom, &error)
                          ? vmm_config_build (dom->live, ctl_path, &error) : NULL;
  if (conf && restore_path)
    {
      g_autofree char *base = g_steal_pointer (&conf);
      conf = g_strdup_printf ("%srestore = %s\n%s", base, restore_path, restore_paused ? "paused\n" : "");
    }
  StartJob *job = g_new0 (StartJob, 1);
  job->dom = dom;
  job->flags = flags;
  job->done = done;
  job->data = data;
  job->restore_path = g_strdup (restore_path);
  job->restore_paused = restore_paused;
  job->remove_image = remove_image;
  dom->starting = TRUE;
  if (!conf)
    {
      start_failed (job, error);
      return;
    }
  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      error = g_error_new (VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot create %s: %s"), dir, g_strerror (errno));
      start_failed (job, error);
      return;
    }
  if (!g_file_set_contents_full (conf_path, conf, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
    {
      start_failed (job, error);
      return;
    }
  g_debug ("domain %s: starting %s --config %s", dom->def->name, d->paths.vmm_path, conf_path);
  vmm_process_spawn (d->paths.vmm_path, conf_path, ctl_path, log_path,
                     dom->dualboot_lock ? oriel_disk_lock_fd (dom->dualboot_lock) : -1, &vmm_callbacks, dom,
                     start_ready, job);
}

/* The inactive domain of def's name and uuid, or a new transient one
 * holding a copy of def; NULL if the name or uuid is taken otherwise or
 * the domain runs. */
DomainObj *
domain_obj_for_def (Daemon *d, const DomainDef *def, GError **error)
{
  DomainObj *dom = domain_lookup_name (d, def->name);
  if (!dom)
    dom = domain_lookup_uuid (d, def->uuid);
  if (dom)
    {
      if (domain_is_active (dom) || dom->starting || memcmp (dom->def->uuid, def->uuid, 16) != 0
          || !g_str_equal (dom->def->name, def->name))
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                       _("domain '%s' already exists"), dom->def->name);
          return NULL;
        }
      return dom;
    }
  dom = g_new0 (DomainObj, 1);
  dom->daemon = d;
  dom->id = -1;
  dom->state = DOMAIN_STATE_SHUTOFF;
  dom->def = domain_def_copy (def);
  g_hash_table_insert (d->domains, dom->def->name, dom);
  return dom;
}

DomainObj *
domain_create_transient (Daemon *d, const char *xml, guint flags,
                         DomainDoneFn done, gpointer data, GError **error)
{
  g_autoptr (DomainDef) def = parse_new_def (d, xml, error);
  if (!def)
    return NULL;
  if (dualboot_domain_disk (def))
    {
      /* Its partition table is recorded at define, for every start to
       * compare with. */
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                   _("Requested operation is not valid: a domain with <oriel:dualboot> must be defined (virsh "
                     "define), not created transient"));
      return NULL;
    }
  DomainObj *dom = domain_obj_for_def (d, def, error);
  if (dom)
    domain_start (dom, flags, done, data);
  return dom;
}

/* ---------------------------------------------------------------- */
/* stop, pause, reset */

static gboolean
check_active (DomainObj *dom, GError **error)
{
  if (!domain_is_active (dom) || !dom->vmm)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                   _("Requested operation is not valid: domain is not running"));
      return FALSE;
    }
  return TRUE;
}

typedef struct {
  char *name;
  Daemon *d;
  guint timer;
} KillTimer;

static gboolean
destroy_timeout (gpointer data)
{
  KillTimer *kt = data;
  DomainObj *dom = domain_lookup_name (kt->d, kt->name);
  if (dom && dom->vmm && dom->stop_requested)
    {
      g_message ("domain %s: oriel-vmm ignored quit; killing it", kt->name);
      vmm_process_kill (dom->vmm, SIGKILL);
    }
  return G_SOURCE_REMOVE;
}

static void
kill_timer_free (gpointer data)
{
  KillTimer *kt = data;
  g_free (kt->name);
  g_free (kt);
}

void
domain_destroy (DomainObj *dom, DomainDoneFn done, gpointer data)
{
  g_autoptr (GError) error = NULL;
  if (!check_active (dom, &error))
    {
      done (dom, error, data);
      return;
    }
  Waiter *w = g_new0 (Waiter, 1);
  w->done = done;
  w->data = data;
  dom->waiters = g_list_append (dom->waiters, w);
  if (dom->stop_requested)
    return;
  dom->stop_requested = TRUE;
  vmm_process_command (dom->vmm, "quit", NULL, NULL);
  KillTimer *kt = g_new0 (KillTimer, 1);
  kt->name = g_strdup (dom->def->name);
  kt->d = dom->daemon;
  g_timeout_add_full (G_PRIORITY_DEFAULT, DESTROY_GRACE_MS, destroy_timeout, kt, kill_timer_free);
}

gboolean
domain_shutdown (DomainObj *dom, GError **error)
{
  if (!check_active (dom, error))
    return FALSE;
  dom->shutdown_requested = TRUE;
  vmm_process_command (dom->vmm, "system_powerdown", NULL, NULL);
  return TRUE;
}

gboolean
domain_reboot (DomainObj *dom, GError **error)
{
  if (!check_active (dom, error))
    return FALSE;
  vmm_process_command (dom->vmm, "system_reset", NULL, NULL);
  return TRUE;
}

gboolean
domain_reset (DomainObj *dom, GError **error)
{
  return domain_reboot (dom, error);
}

typedef struct {
  char *name;
  Daemon *d;
  gboolean pause;
  DomainDoneFn done;
  gpointer data;
} PauseJob;

static void
pause_reply (VmmProcess *vmm, JsonNode *result, const GError *error, gpointer data)
{
  PauseJob *job = data;
  DomainObj *dom = domain_lookup_name (job->d, job->name);
  if (dom && !error)
    note_paused (dom, job->pause);
  job->done (dom, error, job->data);
  g_free (job->name);
  g_free (job);
}

static void
pause_or_resume (DomainObj *dom, gboolean pause, DomainDoneFn done, gpointer data)
{
  g_autoptr (GError) error = NULL;
  if (!check_active (dom, &error))
    {
      done (dom, error, data);
      return;
    }
  if (!pause && dom->state != DOMAIN_STATE_PAUSED)
    {
      error = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                           _("Requested operation is not valid: domain is not paused"));
      done (dom, error, data);
      return;
    }
  PauseJob *job = g_new0 (PauseJob, 1);
  job->name = g_strdup (dom->def->name);
  job->d = dom->daemon;
  job->pause = pause;
  job->done = done;
  job->data = data;
  vmm_process_command (dom->vmm, pause ? "stop" : "cont", pause_reply, job);
}

void
domain_suspend (DomainObj *dom, DomainDoneFn done, gpointer data)
{
  pause_or_resume (dom, TRUE, done, data);
}

void
domain_resume (DomainObj *dom, DomainDoneFn done, gpointer data)
{
  pause_or_resume (dom, FALSE, done, data);
}

char *
domain_disk_path (Daemon *d, const DomainDisk *disk, GError **error)
{
  if (!disk->source_volume)
    {
      if (!disk->source)
        g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("disk '%s' has no source"), disk->target_dev);
      return g_strdup (disk->source);
    }
  StoragePool *pool = daemon_storage_pool (d);
  if (!g_str_equal (disk->source_pool, pool->name))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_NO_STORAGE_POOL,
                   _("Storage pool not found: no storage pool with matching name '%s'"), disk->source_pool);
      return NULL;
    }
  g_autoptr (StorageVol) vol = storage_pool_find_vol (pool, disk->source_volume, error);
  return vol ? g_strdup (vol->path) : NULL;
}

char *
domain_get_xml (DomainObj *dom, gboolean inactive)
{
  if (domain_is_active (dom) && dom->live && !inactive)
    return domain_def_format (dom->live, DOMAIN_FORMAT_LIVE, dom->id);
  return domain_def_format (dom->def, DOMAIN_FORMAT_INACTIVE, -1);
}

/* ---------------------------------------------------------------- */
/* loading */

static void
load_persistent (Daemon *d)
{
  g_autoptr (GDir) dir = g_dir_open (d->paths.config_dir, 0, NULL);
  if (!dir)
    return;
  const char *name;
  while ((name = g_dir_read_name (dir)))
    {
      if (!g_str_has_suffix (name, ".xml"))
        continue;
      g_autofree char *path = g_build_filename (d->paths.config_dir, name, NULL);
      g_autofree char *xml = NULL;
      gsize len;
      g_autoptr (GError) error = NULL;
      if (!g_file_get_contents (path, &xml, &len, &error))
        {
          g_warning ("%s", error->message);
          continue;
        }
      DomainDef *def = domain_def_parse (xml, len, DOMAIN_PARSE_DEFAULT, &error);
      if (!def)
        {
          g_warning ("ignoring %s: %s", path, error->message);
          continue;
        }
      if (domain_lookup_name (d, def->name) || domain_lookup_uuid (d, def->uuid))
        {
          g_warning ("ignoring %s: duplicate domain name or uuid", path);
          domain_def_free (def);
          continue;
        }
      DomainObj *dom = g_new0 (DomainObj, 1);
      dom->daemon = d;
      dom->def = def;
      dom->id = -1;
      dom->state = DOMAIN_STATE_SHUTOFF;
      dom->persistent = TRUE;
      g_autofree char *ap = autostart_path (d, def->name);
      dom->autostart = g_file_test (ap, G_FILE_TEST_EXISTS);
      g_hash_table_insert (d->domains, def->name, dom);
    }
}

static int
parse_live_id (const char *xml)
{
  const char *p = strstr (xml, " id='");
  const char *end = strchr (xml, '>');
  if (!p || !end || p > end)
    return -1;
  return atoi (p + 5);
}

static void
adopt_status_reply (VmmProcess *vmm, JsonNode *result, const GError *error, gpointer data)
{
  Daemon *d = ((gpointer *) data)[0];
  g_autofree char *name = ((gpointer *) data)[1];
  g_free (data);
  DomainObj *dom = domain_lookup_name (d, name);
  if (!dom || error || !result || !JSON_NODE_HOLDS_OBJECT (result))
    return;
  const char *st = json_object_get_string_member_with_default (json_node_get_object (result), "status", "");
  if (g_str_equal (st, "paused"))
    set_state (dom, DOMAIN_STATE_PAUSED, PAUSED_USER);
}

/* Guards against a recycled pid: the process must be the VMM started
 * with this domain's generated configuration. */
static gboolean
process_runs_config (pid_t pid, const char *conf_path)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/cmdline", (int) pid);
  g_autofree char *cmdline = NULL;
  gsize len = 0;
  if (pid <= 0 || !g_file_get_contents (path, &cmdline, &len, NULL))
    return FALSE;
  for (gsize off = 0; off < len; off += strlen (cmdline + off) + 1)
    if (g_str_equal (cmdline + off, conf_path))
      return TRUE;
  return FALSE;
}

static void
adopt_running (Daemon *d)
{
  g_autoptr (GDir) dir = g_dir_open (d->paths.state_dir, 0, NULL);
  if (!dir)
    return;
  const char *entry;
  while ((entry = g_dir_read_name (dir)))
    {
      guint8 uuid[16];
      if (!domain_uuid_parse (entry, uuid))
        continue;
      g_autofree char *base = g_build_filename (d->paths.state_dir, entry, NULL);
      g_autofree char *live_path = g_build_filename (base, "live.xml", NULL);
      g_autofree char *pid_path = g_build_filename (base, "pid", NULL);
      g_autofree char *ctl_path = g_build_filename (base, "ctl", NULL);
      g_autofree char *xml = NULL, *pidtext = NULL;
      gsize len;
      g_autoptr (GError) error = NULL;
      DomainDef *live = NULL;
      VmmProcess *vmm = NULL;
      if (g_file_get_contents (live_path, &xml, &len, NULL)
          && g_file_get_contents (pid_path, &pidtext, NULL, NULL)
          && (live = domain_def_parse (xml, len, DOMAIN_PARSE_LIVE, &error)))
        {
          DomainObj *dom = domain_lookup_uuid (d, live->uuid);
          if (!dom)
            {
              dom = g_new0 (DomainObj, 1);
              dom->daemon = d;
              dom->def = domain_def_copy (live);
              dom->state = DOMAIN_STATE_SHUTOFF;
              dom->id = -1;
              g_hash_table_insert (d->domains, dom->def->name, dom);
            }
          pid_t pid = (pid_t) atoi (pidtext);
          g_autofree char *conf_path = g_build_filename (base, "vmm.conf", NULL);
          if (!process_runs_config (pid, conf_path))
            g_set_error (&error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                         _("process %d is not its oriel-vmm"), (int) pid);
          else
            {
              vmm = vmm_process_adopt (pid, ctl_path, &vmm_callbacks, dom, &error);
              if (!vmm)
                {
                  /* Alive but unreachable: nobody could ever manage it. */
                  g_warning ("domain %s: oriel-vmm %d cannot be reached (%s); killing it",
                             live->name, (int) pid, error->message);
                  kill (pid, SIGKILL);
                }
            }
          if (vmm)
            {
              dom->vmm = vmm;
              dom->live = live;
              dom->id = parse_live_id (xml);
              if (dom->id < 0)
                dom->id = d->next_id++;
              d->next_id = MAX (d->next_id, dom->id + 1);
              set_state (dom, DOMAIN_STATE_RUNNING, RUNNING_BOOTED);
              gpointer *ctx = g_new0 (gpointer, 2);
              ctx[0] = d;
              ctx[1] = g_strdup (dom->def->name);
              vmm_process_command (vmm, "query-status", adopt_status_reply, ctx);
              g_message ("domain %s: re-adopted running oriel-vmm %d", dom->def->name, atoi (pidtext));
              continue;
            }
          g_message ("domain %s: its oriel-vmm is gone (%s)", live->name, error->message);
          domain_def_free (live);
          if (!dom->persistent)
            g_hash_table_remove (d->domains, dom->def->name);
          else
            set_state (dom, DOMAIN_STATE_SHUTOFF, SHUTOFF_UNKNOWN);
        }
      /* Leftovers of a VM that is no longer running. */
      const char *files[] = { "live.xml", "pid", "vmm.conf", "ctl", "vmm.log" };
      for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
        {
          g_autofree char *p = g_build_filename (base, files[i], NULL);
          g_unlink (p);
        }
      g_rmdir (base);
    }
}

static void
autostart_done (DomainObj *dom, const GError *error, gpointer data)
{
  g_autofree char *name = data;
  if (error)
    g_warning ("autostart of domain %s failed: %s", name, error->message);
  else
    g_message ("domain %s: autostarted", name);
}

void
domain_driver_load (Daemon *d)
{
  g_mkdir_with_parents (d->paths.state_dir, 0700);
  load_persistent (d);
  adopt_running (d);
  g_autoptr (GPtrArray) all = domain_list (d);
  for (guint i = 0; i < all->len; i++)
    {
      DomainObj *dom = all->pdata[i];
      if (dom->autostart && !domain_is_active (dom))
        domain_start (dom, 0, autostart_done, g_strdup (dom->def->name));
    }
}
