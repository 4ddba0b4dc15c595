/* Entry point of the oriel desktop application. */
#include "oriel-application.h"

#include <glib/gi18n.h>
#include <locale.h>

int
main (int argc, char **argv)
{
  g_autoptr (OrielApplication) app = NULL;

  setlocale (LC_ALL, "");
  /* ORIEL_LOCALEDIR lets an uninstalled build use its compiled catalogs. */
  bindtextdomain (GETTEXT_PACKAGE, g_getenv ("ORIEL_LOCALEDIR") != NULL
                                   ? g_getenv ("ORIEL_LOCALEDIR") : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_application_name (_("Oriel"));

  app = oriel_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
