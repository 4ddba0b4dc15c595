/* Control-socket commands about the VM and its configuration (CONTROL.md):
 * query-status, stop, cont, system_powerdown, system_reset, quit,
 * query-cpus, query-block, query-chardev, query-net.  None takes
 * arguments; the server refuses them before calling these. */
#pragma once

#include "control_result.h"

struct machine;

void control_query_status(struct machine *machine, JsonObject *args, struct control_result *res);
void control_stop(struct machine *machine, JsonObject *args, struct control_result *res);
void control_cont(struct machine *machine, JsonObject *args, struct control_result *res);
void control_system_powerdown(struct machine *machine, JsonObject *args, struct control_result *res);
void control_system_reset(struct machine *machine, JsonObject *args, struct control_result *res);
void control_quit(struct machine *machine, JsonObject *args, struct control_result *res);
void control_query_cpus(struct machine *machine, JsonObject *args, struct control_result *res);
void control_query_block(struct machine *machine, JsonObject *args, struct control_result *res);
void control_query_chardev(struct machine *machine, JsonObject *args, struct control_result *res);
void control_query_net(struct machine *machine, JsonObject *args, struct control_result *res);
