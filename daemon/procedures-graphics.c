/* DOMAIN_OPEN_GRAPHICS_FD: a client (virt-viewer, oriel) gets a socket
 * already connected to the domain's VNC server, so the display works
 * without the client reaching the VMM's listening address itself. */
#include "procedures.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib/gi18n.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#define OPEN_GRAPHICS_SKIPAUTH 1u

static int
connect_vnc (int port, GError **error)
{
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot create a socket: %s"), g_strerror (errno));
      return -1;
    }
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((guint16) port) };
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    {
      int e = errno;
      close (fd);
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                   _("cannot connect to the domain's VNC server on 127.0.0.1:%d: %s"), port, g_strerror (e));
      return -1;
    }
  return fd;
}

static gboolean
p_open_graphics_fd (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_open_graphics_fd_args *args = argp;
  guint32 idx = args->idx, flags = args->flags;
  DomainObj *dom = proc_domain (call, &args->dom, error);
  if (!dom)
    return FALSE;
  if (flags & ~OPEN_GRAPHICS_SKIPAUTH)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("unsupported flags (0x%x) in function %s"),
                   flags & ~OPEN_GRAPHICS_SKIPAUTH, "virDomainOpenGraphicsFD");
      return FALSE;
    }
  if (!domain_is_active (dom) || !dom->live)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                   _("Requested operation is not valid: domain is not running"));
      return FALSE;
    }
  /* One graphics device at most: index 0. */
  if (idx != 0 || !dom->live->has_vnc || dom->live->live_vnc_port <= 0)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG,
                   _("invalid argument: the domain has no graphics device with index %u"), idx);
      return FALSE;
    }
  int fd = connect_vnc (dom->live->live_vnc_port, error);
  if (fd < 0)
    return FALSE;
  rpc_call_attach_fd (call, fd);
  return TRUE;
}

const RpcProcedure procedures_graphics[] = {
  /* A write procedure, as in libvirt: the socket bypasses the display's
   * authentication. */
  PROC_ROW (DOMAIN_OPEN_GRAPHICS_FD, PROC_FLAG_WRITE, remote_domain_open_graphics_fd_args, rpc_void,
            p_open_graphics_fd),
};
const gsize procedures_graphics_count = G_N_ELEMENTS (procedures_graphics);
