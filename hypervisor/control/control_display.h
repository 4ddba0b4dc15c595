/* Control-socket commands about the display (CONTROL.md):
 *   screendump {"filename": PATH}  the screen as PNG
 *   query-vnc                      where the VNC server listens */
#pragma once

#include "control_result.h"

struct pc;

void control_screendump(struct pc *pc, JsonObject *args, struct control_result *res);
void control_query_vnc(struct pc *pc, JsonObject *args, struct control_result *res);
