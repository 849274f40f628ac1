/*  gw_groups - WhatsApp groups: create, list, get, participants
    (WAHA /api/{session}/groups..., Wawp /v2/groups...)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Each route checks its input, then sends one command to the
    session-worker holding the session (proto/PROTOCOL.md, family worker),
    which asks WhatsApp (w:g2 IQs):
      group.create {name, subject, participants:[chat id]} -> group
      group.list {name} -> {groups:[group]}
      group.get {name, id} -> group
      group.participants {name, id, action:"add"|"remove"|"promote"|
        "demote", participants:[chat id]} -> {participants:[{id, status}]}
    The group object is the worker's (sw_wagroup.h): {id "…@g.us",
    subject, description, owner, creation, size, addressingMode,
    announce, restrict, participants:[{id, lid?, role, admin, isAdmin,
    isSuperAdmin}]}.

    Input: `name` (create) is 1 to 100 characters; `participants` is an
    array of {id} objects (or of chat id strings; on /v2 also that array
    as a JSON string in the query), at most GW_GROUPS_MAX_PARTICIPANTS,
    each a person's chat id (phone number, "…@c.us" or "…@lid"). Group
    ids are "<digits>@g.us" (the "@g.us" may be left out); Wawp takes the
    id from the path or, when the path says "{id}", from `id` in the
    query or body. Bad input: 400 naming the field; a session that is
    not WORKING: 422; WhatsApp's refusals: 403 (not an admin or member),
    404 (no such group), 400, 502.

    GET /api/{session}/groups takes WAHA's limit, offset, sortBy (id,
    subject), sortOrder (asc, desc) and exclude=participants;
    GET /api/{session}/groups/count answers WAHA's {count} from the same
    group.list; POST …/groups/refresh reads it too (Wharf keeps no copy
    of the groups) and answers {success:true}. Every route answers 200,
    as WAHA's document declares (POST included), but create (201).

    The other routes (WAHA's, each one worker command):
      GET  …/groups/join-info?code=       group.join_info -> group object
      POST …/groups/join {code}           group.join -> {id}
      POST …/groups/{id}/leave            group.leave -> {success}
      DELETE …/groups/{id}                group.get, group.participants
          remove (everyone else), group.leave -> {success}
      PUT  …/groups/{id}/subject {subject}            -> {success}
      PUT  …/groups/{id}/description {description}    -> {success}
      GET|PUT …/groups/{id}/settings/security/info-admin-only and
          …/messages-admin-only {adminsOnly}: group.get (restrict,
          announce) / group.setting (locked, announcement) -> {adminsOnly}
      GET  …/groups/{id}/invite-code      group.invite -> "https://chat.
          whatsapp.com/CODE" (a JSON string)
      POST …/groups/{id}/invite-code/revoke  the new link
      GET  …/groups/{id}/participants/v2  [{id, pn?, role}]
      GET  …/groups/{id}/picture?refresh= contact.picture {id, refresh}
          -> {url} (null: no picture; kept 24 hours unless refresh=true)
      PUT  …/groups/{id}/picture {file:{url | data}}: media-service
          (media.profile_picture, as for the profile picture) makes the
          image a 640x640 JPEG, then group.picture with it as blob 0
          -> {success}
      DELETE …/groups/{id}/picture        group.picture, no blob
          -> {success}
    GET|PUT …/groups/{id}/settings/security/membership-approval
      {newMembersApprovalRequired}: group.get (approval) / group.setting
      (approval) -> {newMembersApprovalRequired}
    Join requests (a group in membership approval mode turns joins by
    link into requests; admins answer them; Wharf's routes, as WAHA's
    stored extract of WAHA's document has none; WAHA 2026.8.2 has them):
      GET  …/groups/{id}/participants/join-requests  group.requests ->
          [{id, lid?, requestedAt (s), method}], each with WAHA 2026.8's
          names beside: requesterId (lid or id), requesterPn (the
          number or null), requestMethod, timestamp, addedById and
          parentGroupId (null)
      POST …/groups/{id}/participants/join-requests/approve and …/reject
          {participants:[{id}]}: group.requests_action -> [{id, status,
          requesterId, success, error? (status unless 200)}] (404: no
          request of theirs pending; approved ones become members)
    Wawp (/v2/groups…, instance_id) has every route above in WAHA's
    paths with the prefix swapped, answering 200: create, list, get,
    participants, add/remove/promote/demote, picture, count, refresh,
    join-info, join, leave, delete, subject, description, the three
    security settings, invite-code and revoke, participants/v2 and the
    join requests; values may come in the query, and a literal {id} in
    the path takes `id` from the query or body.
    Another member's picture change (a "picture" notification from the
    group) is group.v2.update with group {id, picture: the new picture
    id, or null when removed}; GET …/picture then gives its URL.
    `code` is a bare invite code or a https://chat.whatsapp.com/ link; a
    subject is 1 to 100 characters, a description at most 2048 ("" deletes
    it); bad input is a 400 before anything is sent; an invite code that
    does not exist (or was revoked) is a 404, someone who is not a member
    (remove, promote, demote) a 400.
*/
#ifndef GW_GROUPS_H_INCLUDED
#define GW_GROUPS_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "gw_req.h"

//  Most participants in one request (a group holds 1024 members, its
//  creator included).
#define GW_GROUPS_MAX_PARTICIPANTS 1023
//  Wait for WhatsApp's answer to a group request, ms.
#define GW_GROUPS_TIMEOUT_MS 20000

//  Check a group id ("120363…@g.us", or the digits alone: 18 digits, or
//  the old "<phone>-<seconds>") and give its API form. NULL when it is
//  no group id. Caller owns return value.
char *gw_groups_id(const char *text);

//  Handlers.
void gw_groups_create(gw_req_t *req);
void gw_groups_list(gw_req_t *req);
void gw_groups_count(gw_req_t *req);
void gw_groups_get(gw_req_t *req);
void gw_groups_participants(gw_req_t *req);
void gw_groups_add(gw_req_t *req);
void gw_groups_remove(gw_req_t *req);
void gw_groups_promote(gw_req_t *req);
void gw_groups_demote(gw_req_t *req);
void gw_groups_refresh(gw_req_t *req);
void gw_groups_join_info(gw_req_t *req);
void gw_groups_join(gw_req_t *req);
void gw_groups_leave(gw_req_t *req);
void gw_groups_delete(gw_req_t *req);
void gw_groups_subject(gw_req_t *req);
void gw_groups_description(gw_req_t *req);
void gw_groups_info_admin_only(gw_req_t *req);
void gw_groups_messages_admin_only(gw_req_t *req);
void gw_groups_membership_approval(gw_req_t *req);
void gw_groups_invite_code(gw_req_t *req);
void gw_groups_invite_revoke(gw_req_t *req);
void gw_groups_participants2(gw_req_t *req);
void gw_groups_picture_get(gw_req_t *req);
void gw_groups_picture_set(gw_req_t *req);
void gw_groups_picture_delete(gw_req_t *req);
void gw_groups_requests(gw_req_t *req);
void gw_groups_requests_approve(gw_req_t *req);
void gw_groups_requests_reject(gw_req_t *req);

//  WAHA's participants/v2 list [{id, pn?, role}] of a group object (LID
//  groups: id the LID, pn the phone number). Caller owns return value.
json_t *gw_groups_participants_v2(const json_t *group);

//  OpenAPI schemas of these routes. Caller owns return value.
json_t *gw_groups_schemas(void);

#define GW_GROUPS_TAG "👥 Groups"
#define GW_GROUPS_WAWP_TAG "Wawp: Groups"
#define GW_GROUPS_WAWP_Q                                                       \
    "instance_id|string|Instance id (also accepted in a JSON or form body)"
#define GW_GROUPS_WAWP_ID_Q                                                    \
    GW_GROUPS_WAWP_Q ";id|string|Group id (when the path says {id})"
#define GW_GROUPS_PICTURE_Q                                                    \
    "refresh|boolean|Ask WhatsApp again instead of the copy kept 24 hours"
#define GW_GROUPS_LIST_Q                                                       \
    "limit|integer|Most groups returned;offset|integer|Groups skipped;"        \
    "sortBy|string|id or subject;sortOrder|string|asc or desc;"                \
    "exclude|string|participants: leave participants out"

//  One route row (gw_api_t fields in order).
#define GW_GROUPS_ROUTE(method, path, handler, auth, status, tag, op, sum,     \
                        req, res, query)                                       \
    {                                                                          \
        method, path, handler, auth, status, tag, op, sum, req, res, query,    \
            false                                                              \
    }

//  A Wawp row: /v2 path, instance auth, answers 200, Wawp's tag.
#define GW_GROUPS_WAWP(method, path, handler, op, sum, req, res, query)        \
    GW_GROUPS_ROUTE(method, path, handler, GW_AUTH_INSTANCE, 200,              \
                    GW_GROUPS_WAWP_TAG, op, sum, req, res, query)

//  Rows of gw_api's route table.
#define GW_GROUPS_ROUTES                                                       \
    GW_GROUPS_ROUTE("POST", "/api/{session}/groups", gw_groups_create,         \
                    GW_AUTH_ADMIN, 201, GW_GROUPS_TAG, "groupsCreate",         \
                    "Create a group", "CreateGroupRequest", "GroupInfo",       \
                    NULL),                                                     \
        GW_GROUPS_ROUTE("GET", "/api/{session}/groups", gw_groups_list,        \
                        GW_AUTH_ADMIN, 200, GW_GROUPS_TAG, "groupsList",       \
                        "The groups this account is in", NULL,                 \
                        "GroupInfoList", GW_GROUPS_LIST_Q),                    \
        GW_GROUPS_ROUTE("GET", "/api/{session}/groups/count", gw_groups_count, \
                        GW_AUTH_ADMIN, 200, GW_GROUPS_TAG, "groupsCount",      \
                        "How many groups this account is in", NULL,            \
                        "CountResponse", NULL),                                \
        GW_GROUPS_ROUTE("GET", "/api/{session}/groups/{id}", gw_groups_get,    \
                        GW_AUTH_ADMIN, 200, GW_GROUPS_TAG, "groupsGet",        \
                        "Get a group", NULL, "GroupInfo", NULL),               \
        GW_GROUPS_ROUTE("GET", "/api/{session}/groups/{id}/participants",      \
                        gw_groups_participants, GW_AUTH_ADMIN, 200,            \
                        GW_GROUPS_TAG, "groupsParticipants",                   \
                        "A group's participants", NULL,                        \
                        "GroupParticipantList", NULL),                         \
        GW_GROUPS_ROUTE("POST", "/api/{session}/groups/{id}/participants/add", \
                        gw_groups_add, GW_AUTH_ADMIN, 200, GW_GROUPS_TAG,      \
                        "groupsAddParticipants", "Add participants",           \
                        "ParticipantsRequest", "ParticipantResultList", NULL), \
        GW_GROUPS_ROUTE("POST",                                                \
                        "/api/{session}/groups/{id}/participants/remove",      \
                        gw_groups_remove, GW_AUTH_ADMIN, 200, GW_GROUPS_TAG,   \
                        "groupsRemoveParticipants", "Remove participants",     \
                        "ParticipantsRequest", "ParticipantResultList", NULL), \
        GW_GROUPS_ROUTE("POST", "/api/{session}/groups/{id}/admin/promote",    \
                        gw_groups_promote, GW_AUTH_ADMIN, 200, GW_GROUPS_TAG,  \
                        "groupsPromote", "Make participants admins",           \
                        "ParticipantsRequest", "ParticipantResultList", NULL), \
        GW_GROUPS_ROUTE("POST", "/api/{session}/groups/{id}/admin/demote",     \
                        gw_groups_demote, GW_AUTH_ADMIN, 200, GW_GROUPS_TAG,   \
                        "groupsDemote", "Make admins regular participants",    \
                        "ParticipantsRequest", "ParticipantResultList", NULL), \
        GW_GROUPS_ROUTE("POST", "/api/{session}/groups/refresh",               \
                        gw_groups_refresh, GW_AUTH_ADMIN, 200, GW_GROUPS_TAG,  \
                        "groupsRefresh", "Read the groups from WhatsApp",      \
                        NULL, "GroupResult", NULL),                            \
        GW_GROUPS_ROUTE(                                                       \
            "GET", "/api/{session}/groups/join-info", gw_groups_join_info,     \
            GW_AUTH_ADMIN, 200, GW_GROUPS_TAG, "groupsJoinInfo",               \
            "The group an invite code leads to", NULL, "GroupInfo",            \
            "code|string|Invite code or "                                      \
            "https://chat.whatsapp.com/ link"),                                \
        GW_GROUPS_ROUTE("POST", "/api/{session}/groups/join", gw_groups_join,  \
                        GW_AUTH_ADMIN, 200, GW_GROUPS_TAG, "groupsJoin",       \
                        "Join a group by invite code or link",                 \
                        "JoinGroupRequest", "JoinGroupResponse", NULL),        \
        GW_GROUPS_ROUTE("DELETE", "/api/{session}/groups/{id}",                \
                        gw_groups_delete, GW_AUTH_ADMIN, 200, GW_GROUPS_TAG,   \
                        "groupsDelete",                                        \
                        "Delete a group: remove everyone else, then leave",    \
                        NULL, "GroupResult", NULL),                            \
        GW_GROUPS_ROUTE("POST", "/api/{session}/groups/{id}/leave",            \
                        gw_groups_leave, GW_AUTH_ADMIN, 200, GW_GROUPS_TAG,    \
                        "groupsLeave", "Leave a group", NULL, "GroupResult",   \
                        NULL),                                                 \
        GW_GROUPS_ROUTE("PUT", "/api/{session}/groups/{id}/subject",           \
                        gw_groups_subject, GW_AUTH_ADMIN, 200, GW_GROUPS_TAG,  \
                        "groupsSetSubject", "Set the subject",                 \
                        "SubjectRequest", "GroupResult", NULL),                \
        GW_GROUPS_ROUTE("PUT", "/api/{session}/groups/{id}/description",       \
                        gw_groups_description, GW_AUTH_ADMIN, 200,             \
                        GW_GROUPS_TAG, "groupsSetDescription",                 \
                        "Set the description", "DescriptionRequest",           \
                        "GroupResult", NULL),                                  \
        GW_GROUPS_ROUTE("GET",                                                 \
                        "/api/{session}/groups/{id}/settings/security/"        \
                        "info-admin-only",                                     \
                        gw_groups_info_admin_only, GW_AUTH_ADMIN, 200,         \
                        GW_GROUPS_TAG, "groupsGetInfoAdminOnly",               \
                        "Whether only admins edit the info", NULL,             \
                        "SettingsSecurityChangeInfo", NULL),                   \
        GW_GROUPS_ROUTE(                                                       \
            "PUT",                                                             \
            "/api/{session}/groups/{id}/settings/security/"                    \
            "info-admin-only",                                                 \
            gw_groups_info_admin_only, GW_AUTH_ADMIN, 200, GW_GROUPS_TAG,      \
            "groupsSetInfoAdminOnly", "Let only admins edit the info",         \
            "SettingsSecurityChangeInfo", "SettingsSecurityChangeInfo", NULL), \
        GW_GROUPS_ROUTE("GET",                                                 \
                        "/api/{session}/groups/{id}/settings/security/"        \
                        "messages-admin-only",                                 \
                        gw_groups_messages_admin_only, GW_AUTH_ADMIN, 200,     \
                        GW_GROUPS_TAG, "groupsGetMessagesAdminOnly",           \
                        "Whether only admins send", NULL,                      \
                        "SettingsSecurityChangeInfo", NULL),                   \
        GW_GROUPS_ROUTE("PUT",                                                 \
                        "/api/{session}/groups/{id}/settings/security/"        \
                        "messages-admin-only",                                 \
                        gw_groups_messages_admin_only, GW_AUTH_ADMIN, 200,     \
                        GW_GROUPS_TAG, "groupsSetMessagesAdminOnly",           \
                        "Let only admins send", "SettingsSecurityChangeInfo",  \
                        "SettingsSecurityChangeInfo", NULL),                   \
        GW_GROUPS_ROUTE("GET",                                                 \
                        "/api/{session}/groups/{id}/settings/security/"        \
                        "membership-approval",                                 \
                        gw_groups_membership_approval, GW_AUTH_ADMIN, 200,     \
                        GW_GROUPS_TAG, "groupsGetMembershipApproval",          \
                        "Whether joins by link need an admin's approval",      \
                        NULL, "MembershipApproval", NULL),                     \
        GW_GROUPS_ROUTE("PUT",                                                 \
                        "/api/{session}/groups/{id}/settings/security/"        \
                        "membership-approval",                                 \
                        gw_groups_membership_approval, GW_AUTH_ADMIN, 200,     \
                        GW_GROUPS_TAG, "groupsSetMembershipApproval",          \
                        "Make joins by link requests admins approve",          \
                        "MembershipApproval", "MembershipApproval", NULL),     \
        GW_GROUPS_ROUTE("GET", "/api/{session}/groups/{id}/invite-code",       \
                        gw_groups_invite_code, GW_AUTH_ADMIN, 200,             \
                        GW_GROUPS_TAG, "groupsInviteCode",                     \
                        "The group's invite link", NULL, "InviteLink", NULL),  \
        GW_GROUPS_ROUTE("POST",                                                \
                        "/api/{session}/groups/{id}/invite-code/revoke",       \
                        gw_groups_invite_revoke, GW_AUTH_ADMIN, 200,           \
                        GW_GROUPS_TAG, "groupsRevokeInviteCode",               \
                        "Revoke the invite link; answers the new one", NULL,   \
                        "InviteLink", NULL),                                   \
        GW_GROUPS_ROUTE("GET", "/api/{session}/groups/{id}/picture",           \
                        gw_groups_picture_get, GW_AUTH_ADMIN, 200,             \
                        GW_GROUPS_TAG, "groupsGetPicture",                     \
                        "The group's picture URL", NULL,                       \
                        "GroupPictureResponse", GW_GROUPS_PICTURE_Q),          \
        GW_GROUPS_ROUTE("PUT", "/api/{session}/groups/{id}/picture",           \
                        gw_groups_picture_set, GW_AUTH_ADMIN, 200,             \
                        GW_GROUPS_TAG, "groupsSetPicture",                     \
                        "Set the group's picture", "ProfilePictureRequest",    \
                        "GroupResult", NULL),                                  \
        GW_GROUPS_ROUTE("DELETE", "/api/{session}/groups/{id}/picture",        \
                        gw_groups_picture_delete, GW_AUTH_ADMIN, 200,          \
                        GW_GROUPS_TAG, "groupsDeletePicture",                  \
                        "Remove the group's picture", NULL, "GroupResult",     \
                        NULL),                                                 \
        GW_GROUPS_ROUTE(                                                       \
            "GET", "/api/{session}/groups/{id}/participants/join-requests",    \
            gw_groups_requests, GW_AUTH_ADMIN, 200, GW_GROUPS_TAG,             \
            "groupsJoinRequests",                                              \
            "Pending requests to join (approval mode; admins)", NULL,          \
            "JoinRequestList", NULL),                                          \
        GW_GROUPS_ROUTE(                                                       \
            "POST",                                                            \
            "/api/{session}/groups/{id}/participants/join-requests/approve",   \
            gw_groups_requests_approve, GW_AUTH_ADMIN, 200, GW_GROUPS_TAG,     \
            "groupsApproveJoinRequests", "Let requesters in",                  \
            "ParticipantsRequest", "JoinRequestResultList", NULL),             \
        GW_GROUPS_ROUTE(                                                       \
            "POST",                                                            \
            "/api/{session}/groups/{id}/participants/join-requests/reject",    \
            gw_groups_requests_reject, GW_AUTH_ADMIN, 200, GW_GROUPS_TAG,      \
            "groupsRejectJoinRequests", "Turn requesters away",                \
            "ParticipantsRequest", "JoinRequestResultList", NULL),             \
        GW_GROUPS_ROUTE("GET", "/api/{session}/groups/{id}/participants/v2",   \
                        gw_groups_participants2, GW_AUTH_ADMIN, 200,           \
                        GW_GROUPS_TAG, "groupsParticipantsV2",                 \
                        "A group's participants (id, pn, role)", NULL,         \
                        "GroupParticipantV2List", NULL),                       \
        GW_GROUPS_ROUTE(                                                       \
            "POST", "/v2/groups", gw_groups_create, GW_AUTH_INSTANCE, 200,     \
            GW_GROUPS_WAWP_TAG, "wawpGroupsCreate", "Create a group",          \
            "WawpCreateGroupRequest", "GroupInfo",                             \
            GW_GROUPS_WAWP_Q ";name|string|Group name;participants|string|"    \
                             "JSON array of {id}"),                            \
        GW_GROUPS_ROUTE("GET", "/v2/groups", gw_groups_list, GW_AUTH_INSTANCE, \
                        200, GW_GROUPS_WAWP_TAG, "wawpGroupsList",             \
                        "The groups this account is in", NULL,                 \
                        "GroupInfoList",                                       \
                        GW_GROUPS_WAWP_Q ";" GW_GROUPS_LIST_Q),                \
        GW_GROUPS_ROUTE("GET", "/v2/groups/{id}", gw_groups_get,               \
                        GW_AUTH_INSTANCE, 200, GW_GROUPS_WAWP_TAG,             \
                        "wawpGroupsGet", "Get a group", NULL, "GroupInfo",     \
                        GW_GROUPS_WAWP_ID_Q),                                  \
        GW_GROUPS_ROUTE("GET", "/v2/groups/{id}/participants",                 \
                        gw_groups_participants, GW_AUTH_INSTANCE, 200,         \
                        GW_GROUPS_WAWP_TAG, "wawpGroupsParticipants",          \
                        "A group's participants", NULL,                        \
                        "GroupParticipantList", GW_GROUPS_WAWP_ID_Q),          \
        GW_GROUPS_ROUTE("POST", "/v2/groups/{id}/participants/add",            \
                        gw_groups_add, GW_AUTH_INSTANCE, 200,                  \
                        GW_GROUPS_WAWP_TAG, "wawpGroupsAddParticipants",       \
                        "Add participants", "WawpParticipantsRequest",         \
                        "ParticipantResultList", GW_GROUPS_WAWP_ID_Q),         \
        GW_GROUPS_ROUTE("POST", "/v2/groups/{id}/participants/remove",         \
                        gw_groups_remove, GW_AUTH_INSTANCE, 200,               \
                        GW_GROUPS_WAWP_TAG, "wawpGroupsRemoveParticipants",    \
                        "Remove participants", "WawpParticipantsRequest",      \
                        "ParticipantResultList", GW_GROUPS_WAWP_ID_Q),         \
        GW_GROUPS_ROUTE("POST", "/v2/groups/{id}/admin/promote",               \
                        gw_groups_promote, GW_AUTH_INSTANCE, 200,              \
                        GW_GROUPS_WAWP_TAG, "wawpGroupsPromote",               \
                        "Make participants admins", "WawpParticipantsRequest", \
                        "ParticipantResultList", GW_GROUPS_WAWP_ID_Q),         \
        GW_GROUPS_ROUTE(                                                       \
            "POST", "/v2/groups/{id}/admin/demote", gw_groups_demote,          \
            GW_AUTH_INSTANCE, 200, GW_GROUPS_WAWP_TAG, "wawpGroupsDemote",     \
            "Make admins regular participants", "WawpParticipantsRequest",     \
            "ParticipantResultList", GW_GROUPS_WAWP_ID_Q),                     \
        GW_GROUPS_ROUTE(                                                       \
            "GET", "/v2/groups/{id}/picture", gw_groups_picture_get,           \
            GW_AUTH_INSTANCE, 200, GW_GROUPS_WAWP_TAG, "wawpGroupsGetPicture", \
            "The group's picture URL", NULL, "GroupPictureResponse",           \
            GW_GROUPS_WAWP_ID_Q ";" GW_GROUPS_PICTURE_Q),                      \
        GW_GROUPS_ROUTE("PUT", "/v2/groups/{id}/picture",                      \
                        gw_groups_picture_set, GW_AUTH_INSTANCE, 200,          \
                        GW_GROUPS_WAWP_TAG, "wawpGroupsSetPicture",            \
                        "Set the group's picture", "ProfilePictureRequest",    \
                        "GroupResult", GW_GROUPS_WAWP_ID_Q),                   \
        GW_GROUPS_ROUTE("DELETE", "/v2/groups/{id}/picture",                   \
                        gw_groups_picture_delete, GW_AUTH_INSTANCE, 200,       \
                        GW_GROUPS_WAWP_TAG, "wawpGroupsDeletePicture",         \
                        "Remove the group's picture", NULL, "GroupResult",     \
                        GW_GROUPS_WAWP_ID_Q),                                  \
        GW_GROUPS_WAWP_MORE

//  The other §5.3 routes in Wawp's form (/v2/groups…; api-surface marks
//  them ≈: WAHA's paths with the prefix swapped, path values also taken
//  from the query or body, a literal {id} tolerated).
#define GW_GROUPS_WAWP_CODE_Q                                                  \
    GW_GROUPS_WAWP_Q ";code|string|Invite code or https://chat.whatsapp.com/ " \
                     "link"
#define GW_GROUPS_WAWP_ADMINS_Q                                                \
    GW_GROUPS_WAWP_ID_Q ";adminsOnly|boolean|true or false"
#define GW_GROUPS_WAWP_MORE                                                    \
    GW_GROUPS_WAWP("GET", "/v2/groups/count", gw_groups_count,                 \
                   "wawpGroupsCount", "How many groups this account is in",    \
                   NULL, "CountResponse", GW_GROUPS_WAWP_Q),                   \
        GW_GROUPS_WAWP("POST", "/v2/groups/refresh", gw_groups_refresh,        \
                       "wawpGroupsRefresh", "Read the groups from WhatsApp",   \
                       NULL, "GroupResult", GW_GROUPS_WAWP_Q),                 \
        GW_GROUPS_WAWP("GET", "/v2/groups/join-info", gw_groups_join_info,     \
                       "wawpGroupsJoinInfo",                                   \
                       "The group an invite code leads to", NULL, "GroupInfo", \
                       GW_GROUPS_WAWP_CODE_Q),                                 \
        GW_GROUPS_WAWP(                                                        \
            "POST", "/v2/groups/join", gw_groups_join, "wawpGroupsJoin",       \
            "Join a group by invite code or link", "JoinGroupRequest",         \
            "JoinGroupResponse", GW_GROUPS_WAWP_CODE_Q),                       \
        GW_GROUPS_WAWP("DELETE", "/v2/groups/{id}", gw_groups_delete,          \
                       "wawpGroupsDelete",                                     \
                       "Delete a group: remove everyone else, then leave",     \
                       NULL, "GroupResult", GW_GROUPS_WAWP_ID_Q),              \
        GW_GROUPS_WAWP("POST", "/v2/groups/{id}/leave", gw_groups_leave,       \
                       "wawpGroupsLeave", "Leave a group", NULL,               \
                       "GroupResult", GW_GROUPS_WAWP_ID_Q),                    \
        GW_GROUPS_WAWP("PUT", "/v2/groups/{id}/subject", gw_groups_subject,    \
                       "wawpGroupsSetSubject", "Set the subject",              \
                       "SubjectRequest", "GroupResult",                        \
                       GW_GROUPS_WAWP_ID_Q ";subject|string|New subject"),     \
        GW_GROUPS_WAWP(                                                        \
            "PUT", "/v2/groups/{id}/description", gw_groups_description,       \
            "wawpGroupsSetDescription", "Set the description",                 \
            "DescriptionRequest", "GroupResult",                               \
            GW_GROUPS_WAWP_ID_Q ";description|string|New description"),        \
        GW_GROUPS_WAWP(                                                        \
            "GET", "/v2/groups/{id}/settings/security/info-admin-only",        \
            gw_groups_info_admin_only, "wawpGroupsGetInfoAdminOnly",           \
            "Whether only admins edit the info", NULL,                         \
            "SettingsSecurityChangeInfo", GW_GROUPS_WAWP_ID_Q),                \
        GW_GROUPS_WAWP(                                                        \
            "PUT", "/v2/groups/{id}/settings/security/info-admin-only",        \
            gw_groups_info_admin_only, "wawpGroupsSetInfoAdminOnly",           \
            "Let only admins edit the info", "SettingsSecurityChangeInfo",     \
            "SettingsSecurityChangeInfo", GW_GROUPS_WAWP_ADMINS_Q),            \
        GW_GROUPS_WAWP(                                                        \
            "GET", "/v2/groups/{id}/settings/security/messages-admin-only",    \
            gw_groups_messages_admin_only, "wawpGroupsGetMessagesAdminOnly",   \
            "Whether only admins send", NULL, "SettingsSecurityChangeInfo",    \
            GW_GROUPS_WAWP_ID_Q),                                              \
        GW_GROUPS_WAWP(                                                        \
            "PUT", "/v2/groups/{id}/settings/security/messages-admin-only",    \
            gw_groups_messages_admin_only, "wawpGroupsSetMessagesAdminOnly",   \
            "Let only admins send", "SettingsSecurityChangeInfo",              \
            "SettingsSecurityChangeInfo", GW_GROUPS_WAWP_ADMINS_Q),            \
        GW_GROUPS_WAWP(                                                        \
            "GET", "/v2/groups/{id}/settings/security/membership-approval",    \
            gw_groups_membership_approval, "wawpGroupsGetMembershipApproval",  \
            "Whether joins by link need an admin's approval", NULL,            \
            "MembershipApproval", GW_GROUPS_WAWP_ID_Q),                        \
        GW_GROUPS_WAWP(                                                        \
            "PUT", "/v2/groups/{id}/settings/security/membership-approval",    \
            gw_groups_membership_approval, "wawpGroupsSetMembershipApproval",  \
            "Make joins by link requests admins approve",                      \
            "MembershipApproval", "MembershipApproval",                        \
            GW_GROUPS_WAWP_ID_Q                                                \
            ";newMembersApprovalRequired|boolean|true or false"),              \
        GW_GROUPS_WAWP("GET", "/v2/groups/{id}/invite-code",                   \
                       gw_groups_invite_code, "wawpGroupsInviteCode",          \
                       "The group's invite link", NULL, "InviteLink",          \
                       GW_GROUPS_WAWP_ID_Q),                                   \
        GW_GROUPS_WAWP("POST", "/v2/groups/{id}/invite-code/revoke",           \
                       gw_groups_invite_revoke, "wawpGroupsRevokeInviteCode",  \
                       "Revoke the invite link; answers the new one", NULL,    \
                       "InviteLink", GW_GROUPS_WAWP_ID_Q),                     \
        GW_GROUPS_WAWP("GET", "/v2/groups/{id}/participants/v2",               \
                       gw_groups_participants2, "wawpGroupsParticipantsV2",    \
                       "A group's participants (id, pn, role)", NULL,          \
                       "GroupParticipantV2List", GW_GROUPS_WAWP_ID_Q),         \
        GW_GROUPS_WAWP("GET", "/v2/groups/{id}/participants/join-requests",    \
                       gw_groups_requests, "wawpGroupsJoinRequests",           \
                       "Pending requests to join (approval mode; admins)",     \
                       NULL, "JoinRequestList", GW_GROUPS_WAWP_ID_Q),          \
        GW_GROUPS_WAWP(                                                        \
            "POST", "/v2/groups/{id}/participants/join-requests/approve",      \
            gw_groups_requests_approve, "wawpGroupsApproveJoinRequests",       \
            "Let requesters in", "WawpParticipantsRequest",                    \
            "JoinRequestResultList", GW_GROUPS_WAWP_ID_Q),                     \
        GW_GROUPS_WAWP(                                                        \
            "POST", "/v2/groups/{id}/participants/join-requests/reject",       \
            gw_groups_requests_reject, "wawpGroupsRejectJoinRequests",         \
            "Turn requesters away", "WawpParticipantsRequest",                 \
            "JoinRequestResultList", GW_GROUPS_WAWP_ID_Q),

void gw_groups_test(bool verbose);

#endif
