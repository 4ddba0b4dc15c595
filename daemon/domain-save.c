#include "domain-save.h"
#include "save-image.h"
#include "virt-error.h"
#include "vmm-process.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

/* ---------------------------------------------------------------- */
/* save */

typedef struct {
  Daemon *d;
  char *name;
  char *path;
  char *header;
  gboolean was_running;
  GError *failure;           /* a failed save, reported once resumed */
  DomainDoneFn done;
  gpointer data;
} SaveJob;

static void
save_job_finish (SaveJob *job, const GError *error)
{
  DomainObj *dom = domain_lookup_name (job->d, job->name);
  if (dom)
    dom->saving = FALSE;
  job->done (dom, error, job->data);
  g_free (job->name);
  g_free (job->path);
  g_free (job->header);
  g_clear_error (&job->failure);
  g_free (job);
}

static void
save_stopped (DomainObj *dom, const GError *error, gpointer data)
{
  save_job_finish (data, error);
}

static void
save_resumed (VmmProcess *vmm, JsonNode *result, const GError *error, gpointer data)
{
  SaveJob *job = data;
  save_job_finish (job, job->failure);
}

static void
save_written (VmmProcess *vmm, JsonNode *result, const GError *error, gpointer data)
{
  SaveJob *job = data;
  DomainObj *dom = domain_lookup_name (job->d, job->name);
  if (!dom || !dom->vmm)
    {
      g_autoptr (GError) gone = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                                             _("domain '%s' stopped while it was being saved"), job->name);
      save_job_finish (job, gone);
      return;
    }
  if (error)
    {
      /* The image was not written (the VMM leaves no partial file): the
       * domain carries on as it was. */
      job->failure = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                                  _("cannot save domain '%s': %s"), job->name, error->message);
      if (job->was_running)
        vmm_process_command (dom->vmm, "cont", save_resumed, job);
      else
        save_resumed (dom->vmm, NULL, NULL, job);
      return;
    }
  dom->save_requested = TRUE;
  domain_destroy (dom, save_stopped, job);
}

static void
save_paused (VmmProcess *vmm, JsonNode *result, const GError *error, gpointer data)
{
  SaveJob *job = data;
  if (error)
    {
      save_job_finish (job, error);
      return;
    }
  g_autoptr (JsonObject) args = json_object_new ();
  json_object_set_string_member (args, "filename", job->path);
  json_object_set_string_member (args, "header", job->header);
  vmm_process_command_args (vmm, "save", args, save_written, job);
}

/* The XML stored in the image: the configuration the domain runs with,
 * or dxml when the client gives one for the same domain. */
static char *
image_xml (DomainObj *dom, const char *dxml, GError **error)
{
  if (!dxml)
    return domain_def_format (dom->live ? dom->live : dom->def, DOMAIN_FORMAT_INACTIVE, -1);
  g_autoptr (DomainDef) def = domain_def_parse (dxml, strlen (dxml), DOMAIN_PARSE_DEFAULT, error);
  if (!def)
    return NULL;
  if (memcmp (def->uuid, dom->def->uuid, 16) != 0 || !g_str_equal (def->name, dom->def->name))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG,
                   _("the XML given for the save image describes domain '%s', not '%s'"),
                   def->name, dom->def->name);
      return NULL;
    }
  return domain_def_format (def, DOMAIN_FORMAT_INACTIVE, -1);
}

void
domain_save (DomainObj *dom, const char *path, const char *dxml, guint flags,
             DomainDoneFn done, gpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *xml = NULL;
  if ((flags & ~(guint) (SAVE_BYPASS_CACHE | SAVE_RUNNING | SAVE_PAUSED))
      || (flags & SAVE_RUNNING && flags & SAVE_PAUSED))
    error = g_error_new (VIRT_ERROR, VIR_ERR_INVALID_ARG, _("unsupported flags (0x%x)"), flags);
  else if (!domain_is_active (dom) || !dom->vmm)
    error = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                         _("Requested operation is not valid: domain is not running"));
  else if (dom->saving || dom->stop_requested)
    error = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                         _("Requested operation is not valid: domain '%s' is already being saved or stopped"),
                         dom->def->name);
  else if (!g_path_is_absolute (path) || strchr (path, '\n'))
    error = g_error_new (VIRT_ERROR, VIR_ERR_INVALID_ARG,
                         _("the save image path '%s' must be absolute and on one line"), path);
  else
    xml = image_xml (dom, dxml, &error);
  if (!xml)
    {
      done (dom, error, data);
      return;
    }
  gboolean paused = dom->state == DOMAIN_STATE_PAUSED;
  SaveJob *job = g_new0 (SaveJob, 1);
  job->d = dom->daemon;
  job->name = g_strdup (dom->def->name);
  job->path = g_strdup (path);
  job->header = save_image_header_build (xml, flags & SAVE_PAUSED ? TRUE
                                              : flags & SAVE_RUNNING ? FALSE : paused);
  job->was_running = !paused;
  job->done = done;
  job->data = data;
  dom->saving = TRUE;
  if (paused)
    save_paused (dom->vmm, NULL, NULL, job);
  else
    vmm_process_command (dom->vmm, "stop", save_paused, job);
}

/* ---------------------------------------------------------------- */
/* restore */

static DomainDef *
image_def (const char *path, const char *dxml, gboolean *paused, GError **error)
{
  g_autofree char *xml = NULL;
  if (!save_image_read_header (path, &xml, paused, error))
    return NULL;
  g_autoptr (DomainDef) saved = domain_def_parse (xml, strlen (xml), DOMAIN_PARSE_DEFAULT, error);
  if (!saved)
    {
      g_prefix_error (error, _("the domain XML in save image %s is not valid: "), path);
      return NULL;
    }
  if (!dxml)
    return g_steal_pointer (&saved);
  DomainDef *given = domain_def_parse (dxml, strlen (dxml), DOMAIN_PARSE_DEFAULT, error);
  if (given && (memcmp (given->uuid, saved->uuid, 16) != 0 || !g_str_equal (given->name, saved->name)))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG,
                   _("the XML given describes domain '%s', but the save image holds '%s'"),
                   given->name, saved->name);
      g_clear_pointer (&given, domain_def_free);
    }
  return given;
}

gboolean
domain_restore (Daemon *d, const char *path, const char *dxml, guint flags,
                DomainDoneFn done, gpointer data, GError **error)
{
  if ((flags & ~(guint) (SAVE_BYPASS_CACHE | SAVE_RUNNING | SAVE_PAUSED))
      || (flags & SAVE_RUNNING && flags & SAVE_PAUSED))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("unsupported flags (0x%x)"), flags);
      return FALSE;
    }
  if (strchr (path, '\n') || strchr (path, '\r'))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG,
                   _("the save image path must be on one line"));
      return FALSE;
    }
  gboolean paused;
  g_autoptr (DomainDef) def = image_def (path, dxml, &paused, error);
  if (!def)
    return FALSE;
  DomainObj *dom = domain_obj_for_def (d, def, error);
  if (!dom)
    return FALSE;
  if (flags & SAVE_PAUSED)
    paused = TRUE;
  else if (flags & SAVE_RUNNING)
    paused = FALSE;
  domain_start_restore (dom, g_steal_pointer (&def), path, paused, FALSE, done, data);
  return TRUE;
}

char *
domain_save_image_xml (const char *path, GError **error)
{
  gboolean paused;
  g_autoptr (DomainDef) def = image_def (path, NULL, &paused, error);
  return def ? domain_def_format (def, DOMAIN_FORMAT_INACTIVE, -1) : NULL;
}

/* ---------------------------------------------------------------- */
/* managed save */

char *
domain_managed_save_path (DomainObj *dom)
{
  g_autofree char *file = g_strconcat (dom->def->name, ".save", NULL);
  return g_build_filename (dom->daemon->paths.save_dir, file, NULL);
}

gboolean
domain_has_managed_save (DomainObj *dom)
{
  g_autofree char *path = domain_managed_save_path (dom);
  return g_file_test (path, G_FILE_TEST_IS_REGULAR);
}

void
domain_managed_save (DomainObj *dom, guint flags, DomainDoneFn done, gpointer data)
{
  g_autoptr (GError) error = NULL;
  const char *dir = dom->daemon->paths.save_dir;
  if (!dom->persistent)
    error = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                         _("Requested operation is not valid: cannot do managed save for transient domain"));
  else if (g_mkdir_with_parents (dir, 0700) < 0)
    error = g_error_new (VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot create %s: %s"), dir,
                         g_strerror (errno));
  if (error)
    {
      done (dom, error, data);
      return;
    }
  g_autofree char *path = domain_managed_save_path (dom);
  domain_save (dom, path, NULL, flags, done, data);
}

gboolean
domain_managed_start (DomainObj *dom, gboolean paused, DomainDoneFn done, gpointer data)
{
  g_autofree char *image = domain_managed_save_path (dom);
  if (!g_file_test (image, G_FILE_TEST_IS_REGULAR))
    return FALSE;
  g_autoptr (GError) error = NULL;
  gboolean saved_paused;
  DomainDef *def = image_def (image, NULL, &saved_paused, &error);
  if (def && (memcmp (def->uuid, dom->def->uuid, 16) != 0 || !g_str_equal (def->name, dom->def->name)))
    {
      g_set_error (&error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                   _("the managed save image %s holds domain '%s', not '%s'"), image, def->name,
                   dom->def->name);
      g_clear_pointer (&def, domain_def_free);
    }
  if (!def)
    {
      done (dom, error, data);
      return TRUE;
    }
  domain_start_restore (dom, def, image, paused || saved_paused, TRUE, done, data);
  return TRUE;
}

gboolean
domain_managed_save_remove (DomainObj *dom, GError **error)
{
  g_autofree char *path = domain_managed_save_path (dom);
  if (g_unlink (path) < 0 && errno != ENOENT)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot remove %s: %s"), path,
                   g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}
