#include "console-stream.h"
#include "virt-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

typedef struct {
  RpcStream *stream;
  int fd;
  guint read_watch;
  guint write_watch;
  guint retry_timer;
  GByteArray *pending;   /* client input the pty has not taken yet */
  gboolean eof;
} Console;

static gboolean console_readable (gint fd, GIOCondition cond, gpointer data);

static void
console_stop_reading (Console *c)
{
  if (c->read_watch)
    g_source_remove (c->read_watch);
  c->read_watch = 0;
}

static gboolean
retry_read (gpointer data)
{
  Console *c = data;
  c->retry_timer = 0;
  if (!c->eof && !c->read_watch)
    c->read_watch = g_unix_fd_add (c->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, console_readable, c);
  return G_SOURCE_REMOVE;
}

static gboolean
console_readable (gint fd, GIOCondition cond, gpointer data)
{
  Console *c = data;
  guint8 buf[16384];
  ssize_t n = read (fd, buf, sizeof buf);
  if (n > 0)
    {
      rpc_stream_send_data (c->stream, buf, n);
      if (rpc_stream_client_congested (c->stream))
        {
          /* Let the client drain before reading more guest output. */
          c->read_watch = 0;
          c->retry_timer = g_timeout_add (20, retry_read, c);
          return G_SOURCE_REMOVE;
        }
      return G_SOURCE_CONTINUE;
    }
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;
  /* EIO: the VMM closed the pty (it exited). */
  c->eof = TRUE;
  c->read_watch = 0;
  rpc_stream_send_eof (c->stream);
  return G_SOURCE_REMOVE;
}

static gboolean
console_writable (gint fd, GIOCondition cond, gpointer data)
{
  Console *c = data;
  while (c->pending->len)
    {
      ssize_t n = write (c->fd, c->pending->data, c->pending->len);
      if (n < 0)
        {
          if (errno == EAGAIN || errno == EINTR)
            return G_SOURCE_CONTINUE;
          g_byte_array_set_size (c->pending, 0);
          break;
        }
      g_byte_array_remove_range (c->pending, 0, n);
    }
  c->write_watch = 0;
  return G_SOURCE_REMOVE;
}

static void
console_data (RpcStream *s, const guint8 *buf, gsize len)
{
  Console *c = rpc_stream_user (s);
  if (c->eof)
    return;
  /* Bound what a client can park in the daemon if the guest stalls. */
  if (c->pending->len + len > (4u << 20))
    return;
  g_byte_array_append (c->pending, buf, len);
  if (!c->write_watch)
    {
      console_writable (c->fd, G_IO_OUT, c);
      if (c->pending->len)
        c->write_watch = g_unix_fd_add (c->fd, G_IO_OUT, console_writable, c);
    }
}

static void
console_finish (RpcStream *s)
{
  Console *c = rpc_stream_user (s);
  console_stop_reading (c);
}

static void
console_free (gpointer data)
{
  Console *c = data;
  console_stop_reading (c);
  if (c->write_watch)
    g_source_remove (c->write_watch);
  if (c->retry_timer)
    g_source_remove (c->retry_timer);
  close (c->fd);
  g_byte_array_unref (c->pending);
  g_free (c);
}

static const RpcStreamOps console_ops = {
  .data = console_data,
  .finish = console_finish,
  .free = console_free,
};

gboolean
console_stream_open (RpcCall *call, const char *pty_path, GError **error)
{
  int fd = open (pty_path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                   _("cannot open console device %s: %s"), pty_path, g_strerror (errno));
      return FALSE;
    }
  /* Raw mode: bytes pass untouched between client and guest UART. */
  struct termios t;
  if (tcgetattr (fd, &t) == 0)
    {
      cfmakeraw (&t);
      tcsetattr (fd, TCSANOW, &t);
    }
  Console *c = g_new0 (Console, 1);
  c->fd = fd;
  c->pending = g_byte_array_new ();
  c->stream = rpc_stream_new (call, &console_ops, c);
  /* Start relaying after the OK reply has been queued. */
  c->retry_timer = g_idle_add (retry_read, c);
  return TRUE;
}
