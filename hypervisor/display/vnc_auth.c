/* VNC Authentication with nettle's DES. */
#include "vnc_auth.h"

#include <glib.h>
#include <nettle/des.h>
#include <string.h>
#include <sys/random.h>

void vnc_auth_make_challenge(uint8_t challenge[VNC_CHALLENGE_SIZE])
{
    size_t got = 0;
    while (got < VNC_CHALLENGE_SIZE) {
        ssize_t n = getrandom(challenge + got, VNC_CHALLENGE_SIZE - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    /* getrandom() does not fail for 16 bytes once the pool is ready; keep a
     * fallback rather than a predictable challenge. */
    for (; got < VNC_CHALLENGE_SIZE; got++)
        challenge[got] = (uint8_t)g_random_int();
}

static uint8_t reverse_bits(uint8_t b)
{
    b = (uint8_t)((b & 0xf0) >> 4 | (b & 0x0f) << 4);
    b = (uint8_t)((b & 0xcc) >> 2 | (b & 0x33) << 2);
    b = (uint8_t)((b & 0xaa) >> 1 | (b & 0x55) << 1);
    return b;
}

void vnc_auth_response(const char *password, const uint8_t challenge[VNC_CHALLENGE_SIZE],
                       uint8_t response[VNC_CHALLENGE_SIZE])
{
    uint8_t key[DES_KEY_SIZE] = { 0 };
    size_t len = password ? strlen(password) : 0;
    for (size_t i = 0; i < DES_KEY_SIZE && i < len; i++)
        key[i] = reverse_bits((uint8_t)password[i]);
    struct des_ctx ctx;
    /* des_set_key() reports weak keys but still sets them up; VNC does not
     * care about key strength here. */
    (void)des_set_key(&ctx, key);
    des_encrypt(&ctx, VNC_CHALLENGE_SIZE, response, challenge);
    memset(key, 0, sizeof key);
    memset(&ctx, 0, sizeof ctx);
}

bool vnc_auth_check(const char *password, const uint8_t challenge[VNC_CHALLENGE_SIZE],
                    const uint8_t response[VNC_CHALLENGE_SIZE])
{
    uint8_t expected[VNC_CHALLENGE_SIZE];
    vnc_auth_response(password, challenge, expected);
    uint8_t diff = 0;
    for (int i = 0; i < VNC_CHALLENGE_SIZE; i++)
        diff |= expected[i] ^ response[i];
    memset(expected, 0, sizeof expected);
    return diff == 0;
}
