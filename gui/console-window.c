/* One window per VM: its screen (VNC), serial console and details. */
#include "console-window.h"
#include "details-view.h"
#include "display-password-prompt.h"
#include "domain-actions.h"
#include "domain-state.h"
#include "domain-xml-info.h"
#include "error-dialog.h"
#include "oriel-application.h"
#include "serial-console.h"

#include <gdk/gdkkeysyms.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gi18n.h>
#include <string.h>
#include <unistd.h>
#include <vncdisplay.h>

struct _OrielConsoleWindow {
  GtkApplicationWindow parent_instance;

  OrielApplication *app;
  OrielConnection *conn;
  OrielDomain *domain;
  char *uuid;
  char *name;
  guint display_seq;         /* the newest display lookup wins */

  GtkWidget *toolbar;
  GtkWidget *switcher;
  GtkStack *stack;
  GtkStack *display_stack;
  GtkLabel *display_status;
  GtkRevealer *fullscreen_revealer;
  GtkWidget *grab_hint;
  GtkMenuButton *send_key_button;
  GtkMenuButton *fullscreen_send_key_button;
  GtkWidget *display_overlay;

  GtkWidget *vnc;
  GtkWidget *password_prompt;
  char *vnc_password;        /* entered while disconnected, for the next attempt */
  gboolean auth_failed;      /* the disconnect that follows shows the prompt */
  GtkWidget *serial;
  GtkWidget *details;
  gboolean fullscreen;
  gboolean keyboard_grabbed;
  gboolean pointer_grabbed;
  int state;
};

G_DEFINE_TYPE (OrielConsoleWindow, oriel_console_window, GTK_TYPE_APPLICATION_WINDOW)

static void
show_status (OrielConsoleWindow *self, const char *text)
{
  gtk_label_set_text (self->display_status, text);
  gtk_stack_set_visible_child_name (self->display_stack, "status");
}

static void
set_action_enabled (OrielConsoleWindow *self, const char *name, gboolean enabled)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), name);

  if (action != NULL)
    g_simple_action_set_enabled (G_SIMPLE_ACTION (action), enabled);
}

static void
update_state (OrielConsoleWindow *self)
{
  g_autofree char *title = NULL;
  const char *busy = oriel_domain_get_busy (self->domain);
  /* While an operation runs, the power buttons wait for it. */
  gboolean idle = busy == NULL;

  self->state = oriel_domain_get_state (self->domain);
  set_action_enabled (self, "run", idle && oriel_domain_action_allowed (ORIEL_ACTION_RUN, self->state));
  set_action_enabled (self, "pause", idle && oriel_domain_action_allowed (ORIEL_ACTION_PAUSE, self->state));
  set_action_enabled (self, "resume", idle && oriel_domain_action_allowed (ORIEL_ACTION_RESUME, self->state));
  set_action_enabled (self, "shutdown", idle && oriel_domain_action_allowed (ORIEL_ACTION_SHUTDOWN, self->state));
  set_action_enabled (self, "force-off", idle && oriel_domain_action_allowed (ORIEL_ACTION_FORCE_OFF, self->state));
  /* Translators: window title, "<VM name> (<state>)" */
  title = g_strdup_printf (_("%s (%s)"), self->name, oriel_domain_state_label (self->state));
  gtk_window_set_title (GTK_WINDOW (self), title);
}

static gboolean
is_active_state (int state)
{
  return state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_PAUSED
         || state == VIR_DOMAIN_BLOCKED || state == VIR_DOMAIN_SHUTDOWN;
}

typedef struct {
  guint seq;
  OrielDomainInfo *info;
  int fd;
} DisplayRoute;

static void
display_route_free (gpointer data)
{
  DisplayRoute *route = data;

  g_clear_pointer (&route->info, oriel_domain_info_free);
  if (route->fd >= 0)
    close (route->fd);
  g_free (route);
}

/* Worker: the live XML and, for VNC, a socket handed over by libvirt. */
static void
display_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  DisplayRoute *route = task_data;
  virDomainPtr dom = oriel_domain_get_virdomain (ORIEL_DOMAIN (source));
  char *xml = virDomainGetXMLDesc (dom, 0);

  route->info = xml != NULL ? oriel_domain_info_parse (xml, NULL) : NULL;
  free (xml);
  if (route->info != NULL && g_strcmp0 (route->info->graphics_type, "vnc") == 0)
    route->fd = virDomainOpenGraphicsFD (dom, 0, VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH);
  g_task_return_boolean (task, TRUE);
}

static void
display_found (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (OrielConsoleWindow) self = data;
  DisplayRoute *route = g_task_get_task_data (G_TASK (result));
  OrielDomainInfo *info = route->info;
  g_autofree char *port = NULL;

  /* Superseded, the window is closing, or the VM stopped meanwhile. */
  if (route->seq != self->display_seq || self->vnc == NULL
      || vnc_display_is_open (VNC_DISPLAY (self->vnc)) || !is_active_state (self->state))
    return;
  if (info == NULL || info->graphics_type == NULL)
    {
      show_status (self, _("This virtual machine has no graphical display.\n"
                           "Its serial console is in the “Serial Console” tab."));
      return;
    }
  if (g_strcmp0 (info->graphics_type, "vnc") != 0)
    {
      g_autofree char *msg = g_strdup_printf (_("The “%s” display type is not supported; only VNC is."),
                                              info->graphics_type);
      show_status (self, msg);
      return;
    }
  if (route->fd >= 0)
    {
      int fd = route->fd;
      route->fd = -1;
      if (!vnc_display_open_fd (VNC_DISPLAY (self->vnc), fd))
        show_status (self, _("Could not open the display."));
      return;
    }
  if (info->graphics_socket != NULL)
    {
      g_autoptr (GSocketAddress) addr = g_unix_socket_address_new (info->graphics_socket);
      if (!vnc_display_open_addr (VNC_DISPLAY (self->vnc), addr, "localhost"))
        show_status (self, _("Could not open the display."));
      return;
    }
  if (info->graphics_port > 0)
    {
      port = g_strdup_printf ("%d", info->graphics_port);
      if (!vnc_display_open_host (VNC_DISPLAY (self->vnc),
                                  info->graphics_listen != NULL ? info->graphics_listen : "127.0.0.1",
                                  port))
        show_status (self, _("Could not open the display."));
      return;
    }
  show_status (self, _("The display of this virtual machine is not reachable."));
}

/* Opens the VNC connection by the best route available: a socket handed
 * over by libvirt, the UNIX socket, or the TCP port from the XML. The
 * lookups run in a worker; display_found() finishes on the main loop. */
static void
connect_display (OrielConsoleWindow *self)
{
  DisplayRoute *route;
  GTask *task;

  if (vnc_display_is_open (VNC_DISPLAY (self->vnc)))
    return;
  if (oriel_domain_is_removed (self->domain))
    {
      show_status (self, _("The virtual machine no longer exists."));
      return;
    }
  if (!is_active_state (self->state))
    {
      show_status (self, _("The virtual machine is not running.\nPress Run to start it."));
      return;
    }
  show_status (self, _("Connecting to the display…"));
  route = g_new0 (DisplayRoute, 1);
  route->seq = ++self->display_seq;
  route->fd = -1;
  task = g_task_new (self->domain, NULL, display_found, g_object_ref (self));
  g_task_set_task_data (task, route, display_route_free);
  g_task_run_in_thread (task, display_thread);
  g_object_unref (task);
}

static void
vnc_initialized (VncDisplay *vnc, OrielConsoleWindow *self)
{
  gtk_stack_set_visible_child (self->display_stack, self->vnc);
  gtk_widget_grab_focus (self->vnc);
}

static void
forget_password (OrielConsoleWindow *self)
{
  if (self->vnc_password != NULL)
    memset (self->vnc_password, 0, strlen (self->vnc_password));
  g_clear_pointer (&self->vnc_password, g_free);
}

static void
ask_password (OrielConsoleWindow *self, const char *error)
{
  oriel_display_password_prompt_ask (ORIEL_DISPLAY_PASSWORD_PROMPT (self->password_prompt), error);
  gtk_stack_set_visible_child_name (self->display_stack, "password");
}

/* gtk-vnc hands credential lists over in a (deprecated) GValueArray. */
static int
credential_type (GValueArray *creds, guint i)
{
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  return g_value_get_enum (g_value_array_get_nth (creds, i));
  G_GNUC_END_IGNORE_DEPRECATIONS
}

/* gtk-vnc asks for what the server's authentication needs: a password
 * (VNC authentication) is asked of the user, unless one was just entered
 * for this attempt; user names (VeNCrypt plain, SASL) are not offered. */
static void
vnc_auth_credential (VncDisplay *vnc, GValueArray *creds, OrielConsoleWindow *self)
{
  gboolean need_password = FALSE;

  for (guint i = 0; i < creds->n_values; i++)
    {
      int type = credential_type (creds, i);
      if (type == VNC_DISPLAY_CREDENTIAL_PASSWORD)
        need_password = TRUE;
      else if (type == VNC_DISPLAY_CREDENTIAL_CLIENTNAME)
        vnc_display_set_credential (vnc, type, "oriel");
      else
        {
          vnc_display_close (vnc);
          show_status (self, _("The display asks for a user name, which Oriel cannot send."));
          return;
        }
    }
  if (!need_password)
    return;
  if (self->vnc_password != NULL)
    {
      vnc_display_set_credential (vnc, VNC_DISPLAY_CREDENTIAL_PASSWORD, self->vnc_password);
      forget_password (self);
    }
  else
    ask_password (self, NULL);
}

static void
password_submitted (OrielDisplayPasswordPrompt *prompt, const char *password, OrielConsoleWindow *self)
{
  show_status (self, _("Connecting to the display…"));
  if (vnc_display_is_open (VNC_DISPLAY (self->vnc)))
    {
      /* The connection is waiting for it. */
      vnc_display_set_credential (VNC_DISPLAY (self->vnc), VNC_DISPLAY_CREDENTIAL_PASSWORD, password);
      return;
    }
  forget_password (self);
  self->vnc_password = g_strdup (password);
  connect_display (self);
}

static void
vnc_auth_failure (VncDisplay *vnc, const char *message, OrielConsoleWindow *self)
{
  self->auth_failed = TRUE;
  forget_password (self);
  ask_password (self, _("The password was not accepted. Try again."));
}

static void
vnc_auth_unsupported (VncDisplay *vnc, GValueArray *types, OrielConsoleWindow *self)
{
  show_status (self, _("The display uses an authentication method Oriel does not support."));
}

static void
vnc_disconnected (VncDisplay *vnc, OrielConsoleWindow *self)
{
  update_state (self);
  if (self->auth_failed)
    {
      /* Keep the prompt: the next password opens a new connection. */
      self->auth_failed = FALSE;
      return;
    }
  show_status (self, is_active_state (self->state)
                     ? _("The display was disconnected.")
                     : _("The virtual machine is not running.\nPress Run to start it."));
}

static void
vnc_error (VncDisplay *vnc, const char *message, OrielConsoleWindow *self)
{
  g_autofree char *text = g_strdup_printf (_("Display error: %s"), message);

  show_status (self, text);
}

/* The hint says how to get the keyboard (and mouse) back: Ctrl+Alt while
 * the pointer is grabbed (relative pointer), leaving the display while
 * only the keyboard is (absolute pointer). */
static void
update_grab_hint (OrielConsoleWindow *self)
{
  gtk_label_set_text (GTK_LABEL (self->grab_hint),
                      self->pointer_grabbed
                      ? _("Press Ctrl+Alt to release the keyboard and mouse.")
                      : _("Keyboard shortcuts go to the virtual machine. Move the pointer off the display to release the keyboard."));
  gtk_widget_set_visible (self->grab_hint, self->pointer_grabbed || self->keyboard_grabbed);
}

static void
vnc_keyboard_grab (VncDisplay *vnc, OrielConsoleWindow *self)
{
  self->keyboard_grabbed = TRUE;
  update_grab_hint (self);
}

static void
vnc_keyboard_ungrab (VncDisplay *vnc, OrielConsoleWindow *self)
{
  self->keyboard_grabbed = FALSE;
  update_grab_hint (self);
}

static void
vnc_pointer_grab (VncDisplay *vnc, OrielConsoleWindow *self)
{
  self->pointer_grabbed = TRUE;
  update_grab_hint (self);
}

static void
vnc_pointer_ungrab (VncDisplay *vnc, OrielConsoleWindow *self)
{
  self->pointer_grabbed = FALSE;
  update_grab_hint (self);
}

/* The model changed: follow the state; starting and stopping connect
 * and disconnect the display and the serial console. */
static void
domain_changed (OrielDomain *domain, GParamSpec *pspec, OrielConsoleWindow *self)
{
  gboolean was_active = is_active_state (self->state);
  gboolean active;

  if (g_strcmp0 (oriel_domain_get_name (domain), self->name) != 0)
    {
      g_free (self->name);
      self->name = g_strdup (oriel_domain_get_name (domain));
    }
  update_state (self);
  active = is_active_state (self->state);
  if (active && !was_active)
    {
      connect_display (self);
      if (g_strcmp0 (gtk_stack_get_visible_child_name (self->stack), "serial") == 0)
        oriel_serial_console_connect (ORIEL_SERIAL_CONSOLE (self->serial));
    }
  else if (!active && was_active)
    {
      self->display_seq++;
      vnc_display_close (VNC_DISPLAY (self->vnc));
      oriel_serial_console_disconnect (ORIEL_SERIAL_CONSOLE (self->serial));
      show_status (self, _("The virtual machine is not running.\nPress Run to start it."));
    }
}

static void
domain_removed (OrielDomain *domain, OrielConsoleWindow *self)
{
  gtk_widget_destroy (GTK_WIDGET (self));
}

static void
run_action (OrielConsoleWindow *self, OrielDomainAction action)
{
  oriel_domain_action_start (GTK_WINDOW (self), self->domain, action);
}

#define DEFINE_ACTION(fn, act) \
  static void fn (GSimpleAction *a, GVariant *p, gpointer data) { run_action (data, act); }
DEFINE_ACTION (run_activated, ORIEL_ACTION_RUN)
DEFINE_ACTION (pause_activated, ORIEL_ACTION_PAUSE)
DEFINE_ACTION (resume_activated, ORIEL_ACTION_RESUME)
DEFINE_ACTION (shutdown_activated, ORIEL_ACTION_SHUTDOWN)
DEFINE_ACTION (force_off_activated, ORIEL_ACTION_FORCE_OFF)

static void
send_key_activated (GSimpleAction *a, GVariant *param, gpointer data)
{
  OrielConsoleWindow *self = data;
  const char *combo = g_variant_get_string (param, NULL);
  guint keys[3];
  int n = 0;

  if (g_str_equal (combo, "ctrl-alt-del"))
    {
      keys[n++] = GDK_KEY_Control_L;
      keys[n++] = GDK_KEY_Alt_L;
      keys[n++] = GDK_KEY_Delete;
    }
  else if (g_str_equal (combo, "ctrl-alt-backspace"))
    {
      keys[n++] = GDK_KEY_Control_L;
      keys[n++] = GDK_KEY_Alt_L;
      keys[n++] = GDK_KEY_BackSpace;
    }
  else if (g_str_equal (combo, "print"))
    keys[n++] = GDK_KEY_Print;
  else if (g_str_has_prefix (combo, "ctrl-alt-f"))
    {
      guint f = (guint) g_ascii_strtoull (combo + strlen ("ctrl-alt-f"), NULL, 10);
      if (f < 1 || f > 12)
        return;
      keys[n++] = GDK_KEY_Control_L;
      keys[n++] = GDK_KEY_Alt_L;
      keys[n++] = GDK_KEY_F1 + (f - 1);
    }
  if (n > 0 && vnc_display_is_open (VNC_DISPLAY (self->vnc)))
    vnc_display_send_keys (VNC_DISPLAY (self->vnc), keys, n);
}

static void
screenshot_response (GtkNativeDialog *chooser, int response, OrielConsoleWindow *self)
{
  GdkPixbuf *pixbuf = g_object_get_data (G_OBJECT (chooser), "pixbuf");
  g_autoptr (GError) error = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autofree char *path = gtk_file_chooser_get_filename (GTK_FILE_CHOOSER (chooser));
      if (path != NULL && !gdk_pixbuf_save (pixbuf, path, "png", &error, NULL))
        oriel_error_dialog_show_gerror (GTK_WINDOW (self), _("Could not save the screenshot"), error);
    }
  g_object_unref (chooser);
}

static void
screenshot_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  OrielConsoleWindow *self = data;
  GdkPixbuf *pixbuf = NULL;
  GtkFileChooserNative *chooser;
  g_autofree char *name = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%Y-%m-%d-%H%M%S");

  /* The image is taken now, not when the file name has been chosen. */
  if (!vnc_display_is_open (VNC_DISPLAY (self->vnc))
      || (pixbuf = vnc_display_get_pixbuf (VNC_DISPLAY (self->vnc))) == NULL)
    {
      oriel_error_dialog_show (GTK_WINDOW (self), _("There is no screen to save."),
                               _("The virtual machine’s display is not connected."));
      return;
    }
  chooser = gtk_file_chooser_native_new (_("Save Screenshot"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_object_set_data_full (G_OBJECT (chooser), "pixbuf", pixbuf, g_object_unref);
  name = g_strdup_printf ("%s-%s.png", self->name, stamp);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  gtk_file_chooser_set_do_overwrite_confirmation (GTK_FILE_CHOOSER (chooser), TRUE);
  g_signal_connect_object (chooser, "response", G_CALLBACK (screenshot_response), self, 0);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
fullscreen_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  OrielConsoleWindow *self = data;

  gtk_stack_set_visible_child_name (self->stack, "display");
  gtk_window_fullscreen (GTK_WINDOW (self));
}

static void
unfullscreen_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  gtk_window_unfullscreen (GTK_WINDOW (data));
}

static void
show_page_activated (GSimpleAction *a, GVariant *param, gpointer data)
{
  oriel_console_window_show_page (data, g_variant_get_string (param, NULL));
}

void
oriel_console_window_show_page (OrielConsoleWindow *self, const char *page)
{
  if (gtk_stack_get_child_by_name (self->stack, page) != NULL)
    gtk_stack_set_visible_child_name (self->stack, page);
}

static gboolean
window_state_changed (GtkWidget *widget, GdkEventWindowState *event, OrielConsoleWindow *self)
{
  self->fullscreen = (event->new_window_state & GDK_WINDOW_STATE_FULLSCREEN) != 0;
  gtk_widget_set_visible (self->toolbar, !self->fullscreen);
  gtk_revealer_set_reveal_child (self->fullscreen_revealer, FALSE);
  return FALSE;
}

/* In fullscreen the toolbar slides in when the pointer touches the top. */
static gboolean
overlay_motion (GtkWidget *widget, GdkEventMotion *event, OrielConsoleWindow *self)
{
  int limit;

  if (!self->fullscreen)
    return FALSE;
  limit = gtk_revealer_get_child_revealed (self->fullscreen_revealer)
          ? gtk_widget_get_allocated_height (GTK_WIDGET (self->fullscreen_revealer)) + 8 : 4;
  gtk_revealer_set_reveal_child (self->fullscreen_revealer, event->y <= limit);
  return FALSE;
}

static void
page_changed (GtkStack *stack, GParamSpec *pspec, OrielConsoleWindow *self)
{
  const char *page = gtk_stack_get_visible_child_name (stack);

  if (g_strcmp0 (page, "serial") == 0)
    {
      oriel_serial_console_connect (ORIEL_SERIAL_CONSOLE (self->serial));
      /* Typing should go to the guest as soon as the tab is shown. */
      gtk_widget_child_focus (self->serial, GTK_DIR_TAB_FORWARD);
    }
  else if (g_strcmp0 (page, "details") == 0)
    oriel_details_view_refresh (ORIEL_DETAILS_VIEW (self->details));
}

static GMenuModel *
build_send_key_menu (void)
{
  GMenu *menu = g_menu_new ();
  GMenu *section = g_menu_new ();
  GMenu *fkeys = g_menu_new ();

  g_menu_append (section, _("Ctrl+Alt+Delete"), "win.send-key::ctrl-alt-del");
  g_menu_append (section, _("Ctrl+Alt+Backspace"), "win.send-key::ctrl-alt-backspace");
  g_menu_append (section, _("Print Screen"), "win.send-key::print");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (section));
  for (int f = 1; f <= 12; f++)
    {
      g_autofree char *label = g_strdup_printf (_("Ctrl+Alt+F%d"), f);
      g_autofree char *action = g_strdup_printf ("win.send-key::ctrl-alt-f%d", f);
      g_menu_append (fkeys, label, action);
    }
  g_menu_append_section (menu, NULL, G_MENU_MODEL (fkeys));
  g_object_unref (section);
  g_object_unref (fkeys);
  return G_MENU_MODEL (menu);
}

static void
setting_changed (GSettings *settings, const char *key, OrielConsoleWindow *self)
{
  if (g_str_equal (key, "console-scaling"))
    vnc_display_set_scaling (VNC_DISPLAY (self->vnc), g_settings_get_boolean (settings, key));
  else if (g_str_equal (key, "console-resize-guest"))
    vnc_display_set_allow_resize (VNC_DISPLAY (self->vnc), g_settings_get_boolean (settings, key));
}

static void
oriel_console_window_dispose (GObject *object)
{
  OrielConsoleWindow *self = ORIEL_CONSOLE_WINDOW (object);

  if (self->domain != NULL)
    g_signal_handlers_disconnect_by_data (self->domain, self);
  if (self->app != NULL)
    g_signal_handlers_disconnect_by_data (oriel_application_get_settings (self->app), self);
  /* dispose may run more than once; the display widget dies with the
   * window's children, so only close it the first time. */
  if (self->vnc != NULL)
    {
      vnc_display_close (VNC_DISPLAY (self->vnc));
      self->vnc = NULL;
    }
  g_clear_object (&self->domain);
  g_clear_object (&self->conn);
  G_OBJECT_CLASS (oriel_console_window_parent_class)->dispose (object);
}

static void
oriel_console_window_finalize (GObject *object)
{
  OrielConsoleWindow *self = ORIEL_CONSOLE_WINDOW (object);

  g_free (self->uuid);
  g_free (self->name);
  forget_password (self);
  G_OBJECT_CLASS (oriel_console_window_parent_class)->finalize (object);
}

static void
oriel_console_window_class_init (OrielConsoleWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = oriel_console_window_dispose;
  G_OBJECT_CLASS (klass)->finalize = oriel_console_window_finalize;
  gtk_widget_class_set_template_from_resource (widget_class, "/org/oriel/Oriel/console-window.ui");
  gtk_widget_class_bind_template_child (widget_class, OrielConsoleWindow, toolbar);
  gtk_widget_class_bind_template_child (widget_class, OrielConsoleWindow, switcher);
  gtk_widget_class_bind_template_child (widget_class, OrielConsoleWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, OrielConsoleWindow, display_stack);
  gtk_widget_class_bind_template_child (widget_class, OrielConsoleWindow, display_status);
  gtk_widget_class_bind_template_child (widget_class, OrielConsoleWindow, fullscreen_revealer);
  gtk_widget_class_bind_template_child (widget_class, OrielConsoleWindow, grab_hint);
  gtk_widget_class_bind_template_child (widget_class, OrielConsoleWindow, send_key_button);
  gtk_widget_class_bind_template_child (widget_class, OrielConsoleWindow, fullscreen_send_key_button);
  gtk_widget_class_bind_template_child (widget_class, OrielConsoleWindow, display_overlay);
  gtk_widget_class_bind_template_callback (widget_class, window_state_changed);
  gtk_widget_class_bind_template_callback (widget_class, page_changed);
}

static void
oriel_console_window_init (OrielConsoleWindow *self)
{
  static const GActionEntry entries[] = {
    { "run", run_activated, NULL, NULL, NULL, { 0 } },
    { "pause", pause_activated, NULL, NULL, NULL, { 0 } },
    { "resume", resume_activated, NULL, NULL, NULL, { 0 } },
    { "shutdown", shutdown_activated, NULL, NULL, NULL, { 0 } },
    { "force-off", force_off_activated, NULL, NULL, NULL, { 0 } },
    { "send-key", send_key_activated, "s", NULL, NULL, { 0 } },
    { "screenshot", screenshot_activated, NULL, NULL, NULL, { 0 } },
    { "fullscreen", fullscreen_activated, NULL, NULL, NULL, { 0 } },
    { "unfullscreen", unfullscreen_activated, NULL, NULL, NULL, { 0 } },
    { "show-page", show_page_activated, "s", NULL, NULL, { 0 } },
  };
  g_autoptr (GMenuModel) keys = build_send_key_menu ();

  gtk_widget_init_template (GTK_WIDGET (self));
  g_action_map_add_action_entries (G_ACTION_MAP (self), entries, G_N_ELEMENTS (entries), self);
  gtk_menu_button_set_menu_model (self->send_key_button, keys);
  gtk_menu_button_set_menu_model (self->fullscreen_send_key_button, keys);

  self->vnc = vnc_display_new ();
  atk_object_set_name (gtk_widget_get_accessible (self->vnc), _("Guest display"));
  vnc_display_set_keep_aspect_ratio (VNC_DISPLAY (self->vnc), TRUE);
  /* Grab the keyboard while the display has focus, so system shortcuts
   * reach the guest; Ctrl+Alt releases it (the hint says so). */
  vnc_display_set_keyboard_grab (VNC_DISPLAY (self->vnc), TRUE);
  vnc_display_set_pointer_grab (VNC_DISPLAY (self->vnc), TRUE);
  gtk_widget_show (self->vnc);
  gtk_stack_add_named (self->display_stack, self->vnc, "vnc");
  gtk_stack_set_visible_child_name (self->display_stack, "status");
  g_signal_connect (self->vnc, "vnc-initialized", G_CALLBACK (vnc_initialized), self);
  g_signal_connect (self->vnc, "vnc-disconnected", G_CALLBACK (vnc_disconnected), self);
  g_signal_connect (self->vnc, "vnc-error", G_CALLBACK (vnc_error), self);
  g_signal_connect (self->vnc, "vnc-auth-credential", G_CALLBACK (vnc_auth_credential), self);
  g_signal_connect (self->vnc, "vnc-auth-failure", G_CALLBACK (vnc_auth_failure), self);
  g_signal_connect (self->vnc, "vnc-auth-unsupported", G_CALLBACK (vnc_auth_unsupported), self);
  self->password_prompt = oriel_display_password_prompt_new ();
  gtk_stack_add_named (self->display_stack, self->password_prompt, "password");
  g_signal_connect (self->password_prompt, "submitted", G_CALLBACK (password_submitted), self);
  g_signal_connect (self->vnc, "vnc-keyboard-grab", G_CALLBACK (vnc_keyboard_grab), self);
  g_signal_connect (self->vnc, "vnc-keyboard-ungrab", G_CALLBACK (vnc_keyboard_ungrab), self);
  g_signal_connect (self->vnc, "vnc-pointer-grab", G_CALLBACK (vnc_pointer_grab), self);
  g_signal_connect (self->vnc, "vnc-pointer-ungrab", G_CALLBACK (vnc_pointer_ungrab), self);
  gtk_widget_add_events (self->display_overlay, GDK_POINTER_MOTION_MASK);
  g_signal_connect (self->display_overlay, "motion-notify-event", G_CALLBACK (overlay_motion), self);
}

OrielConsoleWindow *
oriel_console_window_new (OrielApplication *app, OrielConnection *conn, const char *uuid)
{
  static const char *const fullscreen_accels[] = { "F11", NULL };
  OrielConsoleWindow *self;
  OrielDomain *domain = oriel_connection_get_domain (conn, uuid);
  GSettings *settings = oriel_application_get_settings (app);
  g_autoptr (GAction) scaling = NULL, resize = NULL;

  if (domain == NULL)
    return NULL;
  self = g_object_new (ORIEL_TYPE_CONSOLE_WINDOW, "application", app, NULL);
  self->app = app;
  self->conn = g_object_ref (conn);
  self->domain = g_object_ref (domain);
  self->uuid = g_strdup (uuid);
  self->name = g_strdup (oriel_domain_get_name (domain));
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.fullscreen", fullscreen_accels);

  scaling = g_settings_create_action (settings, "console-scaling");
  resize = g_settings_create_action (settings, "console-resize-guest");
  g_action_map_add_action (G_ACTION_MAP (self), scaling);
  g_action_map_add_action (G_ACTION_MAP (self), resize);
  vnc_display_set_scaling (VNC_DISPLAY (self->vnc), g_settings_get_boolean (settings, "console-scaling"));
  vnc_display_set_allow_resize (VNC_DISPLAY (self->vnc),
                                g_settings_get_boolean (settings, "console-resize-guest"));
  g_signal_connect (settings, "changed", G_CALLBACK (setting_changed), self);

  self->serial = oriel_serial_console_new (domain);
  gtk_widget_show_all (self->serial);
  gtk_stack_add_titled (self->stack, self->serial, "serial", _("Serial Console"));
  self->details = oriel_details_view_new (domain);
  gtk_widget_show_all (self->details);
  gtk_stack_add_titled (self->stack, self->details, "details", _("Details"));

  g_signal_connect (domain, "notify", G_CALLBACK (domain_changed), self);
  g_signal_connect (domain, "removed", G_CALLBACK (domain_removed), self);
  update_state (self);
  connect_display (self);
  return self;
}
