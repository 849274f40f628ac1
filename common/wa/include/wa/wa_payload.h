/*  wa_payload - ClientPayload builders (client) and parser (server)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The ClientPayload is the protobuf the client encrypts into
    ClientFinish. A registration payload (new device, before pairing)
    carries the Signal registration id, identity and signed prekey, the
    build hash and the DeviceProps; a login payload (paired device)
    carries the phone number and device id.

    A wa_payload_t holds the settings that describe the client (user
    agent, WA Web version, DeviceProps). Its defaults are the client
    identity below: what a current WhatsApp Web client sends, one line
    per value with where it comes from. Keeping up with WhatsApp is a
    one-line change there (usually WA_IDENT_WEB_VERSION); a deployment
    overrides the version and the name shown on the phone without a
    build (wa_payload_set_defaults; session-worker: WA_WEB_VERSION,
    WA_DEVICE_NAME, WA_DEVICE_PLATFORM). Every field can also be changed
    per client. The build hash is the MD5 of the version string
    "primary.secondary.tertiary" and follows the version.
*/
#ifndef WA_PAYLOAD_H_INCLUDED
#define WA_PAYLOAD_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  ---------------------------------------------------------------------
//  Client identity: a WhatsApp Web client (docs/wa-protocol.md §3).
//  The WA Web version (its client_revision third). An outdated one gets
//  <failure reason="405">. Source: whatsmeow store/clientpayload.go
//  waVersion (the newest seen); WA Web's own "client_revision".
#define WA_IDENT_WEB_VERSION "2.3000.1047888330"
//  UserAgent (§3.1): platform WEB, device "Desktop", OS version and build
//  "0.1", locale en-US. Source: whatsmeow store/clientpayload.go
//  BaseClientPayload, Baileys 7 Utils/validate-connection.ts getUserAgent
//  (both send these).
#define WA_IDENT_UA_PLATFORM WA_PAYLOAD_PLATFORM_WEB
#define WA_IDENT_UA_DEVICE "Desktop"
#define WA_IDENT_UA_OS_VERSION "0.1"
#define WA_IDENT_UA_OS_BUILD "0.1"
#define WA_IDENT_LANGUAGE "en"
#define WA_IDENT_COUNTRY "US"
//  WebInfo.webSubPlatform WEB_BROWSER. Source: both libraries.
#define WA_IDENT_WEB_SUB_PLATFORM WA_PAYLOAD_WEB_BROWSER
//  DeviceProps (§3.2): the name the phone shows under "Linked devices"
//  (whatsmeow "whatsmeow", Baileys the browser's OS), its version and
//  platform type CHROME (Baileys 7 Defaults: Browsers, CHROME).
#define WA_IDENT_DEVICE_NAME "Wharf"
#define WA_IDENT_DEVICE_VERSION 0, 1, 0
#define WA_IDENT_DEVICE_PLATFORM WA_PAYLOAD_DEVICE_CHROME
//  Login flags (§3.1): lc 1 and lidDbMigrated true as whatsmeow sends
//  them (wa_payload_login_init). Source: whatsmeow
//  store/clientpayload.go getLoginPayload.
//  ---------------------------------------------------------------------

//  WA Web version used when none is set (docs/wa-protocol.md §3.3).
#define WA_PAYLOAD_DEFAULT_VERSION WA_IDENT_WEB_VERSION

//  UserAgent.platform values.
#define WA_PAYLOAD_PLATFORM_WEB 14
#define WA_PAYLOAD_PLATFORM_MACOS 24
#define WA_PAYLOAD_PLATFORM_WINDOWS 13
//  WebInfo.webSubPlatform values.
#define WA_PAYLOAD_WEB_BROWSER 0
#define WA_PAYLOAD_WEB_DARWIN 3
#define WA_PAYLOAD_WEB_WIN32 4
//  DeviceProps.platformType values (selection).
#define WA_PAYLOAD_DEVICE_UNKNOWN 0
#define WA_PAYLOAD_DEVICE_CHROME 1
#define WA_PAYLOAD_DEVICE_FIREFOX 2
#define WA_PAYLOAD_DEVICE_SAFARI 5
#define WA_PAYLOAD_DEVICE_EDGE 6
#define WA_PAYLOAD_DEVICE_DESKTOP 7
//  ClientPayload.connectType / connectReason values.
#define WA_PAYLOAD_CONNECT_WIFI_UNKNOWN 1
#define WA_PAYLOAD_REASON_USER_ACTIVATED 1
#define WA_PAYLOAD_REASON_ERROR_RECONNECT 3

typedef struct _wa_payload_t wa_payload_t;

//  Keys a new device announces in its registration payload.
typedef struct {
    uint32_t registration_id;      //  Signal registration id
    uint8_t identity_pub[32];      //  identity key (raw X25519)
    uint32_t signed_prekey_id;     //  low 24 bits are sent
    uint8_t signed_prekey_pub[32]; //  signed prekey (raw X25519)
    uint8_t signed_prekey_sig[64]; //  XEdDSA by identity over 05||pub
} wa_payload_reg_t;

//  What a paired device sends when it logs in.
typedef struct {
    uint64_t username;    //  phone number (user part of the own JID)
    uint32_t device;      //  own device id
    bool passive;         //  true: the client sends <active/> itself later
    bool pull;            //  true: pull the offline queue
    int32_t lc;           //  login counter, 0 = not sent
    bool lid_db_migrated; //  LID store migrated (whatsmeow sends true)
} wa_payload_login_t;

//  Fill *login with the recommended values for username/device: passive
//  and pull true, lc 1, lid_db_migrated true (whatsmeow's choice).
void wa_payload_login_init(wa_payload_login_t *login, uint64_t username,
                           uint32_t device);

//  Create client settings with the defaults. Caller owns return value.
wa_payload_t *wa_payload_new(void);

//  Destroy the settings. NULL-safe; sets *self_p to NULL.
void wa_payload_destroy(wa_payload_t **self_p);

//  Set the WA Web version from "a.b.c". Returns -1 if malformed.
int wa_payload_set_version(wa_payload_t *self, const char *version);

//  The WA Web version as "a.b.c". Borrowed.
const char *wa_payload_version(wa_payload_t *self);

//  The build hash (MD5 of the version string). Borrowed, 16 bytes.
const uint8_t *wa_payload_build_hash(wa_payload_t *self);

//  UserAgent: platform (WA_PAYLOAD_PLATFORM_*), device name ("Desktop"),
//  OS version and build number ("0.1"), manufacturer (NULL = not sent).
void wa_payload_set_user_agent(wa_payload_t *self, int platform,
                               const char *device, const char *os_version,
                               const char *os_build_number,
                               const char *manufacturer);

//  UserAgent locale ("en", "US") and mobile codes ("000", "000").
void wa_payload_set_locale(wa_payload_t *self, const char *language,
                           const char *country);

//  WebInfo.webSubPlatform (WA_PAYLOAD_WEB_*).
void wa_payload_set_web_sub_platform(wa_payload_t *self, int sub_platform);

//  DeviceProps shown on the phone's linked devices list: os name,
//  version triple and platform type (WA_PAYLOAD_DEVICE_*).
void wa_payload_set_device_props(wa_payload_t *self, const char *os,
                                 uint32_t major, uint32_t minor, uint32_t patch,
                                 int platform_type);

//  DeviceProps.requireFullSync (ask the phone for the full history).
void wa_payload_set_full_sync(wa_payload_t *self, bool full_sync);

//  ClientPayload.pushName (NULL = not sent).
void wa_payload_set_push_name(wa_payload_t *self, const char *push_name);

//  ClientPayload.connectReason (WA_PAYLOAD_REASON_*).
void wa_payload_set_connect_reason(wa_payload_t *self, int reason);

//  Process-wide overrides of the client identity for every payload made
//  after the call (at start, before sessions): the WA Web version
//  ("a.b.c"), the name shown on the phone, its platform type
//  (WA_PAYLOAD_DEVICE_*, -1 keeps it). NULL keeps a value. Returns -1
//  (nothing changed) on a malformed version or a name of 0 or more than
//  WA_PAYLOAD_NAME_MAX bytes.
#define WA_PAYLOAD_NAME_MAX 64
int wa_payload_set_defaults(const char *version, const char *device_name,
                            int platform_type);

//  Serialised DeviceProps. Caller owns return value; sets *len_p.
uint8_t *wa_payload_device_props(wa_payload_t *self, size_t *len_p);

//  Serialised registration ClientPayload. Caller owns return value; sets
//  *len_p.
uint8_t *wa_payload_registration(wa_payload_t *self,
                                 const wa_payload_reg_t *reg, size_t *len_p);

//  Serialised login ClientPayload. Caller owns return value; sets *len_p.
uint8_t *wa_payload_login(wa_payload_t *self, const wa_payload_login_t *login,
                          size_t *len_p);

//  A ClientPayload as the server sees it. Strings are NULL when absent.
typedef struct {
    bool is_login;            //  username present: login, else register
    uint64_t username;        //  login: phone number
    uint32_t device;          //  login: device id
    bool passive;             //  passive flag
    bool pull;                //  pull flag
    int32_t lc;               //  login counter (0 if absent)
    bool lid_db_migrated;     //  LID migration flag
    int connect_reason;       //  connectReason (-1 if absent)
    char *push_name;          //  pushName
    int platform;             //  UserAgent.platform (-1 if absent)
    uint32_t version[3];      //  UserAgent.appVersion
    char *ua_device;          //  UserAgent.device
    char *os_version;         //  UserAgent.osVersion
    char *locale_language;    //  UserAgent.localeLanguageIso6391
    char *locale_country;     //  UserAgent.localeCountryIso31661Alpha2
    int web_sub_platform;     //  WebInfo.webSubPlatform (-1 if absent)
    bool has_registration;    //  devicePairingData present and complete
    wa_payload_reg_t reg;     //  registration keys
    uint8_t build_hash[16];   //  registration build hash
    char *device_os;          //  DeviceProps.os
    int device_platform_type; //  DeviceProps.platformType (-1 absent)
    bool require_full_sync;   //  DeviceProps.requireFullSync
} wa_payload_info_t;

//  Parse a ClientPayload (server side). Registration data is accepted
//  only if complete with the expected field sizes (4-byte regid, key type
//  05, 32-byte keys, 3-byte prekey id, 64-byte signature, 16-byte build
//  hash). Returns NULL if malformed. Caller owns return value.
wa_payload_info_t *wa_payload_parse(const uint8_t *data, size_t len);

//  True if the registration's signed prekey signature verifies with its
//  identity key.
bool wa_payload_info_reg_valid(const wa_payload_info_t *info);

//  Destroy a parsed payload. NULL-safe; sets *info_p to NULL.
void wa_payload_info_destroy(wa_payload_info_t **info_p);

//  Self test.
void wa_payload_test(bool verbose);

#endif
