/* Read-only overview of a VM's hardware with live CPU and memory graphs. */
#include "details-view.h"
#include "domain-state.h"
#include "dualboot-actions.h"
#include "domain-xml-info.h"
#include "stats-graph.h"

#include <glib/gi18n.h>

struct _OrielDetailsView {
  GtkBox parent_instance;

  OrielDomain *domain;
  GtkGrid *grid;
  guint rows;
  GtkWidget *cpu_graph;
  GtkWidget *mem_graph;
  GtkLabel *cpu_value;
  GtkLabel *mem_value;
  /* The Windows installed on this computer: its mode and actions. */
  GtkWidget *dualboot_frame;
  GtkLabel *dualboot_mode;
  GtkWidget *discard_button, *real_button;
};

G_DEFINE_TYPE (OrielDetailsView, oriel_details_view, GTK_TYPE_BOX)

static void
add_row (OrielDetailsView *self, const char *title, const char *value)
{
  GtkWidget *key = gtk_label_new (title);
  GtkWidget *val = gtk_label_new (value != NULL ? value : "—");

  gtk_label_set_xalign (GTK_LABEL (key), 1.0);
  gtk_label_set_yalign (GTK_LABEL (key), 0.0);
  gtk_style_context_add_class (gtk_widget_get_style_context (key), "dim-label");
  gtk_label_set_xalign (GTK_LABEL (val), 0.0);
  gtk_label_set_selectable (GTK_LABEL (val), TRUE);
  gtk_label_set_line_wrap (GTK_LABEL (val), TRUE);
  gtk_widget_set_can_focus (val, FALSE);
  /* Screen readers read the value together with its title. */
  atk_object_add_relationship (gtk_widget_get_accessible (val), ATK_RELATION_LABELLED_BY,
                               gtk_widget_get_accessible (key));
  gtk_grid_attach (self->grid, key, 0, self->rows, 1, 1);
  gtk_grid_attach (self->grid, val, 1, self->rows, 1, 1);
  self->rows++;
}

/* The mode of a VM running the Windows installed on this computer, and
 * its actions, which redefine the VM and so wait until it is shut off. */
static void
refresh_dualboot (OrielDetailsView *self, const OrielDomainInfo *info)
{
  const char *mode = NULL;
  gboolean shut_off, idle, trial;

  for (guint i = 0; info != NULL && i < info->disks->len && mode == NULL; i++)
    mode = ((OrielDiskInfo *) info->disks->pdata[i])->dualboot_mode;
  gtk_widget_set_visible (self->dualboot_frame, mode != NULL && !oriel_domain_is_removed (self->domain));
  if (mode == NULL)
    return;
  trial = g_strcmp0 (mode, "real") != 0;
  gtk_label_set_text (self->dualboot_mode,
                      trial ? _("Trial mode: Windows’s writes go to a separate file; nothing reaches the disk.")
                            : _("Real mode: Windows writes to its partitions on this computer’s disk."));
  shut_off = oriel_domain_get_state (self->domain) == VIR_DOMAIN_SHUTOFF;
  idle = oriel_domain_get_busy (self->domain) == NULL;
  gtk_widget_set_visible (self->discard_button, trial);
  gtk_widget_set_visible (self->real_button, trial);
  gtk_widget_set_sensitive (self->discard_button, trial && shut_off && idle);
  gtk_widget_set_sensitive (self->real_button, trial && shut_off && idle);
  gtk_widget_set_tooltip_text (self->discard_button, shut_off ? NULL : _("Shut the virtual machine down first."));
  gtk_widget_set_tooltip_text (self->real_button, shut_off ? NULL : _("Shut the virtual machine down first."));
}

static void
discard_clicked (GtkButton *button, OrielDetailsView *self)
{
  oriel_dualboot_discard_trial_interactive (GTK_WINDOW (gtk_widget_get_toplevel (GTK_WIDGET (self))),
                                            self->domain);
}

static void
real_clicked (GtkButton *button, OrielDetailsView *self)
{
  oriel_dualboot_switch_to_real_interactive (GTK_WINDOW (gtk_widget_get_toplevel (GTK_WIDGET (self))),
                                             self->domain);
}

void
oriel_details_view_refresh (OrielDetailsView *self)
{
  const char *xml = oriel_domain_get_xml (self->domain);
  g_autoptr (OrielDomainInfo) info = NULL;
  g_autoptr (GString) disks = g_string_new (NULL);
  g_autoptr (GString) nics = g_string_new (NULL);
  g_autofree char *mem = NULL, *cpus = NULL, *display = NULL;
  GList *children;

  children = gtk_container_get_children (GTK_CONTAINER (self->grid));
  for (GList *l = children; l; l = l->next)
    gtk_widget_destroy (l->data);
  g_list_free (children);
  self->rows = 0;

  if (oriel_domain_is_removed (self->domain))
    {
      gtk_widget_hide (self->dualboot_frame);
      add_row (self, _("State"), _("The virtual machine no longer exists."));
      gtk_widget_show_all (GTK_WIDGET (self->grid));
      return;
    }
  /* The XML arrives from a worker; until then the rows above it show. */
  info = xml != NULL ? oriel_domain_info_parse (xml, NULL) : NULL;
  refresh_dualboot (self, info);
  add_row (self, _("Name"), oriel_domain_get_name (self->domain));
  add_row (self, _("State"), oriel_domain_state_label (oriel_domain_get_state (self->domain)));
  if (info == NULL)
    {
      gtk_widget_show_all (GTK_WIDGET (self->grid));
      return;
    }
  add_row (self, _("Operating system"), info->os_id != NULL ? info->os_id : _("Not specified"));
  cpus = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u virtual CPU", "%u virtual CPUs", info->vcpus),
                          info->vcpus);
  add_row (self, _("Processors"), cpus);
  mem = g_format_size_full (info->memory_kib * 1024, G_FORMAT_SIZE_IEC_UNITS);
  add_row (self, _("Memory"), mem);
  add_row (self, _("Firmware"), g_strcmp0 (info->firmware, "efi") == 0 ? _("UEFI") : _("BIOS"));
  if (info->kernel != NULL)
    add_row (self, _("Kernel"), info->kernel);
  for (guint i = 0; i < info->disks->len; i++)
    {
      OrielDiskInfo *d = info->disks->pdata[i];
      g_string_append_printf (disks, "%s%s (%s, %s)%s", i ? "\n" : "",
                              d->source != NULL ? d->source : _("empty"),
                              d->target != NULL ? d->target : "?",
                              g_strcmp0 (d->device, "cdrom") == 0 ? _("CD-ROM") : _("disk"),
                              d->readonly ? _(", read-only") : "");
    }
  add_row (self, _("Disks"), disks->len ? disks->str : _("None"));
  for (guint i = 0; i < info->nics->len; i++)
    {
      OrielNicInfo *n = info->nics->pdata[i];
      g_string_append_printf (nics, "%s%s %s, %s %s", i ? "\n" : "",
                              n->type != NULL ? n->type : "?",
                              n->source != NULL ? n->source : "",
                              n->model != NULL ? n->model : _("default model"),
                              n->mac != NULL ? n->mac : "");
    }
  add_row (self, _("Network interfaces"), nics->len ? nics->str : _("None"));
  if (info->graphics_type != NULL)
    display = info->graphics_port > 0
              ? g_strdup_printf (_("%s on port %d"), info->graphics_type, info->graphics_port)
              : g_strdup (info->graphics_type);
  add_row (self, _("Display"), display != NULL ? display : _("None"));
  gtk_widget_show_all (GTK_WIDGET (self->grid));
}

static void
stats_updated (OrielDomain *domain, OrielDetailsView *self)
{
  const OrielDomainStats *stats = oriel_domain_get_stats (domain);
  g_autofree char *cpu = NULL, *mem = NULL;

  oriel_stats_graph_set_ring (ORIEL_STATS_GRAPH (self->cpu_graph), stats ? &stats->cpu : NULL);
  oriel_stats_graph_set_ring (ORIEL_STATS_GRAPH (self->mem_graph), stats ? &stats->mem : NULL);
  cpu = g_strdup_printf (_("CPU usage: %.0f %%"), stats ? oriel_stats_ring_latest (&stats->cpu) : 0.0);
  mem = g_strdup_printf (_("Memory usage: %.0f %%"), stats ? oriel_stats_ring_latest (&stats->mem) : 0.0);
  gtk_label_set_text (self->cpu_value, cpu);
  gtk_label_set_text (self->mem_value, mem);
  atk_object_set_name (gtk_widget_get_accessible (self->cpu_graph), cpu);
  atk_object_set_name (gtk_widget_get_accessible (self->mem_graph), mem);
}

static void
domain_changed (OrielDomain *domain, GParamSpec *pspec, OrielDetailsView *self)
{
  /* Progress of an operation is shown elsewhere; only the dual-boot
   * actions wait for it. */
  if (g_strcmp0 (pspec->name, "busy") != 0)
    oriel_details_view_refresh (self);
  else
    {
      const char *xml = oriel_domain_get_xml (domain);
      g_autoptr (OrielDomainInfo) info = xml != NULL ? oriel_domain_info_parse (xml, NULL) : NULL;
      refresh_dualboot (self, info);
    }
}

static void
oriel_details_view_dispose (GObject *object)
{
  OrielDetailsView *self = ORIEL_DETAILS_VIEW (object);

  if (self->domain != NULL)
    g_signal_handlers_disconnect_by_data (self->domain, self);
  g_clear_object (&self->domain);
  G_OBJECT_CLASS (oriel_details_view_parent_class)->dispose (object);
}

static void
oriel_details_view_class_init (OrielDetailsViewClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = oriel_details_view_dispose;
}

static GtkWidget *
graph_box (const char *title, GtkWidget *graph, GtkLabel **value_out)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *label = gtk_label_new (title);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  *value_out = GTK_LABEL (label);
  gtk_box_pack_start (GTK_BOX (box), label, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (box), graph, TRUE, TRUE, 0);
  return box;
}

static void
oriel_details_view_init (OrielDetailsView *self)
{
  GtkWidget *graphs, *frame;

  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing (GTK_BOX (self), 18);
  g_object_set (self, "margin", 18, NULL);

  self->grid = GTK_GRID (gtk_grid_new ());
  gtk_grid_set_row_spacing (self->grid, 6);
  gtk_grid_set_column_spacing (self->grid, 12);
  frame = gtk_frame_new (_("Hardware"));
  gtk_frame_set_shadow_type (GTK_FRAME (frame), GTK_SHADOW_NONE);
  gtk_container_add (GTK_CONTAINER (frame), GTK_WIDGET (self->grid));
  gtk_box_pack_start (GTK_BOX (self), frame, FALSE, FALSE, 0);

  {
    GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
    GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

    self->dualboot_frame = gtk_frame_new (_("Windows on this computer"));
    gtk_frame_set_shadow_type (GTK_FRAME (self->dualboot_frame), GTK_SHADOW_NONE);
    self->dualboot_mode = GTK_LABEL (gtk_label_new (NULL));
    gtk_label_set_xalign (self->dualboot_mode, 0.0);
    gtk_label_set_line_wrap (self->dualboot_mode, TRUE);
    self->discard_button = gtk_button_new_with_mnemonic (_("_Discard Trial Changes"));
    self->real_button = gtk_button_new_with_mnemonic (_("Switch to _Real Mode"));
    g_signal_connect (self->discard_button, "clicked", G_CALLBACK (discard_clicked), self);
    g_signal_connect (self->real_button, "clicked", G_CALLBACK (real_clicked), self);
    gtk_box_pack_start (GTK_BOX (buttons), self->discard_button, FALSE, FALSE, 0);
    gtk_box_pack_start (GTK_BOX (buttons), self->real_button, FALSE, FALSE, 0);
    gtk_box_pack_start (GTK_BOX (box), GTK_WIDGET (self->dualboot_mode), FALSE, FALSE, 0);
    gtk_box_pack_start (GTK_BOX (box), buttons, FALSE, FALSE, 0);
    gtk_container_add (GTK_CONTAINER (self->dualboot_frame), box);
    gtk_widget_show_all (box);
    gtk_widget_set_no_show_all (self->dualboot_frame, TRUE);
    gtk_box_pack_start (GTK_BOX (self), self->dualboot_frame, FALSE, FALSE, 0);
  }

  graphs = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 18);
  gtk_box_set_homogeneous (GTK_BOX (graphs), TRUE);
  self->cpu_graph = oriel_stats_graph_new ("#3584e4");
  self->mem_graph = oriel_stats_graph_new ("#26a269");
  gtk_box_pack_start (GTK_BOX (graphs), graph_box (_("CPU usage"), self->cpu_graph, &self->cpu_value),
                      TRUE, TRUE, 0);
  gtk_box_pack_start (GTK_BOX (graphs), graph_box (_("Memory usage"), self->mem_graph, &self->mem_value),
                      TRUE, TRUE, 0);
  gtk_widget_set_size_request (graphs, -1, 120);
  gtk_box_pack_start (GTK_BOX (self), graphs, FALSE, FALSE, 0);
}

GtkWidget *
oriel_details_view_new (OrielDomain *domain)
{
  OrielDetailsView *self = g_object_new (ORIEL_TYPE_DETAILS_VIEW, NULL);

  self->domain = g_object_ref (domain);
  g_signal_connect (domain, "stats-updated", G_CALLBACK (stats_updated), self);
  g_signal_connect (domain, "notify", G_CALLBACK (domain_changed), self);
  /* What the list read may be the inactive definition: read it again. */
  oriel_domain_fetch_xml (domain);
  oriel_details_view_refresh (self);
  stats_updated (domain, self);
  return GTK_WIDGET (self);
}
