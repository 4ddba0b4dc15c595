/* The main window: every connection and its virtual machines. */
#include "manager-window.h"
#include "add-connection-dialog.h"
#include "domain-actions.h"
#include "domain-state.h"
#include "domain-xml-info.h"
#include "error-dialog.h"
#include "oriel-application.h"
#include "os-defaults.h"
#include "sparkline-renderer.h"

#include <glib/gi18n.h>

enum {
  COL_NAME,
  COL_ICON,
  COL_STATE_TEXT,
  COL_STATE,
  COL_UUID,
  COL_CONN,
  COL_IS_CONN,
  COL_DOMAIN,
  COL_BUSY,
  COL_PULSE,
  N_COLS
};

struct _OrielManagerWindow {
  GtkApplicationWindow parent_instance;

  OrielApplication *app;
  GtkTreeView *vm_view;
  GtkInfoBar *info_bar;
  GtkLabel *info_label;
  GtkMenuButton *menu_button;
  GMenuModel *vm_menu;
  GtkTreeStore *store;
  GtkCellRenderer *cpu_renderer;
  GtkCellRenderer *mem_renderer;
  guint pulse_source;   /* animates the spinners of busy rows */
  gint64 started_us;
  gboolean startup_reported;
};

G_DEFINE_TYPE (OrielManagerWindow, oriel_manager_window, GTK_TYPE_APPLICATION_WINDOW)


static gboolean
find_conn_row (OrielManagerWindow *self, OrielConnection *conn, GtkTreeIter *out)
{
  GtkTreeModel *model = GTK_TREE_MODEL (self->store);
  gboolean valid = gtk_tree_model_get_iter_first (model, out);

  while (valid)
    {
      g_autoptr (OrielConnection) row_conn = NULL;
      gtk_tree_model_get (model, out, COL_CONN, &row_conn, -1);
      if (row_conn == conn)
        return TRUE;
      valid = gtk_tree_model_iter_next (model, out);
    }
  return FALSE;
}

static gboolean
find_vm_row (OrielManagerWindow *self, GtkTreeIter *parent, OrielDomain *domain,
             GtkTreeIter *out)
{
  GtkTreeModel *model = GTK_TREE_MODEL (self->store);
  gboolean valid = gtk_tree_model_iter_children (model, out, parent);

  while (valid)
    {
      g_autoptr (OrielDomain) row_domain = NULL;
      gtk_tree_model_get (model, out, COL_DOMAIN, &row_domain, -1);
      if (row_domain == domain)
        return TRUE;
      valid = gtk_tree_model_iter_next (model, out);
    }
  return FALSE;
}

/* The selected VM (a new reference) and its connection. */
static OrielDomain *
selected_domain (OrielManagerWindow *self, OrielConnection **conn_out)
{
  GtkTreeSelection *sel = gtk_tree_view_get_selection (self->vm_view);
  GtkTreeModel *model;
  GtkTreeIter iter;
  g_autoptr (OrielConnection) conn = NULL;
  OrielDomain *domain = NULL;
  gboolean is_conn;

  if (!gtk_tree_selection_get_selected (sel, &model, &iter))
    return NULL;
  gtk_tree_model_get (model, &iter, COL_CONN, &conn, COL_DOMAIN, &domain, COL_IS_CONN, &is_conn, -1);
  if (is_conn || conn == NULL || domain == NULL)
    {
      g_clear_object (&domain);
      return NULL;
    }
  if (conn_out != NULL)
    *conn_out = g_steal_pointer (&conn);
  return domain;
}

static OrielConnection *
selected_connection (OrielManagerWindow *self)
{
  GtkTreeSelection *sel = gtk_tree_view_get_selection (self->vm_view);
  GtkTreeModel *model;
  GtkTreeIter iter;
  OrielConnection *conn = NULL;

  if (gtk_tree_selection_get_selected (sel, &model, &iter))
    gtk_tree_model_get (model, &iter, COL_CONN, &conn, -1);
  return conn;
}

static void
set_action_enabled (OrielManagerWindow *self, const char *name, gboolean enabled)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), name);

  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), enabled);
}

static void
update_actions (OrielManagerWindow *self)
{
  GtkTreeSelection *sel = gtk_tree_view_get_selection (self->vm_view);
  GtkTreeModel *model;
  GtkTreeIter iter;
  gboolean have_vm = FALSE, is_conn = TRUE, busy = FALSE;
  int state = -1;
  g_autoptr (OrielConnection) conn = NULL;

  if (gtk_tree_selection_get_selected (sel, &model, &iter))
    {
      gtk_tree_model_get (model, &iter, COL_IS_CONN, &is_conn, COL_STATE, &state,
                          COL_CONN, &conn, COL_BUSY, &busy, -1);
      /* While an operation runs on the VM, the others wait for it. */
      have_vm = !is_conn && !busy;
    }
  set_action_enabled (self, "open", !is_conn);
  set_action_enabled (self, "details", !is_conn);
  set_action_enabled (self, "delete", have_vm);
  set_action_enabled (self, "run", have_vm && oriel_domain_action_allowed (ORIEL_ACTION_RUN, state));
  set_action_enabled (self, "pause", have_vm && oriel_domain_action_allowed (ORIEL_ACTION_PAUSE, state));
  set_action_enabled (self, "resume", have_vm && oriel_domain_action_allowed (ORIEL_ACTION_RESUME, state));
  set_action_enabled (self, "shutdown", have_vm && oriel_domain_action_allowed (ORIEL_ACTION_SHUTDOWN, state));
  set_action_enabled (self, "reboot", have_vm && oriel_domain_action_allowed (ORIEL_ACTION_REBOOT, state));
  set_action_enabled (self, "force-off", have_vm && oriel_domain_action_allowed (ORIEL_ACTION_FORCE_OFF, state));
  set_action_enabled (self, "save", have_vm && oriel_domain_action_allowed (ORIEL_ACTION_SAVE, state));
  set_action_enabled (self, "remove-connection", conn != NULL && is_conn);
}

static const char *
os_icon_for_xml (const char *xml)
{
  g_autoptr (OrielDomainInfo) info = xml != NULL ? oriel_domain_info_parse (xml, NULL) : NULL;
  OrielOsFamily family = ORIEL_OS_FAMILY_OTHER;

  /* The libosinfo id names the vendor; that is enough for an icon and
   * avoids loading the OS database at startup. */
  if (info != NULL && info->os_id != NULL)
    {
      if (strstr (info->os_id, "microsoft.com") != NULL)
        family = ORIEL_OS_FAMILY_WINDOWS;
      else if (strstr (info->os_id, "bsd") != NULL)
        family = ORIEL_OS_FAMILY_BSD;
      else
        family = ORIEL_OS_FAMILY_LINUX;
    }
  else if (info != NULL && info->kernel != NULL)
    family = ORIEL_OS_FAMILY_LINUX;
  return oriel_os_family_icon_name (family);
}

static gboolean
pulse_busy_rows (gpointer data)
{
  OrielManagerWindow *self = data;
  GtkTreeModel *model = GTK_TREE_MODEL (self->store);
  GtkTreeIter conn, vm;
  gboolean any = FALSE;

  for (gboolean c = gtk_tree_model_get_iter_first (model, &conn); c;
       c = gtk_tree_model_iter_next (model, &conn))
    for (gboolean v = gtk_tree_model_iter_children (model, &vm, &conn); v;
         v = gtk_tree_model_iter_next (model, &vm))
      {
        gboolean busy;
        guint pulse;
        gtk_tree_model_get (model, &vm, COL_BUSY, &busy, COL_PULSE, &pulse, -1);
        if (busy)
          gtk_tree_store_set (self->store, &vm, COL_PULSE, pulse + 1, -1);
        any |= busy;
      }
  if (!any)
    self->pulse_source = 0;
  return any ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
fill_vm_row (OrielManagerWindow *self, GtkTreeIter *iter, OrielConnection *conn,
             OrielDomain *domain)
{
  int state = oriel_domain_get_state (domain);
  const char *busy = oriel_domain_get_busy (domain);

  gtk_tree_store_set (self->store, iter,
                      COL_NAME, oriel_domain_get_name (domain),
                      COL_STATE, state,
                      COL_STATE_TEXT, busy != NULL ? busy : oriel_domain_state_label (state),
                      COL_UUID, oriel_domain_get_uuid (domain),
                      COL_CONN, conn,
                      COL_IS_CONN, FALSE,
                      COL_DOMAIN, domain,
                      COL_BUSY, busy != NULL,
                      COL_ICON, os_icon_for_xml (oriel_domain_get_xml (domain)),
                      -1);
  if (busy != NULL && self->pulse_source == 0)
    self->pulse_source = g_timeout_add (100, pulse_busy_rows, self);
}

static void
domain_changed (OrielDomain *domain, GParamSpec *pspec, OrielManagerWindow *self)
{
  GtkTreeIter parent, iter;
  GtkTreeModel *model = GTK_TREE_MODEL (self->store);

  for (gboolean c = gtk_tree_model_get_iter_first (model, &parent); c;
       c = gtk_tree_model_iter_next (model, &parent))
    if (find_vm_row (self, &parent, domain, &iter))
      {
        g_autoptr (OrielConnection) conn = NULL;
        gtk_tree_model_get (model, &iter, COL_CONN, &conn, -1);
        fill_vm_row (self, &iter, conn, domain);
        update_actions (self);
        return;
      }
}

static void
append_vm_row (OrielManagerWindow *self, GtkTreeIter *parent, OrielConnection *conn,
               OrielDomain *domain)
{
  GtkTreeIter child;

  gtk_tree_store_append (self->store, &child, parent);
  fill_vm_row (self, &child, conn, domain);
  g_signal_connect_object (domain, "notify", G_CALLBACK (domain_changed), self, 0);
  /* The OS icon comes from the XML, read in the background. */
  if (oriel_domain_get_xml (domain) == NULL)
    oriel_domain_fetch_xml (domain);
}

static void
remove_vm_row (OrielManagerWindow *self, GtkTreeIter *iter)
{
  g_autoptr (OrielDomain) domain = NULL;

  gtk_tree_model_get (GTK_TREE_MODEL (self->store), iter, COL_DOMAIN, &domain, -1);
  if (domain != NULL)
    g_signal_handlers_disconnect_by_data (domain, self);
  gtk_tree_store_remove (self->store, iter);
}

/* Lets benchmarks measure cold start without scraping the screen: the
 * first paint after the list was filled prints the time since startup and
 * the wall-clock time (µs since the epoch), then quits if asked to. */
static gboolean
report_startup_drawn (GtkWidget *widget, cairo_t *cr, OrielManagerWindow *self)
{
  GtkTreeModel *model = GTK_TREE_MODEL (self->store);
  GtkTreeIter conn;
  guint n_vms = 0;
  gboolean valid;

  g_signal_handlers_disconnect_by_func (widget, report_startup_drawn, self);
  for (valid = gtk_tree_model_get_iter_first (model, &conn); valid;
       valid = gtk_tree_model_iter_next (model, &conn))
    n_vms += gtk_tree_model_iter_n_children (model, &conn);
  g_print ("oriel-startup: %u VMs drawn after %.1f ms (wall clock %" G_GINT64_FORMAT " us)\n",
           n_vms, (g_get_monotonic_time () - self->started_us) / 1000.0, g_get_real_time ());
  if (g_strcmp0 (g_getenv ("ORIEL_REPORT_STARTUP"), "exit") == 0)
    g_application_quit (G_APPLICATION (self->app));
  return FALSE;
}

static void
report_startup (OrielManagerWindow *self, guint n_vms)
{
  if (self->startup_reported || g_getenv ("ORIEL_REPORT_STARTUP") == NULL)
    return;
  self->startup_reported = TRUE;
  g_signal_connect_after (self->vm_view, "draw", G_CALLBACK (report_startup_drawn), self);
  gtk_widget_queue_draw (GTK_WIDGET (self->vm_view));
}

static void
populate_connection (OrielManagerWindow *self, OrielConnection *conn)
{
  GtkTreeIter parent, child;
  GPtrArray *doms;

  if (!find_conn_row (self, conn, &parent))
    return;
  while (gtk_tree_model_iter_children (GTK_TREE_MODEL (self->store), &child, &parent))
    remove_vm_row (self, &child);

  if (!oriel_connection_is_open (conn))
    {
      gtk_tree_store_set (self->store, &parent, COL_STATE_TEXT, _("Not connected"), -1);
      return;
    }
  gtk_tree_store_set (self->store, &parent, COL_STATE_TEXT, _("Connected"), -1);
  /* The connection read the list in its worker when it opened. */
  doms = oriel_connection_get_domains (conn);
  for (guint i = 0; i < doms->len; i++)
    append_vm_row (self, &parent, conn, doms->pdata[i]);
  {
    g_autoptr (GtkTreePath) path = gtk_tree_model_get_path (GTK_TREE_MODEL (self->store), &parent);
    gtk_tree_view_expand_row (self->vm_view, path, FALSE);
  }
  /* Select the first VM so the keyboard works right away. */
  if (gtk_tree_selection_count_selected_rows (gtk_tree_view_get_selection (self->vm_view)) == 0
      && gtk_tree_model_iter_children (GTK_TREE_MODEL (self->store), &child, &parent))
    gtk_tree_selection_select_iter (gtk_tree_view_get_selection (self->vm_view), &child);
  update_actions (self);
  report_startup (self, doms->len);
}

static void
show_connection_problem (OrielManagerWindow *self, OrielConnection *conn)
{
  const char *uri = oriel_connection_get_uri (conn);
  g_autofree char *text = NULL;

  if (g_strcmp0 (uri, ORIEL_DEFAULT_URI) == 0)
    text = g_strdup_printf (_("Could not connect to the Oriel service (%s); it may not be "
                              "installed or running. Add another connection, such as "
                              "qemu:///system or test:///default.\n%s"),
                            uri, oriel_connection_get_error (conn));
  else
    text = g_strdup_printf (_("Could not connect to %s.\n%s"), uri,
                            oriel_connection_get_error (conn));
  gtk_label_set_text (self->info_label, text);
  gtk_widget_show (GTK_WIDGET (self->info_bar));
}

static void
connection_opened (OrielConnection *conn, OrielManagerWindow *self)
{
  GtkTreeIter iter;

  if (oriel_connection_is_open (conn))
    {
      populate_connection (self, conn);
      return;
    }
  if (find_conn_row (self, conn, &iter))
    gtk_tree_store_set (self->store, &iter, COL_STATE_TEXT, _("Not connected"), -1);
  show_connection_problem (self, conn);
  report_startup (self, 0);
}

static void
domain_added (OrielConnection *conn, OrielDomain *domain, OrielManagerWindow *self)
{
  GtkTreeIter parent, iter;
  g_autoptr (GtkTreePath) path = NULL;

  if (!find_conn_row (self, conn, &parent) || find_vm_row (self, &parent, domain, &iter))
    return;
  append_vm_row (self, &parent, conn, domain);
  path = gtk_tree_model_get_path (GTK_TREE_MODEL (self->store), &parent);
  gtk_tree_view_expand_row (self->vm_view, path, FALSE);
  update_actions (self);
}

static void
domain_removed (OrielConnection *conn, OrielDomain *domain, OrielManagerWindow *self)
{
  GtkTreeIter parent, iter;

  if (find_conn_row (self, conn, &parent) && find_vm_row (self, &parent, domain, &iter))
    remove_vm_row (self, &iter);
  update_actions (self);
}

static void
stats_updated (OrielConnection *conn, OrielManagerWindow *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self->vm_view));
}

static void
connection_closed (OrielConnection *conn, OrielManagerWindow *self)
{
  populate_connection (self, conn);
  show_connection_problem (self, conn);
}

void
oriel_manager_window_add_connection (OrielManagerWindow *self, OrielConnection *conn)
{
  GtkTreeIter iter;

  if (!find_conn_row (self, conn, &iter))
    {
      gtk_tree_store_append (self->store, &iter, NULL);
      gtk_tree_store_set (self->store, &iter,
                          COL_NAME, oriel_connection_get_uri (conn),
                          COL_ICON, "network-server-symbolic",
                          COL_STATE_TEXT, _("Connecting…"),
                          COL_STATE, -1,
                          COL_CONN, conn,
                          COL_IS_CONN, TRUE,
                          -1);
      g_signal_connect_object (conn, "domain-added", G_CALLBACK (domain_added), self, 0);
      g_signal_connect_object (conn, "domain-removed", G_CALLBACK (domain_removed), self, 0);
      g_signal_connect_object (conn, "stats-updated", G_CALLBACK (stats_updated), self, 0);
      g_signal_connect_object (conn, "closed", G_CALLBACK (connection_closed), self, 0);
      g_signal_connect_object (conn, "opened", G_CALLBACK (connection_opened), self, 0);
    }
  if (oriel_connection_is_open (conn))
    populate_connection (self, conn);
  else if (!oriel_connection_is_opening (conn) && oriel_connection_get_error (conn) != NULL)
    connection_opened (conn, self);
  else
    oriel_connection_open (conn);
}

void
oriel_manager_window_remove_connection (OrielManagerWindow *self, OrielConnection *conn)
{
  GtkTreeIter iter;

  GtkTreeIter child;

  g_signal_handlers_disconnect_by_data (conn, self);
  if (find_conn_row (self, conn, &iter))
    {
      while (gtk_tree_model_iter_children (GTK_TREE_MODEL (self->store), &child, &iter))
        remove_vm_row (self, &child);
      gtk_tree_store_remove (self->store, &iter);
    }
  update_actions (self);
}

static void
run_action (OrielManagerWindow *self, OrielDomainAction action)
{
  g_autoptr (OrielDomain) domain = selected_domain (self, NULL);

  if (domain != NULL)
    oriel_domain_action_start (GTK_WINDOW (self), domain, action);
}

#define DEFINE_ACTION(fn, act) \
  static void fn (GSimpleAction *a, GVariant *p, gpointer data) { run_action (data, act); }
DEFINE_ACTION (run_activated, ORIEL_ACTION_RUN)
DEFINE_ACTION (pause_activated, ORIEL_ACTION_PAUSE)
DEFINE_ACTION (resume_activated, ORIEL_ACTION_RESUME)
DEFINE_ACTION (shutdown_activated, ORIEL_ACTION_SHUTDOWN)
DEFINE_ACTION (reboot_activated, ORIEL_ACTION_REBOOT)
DEFINE_ACTION (force_off_activated, ORIEL_ACTION_FORCE_OFF)
DEFINE_ACTION (save_activated, ORIEL_ACTION_SAVE)

static void
open_selected (OrielManagerWindow *self, const char *page)
{
  g_autoptr (OrielConnection) conn = NULL;
  g_autoptr (OrielDomain) domain = selected_domain (self, &conn);

  if (domain != NULL)
    oriel_application_open_console (self->app, conn, oriel_domain_get_uuid (domain), page);
}

static void
open_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  open_selected (data, NULL);
}

static void
details_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  open_selected (data, "details");
}

static void
delete_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  OrielManagerWindow *self = data;
  g_autoptr (OrielDomain) domain = selected_domain (self, NULL);

  if (domain != NULL)
    oriel_domain_delete_interactive (GTK_WINDOW (self), domain);
}

static OrielConnection *
first_open_connection (OrielManagerWindow *self)
{
  GPtrArray *conns = oriel_application_get_connections (self->app);

  for (guint i = 0; i < conns->len; i++)
    if (oriel_connection_is_open (conns->pdata[i]))
      return conns->pdata[i];
  return NULL;
}

static void
new_vm_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  OrielManagerWindow *self = data;
  g_autoptr (OrielConnection) selected = selected_connection (self);
  OrielConnection *conn = selected != NULL && oriel_connection_is_open (selected)
                          ? selected : first_open_connection (self);

  if (conn == NULL)
    {
      oriel_error_dialog_show (GTK_WINDOW (self),
                               _("There is no open connection to create the virtual machine on."),
                               _("Add a connection first, for example qemu:///system or test:///default."));
      return;
    }
  oriel_application_show_new_vm_wizard (self->app, GTK_WINDOW (self), conn);
}

static void
uri_chosen (const char *uri, gpointer data)
{
  OrielManagerWindow *self = data;

  gtk_widget_hide (GTK_WIDGET (self->info_bar));
  oriel_application_add_connection (self->app, uri, TRUE);
}

static void
add_connection_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  oriel_add_connection_dialog_show (GTK_WINDOW (data), uri_chosen, data);
}

static void
remove_connection_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  OrielManagerWindow *self = data;
  g_autoptr (OrielConnection) conn = selected_connection (self);

  if (conn != NULL)
    oriel_application_remove_connection (self->app, conn);
}

static void
info_bar_response (GtkInfoBar *bar, int response, OrielManagerWindow *self)
{
  gtk_widget_hide (GTK_WIDGET (bar));
  if (response == 1)
    g_action_group_activate_action (G_ACTION_GROUP (self), "add-connection", NULL);
}

static void
vm_row_activated (GtkTreeView *view, GtkTreePath *path, GtkTreeViewColumn *col,
                  OrielManagerWindow *self)
{
  GtkTreeIter iter;
  gboolean is_conn;
  g_autoptr (OrielConnection) conn = NULL;

  gtk_tree_model_get_iter (GTK_TREE_MODEL (self->store), &iter, path);
  gtk_tree_model_get (GTK_TREE_MODEL (self->store), &iter, COL_IS_CONN, &is_conn,
                      COL_CONN, &conn, -1);
  if (!is_conn)
    open_selected (self, NULL);
  else if (!oriel_connection_is_open (conn))
    {
      gtk_tree_store_set (self->store, &iter, COL_STATE_TEXT, _("Connecting…"), -1);
      oriel_connection_open (conn);
    }
}

static void
popup_vm_menu (OrielManagerWindow *self, const GdkEvent *event)
{
  GtkWidget *menu = gtk_menu_new_from_model (self->vm_menu);

  gtk_menu_attach_to_widget (GTK_MENU (menu), GTK_WIDGET (self->vm_view), NULL);
  g_signal_connect (menu, "selection-done", G_CALLBACK (gtk_widget_destroy), NULL);
  if (event != NULL)
    gtk_menu_popup_at_pointer (GTK_MENU (menu), event);
  else
    gtk_menu_popup_at_widget (GTK_MENU (menu), GTK_WIDGET (self->vm_view),
                              GDK_GRAVITY_CENTER, GDK_GRAVITY_NORTH_WEST, NULL);
}

static gboolean
vm_button_press (GtkWidget *widget, GdkEventButton *event, OrielManagerWindow *self)
{
  GtkTreePath *path = NULL;

  if (!gdk_event_triggers_context_menu ((GdkEvent *) event))
    return FALSE;
  if (gtk_tree_view_get_path_at_pos (self->vm_view, event->x, event->y, &path, NULL, NULL, NULL))
    {
      gtk_tree_selection_select_path (gtk_tree_view_get_selection (self->vm_view), path);
      gtk_tree_path_free (path);
    }
  popup_vm_menu (self, (GdkEvent *) event);
  return TRUE;
}

static gboolean
vm_popup_menu (GtkWidget *widget, OrielManagerWindow *self)
{
  popup_vm_menu (self, NULL);
  return TRUE;
}

static void
sparkline_data (GtkTreeViewColumn *col, GtkCellRenderer *cell, GtkTreeModel *model,
                GtkTreeIter *iter, gpointer data)
{
  OrielManagerWindow *self = data;
  g_autoptr (OrielDomain) domain = NULL;
  const OrielDomainStats *stats = NULL;

  gtk_tree_model_get (model, iter, COL_DOMAIN, &domain, -1);
  if (domain != NULL)
    stats = oriel_domain_get_stats (domain);
  if (stats == NULL)
    oriel_sparkline_renderer_set_ring (ORIEL_SPARKLINE_RENDERER (cell), NULL);
  else if (cell == self->cpu_renderer)
    oriel_sparkline_renderer_set_ring (ORIEL_SPARKLINE_RENDERER (cell), &stats->cpu);
  else
    oriel_sparkline_renderer_set_ring (ORIEL_SPARKLINE_RENDERER (cell), &stats->mem);
}

static void
setup_columns (OrielManagerWindow *self)
{
  GtkTreeViewColumn *col;
  GtkCellRenderer *cell;
  GdkRGBA mem_color;

  col = gtk_tree_view_column_new ();
  gtk_tree_view_column_set_title (col, _("Name"));
  gtk_tree_view_column_set_expand (col, TRUE);
  gtk_tree_view_column_set_sort_column_id (col, COL_NAME);
  cell = gtk_cell_renderer_pixbuf_new ();
  gtk_tree_view_column_pack_start (col, cell, FALSE);
  gtk_tree_view_column_add_attribute (col, cell, "icon-name", COL_ICON);
  cell = gtk_cell_renderer_text_new ();
  gtk_tree_view_column_pack_start (col, cell, TRUE);
  gtk_tree_view_column_add_attribute (col, cell, "text", COL_NAME);
  gtk_tree_view_append_column (self->vm_view, col);

  /* A spinner next to the state while an operation runs ("Starting…"). */
  col = gtk_tree_view_column_new ();
  gtk_tree_view_column_set_title (col, _("State"));
  cell = gtk_cell_renderer_spinner_new ();
  gtk_tree_view_column_pack_start (col, cell, FALSE);
  gtk_tree_view_column_add_attribute (col, cell, "active", COL_BUSY);
  gtk_tree_view_column_add_attribute (col, cell, "visible", COL_BUSY);
  gtk_tree_view_column_add_attribute (col, cell, "pulse", COL_PULSE);
  cell = gtk_cell_renderer_text_new ();
  gtk_tree_view_column_pack_start (col, cell, TRUE);
  gtk_tree_view_column_add_attribute (col, cell, "text", COL_STATE_TEXT);
  gtk_tree_view_column_set_min_width (col, 130);
  gtk_tree_view_append_column (self->vm_view, col);

  self->cpu_renderer = oriel_sparkline_renderer_new (NULL);
  col = gtk_tree_view_column_new_with_attributes (_("CPU usage"), self->cpu_renderer, NULL);
  gtk_tree_view_column_set_cell_data_func (col, self->cpu_renderer, sparkline_data, self, NULL);
  gtk_tree_view_column_set_min_width (col, 120);
  gtk_tree_view_append_column (self->vm_view, col);

  gdk_rgba_parse (&mem_color, "#26a269");
  self->mem_renderer = oriel_sparkline_renderer_new (&mem_color);
  col = gtk_tree_view_column_new_with_attributes (_("Memory usage"), self->mem_renderer, NULL);
  gtk_tree_view_column_set_cell_data_func (col, self->mem_renderer, sparkline_data, self, NULL);
  gtk_tree_view_column_set_min_width (col, 120);
  gtk_tree_view_append_column (self->vm_view, col);

  gtk_tree_view_set_search_column (self->vm_view, COL_NAME);
}

static void
selection_changed (GtkTreeSelection *sel, OrielManagerWindow *self)
{
  update_actions (self);
}

static void
oriel_manager_window_dispose (GObject *object)
{
  OrielManagerWindow *self = ORIEL_MANAGER_WINDOW (object);

  if (self->app != NULL)
    {
      GPtrArray *conns = oriel_application_get_connections (self->app);
      for (guint i = 0; i < conns->len; i++)
        g_signal_handlers_disconnect_by_data (conns->pdata[i], self);
    }
  g_clear_handle_id (&self->pulse_source, g_source_remove);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (oriel_manager_window_parent_class)->dispose (object);
}

static void
oriel_manager_window_class_init (OrielManagerWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = oriel_manager_window_dispose;
  gtk_widget_class_set_template_from_resource (widget_class, "/org/oriel/Oriel/manager-window.ui");
  gtk_widget_class_bind_template_child (widget_class, OrielManagerWindow, vm_view);
  gtk_widget_class_bind_template_child (widget_class, OrielManagerWindow, info_bar);
  gtk_widget_class_bind_template_child (widget_class, OrielManagerWindow, info_label);
  gtk_widget_class_bind_template_child (widget_class, OrielManagerWindow, menu_button);
  gtk_widget_class_bind_template_callback (widget_class, vm_row_activated);
  gtk_widget_class_bind_template_callback (widget_class, vm_button_press);
  gtk_widget_class_bind_template_callback (widget_class, vm_popup_menu);
  gtk_widget_class_bind_template_callback (widget_class, info_bar_response);
}

static void
oriel_manager_window_init (OrielManagerWindow *self)
{
  static const GActionEntry entries[] = {
    { "new-vm", new_vm_activated, NULL, NULL, NULL, { 0 } },
    { "add-connection", add_connection_activated, NULL, NULL, NULL, { 0 } },
    { "remove-connection", remove_connection_activated, NULL, NULL, NULL, { 0 } },
    { "open", open_activated, NULL, NULL, NULL, { 0 } },
    { "details", details_activated, NULL, NULL, NULL, { 0 } },
    { "run", run_activated, NULL, NULL, NULL, { 0 } },
    { "pause", pause_activated, NULL, NULL, NULL, { 0 } },
    { "resume", resume_activated, NULL, NULL, NULL, { 0 } },
    { "shutdown", shutdown_activated, NULL, NULL, NULL, { 0 } },
    { "reboot", reboot_activated, NULL, NULL, NULL, { 0 } },
    { "force-off", force_off_activated, NULL, NULL, NULL, { 0 } },
    { "save", save_activated, NULL, NULL, NULL, { 0 } },
    { "delete", delete_activated, NULL, NULL, NULL, { 0 } },
  };
  g_autoptr (GtkBuilder) builder = NULL;

  self->started_us = g_get_monotonic_time ();
  gtk_widget_init_template (GTK_WIDGET (self));
  g_action_map_add_action_entries (G_ACTION_MAP (self), entries, G_N_ELEMENTS (entries), self);

  builder = gtk_builder_new_from_resource ("/org/oriel/Oriel/manager-menus.ui");
  self->vm_menu = G_MENU_MODEL (g_object_ref (gtk_builder_get_object (builder, "vm_menu")));
  g_object_set_data_full (G_OBJECT (self), "vm-menu", self->vm_menu, g_object_unref);
  gtk_menu_button_set_menu_model (self->menu_button,
                                  G_MENU_MODEL (gtk_builder_get_object (builder, "app_menu")));

  self->store = gtk_tree_store_new (N_COLS, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING,
                                    G_TYPE_INT, G_TYPE_STRING, ORIEL_TYPE_CONNECTION,
                                    G_TYPE_BOOLEAN, ORIEL_TYPE_DOMAIN, G_TYPE_BOOLEAN,
                                    G_TYPE_UINT);
  gtk_tree_view_set_model (self->vm_view, GTK_TREE_MODEL (self->store));
  setup_columns (self);
  g_signal_connect (gtk_tree_view_get_selection (self->vm_view), "changed",
                    G_CALLBACK (selection_changed), self);
  gtk_info_bar_add_button (self->info_bar, _("_Add Connection…"), 1);
  update_actions (self);
}

OrielManagerWindow *
oriel_manager_window_new (OrielApplication *app)
{
  OrielManagerWindow *self = g_object_new (ORIEL_TYPE_MANAGER_WINDOW, "application", app, NULL);
  static const char *const new_accels[] = { "<Primary>n", NULL };
  static const char *const delete_accels[] = { "Delete", NULL };
  static const char *const open_accels[] = { "<Primary>o", NULL };
  static const char *const details_accels[] = { "<Primary>d", NULL };

  self->app = app;
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.new-vm", new_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.delete", delete_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.open", open_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.details", details_accels);
  return self;
}
