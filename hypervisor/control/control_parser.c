#include "control_parser.h"

#include <string.h>
#include <glib/gi18n.h>

static bool fail(struct control_parse_error *err, const char *cls, char *desc, JsonNode *id)
{
    err->error_class = cls;
    err->desc = desc;
    err->id = id;
    return false;
}

/* A strict RFC 8259 syntax check with bounded nesting, run before the
 * JSON library sees the text: it rejects trailing data after the value and
 * nesting deep enough to exhaust a recursive parser's stack. */
#define JSON_MAX_DEPTH 32

struct scan {
    const char *p;
    const char *end;
};

static void skip_ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static bool scan_value(struct scan *s, unsigned depth);

static bool scan_string(struct scan *s)
{
    s->p++; /* opening quote */
    while (s->p < s->end) {
        unsigned char c = (unsigned char)*s->p++;
        if (c == '"')
            return true;
        if (c < 0x20)
            return false;
        if (c == '\\') {
            if (s->p >= s->end)
                return false;
            char e = *s->p++;
            if (e == 'u') {
                for (int i = 0; i < 4; i++, s->p++)
                    if (s->p >= s->end || !g_ascii_isxdigit(*s->p))
                        return false;
            } else if (!strchr("\"\\/bfnrt", e) || e == '\0') {
                return false;
            }
        }
    }
    return false;
}

static bool scan_digits(struct scan *s)
{
    const char *start = s->p;
    while (s->p < s->end && g_ascii_isdigit(*s->p))
        s->p++;
    return s->p > start;
}

static bool scan_number(struct scan *s)
{
    if (*s->p == '-')
        s->p++;
    if (s->p < s->end && *s->p == '0')
        s->p++;
    else if (!scan_digits(s))
        return false;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (!scan_digits(s))
            return false;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (!scan_digits(s))
            return false;
    }
    return true;
}

static bool scan_literal(struct scan *s, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
        return false;
    s->p += n;
    return true;
}

static bool scan_container(struct scan *s, unsigned depth, char close, bool object)
{
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return true;
    }
    for (;;) {
        if (object) {
            skip_ws(s);
            if (s->p >= s->end || *s->p != '"' || !scan_string(s))
                return false;
            skip_ws(s);
            if (s->p >= s->end || *s->p++ != ':')
                return false;
        }
        if (!scan_value(s, depth + 1))
            return false;
        skip_ws(s);
        if (s->p >= s->end)
            return false;
        char c = *s->p++;
        if (c == close)
            return true;
        if (c != ',')
            return false;
    }
}

static bool scan_value(struct scan *s, unsigned depth)
{
    if (depth > JSON_MAX_DEPTH)
        return false;
    skip_ws(s);
    if (s->p >= s->end)
        return false;
    switch (*s->p) {
    case '{': return scan_container(s, depth, '}', true);
    case '[': return scan_container(s, depth, ']', false);
    case '"': return scan_string(s);
    case 't': return scan_literal(s, "true");
    case 'f': return scan_literal(s, "false");
    case 'n': return scan_literal(s, "null");
    default:
        if (*s->p == '-' || g_ascii_isdigit(*s->p))
            return scan_number(s);
        return false;
    }
}

static bool json_syntax_ok(const char *text, size_t len)
{
    struct scan s = { text, text + len };
    if (!scan_value(&s, 0))
        return false;
    skip_ws(&s);
    return s.p == s.end;
}

bool control_parse_request(const char *line, size_t len, struct control_request *req,
                           struct control_parse_error *err, bool *fatal)
{
    memset(req, 0, sizeof(*req));
    memset(err, 0, sizeof(*err));
    *fatal = true;

    if (len > CONTROL_MAX_LINE)
        return fail(err, "GenericError", g_strdup(_("message too long")), NULL);
    if (!g_utf8_validate(line, (gssize)len, NULL) || memchr(line, '\0', len))
        return fail(err, "GenericError", g_strdup(_("message is not valid UTF-8")), NULL);

    if (!json_syntax_ok(line, len))
        return fail(err, "GenericError", g_strdup(_("invalid JSON")), NULL);

    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    g_autoptr(GError) error = NULL;
    if (!json_parser_load_from_data(parser, line, (gssize)len, &error))
        return fail(err, "GenericError", g_strdup_printf(_("invalid JSON: %s"), error->message), NULL);
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root))
        return fail(err, "GenericError", g_strdup(_("message is not a JSON object")), NULL);

    /* From here on the message is an object: errors get a reply and the
     * connection stays. */
    *fatal = false;
    JsonObject *obj = json_node_get_object(root);
    JsonNode *id = json_object_get_member(obj, "id");
    JsonNode *id_copy = id ? json_node_copy(id) : NULL;

    GList *members = json_object_get_members(obj);
    for (GList *l = members; l; l = l->next) {
        const char *m = l->data;
        if (strcmp(m, "execute") && strcmp(m, "arguments") && strcmp(m, "id")) {
            char *desc = g_strdup_printf(_("unexpected member '%s'"), m);
            g_list_free(members);
            return fail(err, "GenericError", desc, id_copy);
        }
    }
    g_list_free(members);

    JsonNode *exec = json_object_get_member(obj, "execute");
    if (!exec || !JSON_NODE_HOLDS_VALUE(exec) || json_node_get_value_type(exec) != G_TYPE_STRING)
        return fail(err, "GenericError", g_strdup(_("'execute' must be a string")), id_copy);

    JsonNode *args = json_object_get_member(obj, "arguments");
    if (args && !JSON_NODE_HOLDS_OBJECT(args))
        return fail(err, "InvalidParameter", g_strdup(_("'arguments' must be an object")), id_copy);

    req->execute = g_strdup(json_node_get_string(exec));
    req->arguments = args ? json_object_ref(json_node_get_object(args)) : json_object_new();
    req->id = id_copy;
    return true;
}

void control_request_clear(struct control_request *req)
{
    g_free(req->execute);
    if (req->arguments)
        json_object_unref(req->arguments);
    if (req->id)
        json_node_unref(req->id);
    memset(req, 0, sizeof(*req));
}

void control_parse_error_clear(struct control_parse_error *err)
{
    g_free(err->desc);
    if (err->id)
        json_node_unref(err->id);
    memset(err, 0, sizeof(*err));
}
