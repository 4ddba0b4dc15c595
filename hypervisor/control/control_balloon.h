/* The memory balloon from the control socket: balloon (the guest's
 * target size), query-balloon (its size and statistics) and
 * balloon-stats-period. */
#pragma once

#include "control_result.h"

struct machine;

void control_balloon(struct machine *machine, JsonObject *args, struct control_result *res);
void control_query_balloon(struct machine *machine, JsonObject *args, struct control_result *res);
void control_balloon_stats_period(struct machine *machine, JsonObject *args, struct control_result *res);
