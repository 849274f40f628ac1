/*  sw_wagroup - the groups capability of the WhatsApp engine: its
    commands and WAHA's shapes of groups

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Commands (SW_WAGROUP_COMMANDS, listed in sw_wa's table; 409 unless
    WORKING). Each is one w:g2 IQ, held until WhatsApp answers it:
      group.create {subject, participants} -> the group object
      group.get {id}                       -> the group object
      group.list {}                        -> {groups}
      group.participants {id, action, participants} -> {participants:
          [{id, status}]} (action add, remove, promote, demote; remove,
          promote and demote read the group first: someone who is not
          a member is a 400 and nothing changes)
      group.invite {id, revoke?}            -> {code, link}
      group.join_info {code}                -> the group object
      group.join {code}                     -> {id}
      group.leave {id}                      -> {}
      group.subject {id, subject}           -> {}
      group.description {id, description}   -> {} (reads the group first
          for the version it replaces; "" deletes it)
      group.setting {id, setting:"announcement"|"locked"|"approval",
          on:bool} -> {} (approval: membership approval mode)
      group.picture {id}, blob 0 the JPEG (none: remove the picture)
                                            -> {pictureId?}
      group.requests {id}   -> {requests:[{id, lid?, requestedAt (s),
          method ("invite_link", … or null)}]}: the pending join
          requests of a group in membership approval mode (admins only)
      group.requests_action {id, action:"approve"|"reject",
          participants} -> {participants:[{id, status}]} (404: no request
          of theirs pending)
    `code` is an invite code or a https://chat.whatsapp.com/ link.
    An IQ error becomes a status (sw_wagroup_error); an unknown group is
    404 {missing:"group"}, an unknown or revoked invite code 404
    {missing:"invite"}, so the gateway tells them from an unknown
    session. Group texts go through message.send_text.

    Events (sw_wagroup_on_group, from each w:gp2 notification, those
    the server queued while the session was offline included, and those
    of the session's own changes, which WhatsApp sends to every member
    device): per change, in WAHA's shapes, with the notification as
    _data ({tag, attrs, content}) and `timestamp` its t (s):
      add/remove/leave/promote/demote -> group.v2.participants {type:
          join|leave|promote|demote, timestamp, group:{id}, participants:
          [{id, pn?, role: participant|left|admin}], _data}; when we are
          among them also group.v2.join (the group read for its
          GroupInfo) or group.v2.leave {timestamp, group:{id}, _data}
      create (a group made with us)   -> group.v2.join {timestamp, group:
          GroupInfo, _data}
      subject, description, announcement/not_announcement, locked/
          unlocked, member_add_mode, membership_approval_mode ->
          group.v2.update {timestamp, group:{id, <the field changed>},
          _data}
      created_membership_requests (someone asks to join an approval-
          mode group), revoked_membership_requests (an admin rejected
          the request, or its requester, the notification's participant,
          cancelled it) -> per requester group.v2.participants.join-
          request {timestamp, group:{id}, action: created|rejected|
          revoked, requesterId (as the group names them: @c.us or @lid),
          requesterPn (@c.us | null), requestMethod (invite_link, … |
          null), _data}; an approval is an add (group.v2.participants)
      a "picture" notification from the group (<set id/>, <delete/>;
          wa_contacts passes it on as a group event) -> group.v2.update
          {timestamp, group:{id, picture: the new id | null}, _data}
    GroupInfo: {id, subject, description, membersCanAddNewMember,
    membersCanSendMessages, newMembersApprovalRequired, participants:
    [{id, pn?, role}]}. Event ids derive from the notification, so one
    delivered twice is stored once.

    Shapes (pure functions): the group object the commands answer with,
    the results of participant changes, and how a WhatsApp IQ error
    becomes a status for the gateway.

    Group object (JIDs in API form, "@c.us"):
      {id:"<digits>@g.us", subject, description:str|null,
       owner:"…@c.us"|null, creation:int (s, 0 unknown), size:int,
       addressingMode:"pn"|"lid", announce:bool, restrict:bool,
       approval:bool (membership approval mode),
       participants:[{id:"…@c.us" (or "…@lid" when the phone number is
         unknown), lid?:"…@lid", role:"participant"|"admin"|"superadmin",
         admin:null|"admin"|"superadmin", isAdmin:bool,
         isSuperAdmin:bool}]}
    `admin` is how Baileys-based clients read roles, `role` WAHA's v2
    participants, isAdmin/isSuperAdmin whatsmeow-based ones.
*/
#ifndef SW_WAGROUP_H_INCLUDED
#define SW_WAGROUP_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "sw_wasess.h"
#include "wa/wa_group.h"
#include "wa/wa_node.h"

//  Longest wait of a group command: the IQ's own deadline comes first.
#define SW_WAGROUP_TIMEOUT_MS (SW_WA_IQ_TIMEOUT_MS + SW_WACMD_GRACE_MS)
//  ... of one that reads the group first: two IQs.
#define SW_WAGROUP_TIMEOUT_MS2 (2 * SW_WA_IQ_TIMEOUT_MS + SW_WACMD_GRACE_MS)

//  The capability's rows of the command table.
#define SW_WAGROUP_COMMANDS                                                    \
    SW_WACMD("group.create", SW_WACMD_WORKING, SW_WAGROUP_TIMEOUT_MS,          \
             sw_wagroup_create),                                               \
        SW_WACMD("group.get", SW_WACMD_WORKING, SW_WAGROUP_TIMEOUT_MS,         \
                 sw_wagroup_get),                                              \
        SW_WACMD("group.list", SW_WACMD_WORKING, SW_WAGROUP_TIMEOUT_MS,        \
                 sw_wagroup_list),                                             \
        SW_WACMD("group.participants", SW_WACMD_WORKING,                       \
                 SW_WAGROUP_TIMEOUT_MS2, sw_wagroup_change),                   \
        SW_WACMD("group.invite", SW_WACMD_WORKING, SW_WAGROUP_TIMEOUT_MS,      \
                 sw_wagroup_invite),                                           \
        SW_WACMD("group.join_info", SW_WACMD_WORKING, SW_WAGROUP_TIMEOUT_MS,   \
                 sw_wagroup_join_info),                                        \
        SW_WACMD("group.join", SW_WACMD_WORKING, SW_WAGROUP_TIMEOUT_MS,        \
                 sw_wagroup_join),                                             \
        SW_WACMD("group.leave", SW_WACMD_WORKING, SW_WAGROUP_TIMEOUT_MS,       \
                 sw_wagroup_leave),                                            \
        SW_WACMD("group.subject", SW_WACMD_WORKING, SW_WAGROUP_TIMEOUT_MS,     \
                 sw_wagroup_subject),                                          \
        SW_WACMD("group.description", SW_WACMD_WORKING,                        \
                 SW_WAGROUP_TIMEOUT_MS2, sw_wagroup_description),              \
        SW_WACMD("group.setting", SW_WACMD_WORKING, SW_WAGROUP_TIMEOUT_MS,     \
                 sw_wagroup_setting),                                          \
        SW_WACMD("group.picture", SW_WACMD_WORKING, SW_WAGROUP_TIMEOUT_MS,     \
                 sw_wagroup_picture),                                          \
        SW_WACMD("group.requests", SW_WACMD_WORKING, SW_WAGROUP_TIMEOUT_MS,    \
                 sw_wagroup_requests),                                         \
        SW_WACMD("group.requests_action", SW_WACMD_WORKING,                    \
                 SW_WAGROUP_TIMEOUT_MS, sw_wagroup_decide)

//  Handlers (sw_wacmd_fn).
void sw_wagroup_create(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wagroup_get(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wagroup_list(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wagroup_change(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wagroup_invite(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wagroup_join_info(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wagroup_join(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wagroup_leave(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wagroup_subject(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wagroup_description(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wagroup_setting(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wagroup_picture(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wagroup_requests(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wagroup_decide(sw_wasess_t *sess, sw_cmd_t **cmd_p);

//  A w:gp2 notification: emit its group.v2.* events (see above).
void sw_wagroup_on_group(sw_wasess_t *sess, const wa_client_group_t *ev);

//  WAHA's GroupInfo for `group`. Caller owns return value.
json_t *sw_wagroup_info(const wa_group_t *group);

//  WAHA's GroupParticipant {id, pn?, role} for user JID `jid` (wire), its
//  phone number JID `pn` (NULL: none or unknown) and `role`. Caller owns
//  return value.
json_t *sw_wagroup_participant(const char *jid, const char *pn,
                               const char *role);

//  The group object for `group`. Caller owns return value.
json_t *sw_wagroup_json(const wa_group_t *group);

//  The participants array of the group object. Caller owns return value.
json_t *sw_wagroup_participants(const wa_group_t *group);

//  The results of an add/remove/promote/demote reply (`action` is its
//  child tag): [{id:"…@c.us", status:int}] with status 200 for a done
//  change, else the code WhatsApp gave (e.g. 403, 404, 409). NULL when
//  the reply holds no `action` child. Caller owns return value.
json_t *sw_wagroup_results(const wa_node_t *reply, const char *action);

//  The status (4xx/5xx) and reason for the gateway when WhatsApp answered
//  a group IQ with error `code` (wa_iq_error_code; -1 none). `what`
//  names the request ("create the group"). Sets *reason_p to a string
//  the caller owns.
int sw_wagroup_error(int code, const char *what, char **reason_p);

void sw_wagroup_test(bool verbose);

#endif
