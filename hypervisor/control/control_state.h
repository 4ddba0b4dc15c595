/* Control-socket commands about the VM's saved state: save. */
#pragma once

#include <stdbool.h>
#include <json-glib/json-glib.h>

#include "control_result.h"

struct machine;

void control_save(struct machine *machine, JsonObject *args, struct control_result *res);
