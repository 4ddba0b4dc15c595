/* Control-socket commands about the display (CONTROL.md):
 *   screendump {"filename": PATH}  the screen as PNG
 *   query-vnc                      where the VNC server listens */
#pragma once

#include "control_result.h"

struct pc;

/* false if cmd is not a display command (nothing done). */
bool control_display_execute(struct pc *pc, const char *cmd, JsonObject *args,
                             struct control_result *res);
