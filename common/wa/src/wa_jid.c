/*  wa_jid - WhatsApp JIDs: parse, format, normalise API chat ids

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#undef NDEBUG
#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"
#include "wa/wa_jid.h"

//  Room for the longest rendering: "65535-" user ".255:65535@" server
#define S_TEXT_MAX 160

typedef struct {
    char user[WA_JID_USER_MAX + 1];     //  user part, may be empty
    char server[WA_JID_SERVER_MAX + 1]; //  server name, never empty
    uint16_t device;                    //  device id, 0 = main device
    uint8_t agent;                      //  legacy agent, 0 = none
    uint16_t integrator;                //  interop integrator id
} s_parts_t;

struct _wa_jid_t {
    s_parts_t parts;       //  the JID
    char text[S_TEXT_MAX]; //  canonical wire text
    char api[S_TEXT_MAX];  //  API text
};

static const char *const s_known_servers[] = {
    WA_JID_SERVER_PN,     WA_JID_SERVER_LEGACY,     WA_JID_SERVER_LID,
    WA_JID_SERVER_GROUP,  WA_JID_SERVER_BROADCAST,  WA_JID_SERVER_NEWSLETTER,
    WA_JID_SERVER_HOSTED, WA_JID_SERVER_HOSTED_LID, WA_JID_SERVER_BOT,
    WA_JID_SERVER_MSGR,   WA_JID_SERVER_INTEROP,    WA_JID_SERVER_CALL};

bool
wa_jid_server_known(const char *server)
{
    if (!server) {
        return false;
    }
    for (size_t i = 0; i < sizeof s_known_servers / sizeof(char *); i++) {
        if (strcmp(server, s_known_servers[i]) == 0) {
            return true;
        }
    }
    return false;
}

static int
s_domain_of(const char *server)
{
    if (strcmp(server, WA_JID_SERVER_PN) == 0) {
        return WA_JID_DOMAIN_PN;
    }
    if (strcmp(server, WA_JID_SERVER_LID) == 0) {
        return WA_JID_DOMAIN_LID;
    }
    if (strcmp(server, WA_JID_SERVER_HOSTED) == 0) {
        return WA_JID_DOMAIN_HOSTED;
    }
    if (strcmp(server, WA_JID_SERVER_HOSTED_LID) == 0) {
        return WA_JID_DOMAIN_HOSTED_LID;
    }
    return -1;
}

static bool
s_all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return true;
}

//  Parse 1..5 decimal digits up to `max`; -1 on garbage
static long
s_number(const char *s, size_t len, long max)
{
    if (len == 0 || len > 5 || !s_all_digits(s, len)) {
        return -1;
    }
    long value = 0;
    for (size_t i = 0; i < len; i++) {
        value = value * 10 + (s[i] - '0');
    }
    return value <= max ? value : -1;
}

//  Longest phone number accepted (E.164 has at most 15 digits)
#define S_PHONE_MAX 20

//  Check a user part for the server's alphabet
static bool
s_user_ok(const char *user, size_t len, const char *server)
{
    if (len > WA_JID_USER_MAX) {
        return false;
    }
    if (strcmp(server, WA_JID_SERVER_PN) == 0 ||
        strcmp(server, WA_JID_SERVER_LEGACY) == 0) {
        return len <= S_PHONE_MAX && s_all_digits(user, len);
    }
    if (s_domain_of(server) >= 0 || strcmp(server, WA_JID_SERVER_BOT) == 0 ||
        strcmp(server, WA_JID_SERVER_NEWSLETTER) == 0 ||
        strcmp(server, WA_JID_SERVER_MSGR) == 0 ||
        strcmp(server, WA_JID_SERVER_INTEROP) == 0) {
        return s_all_digits(user, len);
    }
    bool group = strcmp(server, WA_JID_SERVER_GROUP) == 0;
    for (size_t i = 0; i < len; i++) {
        char c = user[i];
        bool ok =
            (c >= '0' && c <= '9') || c == '-' ||
            (!group && (isalpha((unsigned char)c) || c == '_' || c == '.'));
        if (!ok) {
            return false;
        }
    }
    return true;
}

static int
s_parse(s_parts_t *parts, const char *text)
{
    memset(parts, 0, sizeof *parts);
    const char *at = strchr(text, '@');
    if (!at || strchr(at + 1, '@')) {
        return -1;
    }
    const char *server = at + 1;
    size_t server_len = strlen(server);
    if (server_len == 0 || server_len > WA_JID_SERVER_MAX) {
        return -1;
    }
    for (size_t i = 0; i < server_len; i++) {
        char c = server[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '-')) {
            return -1;
        }
    }
    memcpy(parts->server, server, server_len + 1);
    const char *user = text;
    size_t user_len = (size_t)(at - text);
    int domain = s_domain_of(parts->server);

    //  integrator-user (interop only)
    if (strcmp(parts->server, WA_JID_SERVER_INTEROP) == 0) {
        const char *dash = memchr(user, '-', user_len);
        if (!dash) {
            return -1;
        }
        long integrator = s_number(user, (size_t)(dash - user), 65535);
        if (integrator < 0) {
            return -1;
        }
        parts->integrator = (uint16_t)integrator;
        user_len -= (size_t)(dash + 1 - user);
        user = dash + 1;
    }
    //  :device
    const char *colon = NULL;
    for (size_t i = user_len; i > 0; i--) {
        if (user[i - 1] == ':') {
            colon = user + i - 1;
            break;
        }
    }
    if (colon) {
        size_t digits = user_len - (size_t)(colon + 1 - user);
        long device = s_number(colon + 1, digits, domain >= 0 ? 255 : 65535);
        if (device < 0) {
            return -1;
        }
        parts->device = (uint16_t)device;
        user_len = (size_t)(colon - user);
    }
    //  .agent or _agent (phone-number and LID users only)
    bool has_agent = false;
    if (domain == WA_JID_DOMAIN_PN || domain == WA_JID_DOMAIN_LID) {
        for (size_t i = 0; i < user_len; i++) {
            if (user[i] == '.' || user[i] == '_') {
                long agent = s_number(user + i + 1, user_len - i - 1, 255);
                if (agent < 0) {
                    return -1;
                }
                parts->agent = (uint8_t)agent;
                has_agent = true;
                user_len = i;
                break;
            }
        }
    }
    if (!s_user_ok(user, user_len, parts->server)) {
        return -1;
    }
    //  A device or agent belongs to a user: ":1@lid" and ".0@lid" are no
    //  JIDs
    bool needs_user = colon || has_agent ||
                      strcmp(parts->server, WA_JID_SERVER_INTEROP) == 0 ||
                      strcmp(parts->server, WA_JID_SERVER_MSGR) == 0;
    if (user_len == 0 && needs_user) {
        return -1;
    }
    memcpy(parts->user, user, user_len);
    parts->user[user_len] = 0;
    return 0;
}

//  Append text at *p, never past end (which stays free for the NUL).
static void
s_put(char **p, char *end, const char *text)
{
    while (*text && *p < end) {
        *(*p)++ = *text++;
    }
}

//  Append a decimal number at *p, never past end.
static void
s_put_uint(char **p, char *end, unsigned value)
{
    char digits[12];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    while (n && *p < end) {
        *(*p)++ = digits[--n];
    }
}

//  Render text and api. Hot (every JID made or parsed): no printf.
static void
s_render(wa_jid_t *self)
{
    const s_parts_t *p = &self->parts;
    bool interop = strcmp(p->server, WA_JID_SERVER_INTEROP) == 0;
    bool always = interop || strcmp(p->server, WA_JID_SERVER_MSGR) == 0;
    char *out = self->text;
    char *end = self->text + sizeof self->text - 1;
    if (interop) {
        s_put_uint(&out, end, p->integrator);
        s_put(&out, end, "-");
    }
    s_put(&out, end, p->user);
    if (p->agent) {
        s_put(&out, end, ".");
        s_put_uint(&out, end, p->agent);
    }
    if (p->device || always) {
        s_put(&out, end, ":");
        s_put_uint(&out, end, p->device);
    }
    s_put(&out, end, "@");
    s_put(&out, end, p->server);
    *out = 0;

    const char *server = strcmp(p->server, WA_JID_SERVER_PN) == 0
                             ? WA_JID_SERVER_LEGACY
                             : p->server;
    out = self->api;
    end = self->api + sizeof self->api - 1;
    if (interop) {
        s_put_uint(&out, end, p->integrator);
        s_put(&out, end, "-");
    }
    s_put(&out, end, p->user);
    s_put(&out, end, "@");
    s_put(&out, end, server);
    *out = 0;
}

wa_jid_t *
wa_jid_new(void)
{
    wa_jid_t *self = cm_alloc(sizeof(wa_jid_t));
    strcpy(self->parts.server, WA_JID_SERVER_PN);
    s_render(self);
    return self;
}

wa_jid_t *
wa_jid_new_from(const char *text)
{
    wa_jid_t *self = wa_jid_new();
    if (wa_jid_parse(self, text) < 0) {
        wa_jid_destroy(&self);
    }
    return self;
}

wa_jid_t *
wa_jid_new_parts(const char *user, const char *server, uint16_t device)
{
    assert(user && server);
    if (strlen(user) > WA_JID_USER_MAX || strlen(server) > WA_JID_SERVER_MAX) {
        return NULL;
    }
    char text[S_TEXT_MAX];
    if (device || strcmp(server, WA_JID_SERVER_MSGR) == 0 ||
        strcmp(server, WA_JID_SERVER_INTEROP) == 0) {
        snprintf(text, sizeof text, "%s:%u@%s", user, device, server);
    } else {
        snprintf(text, sizeof text, "%s@%s", user, server);
    }
    return wa_jid_new_from(text);
}

void
wa_jid_destroy(wa_jid_t **self_p)
{
    assert(self_p);
    free(*self_p);
    *self_p = NULL;
}

wa_jid_t *
wa_jid_dup(const wa_jid_t *self)
{
    assert(self);
    wa_jid_t *copy = cm_alloc(sizeof(wa_jid_t));
    memcpy(copy, self, sizeof(wa_jid_t));
    return copy;
}

int
wa_jid_parse(wa_jid_t *self, const char *text)
{
    assert(self);
    if (!text) {
        return -1;
    }
    s_parts_t parts;
    if (s_parse(&parts, text) < 0) {
        return -1;
    }
    self->parts = parts;
    s_render(self);
    return 0;
}

//  Remove phone-number punctuation; -1 on characters outside it
static int
s_clean_phone(const char *in, size_t len, char *out, size_t out_max,
              size_t *digits_p)
{
    size_t n = 0;
    size_t digits = 0;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c >= '0' && c <= '9') {
            if (n + 1 >= out_max) {
                return -1;
            }
            out[n++] = c;
            digits++;
        } else if (c == ':' && digits) {
            //  device suffix passes through to the strict parser
            if (len - i >= out_max - n) {
                return -1;
            }
            memcpy(out + n, in + i, len - i);
            n += len - i;
            break;
        } else if (!((c == '+' && digits == 0) || c == ' ' || c == '-' ||
                     c == '.' || c == '(' || c == ')')) {
            return -1;
        }
    }
    out[n] = 0;
    *digits_p = digits;
    return 0;
}

int
wa_jid_parse_api(wa_jid_t *self, const char *text)
{
    assert(self);
    if (!text) {
        return -1;
    }
    while (*text == ' ' || *text == '\t') {
        text++;
    }
    size_t len = strlen(text);
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\t')) {
        len--;
    }
    if (len == 0 || len >= S_TEXT_MAX) {
        return -1;
    }
    const char *at = memchr(text, '@', len);
    char server[WA_JID_SERVER_MAX + 1];
    size_t user_len = at ? (size_t)(at - text) : len;
    if (at) {
        size_t server_len = len - user_len - 1;
        if (server_len == 0 || server_len > WA_JID_SERVER_MAX) {
            return -1;
        }
        for (size_t i = 0; i < server_len; i++) {
            server[i] = (char)tolower((unsigned char)at[1 + i]);
        }
        server[server_len] = 0;
        if (strcmp(server, WA_JID_SERVER_LEGACY) == 0) {
            strcpy(server, WA_JID_SERVER_PN);
        }
        if (!wa_jid_server_known(server)) {
            return -1;
        }
    } else {
        strcpy(server, WA_JID_SERVER_PN);
    }
    char user[S_TEXT_MAX];
    if (strcmp(server, WA_JID_SERVER_PN) == 0) {
        size_t digits;
        if (s_clean_phone(text, user_len, user, sizeof user, &digits) < 0 ||
            digits == 0 || digits > S_PHONE_MAX || (!at && digits < 5)) {
            return -1;
        }
    } else {
        memcpy(user, text, user_len);
        user[user_len] = 0;
    }
    if (user[0] == 0) {
        return -1;
    }
    char wire[2 * S_TEXT_MAX];
    snprintf(wire, sizeof wire, "%s@%s", user, server);
    //  A chat id names a user: text such as ".0@lid" parses as a wire JID
    //  with only an agent and device, which is no chat.
    if (wa_jid_parse(self, wire) != 0 || self->parts.user[0] == 0) {
        return -1;
    }
    return 0;
}

const char *
wa_jid_user(const wa_jid_t *self)
{
    assert(self);
    return self->parts.user;
}

const char *
wa_jid_server(const wa_jid_t *self)
{
    assert(self);
    return self->parts.server;
}

uint16_t
wa_jid_device(const wa_jid_t *self)
{
    assert(self);
    return self->parts.device;
}

uint8_t
wa_jid_agent(const wa_jid_t *self)
{
    assert(self);
    return self->parts.agent;
}

uint16_t
wa_jid_integrator(const wa_jid_t *self)
{
    assert(self);
    return self->parts.integrator;
}

int
wa_jid_set_device(wa_jid_t *self, uint16_t device)
{
    assert(self);
    if (device > 255 && s_domain_of(self->parts.server) >= 0) {
        return -1;
    }
    if (device && !self->parts.user[0]) {
        return -1;
    }
    self->parts.device = device;
    s_render(self);
    return 0;
}

const char *
wa_jid_str(const wa_jid_t *self)
{
    assert(self);
    return self->text;
}

const char *
wa_jid_api(const wa_jid_t *self)
{
    assert(self);
    return self->api;
}

int
wa_jid_domain(const wa_jid_t *self)
{
    assert(self);
    return s_domain_of(self->parts.server);
}

bool
wa_jid_eq(const wa_jid_t *a, const wa_jid_t *b)
{
    assert(a && b);
    return strcmp(a->text, b->text) == 0;
}

bool
wa_jid_same_user(const wa_jid_t *a, const wa_jid_t *b)
{
    assert(a && b);
    return strcmp(a->parts.user, b->parts.user) == 0 &&
           strcmp(a->parts.server, b->parts.server) == 0 &&
           a->parts.integrator == b->parts.integrator;
}

static bool
s_on(const wa_jid_t *self, const char *server)
{
    assert(self);
    return strcmp(self->parts.server, server) == 0;
}

bool
wa_jid_is_pn(const wa_jid_t *self)
{
    return s_on(self, WA_JID_SERVER_PN) && self->parts.user[0];
}

bool
wa_jid_is_lid(const wa_jid_t *self)
{
    return s_on(self, WA_JID_SERVER_LID) && self->parts.user[0];
}

bool
wa_jid_is_group(const wa_jid_t *self)
{
    return s_on(self, WA_JID_SERVER_GROUP);
}

bool
wa_jid_is_broadcast(const wa_jid_t *self)
{
    return s_on(self, WA_JID_SERVER_BROADCAST) && !wa_jid_is_status(self);
}

bool
wa_jid_is_status(const wa_jid_t *self)
{
    return s_on(self, WA_JID_SERVER_BROADCAST) &&
           strcmp(self->parts.user, "status") == 0;
}

bool
wa_jid_is_newsletter(const wa_jid_t *self)
{
    return s_on(self, WA_JID_SERVER_NEWSLETTER);
}

bool
wa_jid_is_hosted(const wa_jid_t *self)
{
    return s_on(self, WA_JID_SERVER_HOSTED) ||
           s_on(self, WA_JID_SERVER_HOSTED_LID);
}

bool
wa_jid_is_bot(const wa_jid_t *self)
{
    if (s_on(self, WA_JID_SERVER_BOT)) {
        return true;
    }
    //  Bot numbers: 1313555xxxx and 131655500xx (protocol guide §11)
    const char *u = self->parts.user;
    size_t len = strlen(u);
    return s_on(self, WA_JID_SERVER_PN) && len == 11 &&
           (strncmp(u, "1313555", 7) == 0 || strncmp(u, "131655500", 9) == 0);
}

bool
wa_jid_is_server(const wa_jid_t *self)
{
    assert(self);
    return self->parts.user[0] == 0;
}

char *
wa_jid_normalize(const char *api_text)
{
    wa_jid_t *jid = wa_jid_new();
    char *text = NULL;
    if (wa_jid_parse_api(jid, api_text) == 0) {
        text = cm_strdup(wa_jid_str(jid));
    }
    wa_jid_destroy(&jid);
    return text;
}

char *
wa_jid_to_api(const char *wire_text)
{
    wa_jid_t *jid = wa_jid_new_from(wire_text);
    char *text = jid ? cm_strdup(wa_jid_api(jid)) : NULL;
    wa_jid_destroy(&jid);
    return text;
}

//  ---------------------------------------------------------------------
//  Self test

static void
s_expect_normal(const char *api, const char *wire)
{
    char *got = wa_jid_normalize(api);
    if (got || wire ? !cm_streq(got, wire) : false) {
        fprintf(stderr, "normalize('%s') = '%s', want '%s'\n", api,
                got ? got : "(null)", wire ? wire : "(null)");
        assert(false);
    }
    free(got);
}

void
wa_jid_test(bool verbose)
{
    printf(" * wa_jid: ");

    //  Wire forms parse and render back identically
    const char *canonical[] = {
        "15551234567@s.whatsapp.net",
        "@s.whatsapp.net",
        "15551234567:12@s.whatsapp.net",
        "123456789012345@lid",
        "123456789012345:3@lid",
        "120363012345678901@g.us",
        "15551234567-1600000000@g.us",
        "@g.us",
        "status@broadcast",
        "1234567890@broadcast",
        "120363123456789012@newsletter",
        "16505361212@c.us",
        "12345:99@hosted",
        "12345@hosted.lid",
        "867051314767696@bot",
        "12345:2@msgr",
        "5-777:1@interop",
        "15551234567.1:2@s.whatsapp.net",
        "abcDEF0123@call",
    };
    for (size_t i = 0; i < sizeof canonical / sizeof(char *); i++) {
        wa_jid_t *jid = wa_jid_new_from(canonical[i]);
        if (!jid || strcmp(wa_jid_str(jid), canonical[i]) != 0) {
            fprintf(stderr, "could not round-trip '%s'\n", canonical[i]);
            assert(false);
        }
        wa_jid_destroy(&jid);
    }

    //  Parts
    wa_jid_t *jid = wa_jid_new_from("15551234567:12@s.whatsapp.net");
    assert(jid);
    assert(strcmp(wa_jid_user(jid), "15551234567") == 0);
    assert(strcmp(wa_jid_server(jid), "s.whatsapp.net") == 0);
    assert(wa_jid_device(jid) == 12);
    assert(wa_jid_agent(jid) == 0);
    assert(wa_jid_domain(jid) == WA_JID_DOMAIN_PN);
    assert(wa_jid_is_pn(jid) && !wa_jid_is_lid(jid) && !wa_jid_is_bot(jid));
    assert(strcmp(wa_jid_api(jid), "15551234567@c.us") == 0);
    wa_jid_t *main_device = wa_jid_dup(jid);
    assert(wa_jid_eq(main_device, jid));
    assert(wa_jid_set_device(main_device, 0) == 0);
    assert(strcmp(wa_jid_str(main_device), "15551234567@s.whatsapp.net") == 0);
    assert(!wa_jid_eq(main_device, jid));
    assert(wa_jid_same_user(main_device, jid));
    assert(wa_jid_set_device(main_device, 256) == -1);
    assert(wa_jid_set_device(main_device, 255) == 0);
    wa_jid_destroy(&main_device);
    //  A failed parse leaves the JID unchanged
    assert(wa_jid_parse(jid, "garbage") == -1);
    assert(wa_jid_device(jid) == 12);
    assert(wa_jid_parse(jid, NULL) == -1);
    wa_jid_destroy(&jid);

    jid = wa_jid_new_from("5-777:1@interop");
    assert(jid && wa_jid_integrator(jid) == 5 && wa_jid_device(jid) == 1);
    assert(strcmp(wa_jid_user(jid), "777") == 0);
    assert(wa_jid_domain(jid) == -1);
    assert(strcmp(wa_jid_api(jid), "5-777@interop") == 0);
    wa_jid_destroy(&jid);

    jid = wa_jid_new_from("15551234567_1:3@s.whatsapp.net");
    assert(jid && wa_jid_agent(jid) == 1 && wa_jid_device(jid) == 3);
    assert(strcmp(wa_jid_str(jid), "15551234567.1:3@s.whatsapp.net") == 0);
    wa_jid_destroy(&jid);

    //  Device 0 written explicitly is accepted and not rendered
    jid = wa_jid_new_from("15551234567:0@s.whatsapp.net");
    assert(jid && strcmp(wa_jid_str(jid), "15551234567@s.whatsapp.net") == 0);
    wa_jid_destroy(&jid);

    //  Kinds
    jid = wa_jid_new();
    assert(wa_jid_is_server(jid) && !wa_jid_is_pn(jid));
    assert(strcmp(wa_jid_str(jid), "@s.whatsapp.net") == 0);
    assert(wa_jid_set_device(jid, 1) == -1);
    assert(wa_jid_parse(jid, WA_JID_STATUS) == 0);
    assert(wa_jid_is_status(jid) && !wa_jid_is_broadcast(jid));
    assert(wa_jid_parse(jid, "123@broadcast") == 0);
    assert(wa_jid_is_broadcast(jid) && !wa_jid_is_status(jid));
    assert(wa_jid_parse(jid, "1-2@g.us") == 0 && wa_jid_is_group(jid));
    assert(wa_jid_parse(jid, "1@newsletter") == 0);
    assert(wa_jid_is_newsletter(jid));
    assert(wa_jid_parse(jid, "1:99@hosted") == 0 && wa_jid_is_hosted(jid));
    assert(wa_jid_domain(jid) == WA_JID_DOMAIN_HOSTED);
    assert(wa_jid_parse(jid, "1@hosted.lid") == 0 && wa_jid_is_hosted(jid));
    assert(wa_jid_domain(jid) == WA_JID_DOMAIN_HOSTED_LID);
    assert(wa_jid_parse(jid, "1@lid") == 0 && wa_jid_is_lid(jid));
    assert(wa_jid_domain(jid) == WA_JID_DOMAIN_LID);
    assert(wa_jid_parse(jid, "13135550002@s.whatsapp.net") == 0);
    assert(wa_jid_is_bot(jid));
    assert(wa_jid_parse(jid, "13165550064@s.whatsapp.net") == 0);
    assert(wa_jid_is_bot(jid));
    assert(wa_jid_parse(jid, "1@bot") == 0 && wa_jid_is_bot(jid));
    wa_jid_destroy(&jid);

    jid = wa_jid_new_parts("123", "lid", 7);
    assert(jid && strcmp(wa_jid_str(jid), "123:7@lid") == 0);
    wa_jid_destroy(&jid);
    jid = wa_jid_new_parts("123", "msgr", 0);
    assert(jid && strcmp(wa_jid_str(jid), "123:0@msgr") == 0);
    wa_jid_destroy(&jid);
    assert(wa_jid_new_parts("abc", "s.whatsapp.net", 0) == NULL);
    assert(wa_jid_new_parts("1", "s.whatsapp.net", 300) == NULL);

    //  Garbage
    const char *garbage[] = {
        "",
        "@",
        "abc",
        "1@",
        "1@@s.whatsapp.net",
        "a@b@c",
        "1@S.WHATSAPP.NET",
        "12a@s.whatsapp.net",
        "1:256@s.whatsapp.net",
        "1:@s.whatsapp.net",
        "1:x@s.whatsapp.net",
        "1:123456@g.us",
        ":1@s.whatsapp.net",
        "1.x:1@s.whatsapp.net",
        "1.256@s.whatsapp.net",
        "x y@g.us",
        "1_2@g.us",
        "abc@newsletter",
        "server@c.us",
        "123456789012345678901@s.whatsapp.net",
        "777:1@interop",
        "x-777:1@interop",
        "5-:1@interop",
        "@msgr",
        ".0@lid",
        "_1:2@s.whatsapp.net",
        "1@server with space",
        "1@averyveryveryveryverylongservername",
        ("1234567890123456789012345678901234567890123456789012345678901234"
         "5@lid"),
    };
    for (size_t i = 0; i < sizeof garbage / sizeof(char *); i++) {
        wa_jid_t *bad = wa_jid_new_from(garbage[i]);
        if (bad) {
            fprintf(stderr, "accepted garbage '%s'\n", garbage[i]);
            assert(false);
        }
    }

    //  API normalisation
    s_expect_normal("12132132131@c.us", "12132132131@s.whatsapp.net");
    s_expect_normal("12132132131@C.US", "12132132131@s.whatsapp.net");
    s_expect_normal("  447441429009  ", "447441429009@s.whatsapp.net");
    s_expect_normal("+1 (555) 123-4567", "15551234567@s.whatsapp.net");
    s_expect_normal("+44.7441.429009", "447441429009@s.whatsapp.net");
    s_expect_normal("+1 555 123 4567@c.us", "15551234567@s.whatsapp.net");
    s_expect_normal("0@c.us", "0@s.whatsapp.net");
    s_expect_normal("15551234567:3@c.us", "15551234567:3@s.whatsapp.net");
    s_expect_normal("15551234567@s.whatsapp.net", "15551234567@s.whatsapp.net");
    s_expect_normal("120363012345678901@g.us", "120363012345678901@g.us");
    s_expect_normal("123456789012345@lid", "123456789012345@lid");
    s_expect_normal("status@broadcast", "status@broadcast");
    s_expect_normal("120363123456789012@newsletter",
                    "120363123456789012@newsletter");
    s_expect_normal("1@hosted", "1@hosted");
    s_expect_normal(NULL, NULL);
    s_expect_normal("", NULL);
    s_expect_normal("   ", NULL);
    s_expect_normal("1234", NULL);
    s_expect_normal("123456789012345678901", NULL);
    s_expect_normal("1+5551234567", NULL);
    s_expect_normal("hello", NULL);
    s_expect_normal("12345@example.com", NULL);
    s_expect_normal("@c.us", NULL);
    s_expect_normal("@g.us", NULL);
    s_expect_normal("+@c.us", NULL);
    s_expect_normal("1 2 3 4 5x", NULL);
    s_expect_normal("abc@lid", NULL);
    s_expect_normal("1@s.whatsapp.net@c.us", NULL);
    //  found by fuzz_jid: an agent/device with no user is no chat
    s_expect_normal(".0@Lid", NULL);
    s_expect_normal(".0:1@lid", NULL);

    char *api = wa_jid_to_api("15551234567:12@s.whatsapp.net");
    assert(cm_streq(api, "15551234567@c.us"));
    free(api);
    api = wa_jid_to_api("123:4@lid");
    assert(cm_streq(api, "123@lid"));
    free(api);
    api = wa_jid_to_api("120363012345678901@g.us");
    assert(cm_streq(api, "120363012345678901@g.us"));
    free(api);
    assert(wa_jid_to_api("nope") == NULL);

    assert(wa_jid_server_known("lid") && !wa_jid_server_known("example"));
    assert(!wa_jid_server_known(NULL));
    if (verbose) {
        printf("(%zu canonical, %zu garbage) ",
               sizeof canonical / sizeof(char *),
               sizeof garbage / sizeof(char *));
    }
    printf("OK\n");
}
