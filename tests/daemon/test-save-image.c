/* The header of save images: what virtorield stores with the VMM's state
 * and reads back on restore, and its refusal of files that are not save
 * images or are damaged. */
#include "save-image.h"
#include "virt-error.h"

#include <string.h>
#include <glib/gstdio.h>

static char *
write_image (const char *dir, const char *name, const void *head, gsize len)
{
  char *path = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (path, head, (gssize) len, NULL));
  return path;
}

/* What oriel-vmm writes: magic, version, header length, header, then its
 * own sections (a few stand-in bytes here). */
static GByteArray *
image_bytes (guint32 version, const char *header, gsize header_len, guint32 claimed_len)
{
  GByteArray *a = g_byte_array_new ();
  g_byte_array_append (a, (const guint8 *) "ORIELSAV", 8);
  guint8 le[4];
  for (int i = 0; i < 4; i++)
    le[i] = (guint8) (version >> (8 * i));
  g_byte_array_append (a, le, 4);
  for (int i = 0; i < 4; i++)
    le[i] = (guint8) (claimed_len >> (8 * i));
  g_byte_array_append (a, le, 4);
  g_byte_array_append (a, (const guint8 *) header, header_len);
  g_byte_array_append (a, (const guint8 *) "SECTIONS", 8);
  return a;
}

static void
expect_refused (const char *dir, const char *name, GByteArray *bytes, int code, const char *words)
{
  g_autofree char *path = write_image (dir, name, bytes->data, bytes->len);
  g_autofree char *xml = NULL;
  gboolean paused;
  g_autoptr (GError) error = NULL;
  g_assert_false (save_image_read_header (path, &xml, &paused, &error));
  g_assert_error (error, VIRT_ERROR, code);
  if (!strstr (error->message, words))
    g_error ("'%s' does not say '%s'", error->message, words);
  g_unlink (path);
}

static void
test_round_trip (void)
{
  g_autofree char *dir = g_dir_make_tmp ("oriel-save-image-XXXXXX", NULL);
  const char *xml = "<domain type='kvm'><name>demo</name></domain>";
  for (int paused = 0; paused < 2; paused++)
    {
      g_autofree char *header = save_image_header_build (xml, paused);
      g_autoptr (GByteArray) bytes = image_bytes (1, header, strlen (header), strlen (header));
      g_autofree char *path = write_image (dir, "ok.save", bytes->data, bytes->len);
      g_autofree char *got = NULL;
      gboolean got_paused = !paused;
      g_autoptr (GError) error = NULL;
      g_assert_true (save_image_read_header (path, &got, &got_paused, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (got, ==, xml);
      g_assert_cmpint (got_paused, ==, paused);
      g_unlink (path);
    }
  g_rmdir (dir);
}

static void
test_refused (void)
{
  g_autofree char *dir = g_dir_make_tmp ("oriel-save-image-XXXXXX", NULL);
  g_autofree char *header = save_image_header_build ("<domain/>", FALSE);
  gsize hlen = strlen (header);

  g_autoptr (GByteArray) magic = image_bytes (1, header, hlen, hlen);
  magic->data[0] = 'X';
  expect_refused (dir, "magic", magic, VIR_ERR_OPERATION_FAILED, "not an Oriel save image");

  g_autoptr (GByteArray) version = image_bytes (7, header, hlen, hlen);
  expect_refused (dir, "version", version, VIR_ERR_OPERATION_FAILED, "format version 7");

  g_autoptr (GByteArray) huge = image_bytes (1, header, hlen, 0x7fffffff);
  expect_refused (dir, "huge", huge, VIR_ERR_OPERATION_FAILED, "2147483647 bytes");

  /* The header runs past the end of the file. */
  g_autoptr (GByteArray) cut = image_bytes (1, header, hlen, hlen);
  g_byte_array_set_size (cut, 16 + hlen / 2);
  expect_refused (dir, "cut", cut, VIR_ERR_OPERATION_FAILED, "truncated");

  g_autoptr (GByteArray) tiny = g_byte_array_new ();
  g_byte_array_append (tiny, (const guint8 *) "ORIEL", 5);
  expect_refused (dir, "tiny", tiny, VIR_ERR_OPERATION_FAILED, "truncated");

  const char *bad_state = "oriel-save-header 1\nstate dancing\n\n<domain/>";
  g_autoptr (GByteArray) state = image_bytes (1, bad_state, strlen (bad_state), strlen (bad_state));
  expect_refused (dir, "state", state, VIR_ERR_OPERATION_FAILED, "unknown state");

  const char nul[] = "oriel-save-header 1\nstate running\n\n<dom\0ain/>";
  g_autoptr (GByteArray) with_nul = image_bytes (1, nul, sizeof (nul) - 1, sizeof (nul) - 1);
  expect_refused (dir, "nul", with_nul, VIR_ERR_OPERATION_FAILED, "NUL");

  const char *no_xml = "oriel-save-header 1\nstate running\n\n";
  g_autoptr (GByteArray) empty = image_bytes (1, no_xml, strlen (no_xml), strlen (no_xml));
  expect_refused (dir, "noxml", empty, VIR_ERR_OPERATION_FAILED, "no domain XML");

  g_autofree char *xml = NULL;
  gboolean paused;
  g_autoptr (GError) error = NULL;
  g_autofree char *missing = g_build_filename (dir, "missing.save", NULL);
  g_assert_false (save_image_read_header (missing, &xml, &paused, &error));
  g_assert_error (error, VIRT_ERROR, VIR_ERR_SYSTEM_ERROR);
  g_assert_nonnull (strstr (error->message, missing));
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/save-image/round-trip", test_round_trip);
  g_test_add_func ("/save-image/refused", test_refused);
  return g_test_run ();
}
