/* The control socket (CONTROL.md): a UNIX stream socket speaking JSON, one
 * message per line, commands with replies and events to every client. */
#pragma once

#include <glib.h>

struct machine;
struct control_server;

struct control_server *control_server_new(struct machine *machine, const char *path, GError **error);
/* Flushes what is queued for the clients, closes, removes the socket. */
void control_server_free(struct control_server *srv);
