/*  wa_jid - WhatsApp JIDs: parse, format, normalise API chat ids

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Wire (text) forms, as the binary decoder renders them:
        user@server                   15551234567@s.whatsapp.net, x@g.us
        @server                       the server itself (@s.whatsapp.net)
        user:device@server            device JID (device 0 is not written)
        user.agent:device@server      legacy agent form (also user_agent)
        user:device@msgr              Messenger (device always written)
        integrator-user:device@interop  interop (device always written)
    API forms (WAHA/Wawp chat ids) use @c.us for phone-number users and
    accept bare phone numbers with '+', spaces, dashes, dots and
    parentheses. wa_jid_parse_api maps them to the wire form
    (@s.whatsapp.net); wa_jid_api gives the API form back (@c.us, no
    device).
*/
#ifndef WA_JID_H_INCLUDED
#define WA_JID_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

typedef struct _wa_jid_t wa_jid_t;

#define WA_JID_SERVER_PN "s.whatsapp.net"
#define WA_JID_SERVER_LEGACY "c.us"
#define WA_JID_SERVER_LID "lid"
#define WA_JID_SERVER_GROUP "g.us"
#define WA_JID_SERVER_BROADCAST "broadcast"
#define WA_JID_SERVER_NEWSLETTER "newsletter"
#define WA_JID_SERVER_HOSTED "hosted"
#define WA_JID_SERVER_HOSTED_LID "hosted.lid"
#define WA_JID_SERVER_BOT "bot"
#define WA_JID_SERVER_MSGR "msgr"
#define WA_JID_SERVER_INTEROP "interop"
#define WA_JID_SERVER_CALL "call"

//  The status broadcast JID
#define WA_JID_STATUS "status@broadcast"

//  AD_JID domain bytes (wire) for the servers that have one
#define WA_JID_DOMAIN_PN 0
#define WA_JID_DOMAIN_LID 1
#define WA_JID_DOMAIN_HOSTED 128
#define WA_JID_DOMAIN_HOSTED_LID 129

//  Longest user part and server name accepted
#define WA_JID_USER_MAX 64
#define WA_JID_SERVER_MAX 32

//  Create an empty JID ("@s.whatsapp.net"). Caller owns return value.
wa_jid_t *wa_jid_new(void);

//  Parse a wire/text form; NULL on garbage. Caller owns return value.
wa_jid_t *wa_jid_new_from(const char *text);

//  Create user[:device]@server from parts; NULL when invalid (see
//  wa_jid_parse for the rules). Caller owns return value.
wa_jid_t *wa_jid_new_parts(const char *user, const char *server,
                           uint16_t device);

//  Destroy. NULL-safe; sets *self_p to NULL.
void wa_jid_destroy(wa_jid_t **self_p);

//  Copy. Caller owns return value.
wa_jid_t *wa_jid_dup(const wa_jid_t *self);

//  Parse a wire/text form into self. Rules: exactly one '@'; server is
//  1..32 of [a-z0-9.-]; on s.whatsapp.net and c.us the user is at most 20
//  digits; on lid, hosted, hosted.lid, bot, newsletter, msgr and interop
//  digits; on g.us digits and '-'; elsewhere [A-Za-z0-9_.-]; users are at
//  most 64 bytes and empty only for a server JID ("@g.us"). Device
//  0..65535 (s.whatsapp.net, lid, hosted, hosted.lid: 0..255). Returns 0,
//  or -1 and leaves self unchanged.
int wa_jid_parse(wa_jid_t *self, const char *text);

//  Parse an API chat id into self: "123@c.us", "+1 (555) 123-4567",
//  "15551234567", "x@g.us", "x@lid", "status@broadcast", "x@newsletter",
//  any wire form. Phone numbers (bare or on c.us/s.whatsapp.net) may hold
//  '+' first, spaces, '-', '.', '(' and ')' and need 5..20 digits. c.us
//  becomes s.whatsapp.net; server names are case-insensitive; leading and
//  trailing spaces are ignored. Unrecognized servers, empty users and
//  other garbage return -1 and leave self unchanged.
int wa_jid_parse_api(wa_jid_t *self, const char *text);

//  Parts (borrowed).
const char *wa_jid_user(const wa_jid_t *self);
const char *wa_jid_server(const wa_jid_t *self);
uint16_t wa_jid_device(const wa_jid_t *self);
uint8_t wa_jid_agent(const wa_jid_t *self);
uint16_t wa_jid_integrator(const wa_jid_t *self);

//  Set the device (0 removes it). Returns -1 when the server cannot carry
//  that device (over 255 on s.whatsapp.net, lid, hosted, hosted.lid).
int wa_jid_set_device(wa_jid_t *self, uint16_t device);

//  Canonical wire text (borrowed, valid until self changes).
const char *wa_jid_str(const wa_jid_t *self);

//  API text: user@server without device or agent, and c.us in place of
//  s.whatsapp.net (borrowed, valid until self changes).
const char *wa_jid_api(const wa_jid_t *self);

//  AD_JID domain byte for the server (WA_JID_DOMAIN_*), or -1 for servers
//  that AD_JID cannot carry.
int wa_jid_domain(const wa_jid_t *self);

//  Same user, server, device, agent and integrator.
bool wa_jid_eq(const wa_jid_t *a, const wa_jid_t *b);

//  Same user and server (devices may differ).
bool wa_jid_same_user(const wa_jid_t *a, const wa_jid_t *b);

//  Kind tests.
bool wa_jid_is_pn(const wa_jid_t *self);         //  user@s.whatsapp.net
bool wa_jid_is_lid(const wa_jid_t *self);        //  user@lid
bool wa_jid_is_group(const wa_jid_t *self);      //  @g.us
bool wa_jid_is_broadcast(const wa_jid_t *self);  //  @broadcast, not status
bool wa_jid_is_status(const wa_jid_t *self);     //  status@broadcast
bool wa_jid_is_newsletter(const wa_jid_t *self); //  @newsletter
bool wa_jid_is_hosted(const wa_jid_t *self);     //  @hosted, @hosted.lid
bool wa_jid_is_bot(const wa_jid_t *self);        //  @bot or bot numbers
bool wa_jid_is_server(const wa_jid_t *self);     //  empty user

//  True for the server names this library knows (the WA_JID_SERVER_*).
bool wa_jid_server_known(const char *server);

//  Normalise an API chat id to the wire text. Returns NULL on garbage.
//  Caller owns return value.
char *wa_jid_normalize(const char *api_text);

//  Wire text to API text (see wa_jid_api). Returns NULL on garbage.
//  Caller owns return value.
char *wa_jid_to_api(const char *wire_text);

//  Self test
void wa_jid_test(bool verbose);

#endif
