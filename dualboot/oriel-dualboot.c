/* oriel-dualboot: finds this computer's Windows installation and runs the
 * dual-boot safety checks on it, as the daemon does before every start.
 *
 *   oriel-dualboot scan [--device DEV] [--mode real|trial] [--fingerprint FILE] [--json]
 *   oriel-dualboot fingerprint --device DEV
 *   oriel-dualboot lock --device DEV     (holds the disk's lock until stdin closes)
 */
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <locale.h>
#include <stdio.h>
#include <unistd.h>

#include "disk-lock.h"
#include "host-disk.h"
#include "partition-fingerprint.h"
#include "safety-checks.h"

enum { EXIT_OK = 0, EXIT_REFUSED = 1, EXIT_ERROR = 2 };

static char *opt_device;
static char *opt_mode;
static char *opt_fingerprint;
static char *opt_lock_dir;
static char *opt_sysfs = NULL;
static char **opt_confirm;
static gboolean opt_json;
static gboolean opt_loop;

static GOptionEntry entries[] = {
  { "device", 'd', 0, G_OPTION_ARG_FILENAME, &opt_device, N_("Disk (or disk image) to scan; default: every disk"), N_("DEV") },
  { "mode", 'm', 0, G_OPTION_ARG_STRING, &opt_mode, N_("Mode the checks are for: real (default) or trial"), N_("MODE") },
  { "fingerprint", 'f', 0, G_OPTION_ARG_FILENAME, &opt_fingerprint, N_("Partition table record to compare with"), N_("FILE") },
  { "confirm", 'c', 0, G_OPTION_ARG_STRING_ARRAY, &opt_confirm, N_("Accept a check that asks for confirmation (bitlocker)"), N_("CHECK") },
  { "lock-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_lock_dir, N_("Directory of the per-disk locks (default /run/oriel)"), N_("DIR") },
  { "sysfs", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, &opt_sysfs, NULL, NULL },
  { "include-loop", 0, 0, G_OPTION_ARG_NONE, &opt_loop, N_("Also list loop devices when scanning every disk"), NULL },
  { "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json, N_("Print JSON"), NULL },
  G_OPTION_ENTRY_NULL,
};

static const char *
sysfs_root (void)
{
  return opt_sysfs != NULL ? opt_sysfs : "/sys";
}

static char *
size_text (guint64 bytes)
{
  return g_format_size_full (bytes, G_FORMAT_SIZE_IEC_UNITS);
}

static void
print_disk (const OrielHostDisk *disk)
{
  g_autofree char *size = size_text (disk->size_bytes);
  const OrielWindowsInstall *win = disk->windows;

  g_print (_("Disk %s: bus %s, serial %s, %s, %u-byte sectors\n"), disk->device, disk->bus,
           disk->serial != NULL ? disk->serial : _("none"), size, disk->sector_size);
  if (disk->model != NULL)
    g_print (_("  Model: %s\n"), disk->model);
  if (disk->table_type == NULL)
    {
      g_print (_("  No partition table\n"));
      return;
    }
  g_print (_("  Partition table: %s (%s)\n"), g_str_equal (disk->table_type, "gpt") ? "GPT" : "MBR",
           disk->table_id != NULL ? disk->table_id : "-");
  for (guint i = 0; i < disk->partitions->len; i++)
    {
      const OrielHostPartition *p = disk->partitions->pdata[i];
      g_autofree char *psize = size_text (p->size_bytes);

      g_print ("  %2d  %-9s %-10s %10s  %s%s%s%s\n", p->number, oriel_part_role_name (p->role),
               p->fs_type != NULL ? p->fs_type : "-", psize, p->type,
               p->name != NULL ? "  “" : "", p->name != NULL ? p->name : "", p->name != NULL ? "”" : "");
    }
  if (win == NULL)
    g_print (_("  Windows: not found\n"));
  else if (win->bitlocker)
    g_print (_("  Windows: BitLocker volume on partition %d\n"), win->partition);
  else
    {
      g_print (_("  Windows: %s, edition %s, build %s, version %s, on partition %d\n"),
               win->product_name ?: "?", win->edition_id ?: "?", win->current_build ?: "?",
               win->display_version ?: "?", win->partition);
      g_print (_("  Boot drivers (ControlSet%03d): stornvme Start=%d, storahci Start=%d → controller %s\n"),
               win->control_set, win->stornvme_start, win->storahci_start,
               oriel_boot_controller_name (oriel_boot_controller_choose (disk->bus, win->stornvme_start,
                                                                         win->storahci_start)));
      if (win->has_hiberfil)
        g_print (_("  hiberfil.sys header: “%s”\n"), win->hiberfil_magic);
    }
  g_print (_("  Firmware: %s\n"), disk->firmware != NULL ? (g_str_equal (disk->firmware, "uefi") ? "UEFI" : "BIOS")
                                                        : _("unknown"));
}

static gboolean
is_confirmed (const char *id)
{
  return opt_confirm != NULL && g_strv_contains ((const char *const *) opt_confirm, id);
}

static gboolean
print_checks (GPtrArray *checks, OrielDualbootMode mode)
{
  gboolean blocked = FALSE;

  g_print (_("  Checks for %s mode:\n"), mode == ORIEL_DUALBOOT_MODE_REAL ? "real" : "trial");
  for (guint i = 0; i < checks->len; i++)
    {
      const OrielSafetyCheck *c = checks->pdata[i];
      gboolean blocks = oriel_safety_check_blocks (c, mode, is_confirmed (c->id));
      g_auto (GStrv) lines = g_strsplit (c->message, "\n", -1);

      blocked |= blocks;
      g_print ("    [%s] %s: %s\n", blocks ? "REFUSED" : oriel_check_verdict_name (c->verdict), c->id, lines[0]);
      for (guint j = 1; lines[j] != NULL; j++)
        g_print ("        %s\n", lines[j]);
      if (c->advice != NULL && c->verdict != ORIEL_CHECK_PASS)
        g_print ("        → %s\n", c->advice);
    }
  return blocked;
}

static void
add_string (JsonBuilder *b, const char *key, const char *value)
{
  json_builder_set_member_name (b, key);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
add_int (JsonBuilder *b, const char *key, gint64 value)
{
  json_builder_set_member_name (b, key);
  json_builder_add_int_value (b, value);
}

static void
add_bool (JsonBuilder *b, const char *key, gboolean value)
{
  json_builder_set_member_name (b, key);
  json_builder_add_boolean_value (b, value);
}

static void
json_disk (JsonBuilder *b, const OrielHostDisk *disk, GPtrArray *checks, OrielDualbootMode mode, gboolean blocked)
{
  const OrielWindowsInstall *win = disk->windows;

  json_builder_begin_object (b);
  add_string (b, "device", disk->device);
  add_string (b, "name", disk->name);
  add_string (b, "bus", disk->bus);
  add_string (b, "serial", disk->serial);
  add_string (b, "model", disk->model);
  add_int (b, "size", (gint64) disk->size_bytes);
  add_int (b, "sector_size", disk->sector_size);
  add_string (b, "table", disk->table_type);
  add_string (b, "table_id", disk->table_id);
  json_builder_set_member_name (b, "partitions");
  json_builder_begin_array (b);
  for (guint i = 0; i < disk->partitions->len; i++)
    {
      const OrielHostPartition *p = disk->partitions->pdata[i];

      json_builder_begin_object (b);
      add_int (b, "number", p->number);
      add_int (b, "start", (gint64) p->start_bytes);
      add_int (b, "size", (gint64) p->size_bytes);
      add_string (b, "type", p->type);
      add_string (b, "name", p->name);
      add_string (b, "uuid", p->uuid);
      add_bool (b, "bootable", p->bootable);
      add_string (b, "fs", p->fs_type);
      add_string (b, "label", p->fs_label);
      add_string (b, "device", p->device);
      add_string (b, "role", oriel_part_role_name (p->role));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  add_string (b, "firmware", disk->firmware);
  add_bool (b, "esp_has_bootmgr", disk->esp_has_bootmgr);
  json_builder_set_member_name (b, "windows");
  if (win == NULL)
    json_builder_add_null_value (b);
  else
    {
      json_builder_begin_object (b);
      add_int (b, "partition", win->partition);
      add_bool (b, "bitlocker", win->bitlocker);
      add_string (b, "product_name", win->product_name);
      add_string (b, "edition_id", win->edition_id);
      add_string (b, "current_build", win->current_build);
      add_string (b, "display_version", win->display_version);
      add_int (b, "control_set", win->control_set);
      add_int (b, "stornvme_start", win->stornvme_start);
      add_int (b, "storahci_start", win->storahci_start);
      add_string (b, "controller",
                  oriel_boot_controller_name (oriel_boot_controller_choose (disk->bus, win->stornvme_start,
                                                                            win->storahci_start)));
      add_string (b, "hiberfil_magic", win->has_hiberfil ? win->hiberfil_magic : NULL);
      add_bool (b, "hibernated", win->hibernated);
      add_bool (b, "volume_dirty", win->volume_dirty);
      add_bool (b, "logfile_unclean", win->logfile_unclean);
      add_string (b, "read_error", win->read_error);
      json_builder_end_object (b);
    }
  if (checks != NULL)
    {
      add_string (b, "mode", mode == ORIEL_DUALBOOT_MODE_REAL ? "real" : "trial");
      add_bool (b, "refused", blocked);
      json_builder_set_member_name (b, "checks");
      json_builder_begin_array (b);
      for (guint i = 0; i < checks->len; i++)
        {
          const OrielSafetyCheck *c = checks->pdata[i];

          json_builder_begin_object (b);
          add_string (b, "id", c->id);
          add_string (b, "verdict", oriel_check_verdict_name (c->verdict));
          add_bool (b, "blocks", oriel_safety_check_blocks (c, mode, is_confirmed (c->id)));
          add_string (b, "message", c->message);
          add_string (b, "advice", c->advice);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
    }
  json_builder_end_object (b);
}

static int
cmd_scan (void)
{
  g_autoptr (GPtrArray) devices = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *recorded = NULL;
  OrielDualbootMode mode = ORIEL_DUALBOOT_MODE_REAL;
  int status = EXIT_OK;
  guint with_windows = 0;

  if (opt_mode != NULL && g_str_equal (opt_mode, "trial"))
    mode = ORIEL_DUALBOOT_MODE_TRIAL;
  else if (opt_mode != NULL && !g_str_equal (opt_mode, "real"))
    {
      g_printerr (_("Unknown mode “%s”: use real or trial.\n"), opt_mode);
      return EXIT_ERROR;
    }
  if (opt_fingerprint != NULL)
    {
      g_autoptr (GError) error = NULL;
      if (!g_file_get_contents (opt_fingerprint, &recorded, NULL, &error))
        {
          g_printerr ("%s\n", error->message);
          return EXIT_ERROR;
        }
    }
  if (opt_device != NULL)
    {
      devices = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (devices, g_strdup (opt_device));
    }
  else
    devices = oriel_host_disk_list (sysfs_root (), opt_loop);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "disks");
  json_builder_begin_array (b);
  for (guint i = 0; i < devices->len; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (OrielHostDisk) disk = oriel_host_disk_probe (devices->pdata[i], sysfs_root (), &error);
      g_autoptr (GPtrArray) checks = NULL;
      OrielSafetyOptions options = { mode, recorded, opt_lock_dir, sysfs_root () };
      gboolean blocked = FALSE;

      if (disk == NULL)
        {
          g_printerr ("%s\n", error->message);
          /* One unreadable disk among many (an empty card reader) is no failure of the scan. */
          if (opt_device != NULL)
            return EXIT_ERROR;
          continue;
        }
      if (disk->windows != NULL)
        with_windows++;
      /* The checks concern disks that hold Windows, or the disk asked for. */
      if (disk->windows != NULL || opt_device != NULL)
        checks = oriel_safety_checks_run (disk, &options);
      if (!opt_json)
        {
          print_disk (disk);
          if (checks != NULL)
            blocked = print_checks (checks, mode);
          g_print ("\n");
        }
      else if (checks != NULL)
        for (guint j = 0; j < checks->len; j++)
          {
            const OrielSafetyCheck *c = checks->pdata[j];
            blocked |= oriel_safety_check_blocks (c, mode, is_confirmed (c->id));
          }
      if (opt_json)
        json_disk (b, disk, checks, mode, blocked);
      if (blocked)
        status = EXIT_REFUSED;
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  if (!opt_json && opt_device == NULL && with_windows == 0)
    g_print (_("No Windows installation was found on this computer's disks (%u looked at).\n"), devices->len);
  if (opt_json)
    {
      g_autoptr (JsonNode) root = json_builder_get_root (b);
      g_autofree char *text = json_to_string (root, TRUE);
      g_print ("%s\n", text);
    }
  return status;
}

static OrielHostDisk *
probe_required_device (void)
{
  g_autoptr (GError) error = NULL;
  OrielHostDisk *disk;

  if (opt_device == NULL)
    {
      g_printerr (_("--device is required for this command.\n"));
      return NULL;
    }
  disk = oriel_host_disk_probe (opt_device, sysfs_root (), &error);
  if (disk == NULL)
    g_printerr ("%s\n", error->message);
  return disk;
}

static int
cmd_fingerprint (void)
{
  g_autoptr (OrielHostDisk) disk = probe_required_device ();
  g_autoptr (GError) error = NULL;
  g_autofree char *record = NULL;

  if (disk == NULL)
    return EXIT_ERROR;
  record = oriel_partition_fingerprint_record (disk, &error);
  if (record == NULL)
    {
      g_printerr ("%s\n", error->message);
      return EXIT_ERROR;
    }
  g_print ("%s", record);
  return EXIT_OK;
}

static int
cmd_lock (void)
{
  g_autoptr (OrielHostDisk) disk = probe_required_device ();
  g_autoptr (OrielDiskLock) lock = NULL;
  g_autoptr (GError) error = NULL;
  char buf[256];

  if (disk == NULL)
    return EXIT_ERROR;
  lock = oriel_disk_lock_acquire (disk, opt_lock_dir, &error);
  if (lock == NULL)
    {
      g_printerr ("%s\n", error->message);
      return EXIT_REFUSED;
    }
  g_print ("locked\n");
  fflush (stdout);
  /* Held until whoever started us closes our stdin. */
  while (read (STDIN_FILENO, buf, sizeof buf) > 0)
    ;
  return EXIT_OK;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  const char *command;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, g_getenv ("ORIEL_LOCALEDIR") != NULL ? g_getenv ("ORIEL_LOCALEDIR") : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  context = g_option_context_new (_("scan|fingerprint|lock — find Windows on this computer's disks and check it "
                                    "can run in a virtual machine"));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_ERROR;
    }
  command = argc >= 2 ? argv[1] : "scan";
  if (argc > 2)
    {
      g_printerr (_("Unexpected argument “%s”.\n"), argv[2]);
      return EXIT_ERROR;
    }
  if (g_str_equal (command, "scan"))
    return cmd_scan ();
  if (g_str_equal (command, "fingerprint"))
    return cmd_fingerprint ();
  if (g_str_equal (command, "lock"))
    return cmd_lock ();
  g_printerr (_("Unknown command “%s”: use scan, fingerprint or lock.\n"), command);
  return EXIT_ERROR;
}
