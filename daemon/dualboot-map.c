/* Byte ranges of a dual-boot disk (see dualboot-map.h). */
#include "dualboot-map.h"
#include "virt-error.h"

#include <inttypes.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <string.h>
#include <unistd.h>

/* Extended boot records followed at most: more logical partitions than
 * any table tool makes, few enough that a loop in the chain ends. */
#define EBR_MAX 128

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

static gboolean
read_at (int fd, const char *device, void *buf, gsize len, guint64 offset, GError **error)
{
  ssize_t got = pread (fd, buf, len, (off_t) offset);
  if (got != (ssize_t) len)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                   _("cannot read the partition table of %s at byte %" PRIu64 ": %s"), device,
                   offset, got < 0 ? g_strerror (errno) : _("short read"));
      return FALSE;
    }
  return TRUE;
}

static void
add (GArray *ranges, const char *kind, guint64 offset, guint64 length)
{
  if (length == 0)
    return;
  DualbootRange r = { kind, offset, length };
  g_array_append_val (ranges, r);
}

static gboolean
bad_table (GError **error, const char *device, const char *what)
{
  g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
               _("the partition table of %s cannot be mapped: %s"), device, what);
  return FALSE;
}

/* GPT: the primary header and entries (inside the gap before the first
 * partition) and the backup entries and header at the end. */
static gboolean
gpt_ranges (int fd, const OrielHostDisk *disk, guint64 first_start, GArray *ranges, GError **error)
{
  guint ss = disk->sector_size;
  g_autofree guint8 *hdr = g_malloc (ss);
  if (!read_at (fd, disk->device, hdr, ss, ss, error))
    return FALSE;
  if (memcmp (hdr, "EFI PART", 8) != 0)
    return bad_table (error, disk->device, _("no GPT header in sector 1"));
  guint64 alt_lba = le64 (hdr + 32);
  guint64 entries_lba = le64 (hdr + 72);
  guint64 entries_bytes = (guint64) le32 (hdr + 80) * le32 (hdr + 84);
  guint64 entries_sectors = (entries_bytes + ss - 1) / ss;
  guint64 sectors = disk->size_bytes / ss;
  if (entries_lba < 2 || entries_lba >= sectors || entries_sectors > sectors
      || (entries_lba + entries_sectors) * ss > first_start)
    return bad_table (error, disk->device, _("the GPT entries overlap the first partition"));
  add (ranges, "table", 0, first_start);
  if (alt_lba < 2 || alt_lba >= sectors)
    return bad_table (error, disk->device, _("the backup GPT header is outside the disk"));
  /* The backup header says where its entries are; a damaged one is
   * assumed to follow the usual layout (entries right before it). */
  guint64 backup_entries = alt_lba > entries_sectors ? alt_lba - entries_sectors : 0;
  if (!read_at (fd, disk->device, hdr, ss, alt_lba * ss, error))
    return FALSE;
  if (memcmp (hdr, "EFI PART", 8) == 0 && le64 (hdr + 72) < alt_lba && le64 (hdr + 72) > 1)
    backup_entries = MIN (backup_entries, le64 (hdr + 72));
  add (ranges, "table", backup_entries * ss, (alt_lba + 1 - backup_entries) * ss);
  return TRUE;
}

/* MBR: sector 0 and the gap up to the first partition; the extended
 * boot records of logical partitions. */
static gboolean
dos_ranges (int fd, const OrielHostDisk *disk, guint64 first_start, GArray *ranges, GError **error)
{
  guint ss = disk->sector_size;
  add (ranges, "table", 0, first_start);
  for (guint i = 0; i < disk->partitions->len; i++)
    {
      const OrielHostPartition *p = disk->partitions->pdata[i];
      guint64 type = p->type ? g_ascii_strtoull (p->type, NULL, 16) : 0;
      if (p->number > 4 || !(type == 0x05 || type == 0x0f || type == 0x85))
        continue;
      guint64 ext = p->start_bytes / ss, ebr = ext;
      guint8 sector[512];
      for (int n = 0; n < EBR_MAX; n++)
        {
          add (ranges, "table", ebr * ss, ss);
          if (!read_at (fd, disk->device, sector, sizeof sector, ebr * ss, error))
            return FALSE;
          if (sector[510] != 0x55 || sector[511] != 0xaa)
            break;
          guint64 next = le32 (sector + 446 + 16 + 8);
          if (sector[446 + 16 + 4] == 0 || next == 0)
            break;
          ebr = ext + next;
          if (ebr * ss >= p->start_bytes + p->size_bytes)
            return bad_table (error, disk->device, _("an extended boot record lies outside its partition"));
        }
    }
  return TRUE;
}

static gint
by_offset (gconstpointer a, gconstpointer b)
{
  const DualbootRange *x = a, *y = b;
  return x->offset < y->offset ? -1 : x->offset > y->offset;
}

GArray *
dualboot_map_ranges (const OrielHostDisk *disk, const DomainDualboot *db, GError **error)
{
  g_autoptr (GArray) ranges = g_array_new (FALSE, FALSE, sizeof (DualbootRange));
  if (!disk->table_type || disk->partitions->len == 0)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                   _("%s has no partition table"), disk->device);
      return NULL;
    }
  if (disk->sector_size < 512 || disk->sector_size % 512)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                   _("%s has sectors of %u bytes"), disk->device, disk->sector_size);
      return NULL;
    }
  guint64 first_start = G_MAXUINT64;
  for (guint i = 0; i < disk->partitions->len; i++)
    first_start = MIN (first_start, ((OrielHostPartition *) disk->partitions->pdata[i])->start_bytes);

  int fd = open (disk->device, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED, _("cannot open %s: %s"), disk->device,
                   g_strerror (errno));
      return NULL;
    }
  gboolean ok = g_str_equal (disk->table_type, "gpt") ? gpt_ranges (fd, disk, first_start, ranges, error)
                                                      : dos_ranges (fd, disk, first_start, ranges, error);
  close (fd);
  if (!ok)
    return NULL;

  for (guint i = 0; i < db->partitions->len; i++)
    {
      const DomainDualbootPartition *want = db->partitions->pdata[i];
      const OrielHostPartition *found = NULL;
      for (guint j = 0; j < disk->partitions->len && !found; j++)
        if (((OrielHostPartition *) disk->partitions->pdata[j])->number == want->number)
          found = disk->partitions->pdata[j];
      if (!found)
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                       _("%s has no partition %d"), disk->device, want->number);
          return NULL;
        }
      add (ranges, g_str_equal (want->role, "esp") ? "esp" : "pass", found->start_bytes, found->size_bytes);
    }

  g_array_sort (ranges, by_offset);
  for (guint i = 0; i < ranges->len; i++)
    {
      const DualbootRange *r = &g_array_index (ranges, DualbootRange, i);
      if (r->offset % 512 || r->length % 512 || r->offset + r->length > disk->size_bytes
          || r->offset + r->length < r->offset)
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                       _("the %s range at byte %" PRIu64 " of %s is not whole sectors inside the disk"),
                       r->kind, r->offset, disk->device);
          return NULL;
        }
      if (i > 0)
        {
          const DualbootRange *prev = &g_array_index (ranges, DualbootRange, i - 1);
          if (prev->offset + prev->length > r->offset)
            {
              g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED,
                           _("the %s range at byte %" PRIu64 " of %s overlaps the %s range at byte %"
                             PRIu64), r->kind, r->offset, disk->device, prev->kind, prev->offset);
              return NULL;
            }
        }
    }
  return g_steal_pointer (&ranges);
}

char *
dualboot_map_format (const char *device, const char *mode, const char *esp_overlay, const char *trial_overlay,
                     const GArray *ranges)
{
  GString *s = g_string_new ("# oriel synthetic disk v1\n# written by virtorield; rewritten at every start\n");
  g_string_append_printf (s, "device = %s\nmode = %s\nesp-overlay = %s\n", device, mode, esp_overlay);
  if (trial_overlay)
    g_string_append_printf (s, "trial-overlay = %s\n", trial_overlay);
  for (guint i = 0; i < ranges->len; i++)
    {
      const DualbootRange *r = &g_array_index (ranges, DualbootRange, i);
      g_string_append_printf (s, "%s = %" PRIu64 " %" PRIu64 "\n", r->kind, r->offset,
                              r->length);
    }
  return g_string_free (s, FALSE);
}
