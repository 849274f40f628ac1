/*  wa_payload - ClientPayload builders (client) and parser (server)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Builders fill protobuf-c structs on the stack that point into the
    settings, then pack them; nothing is kept between calls.
*/
#undef NDEBUG
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "cm/cm.h"
#include "wa/wa_crypto.h"
#include "wa/wa_handshake.pb-c.h"
#include "wa/wa_payload.h"
#include "wa/wa_vectors.h"

typedef Wa__Hs__ClientPayload pb_payload_t;
typedef Wa__Hs__ClientPayload__UserAgent pb_ua_t;
typedef Wa__Hs__ClientPayload__WebInfo pb_web_t;
typedef Wa__Hs__ClientPayload__DevicePairingRegistrationData pb_reg_t;
typedef Wa__Hs__DeviceProps pb_props_t;
typedef Wa__Hs__DeviceProps__HistorySyncConfig pb_history_t;
typedef Wa__Hs__AppVersion pb_version_t;

struct _wa_payload_t {
    uint32_t version[3];        //  WA Web version
    char version_str[40];       //  the same as "a.b.c"
    uint8_t build_hash[16];     //  MD5 of version_str
    int platform;               //  UserAgent.platform
    char *ua_device;            //  UserAgent.device
    char *os_version;           //  UserAgent.osVersion
    char *os_build_number;      //  UserAgent.osBuildNumber
    char *manufacturer;         //  UserAgent.manufacturer or NULL
    char *language;             //  locale language
    char *country;              //  locale country
    int web_sub_platform;       //  WebInfo.webSubPlatform
    char *device_os;            //  DeviceProps.os
    uint32_t device_version[3]; //  DeviceProps.version
    int device_platform_type;   //  DeviceProps.platformType
    bool full_sync;             //  DeviceProps.requireFullSync
    char *push_name;            //  ClientPayload.pushName or NULL
    int connect_reason;         //  ClientPayload.connectReason
};

//  Parse "a.b.c" into three uint32. Returns 0 or -1.
static int
s_parse_version(const char *text, uint32_t out[3])
{
    const char *p = text;
    for (int i = 0; i < 3; i++) {
        if (*p < '0' || *p > '9') {
            return -1;
        }
        char *end;
        errno = 0;
        unsigned long v = strtoul(p, &end, 10);
        if (errno || v > UINT32_MAX || end == p) {
            return -1;
        }
        out[i] = (uint32_t)v;
        if (i < 2 && *end != '.') {
            return -1;
        }
        if (i == 2 && *end != 0) {
            return -1;
        }
        p = end + 1;
    }
    return 0;
}

static void
s_replace(char **field, const char *value)
{
    free(*field);
    *field = cm_strdup(value);
}

void
wa_payload_login_init(wa_payload_login_t *login, uint64_t username,
                      uint32_t device)
{
    assert(login);
    memset(login, 0, sizeof(*login));
    login->username = username;
    login->device = device;
    login->passive = true;
    login->pull = true;
    login->lc = 1;
    login->lid_db_migrated = true;
}

//  The client identity of new payloads (wa_payload.h), overridable at
//  start (wa_payload_set_defaults).
static char s_version_text[40] = WA_IDENT_WEB_VERSION;
static char s_device_name[WA_PAYLOAD_NAME_MAX + 1] = WA_IDENT_DEVICE_NAME;
static int s_device_platform = WA_IDENT_DEVICE_PLATFORM;

int
wa_payload_set_defaults(const char *version, const char *device_name,
                        int platform_type)
{
    uint32_t v[3];
    if ((version && (strlen(version) >= sizeof s_version_text ||
                     s_parse_version(version, v) != 0)) ||
        (device_name &&
         (!*device_name || strlen(device_name) > WA_PAYLOAD_NAME_MAX))) {
        return -1;
    }
    if (version) {
        snprintf(s_version_text, sizeof s_version_text, "%s", version);
    }
    if (device_name) {
        snprintf(s_device_name, sizeof s_device_name, "%s", device_name);
    }
    if (platform_type >= 0) {
        s_device_platform = platform_type;
    }
    return 0;
}

wa_payload_t *
wa_payload_new(void)
{
    wa_payload_t *self = cm_alloc(sizeof(wa_payload_t));
    int rc = wa_payload_set_version(self, s_version_text);
    assert(rc == 0);
    wa_payload_set_user_agent(self, WA_IDENT_UA_PLATFORM, WA_IDENT_UA_DEVICE,
                              WA_IDENT_UA_OS_VERSION, WA_IDENT_UA_OS_BUILD,
                              NULL);
    wa_payload_set_locale(self, WA_IDENT_LANGUAGE, WA_IDENT_COUNTRY);
    self->web_sub_platform = WA_IDENT_WEB_SUB_PLATFORM;
    wa_payload_set_device_props(self, s_device_name, WA_IDENT_DEVICE_VERSION,
                                s_device_platform);
    self->connect_reason = WA_PAYLOAD_REASON_USER_ACTIVATED;
    return self;
}

void
wa_payload_destroy(wa_payload_t **self_p)
{
    if (self_p && *self_p) {
        wa_payload_t *self = *self_p;
        free(self->ua_device);
        free(self->os_version);
        free(self->os_build_number);
        free(self->manufacturer);
        free(self->language);
        free(self->country);
        free(self->device_os);
        free(self->push_name);
        free(self);
        *self_p = NULL;
    }
}

int
wa_payload_set_version(wa_payload_t *self, const char *version)
{
    assert(self);
    uint32_t v[3];
    if (!version || s_parse_version(version, v)) {
        return -1;
    }
    memcpy(self->version, v, sizeof(v));
    snprintf(self->version_str, sizeof(self->version_str), "%u.%u.%u", v[0],
             v[1], v[2]);
    unsigned int md_len = 0;
    int ok = EVP_Digest(self->version_str, strlen(self->version_str),
                        self->build_hash, &md_len, EVP_md5(), NULL);
    assert(ok == 1 && md_len == 16);
    return 0;
}

const char *
wa_payload_version(wa_payload_t *self)
{
    assert(self);
    return self->version_str;
}

const uint8_t *
wa_payload_build_hash(wa_payload_t *self)
{
    assert(self);
    return self->build_hash;
}

void
wa_payload_set_user_agent(wa_payload_t *self, int platform, const char *device,
                          const char *os_version, const char *os_build_number,
                          const char *manufacturer)
{
    assert(self && device && os_version && os_build_number);
    self->platform = platform;
    s_replace(&self->ua_device, device);
    s_replace(&self->os_version, os_version);
    s_replace(&self->os_build_number, os_build_number);
    s_replace(&self->manufacturer, manufacturer);
}

void
wa_payload_set_locale(wa_payload_t *self, const char *language,
                      const char *country)
{
    assert(self && language && country);
    s_replace(&self->language, language);
    s_replace(&self->country, country);
}

void
wa_payload_set_web_sub_platform(wa_payload_t *self, int sub_platform)
{
    assert(self);
    self->web_sub_platform = sub_platform;
}

void
wa_payload_set_device_props(wa_payload_t *self, const char *os, uint32_t major,
                            uint32_t minor, uint32_t patch, int platform_type)
{
    assert(self && os);
    s_replace(&self->device_os, os);
    self->device_version[0] = major;
    self->device_version[1] = minor;
    self->device_version[2] = patch;
    self->device_platform_type = platform_type;
}

void
wa_payload_set_full_sync(wa_payload_t *self, bool full_sync)
{
    assert(self);
    self->full_sync = full_sync;
}

void
wa_payload_set_push_name(wa_payload_t *self, const char *push_name)
{
    assert(self);
    s_replace(&self->push_name, push_name);
}

void
wa_payload_set_connect_reason(wa_payload_t *self, int reason)
{
    assert(self);
    self->connect_reason = reason;
}

static void
s_version(pb_version_t *pb, const uint32_t v[3])
{
    pb->has_primary = pb->has_secondary = pb->has_tertiary = true;
    pb->primary = v[0];
    pb->secondary = v[1];
    pb->tertiary = v[2];
}

uint8_t *
wa_payload_device_props(wa_payload_t *self, size_t *len_p)
{
    assert(self && len_p);
    pb_version_t version = WA__HS__APP_VERSION__INIT;
    s_version(&version, self->device_version);
    //  whatsmeow's history sync capabilities.
    pb_history_t history = WA__HS__DEVICE_PROPS__HISTORY_SYNC_CONFIG__INIT;
    history.has_storage_quota_mb = true;
    history.storage_quota_mb = 10240;
    history.has_inline_initial_payload_in_e2ee_msg = true;
    history.inline_initial_payload_in_e2ee_msg = true;
    history.has_support_call_log_history = true;
    history.support_call_log_history = true;
    history.has_support_bot_user_agent_chat_history = true;
    history.support_bot_user_agent_chat_history = true;
    history.has_support_cag_reactions_and_polls = true;
    history.support_cag_reactions_and_polls = true;
    history.has_support_biz_hosted_msg = true;
    history.support_biz_hosted_msg = true;
    history.has_support_recent_sync_chunk_message_count_tuning = true;
    history.support_recent_sync_chunk_message_count_tuning = true;
    history.has_support_hosted_group_msg = true;
    history.support_hosted_group_msg = true;
    history.has_support_fbid_bot_chat_history = true;
    history.support_fbid_bot_chat_history = true;
    history.has_support_message_association = true;
    history.support_message_association = true;
    history.has_support_group_history = true;
    history.support_group_history = true;
    history.has_thumbnail_sync_days_limit = true;
    history.thumbnail_sync_days_limit = 60;
    history.has_support_manus_history = true;
    history.support_manus_history = true;
    history.has_support_hatch_history = true;
    history.support_hatch_history = true;
    history.has_support_inline_contacts = true;
    history.support_inline_contacts = true;

    pb_props_t props = WA__HS__DEVICE_PROPS__INIT;
    props.os = self->device_os;
    props.version = &version;
    props.has_platform_type = true;
    props.platform_type =
        (Wa__Hs__DeviceProps__PlatformType)self->device_platform_type;
    props.has_require_full_sync = true;
    props.require_full_sync = self->full_sync;
    props.history_sync_config = &history;
    *len_p = wa__hs__device_props__get_packed_size(&props);
    uint8_t *out = cm_alloc(*len_p);
    wa__hs__device_props__pack(&props, out);
    return out;
}

//  Pack a payload after filling the parts both kinds share.
static uint8_t *
s_pack_common(wa_payload_t *self, pb_payload_t *payload, size_t *len_p)
{
    pb_version_t version = WA__HS__APP_VERSION__INIT;
    s_version(&version, self->version);
    pb_ua_t ua = WA__HS__CLIENT_PAYLOAD__USER_AGENT__INIT;
    ua.has_platform = true;
    ua.platform = (Wa__Hs__ClientPayload__UserAgent__Platform)self->platform;
    ua.app_version = &version;
    ua.mcc = (char *)"000";
    ua.mnc = (char *)"000";
    ua.os_version = self->os_version;
    ua.manufacturer = self->manufacturer;
    ua.device = self->ua_device;
    ua.os_build_number = self->os_build_number;
    ua.has_release_channel = true;
    ua.release_channel =
        WA__HS__CLIENT_PAYLOAD__USER_AGENT__RELEASE_CHANNEL__RELEASE;
    ua.locale_language_iso639_1 = self->language;
    ua.locale_country_iso3166_1_alpha2 = self->country;
    pb_web_t web = WA__HS__CLIENT_PAYLOAD__WEB_INFO__INIT;
    web.has_web_sub_platform = true;
    web.web_sub_platform =
        (Wa__Hs__ClientPayload__WebInfo__WebSubPlatform)self->web_sub_platform;
    payload->user_agent = &ua;
    payload->web_info = &web;
    payload->push_name = self->push_name;
    payload->has_connect_type = true;
    payload->connect_type = WA__HS__CLIENT_PAYLOAD__CONNECT_TYPE__WIFI_UNKNOWN;
    payload->has_connect_reason = true;
    payload->connect_reason =
        (Wa__Hs__ClientPayload__ConnectReason)self->connect_reason;
    *len_p = wa__hs__client_payload__get_packed_size(payload);
    uint8_t *out = cm_alloc(*len_p);
    wa__hs__client_payload__pack(payload, out);
    return out;
}

uint8_t *
wa_payload_registration(wa_payload_t *self, const wa_payload_reg_t *reg,
                        size_t *len_p)
{
    assert(self && reg && len_p);
    uint8_t regid[4] = {(uint8_t)(reg->registration_id >> 24),
                        (uint8_t)(reg->registration_id >> 16),
                        (uint8_t)(reg->registration_id >> 8),
                        (uint8_t)reg->registration_id};
    uint8_t key_type[1] = {0x05};
    uint8_t skey_id[3] = {(uint8_t)(reg->signed_prekey_id >> 16),
                          (uint8_t)(reg->signed_prekey_id >> 8),
                          (uint8_t)reg->signed_prekey_id};
    size_t props_len;
    uint8_t *props = wa_payload_device_props(self, &props_len);
    pb_reg_t pb_reg =
        WA__HS__CLIENT_PAYLOAD__DEVICE_PAIRING_REGISTRATION_DATA__INIT;
    pb_reg.has_e_regid = pb_reg.has_e_keytype = pb_reg.has_e_ident = true;
    pb_reg.has_e_skey_id = pb_reg.has_e_skey_val = true;
    pb_reg.has_e_skey_sig = pb_reg.has_build_hash = true;
    pb_reg.has_device_props = true;
    pb_reg.e_regid = (ProtobufCBinaryData){4, regid};
    pb_reg.e_keytype = (ProtobufCBinaryData){1, key_type};
    pb_reg.e_ident = (ProtobufCBinaryData){32, (uint8_t *)reg->identity_pub};
    pb_reg.e_skey_id = (ProtobufCBinaryData){3, skey_id};
    pb_reg.e_skey_val =
        (ProtobufCBinaryData){32, (uint8_t *)reg->signed_prekey_pub};
    pb_reg.e_skey_sig =
        (ProtobufCBinaryData){64, (uint8_t *)reg->signed_prekey_sig};
    pb_reg.build_hash = (ProtobufCBinaryData){16, self->build_hash};
    pb_reg.device_props = (ProtobufCBinaryData){props_len, props};

    pb_payload_t payload = WA__HS__CLIENT_PAYLOAD__INIT;
    payload.has_passive = true;
    payload.passive = false;
    payload.has_pull = true;
    payload.pull = false;
    payload.device_pairing_data = &pb_reg;
    uint8_t *out = s_pack_common(self, &payload, len_p);
    free(props);
    return out;
}

uint8_t *
wa_payload_login(wa_payload_t *self, const wa_payload_login_t *login,
                 size_t *len_p)
{
    assert(self && login && len_p);
    pb_payload_t payload = WA__HS__CLIENT_PAYLOAD__INIT;
    payload.has_username = true;
    payload.username = login->username;
    payload.has_device = true;
    payload.device = login->device;
    payload.has_passive = true;
    payload.passive = login->passive;
    payload.has_pull = true;
    payload.pull = login->pull;
    if (login->lc) {
        payload.has_lc = true;
        payload.lc = login->lc;
    }
    payload.has_lid_db_migrated = true;
    payload.lid_db_migrated = login->lid_db_migrated;
    return s_pack_common(self, &payload, len_p);
}

//  Copy of a protobuf-c string (NULL stays NULL).
static char *
s_dup(const char *s)
{
    return s ? cm_strdup(s) : NULL;
}

static bool
s_bytes(const ProtobufCBinaryData *b, bool has, size_t len)
{
    return has && b->len == len && b->data;
}

//  Fill the registration part; false if incomplete or malformed.
static bool
s_parse_reg(const pb_reg_t *pb, wa_payload_info_t *info)
{
    if (!s_bytes(&pb->e_regid, pb->has_e_regid, 4) ||
        !s_bytes(&pb->e_keytype, pb->has_e_keytype, 1) ||
        pb->e_keytype.data[0] != 0x05 ||
        !s_bytes(&pb->e_ident, pb->has_e_ident, 32) ||
        !s_bytes(&pb->e_skey_id, pb->has_e_skey_id, 3) ||
        !s_bytes(&pb->e_skey_val, pb->has_e_skey_val, 32) ||
        !s_bytes(&pb->e_skey_sig, pb->has_e_skey_sig, 64) ||
        !s_bytes(&pb->build_hash, pb->has_build_hash, 16)) {
        return false;
    }
    const uint8_t *r = pb->e_regid.data;
    info->reg.registration_id = ((uint32_t)r[0] << 24) |
                                ((uint32_t)r[1] << 16) | ((uint32_t)r[2] << 8) |
                                r[3];
    const uint8_t *k = pb->e_skey_id.data;
    info->reg.signed_prekey_id =
        ((uint32_t)k[0] << 16) | ((uint32_t)k[1] << 8) | k[2];
    memcpy(info->reg.identity_pub, pb->e_ident.data, 32);
    memcpy(info->reg.signed_prekey_pub, pb->e_skey_val.data, 32);
    memcpy(info->reg.signed_prekey_sig, pb->e_skey_sig.data, 64);
    memcpy(info->build_hash, pb->build_hash.data, 16);
    if (pb->has_device_props) {
        pb_props_t *props = wa__hs__device_props__unpack(
            NULL, pb->device_props.len, pb->device_props.data);
        if (!props) {
            return false;
        }
        info->device_os = s_dup(props->os);
        if (props->has_platform_type) {
            info->device_platform_type = (int)props->platform_type;
        }
        info->require_full_sync = props->require_full_sync;
        wa__hs__device_props__free_unpacked(props, NULL);
    }
    return true;
}

wa_payload_info_t *
wa_payload_parse(const uint8_t *data, size_t len)
{
    if (!data && len) {
        return NULL;
    }
    pb_payload_t *pb = wa__hs__client_payload__unpack(NULL, len, data);
    if (!pb) {
        return NULL;
    }
    wa_payload_info_t *info = cm_alloc(sizeof(wa_payload_info_t));
    info->is_login = pb->has_username;
    info->username = pb->username;
    info->device = pb->device;
    info->passive = pb->passive;
    info->pull = pb->pull;
    info->lc = pb->has_lc ? pb->lc : 0;
    info->lid_db_migrated = pb->lid_db_migrated;
    info->connect_reason =
        pb->has_connect_reason ? (int)pb->connect_reason : -1;
    info->push_name = s_dup(pb->push_name);
    info->platform = -1;
    info->web_sub_platform = -1;
    info->device_platform_type = -1;
    if (pb->user_agent) {
        pb_ua_t *ua = pb->user_agent;
        if (ua->has_platform) {
            info->platform = (int)ua->platform;
        }
        if (ua->app_version) {
            info->version[0] = ua->app_version->primary;
            info->version[1] = ua->app_version->secondary;
            info->version[2] = ua->app_version->tertiary;
        }
        info->ua_device = s_dup(ua->device);
        info->os_version = s_dup(ua->os_version);
        info->locale_language = s_dup(ua->locale_language_iso639_1);
        info->locale_country = s_dup(ua->locale_country_iso3166_1_alpha2);
    }
    if (pb->web_info && pb->web_info->has_web_sub_platform) {
        info->web_sub_platform = (int)pb->web_info->web_sub_platform;
    }
    bool ok = true;
    if (pb->device_pairing_data && !info->is_login) {
        ok = s_parse_reg(pb->device_pairing_data, info);
        info->has_registration = ok;
    }
    wa__hs__client_payload__free_unpacked(pb, NULL);
    if (!ok) {
        wa_payload_info_destroy(&info);
    }
    return info;
}

bool
wa_payload_info_reg_valid(const wa_payload_info_t *info)
{
    assert(info);
    if (!info->has_registration) {
        return false;
    }
    uint8_t msg[33];
    msg[0] = 0x05;
    memcpy(msg + 1, info->reg.signed_prekey_pub, 32);
    return wa_xeddsa_verify(info->reg.identity_pub, msg, sizeof(msg),
                            info->reg.signed_prekey_sig, 64) == 0;
}

void
wa_payload_info_destroy(wa_payload_info_t **info_p)
{
    if (info_p && *info_p) {
        wa_payload_info_t *info = *info_p;
        free(info->push_name);
        free(info->ua_device);
        free(info->os_version);
        free(info->locale_language);
        free(info->locale_country);
        free(info->device_os);
        free(info);
        *info_p = NULL;
    }
}

//  --------------------------------------------------------------------------
//  Self test

void
wa_payload_test(bool verbose)
{
    printf(" * wa_payload: ");
    if (verbose) {
        printf("\n");
    }
    //  Process-wide overrides reach new payloads; bad ones change nothing
    assert(wa_payload_set_defaults("2.3000.1", "Shop PC",
                                   WA_PAYLOAD_DEVICE_DESKTOP) == 0);
    wa_payload_t *over = wa_payload_new();
    assert(strcmp(wa_payload_version(over), "2.3000.1") == 0);
    assert(strcmp(over->device_os, "Shop PC") == 0 &&
           over->device_platform_type == WA_PAYLOAD_DEVICE_DESKTOP);
    wa_payload_destroy(&over);
    assert(wa_payload_set_defaults("2.x", NULL, -1) == -1);
    assert(wa_payload_set_defaults(NULL, "", -1) == -1);
    assert(wa_payload_set_defaults(WA_IDENT_WEB_VERSION, WA_IDENT_DEVICE_NAME,
                                   WA_IDENT_DEVICE_PLATFORM) == 0);
    wa_payload_t *self = wa_payload_new();
    assert(strcmp(wa_payload_version(self), WA_PAYLOAD_DEFAULT_VERSION) == 0);
    assert(strcmp(self->device_os, "Wharf") == 0);
    //  The vectors were made with Baileys' version
    assert(wa_payload_set_version(self, "2.3000.1035194821") == 0);
    //  MD5("2.3000.1035194821")
    char hex[33];
    cm_hex(wa_payload_build_hash(self), 16, hex);
    assert(strcmp(hex, "a2c9471eff910a9e1ae659890a28872d") == 0);
    assert(wa_payload_set_version(self, "2.3000") == -1);
    assert(wa_payload_set_version(self, "2.3000.x") == -1);
    assert(wa_payload_set_version(self, "2.3000.1.4") == -1);
    assert(wa_payload_set_version(self, "2.3000.99999999999") == -1);
    assert(wa_payload_set_version(self, "-2.3000.1") == -1);
    assert(wa_payload_set_version(self, "2.3000.1045649367") == 0);
    assert(strcmp(wa_payload_version(self), "2.3000.1045649367") == 0);
    char hex2[33];
    cm_hex(wa_payload_build_hash(self), 16, hex2);
    assert(strcmp(hex, hex2) != 0);
    assert(wa_payload_set_version(self, "2.3000.1035194821") == 0);

    //  The login payload of noise-handshake.json (Baileys-style: no lc,
    //  lidDbMigrated false), byte for byte.
    json_t *vector = wa_vectors_load("noise-handshake.json");
    wa_payload_login_t login;
    wa_payload_login_init(&login, 15551234567ull, 7);
    assert(login.lc == 1 && login.lid_db_migrated && login.passive);
    login.lc = 0;
    login.lid_db_migrated = false;
    size_t len;
    uint8_t *bytes = wa_payload_login(self, &login, &len);
    assert(wa_vectors_field_eq(vector, "client_payload_plaintext_hex", bytes,
                               len));

    //  The server side parses it back.
    wa_payload_info_t *info = wa_payload_parse(bytes, len);
    assert(info);
    assert(info->is_login && info->username == 15551234567ull);
    assert(info->device == 7 && info->passive && info->pull);
    assert(info->lc == 0 && !info->lid_db_migrated);
    assert(info->platform == WA_PAYLOAD_PLATFORM_WEB);
    assert(info->version[0] == 2 && info->version[1] == 3000 &&
           info->version[2] == 1035194821);
    assert(strcmp(info->ua_device, "Desktop") == 0);
    assert(strcmp(info->locale_country, "US") == 0);
    assert(info->web_sub_platform == WA_PAYLOAD_WEB_BROWSER);
    assert(info->connect_reason == WA_PAYLOAD_REASON_USER_ACTIVATED);
    assert(!info->has_registration && !wa_payload_info_reg_valid(info));
    assert(info->push_name == NULL);
    wa_payload_info_destroy(&info);
    assert(info == NULL);
    //  Truncations never crash; most are refused.
    for (size_t n = 0; n < len; n++) {
        info = wa_payload_parse(bytes, n);
        wa_payload_info_destroy(&info);
    }
    assert(wa_payload_parse((const uint8_t *)"\xff\xff", 2) == NULL);
    free(bytes);

    //  wm-style login with lc and a push name.
    wa_payload_login_init(&login, 491701234567ull, 12);
    wa_payload_set_push_name(self, "Wharf Bot");
    bytes = wa_payload_login(self, &login, &len);
    info = wa_payload_parse(bytes, len);
    assert(info && info->lc == 1 && info->lid_db_migrated);
    assert(info->device == 12 && strcmp(info->push_name, "Wharf Bot") == 0);
    wa_payload_info_destroy(&info);
    free(bytes);
    wa_payload_set_push_name(self, NULL);

    //  Registration with real keys and a valid signature.
    wa_payload_reg_t reg = {.registration_id = 0x01020304,
                            .signed_prekey_id = 1};
    uint8_t ident_priv[32], skey_priv[32];
    assert(wa_x25519_keypair(ident_priv, reg.identity_pub) == 0);
    assert(wa_x25519_keypair(skey_priv, reg.signed_prekey_pub) == 0);
    uint8_t msg[33] = {0x05};
    memcpy(msg + 1, reg.signed_prekey_pub, 32);
    assert(wa_xeddsa_sign(ident_priv, msg, 33, reg.signed_prekey_sig) == 0);
    wa_payload_set_device_props(self, "Wharf", 1, 2, 3,
                                WA_PAYLOAD_DEVICE_DESKTOP);
    wa_payload_set_full_sync(self, true);
    wa_payload_set_user_agent(self, WA_PAYLOAD_PLATFORM_MACOS, "Mac", "14.0",
                              "14.0", "Apple");
    wa_payload_set_locale(self, "de", "DE");
    wa_payload_set_web_sub_platform(self, WA_PAYLOAD_WEB_DARWIN);
    wa_payload_set_connect_reason(self, WA_PAYLOAD_REASON_ERROR_RECONNECT);
    bytes = wa_payload_registration(self, &reg, &len);
    info = wa_payload_parse(bytes, len);
    assert(info && !info->is_login && info->has_registration);
    assert(!info->passive && !info->pull);
    assert(info->reg.registration_id == 0x01020304);
    assert(info->reg.signed_prekey_id == 1);
    assert(memcmp(info->reg.identity_pub, reg.identity_pub, 32) == 0);
    assert(memcmp(info->build_hash, wa_payload_build_hash(self), 16) == 0);
    assert(strcmp(info->device_os, "Wharf") == 0);
    assert(info->device_platform_type == WA_PAYLOAD_DEVICE_DESKTOP);
    assert(info->require_full_sync);
    assert(info->platform == WA_PAYLOAD_PLATFORM_MACOS);
    assert(strcmp(info->locale_language, "de") == 0);
    assert(info->web_sub_platform == WA_PAYLOAD_WEB_DARWIN);
    assert(info->connect_reason == WA_PAYLOAD_REASON_ERROR_RECONNECT);
    assert(wa_payload_info_reg_valid(info));
    info->reg.signed_prekey_pub[0] ^= 1;
    assert(!wa_payload_info_reg_valid(info));
    wa_payload_info_destroy(&info);
    //  Every truncation or corruption is handled.
    for (size_t n = 0; n < len; n++) {
        info = wa_payload_parse(bytes, n);
        wa_payload_info_destroy(&info);
        bytes[n] ^= 0x5a;
        info = wa_payload_parse(bytes, len);
        wa_payload_info_destroy(&info);
        bytes[n] ^= 0x5a;
    }
    free(bytes);
    //  DeviceProps alone: os, version and the history sync config.
    bytes = wa_payload_device_props(self, &len);
    pb_props_t *props = wa__hs__device_props__unpack(NULL, len, bytes);
    assert(props && strcmp(props->os, "Wharf") == 0);
    assert(props->version->primary == 1 && props->version->tertiary == 3);
    assert(props->history_sync_config->storage_quota_mb == 10240);
    assert(props->history_sync_config->thumbnail_sync_days_limit == 60);
    wa__hs__device_props__free_unpacked(props, NULL);
    free(bytes);
    wa_crypto_wipe(ident_priv, 32);
    wa_crypto_wipe(skey_priv, 32);
    json_decref(vector);
    wa_payload_destroy(&self);
    wa_payload_destroy(&self);
    printf("OK\n");
}
