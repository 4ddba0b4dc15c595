/* The disks holding a Windows installation, as the assistant shows them. */
#include "dualboot-choice.h"

#include <glib/gi18n.h>

void
oriel_dualboot_candidate_free (OrielDualbootCandidate *candidate)
{
  if (candidate == NULL)
    return;
  oriel_host_disk_free (candidate->disk);
  g_ptr_array_unref (candidate->checks);
  g_free (candidate);
}

GPtrArray *
oriel_dualboot_scan_devices (const char *const *devices, const char *sysfs_root, const char *lock_dir,
                             guint *unreadable)
{
  GPtrArray *found = g_ptr_array_new_with_free_func ((GDestroyNotify) oriel_dualboot_candidate_free);

  *unreadable = 0;
  for (guint i = 0; devices[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      OrielHostDisk *disk = oriel_host_disk_probe (devices[i], sysfs_root, &error);
      OrielSafetyOptions options = { ORIEL_DUALBOOT_MODE_REAL, NULL, lock_dir, sysfs_root };
      OrielDualbootCandidate *c;
      const OrielWindowsInstall *win;

      if (disk == NULL)
        {
          if (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_ACCES)
              || g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_PERM)
              || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
            (*unreadable)++;
          continue;
        }
      if (disk->windows == NULL)
        {
          oriel_host_disk_free (disk);
          continue;
        }
      win = disk->windows;
      c = g_new0 (OrielDualbootCandidate, 1);
      c->disk = disk;
      c->checks = oriel_safety_checks_run (disk, &options);
      c->controller = win->bitlocker ? ORIEL_BOOT_CONTROLLER_NONE
                      : oriel_boot_controller_choose (disk->bus, win->stornvme_start, win->storahci_start);
      g_ptr_array_add (found, c);
    }
  return found;
}

GPtrArray *
oriel_dualboot_scan (const char *sysfs_root, guint *unreadable)
{
  /* Loop devices too: an image attached with losetup is as good a disk,
   * and only those holding Windows are listed. */
  g_autoptr (GPtrArray) devices = oriel_host_disk_list (sysfs_root, TRUE);

  g_ptr_array_add (devices, NULL);
  return oriel_dualboot_scan_devices ((const char *const *) devices->pdata, sysfs_root, NULL, unreadable);
}

char *
oriel_dualboot_describe_windows (const OrielHostDisk *disk)
{
  const OrielWindowsInstall *win = disk->windows;
  g_autoptr (GString) s = g_string_new (NULL);

  if (win == NULL)
    return g_strdup (_("No Windows installation"));
  if (win->bitlocker)
    return g_strdup_printf (_("Windows on partition %d, encrypted with BitLocker (its edition and build cannot be "
                              "read)"), win->partition);
  /* ProductName names the edition ("Windows 10 Pro"); EditionID
   * ("Professional") only when there is nothing better. */
  if (win->product_name != NULL)
    g_string_append (s, win->product_name);
  else if (win->edition_id != NULL)
    g_string_append_printf (s, _("Windows (%s)"), win->edition_id);
  else
    g_string_append (s, _("Windows"));
  if (win->current_build != NULL && win->display_version != NULL)
    g_string_append_printf (s, _(", build %s (%s)"), win->current_build, win->display_version);
  else if (win->current_build != NULL)
    g_string_append_printf (s, _(", build %s"), win->current_build);
  else
    g_string_append (s, _(", build unknown"));
  return g_string_free (g_steal_pointer (&s), FALSE);
}

char *
oriel_dualboot_describe_partitions (const OrielHostDisk *disk)
{
  g_autoptr (GString) s = g_string_new (NULL);

  for (guint i = 0; i < disk->partitions->len; i++)
    {
      const OrielHostPartition *p = disk->partitions->pdata[i];
      g_autofree char *size = g_format_size (p->size_bytes);

      if (s->len > 0)
        g_string_append_c (s, '\n');
      g_string_append_printf (s, _("Partition %d: %s (%s%s%s)"), p->number, oriel_part_role_label (p->role), size,
                              p->fs_type != NULL ? ", " : "", p->fs_type != NULL ? p->fs_type : "");
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static const char *
bus_label (const char *bus)
{
  if (g_strcmp0 (bus, "nvme") == 0)
    return _("NVMe");
  if (g_strcmp0 (bus, "sata") == 0)
    return _("SATA");
  if (g_strcmp0 (bus, "usb") == 0)
    return _("USB");
  if (g_strcmp0 (bus, "virtio") == 0)
    return _("virtio");
  if (g_strcmp0 (bus, "scsi") == 0)
    return _("SCSI");
  if (g_strcmp0 (bus, "loop") == 0)
    return _("loop device");
  if (g_strcmp0 (bus, "file") == 0)
    return _("image file");
  return _("unknown bus");
}

char *
oriel_dualboot_describe_disk (const OrielHostDisk *disk)
{
  g_autofree char *size = g_format_size (disk->size_bytes);

  if (disk->model != NULL && *disk->model != '\0')
    return g_strdup_printf (_("%s — %s (%s), %s"), disk->device, disk->model, size, bus_label (disk->bus));
  return g_strdup_printf (_("%s (%s), %s"), disk->device, size, bus_label (disk->bus));
}

const char *
oriel_dualboot_firmware_label (const OrielHostDisk *disk)
{
  if (g_strcmp0 (disk->firmware, "uefi") == 0)
    return _("UEFI");
  if (g_strcmp0 (disk->firmware, "bios") == 0)
    return _("BIOS");
  return NULL;
}

static const OrielSafetyCheck *
find_check (const OrielDualbootCandidate *candidate, const char *id)
{
  for (guint i = 0; i < candidate->checks->len; i++)
    {
      const OrielSafetyCheck *check = candidate->checks->pdata[i];
      if (g_str_equal (check->id, id))
        return check;
    }
  return NULL;
}

OrielDiskBus
oriel_dualboot_disk_bus (const OrielDualbootCandidate *candidate)
{
  switch (candidate->controller)
    {
    case ORIEL_BOOT_CONTROLLER_NVME: return ORIEL_DISK_BUS_NVME;
    case ORIEL_BOOT_CONTROLLER_AHCI: return ORIEL_DISK_BUS_SATA;
    case ORIEL_BOOT_CONTROLLER_NONE:
    default:
      return g_strcmp0 (candidate->disk->bus, "nvme") == 0 ? ORIEL_DISK_BUS_NVME : ORIEL_DISK_BUS_SATA;
    }
}

char *
oriel_dualboot_describe_controller (const OrielDualbootCandidate *candidate)
{
  const OrielSafetyCheck *check = find_check (candidate, "controller");
  const char *controller = oriel_dualboot_disk_bus (candidate) == ORIEL_DISK_BUS_NVME
                           ? _("NVMe controller") : _("SATA (AHCI) controller");

  if (check == NULL)
    return g_strdup_printf (_("Virtual disk controller: %s"), controller);
  if (check->advice != NULL)
    return g_strdup_printf (_("Virtual disk controller: %s. %s %s"), controller, check->message, check->advice);
  return g_strdup_printf (_("Virtual disk controller: %s. %s"), controller, check->message);
}

GArray *
oriel_dualboot_partitions (const OrielHostDisk *disk)
{
  GArray *parts = g_array_new (FALSE, TRUE, sizeof (OrielDualbootPartition));

  for (guint i = 0; i < disk->partitions->len; i++)
    {
      const OrielHostPartition *p = disk->partitions->pdata[i];
      OrielDualbootPartition part;

      if (!oriel_part_role_is_exposed (p->role))
        continue;
      part.number = p->number;
      part.role = oriel_part_role_name (p->role);
      g_array_append_val (parts, part);
    }
  return parts;
}

gboolean
oriel_dualboot_real_allowed (const OrielDualbootCandidate *candidate)
{
  if (candidate->disk->windows != NULL && candidate->disk->windows->bitlocker)
    return FALSE;
  for (guint i = 0; i < candidate->checks->len; i++)
    {
      const OrielSafetyCheck *check = candidate->checks->pdata[i];
      if (check->verdict == ORIEL_CHECK_REFUSE || check->verdict == ORIEL_CHECK_REFUSE_REAL)
        return FALSE;
    }
  return TRUE;
}

gboolean
oriel_dualboot_needs_confirmation (const OrielDualbootCandidate *candidate)
{
  for (guint i = 0; i < candidate->checks->len; i++)
    if (((const OrielSafetyCheck *) candidate->checks->pdata[i])->verdict == ORIEL_CHECK_CONFIRM)
      return TRUE;
  return FALSE;
}

const OrielSafetyCheck *
oriel_dualboot_first_blocking (const OrielDualbootCandidate *candidate, OrielDualbootMode mode, gboolean confirmed)
{
  for (guint i = 0; i < candidate->checks->len; i++)
    {
      const OrielSafetyCheck *check = candidate->checks->pdata[i];
      if (oriel_safety_check_blocks (check, mode, confirmed))
        return check;
    }
  return NULL;
}

gboolean
oriel_dualboot_host_secure_boot (const char *efivars_dir)
{
  g_autofree char *path = g_build_filename (efivars_dir, "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c", NULL);
  g_autofree char *data = NULL;
  gsize len = 0;

  /* efivarfs: 4 bytes of attributes, then the one-byte value. */
  if (!g_file_get_contents (path, &data, &len, NULL) || len != 5)
    return FALSE;
  return data[4] == 1;
}

const char *
oriel_dualboot_osinfo_id (const OrielHostDisk *disk)
{
  const char *build = disk->windows != NULL ? disk->windows->current_build : NULL;

  if (build != NULL && g_ascii_strtoull (build, NULL, 10) >= 22000)
    return "http://microsoft.com/win/11";
  return "http://microsoft.com/win/10";
}
