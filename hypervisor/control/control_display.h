/* Control-socket commands about the display (CONTROL.md):
 *   screendump {"filename": PATH}  the screen as PNG
 *   query-vnc                      where the VNC server listens */
#pragma once

#include "control_result.h"

struct machine;

void control_screendump(struct machine *machine, JsonObject *args, struct control_result *res);
void control_query_vnc(struct machine *machine, JsonObject *args, struct control_result *res);
