/* The control protocol's message parser: valid requests, and every kind of
 * malformed line getting the right error class and connection fate. */
#include <string.h>
#include <glib.h>

#include "control/control_parser.h"

static void test_valid(void)
{
    struct control_request req;
    struct control_parse_error err;
    bool fatal;
    const char *line = "{\"execute\": \"query-status\", \"id\": 7}";
    g_assert_true(control_parse_request(line, strlen(line), &req, &err, &fatal));
    g_assert_cmpstr(req.execute, ==, "query-status");
    g_assert_nonnull(req.arguments);
    g_assert_cmpuint(json_object_get_size(req.arguments), ==, 0);
    g_assert_nonnull(req.id);
    g_assert_cmpint(json_node_get_int(req.id), ==, 7);
    control_request_clear(&req);

    line = "{\"execute\":\"stop\",\"arguments\":{\"a\":1},\"id\":{\"x\":[1,2]}}";
    g_assert_true(control_parse_request(line, strlen(line), &req, &err, &fatal));
    g_assert_cmpstr(req.execute, ==, "stop");
    g_assert_true(json_object_has_member(req.arguments, "a"));
    g_assert_true(JSON_NODE_HOLDS_OBJECT(req.id));
    control_request_clear(&req);

    line = "{\"execute\":\"cont\"}";
    g_assert_true(control_parse_request(line, strlen(line), &req, &err, &fatal));
    g_assert_null(req.id);
    control_request_clear(&req);
}

static void expect_error(const char *line, size_t len, const char *cls, bool want_fatal,
                         bool want_id)
{
    struct control_request req;
    struct control_parse_error err;
    bool fatal;
    g_assert_false(control_parse_request(line, len, &req, &err, &fatal));
    g_assert_cmpstr(err.error_class, ==, cls);
    g_assert_nonnull(err.desc);
    g_assert_cmpint(fatal, ==, want_fatal);
    g_assert_cmpint(err.id != NULL, ==, want_id);
    g_assert_null(req.execute);
    control_parse_error_clear(&err);
}

#define BAD(s, cls, fatal, id) expect_error(s, strlen(s), cls, fatal, id)

static void test_malformed(void)
{
    /* Not an object at all: error, then the connection closes. */
    BAD("", "GenericError", true, false);
    BAD("garbage", "GenericError", true, false);
    BAD("[1,2,3]", "GenericError", true, false);
    BAD("\"execute\"", "GenericError", true, false);
    BAD("{\"execute\": \"stop\"", "GenericError", true, false);
    BAD("{\"execute\": \"stop\"} {}", "GenericError", true, false);
    expect_error("{\"execute\":\"s\0\"}", 15, "GenericError", true, false);
    BAD("{\"execute\": \"\xff\xfe\"}", "GenericError", true, false);

    /* Objects with the wrong shape: error reply, connection stays. */
    BAD("{}", "GenericError", false, false);
    BAD("{\"id\": 3}", "GenericError", false, true);
    BAD("{\"execute\": 5, \"id\": \"a\"}", "GenericError", false, true);
    BAD("{\"execute\": null}", "GenericError", false, false);
    BAD("{\"execute\": [\"stop\"]}", "GenericError", false, false);
    BAD("{\"execute\": \"stop\", \"arguments\": []}", "InvalidParameter", false, false);
    BAD("{\"execute\": \"stop\", \"arguments\": 1, \"id\": 1}", "InvalidParameter", false, true);
    BAD("{\"execute\": \"stop\", \"extra\": 1}", "GenericError", false, false);
}

static void test_too_long(void)
{
    size_t len = CONTROL_MAX_LINE + 1;
    char *line = g_malloc(len);
    memset(line, ' ', len);
    expect_error(line, len, "GenericError", true, false);
    g_free(line);
}

static void test_deep_nesting(void)
{
    /* Deeply nested arrays must not blow the stack or be accepted. */
    GString *s = g_string_new("{\"execute\":\"x\",\"id\":");
    for (int i = 0; i < 100000; i++)
        g_string_append_c(s, '[');
    struct control_request req;
    struct control_parse_error err;
    bool fatal;
    g_assert_false(control_parse_request(s->str, s->len, &req, &err, &fatal));
    control_parse_error_clear(&err);
    g_string_free(s, TRUE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/control-parser/valid", test_valid);
    g_test_add_func("/control-parser/malformed", test_malformed);
    g_test_add_func("/control-parser/too-long", test_too_long);
    g_test_add_func("/control-parser/deep-nesting", test_deep_nesting);
    return g_test_run();
}
