/*  gw_sessions - the session lifecycle on WAHA (/api) and Wawp (/v2)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Every handler turns a request into store and worker messages through
    the request's gw_link (see proto/PROTOCOL.md):
      create  - session.create (+ worker.nudge when started)
      start   - session.update desired=running, worker.nudge
      stop    - session.update desired=stopped, then session.stop to the
                worker holding the session (bounded wait)
      restart - stop, then start
      update  - session.update config; stop/start around it if running
      logout  - session.logout to the holding worker, device.clear, and a
                restart when it was running
      delete  - logout + stop + device.clear + session.delete (idempotent)
    Session replies are WAHA SessionInfo objects (store fields such as the
    access-token hash never leave the gateway); on /v2 they add `qr`, the
    holder's current QR string (session.qr) while SCAN_QR_CODE, else null.
*/
#ifndef GW_SESSIONS_H_INCLUDED
#define GW_SESSIONS_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "gw_req.h"

//  How long Wawp's session info waits for the worker's QR.
#define GW_SESSIONS_QR_TIMEOUT_MS 2000

//  Longest session name; names match [A-Za-z0-9_-]{1,GW_SESSION_NAME_MAX}.
#define GW_SESSION_NAME_MAX 64

//  Session config limits (400 naming the field past them): the whole
//  config as compact JSON, metadata keys (count, key and value bytes),
//  proxy strings, client strings, and each engine object (noweb, gows,
//  webjs) as JSON. Unknown top-level keys are refused.
#define GW_SESSIONS_CONFIG_MAX 262144
#define GW_SESSIONS_METADATA_KEYS_MAX 64
#define GW_SESSIONS_METADATA_KEY_MAX 128
#define GW_SESSIONS_METADATA_VALUE_MAX 4096
#define GW_SESSIONS_PROXY_MAX 512
#define GW_SESSIONS_CLIENT_MAX 128
//  Longest automatic reply to a rejected call (config.calls.message).
#define GW_SESSIONS_CALL_REPLY_MAX 4096
#define GW_SESSIONS_ENGINE_MAX 8192

//  True if `name` is a valid session name.
bool gw_sessions_name_valid(const char *name);

//  Check a WAHA SessionConfig value (object or null). Returns 0, or -1 and
//  sets *err_p to a message naming the field (caller owns it).
int gw_sessions_config_check(json_t *config, char **err_p);

//  A session's config as WAHA shows it (a copy): keys set to null (unset
//  optionals) left out at the top level and in proxy, client and each
//  webhook; noweb.markOnline (true) and noweb.store.enabled/fullSync
//  (false) filled in when missing, as WAHA's schema requires them.
//  Caller owns return value.
json_t *gw_sessions_waha_config(json_t *config);

//  The WAHA SessionInfo for a store session object. Caller owns return
//  value.
json_t *gw_sessions_info(json_t *session);

//  WAHA /api/sessions...
void gw_sessions_list(gw_req_t *req);
void gw_sessions_create(gw_req_t *req);
void gw_sessions_get(gw_req_t *req);
void gw_sessions_update(gw_req_t *req);
void gw_sessions_delete(gw_req_t *req);
void gw_sessions_me(gw_req_t *req);
void gw_sessions_start(gw_req_t *req);
void gw_sessions_stop(gw_req_t *req);
void gw_sessions_restart(gw_req_t *req);
void gw_sessions_logout(gw_req_t *req);
//  Deprecated POST /api/sessions/{start,stop,logout} with {name}
void gw_sessions_old_start(gw_req_t *req);
void gw_sessions_old_stop(gw_req_t *req);
void gw_sessions_old_logout(gw_req_t *req);

//  Wawp /v2/session/...
void gw_sessions_wawp_create(gw_req_t *req);
void gw_sessions_wawp_info(gw_req_t *req);
void gw_sessions_wawp_start(gw_req_t *req);
void gw_sessions_wawp_stop(gw_req_t *req);
void gw_sessions_wawp_restart(gw_req_t *req);
void gw_sessions_wawp_logout(gw_req_t *req);
void gw_sessions_wawp_delete(gw_req_t *req);
void gw_sessions_wawp_me(gw_req_t *req);

//  For other Wawp routes: the session named by instance_id once the
//  credential is checked (caller owns it), or NULL after a response.
char *gw_sessions_wawp_instance(gw_req_t *req);

//  The session a capability route names (caller owns), or NULL after a
//  response: Wawp's instance (its credential checked), else the path's
//  {session} (400 unless valid), else WAHA's `session` input (query or
//  body; "default" when absent).
char *gw_sessions_name_of(gw_req_t *req);

//  The session of a WAHA /api/{session}/… route or of its Wawp /v2 form
//  (same handler): the {session} path parameter (400 unless valid), or
//  for a Wawp route instance_id's session, its credential checked and
//  then kept as the request's {session}. Borrowed (the request's), or
//  NULL after a response.
const char *gw_sessions_path_name(gw_req_t *req);

void gw_sessions_test(bool verbose);

#endif
