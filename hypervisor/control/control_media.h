/* Control-socket commands for removable media (CONTROL.md):
 *   change-medium {"device": "cdrom", "filename": PATH}  put an image in
 *   eject {"device": "cdrom", "force": BOOL}              take it out */
#pragma once

#include "control_result.h"

struct machine;

void control_change_medium(struct machine *machine, JsonObject *args, struct control_result *res);
void control_eject(struct machine *machine, JsonObject *args, struct control_result *res);
