/* send-key: keys typed on the guest's keyboard from the control socket. */
#pragma once

#include "control_result.h"

struct machine;

void control_send_key(struct machine *machine, JsonObject *args, struct control_result *res);
