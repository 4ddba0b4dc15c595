/* Control-socket commands about the VM's saved state: save. */
#pragma once

#include <stdbool.h>
#include <json-glib/json-glib.h>

#include "control_result.h"

struct pc;

/* Handle cmd if it is one of these; false if it is not. */
bool control_state_execute(struct pc *pc, const char *cmd, JsonObject *args,
                           struct control_result *res);
