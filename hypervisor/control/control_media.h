/* Control-socket commands for removable media (CONTROL.md):
 *   change-medium {"device": "cdrom", "filename": PATH}  put an image in
 *   eject {"device": "cdrom", "force": BOOL}              take it out */
#pragma once

#include "control_result.h"

struct pc;

/* false if cmd is not a media command (nothing done). */
bool control_media_execute(struct pc *pc, const char *cmd, JsonObject *args, struct control_result *res);
