/* Control commands about the drives' images: their request counters
 * (query-blockstats) and growing a disk (block_resize). */
#pragma once

#include "control_result.h"

struct machine;

void control_query_blockstats(struct machine *machine, JsonObject *args, struct control_result *res);
void control_block_resize(struct machine *machine, JsonObject *args, struct control_result *res);
