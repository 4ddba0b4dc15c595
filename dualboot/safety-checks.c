/* The dual-boot safety checks (see safety-checks.h). */
#include "safety-checks.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <string.h>

#include "disk-lock.h"
#include "host-use.h"
#include "partition-fingerprint.h"

const char *
oriel_check_verdict_name (OrielCheckVerdict verdict)
{
  switch (verdict)
    {
    case ORIEL_CHECK_PASS: return "pass";
    case ORIEL_CHECK_WARN: return "warn";
    case ORIEL_CHECK_CONFIRM: return "confirm";
    case ORIEL_CHECK_REFUSE_REAL: return "refuse-real";
    case ORIEL_CHECK_REFUSE:
    default: return "refuse";
    }
}

const char *
oriel_boot_controller_name (OrielBootController controller)
{
  switch (controller)
    {
    case ORIEL_BOOT_CONTROLLER_NVME: return "nvme";
    case ORIEL_BOOT_CONTROLLER_AHCI: return "ahci";
    case ORIEL_BOOT_CONTROLLER_NONE:
    default: return "none";
    }
}

OrielBootController
oriel_boot_controller_choose (const char *bus, int stornvme_start, int storahci_start)
{
  gboolean nvme = stornvme_start == ORIEL_SERVICE_START_BOOT;
  gboolean ahci = storahci_start == ORIEL_SERVICE_START_BOOT;

  if (nvme && ahci)
    return g_strcmp0 (bus, "sata") == 0 ? ORIEL_BOOT_CONTROLLER_AHCI : ORIEL_BOOT_CONTROLLER_NVME;
  if (nvme)
    return ORIEL_BOOT_CONTROLLER_NVME;
  if (ahci)
    return ORIEL_BOOT_CONTROLLER_AHCI;
  return ORIEL_BOOT_CONTROLLER_NONE;
}

gboolean
oriel_safety_check_blocks (const OrielSafetyCheck *check, OrielDualbootMode mode, gboolean confirmed)
{
  switch (check->verdict)
    {
    case ORIEL_CHECK_REFUSE: return TRUE;
    case ORIEL_CHECK_REFUSE_REAL: return mode == ORIEL_DUALBOOT_MODE_REAL;
    case ORIEL_CHECK_CONFIRM: return !confirmed;
    case ORIEL_CHECK_PASS:
    case ORIEL_CHECK_WARN:
    default: return FALSE;
    }
}

static void
check_free (OrielSafetyCheck *check)
{
  g_free (check->message);
  g_free (check->advice);
  g_free (check);
}

static void
add (GPtrArray *checks, const char *id, OrielCheckVerdict verdict, char *message, char *advice)
{
  OrielSafetyCheck *check = g_new0 (OrielSafetyCheck, 1);

  check->id = id;
  check->verdict = verdict;
  check->message = message;
  check->advice = advice;
  g_ptr_array_add (checks, check);
}

static char *
join (GPtrArray *names)
{
  g_autoptr (GString) out = g_string_new (NULL);

  for (guint i = 0; i < names->len; i++)
    g_string_append_printf (out, "%s%s", i > 0 ? ", " : "", (const char *) names->pdata[i]);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static char *
partition_title (const OrielHostPartition *p)
{
  return g_strdup_printf (_("Partition %d (%s)"), p->number, oriel_part_role_label (p->role));
}

static void
check_windows (GPtrArray *checks, const OrielHostDisk *disk)
{
  const OrielWindowsInstall *win = disk->windows;

  if (win == NULL)
    add (checks, "windows", ORIEL_CHECK_REFUSE,
         g_strdup_printf (_("No Windows installation was found on %s."), disk->device),
         g_strdup (_("Choose the disk that holds Windows: it has an NTFS partition with "
                     "Windows\\System32\\config\\SYSTEM, or a BitLocker partition.")));
  else if (win->bitlocker)
    add (checks, "windows", ORIEL_CHECK_PASS,
         g_strdup_printf (_("Partition %d holds a BitLocker volume, most likely Windows."), win->partition), NULL);
  else if (win->read_error != NULL)
    add (checks, "windows", ORIEL_CHECK_WARN,
         g_strdup_printf (_("Windows was found on partition %d, but part of it could not be read: %s"),
                          win->partition, win->read_error),
         NULL);
  else
    add (checks, "windows", ORIEL_CHECK_PASS,
         g_strdup_printf (_("%s (build %s) on partition %d."),
                          win->product_name != NULL ? win->product_name : _("Windows"),
                          win->current_build != NULL ? win->current_build : _("unknown"), win->partition),
         NULL);
}

static void
check_firmware (GPtrArray *checks, const OrielHostDisk *disk)
{
  if (g_strcmp0 (disk->firmware, "uefi") == 0)
    add (checks, "firmware", ORIEL_CHECK_PASS,
         g_strdup (_("Windows starts with UEFI: the EFI system partition holds Windows Boot Manager.")), NULL);
  else if (g_strcmp0 (disk->firmware, "bios") == 0)
    add (checks, "firmware", ORIEL_CHECK_PASS,
         g_strdup (_("Windows starts with BIOS from the active partition of the MBR.")), NULL);
  else
    add (checks, "firmware", ORIEL_CHECK_REFUSE,
         g_strdup (_("No way to start Windows was found: neither an EFI system partition holding "
                     "EFI\\Microsoft\\Boot\\bootmgfw.efi nor an active NTFS partition in an MBR.")),
         g_strdup (_("Check that this is the disk Windows starts from.")));
}

static void
check_host_use (GPtrArray *checks, const OrielHostDisk *disk, const char *sysfs_root)
{
  g_autoptr (GString) refused = g_string_new (NULL);
  g_autoptr (GString) warned = g_string_new (NULL);
  g_autoptr (GString) advice = g_string_new (NULL);

  if (disk->devnum != 0)
    {
      g_autoptr (OrielHostUse) use = oriel_host_use_query (disk->devnum, disk->name, disk->device, sysfs_root);

      if (use->holders->len > 0)
        {
          g_autofree char *names = join (use->holders);
          g_string_append_printf (refused, _("The whole disk is in use by %s (device-mapper, RAID or LVM)."), names);
          g_string_append_c (refused, '\n');
        }
      if (use->mount_points->len > 0)
        {
          g_string_append_printf (refused, _("The whole disk is mounted at %s."),
                                  (char *) use->mount_points->pdata[0]);
          g_string_append_c (refused, '\n');
        }
    }
  for (guint i = 0; i < disk->partitions->len; i++)
    {
      const OrielHostPartition *p = disk->partitions->pdata[i];
      g_autoptr (OrielHostUse) use = NULL;
      g_autofree char *title = NULL;
      g_autofree char *node = NULL;

      if (!oriel_part_role_is_exposed (p->role) || p->devnum == 0)
        continue;
      use = oriel_host_use_query (p->devnum, p->device != NULL ? strrchr (p->device, '/') + 1 : NULL, p->device,
                                  sysfs_root);
      title = partition_title (p);
      node = g_strdup (p->device != NULL ? p->device : "");
      /* The VM gets a copy of the ESP taken at start, so a host that has
       * it at /boot/efi keeps it. */
      if (p->role == ORIEL_PART_ROLE_ESP && use->mount_points->len > 0 && !use->swap && use->holders->len == 0)
        {
          g_string_append_printf (warned, _("%s is mounted on this computer at %s. The virtual machine works on "
                                            "its own copy of it, so this computer's boot files stay as they are."),
                                  title, (char *) use->mount_points->pdata[0]);
          g_string_append_c (warned, '\n');
          continue;
        }
      if (use->mount_points->len > 0)
        {
          g_string_append_printf (refused, _("%s is mounted on this computer at %s."), title,
                                  (char *) use->mount_points->pdata[0]);
          g_string_append_c (refused, '\n');
          g_string_append_printf (advice, _("Unmount %s (for example: udisksctl unmount -b %s), then try again."),
                                  (char *) use->mount_points->pdata[0], node);
          g_string_append_c (advice, '\n');
        }
      if (use->swap)
        {
          g_string_append_printf (refused, _("%s is used as swap by this computer."), title);
          g_string_append_c (refused, '\n');
          g_string_append_printf (advice, _("Turn the swap off (swapoff %s) and remove it from /etc/fstab."), node);
          g_string_append_c (advice, '\n');
        }
      if (use->holders->len > 0)
        {
          g_autofree char *names = join (use->holders);
          g_string_append_printf (refused, _("%s is in use by %s (device-mapper, RAID or LVM)."), title, names);
          g_string_append_c (refused, '\n');
          g_string_append (advice, _("Stop the volume that uses it, then try again."));
          g_string_append_c (advice, '\n');
        }
    }
  if (refused->len > 0)
    {
      g_string_append (refused, warned->str);
      g_strchomp (refused->str);
      g_strchomp (advice->str);
      add (checks, "host-use", ORIEL_CHECK_REFUSE, g_strdup (refused->str),
           g_strdup (advice->len > 0 && *advice->str != '\0'
                     ? advice->str : _("Stop this computer's use of the disk, then try again.")));
    }
  else if (warned->len > 0)
    add (checks, "host-use", ORIEL_CHECK_WARN, g_strchomp (g_strdup (warned->str)), NULL);
  else
    add (checks, "host-use", ORIEL_CHECK_PASS,
         g_strdup (_("This computer does not use the Windows partitions (not mounted, not swap, not held).")), NULL);
}

static void
check_hibernation (GPtrArray *checks, const OrielHostDisk *disk)
{
  const OrielWindowsInstall *win = disk->windows;

  if (win == NULL || win->bitlocker)
    add (checks, "hibernation", ORIEL_CHECK_WARN,
         g_strdup (_("Whether Windows is hibernated cannot be checked on an encrypted volume.")),
         g_strdup (_("Before starting it in a virtual machine, shut Windows down fully: run powercfg /h off "
                     "in Windows, then shut down.")));
  else if (win->hibernated)
    add (checks, "hibernation", ORIEL_CHECK_REFUSE_REAL,
         g_strdup (_("Windows is hibernated (Fast Startup is on).")),
         g_strdup (_("Start Windows, run powercfg /h off, shut down, then try again.")));
  else if (win->volume_dirty || win->logfile_unclean)
    add (checks, "hibernation", ORIEL_CHECK_REFUSE_REAL,
         g_strdup (win->volume_dirty
                   ? _("Windows did not shut down cleanly: its volume is marked dirty (a crash, or Fast Startup).")
                   : _("Windows did not shut down cleanly: its NTFS journal holds changes not yet written.")),
         g_strdup (_("Start Windows, run powercfg /h off, shut down, then try again.")));
  else
    add (checks, "hibernation", ORIEL_CHECK_PASS, g_strdup (_("Windows was shut down cleanly.")), NULL);
}

static void
check_bitlocker (GPtrArray *checks, const OrielHostDisk *disk)
{
  if (disk->windows != NULL && disk->windows->bitlocker)
    add (checks, "bitlocker", ORIEL_CHECK_CONFIRM,
         g_strdup (_("Windows is encrypted with BitLocker. It will ask for its recovery key when it starts in the "
                     "virtual machine, because the virtual machine's firmware and TPM differ from this computer's.")),
         g_strdup (_("Have the recovery key at hand (it is saved in your Microsoft account or where you printed "
                     "it). Start in trial mode first.")));
  else
    add (checks, "bitlocker", ORIEL_CHECK_PASS, g_strdup (_("Windows is not encrypted with BitLocker.")), NULL);
}

static void
check_partition_table (GPtrArray *checks, const OrielHostDisk *disk, const char *recorded)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *current = oriel_partition_fingerprint_record (disk, &error);
  g_autofree char *difference = NULL;

  if (current == NULL)
    add (checks, "partition-table", ORIEL_CHECK_REFUSE,
         g_strdup_printf (_("The partition table cannot be read: %s"), error->message), NULL);
  else if (recorded == NULL)
    add (checks, "partition-table", ORIEL_CHECK_PASS,
         g_strdup (_("The partition table will be recorded, and checked before every start.")), NULL);
  else if (oriel_partition_fingerprint_compare (recorded, current, &difference))
    add (checks, "partition-table", ORIEL_CHECK_PASS,
         g_strdup (_("The partition table is the one recorded when the virtual machine was created.")), NULL);
  else
    add (checks, "partition-table", ORIEL_CHECK_REFUSE,
         g_strdup_printf (_("The partition table changed since the virtual machine was created:\n%s"), difference),
         g_strdup (_("Check that Windows is still where it was. If the change is intended, create the virtual "
                     "machine again so it records the new table.")));
}

static void
check_controller (GPtrArray *checks, const OrielHostDisk *disk)
{
  const OrielWindowsInstall *win = disk->windows;
  OrielBootController controller;

  if (win == NULL || win->bitlocker || win->stornvme_start < 0 || win->storahci_start < 0)
    {
      add (checks, "controller", ORIEL_CHECK_WARN,
           g_strdup (_("Which storage drivers Windows starts at boot could not be read; the disk is presented "
                       "on the same kind of controller as in this computer.")),
           g_strdup (_("If Windows stops with INACCESSIBLE_BOOT_DEVICE, start it on this computer and enable "
                       "the other driver (sc config stornvme start= boot, or storahci).")));
      return;
    }
  controller = oriel_boot_controller_choose (disk->bus, win->stornvme_start, win->storahci_start);
  if (controller == ORIEL_BOOT_CONTROLLER_NVME)
    add (checks, "controller", ORIEL_CHECK_PASS,
         g_strdup (_("Windows starts its NVMe driver (stornvme) at boot: the disk is presented on an NVMe controller.")),
         NULL);
  else if (controller == ORIEL_BOOT_CONTROLLER_AHCI)
    add (checks, "controller", ORIEL_CHECK_PASS,
         g_strdup (_("Windows starts its AHCI driver (storahci) at boot: the disk is presented on a SATA (AHCI) "
                     "controller.")),
         NULL);
  else
    add (checks, "controller", ORIEL_CHECK_REFUSE_REAL,
         g_strdup (_("Windows starts neither its NVMe driver (stornvme) nor its AHCI driver (storahci) at boot, "
                     "so it would stop with INACCESSIBLE_BOOT_DEVICE.")),
         g_strdup (_("Start Windows on this computer, run sc config stornvme start= boot (or storahci) as "
                     "administrator, restart it once, shut it down, then try again.")));
}

static void
check_lock (GPtrArray *checks, const OrielHostDisk *disk, const char *lock_dir)
{
  g_autoptr (GError) error = NULL;
  int holder = 0;

  if (oriel_disk_lock_is_free (disk, lock_dir, &holder, &error))
    add (checks, "disk-lock", ORIEL_CHECK_PASS, g_strdup (_("No other virtual machine uses this disk.")), NULL);
  else if (error != NULL)
    add (checks, "disk-lock", ORIEL_CHECK_REFUSE,
         g_strdup_printf (_("Whether another virtual machine uses this disk cannot be checked: %s"), error->message),
         NULL);
  else
    add (checks, "disk-lock", ORIEL_CHECK_REFUSE,
         holder > 0 ? g_strdup_printf (_("Another virtual machine is using this disk (process %d)."), holder)
                    : g_strdup (_("Another virtual machine is using this disk.")),
         g_strdup (_("Shut down the other virtual machine first.")));
}

GPtrArray *
oriel_safety_checks_run (const OrielHostDisk *disk, const OrielSafetyOptions *options)
{
  GPtrArray *checks = g_ptr_array_new_with_free_func ((GDestroyNotify) check_free);
  const char *sysfs_root = options->sysfs_root != NULL ? options->sysfs_root : "/sys";

  check_windows (checks, disk);
  check_firmware (checks, disk);
  check_host_use (checks, disk, sysfs_root);
  check_hibernation (checks, disk);
  check_bitlocker (checks, disk);
  check_partition_table (checks, disk, options->recorded_fingerprint);
  check_controller (checks, disk);
  check_lock (checks, disk, options->lock_dir);
  add (checks, "activation", ORIEL_CHECK_WARN,
       g_strdup (_("Windows may say it is not activated while it runs in the virtual machine, because the "
                   "hardware it sees is different.")),
       g_strdup (_("Its activation on this computer is not affected. Do not change the product key inside the "
                   "virtual machine.")));
  return checks;
}
