/* A VTE terminal attached to a domain's serial console stream.
 *
 * The stream is non-blocking and watched by libvirt's event loop thread;
 * bytes read there are handed to the main thread for the terminal. */
#include "serial-console.h"

#include <glib/gi18n.h>
#include <vte/vte.h>

struct _OrielSerialConsole {
  GtkBox parent_instance;

  OrielConnection *conn;
  char *uuid;
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

void
oriel_serial_console_disconnect (OrielSerialConsole *self)
{
  virStreamPtr stream = self->stream;

  if (stream == NULL)
    return;
  self->stream = NULL;
  virStreamEventRemoveCallback (stream);
  virStreamAbort (stream);
  virStreamFree (stream);
  gtk_widget_set_sensitive (self->connect_button, TRUE);
}

void
oriel_serial_console_connect (OrielSerialConsole *self)
{
  virConnectPtr conn = oriel_connection_get_virconn (self->conn);
  virDomainPtr dom = oriel_connection_lookup (self->conn, self->uuid);
  virStreamPtr stream = NULL;
  int state = -1;
  g_autoptr (GError) error = NULL;

  if (self->stream != NULL)
    return;
  if (dom == NULL || conn == NULL)
    {
      set_status (self, _("The virtual machine is not available."));
      goto out;
    }
  virDomainGetState (dom, &state, NULL, 0);
  if (state != VIR_DOMAIN_RUNNING && state != VIR_DOMAIN_PAUSED && state != VIR_DOMAIN_BLOCKED)
    {
      set_status (self, _("The serial console is available while the virtual machine runs."));
      goto out;
    }
  stream = virStreamNew (conn, VIR_STREAM_NONBLOCK);
  if (stream == NULL || virDomainOpenConsole (dom, NULL, stream, VIR_DOMAIN_CONSOLE_FORCE) < 0)
    {
      oriel_set_libvirt_error (&error, _("Could not open the serial console"));
      set_status (self, error->message);
      goto out;
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
      virStreamAbort (stream);
      goto out;
    }
  self->stream = g_steal_pointer (&stream);
  gtk_widget_set_sensitive (self->connect_button, FALSE);
  set_status (self, _("Connected to the serial console. Keys typed here go to the guest."));
  gtk_widget_grab_focus (self->terminal);
out:
  if (stream != NULL)
    virStreamFree (stream);
  if (dom != NULL)
    virDomainFree (dom);
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

  oriel_serial_console_disconnect (self);
  g_clear_object (&self->conn);
  G_OBJECT_CLASS (oriel_serial_console_parent_class)->dispose (object);
}

static void
oriel_serial_console_finalize (GObject *object)
{
  g_free (ORIEL_SERIAL_CONSOLE (object)->uuid);
  G_OBJECT_CLASS (oriel_serial_console_parent_class)->finalize (object);
}

static void
oriel_serial_console_class_init (OrielSerialConsoleClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = oriel_serial_console_dispose;
  G_OBJECT_CLASS (klass)->finalize = oriel_serial_console_finalize;
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
oriel_serial_console_new (OrielConnection *conn, const char *uuid)
{
  OrielSerialConsole *self = g_object_new (ORIEL_TYPE_SERIAL_CONSOLE, NULL);

  self->conn = g_object_ref (conn);
  self->uuid = g_strdup (uuid);
  set_status (self, _("Not connected."));
  return GTK_WIDGET (self);
}
