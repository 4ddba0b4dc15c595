/* Everyday changes and queries of a domain: title and description,
 * configured memory, the CD-ROM's medium, the vCPU threads. */
#include "domain-devices.h"
#include "virt-error.h"
#include "vmm-process.h"

#include <glib/gi18n.h>
#include <string.h>

gboolean
domain_modification_impact (DomainObj *dom, guint *flags, GError **error)
{
  gboolean active = domain_is_active (dom) && dom->live;
  if (!(*flags & (DOMAIN_AFFECT_LIVE | DOMAIN_AFFECT_CONFIG)))
    *flags |= active ? DOMAIN_AFFECT_LIVE : DOMAIN_AFFECT_CONFIG;
  if ((*flags & DOMAIN_AFFECT_LIVE) && !active)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                   _("Requested operation is not valid: domain is not running"));
      return FALSE;
    }
  if ((*flags & DOMAIN_AFFECT_CONFIG) && !dom->persistent)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                   _("Requested operation is not valid: transient domains do not have any persistent config"));
      return FALSE;
    }
  return TRUE;
}

DomainDisk *
domain_find_disk (DomainDef *def, const char *name)
{
  for (guint i = 0; i < def->disks->len; i++)
    {
      DomainDisk *d = def->disks->pdata[i];
      if (g_strcmp0 (d->target_dev, name) == 0 || g_strcmp0 (d->source, name) == 0)
        return d;
    }
  return NULL;
}

/* ---- title and description ---- */

static char **
metadata_field (DomainDef *def, int type)
{
  return type == DOMAIN_METADATA_TITLE ? &def->title : &def->description;
}

static gboolean
check_metadata_type (int type, GError **error)
{
  if (type == DOMAIN_METADATA_ELEMENT)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_ARGUMENT_UNSUPPORTED,
                   _("Argument unsupported: oriel does not support metadata elements yet, only the title and the description"));
      return FALSE;
    }
  if (type != DOMAIN_METADATA_TITLE && type != DOMAIN_METADATA_DESCRIPTION)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("invalid argument: unknown metadata type '%d'"), type);
      return FALSE;
    }
  return TRUE;
}

gboolean
domain_set_metadata (DomainObj *dom, int type, const char *value, guint flags, GError **error)
{
  if (!check_metadata_type (type, error) || !domain_modification_impact (dom, &flags, error))
    return FALSE;
  if (type == DOMAIN_METADATA_TITLE && value && strchr (value, '\n'))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("invalid argument: title can't contain newlines"));
      return FALSE;
    }
  const char *v = value && *value ? value : NULL;
  if (flags & DOMAIN_AFFECT_CONFIG)
    {
      char **field = metadata_field (dom->def, type);
      g_autofree char *old = g_steal_pointer (field);
      *field = g_strdup (v);
      if (!domain_save_config (dom, error))
        {
          g_free (*field);
          *field = g_steal_pointer (&old);
          return FALSE;
        }
    }
  if (flags & DOMAIN_AFFECT_LIVE)
    {
      char **field = metadata_field (dom->live, type);
      g_free (*field);
      *field = g_strdup (v);
      domain_save_live_state (dom);
    }
  return TRUE;
}

char *
domain_get_metadata (DomainObj *dom, int type, guint flags, GError **error)
{
  if (!check_metadata_type (type, error))
    return NULL;
  if ((flags & DOMAIN_AFFECT_LIVE) && (flags & DOMAIN_AFFECT_CONFIG))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG,
                   _("invalid argument: Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive"));
      return NULL;
    }
  if (!domain_modification_impact (dom, &flags, error))
    return NULL;
  DomainDef *def = (flags & DOMAIN_AFFECT_LIVE) ? dom->live : dom->def;
  const char *v = *metadata_field (def, type);
  if (!v)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_NO_DOMAIN_METADATA,
                   _("metadata not found: Requested metadata element is not present"));
      return NULL;
    }
  return g_strdup (v);
}

/* ---- memory ---- */

gboolean
domain_set_memory (DomainObj *dom, guint64 kib, guint flags, gboolean maximum, GError **error)
{
  if (!domain_modification_impact (dom, &flags, error))
    return FALSE;
  if (flags & DOMAIN_AFFECT_LIVE)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_UNSUPPORTED,
                   maximum ? _("Operation not supported: cannot resize the maximum memory of a running domain")
                           : _("Operation not supported: a running domain's memory changes through its balloon"));
      return FALSE;
    }
  if (kib == 0)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("invalid argument: memory size must be greater than zero"));
      return FALSE;
    }
  DomainDef *def = dom->def;
  guint64 old_max = def->memory_kib, old_cur = def->current_memory_kib;
  if (maximum)
    {
      def->memory_kib = kib;
      if (def->current_memory_kib > kib)
        def->current_memory_kib = kib;
    }
  else
    {
      if (kib > def->memory_kib)
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG,
                       _("invalid argument: cannot set memory higher than max memory"));
          return FALSE;
        }
      def->current_memory_kib = kib;
    }
  if (!domain_save_config (dom, error))
    {
      def->memory_kib = old_max;
      def->current_memory_kib = old_cur;
      return FALSE;
    }
  return TRUE;
}

/* ---- CD-ROM media ---- */

static void
set_disk_source (DomainDisk *to, const DomainDisk *from, const char *path)
{
  g_free (to->type); to->type = g_strdup (from->type);
  g_free (to->source); to->source = g_strdup (path);
  g_free (to->source_pool); to->source_pool = g_strdup (from->source_pool);
  g_free (to->source_volume); to->source_volume = g_strdup (from->source_volume);
}

typedef struct {
  char *name;
  Daemon *d;
  DomainDisk *disk;
  char *path;
  guint flags;
  DomainDoneFn done;
  gpointer data;
} MediaJob;

static void
media_job_free (MediaJob *job)
{
  g_free (job->name);
  g_free (job->path);
  domain_disk_free (job->disk);
  g_free (job);
}

/* After the VMM took it (or at once for CONFIG alone): the definitions. */
static gboolean
media_apply (DomainObj *dom, MediaJob *job, GError **error)
{
  if (job->flags & DOMAIN_AFFECT_LIVE)
    {
      DomainDisk *live = dom->live ? domain_find_disk (dom->live, job->disk->target_dev) : NULL;
      if (live)
        {
          set_disk_source (live, job->disk, job->path);
          domain_save_live_state (dom);
        }
    }
  if (job->flags & DOMAIN_AFFECT_CONFIG)
    {
      DomainDisk *conf = domain_find_disk (dom->def, job->disk->target_dev);
      if (conf)
        {
          set_disk_source (conf, job->disk, job->disk->source_volume ? NULL : job->path);
          return domain_save_config (dom, error);
        }
    }
  return TRUE;
}

static void
media_reply (VmmProcess *vmm, JsonNode *result, const GError *error, gpointer data)
{
  MediaJob *job = data;
  DomainObj *dom = domain_lookup_name (job->d, job->name);
  g_autoptr (GError) e = NULL;
  if (error)
    e = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_FAILED, _("operation failed: cannot change the medium of '%s': %s"),
                     job->disk->target_dev, error->message);
  else if (!dom)
    e = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_FAILED, _("operation failed: the domain went away"));
  else
    media_apply (dom, job, &e);
  job->done (dom, e, job->data);
  media_job_free (job);
}

/* The VMM's one CD-ROM drive is "cdrom" whatever the target's name. */
static void
media_send (DomainObj *dom, MediaJob *job, gboolean force)
{
  g_autoptr (JsonObject) args = json_object_new ();
  json_object_set_string_member (args, "device", "cdrom");
  if (job->path)
    {
      json_object_set_string_member (args, "filename", job->path);
      vmm_process_command_args (dom->vmm, "change-medium", args, media_reply, job);
    }
  else
    {
      json_object_set_boolean_member (args, "force", force);
      vmm_process_command_args (dom->vmm, "eject", args, media_reply, job);
    }
}

void
domain_change_media (DomainObj *dom, DomainDisk *disk, guint flags, gboolean force,
                     DomainDoneFn done, gpointer data)
{
  MediaJob *job = g_new0 (MediaJob, 1);
  job->name = g_strdup (dom->def->name);
  job->d = dom->daemon;
  job->disk = disk;
  job->flags = flags;
  job->done = done;
  job->data = data;
  g_autoptr (GError) error = NULL;
  if (!domain_modification_impact (dom, &job->flags, &error))
    goto fail;
  if ((job->flags & DOMAIN_AFFECT_LIVE) && !dom->vmm)
    {
      error = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                           _("Requested operation is not valid: domain is not running"));
      goto fail;
    }
  if (!g_str_equal (disk->device, "cdrom"))
    {
      error = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_UNSUPPORTED,
                           _("Operation not supported: only the medium of a CD-ROM can be changed, not of disk '%s'"),
                           disk->target_dev);
      goto fail;
    }
  DomainDef *defs[2] = { (job->flags & DOMAIN_AFFECT_LIVE) ? dom->live : NULL,
                         (job->flags & DOMAIN_AFFECT_CONFIG) ? dom->def : NULL };
  for (int i = 0; i < 2; i++)
    {
      DomainDisk *cur = defs[i] ? domain_find_disk (defs[i], disk->target_dev) : NULL;
      if (defs[i] && (!cur || !g_str_equal (cur->device, "cdrom")))
        {
          error = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                               _("operation failed: target %s doesn't exist or is no CD-ROM"), disk->target_dev);
          goto fail;
        }
    }
  if (disk->source || disk->source_volume)
    {
      job->path = domain_disk_path (dom->daemon, disk, &error);
      if (!job->path)
        goto fail;
    }
  if (!(job->flags & DOMAIN_AFFECT_LIVE))
    {
      media_apply (dom, job, &error);
      done (dom, error, data);
      media_job_free (job);
      return;
    }
  media_send (dom, job, force);
  return;

fail:
  done (dom, error, data);
  media_job_free (job);
}

/* ---- vCPU threads ---- */

typedef struct {
  char *name;
  Daemon *d;
  DomainVcpuThreadsFn done;
  gpointer data;
} VcpuJob;

static void
vcpus_reply (VmmProcess *vmm, JsonNode *result, const GError *error, gpointer data)
{
  VcpuJob *job = data;
  DomainObj *dom = domain_lookup_name (job->d, job->name);
  g_autoptr (GError) e = NULL;
  g_autoptr (GArray) tids = g_array_new (FALSE, FALSE, sizeof (pid_t));
  if (error)
    e = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_FAILED, _("operation failed: query-cpus: %s"), error->message);
  else if (!result || !JSON_NODE_HOLDS_ARRAY (result))
    e = g_error_new (VIRT_ERROR, VIR_ERR_INTERNAL_ERROR, _("internal error: query-cpus gave no list"));
  else
    {
      JsonArray *arr = json_node_get_array (result);
      for (guint i = 0; i < json_array_get_length (arr); i++)
        {
          JsonNode *n = json_array_get_element (arr, i);
          JsonObject *o = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
          pid_t tid = o && json_object_has_member (o, "thread-id")
                        ? (pid_t) json_object_get_int_member (o, "thread-id") : 0;
          g_array_append_val (tids, tid);
        }
    }
  job->done (dom, e ? NULL : tids, e, job->data);
  g_free (job->name);
  g_free (job);
}

void
domain_query_vcpu_threads (DomainObj *dom, DomainVcpuThreadsFn done, gpointer data)
{
  if (!domain_is_active (dom) || !dom->vmm)
    {
      g_autoptr (GError) e = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                                          _("Requested operation is not valid: cannot retrieve vcpu information for inactive domain"));
      done (dom, NULL, e, data);
      return;
    }
  VcpuJob *job = g_new0 (VcpuJob, 1);
  job->name = g_strdup (dom->def->name);
  job->d = dom->daemon;
  job->done = done;
  job->data = data;
  vmm_process_command (dom->vmm, "query-cpus", vcpus_reply, job);
}
