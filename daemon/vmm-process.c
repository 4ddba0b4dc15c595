#include "vmm-process.h"
#include "virt-error.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define CONNECT_POLL_MS 50
/* Generous: a loaded host starting many VMs at once is slow, a broken VMM
 * fails fast by exiting. */
#define CONNECT_TIMEOUT_MS 90000
#define CONTROL_LINE_MAX (1u << 20)

typedef struct {
  guint id;
  VmmReplyFn reply;
  gpointer data;
} PendingCommand;

struct VmmProcess {
  int ref;               /* held across callbacks that may detach it */
  gboolean detached;
  pid_t pid;
  char *control_path;
  char *log_path;
  const VmmCallbacks *cb;
  gpointer user;
  guint child_watch;     /* our child */
  int pidfd;             /* adopted */
  guint pidfd_watch;
  GSocket *control;
  GSource *control_source;
  GString *linebuf;
  gboolean greeted;
  guint next_id;
  GList *pending;        /* PendingCommand* */
  /* start-up */
  VmmReadyFn ready;
  gpointer ready_data;
  guint connect_timer;
  gint64 connect_deadline;
  gboolean exited;
};

pid_t vmm_process_pid (VmmProcess *vmm) { return vmm->pid; }

static VmmProcess *
vmm_ref (VmmProcess *vmm)
{
  vmm->ref++;
  return vmm;
}

static void
vmm_unref (VmmProcess *vmm)
{
  if (--vmm->ref > 0)
    return;
  g_free (vmm->control_path);
  g_free (vmm->log_path);
  g_string_free (vmm->linebuf, TRUE);
  g_free (vmm);
}

char *
vmm_log_tail (const char *log_path)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  if (!log_path || !g_file_get_contents (log_path, &contents, &len, NULL) || len == 0)
    return g_strdup ("");
  const char *start = contents;
  if (len > 2048)
    start = contents + len - 2048;
  return g_strstrip (g_strdup (start));
}

static void
fail_pending (VmmProcess *vmm, const char *why)
{
  GList *pending = vmm->pending;
  vmm->pending = NULL;
  g_autoptr (GError) error = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_FAILED, "%s", why);
  for (GList *l = pending; l; l = l->next)
    {
      PendingCommand *p = l->data;
      if (p->reply)
        p->reply (vmm, NULL, error, p->data);
      g_free (p);
    }
  g_list_free (pending);
}

static void
control_close (VmmProcess *vmm)
{
  if (vmm->control_source)
    {
      g_source_destroy (vmm->control_source);
      g_clear_pointer (&vmm->control_source, g_source_unref);
    }
  if (vmm->control)
    {
      g_socket_close (vmm->control, NULL);
      g_clear_object (&vmm->control);
    }
}

static void
handle_line (VmmProcess *vmm, const char *line)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, line, -1, NULL))
    {
      g_warning ("oriel-vmm %d: unparsable control message", vmm->pid);
      return;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    return;
  JsonObject *o = json_node_get_object (root);
  if (json_object_has_member (o, "oriel"))
    {
      vmm->greeted = TRUE;
      return;
    }
  if (json_object_has_member (o, "event"))
    {
      const char *name = json_object_get_string_member_with_default (o, "event", "");
      JsonObject *data = json_object_has_member (o, "data")
        ? json_object_get_object_member (o, "data") : NULL;
      if (vmm->cb->event)
        vmm->cb->event (vmm, name, data, vmm->user);
      return;
    }
  if (!json_object_has_member (o, "id"))
    return;
  guint id = (guint) json_object_get_int_member (o, "id");
  for (GList *l = vmm->pending; l; l = l->next)
    {
      PendingCommand *p = l->data;
      if (p->id != id)
        continue;
      vmm->pending = g_list_delete_link (vmm->pending, l);
      if (json_object_has_member (o, "error"))
        {
          JsonObject *e = json_object_get_object_member (o, "error");
          const char *desc = e ? json_object_get_string_member_with_default (e, "desc", "") : "";
          g_autoptr (GError) error = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                                                  _("oriel-vmm refused the request: %s"), desc);
          if (p->reply)
            p->reply (vmm, NULL, error, p->data);
        }
      else if (p->reply)
        p->reply (vmm, json_object_get_member (o, "return"), NULL, p->data);
      g_free (p);
      return;
    }
}

static gboolean
control_readable (GSocket *sock, GIOCondition cond, gpointer data)
{
  VmmProcess *vmm = data;
  char buf[8192];
  gssize n = g_socket_receive (sock, buf, sizeof buf, NULL, NULL);
  if (n <= 0)
    {
      /* The exit watch reports the end; just stop listening. */
      g_clear_pointer (&vmm->control_source, g_source_unref);
      vmm_ref (vmm);
      fail_pending (vmm, _("the control connection to oriel-vmm was closed"));
      vmm_unref (vmm);
      return G_SOURCE_REMOVE;
    }
  g_string_append_len (vmm->linebuf, buf, n);
  char *nl;
  vmm_ref (vmm);
  while (!vmm->detached && vmm->control
         && (nl = memchr (vmm->linebuf->str, '\n', vmm->linebuf->len)))
    {
      *nl = '\0';
      g_autofree char *line = g_strdup (vmm->linebuf->str);
      g_string_erase (vmm->linebuf, 0, nl - vmm->linebuf->str + 1);
      handle_line (vmm, line);
    }
  if (vmm->linebuf->len > CONTROL_LINE_MAX)
    {
      g_warning ("oriel-vmm %d: control line too long", vmm->pid);
      g_string_truncate (vmm->linebuf, 0);
    }
  gboolean keep = !vmm->detached && vmm->control;
  vmm_unref (vmm);
  return keep ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean
control_connect (VmmProcess *vmm, GError **error)
{
  g_autoptr (GSocket) sock = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                                           G_SOCKET_PROTOCOL_DEFAULT, error);
  if (!sock)
    return FALSE;
  g_autoptr (GSocketAddress) addr = g_unix_socket_address_new (vmm->control_path);
  if (!g_socket_connect (sock, addr, NULL, error))
    return FALSE;
  g_socket_set_blocking (sock, FALSE);
  vmm->control = g_steal_pointer (&sock);
  vmm->control_source = g_socket_create_source (vmm->control, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (vmm->control_source, (GSourceFunc) (void (*) (void)) control_readable, vmm, NULL);
  g_source_attach (vmm->control_source, NULL);
  return TRUE;
}

void
vmm_process_command (VmmProcess *vmm, const char *command, VmmReplyFn reply, gpointer data)
{
  vmm_process_command_args (vmm, command, NULL, reply, data);
}

void
vmm_process_command_args (VmmProcess *vmm, const char *command, JsonObject *args,
                          VmmReplyFn reply, gpointer data)
{
  if (!vmm->control)
    {
      g_autoptr (GError) error = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                                              _("oriel-vmm is not reachable over its control socket"));
      if (reply)
        reply (vmm, NULL, error, data);
      return;
    }
  PendingCommand *p = g_new0 (PendingCommand, 1);
  p->id = ++vmm->next_id;
  p->reply = reply;
  p->data = data;
  vmm->pending = g_list_append (vmm->pending, p);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "execute");
  json_builder_add_string_value (b, command);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, p->id);
  if (args)
    {
      json_builder_set_member_name (b, "arguments");
      JsonNode *n = json_node_new (JSON_NODE_OBJECT);
      json_node_set_object (n, args);
      json_builder_add_value (b, n);
    }
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *json = json_to_string (root, FALSE);
  g_autofree char *line = g_strconcat (json, "\n", NULL);
  /* Commands are tiny; a local socket accepts them at once. */
  gsize off = 0, len = strlen (line);
  while (off < len)
    {
      g_autoptr (GError) error = NULL;
      gssize n = g_socket_send_with_blocking (vmm->control, line + off, len - off, TRUE, NULL, &error);
      if (n < 0)
        {
          fail_pending (vmm, error->message);
          return;
        }
      off += n;
    }
}

static void
report_exit (VmmProcess *vmm, int status)
{
  if (vmm->exited)
    return;
  vmm->exited = TRUE;
  vmm_ref (vmm);
  control_close (vmm);
  if (vmm->ready)
    {
      /* Died during start-up: the log says why (e.g. KVM unusable). */
      VmmReadyFn ready = vmm->ready;
      vmm->ready = NULL;
      g_autofree char *tail = vmm_log_tail (vmm->log_path);
      g_autoptr (GError) error = NULL;
      if (status != -1 && WIFEXITED (status))
        error = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                             _("oriel-vmm exited with status %d during start-up: %s"),
                             WEXITSTATUS (status), tail);
      else
        error = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                             _("oriel-vmm was terminated during start-up: %s"), tail);
      vmm_process_free (vmm);
      ready (NULL, error, vmm->ready_data);
      vmm_unref (vmm);
      return;
    }
  fail_pending (vmm, _("oriel-vmm exited"));
  if (!vmm->detached && vmm->cb->exited)
    vmm->cb->exited (vmm, status, vmm->user);
  vmm_unref (vmm);
}

static void
child_exited (GPid pid, gint status, gpointer data)
{
  VmmProcess *vmm = data;
  vmm->child_watch = 0;
  g_spawn_close_pid (pid);
  report_exit (vmm, status);
}

static gboolean
pidfd_ready (gint fd, GIOCondition cond, gpointer data)
{
  VmmProcess *vmm = data;
  vmm->pidfd_watch = 0;
  report_exit (vmm, -1);
  return G_SOURCE_REMOVE;
}

static void
query_greeting_done (VmmProcess *vmm, JsonNode *result, const GError *error, gpointer data)
{
  if (!vmm->ready)
    return;
  VmmReadyFn ready = vmm->ready;
  vmm->ready = NULL;
  if (error)
    {
      vmm_process_kill (vmm, SIGKILL);
      /* exit will be reported through the normal path later */
      ready (vmm, error, vmm->ready_data);
      return;
    }
  ready (vmm, NULL, vmm->ready_data);
}

static gboolean
connect_poll (gpointer data)
{
  VmmProcess *vmm = data;
  if (vmm->exited)
    {
      vmm->connect_timer = 0;
      return G_SOURCE_REMOVE;
    }
  g_autoptr (GError) error = NULL;
  if (control_connect (vmm, &error))
    {
      vmm->connect_timer = 0;
      /* A round trip proves the VMM is serving its control socket. */
      vmm_process_command (vmm, "query-status", query_greeting_done, NULL);
      return G_SOURCE_REMOVE;
    }
  if (g_get_monotonic_time () > vmm->connect_deadline)
    {
      vmm->connect_timer = 0;
      VmmReadyFn ready = vmm->ready;
      vmm->ready = NULL;
      vmm_process_kill (vmm, SIGKILL);
      g_autoptr (GError) e = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_TIMEOUT,
                                          _("oriel-vmm did not open its control socket %s in time"),
                                          vmm->control_path);
      ready (vmm, e, vmm->ready_data);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
child_setup (gpointer data)
{
  /* Own session: the VMM outlives a daemon restart and its signals. */
  setsid ();
}

void
vmm_process_spawn (const char *vmm_path, const char *config_path, const char *control_path,
                   const char *log_path, int keep_fd, const VmmCallbacks *cb, gpointer user,
                   VmmReadyFn ready, gpointer data)
{
  g_autoptr (GError) error = NULL;
  int log_fd = open (log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log_fd < 0 || null_fd < 0)
    {
      int e = errno;
      if (log_fd >= 0) close (log_fd);
      if (null_fd >= 0) close (null_fd);
      error = g_error_new (VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot open %s: %s"),
                           log_path, g_strerror (e));
      ready (NULL, error, data);
      return;
    }
  unlink (control_path);
  const char *argv[] = { vmm_path, "--config", config_path, NULL };
  GPid pid = 0;
  int source_fds[] = { keep_fd }, target_fds[] = { 3 };
  gboolean ok = g_spawn_async_with_pipes_and_fds (NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                                  child_setup, NULL, null_fd, log_fd, log_fd,
                                                  source_fds, target_fds, keep_fd >= 0 ? 1 : 0,
                                                  &pid, NULL, NULL, NULL, &error);
  close (log_fd);
  close (null_fd);
  if (!ok)
    {
      g_autoptr (GError) e = g_error_new (VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                                          _("cannot run %s: %s"), vmm_path, error->message);
      ready (NULL, e, data);
      return;
    }
  VmmProcess *vmm = g_new0 (VmmProcess, 1);
  vmm->ref = 1;
  vmm->pid = pid;
  vmm->pidfd = -1;
  vmm->control_path = g_strdup (control_path);
  vmm->log_path = g_strdup (log_path);
  vmm->cb = cb;
  vmm->user = user;
  vmm->linebuf = g_string_new (NULL);
  vmm->ready = ready;
  vmm->ready_data = data;
  vmm->child_watch = g_child_watch_add (pid, child_exited, vmm);
  vmm->connect_deadline = g_get_monotonic_time () + CONNECT_TIMEOUT_MS * 1000;
  vmm->connect_timer = g_timeout_add (CONNECT_POLL_MS, connect_poll, vmm);
}

VmmProcess *
vmm_process_adopt (pid_t pid, const char *control_path, const VmmCallbacks *cb,
                   gpointer user, GError **error)
{
  int pidfd = syscall (SYS_pidfd_open, pid, 0);
  if (pidfd < 0)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR,
                   _("process %d is gone: %s"), (int) pid, g_strerror (errno));
      return NULL;
    }
  VmmProcess *vmm = g_new0 (VmmProcess, 1);
  vmm->ref = 1;
  vmm->pid = pid;
  vmm->pidfd = pidfd;
  vmm->control_path = g_strdup (control_path);
  vmm->cb = cb;
  vmm->user = user;
  vmm->linebuf = g_string_new (NULL);
  if (!control_connect (vmm, error))
    {
      vmm_process_free (vmm);
      return NULL;
    }
  vmm->pidfd_watch = g_unix_fd_add (pidfd, G_IO_IN, pidfd_ready, vmm);
  return vmm;
}

void
vmm_process_kill (VmmProcess *vmm, int sig)
{
  if (vmm->exited || vmm->pid <= 0)
    return;
  if (vmm->pidfd >= 0)
    syscall (SYS_pidfd_send_signal, vmm->pidfd, sig, NULL, 0);
  else
    kill (vmm->pid, sig);
}

static void
reap_only (GPid pid, gint status, gpointer data)
{
  g_spawn_close_pid (pid);
}

void
vmm_process_free (VmmProcess *vmm)
{
  if (!vmm || vmm->detached)
    return;
  vmm->detached = TRUE;
  if (vmm->connect_timer)
    g_source_remove (vmm->connect_timer);
  vmm->connect_timer = 0;
  if (vmm->child_watch)
    {
      /* Keep reaping our child even though nobody listens any more. */
      g_source_remove (vmm->child_watch);
      g_child_watch_add (vmm->pid, reap_only, NULL);
    }
  vmm->child_watch = 0;
  if (vmm->pidfd_watch)
    g_source_remove (vmm->pidfd_watch);
  vmm->pidfd_watch = 0;
  if (vmm->pidfd >= 0)
    close (vmm->pidfd);
  vmm->pidfd = -1;
  control_close (vmm);
  fail_pending (vmm, _("oriel-vmm is no longer supervised"));
  vmm_unref (vmm);
}
