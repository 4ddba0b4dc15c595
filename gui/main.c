/* Entry point of the oriel desktop application. */
#include "oriel-application.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <locale.h>

/* g_settings_new() aborts the process when its schema is missing, which
 * is what an uninstalled build/gui/oriel meets: say what to do instead. */
static gboolean
settings_schema_installed (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, ORIEL_APP_ID, TRUE);
  return schema != NULL;
}

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

  if (!settings_schema_installed ())
    {
      g_printerr (_("The GSettings schema %s is not installed; run “meson devenv -C build oriel” "
                    "or install Oriel.\n"), ORIEL_APP_ID);
      return 1;
    }

  app = oriel_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
