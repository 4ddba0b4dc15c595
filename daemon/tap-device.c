#include "tap-device.h"
#include "virt-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static gboolean
set_name (struct ifreq *ifr, const char *name, GError **error)
{
  if (strlen (name) >= sizeof ifr->ifr_name)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_CONFIG_UNSUPPORTED,
                   _("unsupported configuration: interface name '%s' is too long"), name);
      return FALSE;
    }
  memset (ifr, 0, sizeof *ifr);
  strcpy (ifr->ifr_name, name);
  return TRUE;
}

/* The failed step (printf-style) and the errno behind it. */
static gboolean fail (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
fail (GError **error, const char *format, ...)
{
  int e = errno;
  va_list ap;
  va_start (ap, format);
  g_autofree char *what = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, "%s: %s", what, g_strerror (e));
  return FALSE;
}

/* Up, then a port of bridge: SIOCBRADDIF with the tap's index. */
static gboolean
attach (const char *tap, const char *bridge, GError **error)
{
  struct ifreq ifr;
  int s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  gboolean ok = FALSE;
  if (s < 0)
    return fail (error, "%s", _("cannot open a socket"));
  if (!set_name (&ifr, tap, error))
    goto out;
  if (ioctl (s, SIOCGIFFLAGS, &ifr) < 0)
    {
      fail (error, _("cannot read the flags of '%s'"), tap);
      goto out;
    }
  ifr.ifr_flags |= IFF_UP;
  if (ioctl (s, SIOCSIFFLAGS, &ifr) < 0)
    {
      fail (error, _("cannot bring up '%s'"), tap);
      goto out;
    }
  if (!set_name (&ifr, tap, error))
    goto out;
  if (ioctl (s, SIOCGIFINDEX, &ifr) < 0)
    {
      fail (error, _("cannot find the index of '%s'"), tap);
      goto out;
    }
  int index = ifr.ifr_ifindex;
  if (!set_name (&ifr, bridge, error))
    goto out;
  ifr.ifr_ifindex = index;
  if (ioctl (s, SIOCBRADDIF, &ifr) < 0)
    {
      fail (error, _("cannot add '%s' to bridge '%s'"), tap, bridge);
      goto out;
    }
  ok = TRUE;
out:
  close (s);
  return ok;
}

char *
tap_device_create (const char *bridge, GError **error)
{
  struct ifreq ifr;
  if (!set_name (&ifr, bridge, error))
    return NULL;
  int fd = open ("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    {
      fail (error, "%s", _("cannot open /dev/net/tun"));
      return NULL;
    }
  memset (&ifr, 0, sizeof ifr);
  strcpy (ifr.ifr_name, "vnet%d");
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  /* Persistent, so it outlives this descriptor until the domain stops. */
  if (ioctl (fd, TUNSETIFF, &ifr) < 0 || ioctl (fd, TUNSETPERSIST, 1) < 0)
    {
      fail (error, _("cannot create a tap device for bridge '%s'"), bridge);
      close (fd);
      return NULL;
    }
  close (fd);
  char *name = g_strndup (ifr.ifr_name, sizeof ifr.ifr_name);
  if (!attach (name, bridge, error))
    {
      tap_device_delete (name);
      g_free (name);
      return NULL;
    }
  return name;
}

void
tap_device_delete (const char *name)
{
  struct ifreq ifr;
  if (!set_name (&ifr, name, NULL))
    return;
  int fd = open ("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return;
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (ioctl (fd, TUNSETIFF, &ifr) == 0 && ioctl (fd, TUNSETPERSIST, 0) < 0)
    g_warning ("cannot remove tap device %s: %s", name, g_strerror (errno));
  close (fd);
}
