/*  gw_req - one HTTP request and its response

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The per-request owner: everything made for a request (body buffer,
    parsed JSON, response text) is released by gw_req_destroy. It does not
    depend on MHD, so handlers and tests use it alone: gw_http fills in
    the method, path, headers, query and body, a handler reads them and
    sets the response.

    Errors take the shape of the API family the path belongs to:
      WAHA (/api, and /ping, /health): {statusCode, message, error}
        (error = HTTP reason phrase; validation errors carry message as an
        array of strings, as Nest's ValidationPipe does)
      Wawp (/v2): {status, message, error} (error = a code such as
        invalid_instance, invalid_access_token, bad_request)
*/
#ifndef GW_REQ_H_INCLUDED
#define GW_REQ_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "cm/cm_msg.h"
#include "gw_config.h"
#include "gw_link.h"

typedef struct _gw_req_t gw_req_t;

//  Which API a path belongs to; picks the error shape.
typedef enum {
    GW_FAMILY_WAHA = 0, //  /api/..., /ping, /health, anything else
    GW_FAMILY_WAWP = 1  //  /v2/...
} gw_family_t;

//  New request for `method` and decoded `path`. Caller owns return value.
gw_req_t *gw_req_new(const char *method, const char *path);

void gw_req_destroy(gw_req_t **self_p);

//  Borrowed context for handlers (set by gw_http before dispatch).
void gw_req_set_context(gw_req_t *self, const gw_config_t *config,
                        gw_link_t *link);
const gw_config_t *gw_req_config(gw_req_t *self);
gw_link_t *gw_req_link(gw_req_t *self);

const char *gw_req_method(gw_req_t *self);
const char *gw_req_path(gw_req_t *self);
gw_family_t gw_req_family(gw_req_t *self);

//  Record a request header (name matched case-insensitively) or query
//  argument; the first value of a name wins.
void gw_req_set_header(gw_req_t *self, const char *name, const char *value);
void gw_req_set_query(gw_req_t *self, const char *name, const char *value);
//  A header (any case) or query argument, or NULL. Borrowed.
const char *gw_req_header(gw_req_t *self, const char *name);
const char *gw_req_query(gw_req_t *self, const char *name);
//  Every value of query argument `name`, in order ([string...]), or NULL.
//  Borrowed.
json_t *gw_req_query_all(gw_req_t *self, const char *name);
//  Parse a non-negative decimal integer from query `key` into *out (dflt
//  when absent; *given, if not NULL, says whether it was there). Returns
//  0, or -1 after a 400 naming the field and its range.
int gw_req_query_int(gw_req_t *self, const char *key, int64_t min, int64_t max,
                     int64_t dflt, int64_t *out, bool *given);
//  Body inputs (gw_req_input: JSON body, else the query) of the common
//  kinds. A boolean (JSON true/false, or "true"/"1"/"false"/"0") into
//  *out, dflt when absent or null; an optional string of at most max
//  bytes (*out NULL when absent or null; borrowed). Return 0, or -1
//  after a 400 naming the field.
int gw_req_input_bool(gw_req_t *self, const char *name, bool dflt, bool *out);
int gw_req_input_opt_str(gw_req_t *self, const char *name, size_t max,
                         const char **out);
//  The same check of an input value `v` already found (NULL or null is
//  absent), named `name` in the 400.
int gw_req_value_opt_str(gw_req_t *self, json_t *v, const char *name,
                         size_t max, const char **out);
//  A boolean query `key` ("true"/"1", "false"/"0") into *out (dflt when
//  absent). Returns 0, or -1 after a 400 naming the field.
int gw_req_query_bool(gw_req_t *self, const char *key, bool dflt, bool *out);

//  Path parameters, filled by the router. Borrowed object.
json_t *gw_req_params(gw_req_t *self);
//  Path parameter, or NULL. Borrowed.
const char *gw_req_param(gw_req_t *self, const char *name);

//  Append body bytes. Past `limit` bytes the body is dropped and the
//  request marked too large; returns -1 then, else 0.
int gw_req_append_body(gw_req_t *self, const char *data, size_t len,
                       size_t limit);
//  Mark the request too large (e.g. from its Content-Length).
void gw_req_set_too_large(gw_req_t *self);
bool gw_req_too_large(gw_req_t *self);
size_t gw_req_body_len(gw_req_t *self);

//  Parse the body: a JSON object, or application/x-www-form-urlencoded
//  fields. Returns 0, or -1 after setting a 400 response.
int gw_req_parse_body(gw_req_t *self);
//  The client's address (IPv4 or IPv6 text; "" when unknown), set by
//  gw_http. Borrowed.
void gw_req_set_peer(gw_req_t *self, const char *peer);
const char *gw_req_peer(gw_req_t *self);
//  The JSON body object, or NULL when there is none. Borrowed.
json_t *gw_req_json(gw_req_t *self);
//  The form body's fields ({name: string}, the first of each), or NULL
//  when the body is not a form. Borrowed.
json_t *gw_req_form(gw_req_t *self);
//  A field by name from the JSON body, the form body, then the query
//  (Wawp accepts all three). Non-string JSON values are returned as they
//  are; form and query values as JSON strings. NULL when absent. Borrowed.
json_t *gw_req_input(gw_req_t *self, const char *name);
//  As gw_req_input, only string values; NULL otherwise. Borrowed.
const char *gw_req_input_str(gw_req_t *self, const char *name);

//  Authentication result, set by gw_http: true with the admin key.
void gw_req_set_admin(gw_req_t *self, bool admin);
bool gw_req_admin(gw_req_t *self);
//  The credential presented on a Wawp route (access-token header,
//  access_token field, X-Api-Key header or x-api-key query), or NULL.
const char *gw_req_credential(gw_req_t *self);

//  Milliseconds left before the request's deadline (at least 1).
int gw_req_time_left(gw_req_t *self);
//  Send *msg_p to `dest` through the link and wait for the reply, at most
//  `cap_ms` (0 = until the request deadline). Consumes the message.
//  Caller owns return value (never NULL).
cm_msg_t *gw_req_call(gw_req_t *self, const char *dest, cm_msg_t **msg_p,
                      int cap_ms);

//  Set the response: status and JSON body (taken; NULL sends `null`).
void gw_req_reply(gw_req_t *self, int status, json_t **body_p);
//  Set a non-JSON response: status, Content-Type and len bytes (copied).
void gw_req_reply_bytes(gw_req_t *self, int status, const char *content_type,
                        const void *data, size_t len);
//  Content-Type of a gw_req_reply_bytes response, or NULL for JSON.
//  Borrowed.
const char *gw_req_content_type(gw_req_t *self);
//  Set an error response in the family's shape. `code` is the Wawp code
//  (NULL: derived from the status).
void gw_req_fail(gw_req_t *self, int status, const char *code, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));
//  400 for invalid input: `message` names the field.
void gw_req_fail_invalid(gw_req_t *self, const char *message);
//  422 for a session whose status the call cannot use. WAHA's shape is
//  {error, session, status, expected: [...]} (clients read status and
//  expected); Wawp's is its usual {status, message, error:
//  "session_not_ready"}. `expected` is a NULL-terminated list.
void gw_req_fail_session_status(gw_req_t *self, const char *session,
                                const char *status,
                                const char *const *expected);
//  401 in WAHA's exact shape, or Wawp's invalid_access_token.
void gw_req_fail_unauthorized(gw_req_t *self);
//  Error response from a failed bus reply (504, 503, 5xx...).
void gw_req_fail_bus(gw_req_t *self, cm_msg_t *reply, const char *what);
//  Allowed methods for a 405 (copied), or NULL.
void gw_req_set_allow(gw_req_t *self, const char *allow);
const char *gw_req_allow(gw_req_t *self);

//  Microseconds since the request was made (its head came).
int64_t gw_req_age_us(gw_req_t *self);

//  An extra response header (copied; a name set twice keeps the last).
void gw_req_add_response_header(gw_req_t *self, const char *name,
                                const char *value);
//  The extra response headers (name -> string), or NULL. Borrowed.
json_t *gw_req_response_headers(gw_req_t *self);

//  Protocol upgrade (WebSocket). A handler that accepts one sets the
//  status to 101 through gw_req_set_upgrade (and the headers the 101
//  needs through gw_req_add_response_header); once the 101 is written
//  gw_http calls gw_req_run_upgrade, which hands the connection's socket
//  `fd`, bytes already read past the request (`extra`) and `handle` to
//  fn. fn owns `arg` from then on and must end with
//  gw_http_upgrade_close(handle) (it must not close fd). When the upgrade
//  never happens gw_req_destroy frees arg with free_fn.
typedef void(gw_req_upgrade_fn)(void *arg, int fd, const char *extra,
                                size_t extra_len, void *handle);
void gw_req_set_upgrade(gw_req_t *self, gw_req_upgrade_fn *fn, void *arg,
                        void (*free_fn)(void **arg));
bool gw_req_upgrading(gw_req_t *self);
void gw_req_run_upgrade(gw_req_t *self, int fd, const char *extra,
                        size_t extra_len, void *handle);

//  Response status (0 until set) and serialized body. Borrowed.
int gw_req_status(gw_req_t *self);
const char *gw_req_response(gw_req_t *self);
//  Take the serialized body (malloc'd). Caller owns return value.
char *gw_req_take_response(gw_req_t *self, size_t *len_p);

//  HTTP reason phrase for `status`.
const char *gw_req_reason_phrase(int status);

void gw_req_test(bool verbose);

#endif
