/* Cell renderer drawing a sparkline in the VM list. */
#pragma once

#include <gtk/gtk.h>
#include "vm-stats.h"

G_BEGIN_DECLS

#define ORIEL_TYPE_SPARKLINE_RENDERER (oriel_sparkline_renderer_get_type ())
G_DECLARE_FINAL_TYPE (OrielSparklineRenderer, oriel_sparkline_renderer, ORIEL,
                      SPARKLINE_RENDERER, GtkCellRenderer)

GtkCellRenderer *oriel_sparkline_renderer_new (const GdkRGBA *color);
/* The ring is borrowed for the next draw only. */
void oriel_sparkline_renderer_set_ring (OrielSparklineRenderer *self,
                                        const OrielStatsRing *ring);

G_END_DECLS
