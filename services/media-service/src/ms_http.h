/*  ms_http - one libcurl handle for a worker thread's HTTP exchanges

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Every transfer has a size limit on the response and a time limit.
    With a network policy (cm_net) the request is also an untrusted one:
    http and https only (redirects too, at most max_redirects of them),
    no proxy from the environment, and every address curl connects to is
    checked right before the connect (CURLOPT_OPENSOCKETFUNCTION), so DNS
    rebinding and redirects cannot reach a refused address.
*/
#ifndef MS_HTTP_H_INCLUDED
#define MS_HTTP_H_INCLUDED

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ms_config.h"
#include "cm/cm_net.h"

typedef struct _ms_http_t ms_http_t;

//  One request.
typedef struct {
    const char *method;         //  "GET" (default), "PUT", "POST", "HEAD"
    const char *url;            //  absolute URL
    struct curl_slist *headers; //  borrowed, may be NULL
    const void *body;           //  request body (PUT / POST), may be NULL
    size_t body_len;            //
    int64_t max_bytes;          //  response body limit
    long timeout_ms;            //  whole-transfer limit
    long max_redirects;         //  redirects followed (0: none)
    cm_net_t *net;              //  untrusted URL: check addresses
    const char *aws_sigv4;      //  CURLOPT_AWS_SIGV4 value, or NULL
    const char *userpwd;        //  credentials for SigV4, or NULL
} ms_http_req_t;

//  How a request ended.
typedef enum {
    MS_HTTP_OK = 0,      //  a response arrived (any status)
    MS_HTTP_BAD_URL,     //  not an http(s) URL
    MS_HTTP_REFUSED,     //  an address the policy refuses
    MS_HTTP_TOO_LARGE,   //  the response exceeded max_bytes
    MS_HTTP_TIMEOUT,     //  time limit
    MS_HTTP_UNREACHABLE, //  DNS, connect, TLS or transfer error
    MS_HTTP_TOO_MANY_REDIRECTS
} ms_http_fail_t;

//  What came back. Release with ms_http_res_clear.
typedef struct {
    ms_http_fail_t fail; //  MS_HTTP_OK when status is set
    long status;         //  HTTP status (0 without a response)
    uint8_t *body;       //  response body (NUL-terminated), owned
    size_t len;          //
    char *content_type;  //  Content-Type, owned, or NULL
    char error[256];     //  what went wrong, for messages
} ms_http_res_t;

//  Caller owns return value.
ms_http_t *ms_http_new(const ms_config_t *config);
void ms_http_destroy(ms_http_t **self_p);

//  Perform `req`; `res` is filled (cleared first). Returns 0 when a
//  response arrived, -1 otherwise (res->fail says why).
int ms_http_perform(ms_http_t *self, const ms_http_req_t *req,
                    ms_http_res_t *res);

//  Free what res holds.
void ms_http_res_clear(ms_http_res_t *res);

void ms_http_test(bool verbose);

#endif
