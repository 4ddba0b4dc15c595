/* A VTE terminal attached to a domain's serial console stream.
 *
 * The stream is non-blocking and watched by libvirt's event loop thread;
 * bytes read there are handed to the main thread for the terminal.
 * Opening and closing the stream are round trips: they run in workers. */
#include "serial-console.h"

#include <glib/gi18n.h>
#include <vte/vte.h>

struct _OrielSerialConsole {
  GtkBox parent_instance;

  OrielDomain *domain;
  guint connect_seq;         /* the newest connect attempt wins */
  gboolean connecting;
  GtkWidget *terminal;
  GtkLabel *status;
  GtkWidget *connect_button;
  virStreamPtr stream;
  /* Shared with the event thread (refcounted box); chunks in flight hold
   * their own reference. */
  GWeakRef *weak_self;
};

G_DEFINE_TYPE (OrielSerialConsole, oriel_serial_console, GTK_TYPE_BOX)

typedef struct {
  GWeakRef *weak_self;
  virStreamPtr stream;
  GBytes *data;
  gboolean hangup;
} StreamChunk;

static void
free_weak (void *opaque)
{
  g_atomic_rc_box_release_full (opaque, (GDestroyNotify) g_weak_ref_clear);
}

static void
set_status (OrielSerialConsole *self, const char *text)
{
  gtk_label_set_text (self->status, text);
}

static gboolean
deliver_chunk (gpointer data)
{
  StreamChunk *chunk = data;
  OrielSerialConsole *self = g_weak_ref_get (chunk->weak_self);

  if (self != NULL && self->stream == chunk->stream)
    {
      if (chunk->data != NULL)
        {
          gsize len;
          const char *bytes = g_bytes_get_data (chunk->data, &len);
          vte_terminal_feed (VTE_TERMINAL (self->terminal), bytes, len);
        }
      if (chunk->hangup)
        {
          oriel_serial_console_disconnect (self);
          set_status (self, _("The serial console was closed."));
        }
    }
  g_clear_object (&self);
  if (chunk->data != NULL)
    g_bytes_unref (chunk->data);
  virStreamFree (chunk->stream);
  free_weak (chunk->weak_self);
  g_free (chunk);
  return G_SOURCE_REMOVE;
}

static void
post_chunk (GWeakRef *weak_self, virStreamPtr stream, GBytes *data, gboolean hangup)
{
  StreamChunk *chunk = g_new0 (StreamChunk, 1);

  chunk->weak_self = g_atomic_rc_box_acquire (weak_self);
  chunk->stream = stream;
  virStreamRef (stream);
  chunk->data = data;
  chunk->hangup = hangup;
  g_main_context_invoke (NULL, deliver_chunk, chunk);
}

/* Runs on the libvirt event thread. */
static void
stream_event (virStreamPtr stream, int events, void *opaque)
{
  GWeakRef *weak_self = opaque;
  char buf[4096];

  if (events & VIR_STREAM_EVENT_READABLE)
    for (;;)
      {
        int got = virStreamRecv (stream, buf, sizeof buf);
        if (got > 0)
          post_chunk (weak_self, stream, g_bytes_new (buf, got), FALSE);
        else if (got == -2)
          break; /* nothing more for now */
        else
          {
            virStreamEventRemoveCallback (stream);
            post_chunk (weak_self, stream, NULL, TRUE);
            return;
          }
      }
  if (events & (VIR_STREAM_EVENT_HANGUP | VIR_STREAM_EVENT_ERROR))
    {
      virStreamEventRemoveCallback (stream);
      post_chunk (weak_self, stream, NULL, TRUE);
    }
}


static void
terminal_commit (VteTerminal *terminal, const char *text, guint size,
                 OrielSerialConsole *self)
{
  if (self->stream == NULL)
    return;
  /* Keyboard input is small; a full socket buffer drops it like a busy
   * UART would, rather than blocking the interface. */
  if (virStreamSend (self->stream, text, size) < 0)
    set_status (self, _("Could not send input to the serial console."));
}

static void
release_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  virStreamPtr stream = task_data;

  virStreamAbort (stream);
  virStreamFree (stream);
  g_task_return_boolean (task, TRUE);
}

/* Aborting a remote stream waits for the daemon's answer. */
static void
release_stream (virStreamPtr stream)
{
  GTask *task = g_task_new (NULL, NULL, NULL, NULL);

  g_task_set_task_data (task, stream, NULL);
  g_task_run_in_thread (task, release_thread);
  g_object_unref (task);
}

static void
drop_stream (OrielSerialConsole *self)
{
  virStreamPtr stream = self->stream;

  /* An attempt still under way is dropped when it completes. */
  self->connect_seq++;
  self->connecting = FALSE;
  if (stream == NULL)
    return;
  self->stream = NULL;
  virStreamEventRemoveCallback (stream);
  release_stream (stream);
}

void
oriel_serial_console_disconnect (OrielSerialConsole *self)
{
  drop_stream (self);
  gtk_widget_set_sensitive (self->connect_button, TRUE);
}

static void
open_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  virDomainPtr dom = oriel_domain_get_virdomain (ORIEL_DOMAIN (source));
  virStreamPtr stream = virStreamNew (virDomainGetConnect (dom), VIR_STREAM_NONBLOCK);
  GError *error = NULL;

  if (stream == NULL || virDomainOpenConsole (dom, NULL, stream, VIR_DOMAIN_CONSOLE_FORCE) < 0)
    {
      oriel_set_libvirt_error (&error, _("Could not open the serial console"));
      if (stream != NULL)
        virStreamFree (stream);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, stream, NULL);
}

static void
opened (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (OrielSerialConsole) self = data;
  g_autoptr (GError) error = NULL;
  virStreamPtr stream = g_task_propagate_pointer (G_TASK (result), &error);
  guint seq = GPOINTER_TO_UINT (g_task_get_task_data (G_TASK (result)));

  if (seq != self->connect_seq || self->domain == NULL)
    {
      if (stream != NULL)
        release_stream (stream);
      return;
    }
  self->connecting = FALSE;
  if (stream == NULL)
    {
      set_status (self, error->message);
      gtk_widget_set_sensitive (self->connect_button, TRUE);
      return;
    }
  self->weak_self = g_atomic_rc_box_new0 (GWeakRef);
  g_weak_ref_init (self->weak_self, self);
  if (virStreamEventAddCallback (stream, VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_ERROR
                                          | VIR_STREAM_EVENT_HANGUP,
                                 stream_event, self->weak_self, free_weak) < 0)
    {
      free_weak (self->weak_self);
      oriel_set_libvirt_error (&error, _("Could not watch the serial console"));
      set_status (self, error->message);
      gtk_widget_set_sensitive (self->connect_button, TRUE);
      release_stream (stream);
      return;
    }
  self->stream = stream;
  set_status (self, _("Connected to the serial console. Keys typed here go to the guest."));
  gtk_widget_grab_focus (self->terminal);
}

void
oriel_serial_console_connect (OrielSerialConsole *self)
{
  int state = oriel_domain_get_state (self->domain);
  GTask *task;

  if (self->stream != NULL || self->connecting)
    return;
  if (oriel_domain_is_removed (self->domain))
    {
      set_status (self, _("The virtual machine is not available."));
      return;
    }
  if (state != VIR_DOMAIN_RUNNING && state != VIR_DOMAIN_PAUSED && state != VIR_DOMAIN_BLOCKED)
    {
      set_status (self, _("The serial console is available while the virtual machine runs."));
      return;
    }
  self->connecting = TRUE;
  gtk_widget_set_sensitive (self->connect_button, FALSE);
  set_status (self, _("Connecting to the serial console…"));
  task = g_task_new (self->domain, NULL, opened, g_object_ref (self));
  g_task_set_task_data (task, GUINT_TO_POINTER (++self->connect_seq), NULL);
  g_task_run_in_thread (task, open_thread);
  g_object_unref (task);
}

static void
connect_clicked (GtkButton *button, OrielSerialConsole *self)
{
  oriel_serial_console_connect (self);
}

static void
oriel_serial_console_dispose (GObject *object)
{
  OrielSerialConsole *self = ORIEL_SERIAL_CONSOLE (object);

  /* The button may be gone already. */
  drop_stream (self);
  g_clear_object (&self->domain);
  G_OBJECT_CLASS (oriel_serial_console_parent_class)->dispose (object);
}

static void
oriel_serial_console_class_init (OrielSerialConsoleClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = oriel_serial_console_dispose;
}

static void
oriel_serial_console_init (OrielSerialConsole *self)
{
  GtkWidget *bar, *scroller;

  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  g_object_set (bar, "margin", 6, NULL);
  self->status = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->status, 0.0);
  gtk_label_set_ellipsize (self->status, PANGO_ELLIPSIZE_END);
  self->connect_button = gtk_button_new_with_mnemonic (_("_Connect"));
  gtk_box_pack_start (GTK_BOX (bar), GTK_WIDGET (self->status), TRUE, TRUE, 0);
  gtk_box_pack_end (GTK_BOX (bar), self->connect_button, FALSE, FALSE, 0);
  g_signal_connect (self->connect_button, "clicked", G_CALLBACK (connect_clicked), self);

  self->terminal = vte_terminal_new ();
  vte_terminal_set_scrollback_lines (VTE_TERMINAL (self->terminal), 5000);
  atk_object_set_name (gtk_widget_get_accessible (self->terminal), _("Serial console"));
  g_signal_connect (self->terminal, "commit", G_CALLBACK (terminal_commit), self);
  scroller = gtk_scrolled_window_new (NULL, NULL);
  gtk_container_add (GTK_CONTAINER (scroller), self->terminal);

  gtk_box_pack_start (GTK_BOX (self), bar, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (self), scroller, TRUE, TRUE, 0);
}

GtkWidget *
oriel_serial_console_new (OrielDomain *domain)
{
  OrielSerialConsole *self = g_object_new (ORIEL_TYPE_SERIAL_CONSOLE, NULL);

  self->domain = g_object_ref (domain);
  set_status (self, _("Not connected."));
  return GTK_WIDGET (self);
}
