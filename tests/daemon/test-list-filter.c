/* Server-side filtering of CONNECT_LIST_ALL_DOMAINS flags. */
#include "domain-driver.h"
#include "domain-save.h"

#include <glib/gstdio.h>

static Daemon daemon_;

static DomainObj *
make (const char *name, gboolean active, gboolean persistent, gboolean autostart, DomainState state)
{
  DomainObj *d = g_new0 (DomainObj, 1);
  d->daemon = &daemon_;
  d->def = g_new0 (DomainDef, 1);
  d->def->name = g_strdup (name);
  d->id = active ? 3 : -1;
  d->persistent = persistent;
  d->autostart = autostart;
  d->state = state;
  return d;
}

static void
test_filters (void)
{
  g_autofree char *save_dir = g_dir_make_tmp ("oriel-list-filter-XXXXXX", NULL);
  daemon_.paths.save_dir = save_dir;
  DomainObj *running = make ("running", TRUE, TRUE, FALSE, DOMAIN_STATE_RUNNING);
  DomainObj *paused = make ("paused", TRUE, FALSE, FALSE, DOMAIN_STATE_PAUSED);
  DomainObj *off = make ("off", FALSE, TRUE, TRUE, DOMAIN_STATE_SHUTOFF);
  DomainObj *all[] = { running, paused, off };
  /* "off" has a managed save image. */
  g_autofree char *image = domain_managed_save_path (off);
  g_assert_true (g_file_set_contents (image, "x", 1, NULL));
  struct { guint flags; gboolean expect[3]; } cases[] = {
    { 0, { 1, 1, 1 } },
    { LIST_DOMAINS_ACTIVE | LIST_DOMAINS_INACTIVE, { 1, 1, 1 } },     /* virsh list --all */
    { LIST_DOMAINS_ACTIVE, { 1, 1, 0 } },
    { LIST_DOMAINS_INACTIVE, { 0, 0, 1 } },
    { LIST_DOMAINS_PERSISTENT, { 1, 0, 1 } },
    { LIST_DOMAINS_TRANSIENT, { 0, 1, 0 } },
    { LIST_DOMAINS_RUNNING, { 1, 0, 0 } },
    { LIST_DOMAINS_PAUSED, { 0, 1, 0 } },
    { LIST_DOMAINS_SHUTOFF, { 0, 0, 1 } },
    { LIST_DOMAINS_RUNNING | LIST_DOMAINS_SHUTOFF, { 1, 0, 1 } },
    { LIST_DOMAINS_OTHER, { 0, 0, 0 } },
    { LIST_DOMAINS_AUTOSTART, { 0, 0, 1 } },
    { LIST_DOMAINS_NO_AUTOSTART, { 1, 1, 0 } },
    { LIST_DOMAINS_MANAGEDSAVE, { 0, 0, 1 } },
    { LIST_DOMAINS_NO_MANAGEDSAVE, { 1, 1, 0 } },
    { LIST_DOMAINS_MANAGEDSAVE | LIST_DOMAINS_NO_MANAGEDSAVE, { 1, 1, 1 } },
    { LIST_DOMAINS_HAS_SNAPSHOT, { 0, 0, 0 } },
    { LIST_DOMAINS_NO_SNAPSHOT | LIST_DOMAINS_ACTIVE, { 1, 1, 0 } },
    { LIST_DOMAINS_PERSISTENT | LIST_DOMAINS_ACTIVE, { 1, 0, 0 } },
  };
  for (gsize c = 0; c < G_N_ELEMENTS (cases); c++)
    for (int i = 0; i < 3; i++)
      if (domain_matches_filter (all[i], cases[c].flags) != cases[c].expect[i])
        g_error ("flags 0x%x, domain %d: expected %d", cases[c].flags, i, cases[c].expect[i]);
  g_unlink (image);
  g_rmdir (save_dir);
  for (int i = 0; i < 3; i++)
    {
      g_free (all[i]->def->name);
      g_free (all[i]->def);
      g_free (all[i]);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/list-filter/flags", test_filters);
  return g_test_run ();
}
