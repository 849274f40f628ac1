/*  sw_url - parse the ws:// or wss:// URL of the WhatsApp server

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Accepts ws://host[:port][/path] and wss://..., with host a name, an
    IPv4 address or a bracketed IPv6 address. Default ports are 80 (ws)
    and 443 (wss); the default path is "/". Userinfo, fragments and
    spaces are refused.
*/
#ifndef SW_URL_H_INCLUDED
#define SW_URL_H_INCLUDED

#include <stdbool.h>

typedef struct _sw_url_t sw_url_t;

//  Parse `text`. Returns NULL when it is not a usable ws/wss URL. Caller
//  owns return value.
sw_url_t *sw_url_new(const char *text);
void sw_url_destroy(sw_url_t **self_p);

//  True for wss:// (TLS).
bool sw_url_tls(const sw_url_t *self);
//  Host name or address, without IPv6 brackets (borrowed).
const char *sw_url_host(const sw_url_t *self);
//  Port, explicit or the scheme default.
int sw_url_port(const sw_url_t *self);
//  Path with query, starting with "/" (borrowed).
const char *sw_url_path(const sw_url_t *self);
//  "host:port" for messages, with brackets around IPv6 (borrowed).
const char *sw_url_authority(const sw_url_t *self);

void sw_url_test(bool verbose);

#endif
