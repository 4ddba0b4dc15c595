/* Cell renderer drawing a sparkline in the VM list. */
#include "sparkline-renderer.h"
#include "sparkline.h"

struct _OrielSparklineRenderer {
  GtkCellRenderer parent_instance;
  GdkRGBA color;
  const OrielStatsRing *ring;
};

G_DEFINE_TYPE (OrielSparklineRenderer, oriel_sparkline_renderer, GTK_TYPE_CELL_RENDERER)

static void
get_preferred_width (GtkCellRenderer *cell, GtkWidget *widget, gint *min, gint *nat)
{
  *min = 60;
  *nat = 100;
}

static void
get_preferred_height (GtkCellRenderer *cell, GtkWidget *widget, gint *min, gint *nat)
{
  *min = *nat = 20;
}

static void
render (GtkCellRenderer *cell, cairo_t *cr, GtkWidget *widget,
        const GdkRectangle *background, const GdkRectangle *area,
        GtkCellRendererState flags)
{
  OrielSparklineRenderer *self = ORIEL_SPARKLINE_RENDERER (cell);
  gint xpad, ypad;

  if (self->ring == NULL)
    return;
  gtk_cell_renderer_get_padding (cell, &xpad, &ypad);
  oriel_sparkline_draw (cr, self->ring, area->x + xpad, area->y + ypad + 2,
                        area->width - 2 * xpad, area->height - 2 * ypad - 4,
                        &self->color);
}

static void
oriel_sparkline_renderer_class_init (OrielSparklineRendererClass *klass)
{
  GtkCellRendererClass *cell_class = GTK_CELL_RENDERER_CLASS (klass);

  cell_class->get_preferred_width = get_preferred_width;
  cell_class->get_preferred_height = get_preferred_height;
  cell_class->render = render;
}

static void
oriel_sparkline_renderer_init (OrielSparklineRenderer *self)
{
  gdk_rgba_parse (&self->color, "#3584e4");
}

GtkCellRenderer *
oriel_sparkline_renderer_new (const GdkRGBA *color)
{
  OrielSparklineRenderer *self = g_object_new (ORIEL_TYPE_SPARKLINE_RENDERER, NULL);

  if (color != NULL)
    self->color = *color;
  return GTK_CELL_RENDERER (self);
}

void
oriel_sparkline_renderer_set_ring (OrielSparklineRenderer *self,
                                   const OrielStatsRing *ring)
{
  self->ring = ring;
}
