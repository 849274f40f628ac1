/*  sw_url - parse the ws:// or wss:// URL of the WhatsApp server

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"

struct _sw_url_t {
    bool tls;        //  wss://
    char *host;      //  host, no brackets
    int port;        //  1..65535
    char *path;      //  "/..." with query
    char *authority; //  host:port for messages
};

void
sw_url_destroy(sw_url_t **self_p)
{
    assert(self_p);
    sw_url_t *self = *self_p;
    if (!self) {
        return;
    }
    free(self->host);
    free(self->path);
    free(self->authority);
    free(self);
    *self_p = NULL;
}

static bool
s_host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

sw_url_t *
sw_url_new(const char *text)
{
    if (!text) {
        return NULL;
    }
    for (const char *c = text; *c; c++) {
        if ((unsigned char)*c <= ' ' || (unsigned char)*c >= 0x7f ||
            *c == '#') {
            return NULL;
        }
    }
    sw_url_t *self = cm_alloc(sizeof *self);
    const char *p = NULL;
    if (strncasecmp(text, "ws://", 5) == 0) {
        p = text + 5;
    } else if (strncasecmp(text, "wss://", 6) == 0) {
        p = text + 6;
        self->tls = true;
    } else {
        goto fail;
    }
    size_t auth_len = strcspn(p, "/?");
    const char *rest = p + auth_len;
    if (memchr(p, '@', auth_len)) {
        goto fail; //  userinfo is not supported
    }
    const char *port_at = NULL;
    if (*p == '[') {
        const char *close = memchr(p, ']', auth_len);
        if (!close || close == p + 1) {
            goto fail;
        }
        self->host = cm_strndup(p + 1, (size_t)(close - p - 1));
        for (const char *c = self->host; *c; c++) {
            if (!isxdigit((unsigned char)*c) && *c != ':' && *c != '.') {
                goto fail;
            }
        }
        if (close + 1 < rest) {
            if (close[1] != ':') {
                goto fail;
            }
            port_at = close + 2;
        }
    } else {
        const char *colon = memchr(p, ':', auth_len);
        size_t host_len = colon ? (size_t)(colon - p) : auth_len;
        if (host_len == 0 || host_len > 253) {
            goto fail;
        }
        for (size_t i = 0; i < host_len; i++) {
            if (!s_host_char(p[i])) {
                goto fail;
            }
        }
        self->host = cm_strndup(p, host_len);
        if (colon) {
            port_at = colon + 1;
        }
    }
    self->port = self->tls ? 443 : 80;
    if (port_at) {
        if (port_at >= rest || rest - port_at > 5) {
            goto fail;
        }
        int port = 0;
        for (const char *c = port_at; c < rest; c++) {
            if (!isdigit((unsigned char)*c)) {
                goto fail;
            }
            port = port * 10 + (*c - '0');
        }
        if (port < 1 || port > 65535) {
            goto fail;
        }
        self->port = port;
    }
    self->path = *rest == '/' ? cm_strdup(rest) : cm_sprintf("/%s", rest);
    self->authority = strchr(self->host, ':')
                          ? cm_sprintf("[%s]:%d", self->host, self->port)
                          : cm_sprintf("%s:%d", self->host, self->port);
    return self;
fail:
    sw_url_destroy(&self);
    return NULL;
}

bool
sw_url_tls(const sw_url_t *self)
{
    return self->tls;
}

const char *
sw_url_host(const sw_url_t *self)
{
    return self->host;
}

int
sw_url_port(const sw_url_t *self)
{
    return self->port;
}

const char *
sw_url_path(const sw_url_t *self)
{
    return self->path;
}

const char *
sw_url_authority(const sw_url_t *self)
{
    return self->authority;
}

void
sw_url_test(bool verbose)
{
    printf(" * sw_url: ");
    sw_url_t *url = sw_url_new("wss://web.whatsapp.com/ws/chat");
    assert(url);
    assert(sw_url_tls(url));
    assert(cm_streq(sw_url_host(url), "web.whatsapp.com"));
    assert(sw_url_port(url) == 443);
    assert(cm_streq(sw_url_path(url), "/ws/chat"));
    assert(cm_streq(sw_url_authority(url), "web.whatsapp.com:443"));
    sw_url_destroy(&url);
    sw_url_destroy(&url);

    url = sw_url_new("ws://127.0.0.1:1234/ws/chat?x=1");
    assert(url && !sw_url_tls(url));
    assert(cm_streq(sw_url_host(url), "127.0.0.1"));
    assert(sw_url_port(url) == 1234);
    assert(cm_streq(sw_url_path(url), "/ws/chat?x=1"));
    assert(cm_streq(sw_url_authority(url), "127.0.0.1:1234"));
    sw_url_destroy(&url);

    url = sw_url_new("WS://localhost");
    assert(url && sw_url_port(url) == 80);
    assert(cm_streq(sw_url_path(url), "/"));
    sw_url_destroy(&url);

    url = sw_url_new("ws://h?q");
    assert(url && cm_streq(sw_url_path(url), "/?q"));
    sw_url_destroy(&url);

    url = sw_url_new("wss://[::1]:8443/ws");
    assert(url && sw_url_tls(url));
    assert(cm_streq(sw_url_host(url), "::1"));
    assert(sw_url_port(url) == 8443);
    assert(cm_streq(sw_url_authority(url), "[::1]:8443"));
    sw_url_destroy(&url);

    url = sw_url_new("wss://[::1]");
    assert(url && sw_url_port(url) == 443);
    sw_url_destroy(&url);

    const char *bad[] = {"",
                         "http://x/",
                         "ws://",
                         "ws:///path",
                         "ws://:80",
                         "ws://h:",
                         "ws://h:0",
                         "ws://h:65536",
                         "ws://h:123456",
                         "ws://h:8a",
                         "ws://u@h/",
                         "ws://h /",
                         "ws://h/#f",
                         "ws://[::1/",
                         "ws://[]/",
                         "ws://[::1]x/",
                         "ws://h%41/",
                         "wss//h",
                         NULL};
    for (int i = 0; bad[i]; i++) {
        url = sw_url_new(bad[i]);
        if (url) {
            fprintf(stderr, "accepted bad URL '%s'\n", bad[i]);
        }
        assert(!url);
    }
    assert(!sw_url_new(NULL));
    printf("OK\n");
}
