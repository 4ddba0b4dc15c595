/* A labelled live graph of one percentage history (details view). */
#include "stats-graph.h"
#include "sparkline.h"

struct _OrielStatsGraph {
  GtkDrawingArea parent_instance;
  OrielStatsRing ring;
  GdkRGBA color;
};

G_DEFINE_TYPE (OrielStatsGraph, oriel_stats_graph, GTK_TYPE_DRAWING_AREA)

static gboolean
draw (GtkWidget *widget, cairo_t *cr)
{
  OrielStatsGraph *self = ORIEL_STATS_GRAPH (widget);
  int w = gtk_widget_get_allocated_width (widget);
  int h = gtk_widget_get_allocated_height (widget);
  GtkStyleContext *style = gtk_widget_get_style_context (widget);

  gtk_render_background (style, cr, 0, 0, w, h);
  gtk_render_frame (style, cr, 0, 0, w, h);
  oriel_sparkline_draw (cr, &self->ring, 1, 1, w - 2, h - 2, &self->color);
  return FALSE;
}

static void
oriel_stats_graph_class_init (OrielStatsGraphClass *klass)
{
  GTK_WIDGET_CLASS (klass)->draw = draw;
  gtk_widget_class_set_accessible_role (GTK_WIDGET_CLASS (klass), ATK_ROLE_CHART);
}

static void
oriel_stats_graph_init (OrielStatsGraph *self)
{
  oriel_stats_ring_init (&self->ring);
  gtk_widget_set_size_request (GTK_WIDGET (self), 240, 60);
}

GtkWidget *
oriel_stats_graph_new (const char *color)
{
  OrielStatsGraph *self = g_object_new (ORIEL_TYPE_STATS_GRAPH, NULL);

  gdk_rgba_parse (&self->color, color);
  return GTK_WIDGET (self);
}

void
oriel_stats_graph_set_ring (OrielStatsGraph *self, const OrielStatsRing *ring)
{
  if (ring != NULL)
    self->ring = *ring;
  else
    oriel_stats_ring_init (&self->ring);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}
