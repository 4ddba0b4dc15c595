/* Draws a percentage history as a filled line (VM list and graphs). */
#pragma once

#include <gtk/gtk.h>
#include "vm-stats.h"

void oriel_sparkline_draw (cairo_t *cr, const OrielStatsRing *ring,
                           double x, double y, double width, double height,
                           const GdkRGBA *color);
