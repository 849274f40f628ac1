/*  st_seal - device secrets sealed at rest (AES-256-GCM)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    device_creds and signal_keys hold what it takes to be a session's
    WhatsApp device: the Noise, identity and ADV private keys, the Signal
    sessions, pre-keys and sender keys. store-service seals them before
    they reach PostgreSQL and opens them when read, so a database dump
    alone gives none of them away. Other services send and receive them
    in the clear over the bus (see ARCHITECTURE.md, "Trust").

    The key is 32 random bytes from STORE_SECRET_KEY (or _FILE), as 64
    hex digits or base64. Its id (`kid`, 8 hex digits: the first 4 bytes
    of SHA-256("wharf-secret-key-id" NUL key)) is kept next to every
    sealed value, so a second key (STORE_SECRET_KEY_OLD) can still open
    what the previous key sealed while the rows are sealed again with the
    new one (key rotation, see README.md).

    A sealed value is: version 0x01 | salt (16) | nonce (12) | ciphertext
    | tag (16). The value is encrypted with AES-256-GCM under a key of its
    own, HMAC-SHA256(key, "wharf-seal-v1" | salt), so the number of values
    one key seals is not bounded by GCM's random-nonce limit. The
    associated data is the row's identity (table, session, and for
    signal_keys the kind and key id; see st_seal_ad): a value copied to
    another row or session does not open.

    A keyless st_seal (STORE_SECRETS_PLAINTEXT) seals nothing: the
    callers store plaintext, as before this module.
*/
#ifndef ST_SEAL_H_INCLUDED
#define ST_SEAL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Key length, bytes.
#define ST_SEAL_KEY_LEN 32
//  Key id length, hex digits.
#define ST_SEAL_KID_LEN 8
//  Bytes a sealed value has beyond its plaintext.
#define ST_SEAL_OVERHEAD (1 + 16 + 12 + 16)
//  Longest plaintext sealed or opened, bytes.
#define ST_SEAL_MAX (16 * 1024 * 1024)
//  Advisory lock key held by the start-time re-seal ("Wseal" in ASCII).
#define ST_SEAL_LOCK_KEY 0x577365616CLL

//  st_seal_open results.
#define ST_SEAL_OK 0
#define ST_SEAL_UNKNOWN_KEY -1 //  sealed under a key id we do not hold
#define ST_SEAL_FORGED -2      //  altered, moved to another row, or garbage

typedef struct _st_seal_t st_seal_t;

//  Parse a key: 64 hex digits or the base64 of 32 bytes (surrounding
//  white space ignored). Returns 0 or -1.
int st_seal_parse_key(const char *text, uint8_t key[ST_SEAL_KEY_LEN]);

//  New sealer with the current `key` (NULL: keyless, seals nothing) and
//  `old_key` (NULL: none) that only opens. Keys are copied. Caller owns
//  return value.
st_seal_t *st_seal_new(const uint8_t *key, const uint8_t *old_key);

void st_seal_destroy(st_seal_t **self_p);

//  Id of the current key, NULL when keyless.
const char *st_seal_kid(const st_seal_t *self);

//  Id of the old key, NULL when none.
const char *st_seal_old_kid(const st_seal_t *self);

//  True if values sealed under `kid` open (current or old key).
bool st_seal_knows(const st_seal_t *self, const char *kid);

//  The associated data naming one row: `table`, then each further string
//  up to a NULL, separated by NUL bytes. Sets *len. Caller owns return
//  value.
char *st_seal_ad(size_t *len, const char *table, ...) __attribute__((sentinel));

//  Seal `len` bytes of `data` for the row named by `ad` under the current
//  key. Returns 0 with *out_p (caller owns it) and *out_len set, or -1
//  when keyless or too long.
int st_seal_close(const st_seal_t *self, const char *ad, size_t ad_len,
                  const uint8_t *data, size_t len, uint8_t **out_p,
                  size_t *out_len);

//  Open a value that the key `kid` sealed for the row named by `ad`.
//  Returns ST_SEAL_OK with *out_p (caller owns it, NUL-terminated beyond
//  *out_len) and *out_len set, or ST_SEAL_UNKNOWN_KEY / ST_SEAL_FORGED.
int st_seal_open(const st_seal_t *self, const char *kid, const char *ad,
                 size_t ad_len, const uint8_t *sealed, size_t len,
                 uint8_t **out_p, size_t *out_len);

//  As st_seal_close and st_seal_open with base64 text on both sides (as
//  the bus and the SQL statements carry them). Return NULL on failure
//  (st_seal_open_b64 sets *why to the ST_SEAL_* result when given).
//  Caller owns return value.
char *st_seal_close_b64(const st_seal_t *self, const char *ad, size_t ad_len,
                        const char *b64);
char *st_seal_open_b64(const st_seal_t *self, const char *kid, const char *ad,
                       size_t ad_len, const char *b64, int *why);

void st_seal_test(bool verbose);

#endif
