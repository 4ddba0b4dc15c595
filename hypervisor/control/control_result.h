/* What a control-socket command group hands back to the server: a value
 * to send, or a QMP-style error class and message. */
#pragma once

#include <stdbool.h>
#include <json-glib/json-glib.h>

struct control_result {
    JsonNode *value;          /* on success (owned: the caller sends it) */
    const char *error_class;  /* on failure */
    char *error_desc;         /* on failure, g_free */
};

/* Record a failure; takes desc. */
void control_result_fail(struct control_result *res, const char *error_class, char *desc);
/* Record success with an empty object. */
void control_result_ok(struct control_result *res);
/* Check that args has no member outside allowed (NULL-terminated, may be
 * NULL for none); records InvalidParameter otherwise. */
bool control_result_only_args(JsonObject *args, const char *const *allowed, struct control_result *res);
/* The string member name of args, or NULL after recording
 * InvalidParameter (missing, not a string, or empty). */
const char *control_result_string_arg(JsonObject *args, const char *name, struct control_result *res);
