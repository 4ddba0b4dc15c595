/* A labelled live graph of one percentage history (details view). */
#pragma once

#include <gtk/gtk.h>
#include "vm-stats.h"

G_BEGIN_DECLS

#define ORIEL_TYPE_STATS_GRAPH (oriel_stats_graph_get_type ())
G_DECLARE_FINAL_TYPE (OrielStatsGraph, oriel_stats_graph, ORIEL, STATS_GRAPH, GtkDrawingArea)

GtkWidget *oriel_stats_graph_new (const char *color);
/* Copies the ring so the graph never points at freed memory. */
void oriel_stats_graph_set_ring (OrielStatsGraph *self, const OrielStatsRing *ring);

G_END_DECLS
