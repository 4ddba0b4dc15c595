/* Partition table fingerprints (see partition-fingerprint.h). */
#include "partition-fingerprint.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <string.h>
#include <unistd.h>

#define MBR_TABLE_OFFSET 440 /* disk signature, 2 reserved, 4 x 16 entries, 0x55 0xaa */
#define GPT_HEADER_MIN 92
#define GPT_ENTRIES_MAX (4u << 20)

static gboolean
read_exact (int fd, void *buf, gsize len, guint64 offset, GError **error)
{
  gsize done = 0;

  while (done < len)
    {
      ssize_t got = pread (fd, (char *) buf + done, len - done, (off_t) (offset + done));
      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0)
        {
          g_set_error (error, G_IO_ERROR, got < 0 ? g_io_error_from_errno (errno) : G_IO_ERROR_INVALID_DATA,
                       "reading the partition table at byte %" G_GUINT64_FORMAT ": %s", offset,
                       got < 0 ? g_strerror (errno) : "short read");
          return FALSE;
        }
      done += (gsize) got;
    }
  return TRUE;
}

static guint32
le32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

static guint64
le64 (const guint8 *p)
{
  return (guint64) le32 (p) | (guint64) le32 (p + 4) << 32;
}

char *
oriel_partition_table_sha256 (int fd, guint sector_size, gboolean gpt, GError **error)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guint8 *sector = g_malloc (MAX (sector_size, 512u));
  g_autofree guint8 *entries = NULL;
  guint32 header_size, count, entry_size;
  guint64 entries_lba;

  if (!read_exact (fd, sector, 512, 0, error))
    return NULL;
  g_checksum_update (sum, sector + MBR_TABLE_OFFSET, 512 - MBR_TABLE_OFFSET);
  if (gpt)
    {
      if (!read_exact (fd, sector, sector_size, sector_size, error))
        return NULL;
      header_size = le32 (sector + 12);
      entries_lba = le64 (sector + 72);
      count = le32 (sector + 80);
      entry_size = le32 (sector + 84);
      if (memcmp (sector, "EFI PART", 8) != 0 || header_size < GPT_HEADER_MIN || header_size > sector_size
          || entry_size < 128 || entry_size > 4096 || count == 0 || (guint64) count * entry_size > GPT_ENTRIES_MAX
          || entries_lba < 2 || entries_lba > G_MAXUINT64 / sector_size)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("The GPT header is not valid"));
          return NULL;
        }
      g_checksum_update (sum, sector, header_size);
      entries = g_malloc ((gsize) count * entry_size);
      if (!read_exact (fd, entries, (gsize) count * entry_size, entries_lba * sector_size, error))
        return NULL;
      g_checksum_update (sum, entries, (gssize) count * entry_size);
    }
  return g_strdup (g_checksum_get_string (sum));
}

static char *
field (const char *value)
{
  return value != NULL ? g_strescape (value, NULL) : g_strdup ("");
}

char *
oriel_partition_fingerprint_record (const OrielHostDisk *disk, GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autofree char *sha = NULL;
  g_autofree char *id = NULL;
  int fd;

  if (disk->table_type == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("%s has no partition table"), disk->device);
      return NULL;
    }
  fd = open (disk->device, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _("Cannot open %s: %s"), disk->device,
                   g_strerror (saved));
      return NULL;
    }
  sha = oriel_partition_table_sha256 (fd, disk->sector_size, g_str_equal (disk->table_type, "gpt"), error);
  close (fd);
  if (sha == NULL)
    return NULL;
  id = field (disk->table_id);
  g_string_append_printf (out, "sha256\t%s\ntable\t%s\tid=%s\n", sha, disk->table_type, id);
  for (guint i = 0; i < disk->partitions->len; i++)
    {
      const OrielHostPartition *p = disk->partitions->pdata[i];
      g_autofree char *type = field (p->type), *uuid = field (p->uuid), *name = field (p->name);

      g_string_append_printf (out, "partition\t%d\tstart=%" G_GUINT64_FORMAT "\tsize=%" G_GUINT64_FORMAT
                              "\ttype=%s\tuuid=%s\tname=%s\tactive=%d\n",
                              p->number, p->start_bytes, p->size_bytes, type, uuid, name, p->bootable ? 1 : 0);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* "partition\t3\t..." → key "partition 3", fields after it. */
static GHashTable *
parse_record (const char *record, char **sha)
{
  GHashTable *lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_strfreev);
  g_auto (GStrv) rows = g_strsplit (record != NULL ? record : "", "\n", -1);

  *sha = NULL;
  for (guint i = 0; rows[i] != NULL; i++)
    {
      g_auto (GStrv) f = g_strsplit (rows[i], "\t", -1);
      guint n = g_strv_length (f);

      if (n >= 2 && g_str_equal (f[0], "sha256"))
        *sha = g_strdup (f[1]);
      else if (n >= 2 && g_str_equal (f[0], "table"))
        g_hash_table_insert (lines, g_strdup ("table"), g_steal_pointer (&f));
      else if (n >= 3 && g_str_equal (f[0], "partition"))
        {
          char *key = g_strdup_printf ("partition %s", f[1]);
          g_hash_table_insert (lines, key, g_steal_pointer (&f));
        }
    }
  return lines;
}

static const char *
field_value (GStrv f, const char *key)
{
  gsize len = strlen (key);

  for (guint i = 2; f[i] != NULL; i++)
    if (strncmp (f[i], key, len) == 0 && f[i][len] == '=')
      return f[i] + len + 1;
  return "";
}

static const char *
field_label (const char *key)
{
  if (g_str_equal (key, "start")) return _("start (bytes)");
  if (g_str_equal (key, "size")) return _("size (bytes)");
  if (g_str_equal (key, "type")) return _("type");
  if (g_str_equal (key, "uuid")) return _("partition GUID");
  if (g_str_equal (key, "name")) return _("name");
  if (g_str_equal (key, "active")) return _("active flag");
  return key;
}

static gint
compare_keys (gconstpointer a, gconstpointer b)
{
  const char *ka = *(const char *const *) a, *kb = *(const char *const *) b;
  gboolean ta = g_str_equal (ka, "table"), tb = g_str_equal (kb, "table");

  if (ta || tb)
    return tb - ta;
  return (int) g_ascii_strtoll (ka + strlen ("partition "), NULL, 10)
         - (int) g_ascii_strtoll (kb + strlen ("partition "), NULL, 10);
}

gboolean
oriel_partition_fingerprint_compare (const char *recorded, const char *current, char **difference)
{
  static const char *const keys[] = { "start", "size", "type", "uuid", "name", "active", NULL };
  g_autofree char *sha_old = NULL, *sha_new = NULL;
  g_autoptr (GHashTable) old = parse_record (recorded, &sha_old);
  g_autoptr (GHashTable) now = parse_record (current, &sha_new);
  g_autoptr (GString) diff = g_string_new (NULL);
  g_autoptr (GPtrArray) all = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  *difference = NULL;
  if (sha_old != NULL && g_strcmp0 (sha_old, sha_new) == 0)
    return TRUE;
  g_hash_table_iter_init (&iter, old);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (all, key);
  g_hash_table_iter_init (&iter, now);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (old, key))
      g_ptr_array_add (all, key);
  g_ptr_array_sort (all, compare_keys);

  if (sha_old == NULL)
    g_string_append_printf (diff, "%s\n", _("The recorded partition table fingerprint is not readable."));
  for (guint i = 0; i < all->len; i++)
    {
      const char *k = all->pdata[i];
      GStrv a = g_hash_table_lookup (old, k), b = g_hash_table_lookup (now, k);

      if (g_str_equal (k, "table"))
        {
          g_autofree char *was = a != NULL ? g_strjoinv (" ", a + 1) : g_strdup ("-");
          g_autofree char *is = b != NULL ? g_strjoinv (" ", b + 1) : g_strdup ("-");
          if (g_strcmp0 (was, is) != 0)
            {
              g_string_append_printf (diff, _("Partition table changed from “%s” to “%s”"), was, is);
              g_string_append_c (diff, '\n');
            }
          continue;
        }
      if (a == NULL)
        g_string_append_printf (diff, _("Partition %s was added (%s bytes at %s)"), b[1], field_value (b, "size"),
                                field_value (b, "start"));
      else if (b == NULL)
        g_string_append_printf (diff, _("Partition %s was removed (it had %s bytes at %s)"), a[1],
                                field_value (a, "size"), field_value (a, "start"));
      else
        {
          for (guint j = 0; keys[j] != NULL; j++)
            if (!g_str_equal (field_value (a, keys[j]), field_value (b, keys[j])))
              {
                g_string_append_printf (diff, _("Partition %s: %s changed from “%s” to “%s”"), a[1],
                                        field_label (keys[j]), field_value (a, keys[j]), field_value (b, keys[j]));
                g_string_append_c (diff, '\n');
              }
          continue;
        }
      g_string_append_c (diff, '\n');
    }
  if (diff->len == 0)
    g_string_append_printf (diff, "%s\n", _("The partition table's bytes changed (GPT header or entry attributes)."));
  g_string_truncate (diff, diff->len - 1);
  *difference = g_string_free (g_steal_pointer (&diff), FALSE);
  return FALSE;
}
