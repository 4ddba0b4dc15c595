/* The oriel GtkApplication: connections, settings and window bookkeeping. */
#include "oriel-application.h"
#include "console-window.h"
#include "manager-window.h"
#include "new-vm-wizard.h"

#include <glib/gi18n.h>

struct _OrielApplication {
  GtkApplication parent_instance;

  GSettings *settings;
  GPtrArray *connections;     /* OrielConnection* */
  GHashTable *consoles;       /* "uri\nuuid" -> OrielConsoleWindow* (weak) */
  char **cmdline_uris;        /* --connect, replaces the saved list */
  char *show_name;            /* --show, until that VM was listed */
  OrielManagerWindow *manager;
};

G_DEFINE_TYPE (OrielApplication, oriel_application, GTK_TYPE_APPLICATION)

static const GOptionEntry options[] = {
  { "connect", 'c', 0, G_OPTION_ARG_STRING_ARRAY, NULL,
    N_("Connect to URI instead of the saved connections (repeatable)"), N_("URI") },
  { "show", 's', 0, G_OPTION_ARG_STRING, NULL,
    N_("Open the console window of the virtual machine NAME once it is listed"), N_("NAME") },
  G_OPTION_ENTRY_NULL
};

static gint
handle_local_options (GApplication *app, GVariantDict *dict)
{
  OrielApplication *self = ORIEL_APPLICATION (app);

  g_variant_dict_lookup (dict, "connect", "^as", &self->cmdline_uris);
  g_variant_dict_lookup (dict, "show", "s", &self->show_name);
  return -1;
}

GSettings *
oriel_application_get_settings (OrielApplication *self)
{
  return self->settings;
}

GPtrArray *
oriel_application_get_connections (OrielApplication *self)
{
  return self->connections;
}

static void
remember_uri (OrielApplication *self, const char *uri)
{
  g_auto (GStrv) saved = g_settings_get_strv (self->settings, "connections");
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) updated = NULL;

  if (g_strv_contains ((const char *const *) saved, uri))
    return;
  g_strv_builder_addv (builder, (const char **) saved);
  g_strv_builder_add (builder, uri);
  updated = g_strv_builder_end (builder);
  g_settings_set_strv (self->settings, "connections", (const char *const *) updated);
}

static void
forget_uri (OrielApplication *self, const char *uri)
{
  g_auto (GStrv) saved = g_settings_get_strv (self->settings, "connections");
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) updated = NULL;

  for (guint i = 0; saved[i]; i++)
    if (!g_str_equal (saved[i], uri))
      g_strv_builder_add (builder, saved[i]);
  updated = g_strv_builder_end (builder);
  g_settings_set_strv (self->settings, "connections", (const char *const *) updated);
}

OrielConnection *
oriel_application_add_connection (OrielApplication *self, const char *uri,
                                  gboolean remember)
{
  OrielConnection *conn;

  for (guint i = 0; i < self->connections->len; i++)
    {
      conn = self->connections->pdata[i];
      if (g_str_equal (oriel_connection_get_uri (conn), uri))
        return conn;
    }
  conn = oriel_connection_new (uri);
  g_ptr_array_add (self->connections, conn);
  oriel_connection_open (conn);
  if (remember)
    remember_uri (self, uri);
  if (self->manager != NULL)
    oriel_manager_window_add_connection (self->manager, conn);
  return conn;
}

void
oriel_application_remove_connection (OrielApplication *self, OrielConnection *conn)
{
  g_autofree char *uri = g_strdup (oriel_connection_get_uri (conn));

  if (self->manager != NULL)
    oriel_manager_window_remove_connection (self->manager, conn);
  oriel_connection_close (conn);
  forget_uri (self, uri);
  g_ptr_array_remove (self->connections, conn);
}

static char *
console_key (OrielConnection *conn, const char *uuid)
{
  return g_strconcat (oriel_connection_get_uri (conn), "\n", uuid, NULL);
}

static void
console_destroyed (gpointer data, GObject *where_the_object_was)
{
  OrielApplication *self = data;
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->consoles);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (value == (gpointer) where_the_object_was)
      {
        g_hash_table_iter_remove (&iter);
        break;
      }
}

void
oriel_application_open_console (OrielApplication *self, OrielConnection *conn,
                                const char *uuid, const char *page)
{
  g_autofree char *key = console_key (conn, uuid);
  OrielConsoleWindow *win = g_hash_table_lookup (self->consoles, key);

  if (win == NULL)
    {
      win = oriel_console_window_new (self, conn, uuid);
      if (win == NULL)
        return;
      g_hash_table_insert (self->consoles, g_steal_pointer (&key), win);
      g_object_weak_ref (G_OBJECT (win), console_destroyed, self);
    }
  if (page != NULL)
    oriel_console_window_show_page (win, page);
  gtk_window_present (GTK_WINDOW (win));
}

void
oriel_application_show_new_vm_wizard (OrielApplication *self, GtkWindow *parent,
                                      OrielConnection *conn)
{
  GtkWidget *wizard = oriel_new_vm_wizard_new (self, conn);

  gtk_window_set_transient_for (GTK_WINDOW (wizard), parent);
  gtk_window_present (GTK_WINDOW (wizard));
}

static void
quit_activated (GSimpleAction *action, GVariant *param, gpointer data)
{
  g_application_quit (G_APPLICATION (data));
}

static void
about_activated (GSimpleAction *action, GVariant *param, gpointer data)
{
  OrielApplication *self = data;

  gtk_show_about_dialog (self->manager != NULL ? GTK_WINDOW (self->manager) : NULL,
                         "program-name", _("Oriel"),
                         "logo-icon-name", ORIEL_APP_ID,
                         "version", PACKAGE_VERSION,
                         "comments", _("Create and run virtual machines"),
                         "license-type", GTK_LICENSE_GPL_2_0,
                         NULL);
}

static void
oriel_application_startup (GApplication *app)
{
  OrielApplication *self = ORIEL_APPLICATION (app);
  static const GActionEntry actions[] = {
    { "quit", quit_activated, NULL, NULL, NULL, { 0 } },
    { "about", about_activated, NULL, NULL, NULL, { 0 } },
  };
  static const char *const quit_accels[] = { "<Primary>q", NULL };

  G_APPLICATION_CLASS (oriel_application_parent_class)->startup (app);
  gtk_icon_theme_add_resource_path (gtk_icon_theme_get_default (), "/org/oriel/Oriel/icons");
  g_action_map_add_action_entries (G_ACTION_MAP (app), actions, G_N_ELEMENTS (actions), app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
  gtk_window_set_default_icon_name (ORIEL_APP_ID);
  self->settings = g_settings_new (ORIEL_APP_ID);
  oriel_libvirt_events_init ();
}

/* --show: the first VM of that name on any connection gets its window. */
static void
domain_listed (OrielConnection *conn, OrielDomain *domain, OrielApplication *self)
{
  if (self->show_name == NULL || g_strcmp0 (oriel_domain_get_name (domain), self->show_name) != 0)
    return;
  g_clear_pointer (&self->show_name, g_free);
  oriel_application_open_console (self, conn, oriel_domain_get_uuid (domain), NULL);
}

static void
oriel_application_activate (GApplication *app)
{
  OrielApplication *self = ORIEL_APPLICATION (app);
  g_auto (GStrv) saved = NULL;
  const char *const *uris;

  if (self->manager != NULL)
    {
      gtk_window_present (GTK_WINDOW (self->manager));
      return;
    }
  /* Connections open in worker threads while the window is built. */
  if (self->cmdline_uris != NULL && self->cmdline_uris[0] != NULL)
    uris = (const char *const *) self->cmdline_uris;
  else
    {
      saved = g_settings_get_strv (self->settings, "connections");
      uris = (const char *const *) saved;
    }
  for (guint i = 0; uris[i] != NULL; i++)
    oriel_application_add_connection (self, uris[i], FALSE);
  if (self->connections->len == 0)
    oriel_application_add_connection (self, ORIEL_DEFAULT_URI, FALSE);
  /* The lists arrive from the connections' workers, after this. */
  for (guint i = 0; self->show_name != NULL && i < self->connections->len; i++)
    g_signal_connect_object (self->connections->pdata[i], "domain-added",
                             G_CALLBACK (domain_listed), self, 0);

  self->manager = oriel_manager_window_new (self);
  g_object_add_weak_pointer (G_OBJECT (self->manager), (gpointer *) &self->manager);
  for (guint i = 0; i < self->connections->len; i++)
    oriel_manager_window_add_connection (self->manager, self->connections->pdata[i]);
  gtk_window_present (GTK_WINDOW (self->manager));
}

static void
oriel_application_shutdown (GApplication *app)
{
  OrielApplication *self = ORIEL_APPLICATION (app);

  for (guint i = 0; i < self->connections->len; i++)
    oriel_connection_close (self->connections->pdata[i]);
  G_APPLICATION_CLASS (oriel_application_parent_class)->shutdown (app);
}

static void
oriel_application_finalize (GObject *object)
{
  OrielApplication *self = ORIEL_APPLICATION (object);

  g_clear_object (&self->settings);
  g_ptr_array_unref (self->connections);
  g_hash_table_unref (self->consoles);
  g_strfreev (self->cmdline_uris);
  g_free (self->show_name);
  G_OBJECT_CLASS (oriel_application_parent_class)->finalize (object);
}

static void
oriel_application_class_init (OrielApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = oriel_application_finalize;
  app_class->startup = oriel_application_startup;
  app_class->activate = oriel_application_activate;
  app_class->shutdown = oriel_application_shutdown;
  app_class->handle_local_options = handle_local_options;
}

static void
oriel_application_init (OrielApplication *self)
{
  self->connections = g_ptr_array_new_with_free_func (g_object_unref);
  self->consoles = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_application_add_main_option_entries (G_APPLICATION (self), options);
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("Create and run virtual machines."));
}

OrielApplication *
oriel_application_new (void)
{
  /* Each process keeps its own connections; a second start opens a
   * second manager rather than handing over to the first. */
  return g_object_new (ORIEL_TYPE_APPLICATION,
                       "application-id", ORIEL_APP_ID,
                       "flags", G_APPLICATION_NON_UNIQUE,
                       NULL);
}
