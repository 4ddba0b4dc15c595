/* virtorield: the Oriel management daemon.  Serves libvirt's remote
 * protocol on a UNIX socket and supervises one oriel-vmm per running VM. */
#include "daemon.h"
#include "domain-driver.h"
#include "domain-def.h"
#include "procedures.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SD_LISTEN_FDS_START 3

static gboolean
on_signal (gpointer loop)
{
  g_message ("shutting down (running VMs keep running)");
  g_main_loop_quit (loop);
  return G_SOURCE_CONTINUE;
}

/* Stable identifiers derived from a name, so they survive restarts. */
static void
derive_uuid (const char *seed, guint8 out[16])
{
  g_autofree char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, seed, -1);
  for (int i = 0; i < 16; i++)
    out[i] = (g_ascii_xdigit_value (sum[2 * i]) << 4) | g_ascii_xdigit_value (sum[2 * i + 1]);
  out[6] = (out[6] & 0x0f) | 0x50;
  out[8] = (out[8] & 0x3f) | 0x80;
}

static void
host_uuid (guint8 out[16])
{
  g_autofree char *mid = NULL;
  if (g_file_get_contents ("/etc/machine-id", &mid, NULL, NULL))
    {
      g_strstrip (mid);
      if (strlen (mid) == 32 && domain_uuid_parse (mid, out))
        return;
    }
  derive_uuid (g_get_host_name (), out);
}

/* systemd socket activation: LISTEN_PID/LISTEN_FDS. */
static int
activation_fds (void)
{
  const char *pid = g_getenv ("LISTEN_PID");
  const char *fds = g_getenv ("LISTEN_FDS");
  if (!pid || !fds || atoi (pid) != getpid ())
    return 0;
  int n = atoi (fds);
  g_unsetenv ("LISTEN_PID");
  g_unsetenv ("LISTEN_FDS");
  g_unsetenv ("LISTEN_FDNAMES");
  return n > 0 ? n : 0;
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  gboolean verbose = FALSE, version = FALSE;
  g_autofree char *socket_dir = NULL, *config_dir = NULL, *state_dir = NULL;
  g_autofree char *image_dir = NULL, *save_dir = NULL, *vmm_path = NULL, *auth_rw = NULL;
  g_autofree char *tpm_dir = NULL, *nvram_dir = NULL, *dualboot_dir = NULL;
  g_auto (GStrv) firmware_dirs = NULL;
  GOptionEntry entries[] = {
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, N_("Log every connection and call"), NULL },
    { "socket-dir", 0, 0, G_OPTION_ARG_FILENAME, &socket_dir, N_("Directory of the listening sockets (default /var/run/libvirt)"), N_("DIR") },
    { "config-dir", 0, 0, G_OPTION_ARG_FILENAME, &config_dir, N_("Persistent domain configuration (default /etc/oriel)"), N_("DIR") },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir, N_("Runtime state of running VMs (default /run/oriel)"), N_("DIR") },
    { "image-dir", 0, 0, G_OPTION_ARG_FILENAME, &image_dir, N_("Directory of the 'default' storage pool (default /var/lib/oriel/images)"), N_("DIR") },
    { "save-dir", 0, 0, G_OPTION_ARG_FILENAME, &save_dir, N_("Managed save images (default /var/lib/oriel/save)"), N_("DIR") },
    { "tpm-dir", 0, 0, G_OPTION_ARG_FILENAME, &tpm_dir, N_("TPM state of domains with a TPM (default /var/lib/oriel/swtpm)"), N_("DIR") },
    { "nvram-dir", 0, 0, G_OPTION_ARG_FILENAME, &nvram_dir, N_("UEFI variable stores of domains (default /var/lib/oriel/nvram)"), N_("DIR") },
    { "dualboot-dir", 0, 0, G_OPTION_ARG_FILENAME, &dualboot_dir, N_("Map files and overlays of dual-boot domains (default /var/lib/oriel/dualboot)"), N_("DIR") },
    { "firmware-dir", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &firmware_dirs, N_("Where firmware descriptors are read, repeatable, first wins (default /etc/qemu/firmware, /usr/share/qemu/firmware)"), N_("DIR") },
    { "auth-rw", 0, 0, G_OPTION_ARG_STRING, &auth_rw, N_("Who may use the read-write socket: none (root only, the default) or polkit (users polkit allows)"), N_("none|polkit") },
    { "vmm", 0, 0, G_OPTION_ARG_FILENAME, &vmm_path, N_("The oriel-vmm binary"), N_("PATH") },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Print the version and exit"), NULL },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (NULL);
  g_option_context_set_summary (ctx, _("Oriel management daemon: serves libvirt clients on oriel:///system."));
  g_option_context_add_main_entries (ctx, entries, GETTEXT_PACKAGE);
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("virtorield: %s\n", error->message);
      return 2;
    }
  if (version)
    {
      g_print ("virtorield %s\n", ORIEL_VERSION);
      return 0;
    }
  if (verbose)
    g_setenv ("G_MESSAGES_DEBUG", "all", TRUE);
  if (auth_rw && !g_str_equal (auth_rw, "none") && !g_str_equal (auth_rw, "polkit"))
    {
      g_printerr (_("virtorield: --auth-rw must be 'none' or 'polkit', not '%s'\n"), auth_rw);
      return 2;
    }

  /* A client vanishing mid-write must not kill the daemon. */
  signal (SIGPIPE, SIG_IGN);

  Daemon d = { 0 };
  d.paths.socket_dir = socket_dir ? g_steal_pointer (&socket_dir) : g_strdup ("/var/run/libvirt");
  d.paths.config_dir = config_dir ? g_steal_pointer (&config_dir) : g_strdup ("/etc/oriel");
  d.paths.state_dir = state_dir ? g_steal_pointer (&state_dir) : g_strdup ("/run/oriel");
  d.paths.image_dir = image_dir ? g_steal_pointer (&image_dir) : g_strdup ("/var/lib/oriel/images");
  d.paths.save_dir = save_dir ? g_steal_pointer (&save_dir) : g_strdup ("/var/lib/oriel/save");
  d.paths.tpm_dir = tpm_dir ? g_steal_pointer (&tpm_dir) : g_strdup ("/var/lib/oriel/swtpm");
  d.paths.nvram_dir = nvram_dir ? g_steal_pointer (&nvram_dir) : g_strdup ("/var/lib/oriel/nvram");
  d.paths.dualboot_dir = dualboot_dir ? g_steal_pointer (&dualboot_dir) : g_strdup ("/var/lib/oriel/dualboot");
  if (firmware_dirs)
    d.paths.firmware_dirs = g_steal_pointer (&firmware_dirs);
  else
    {
      const char *const defaults[] = { "/etc/qemu/firmware", "/usr/share/qemu/firmware", NULL };
      d.paths.firmware_dirs = g_strdupv ((char **) defaults);
    }
  d.paths.vmm_path = vmm_path ? g_steal_pointer (&vmm_path) : g_strdup (ORIEL_VMM_DEFAULT);
  host_uuid (d.host_uuid);
  derive_uuid ("oriel-storage-pool-default", d.pool_uuid);
  derive_uuid ("oriel-network-default", d.network_uuid);
  storage_pool_init (&d.pool, d.paths.image_dir, d.pool_uuid);
  if (!storage_pool_ensure (&d.pool, &error))
    {
      g_warning ("%s", error->message);
      g_clear_error (&error);
    }

  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  d.server = rpc_server_new (&d, procedures_lookup);
  rpc_server_set_rw_polkit (d.server, auth_rw && g_str_equal (auth_rw, "polkit"));
  int nfds = activation_fds ();
  if (nfds > 0)
    {
      for (int i = 0; i < nfds; i++)
        if (!rpc_server_listen_fd (d.server, SD_LISTEN_FDS_START + i, &error))
          {
            g_printerr ("virtorield: %s\n", error->message);
            return 1;
          }
      g_message ("listening on %d socket(s) passed by systemd", nfds);
    }
  else
    {
      if (g_mkdir_with_parents (d.paths.socket_dir, 0755) < 0)
        {
          g_printerr (_("virtorield: cannot create %s: %s\n"), d.paths.socket_dir, g_strerror (errno));
          return 1;
        }
      g_autofree char *rw = g_build_filename (d.paths.socket_dir, "virtorield-sock", NULL);
      g_autofree char *ro = g_build_filename (d.paths.socket_dir, "virtorield-sock-ro", NULL);
      if (!rpc_server_listen_path (d.server, rw, FALSE, &error)
          || !rpc_server_listen_path (d.server, ro, TRUE, &error))
        {
          g_printerr (_("virtorield: cannot listen: %s\n"), error->message);
          return 1;
        }
      g_message ("listening on %s and %s", rw, ro);
    }

  domain_driver_init (&d);
  procedures_events_attach (&d);
  domain_driver_load (&d);

  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_main_loop_run (loop);

  rpc_server_free (d.server);
  domain_driver_shutdown (&d);
  storage_pool_clear (&d.pool);
  g_free (d.paths.socket_dir);
  g_free (d.paths.config_dir);
  g_free (d.paths.state_dir);
  g_free (d.paths.image_dir);
  g_free (d.paths.vmm_path);
  g_free (d.paths.save_dir);
  g_free (d.paths.tpm_dir);
  g_free (d.paths.nvram_dir);
  g_free (d.paths.dualboot_dir);
  g_strfreev (d.paths.firmware_dirs);
  return 0;
}
