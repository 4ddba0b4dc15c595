/* Control-socket commands about the VM and its configuration (CONTROL.md):
 * query-status, stop, cont, system_powerdown, system_reset, quit,
 * query-cpus, query-block, query-chardev, query-net.  None takes
 * arguments; the server refuses them before calling these. */
#pragma once

#include "control_result.h"

struct pc;

void control_query_status(struct pc *pc, JsonObject *args, struct control_result *res);
void control_stop(struct pc *pc, JsonObject *args, struct control_result *res);
void control_cont(struct pc *pc, JsonObject *args, struct control_result *res);
void control_system_powerdown(struct pc *pc, JsonObject *args, struct control_result *res);
void control_system_reset(struct pc *pc, JsonObject *args, struct control_result *res);
void control_quit(struct pc *pc, JsonObject *args, struct control_result *res);
void control_query_cpus(struct pc *pc, JsonObject *args, struct control_result *res);
void control_query_block(struct pc *pc, JsonObject *args, struct control_result *res);
void control_query_chardev(struct pc *pc, JsonObject *args, struct control_result *res);
void control_query_net(struct pc *pc, JsonObject *args, struct control_result *res);
