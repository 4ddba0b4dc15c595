/* libFuzzer target: arbitrary bytes as one control-socket line. */
#include <stddef.h>
#include <stdint.h>

#include "control/control_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct control_request req;
    struct control_parse_error err;
    bool fatal;
    if (control_parse_request((const char *)data, size, &req, &err, &fatal)) {
        /* A parsed request always has a command and an arguments object. */
        if (!req.execute || !req.arguments)
            __builtin_trap();
        control_request_clear(&req);
    } else {
        if (!err.error_class || !err.desc)
            __builtin_trap();
        control_parse_error_clear(&err);
    }
    return 0;
}
