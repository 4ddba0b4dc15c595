#include "save-image.h"
#include "virt-error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gi18n.h>

#define MAGIC "ORIELSAV"
#define FORMAT_VERSION 1
/* A domain XML is a few KiB; anything near this is not one of ours. */
#define HEADER_MAX (4u << 20)
#define ENVELOPE "oriel-save-header 1\n"

char *
save_image_header_build (const char *domain_xml, gboolean paused)
{
  return g_strdup_printf (ENVELOPE "state %s\n\n%s", paused ? "paused" : "running", domain_xml);
}

static gboolean
malformed (GError **error, const char *what)
{
  g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
               _("the save image's header is malformed: %s"), what);
  return FALSE;
}

gboolean
save_image_parse_header (const char *text, gsize len, char **domain_xml, gboolean *paused,
                         GError **error)
{
  if (memchr (text, '\0', len))
    return malformed (error, _("it contains a NUL byte"));
  if (len < strlen (ENVELOPE) || memcmp (text, ENVELOPE, strlen (ENVELOPE)) != 0)
    return malformed (error, _("no oriel-save-header line"));
  const char *p = text + strlen (ENVELOPE), *end = text + len;
  const char *nl = memchr (p, '\n', end - p);
  if (!nl)
    return malformed (error, _("no state line"));
  g_autofree char *state = g_strndup (p, nl - p);
  if (g_str_equal (state, "state running"))
    *paused = FALSE;
  else if (g_str_equal (state, "state paused"))
    *paused = TRUE;
  else
    return malformed (error, _("unknown state"));
  p = nl + 1;
  if (p >= end || *p != '\n')
    return malformed (error, _("no blank line before the domain XML"));
  p++;
  if (p == end)
    return malformed (error, _("no domain XML"));
  *domain_xml = g_strndup (p, end - p);
  return TRUE;
}

static gboolean
read_exact (int fd, void *buf, gsize len, const char *path, GError **error)
{
  gsize done = 0;
  while (done < len)
    {
      ssize_t n = read (fd, (char *) buf + done, len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot read %s: %s"), path,
                       g_strerror (errno));
          return FALSE;
        }
      if (n == 0)
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                       _("%s is truncated: it ends inside the save image header"), path);
          return FALSE;
        }
      done += n;
    }
  return TRUE;
}

static guint32
le32 (const guint8 *p)
{
  return p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

gboolean
save_image_read_header (const char *path, char **domain_xml, gboolean *paused, GError **error)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR, _("cannot open save image %s: %s"),
                   path, g_strerror (errno));
      return FALSE;
    }
  guint8 head[16];
  gboolean ok = FALSE;
  g_autofree char *text = NULL;
  if (!read_exact (fd, head, sizeof (head), path, error))
    goto out;
  if (memcmp (head, MAGIC, 8) != 0)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                   _("%s is not an Oriel save image"), path);
      goto out;
    }
  if (le32 (head + 8) != FORMAT_VERSION)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                   _("%s is a save image of format version %u; this daemon reads version %u"),
                   path, le32 (head + 8), FORMAT_VERSION);
      goto out;
    }
  guint32 len = le32 (head + 12);
  if (len == 0 || len > HEADER_MAX)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                   _("%s has a save image header of %u bytes; it is not one virtorield wrote"),
                   path, len);
      goto out;
    }
  text = g_malloc (len);
  if (!read_exact (fd, text, len, path, error))
    goto out;
  ok = save_image_parse_header (text, len, domain_xml, paused, error);
out:
  close (fd);
  return ok;
}
