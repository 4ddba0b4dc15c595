/* Draws a percentage history as a filled line (VM list and graphs). */
#include "sparkline.h"

void
oriel_sparkline_draw (cairo_t *cr, const OrielStatsRing *ring,
                      double x, double y, double width, double height,
                      const GdkRGBA *color)
{
  guint len = ring != NULL ? oriel_stats_ring_len (ring) : 0;
  double step = width / (ORIEL_STATS_RING_SIZE - 1);
  double x0;

  cairo_save (cr);
  cairo_rectangle (cr, x, y, width, height);
  cairo_clip (cr);
  cairo_set_source_rgba (cr, color->red, color->green, color->blue, 0.08);
  cairo_paint (cr);
  if (len >= 2)
    {
      /* Newest value at the right edge. */
      x0 = x + width - step * (len - 1);
      cairo_move_to (cr, x0, y + height);
      for (guint i = 0; i < len; i++)
        {
          double v = oriel_stats_ring_get (ring, i) / 100.0;
          cairo_line_to (cr, x0 + step * i, y + height - v * (height - 1));
        }
      cairo_line_to (cr, x + width, y + height);
      cairo_close_path (cr);
      cairo_set_source_rgba (cr, color->red, color->green, color->blue, 0.3);
      cairo_fill_preserve (cr);
      cairo_set_source_rgba (cr, color->red, color->green, color->blue, 1.0);
      cairo_set_line_width (cr, 1.0);
      cairo_stroke (cr);
    }
  cairo_restore (cr);
}
