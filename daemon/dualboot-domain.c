/* Dual-boot domains (see dualboot-domain.h and README.md, "Dual boot"). */
#include "dualboot-domain.h"
#include "dualboot-map.h"
#include "host-disk.h"
#include "partition-fingerprint.h"
#include "safety-checks.h"
#include "virt-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define MAP_FILE "map"
#define ESP_OVERLAY "esp.qcow2"
#define TRIAL_OVERLAY "trial.qcow2"
/* The fingerprint record (partition-fingerprint.h) whose hash the XML
 * keeps: it lets a refusal name what changed. */
#define RECORD_FILE "partition-table"

DomainDisk *
dualboot_domain_disk (const DomainDef *def)
{
  for (guint i = 0; i < def->disks->len; i++)
    if (((DomainDisk *) def->disks->pdata[i])->dualboot)
      return def->disks->pdata[i];
  return NULL;
}

char *
dualboot_domain_dir (Daemon *d, const char *name)
{
  return g_build_filename (d->paths.dualboot_dir, name, NULL);
}

static char *
domain_file (Daemon *d, const char *name, const char *file)
{
  g_autofree char *dir = dualboot_domain_dir (d, name);
  return g_build_filename (dir, file, NULL);
}

static OrielHostDisk *
probe (const DomainDisk *disk, GError **error)
{
  g_autoptr (GError) e = NULL;
  OrielHostDisk *hd = oriel_host_disk_probe (disk->source, "/sys", &e);
  if (!hd)
    g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                 _("Requested operation is not valid: cannot read the dual-boot disk %s: %s"), disk->source,
                 e->message);
  return hd;
}

static const OrielHostPartition *
find_partition (const OrielHostDisk *hd, int number)
{
  for (guint i = 0; i < hd->partitions->len; i++)
    if (((OrielHostPartition *) hd->partitions->pdata[i])->number == number)
      return hd->partitions->pdata[i];
  return NULL;
}

/* Every listed partition exists and has the role the scan finds. */
static gboolean
check_partitions (const OrielHostDisk *hd, const DomainDualboot *db, GError **error)
{
  for (guint i = 0; i < db->partitions->len; i++)
    {
      const DomainDualbootPartition *want = db->partitions->pdata[i];
      const OrielHostPartition *p = find_partition (hd, want->number);
      if (!p)
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                       _("unsupported configuration: partition %d in <oriel:dualboot> does not exist on %s"),
                       want->number, hd->device);
          return FALSE;
        }
      const char *role = oriel_part_role_name (p->role);
      if (!g_str_equal (role, want->role))
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                       _("unsupported configuration: partition %d of %s is '%s' (%s), not '%s' as "
                         "<oriel:dualboot> says"),
                       want->number, hd->device, role, oriel_part_role_label (p->role), want->role);
          return FALSE;
        }
    }
  return TRUE;
}

/* The hash line of a fingerprint record. */
static char *
record_sha (const char *record)
{
  if (!record || !g_str_has_prefix (record, "sha256\t"))
    return NULL;
  const char *start = record + strlen ("sha256\t");
  return g_strndup (start, strcspn (start, "\n"));
}

/* A map file line cannot take these. */
static gboolean
check_path (const char *what, const char *path, GError **error)
{
  for (const char *c = path; *c; c++)
    if (*c == '#' || g_ascii_iscntrl (*c))
      {
        g_set_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                     _("unsupported configuration: %s '%s' contains a character the map file cannot take"),
                     what, path);
        return FALSE;
      }
  return TRUE;
}

static gboolean
remove_file (const char *path, GError **error)
{
  if (g_unlink (path) < 0 && errno != ENOENT)
    {
      int e = errno;
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot remove %s: %s"), path, g_strerror (e));
      return FALSE;
    }
  return TRUE;
}

/* qemu-img create into a private name, then linked into place: an
 * existing overlay (the guest's writes) is never replaced. */
static gboolean
create_overlay (const char *path, guint64 size, GError **error)
{
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED, _("%s is not a regular file"), path);
          return FALSE;
        }
      return TRUE;
    }
  g_autofree char *tmp = g_strdup_printf ("%s.XXXXXX", path);
  int fd = g_mkstemp_full (tmp, O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot create %s: %s"), tmp, g_strerror (errno));
      return FALSE;
    }
  close (fd);
  g_autofree char *size_text = g_strdup_printf ("%" G_GUINT64_FORMAT, size);
  const char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", tmp, size_text, NULL };
  g_autofree char *err = NULL;
  int status = 0;
  g_autoptr (GError) local = NULL;
  gboolean ok = g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                              NULL, NULL, NULL, &err, &status, &local);
  if (!ok)
    g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot run qemu-img (package qemu-utils): %s"),
                 local->message);
  else if (!(ok = g_spawn_check_wait_status (status, NULL)))
    g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("qemu-img create %s failed: %s"), path,
                 err && *err ? g_strstrip (err) : _("no message"));
  else if (link (tmp, path) < 0 && errno != EEXIST)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot create %s: %s"), path, g_strerror (errno));
      ok = FALSE;
    }
  g_unlink (tmp);
  return ok;
}

/* The domain's directory: the overlays its mode needs (when missing) and
 * the map, rewritten from the disk as it is now.  *map_out: its path. */
static gboolean
write_files (Daemon *d, const char *name, const DomainDisk *disk, const OrielHostDisk *hd, char **map_out,
             GError **error)
{
  const DomainDualboot *db = disk->dualboot;
  gboolean trial = g_str_equal (db->mode, "trial");
  g_autofree char *dir = dualboot_domain_dir (d, name);
  g_autofree char *map = g_build_filename (dir, MAP_FILE, NULL);
  g_autofree char *esp = g_build_filename (dir, ESP_OVERLAY, NULL);
  g_autofree char *trial_path = g_build_filename (dir, TRIAL_OVERLAY, NULL);
  if (!check_path (_("disk source"), disk->source, error) || !check_path (_("dual-boot directory"), dir, error))
    return FALSE;
  g_autoptr (GArray) ranges = dualboot_map_ranges (hd, db, error);
  if (!ranges)
    return FALSE;
  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot create %s: %s"), dir, g_strerror (errno));
      return FALSE;
    }
  if (!create_overlay (esp, hd->size_bytes, error) || (trial && !create_overlay (trial_path, hd->size_bytes, error)))
    return FALSE;
  g_autofree char *text = dualboot_map_format (disk->source, db->mode, esp, trial ? trial_path : NULL, ranges);
  g_autoptr (GError) e = NULL;
  if (!g_file_set_contents_full (map, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &e))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot write the map file: %s"), e->message);
      return FALSE;
    }
  if (map_out)
    *map_out = g_steal_pointer (&map);
  return TRUE;
}

gboolean
dualboot_domain_remove (Daemon *d, const char *name, GError **error)
{
  g_autofree char *dir = dualboot_domain_dir (d, name);
  const char *files[] = { MAP_FILE, ESP_OVERLAY, TRIAL_OVERLAY, RECORD_FILE };
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (dir, files[i], NULL);
      if (!remove_file (path, error))
        return FALSE;
    }
  if (g_rmdir (dir) < 0 && errno != ENOENT)
    {
      int e = errno;
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot remove %s: %s"), dir, g_strerror (e));
      return FALSE;
    }
  return TRUE;
}

gboolean
dualboot_domain_define (Daemon *d, DomainDef *def, const DomainDef *old, gboolean running, GError **error)
{
  DomainDisk *disk = dualboot_domain_disk (def);
  DomainDisk *old_disk = old ? dualboot_domain_disk (old) : NULL;
  g_autofree char *trial_path = domain_file (d, def->name, TRIAL_OVERLAY);
  if (!disk)
    {
      if (!old_disk)
        return TRUE;
      if (running)
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                       _("Requested operation is not valid: domain '%s' runs on its dual-boot disk; shut it "
                         "down before removing <oriel:dualboot>"), def->name);
          return FALSE;
        }
      return dualboot_domain_remove (d, def->name, error);
    }
  DomainDualboot *db = disk->dualboot;
  gboolean same_disk = old_disk && g_str_equal (old_disk->source, disk->source);
  gboolean drop_trial = db->discard_trial
                        || (old_disk && g_str_equal (old_disk->dualboot->mode, "trial")
                            && g_str_equal (db->mode, "real"));
  if (running && (!same_disk || drop_trial || !g_str_equal (old_disk->dualboot->mode, db->mode)))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                   _("Requested operation is not valid: domain '%s' is running; shut it down before changing its "
                     "dual-boot disk, its mode or discarding its trial"), def->name);
      return FALSE;
    }
  db->discard_trial = FALSE;

  g_autoptr (OrielHostDisk) hd = probe (disk, error);
  if (!hd || !check_partitions (hd, db, error))
    return FALSE;
  g_autoptr (GError) e = NULL;
  g_autofree char *record = oriel_partition_fingerprint_record (hd, &e);
  if (!record)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                   _("Requested operation is not valid: cannot fingerprint the partition table of %s: %s"),
                   disk->source, e->message);
      return FALSE;
    }
  g_autofree char *sha = record_sha (record);
  if (!db->fingerprint)
    db->fingerprint = g_strdup (sha);
  if (running)
    return TRUE;

  /* Files of another disk, or left by an earlier domain of this name,
   * mean nothing for this one. */
  if (!same_disk && !dualboot_domain_remove (d, def->name, error))
    return FALSE;
  if (drop_trial && !remove_file (trial_path, error))
    return FALSE;
  if (!write_files (d, def->name, disk, hd, NULL, error))
    return FALSE;
  /* Kept only when it is the table the definition names: a hand-written
   * fingerprint of another table is compared by hash alone. */
  g_autofree char *record_path = domain_file (d, def->name, RECORD_FILE);
  if (g_str_equal (sha, db->fingerprint)
      && !g_file_set_contents_full (record_path, record, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &e))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot write %s: %s"), record_path, e->message);
      return FALSE;
    }
  return TRUE;
}

/* The record the partition-table check compares with: the one kept at
 * define, or, when it is missing or of another table, the fingerprint
 * alone with the current partition lines (the difference then says that
 * the table's bytes changed). */
static char *
recorded_table (Daemon *d, const char *name, const char *fingerprint, const OrielHostDisk *hd)
{
  g_autofree char *path = domain_file (d, name, RECORD_FILE);
  g_autofree char *kept = NULL;
  if (g_file_get_contents (path, &kept, NULL, NULL))
    {
      g_autofree char *sha = record_sha (kept);
      if (g_strcmp0 (sha, fingerprint) == 0)
        return g_steal_pointer (&kept);
    }
  g_autofree char *current = oriel_partition_fingerprint_record (hd, NULL);
  const char *lines = current ? strchr (current, '\n') : NULL;
  return g_strdup_printf ("sha256\t%s\n%s", fingerprint, lines ? lines + 1 : "");
}

gboolean
dualboot_domain_prepare_start (Daemon *d, DomainDef *live, OrielDiskLock **lock, GError **error)
{
  *lock = NULL;
  DomainDisk *disk = dualboot_domain_disk (live);
  if (!disk)
    return TRUE;
  const DomainDualboot *db = disk->dualboot;
  if (!db->fingerprint)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                   _("Requested operation is not valid: the dual-boot disk %s has no recorded partition table "
                     "(define the domain with virsh define first)"), disk->source);
      return FALSE;
    }
  g_autoptr (OrielHostDisk) hd = probe (disk, error);
  if (!hd)
    return FALSE;
  OrielDualbootMode mode = g_str_equal (db->mode, "real") ? ORIEL_DUALBOOT_MODE_REAL : ORIEL_DUALBOOT_MODE_TRIAL;
  g_autofree char *recorded = recorded_table (d, live->name, db->fingerprint, hd);
  OrielSafetyOptions options = {
    .mode = mode,
    .recorded_fingerprint = recorded,
    .lock_dir = d->paths.state_dir,
  };
  g_autoptr (GPtrArray) checks = oriel_safety_checks_run (hd, &options);
  g_autoptr (GString) refused = g_string_new (NULL);
  for (guint i = 0; i < checks->len; i++)
    {
      const OrielSafetyCheck *c = checks->pdata[i];
      if (oriel_safety_check_blocks (c, mode, db->confirm_bitlocker && g_str_equal (c->id, "bitlocker")))
        {
          g_string_append_printf (refused, "\n%s: %s", c->id, c->message);
          if (c->advice)
            g_string_append_printf (refused, "\n  %s", c->advice);
        }
      else if (c->verdict != ORIEL_CHECK_PASS)
        g_message ("domain %s: dual-boot check %s (%s): %s%s%s", live->name, c->id,
                   oriel_check_verdict_name (c->verdict), c->message, c->advice ? " " : "",
                   c->advice ? c->advice : "");
    }
  if (refused->len)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                   _("Requested operation is not valid: the dual-boot disk %s cannot be used in %s mode:%s"),
                   disk->source, db->mode, refused->str);
      return FALSE;
    }
  g_autoptr (GError) e = NULL;
  g_autoptr (OrielDiskLock) held = oriel_disk_lock_acquire (hd, d->paths.state_dir, &e);
  if (!held)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                   _("Requested operation is not valid: the dual-boot disk %s cannot be used in %s mode:\n"
                     "disk-lock: %s\n  %s"),
                   disk->source, db->mode, e->message, _("Shut down the other virtual machine first."));
      return FALSE;
    }
  g_free (disk->live_map);
  disk->live_map = NULL;
  if (!write_files (d, live->name, disk, hd, &disk->live_map, error))
    return FALSE;
  *lock = g_steal_pointer (&held);
  return TRUE;
}
