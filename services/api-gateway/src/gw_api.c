/*  gw_api - the route table, the router and the OpenAPI document

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

#include <pthread.h>

#define S_SESSIONS "🖥️ Sessions"
#define S_WAWP "Wawp: Session"
#define S_SERVER "🔍 Observability"
#define S_INSTANCE_Q                                                           \
    "instance_id|string|Instance id (also accepted in a JSON or form "         \
    "body)"

//  Rows of a capability module (gw_caps.h).
#define S_CAP_ROUTES(name, NAME) GW_##NAME##_ROUTES

static const gw_route_t s_routes[] = {
    //  Service routes
    {"GET", "/ping", gw_server_ping, GW_AUTH_ADMIN, 200, S_SERVER, "ping",
     "Ping the server", NULL, "Ping", NULL, false},
    {"GET", "/health", gw_server_health, GW_AUTH_ADMIN, 200, S_SERVER, "health",
     "Check the store and the session-workers", NULL, "Health", NULL, false},
    {"GET", "/api/server/version", gw_server_version, GW_AUTH_ADMIN, 200,
     S_SERVER, "serverVersion", "Get the server version", NULL, "ServerVersion",
     NULL, false},
    {"GET", "/api/openapi.json", gw_server_openapi, GW_AUTH_NONE, 200, S_SERVER,
     "openapi", "This OpenAPI document", NULL, NULL, NULL, false},

    //  WAHA sessions
    {"GET", "/api/sessions", gw_sessions_list, GW_AUTH_ADMIN, 200, S_SESSIONS,
     "sessionsList", "List all sessions", NULL, "SessionList",
     "all|boolean|Include STOPPED sessions", false},
    {"POST", "/api/sessions", gw_sessions_create, GW_AUTH_ADMIN, 201,
     S_SESSIONS, "sessionsCreate",
     "Create a session (and start it unless start is false)",
     "SessionCreateRequest", "SessionInfo", NULL, false},
    {"POST", "/api/sessions/start", gw_sessions_old_start, GW_AUTH_ADMIN, 201,
     S_SESSIONS, "sessionsUpsertAndStart", "Upsert and start a session",
     "SessionStartDeprecatedRequest", "SessionInfo", NULL, true},
    {"POST", "/api/sessions/stop", gw_sessions_old_stop, GW_AUTH_ADMIN, 201,
     S_SESSIONS, "sessionsStopDeprecated",
     "Stop a session (and delete it when logout is true)",
     "SessionStopDeprecatedRequest", "Empty", NULL, true},
    {"POST", "/api/sessions/logout", gw_sessions_old_logout, GW_AUTH_ADMIN, 201,
     S_SESSIONS, "sessionsLogoutDeprecated",
     "Stop, log out and delete a session", "SessionLogoutDeprecatedRequest",
     "Empty", NULL, true},
    {"GET", "/api/sessions/{session}", gw_sessions_get, GW_AUTH_ADMIN, 200,
     S_SESSIONS, "sessionsGet", "Get session information", NULL, "SessionInfo",
     NULL, false},
    {"PUT", "/api/sessions/{session}", gw_sessions_update, GW_AUTH_ADMIN, 200,
     S_SESSIONS, "sessionsUpdate",
     "Update a session's config (restarts it if running)",
     "SessionUpdateRequest", "SessionInfo", NULL, false},
    {"DELETE", "/api/sessions/{session}", gw_sessions_delete, GW_AUTH_ADMIN,
     200, S_SESSIONS, "sessionsDelete",
     "Stop, log out and delete a session (idempotent)", NULL, "Empty", NULL,
     false},
    {"GET", "/api/sessions/{session}/me", gw_sessions_me, GW_AUTH_ADMIN, 200,
     S_SESSIONS, "sessionsGetMe", "The authenticated WhatsApp account, or null",
     NULL, "MeInfoOrNull", NULL, false},
    {"POST", "/api/sessions/{session}/start", gw_sessions_start, GW_AUTH_ADMIN,
     201, S_SESSIONS, "sessionsStart", "Start a session", NULL, "SessionInfo",
     NULL, false},
    {"POST", "/api/sessions/{session}/stop", gw_sessions_stop, GW_AUTH_ADMIN,
     201, S_SESSIONS, "sessionsStop", "Stop a session (idempotent)", NULL,
     "SessionInfo", NULL, false},
    {"POST", "/api/sessions/{session}/restart", gw_sessions_restart,
     GW_AUTH_ADMIN, 201, S_SESSIONS, "sessionsRestart", "Restart a session",
     NULL, "SessionInfo", NULL, false},
    {"POST", "/api/sessions/{session}/logout", gw_sessions_logout,
     GW_AUTH_ADMIN, 201, S_SESSIONS, "sessionsLogout",
     "Log out; restart the session if it was running", NULL, "SessionInfo",
     NULL, false},

    //  Wawp /v2/session
    {"POST", "/v2/session/create", gw_sessions_wawp_create, GW_AUTH_ADMIN, 201,
     S_WAWP, "wawpSessionCreate",
     "Create an instance; returns its instance_id and access token (shown "
     "once)",
     "WawpCreateRequest", "WawpCreateResponse",
     "access_token|string|Admin API key (or X-Api-Key header);"
     "name|string|Session name (generated when missing);"
     "start|boolean|Start at once (default true)",
     false},
    {"GET", "/v2/session/info", gw_sessions_wawp_info, GW_AUTH_INSTANCE, 200,
     S_WAWP, "wawpSessionInfoGet", "Instance information", NULL,
     "WawpSessionInfo", S_INSTANCE_Q, false},
    {"POST", "/v2/session/info", gw_sessions_wawp_info, GW_AUTH_INSTANCE, 200,
     S_WAWP, "wawpSessionInfo", "Instance information", "WawpInstanceRequest",
     "WawpSessionInfo", S_INSTANCE_Q, false},
    {"GET", "/v2/session/start", gw_sessions_wawp_start, GW_AUTH_INSTANCE, 200,
     S_WAWP, "wawpSessionStartGet", "Start the instance", NULL,
     "WawpSessionInfo", S_INSTANCE_Q, false},
    {"POST", "/v2/session/start", gw_sessions_wawp_start, GW_AUTH_INSTANCE, 200,
     S_WAWP, "wawpSessionStart", "Start the instance", "WawpInstanceRequest",
     "WawpSessionInfo", S_INSTANCE_Q, false},
    {"GET", "/v2/session/stop", gw_sessions_wawp_stop, GW_AUTH_INSTANCE, 200,
     S_WAWP, "wawpSessionStopGet", "Stop the instance", NULL, "WawpSessionInfo",
     S_INSTANCE_Q, false},
    {"POST", "/v2/session/stop", gw_sessions_wawp_stop, GW_AUTH_INSTANCE, 200,
     S_WAWP, "wawpSessionStop", "Stop the instance", "WawpInstanceRequest",
     "WawpSessionInfo", S_INSTANCE_Q, false},
    {"GET", "/v2/session/restart", gw_sessions_wawp_restart, GW_AUTH_INSTANCE,
     200, S_WAWP, "wawpSessionRestartGet", "Restart the instance", NULL,
     "WawpSessionInfo", S_INSTANCE_Q, false},
    {"POST", "/v2/session/restart", gw_sessions_wawp_restart, GW_AUTH_INSTANCE,
     200, S_WAWP, "wawpSessionRestart", "Restart the instance",
     "WawpInstanceRequest", "WawpSessionInfo", S_INSTANCE_Q, false},
    {"GET", "/v2/session/logout", gw_sessions_wawp_logout, GW_AUTH_INSTANCE,
     200, S_WAWP, "wawpSessionLogoutGet",
     "Log out (the instance waits for a new QR scan)", NULL, "WawpSessionInfo",
     S_INSTANCE_Q, false},
    {"POST", "/v2/session/logout", gw_sessions_wawp_logout, GW_AUTH_INSTANCE,
     200, S_WAWP, "wawpSessionLogout",
     "Log out (the instance waits for a new QR scan)", "WawpInstanceRequest",
     "WawpSessionInfo", S_INSTANCE_Q, false},
    {"DELETE", "/v2/session/delete", gw_sessions_wawp_delete, GW_AUTH_INSTANCE,
     200, S_WAWP, "wawpSessionDelete", "Stop, log out and delete the instance",
     NULL, "Empty", S_INSTANCE_Q, false},
    {"POST", "/v2/session/delete", gw_sessions_wawp_delete, GW_AUTH_INSTANCE,
     200, S_WAWP, "wawpSessionDeletePost",
     "Stop, log out and delete the instance", "WawpInstanceRequest", "Empty",
     S_INSTANCE_Q, false},
    {"GET", "/v2/session/me", gw_sessions_wawp_me, GW_AUTH_INSTANCE, 200,
     S_WAWP, "wawpSessionMe", "The authenticated WhatsApp account, or null",
     NULL, "MeInfoOrNull", S_INSTANCE_Q, false},
    {"POST", "/v2/session/me", gw_sessions_wawp_me, GW_AUTH_INSTANCE, 200,
     S_WAWP, "wawpSessionMePost", "The authenticated WhatsApp account, or null",
     "WawpInstanceRequest", "MeInfoOrNull", S_INSTANCE_Q, false},

    //  The capability modules' routes (gw_caps.h)
    GW_CAPS(S_CAP_ROUTES)};

//  GET routes that change state (Wawp's GET forms, WAHA's deprecated GET
//  sendText): GATEWAY_SIDE_EFFECT_GETS=false turns them off.
static const char *const s_side_effect_gets[] = {
    "wawpSessionStartGet",  "wawpSessionStopGet", "wawpSessionRestartGet",
    "wawpSessionLogoutGet", "wawpSendTextGet",    "wawpSendSeenGet",
    "sendTextGet",          "wawpSendImageGet",   "wawpSendPdfGet",
    "wawpSendVoiceGet",     "wawpSendVideoGet",   NULL};

bool
gw_api_side_effect_get(const gw_route_t *route)
{
    for (size_t i = 0; route && s_side_effect_gets[i]; i++) {
        if (streq(route->op_id, s_side_effect_gets[i])) {
            return true;
        }
    }
    return false;
}

const gw_route_t *
gw_api_routes(size_t *count_p)
{
    *count_p = sizeof s_routes / sizeof s_routes[0];
    return s_routes;
}

//  Split a path into at most GW_API_MAX_SEGMENTS segments (pointers into
//  `buf`, a copy of the path). Returns the count or -1 when too many.
static int
s_split(char *buf, char **segs)
{
    int n = 0;
    char *save = NULL;
    for (char *s = strtok_r(buf, "/", &save); s;
         s = strtok_r(NULL, "/", &save)) {
        if (n == GW_API_MAX_SEGMENTS) {
            return -1;
        }
        segs[n++] = s;
    }
    return n;
}

//  How specific a pattern is: one bit per segment, set for a literal,
//  the first segment the most significant. Of the routes matching a
//  path the most specific one wins, so a literal segment ("count",
//  "join-info", "start") never falls into a "{param}" beside it,
//  whatever the order of the table.
static unsigned
s_specificity(const char *pattern)
{
    unsigned score = 0;
    for (const char *p = pattern; *p; p++) {
        if (*p == '/' && p[1]) {
            score = (score << 1) | (p[1] != '{');
        }
    }
    return score;
}

//  Longest route pattern the table holds.
#define S_PATTERN_MAX 256

#define S_ROUTE_COUNT (sizeof s_routes / sizeof s_routes[0])

//  A route pattern split once: its segments, their count and its
//  specificity. Matching a request then compares segments only (it
//  split every pattern of the table twice per request before).
typedef struct {
    char buf[S_PATTERN_MAX];         //  the pattern, '/' made NUL
    char *segs[GW_API_MAX_SEGMENTS]; //  segments, pointers into buf
    int n;                           //  segment count, -1: never matches
    unsigned score;                  //  s_specificity
} s_pattern_t;

static s_pattern_t s_patterns[S_ROUTE_COUNT];
static pthread_once_t s_patterns_once = PTHREAD_ONCE_INIT;

static void
s_patterns_init(void)
{
    for (size_t i = 0; i < S_ROUTE_COUNT; i++) {
        s_pattern_t *p = &s_patterns[i];
        size_t len = strlen(s_routes[i].path);
        assert(len < sizeof p->buf);
        memcpy(p->buf, s_routes[i].path, len + 1);
        p->n = s_split(p->buf, p->segs);
        p->score = s_specificity(s_routes[i].path);
    }
}

//  True if route i's pattern matches the path segments; fills params
//  when given.
static bool
s_matches(size_t i, char **segs, int n, json_t *params)
{
    const s_pattern_t *p = &s_patterns[i];
    if (p->n != n) {
        return false;
    }
    for (int k = 0; k < n; k++) {
        if (p->segs[k][0] != '{' && !streq(p->segs[k], segs[k])) {
            return false;
        }
    }
    for (int k = 0; params && k < n; k++) {
        if (p->segs[k][0] == '{') {
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)strlen(p->segs[k]) - 2,
                     p->segs[k] + 1);
            json_t *v = json_string(segs[k]);
            if (v) {
                json_object_set_new(params, name, v);
            }
        }
    }
    return true;
}

//  The specificity of the most specific route matching the path
//  segments (any method); false when none matches.
static bool
s_best(char **segs, int n, unsigned *best_p)
{
    pthread_once(&s_patterns_once, s_patterns_init);
    bool any = false;
    for (size_t i = 0; n >= 0 && i < S_ROUTE_COUNT; i++) {
        if (s_matches(i, segs, n, NULL)) {
            unsigned score = s_patterns[i].score;
            if (!any || score > *best_p) {
                *best_p = score;
            }
            any = true;
        }
    }
    return any;
}

const gw_route_t *
gw_api_match(const char *method, const char *path, json_t *params,
             char **allow_p)
{
    assert(method && path && allow_p);
    *allow_p = NULL;
    const char *want = streq(method, "HEAD") ? "GET" : method;
    char *buf = cm_strdup(path);
    char *segs[GW_API_MAX_SEGMENTS];
    int n = s_split(buf, segs);
    const gw_route_t *found = NULL;
    char allow[128] = "";
    unsigned best = 0;
    bool any = s_best(segs, n, &best);
    for (size_t i = 0; any && i < S_ROUTE_COUNT && !found; i++) {
        //  Only the most specific pattern of the path counts: a method
        //  it lacks is a 405, not a less specific route's param.
        if (s_patterns[i].score != best || !s_matches(i, segs, n, NULL)) {
            continue;
        }
        if (streq(s_routes[i].method, want)) {
            found = &s_routes[i];
            s_matches(i, segs, n, params);
        } else if (!strstr(allow, s_routes[i].method)) {
            size_t len = strlen(allow);
            snprintf(allow + len, sizeof allow - len, "%s%s", len ? ", " : "",
                     s_routes[i].method);
        }
    }
    free(buf);
    if (!found && *allow) {
        *allow_p = cm_strdup(allow);
    }
    return found;
}

char *
gw_api_allow(const char *path, const char *skip)
{
    assert(path && skip);
    char *buf = cm_strdup(path);
    char *segs[GW_API_MAX_SEGMENTS];
    int n = s_split(buf, segs);
    char allow[128] = "";
    unsigned best = 0;
    bool any = s_best(segs, n, &best);
    for (size_t i = 0; any && i < S_ROUTE_COUNT; i++) {
        if (!streq(s_routes[i].method, skip) && s_patterns[i].score == best &&
            !strstr(allow, s_routes[i].method) && s_matches(i, segs, n, NULL)) {
            size_t len = strlen(allow);
            snprintf(allow + len, sizeof allow - len, "%s%s", len ? ", " : "",
                     s_routes[i].method);
        }
    }
    free(buf);
    return *allow ? cm_strdup(allow) : NULL;
}

//  --------------------------------------------------------------------
//  OpenAPI

//  Schemas that are not generated (kept short; WAHA names where WAHA has
//  one).
static const char *s_schemas =
    "{"
    "\"SessionStatus\":{\"type\":\"string\",\"enum\":[\"STOPPED\","
    "\"STARTING\",\"SCAN_QR_CODE\",\"WORKING\",\"FAILED\","
    "\"PASSKEY_REQUIRED\",\"PASSKEY_CONFIRMATION_REQUIRED\"]},"
    "\"ProxyConfig\":{\"type\":\"object\",\"required\":[\"server\"],"
    "\"properties\":{\"server\":{\"type\":\"string\",\"example\":"
    "\"localhost:3128\"},\"username\":{\"type\":\"string\",\"nullable\":"
    "true},\"password\":{\"type\":\"string\",\"nullable\":true}}},"
    "\"RetriesConfig\":{\"type\":\"object\",\"properties\":{\"policy\":"
    "{\"type\":\"string\",\"enum\":[\"constant\",\"linear\","
    "\"exponential\"]},\"delaySeconds\":{\"type\":\"number\",\"minimum\":0,"
    "\"default\":2},\"attempts\":{\"type\":\"integer\",\"minimum\":0,"
    "\"default\":15}}},"
    "\"CustomHeader\":{\"type\":\"object\",\"required\":[\"name\","
    "\"value\"],\"properties\":{\"name\":{\"type\":\"string\"},\"value\":"
    "{\"type\":\"string\"}}},"
    "\"HmacConfiguration\":{\"type\":\"object\",\"properties\":{\"key\":"
    "{\"type\":\"string\",\"nullable\":true}}},"
    "\"WebhookConfig\":{\"type\":\"object\",\"required\":[\"url\","
    "\"events\"],\"properties\":{\"url\":{\"type\":\"string\",\"format\":"
    "\"uri\",\"maxLength\":2048},\"events\":{\"type\":\"array\",\"items\":"
    "{\"$ref\":\"#/components/schemas/WebhookEvent\"}},\"hmac\":{\"allOf\":"
    "[{\"$ref\":\"#/components/schemas/HmacConfiguration\"}],\"nullable\":"
    "true},\"retries\":{\"allOf\":[{\"$ref\":\"#/components/schemas/"
    "RetriesConfig\"}],\"nullable\":true},\"customHeaders\":{\"type\":"
    "\"array\",\"nullable\":true,\"items\":{\"$ref\":\"#/components/"
    "schemas/CustomHeader\"}}}},"
    "\"SessionConfig\":{\"type\":\"object\",\"properties\":{\"metadata\":"
    "{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}},"
    "\"proxy\":{\"allOf\":[{\"$ref\":\"#/components/schemas/ProxyConfig\"}],"
    "\"nullable\":true},\"debug\":{\"type\":\"boolean\",\"default\":false},"
    "\"ignore\":{\"type\":\"object\",\"properties\":{\"status\":{\"type\":"
    "\"boolean\"},\"groups\":{\"type\":\"boolean\"},\"channels\":{\"type\":"
    "\"boolean\"},\"broadcast\":{\"type\":\"boolean\"}}},\"client\":"
    "{\"type\":\"object\",\"properties\":{\"deviceName\":{\"type\":"
    "\"string\"},\"browserName\":{\"type\":\"string\"}}},\"webhooks\":"
    "{\"type\":\"array\",\"items\":{\"$ref\":\"#/components/schemas/"
    "WebhookConfig\"}},\"calls\":{\"type\":\"object\",\"description\":"
    "\"Reject every incoming call, optionally replying with a text\","
    "\"properties\":{\"reject\":{\"type\":\"boolean\"},\"message\":{"
    "\"type\":\"string\",\"nullable\":true,\"maxLength\":4096}}}}},"
    "\"SessionName\":{\"type\":\"string\",\"pattern\":"
    "\"^[A-Za-z0-9_-]{1,64}$\",\"example\":\"default\"},"
    "\"SessionCreateRequest\":{\"type\":\"object\",\"properties\":{\"name\":"
    "{\"$ref\":\"#/components/schemas/SessionName\"},\"start\":{\"type\":"
    "\"boolean\",\"default\":true},\"config\":{\"$ref\":\"#/components/"
    "schemas/SessionConfig\"}}},"
    "\"SessionUpdateRequest\":{\"type\":\"object\",\"properties\":"
    "{\"config\":{\"$ref\":\"#/components/schemas/SessionConfig\"}}},"
    "\"SessionStartDeprecatedRequest\":{\"type\":\"object\",\"properties\":"
    "{\"name\":{\"$ref\":\"#/components/schemas/SessionName\"},\"config\":"
    "{\"$ref\":\"#/components/schemas/SessionConfig\"}}},"
    "\"SessionStopDeprecatedRequest\":{\"type\":\"object\",\"properties\":"
    "{\"name\":{\"$ref\":\"#/components/schemas/SessionName\"},\"logout\":"
    "{\"type\":\"boolean\",\"default\":false}}},"
    "\"SessionLogoutDeprecatedRequest\":{\"type\":\"object\",\"properties\":"
    "{\"name\":{\"$ref\":\"#/components/schemas/SessionName\"}}},"
    "\"MeInfo\":{\"type\":\"object\",\"required\":[\"id\"],\"properties\":"
    "{\"id\":{\"type\":\"string\",\"example\":\"11111111111@c.us\"},\"lid\":"
    "{\"type\":\"string\",\"example\":\"123@lid\"},\"jid\":{\"type\":"
    "\"string\"},\"pushName\":{\"type\":\"string\"}}},"
    "\"MeInfoOrNull\":{\"allOf\":[{\"$ref\":\"#/components/schemas/"
    "MeInfo\"}],\"nullable\":true},"
    "\"StatusHistoryItem\":{\"type\":\"object\",\"properties\":{\"status\":"
    "{\"$ref\":\"#/components/schemas/SessionStatus\"},\"timestamp\":"
    "{\"type\":\"integer\",\"description\":\"ms since the epoch\"}}},"
    "\"SessionInfo\":{\"type\":\"object\",\"required\":[\"name\","
    "\"status\",\"config\"],\"properties\":{\"name\":{\"type\":\"string\"},"
    "\"status\":{\"$ref\":\"#/components/schemas/SessionStatus\"},"
    "\"config\":{\"$ref\":\"#/components/schemas/SessionConfig\"},\"me\":"
    "{\"$ref\":\"#/components/schemas/MeInfoOrNull\"},\"assignedWorker\":"
    "{\"type\":\"string\",\"description\":\"The session-worker holding "
    "the session; absent while none does\"},\"presence\":{\"type\":"
    "\"object\"},\"instance_id\":{\"type\":"
    "\"string\"},\"reason\":{\"type\":\"string\",\"nullable\":true,"
    "\"description\":\"Why the session is FAILED or STOPPED\"},"
    "\"statuses\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/components/"
    "schemas/StatusHistoryItem\"}},\"timestamps\":{\"type\":\"object\","
    "\"properties\":{\"activity\":{\"type\":\"integer\",\"nullable\":"
    "true}}}}},"
    "\"SessionList\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/components/"
    "schemas/SessionInfo\"}},"
    "\"Empty\":{\"type\":\"object\"},"
    "\"Ping\":{\"type\":\"object\",\"properties\":{\"message\":{\"type\":"
    "\"string\",\"example\":\"pong\"}}},"
    "\"Health\":{\"type\":\"object\",\"properties\":{\"status\":{\"type\":"
    "\"string\",\"enum\":[\"ok\",\"error\"]},\"store\":{\"type\":"
    "\"object\"},\"workers\":{\"type\":\"integer\"},\"info\":{\"$ref\":"
    "\"#/components/schemas/HealthIndicators\"},\"error\":{\"$ref\":"
    "\"#/components/schemas/HealthIndicators\"},\"details\":{\"$ref\":"
    "\"#/components/schemas/HealthIndicators\"}}},"
    "\"HealthIndicators\":{\"type\":\"object\",\"description\":\"store "
    "and workers: {status: up|down, count?, message?}\","
    "\"additionalProperties\":{\"type\":\"object\",\"properties\":"
    "{\"status\":{\"type\":\"string\",\"enum\":[\"up\",\"down\"]}}}},"
    "\"ServerVersion\":{\"type\":\"object\",\"properties\":{\"version\":"
    "{\"type\":\"string\"},\"engine\":{\"type\":\"string\",\"enum\":"
    "[\"WEBJS\",\"WPP\",\"NOWEB\",\"GOWS\"],\"description\":"
    "\"WHATSAPP_DEFAULT_ENGINE (default GOWS)\"},\"tier\":{\"type\":"
    "\"string\",\"example\":\"CORE\"},\"browser\":{\"type\":\"string\","
    "\"example\":\"Wharf/1.0.0\"},\"platform\":{\"type\":\"string\","
    "\"example\":\"linux/x64\"},\"worker\":{\"type\":\"object\","
    "\"properties\":{\"id\":{\"type\":\"string\",\"nullable\":true}}}}},"
    "\"Error\":{\"type\":\"object\",\"properties\":{\"statusCode\":{\"type\":"
    "\"integer\"},\"message\":{\"oneOf\":[{\"type\":\"string\"},{\"type\":"
    "\"array\",\"items\":{\"type\":\"string\"}}]},\"error\":{\"type\":"
    "\"string\"}}},"
    "\"SessionStatusError\":{\"type\":\"object\",\"description\":\"422 "
    "when the session is not in a status the call needs\",\"properties\":"
    "{\"error\":{\"type\":\"string\"},\"session\":{\"type\":\"string\"},"
    "\"status\":{\"$ref\":\"#/components/schemas/SessionStatus\"},"
    "\"expected\":{\"type\":\"array\",\"items\":{\"$ref\":"
    "\"#/components/schemas/SessionStatus\"}}}},"
    "\"WawpError\":{\"type\":\"object\",\"properties\":{\"status\":"
    "{\"type\":\"integer\"},\"message\":{\"type\":\"string\"},\"error\":"
    "{\"type\":\"string\",\"example\":\"invalid_instance\"}}},"
    "\"WawpInstanceRequest\":{\"type\":\"object\",\"properties\":"
    "{\"instance_id\":{\"type\":\"string\"},\"access_token\":{\"type\":"
    "\"string\"}}},"
    "\"WawpCreateRequest\":{\"type\":\"object\",\"properties\":"
    "{\"access_token\":{\"type\":\"string\"},\"name\":{\"$ref\":"
    "\"#/components/schemas/SessionName\"},\"start\":{\"type\":\"boolean\","
    "\"default\":true},\"config\":{\"$ref\":\"#/components/schemas/"
    "SessionConfig\"}}},"
    "\"WawpCreateResponse\":{\"type\":\"object\",\"properties\":"
    "{\"instance_id\":{\"type\":\"string\",\"example\":\"609ACF283B1C\"},"
    "\"session_name\":{\"type\":\"string\"},\"access_token\":{\"type\":"
    "\"string\",\"description\":\"Shown once; only its hash is stored\"},"
    "\"name\":{\"type\":\"string\"},\"status\":{\"$ref\":\"#/components/"
    "schemas/SessionStatus\"},\"config\":{\"$ref\":\"#/components/schemas/"
    "SessionConfig\"}}},"
    "\"WawpSessionInfo\":{\"allOf\":[{\"$ref\":\"#/components/schemas/"
    "SessionInfo\"},{\"type\":\"object\",\"properties\":{\"qr\":{\"type\":"
    "\"string\",\"nullable\":true}}}]}"
    "}";

static json_t *
s_ref(const char *schema)
{
    char *ref = cm_sprintf("#/components/schemas/%s", schema);
    json_t *out = json_pack("{s:s}", "$ref", ref);
    free(ref);
    return out;
}

static json_t *
s_json_content(json_t *schema)
{
    return json_pack("{s:{s:o}}", "application/json", "schema", schema);
}

static json_t *
s_parameters(const gw_route_t *route)
{
    json_t *params = json_array();
    char buf[256];
    snprintf(buf, sizeof buf, "%s", route->path);
    char *save = NULL;
    for (char *s = strtok_r(buf, "/", &save); s;
         s = strtok_r(NULL, "/", &save)) {
        if (s[0] == '{') {
            s[strlen(s) - 1] = 0;
            //  {session} is a session name; other segments are strings
            json_t *schema = streq(s + 1, "session")
                                 ? s_ref("SessionName")
                                 : json_pack("{s:s}", "type", "string");
            json_array_append_new(
                params, json_pack("{s:s, s:s, s:b, s:o}", "name", s + 1, "in",
                                  "path", "required", 1, "schema", schema));
        }
    }
    if (route->query) {
        char *list = cm_strdup(route->query);
        char *save_list = NULL;
        for (char *item = strtok_r(list, ";", &save_list); item;
             item = strtok_r(NULL, ";", &save_list)) {
            char *type = strchr(item, '|');
            assert(type);
            *type++ = 0;
            char *desc = strchr(type, '|');
            assert(desc);
            *desc++ = 0;
            json_array_append_new(
                params, json_pack("{s:s, s:s, s:b, s:s, s:{s:s}}", "name", item,
                                  "in", "query", "required", 0, "description",
                                  desc, "schema", "type", type));
        }
        free(list);
    }
    return params;
}

static json_t *
s_operation(const gw_route_t *route, const gw_config_t *config, json_t *schemas)
{
    bool wawp = strncmp(route->path, "/v2/", 4) == 0;
    //  WAHA_API_KEY_EXCLUDE_PATH (by default ping and health) lifts the
    //  key check: such routes are public in the document too.
    bool open = route->auth == GW_AUTH_NONE ||
                (config ? gw_config_path_excluded(config, route->path)
                        : (streq(route->path, "/ping") ||
                           streq(route->path, "/health")));
    const char *error = wawp ? "WawpError" : "Error";
    json_t *op = json_pack("{s:[s], s:s, s:s, s:o}", "tags", route->tag,
                           "summary", route->summary, "operationId",
                           route->op_id, "parameters", s_parameters(route));
    if (route->deprecated) {
        json_object_set_new(op, "deprecated", json_true());
    }
    if (route->request) {
        json_t *content = s_json_content(s_ref(route->request));
        if (wawp) {
            json_object_set_new(
                content, "application/x-www-form-urlencoded",
                json_pack("{s:o}", "schema", s_ref(route->request)));
        }
        json_object_set_new(
            op, "requestBody",
            json_pack("{s:b, s:o}", "required", 0, "content", content));
    }
    json_t *ok =
        json_pack("{s:s}", "description", gw_req_reason_phrase(route->success));
    json_t *schema = route->response ? s_ref(route->response)
                                     : json_pack("{s:s}", "type", "object");
    //  A response that is not JSON names its media type in its schema
    const char *media = json_string_value(json_object_get(
        json_object_get(schemas, route->response ? route->response : ""),
        "x-media-type"));
    json_object_set_new(ok, "content",
                        media ? json_pack("{s:{s:o}}", media, "schema", schema)
                              : s_json_content(schema));
    json_t *responses = json_object();
    char code[8];
    snprintf(code, sizeof code, "%d", route->success);
    json_object_set_new(responses, code, ok);
    int errors[] = {400, 401, 404, 413, 422, 503, 504, 0};
    for (int i = 0; errors[i]; i++) {
        if (errors[i] == 401 && open) {
            continue;
        }
        if (errors[i] == 422 && !streq(route->op_id, "sessionsCreate") &&
            !streq(route->op_id, "sessionsUpsertAndStart") &&
            !streq(route->op_id, "wawpSessionCreate")) {
            continue;
        }
        snprintf(code, sizeof code, "%d", errors[i]);
        json_object_set_new(responses, code,
                            json_pack("{s:s, s:o}", "description",
                                      gw_req_reason_phrase(errors[i]),
                                      "content", s_json_content(s_ref(error))));
    }
    json_object_set_new(op, "responses", responses);
    json_t *security = NULL;
    if (open) {
        security = json_array();
    } else if (wawp) {
        security = json_pack("[{s:[]}, {s:[]}, {s:[]}]", "access_token",
                             "access_token_header", "api_key");
    } else {
        security = json_pack("[{s:[]}, {s:[]}]", "api_key", "api_key_query");
    }
    json_object_set_new(op, "security", security);
    return op;
}

json_t *
gw_api_openapi(const gw_config_t *config)
{
    json_error_t err;
    json_t *schemas = json_loads(s_schemas, 0, &err);
    //  A static string of ours: a parse failure is a bug.
    assert(schemas);
    json_t *events = json_array();
    for (size_t i = 0; i < cm_webhook_event_count(); i++) {
        json_array_append_new(events, json_string(cm_webhook_event_at(i)));
    }
    json_array_append_new(events, json_string("*"));
    json_object_set_new(
        schemas, "WebhookEvent",
        json_pack("{s:s, s:o}", "type", "string", "enum", events));
    //  Each route module's own schemas
#define S_CAP_SCHEMAS(name, NAME) gw_##name##_schemas,
    json_t *(*const modules[])(void) = {GW_CAPS(S_CAP_SCHEMAS)};
#undef S_CAP_SCHEMAS
    for (size_t i = 0; i < sizeof modules / sizeof modules[0]; i++) {
        json_t *more = modules[i]();
        json_object_update(schemas, more);
        json_decref(more);
    }
    json_t *paths = json_object();
    size_t count = sizeof s_routes / sizeof s_routes[0];
    for (size_t i = 0; i < count; i++) {
        const gw_route_t *r = &s_routes[i];
        if (!gw_config_side_effect_gets(config) && gw_api_side_effect_get(r)) {
            continue; //  not served
        }
        json_t *item = json_object_get(paths, r->path);
        if (!item) {
            item = json_object();
            json_object_set_new(paths, r->path, item);
        }
        char method[16];
        size_t j = 0;
        for (; r->method[j] && j < sizeof method - 1; j++) {
            method[j] = (char)tolower((unsigned char)r->method[j]);
        }
        method[j] = 0;
        json_object_set_new(item, method, s_operation(r, config, schemas));
    }
    json_t *doc = json_pack(
        "{s:s, s:{s:s, s:s, s:s}, s:[{s:s}], s:o, s:{s:o, s:{s:{s:s, s:s, "
        "s:s}, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}}}}",
        "openapi", "3.0.3", "info", "title", "Wharf WhatsApp HTTP API",
        "version", WHARF_VERSION, "description",
        "WAHA-compatible API under /api and Wawp-compatible API under /v2.",
        "servers", "url", "/", "paths", paths, "components", "schemas", schemas,
        "securitySchemes", "api_key", "type", "apiKey", "in", "header", "name",
        "X-Api-Key", "api_key_query", "type", "apiKey", "in", "query", "name",
        "x-api-key", "access_token", "type", "apiKey", "in", "query", "name",
        "access_token", "access_token_header", "type", "apiKey", "in", "header",
        "name", "access-token");
    assert(doc);
    gw_swagger_examples(doc);
    return doc;
}

//  --------------------------------------------------------------------

//  Check every $ref in `node` resolves in `schemas`.
static void
s_check_refs(json_t *node, json_t *schemas)
{
    if (json_is_object(node)) {
        const char *key;
        json_t *value;
        json_object_foreach(node, key, value)
        {
            if (streq(key, "$ref")) {
                const char *ref = json_string_value(value);
                assert(ref && strncmp(ref, "#/components/schemas/", 21) == 0);
                assert(json_object_get(schemas, ref + 21));
            } else {
                s_check_refs(value, schemas);
            }
        }
    } else if (json_is_array(node)) {
        size_t i;
        json_t *value;
        json_array_foreach(node, i, value)
        {
            s_check_refs(value, schemas);
        }
    }
}

void
gw_api_test(bool verbose)
{
    printf(" * gw_api: ");
    json_t *params = json_object();
    char *allow = NULL;
    const gw_route_t *r =
        gw_api_match("GET", "/api/sessions/default", params, &allow);
    assert(r && r->handler == gw_sessions_get);
    assert(streq(json_string_value(json_object_get(params, "session")),
                 "default"));
    json_object_clear(params);

    //  Literal segments win over patterns wherever the table lists them;
    //  trailing slashes are fine.
    r = gw_api_match("POST", "/api/sessions/start/", params, &allow);
    assert(r && r->handler == gw_sessions_old_start);
    r = gw_api_match("POST", "/api/sessions/s1/start", params, &allow);
    assert(r && r->handler == gw_sessions_start);
    assert(streq(json_string_value(json_object_get(params, "session")), "s1"));
    r = gw_api_match("GET", "/api/s1/groups/count", params, &allow);
    assert(r && r->handler == gw_groups_count);
    r = gw_api_match("GET", "/api/s1/groups/120363000000000001@g.us", params,
                     &allow);
    assert(r && r->handler == gw_groups_get);
    //  A literal path lacking the method is a 405, not a {param}'s route.
    r = gw_api_match("DELETE", "/api/s1/groups/count", params, &allow);
    assert(!r && cm_streq(allow, "GET"));
    free(allow);
    allow = NULL;
    r = gw_api_match("HEAD", "/ping", params, &allow);
    assert(r && r->handler == gw_server_ping);

    //  405 with the allowed methods; 404 without.
    r = gw_api_match("PATCH", "/api/sessions/s1", params, &allow);
    assert(!r && allow);
    assert(strstr(allow, "GET") && strstr(allow, "PUT") &&
           strstr(allow, "DELETE"));
    free(allow);
    r = gw_api_match("GET", "/api/nothing/here", params, &allow);
    assert(!r && !allow);
    r = gw_api_match("GET", "/", params, &allow);
    assert(r && r->handler == gw_swagger_index);
    r = gw_api_match("GET", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s", params,
                     &allow);
    assert(!r && !allow);
    json_decref(params);

    //  The OpenAPI document lists every route with its path parameters,
    //  and every reference resolves.
    json_t *doc = gw_api_openapi(NULL);
    json_t *paths = json_object_get(doc, "paths");
    //  /ping and /health are public by default: no key in the document
    const char *open[] = {"/ping", "/health", "/api/openapi.json",
                          "/",     "/-json",  NULL};
    for (size_t i = 0; open[i]; i++) {
        json_t *op = json_object_get(json_object_get(paths, open[i]), "get");
        assert(json_array_size(json_object_get(op, "security")) == 0);
        assert(!json_object_get(json_object_get(op, "responses"), "401"));
    }
    json_t *ver =
        json_object_get(json_object_get(paths, "/api/server/version"), "get");
    assert(json_array_size(json_object_get(ver, "security")) == 2);
    //  Side-effect GETs
    params = json_object();
    r = gw_api_match("GET", "/v2/session/logout", params, &allow);
    assert(gw_api_side_effect_get(r));
    r = gw_api_match("GET", "/v2/session/info", params, &allow);
    assert(r && !gw_api_side_effect_get(r));
    json_decref(params);
    allow = gw_api_allow("/v2/session/logout", "GET");
    assert(cm_streq(allow, "POST"));
    free(allow);
    allow = NULL;
    json_t *schemas =
        json_object_get(json_object_get(doc, "components"), "schemas");
    size_t count = 0;
    const gw_route_t *routes = gw_api_routes(&count);
    zhashx_t *ids = zhashx_new();
    for (size_t i = 0; i < count; i++) {
        char method[16];
        size_t j = 0;
        for (; routes[i].method[j]; j++) {
            method[j] = (char)tolower((unsigned char)routes[i].method[j]);
        }
        method[j] = 0;
        json_t *op =
            json_object_get(json_object_get(paths, routes[i].path), method);
        assert(op);
        assert(zhashx_insert(ids, routes[i].op_id, (void *)"") == 0);
        //  Each route names its response schema (the OpenAPI document
        //  itself is free-form); what it names exists.
        assert(routes[i].response || streq(routes[i].op_id, "openapi"));
        assert(!routes[i].response ||
               json_object_get(schemas, routes[i].response));
        assert(!routes[i].request ||
               json_object_get(schemas, routes[i].request));
        size_t braces = 0;
        for (const char *p = routes[i].path; *p; p++) {
            braces += *p == '{';
        }
        size_t in_path = 0;
        size_t k;
        json_t *p;
        json_array_foreach(json_object_get(op, "parameters"), k, p)
        {
            if (streq(json_string_value(json_object_get(p, "in")), "path")) {
                char *needle = cm_sprintf(
                    "{%s}", json_string_value(json_object_get(p, "name")));
                assert(strstr(routes[i].path, needle));
                free(needle);
                in_path++;
            }
        }
        assert(in_path == braces);
        //  Every route is found by the router at its own path.
        char *allowed = NULL;
        json_t *pp = json_object();
        const gw_route_t *m =
            gw_api_match(routes[i].method, routes[i].path, pp, &allowed);
        assert(m == &routes[i] || (m && streq(m->path, routes[i].path) &&
                                   streq(m->method, routes[i].method)));
        json_decref(pp);
        free(allowed);
    }
    zhashx_destroy(&ids);
    //  Every capability module's routes are in the table (gw_caps.h).
    assert(gw_api_match("POST", "/api/sendText", NULL, &allow));
    assert(gw_api_match("GET", "/api/default/groups", NULL, &allow));
    assert(gw_api_match("GET", "/api/default/auth/qr", NULL, &allow));
    assert(json_object_get(schemas, "MessageTextRequest"));
    s_check_refs(doc, schemas);
    json_t *events =
        json_object_get(json_object_get(schemas, "WebhookEvent"), "enum");
    assert(json_array_size(events) == cm_webhook_event_count() + 1);
    char *text = json_dumps(doc, JSON_COMPACT);
    assert(text && strlen(text) > 1000);
    free(text);
    json_decref(doc);
    printf("OK\n");
}
