/*  cm_webhook - webhook event names, configuration checks, retry delays,
    signatures

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    One definition of what a webhook configuration may contain, shared by
    the gateway (400 on bad input), the store (fan-out, retry schedule) and
    the dispatcher (global hook from env, signing).

    A webhook configuration is a JSON object (WAHA `WebhookConfig`):
      { url:            "http(s)://host[:port]/path", <= 2048 bytes
        events:         ["message", ...] or ["*"], non-empty
        hmac?:          {key?: string <= 256 bytes} | null
        retries?:       {policy?: constant|linear|exponential,
                         delaySeconds?: 0..3600 (number),
                         attempts?: 0..100 (integer)} | null
        customHeaders?: [{name: token, value: string without CR/LF}] | null
        is_active?:     bool | 0 | 1  (Wawp; false = never delivered) }
    Unrecognized fields are ignored.

    Known event names: the 30 names of WAHA's WAHAEvents enum. Wawp
    documents 24 of them (all but message.ack.group, message.waiting,
    group.join, group.leave, poll.vote and state.change); we accept the
    whole WAHA set so WAHA configurations carry over. "*" stands for every
    known event except the internal engine.event and state.change (as in
    WAHA), i.e. 28 names; those two must be named explicitly.

    Retries: `attempts` is the number of retries after the first try, so a
    delivery gets at most attempts + 1 HTTP requests. The wait before
    retry n (n = 1 for the first retry) is delaySeconds for constant,
    delaySeconds * n for linear and delaySeconds * 2^(n-1) plus 0-20%
    jitter for exponential, capped at CM_WEBHOOK_RETRY_CAP_MS.
*/
#ifndef CM_WEBHOOK_H_INCLUDED
#define CM_WEBHOOK_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Longest accepted webhook URL, in bytes.
#define CM_WEBHOOK_URL_MAX 2048
//  Longest accepted HMAC key, in bytes.
#define CM_WEBHOOK_HMAC_KEY_MAX 256
//  Largest retries.delaySeconds.
#define CM_WEBHOOK_DELAY_MAX 3600
//  Largest retries.attempts.
#define CM_WEBHOOK_ATTEMPTS_MAX 100
//  Defaults when retries or its fields are absent (WAHA's).
#define CM_WEBHOOK_DEFAULT_DELAY 2
#define CM_WEBHOOK_DEFAULT_ATTEMPTS 15
#define CM_WEBHOOK_DEFAULT_POLICY "constant"
//  Most custom headers per webhook, longest header name and value.
#define CM_WEBHOOK_HEADERS_MAX 32
#define CM_WEBHOOK_HEADER_NAME_MAX 256
#define CM_WEBHOOK_HEADER_VALUE_MAX 4096
//  Most webhooks per session and event names per webhook.
#define CM_WEBHOOK_HOOKS_MAX 32
#define CM_WEBHOOK_EVENTS_MAX 64
//  Upper bound of one retry wait (24 h).
#define CM_WEBHOOK_RETRY_CAP_MS (24LL * 3600 * 1000)
//  Size of a hex HMAC-SHA512 string including the NUL.
#define CM_WEBHOOK_HMAC_HEX_SIZE 129

//  Number of known event names.
size_t cm_webhook_event_count(void);

//  Known event name i (0 <= i < count), or NULL past the end. Borrowed.
const char *cm_webhook_event_at(size_t i);

//  True if `name` is a known event name ("*" is not a name).
bool cm_webhook_event_known(const char *name);

//  True if "*" includes `name` (known and not engine.event/state.change).
bool cm_webhook_event_in_all(const char *name);

//  True if the webhook's `events` array selects event `name`: the name is
//  listed, or "*" is listed and includes it. False when events is not an
//  array.
bool cm_webhook_matches(json_t *events, const char *name);

//  Check one webhook configuration object. `path` names it in messages
//  (e.g. "config.webhooks[0]"). Returns 0, or -1 and sets *err_p to a
//  message naming the field, e.g.
//  `config.webhooks[0].events[1]: unrecognized event "foo"` (caller owns
//  *err_p).
int cm_webhook_validate(json_t *hook, const char *path, char **err_p);

//  Check an array of webhook configurations (null is accepted as empty).
//  `path` names the array (e.g. "config.webhooks"). As cm_webhook_validate.
int cm_webhook_validate_list(json_t *hooks, const char *path, char **err_p);

//  Check the webhook part of a WAHA SessionConfig object: its `webhooks`
//  field when present (other fields are not looked at). A NULL or JSON
//  null config is fine. Messages use the path "config.webhooks".
int cm_webhook_validate_config(json_t *config, char **err_p);

//  Full form of a valid webhook configuration, defaults filled in and
//  unrecognized fields dropped:
//  {url, events, hmac:{key}|null, retries:{policy, delaySeconds,
//  attempts}, customHeaders:[…], is_active}. NULL if `hook` is not valid.
//  Caller owns return value.
json_t *cm_webhook_normalize(json_t *hook);

//  Milliseconds to wait before retry `n` (1 = first retry) of a webhook in
//  full form (as cm_webhook_normalize returns; missing fields take their
//  defaults). `jitter` in [0, 1] picks the exponential jitter (0 = none,
//  1 = +20%); it is ignored by the other policies.
int64_t cm_webhook_retry_delay_ms(json_t *hook, int n, double jitter);

//  Number of retries the webhook allows (retries.attempts or default).
int cm_webhook_retry_attempts(json_t *hook);

//  Size of a webhook config id (hex SHA-256) including the NUL.
#define CM_WEBHOOK_ID_SIZE 65

//  Stable id of a webhook configuration: hex SHA-256 of its compact JSON
//  text with sorted keys, into `out` (CM_WEBHOOK_ID_SIZE bytes). Equal
//  configurations get equal ids.
void cm_webhook_id(json_t *hook, char *out);

//  Lower-case hex HMAC-SHA512 of `body` under `key` into `out`
//  (CM_WEBHOOK_HMAC_HEX_SIZE bytes).
void cm_webhook_hmac_hex(const char *key, const void *body, size_t len,
                         char *out);

void cm_webhook_test(bool verbose);

#endif
