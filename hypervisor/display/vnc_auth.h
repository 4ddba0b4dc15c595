/* RFB "VNC Authentication": a DES challenge-response. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define VNC_CHALLENGE_SIZE 16

void vnc_auth_make_challenge(uint8_t challenge[VNC_CHALLENGE_SIZE]);
/* The response a client with this password sends (the challenge encrypted
 * with DES, keyed by the first 8 password bytes, each bit-reversed). */
void vnc_auth_response(const char *password, const uint8_t challenge[VNC_CHALLENGE_SIZE],
                       uint8_t response[VNC_CHALLENGE_SIZE]);
/* Constant-time check of a client's response. */
bool vnc_auth_check(const char *password, const uint8_t challenge[VNC_CHALLENGE_SIZE],
                    const uint8_t response[VNC_CHALLENGE_SIZE]);
