/* Control-socket commands for removable media (CONTROL.md):
 *   change-medium {"device": "cdrom", "filename": PATH}  put an image in
 *   eject {"device": "cdrom", "force": BOOL}              take it out */
#pragma once

#include "control_result.h"

struct pc;

void control_change_medium(struct pc *pc, JsonObject *args, struct control_result *res);
void control_eject(struct pc *pc, JsonObject *args, struct control_result *res);
