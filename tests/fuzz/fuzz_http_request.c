/*  fuzz_http_request - libFuzzer target for the gateway's request parsing

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    libmicrohttpd reads the HTTP framing; everything after it is ours:
    routing the path (with its parameters), the body (JSON or Wawp's
    urlencoded form, under a size limit), the inputs handlers read from
    body, form and query, chat ids, session names, and webhook
    configuration. This target drives all of them with one input:
      byte 0: method (bits 0-1), content type (bits 2-3), body limit
              (bits 4-5: 64 B, 1 KiB, 64 KiB, 1 MiB);
      then the path up to the first newline, then a query string up to
      the next newline ("k=v&k2=v2", decoded as libmicrohttpd would hand
      it over), then the body.
    Every outcome must be a response status from 200 to 599 or a parsed
    body; crashes, leaks and sanitizer reports are failures.
*/
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_classes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

//  Next line of the input (NUL-terminated copy), advancing *off.
static char *
s_line(const uint8_t *data, size_t size, size_t *off)
{
    size_t start = *off;
    size_t end = start;
    while (end < size && data[end] != '\n') {
        end++;
    }
    *off = end < size ? end + 1 : end;
    char *line = malloc(end - start + 1);
    memcpy(line, data + start, end - start);
    line[end - start] = 0;
    return line;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool quiet = false;
    if (!quiet) {
        cm_log_init("fuzz", "error");
        quiet = true;
    }
    if (size < 1) {
        return 0;
    }
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};
    static const char *const ctypes[] = {
        "application/json", "application/x-www-form-urlencoded",
        "text/plain; charset=utf-8", NULL};
    static const size_t limits[] = {64, 1024, 65536, 1048576};
    const char *method = methods[data[0] & 3];
    const char *ctype = ctypes[(data[0] >> 2) & 3];
    size_t limit = limits[(data[0] >> 4) & 3];
    size_t off = 1;
    char *path = s_line(data, size, &off);
    char *query = s_line(data, size, &off);

    //  Routing: a match fills the parameters, a miss may name methods
    json_t *params = json_object();
    char *allow = NULL;
    const gw_route_t *route = gw_api_match(method, path, params, &allow);
    free(allow);

    gw_req_t *req = gw_req_new(method, path);
    if (ctype) {
        gw_req_set_header(req, "Content-Type", ctype);
    }
    //  Query pairs (a value without '=' is an empty value)
    char *save = NULL;
    for (char *kv = strtok_r(query, "&", &save); kv;
         kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        if (eq) {
            *eq++ = 0;
        }
        gw_req_set_query(req, kv, eq ? eq : "");
    }
    //  The body in a few chunks, as it arrives
    size_t left = size - off;
    size_t chunk = left / 3 + 1;
    int rc = 0;
    for (size_t at = 0; at < left && rc == 0; at += chunk) {
        size_t n = left - at < chunk ? left - at : chunk;
        rc = gw_req_append_body(req, (const char *)data + off + at, n, limit);
    }
    if (rc == 0 && gw_req_parse_body(req) == 0) {
        const char *names[] = {"session", "chatId", "text", "instance_id",
                               "access_token", "phoneNumber", "reply_to",
                               "messageIds", "config", NULL};
        for (int i = 0; names[i]; i++) {
            (void)gw_req_input(req, names[i]);
            const char *s = gw_req_input_str(req, names[i]);
            if (s && strcmp(names[i], "chatId") == 0) {
                free(gw_messages_chat_id(s));
            }
            if (s && strcmp(names[i], "session") == 0) {
                (void)gw_sessions_name_valid(s);
            }
        }
        //  Webhook configuration as POST /api/sessions would check it
        json_t *config = gw_req_input(req, "config");
        if (json_is_object(config)) {
            char *err = NULL;
            (void)cm_webhook_validate_config(config, &err);
            free(err);
        }
        json_t *hooks = gw_req_json(req);
        if (json_is_array(hooks)) {
            char *err = NULL;
            (void)cm_webhook_validate_list(hooks, "webhooks", &err);
            free(err);
        }
        int64_t v = 0;
        (void)gw_req_query_int(req, "limit", 1, 1000, 100, &v, NULL);
    }
    int status = gw_req_status(req);
    if (status != 0 && (status < 200 || status > 599)) {
        abort();
    }
    (void)route;
    gw_req_destroy(&req);
    json_decref(params);
    free(path);
    free(query);
    return 0;
}
