/*  gw_contacts - contacts: is a number on WhatsApp, contact info, about,
    profile picture, block and unblock (WAHA /api/contacts/… with
    ?session=, /api/{session}/contacts/…, Wawp /v2/contacts/…)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Every route checks its input (400 naming the field, nothing sent),
    finds the session (404) and needs it WORKING (422), then asks the
    session-worker holding it (proto/PROTOCOL.md, family worker):
      check-exists  contact.check {phone}        -> {numberExists, chatId?}
                    (also WAHA's deprecated GET /api/checkNumberStatus)
      about         contact.about {id}           -> {id, about}
      picture       contact.picture {id, refresh} -> {profilePictureURL}
      block/unblock contact.block {id, block}    -> {success:true}
      info          contact.info {id}            -> Contact
      all           store chat.list (person chats) + contact.blocked
    Contact (WAHA): {id, number, name, pushname, shortName, isMe, isGroup,
    isWAContact, isMyContact, isBlocked}.

    Sessions: WAHA's /api/contacts/… routes take `session` from the query (block
    and unblock: the body), default "default"; /api/{session}/… from the
    path; /v2 the Wawp instance. Contact ids: a phone number (with '+'
    and separators) or a chat id "…@c.us" / "…@lid".
*/
#ifndef GW_CONTACTS_H_INCLUDED
#define GW_CONTACTS_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "gw_req.h"

//  Wait for WhatsApp's answer, ms.
#define GW_CONTACTS_TIMEOUT_MS 20000
//  Contacts per page of contacts/all.
#define GW_CONTACTS_LIST_MAX 1000
#define GW_CONTACTS_LIST_DEFAULT 100

void gw_contacts_all(gw_req_t *req);
void gw_contacts_get(gw_req_t *req);
void gw_contacts_check(gw_req_t *req);
void gw_contacts_about(gw_req_t *req);
void gw_contacts_picture(gw_req_t *req);
void gw_contacts_block(gw_req_t *req);
void gw_contacts_unblock(gw_req_t *req);

//  OpenAPI schemas of these routes. Caller owns return value.
json_t *gw_contacts_schemas(void);

#define GW_CONTACTS_TAG "👤 Contacts"
#define GW_CONTACTS_WAWP_TAG "Wawp: Contacts"
#define GW_CONTACTS_S_Q "session|string|Session name (default: default)"
#define GW_CONTACTS_ID_Q                                                       \
    "contactId|string|Phone number or chat id (12132132130@c.us)"
#define GW_CONTACTS_PIC_Q                                                      \
    "refresh|boolean|Ask WhatsApp again instead of the 24 h cache"
#define GW_CONTACTS_LIST_Q                                                     \
    "limit|integer|Most contacts returned;offset|integer|Contacts skipped;"    \
    "sortBy|string|id or name;sortOrder|string|asc or desc"
#define GW_CONTACTS_WAWP_Q                                                     \
    "instance_id|string|Instance id (also accepted in a JSON or form body)"

#define GW_CONTACTS_ROUTE(method, path, handler, auth, tag, op, sum, req, res, \
                          query)                                               \
    GW_CONTACTS_ROUTE_ST(method, path, handler, auth, 200, tag, op, sum, req,  \
                         res, query)
//  A row with its own success status (WAHA's block and unblock: 201).
#define GW_CONTACTS_ROUTE_ST(method, path, handler, auth, status, tag, op,     \
                             sum, req, res, query)                             \
    {                                                                          \
        method, path, handler, auth, status, tag, op, sum, req, res, query,    \
            false                                                              \
    }

#define GW_CONTACTS_ROUTES                                                     \
    GW_CONTACTS_ROUTE("GET", "/api/contacts/all", gw_contacts_all,             \
                      GW_AUTH_ADMIN, GW_CONTACTS_TAG, "contactsAll",           \
                      "All contacts", NULL, "ContactList",                     \
                      GW_CONTACTS_S_Q ";" GW_CONTACTS_LIST_Q),                 \
        GW_CONTACTS_ROUTE("GET", "/api/contacts", gw_contacts_get,             \
                          GW_AUTH_ADMIN, GW_CONTACTS_TAG, "contactsGet",       \
                          "A contact's basic info", NULL, "Contact",           \
                          GW_CONTACTS_S_Q ";" GW_CONTACTS_ID_Q),               \
        GW_CONTACTS_ROUTE(                                                     \
            "GET", "/api/contacts/check-exists", gw_contacts_check,            \
            GW_AUTH_ADMIN, GW_CONTACTS_TAG, "contactsCheckExists",             \
            "Is a phone number on WhatsApp", NULL, "NumberExistResult",        \
            GW_CONTACTS_S_Q ";phone|string|Phone number"),                     \
        {"GET",                                                                \
         "/api/checkNumberStatus",                                             \
         gw_contacts_check,                                                    \
         GW_AUTH_ADMIN,                                                        \
         200,                                                                  \
         GW_CONTACTS_TAG,                                                      \
         "checkNumberStatus",                                                  \
         "Is a phone number on WhatsApp (deprecated: use "                     \
         "/api/contacts/check-exists)",                                        \
         NULL,                                                                 \
         "NumberExistResult",                                                  \
         GW_CONTACTS_S_Q ";phone|string|Phone number",                         \
         true},                                                                \
        GW_CONTACTS_ROUTE("GET", "/api/contacts/about", gw_contacts_about,     \
                          GW_AUTH_ADMIN, GW_CONTACTS_TAG, "contactsAbout",     \
                          "A contact's about text", NULL, "ContactAbout",      \
                          GW_CONTACTS_S_Q ";" GW_CONTACTS_ID_Q),               \
        GW_CONTACTS_ROUTE(                                                     \
            "GET", "/api/contacts/profile-picture", gw_contacts_picture,       \
            GW_AUTH_ADMIN, GW_CONTACTS_TAG, "contactsProfilePicture",          \
            "A contact's profile picture URL", NULL, "ProfilePictureUrl",      \
            GW_CONTACTS_S_Q ";" GW_CONTACTS_ID_Q ";" GW_CONTACTS_PIC_Q),       \
        GW_CONTACTS_ROUTE_ST("POST", "/api/contacts/block", gw_contacts_block, \
                             GW_AUTH_ADMIN, 201, GW_CONTACTS_TAG,              \
                             "contactsBlock", "Block a contact",               \
                             "ContactRequest", "SuccessResponse", NULL),       \
        GW_CONTACTS_ROUTE_ST(                                                  \
            "POST", "/api/contacts/unblock", gw_contacts_unblock,              \
            GW_AUTH_ADMIN, 201, GW_CONTACTS_TAG, "contactsUnblock",            \
            "Unblock a contact", "ContactRequest", "SuccessResponse", NULL),   \
        GW_CONTACTS_ROUTE("GET", "/api/{session}/contacts/all",                \
                          gw_contacts_all, GW_AUTH_ADMIN, GW_CONTACTS_TAG,     \
                          "sessionContactsAll", "All contacts", NULL,          \
                          "ContactList", GW_CONTACTS_LIST_Q),                  \
        GW_CONTACTS_ROUTE("GET", "/api/{session}/contacts/check-exists",       \
                          gw_contacts_check, GW_AUTH_ADMIN, GW_CONTACTS_TAG,   \
                          "sessionContactsCheckExists",                        \
                          "Is a phone number on WhatsApp", NULL,               \
                          "NumberExistResult", "phone|string|Phone number"),   \
        GW_CONTACTS_ROUTE("GET", "/api/{session}/contacts/{id}",               \
                          gw_contacts_get, GW_AUTH_ADMIN, GW_CONTACTS_TAG,     \
                          "sessionContactsGet", "A contact's basic info",      \
                          NULL, "Contact", NULL),                              \
        GW_CONTACTS_ROUTE("GET", "/api/{session}/contacts/{id}/about",         \
                          gw_contacts_about, GW_AUTH_ADMIN, GW_CONTACTS_TAG,   \
                          "sessionContactsAbout", "A contact's about text",    \
                          NULL, "ContactAbout", NULL),                         \
        GW_CONTACTS_ROUTE("GET",                                               \
                          "/api/{session}/contacts/{id}/profile-picture",      \
                          gw_contacts_picture, GW_AUTH_ADMIN, GW_CONTACTS_TAG, \
                          "sessionContactsProfilePicture",                     \
                          "A contact's profile picture URL", NULL,             \
                          "ProfilePictureUrl", GW_CONTACTS_PIC_Q),             \
        GW_CONTACTS_ROUTE_ST(                                                  \
            "POST", "/api/{session}/contacts/{id}/block", gw_contacts_block,   \
            GW_AUTH_ADMIN, 201, GW_CONTACTS_TAG, "sessionContactsBlock",       \
            "Block a contact", NULL, "SuccessResponse", NULL),                 \
        GW_CONTACTS_ROUTE_ST("POST", "/api/{session}/contacts/{id}/unblock",   \
                             gw_contacts_unblock, GW_AUTH_ADMIN, 201,          \
                             GW_CONTACTS_TAG, "sessionContactsUnblock",        \
                             "Unblock a contact", NULL, "SuccessResponse",     \
                             NULL),                                            \
        GW_CONTACTS_ROUTE(                                                     \
            "GET", "/v2/contacts/all", gw_contacts_all, GW_AUTH_INSTANCE,      \
            GW_CONTACTS_WAWP_TAG, "wawpContactsAll", "All contacts", NULL,     \
            "ContactList", GW_CONTACTS_WAWP_Q ";" GW_CONTACTS_LIST_Q),         \
        GW_CONTACTS_ROUTE("GET", "/v2/contacts/info", gw_contacts_get,         \
                          GW_AUTH_INSTANCE, GW_CONTACTS_WAWP_TAG,              \
                          "wawpContactsInfo", "A contact's basic info", NULL,  \
                          "Contact", GW_CONTACTS_WAWP_Q ";" GW_CONTACTS_ID_Q), \
        GW_CONTACTS_ROUTE(                                                     \
            "GET", "/v2/contacts/check-exists", gw_contacts_check,             \
            GW_AUTH_INSTANCE, GW_CONTACTS_WAWP_TAG, "wawpContactsCheckExists", \
            "Is a phone number on WhatsApp", NULL, "NumberExistResult",        \
            GW_CONTACTS_WAWP_Q ";phone|string|Phone number"),                  \
        GW_CONTACTS_ROUTE("GET", "/v2/contacts/about", gw_contacts_about,      \
                          GW_AUTH_INSTANCE, GW_CONTACTS_WAWP_TAG,              \
                          "wawpContactsAbout", "A contact's about text", NULL, \
                          "ContactAbout",                                      \
                          GW_CONTACTS_WAWP_Q ";" GW_CONTACTS_ID_Q),            \
        GW_CONTACTS_ROUTE(                                                     \
            "GET", "/v2/contacts/profile-picture", gw_contacts_picture,        \
            GW_AUTH_INSTANCE, GW_CONTACTS_WAWP_TAG,                            \
            "wawpContactsProfilePicture", "A contact's profile picture URL",   \
            NULL, "ProfilePictureUrl",                                         \
            GW_CONTACTS_WAWP_Q ";" GW_CONTACTS_ID_Q ";" GW_CONTACTS_PIC_Q),    \
        GW_CONTACTS_ROUTE("POST", "/v2/contacts/block", gw_contacts_block,     \
                          GW_AUTH_INSTANCE, GW_CONTACTS_WAWP_TAG,              \
                          "wawpContactsBlock", "Block a contact",              \
                          "WawpContactRequest", "SuccessResponse",             \
                          GW_CONTACTS_WAWP_Q ";" GW_CONTACTS_ID_Q),            \
        GW_CONTACTS_ROUTE("POST", "/v2/contacts/unblock", gw_contacts_unblock, \
                          GW_AUTH_INSTANCE, GW_CONTACTS_WAWP_TAG,              \
                          "wawpContactsUnblock", "Unblock a contact",          \
                          "WawpContactRequest", "SuccessResponse",             \
                          GW_CONTACTS_WAWP_Q ";" GW_CONTACTS_ID_Q),

void gw_contacts_test(bool verbose);

#endif
