/*  gw_auth - hashing and comparison of API keys and access tokens

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Secrets are kept in memory only as SHA-512 digests and compared in
    constant time. Per-session Wawp access tokens are random and shown to
    the client once; the store keeps only their hex SHA-512.
*/
#ifndef GW_AUTH_H_INCLUDED
#define GW_AUTH_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Size of a SHA-512 digest and of its hex form including the NUL.
#define GW_AUTH_DIGEST 64
#define GW_AUTH_HEX_SIZE (2 * GW_AUTH_DIGEST + 1)
//  Random bytes in a per-session access token (hex-encoded, 64 chars).
#define GW_AUTH_TOKEN_BYTES 32
//  Length of a Wawp instance id.
#define GW_AUTH_INSTANCE_LEN 12

//  SHA-512 of the NUL-terminated `secret` into `out`.
void gw_auth_digest(const char *secret, uint8_t out[GW_AUTH_DIGEST]);

//  Lower-case hex SHA-512 of `secret` into `out` (GW_AUTH_HEX_SIZE bytes).
void gw_auth_digest_hex(const char *secret, char out[GW_AUTH_HEX_SIZE]);

//  True if `secret` hashes to `digest`. Constant time in the secret's
//  content; NULL secret gives false.
bool gw_auth_check(const char *secret, const uint8_t digest[GW_AUTH_DIGEST]);

//  True if `secret` hashes to the hex digest `hex` (as stored for session
//  access tokens). False when hex is NULL or malformed.
bool gw_auth_check_hex(const char *secret, const char *hex);

//  A new random access token (hex). Caller owns return value.
char *gw_auth_token_new(void);

//  A new random Wawp instance id: GW_AUTH_INSTANCE_LEN upper-case letters
//  and digits. Caller owns return value.
char *gw_auth_instance_new(void);

void gw_auth_test(bool verbose);

#endif
