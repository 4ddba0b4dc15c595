/* Parsing one line of the control protocol (CONTROL.md) into a request.
 * Everything a client sends is untrusted: any malformed input yields an
 * error class and description, never a crash. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <json-glib/json-glib.h>

#define CONTROL_MAX_LINE (1024 * 1024)

struct control_request {
    char *execute;          /* command name */
    JsonObject *arguments;  /* never NULL (empty when absent) */
    JsonNode *id;           /* NULL when absent */
};

struct control_parse_error {
    const char *error_class;  /* "GenericError", "InvalidParameter", ... */
    char *desc;
    JsonNode *id;             /* the id, if the object had one */
};

/* Parse len bytes (no newline) as one request.  On failure fills err and
 * returns false; *fatal says whether the connection must be closed (the
 * line is not a JSON object at all). */
bool control_parse_request(const char *line, size_t len, struct control_request *req,
                           struct control_parse_error *err, bool *fatal);

void control_request_clear(struct control_request *req);
void control_parse_error_clear(struct control_parse_error *err);
