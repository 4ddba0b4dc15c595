/* The fuzz input read as a stream of little-endian values; past its end
 * every value is zero, so a short input is still a whole test case. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct cursor { const uint8_t *p; size_t left; };

static inline uint8_t cursor_u8(struct cursor *c)
{
    if (!c->left)
        return 0;
    c->left--;
    return *c->p++;
}

static inline uint32_t cursor_u32(struct cursor *c)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < 4; i++)
        v |= (uint32_t)cursor_u8(c) << (8 * i);
    return v;
}
