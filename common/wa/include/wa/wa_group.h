/*  wa_group - group IQs (xmlns w:g2) and the metadata they return

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Sending to a group needs its participants and addressing mode
    (wa-protocol.md §7.5, §10.1):

        <iq xmlns="w:g2" type="get" to="GROUP"><query request="interactive"/>
        -> <group id creator creation subject addressing_mode="lid"|"pn" ...>
             <participant jid [type="admin"|"superadmin"] [lid|phone_number]/>
             [<description id><body>TEXT</body></description>]
             [<announcement/>] [<locked/>]
           </group>

    The other requests here answer with the same <group> (create) or a
    list of them (participating), or with the participants' results
    (add, remove, promote, demote):

        <iq type="set" to="@g.us"><create subject><participant jid/>…
        <iq type="get" to="@g.us"><participating><participants/>
                                  <description/></participating>
        <iq type="set" to="GROUP"><add|remove|promote|demote>
                                  <participant jid/>…
        -> <add|…><participant jid [error="CODE"]/>…

    Invite links, joining, leaving and the group's settings:

        <iq type="get"|"set" to="GROUP"><invite/>  (set: revoke)
        -> <invite code=CODE/>; the link is https://chat.whatsapp.com/CODE
        <iq type="get" to="@g.us"><invite code=CODE/>   -> <group …/>
        <iq type="set" to="@g.us"><invite code=CODE/>   -> <group jid/>
        <iq type="set" to="@g.us"><leave><group id=GROUP/></leave>
        <iq type="set" to="GROUP"><subject>TEXT</subject>
        <iq type="set" to="GROUP"><description id [prev] [delete="true"]>
                                  <body>TEXT</body></description>
        <iq type="set" to="GROUP"><announcement/>|<not_announcement/>|
                                  <locked/>|<unlocked/>

    An unknown invite code is error 406, a revoked one 410. The group's
    picture is the profile picture IQ with a target:

        <iq xmlns="w:profile:picture" type="set" to="s.whatsapp.net"
            target="GROUP"><picture type="image">JPEG</picture></iq>
        -> <picture id/>; no <picture> child removes it

    A wa_group_t is the parsed <group>.
*/
#ifndef WA_GROUP_H_INCLUDED
#define WA_GROUP_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wa_node.h"

//  Most participants kept (larger groups are cut).
#define WA_GROUP_MAX_PARTICIPANTS 4096

//  Longest group subject WhatsApp takes, in characters.
#define WA_GROUP_SUBJECT_MAX 100

//  Longest group description WhatsApp takes, in characters.
#define WA_GROUP_DESCRIPTION_MAX 2048

//  Longest invite code accepted (WhatsApp's are 22 characters).
#define WA_GROUP_CODE_MAX 64

//  The link of an invite code is this prefix and the code.
#define WA_GROUP_LINK_PREFIX "https://chat.whatsapp.com/"

typedef struct _wa_group_t wa_group_t;

//  A participant's role.
typedef enum {
    WA_GROUP_MEMBER = 0,    //  no type attribute
    WA_GROUP_ADMIN = 1,     //  type="admin"
    WA_GROUP_SUPERADMIN = 2 //  type="superadmin" (the creator)
} wa_group_role_t;

//  The metadata query <iq> for group JID `group`, without an id. NULL
//  when group is not a group JID. Caller owns return value.
wa_node_t *wa_group_query(const char *group);

//  True when `subject` can name a group: 1 to WA_GROUP_SUBJECT_MAX
//  characters of valid UTF-8, no control characters.
bool wa_group_subject_ok(const char *subject);

//  The create <iq> (without an id) for a group named `subject` (1 to
//  WA_GROUP_SUBJECT_MAX characters of UTF-8) with `count` participants
//  (user JIDs, wire or API form). NULL when the subject or a JID is
//  invalid or a JID is no user. Caller owns return value.
wa_node_t *wa_group_create(const char *subject, const char *const *participants,
                           size_t count);

//  The <iq> (without an id) listing every group we are in. Caller owns
//  return value.
wa_node_t *wa_group_participating(void);

//  The <iq> (without an id) that applies `action` ("add", "remove",
//  "promote" or "demote") to `count` participants (user JIDs, wire or
//  API form) of group JID `group`. NULL when an argument is invalid.
//  Caller owns return value.
wa_node_t *wa_group_change(const char *group, const char *action,
                           const char *const *participants, size_t count);

//  True when `text` has 1 to `max` characters of UTF-8 without control
//  characters (tab and newline allowed when `multiline`).
bool wa_group_text_ok(const char *text, size_t max, bool multiline);

//  The invite code of `text`: a bare code or a link
//  "https://chat.whatsapp.com/CODE" (http, no scheme, a trailing "/" or
//  query are tolerated). NULL unless the code is 1 to WA_GROUP_CODE_MAX
//  letters, digits, '-' or '_'. Caller owns return value.
char *wa_group_code_of(const char *text);

//  The <iq> (without an id) reading (revoke false) or revoking (true)
//  the invite code of group JID `group`. NULL when group is no group
//  JID. Caller owns return value.
wa_node_t *wa_group_invite(const char *group, bool revoke);

//  The code of an <invite code/> reply, or NULL (borrowed).
const char *wa_group_invite_code(const wa_node_t *reply);

//  The <iq> (without an id) asking what group invite `code` leads to
//  (join false) or joining it (join true). NULL when the code is not
//  one wa_group_code_of accepts. Caller owns return value.
wa_node_t *wa_group_join(const char *code, bool join);

//  The group JID a join reply names (<group jid/>), or NULL. Caller owns
//  return value.
char *wa_group_joined(const wa_node_t *reply);

//  The <iq> (without an id) leaving group JID `group`. NULL when it is
//  no group JID. Caller owns return value.
wa_node_t *wa_group_leave(const char *group);

//  The <iq> (without an id) setting the subject (wa_group_subject_ok).
//  NULL when an argument is invalid. Caller owns return value.
wa_node_t *wa_group_set_subject(const char *group, const char *subject);

//  The <iq> (without an id) setting the description to `text` (0 to
//  WA_GROUP_DESCRIPTION_MAX characters; "" or NULL deletes it) as
//  version `id` after version `prev` (NULL: the group had none). NULL
//  when an argument is invalid. Caller owns return value.
wa_node_t *wa_group_set_description(const char *group, const char *text,
                                    const char *id, const char *prev);

//  The <iq> (without an id) switching a setting: `setting` is
//  "announcement" (only admins send) or "locked" (only admins edit the
//  group info); `on` picks the tag or its opposite (not_announcement,
//  unlocked). NULL when an argument is invalid. Caller owns return value.
wa_node_t *wa_group_set_setting(const char *group, const char *setting,
                                bool on);

//  The <iq> (without an id) switching membership approval mode of
//  group JID `group` on or off (joins by link become requests an admin
//  approves). NULL when group is no group JID. Caller owns return value.
wa_node_t *wa_group_set_approval(const char *group, bool on);

//  The <iq> (without an id) listing the pending join requests of group
//  JID `group` (admins only). NULL when group is no group JID. Caller
//  owns return value.
wa_node_t *wa_group_requests(const char *group);

//  The <iq> (without an id) approving (approve true) or rejecting the
//  join requests of `count` users (user JIDs, wire or API form). NULL
//  when an argument is invalid. Caller owns return value. The reply is
//  <membership_requests_action><approve|reject><participant jid
//  [error]/>…: give wa_node_child(reply, "membership_requests_action")
//  to a per-participant result parser.
wa_node_t *wa_group_requests_action(const char *group, bool approve,
                                    const char *const *participants,
                                    size_t count);

//  One pending join request.
typedef struct {
    char *jid;    //  who asks (user JID: PN, or LID in LID groups)
    char *pn;     //  their phone number JID when the group names a LID
    int64_t time; //  when they asked (s; 0 unknown)
    char *method; //  how: "invite_link", ... (NULL unknown)
} wa_group_request_t;

//  The requests of a <membership_approval_requests> reply (entries
//  without a usable jid skipped). Sets *count_p; NULL when there are
//  none. Free with wa_group_requests_free.
wa_group_request_t *wa_group_requests_parse(const wa_node_t *reply,
                                            size_t *count_p);
void wa_group_requests_free(wa_group_request_t **items_p, size_t count);

//  Largest group picture sent (a 640x640 JPEG is far smaller).
#define WA_GROUP_PICTURE_MAX (1024 * 1024)

//  The <iq> (without an id) setting the picture of group JID `group` to
//  `jpeg` (1 to WA_GROUP_PICTURE_MAX bytes of JPEG), or removing it when
//  jpeg is NULL. NULL when an argument is invalid. Caller owns return
//  value.
wa_node_t *wa_group_set_picture(const char *group, const uint8_t *jpeg,
                                size_t len);

//  The new picture id of a picture reply (<picture id/>), or NULL
//  (borrowed).
const char *wa_group_picture_id(const wa_node_t *reply);

//  Parse a metadata (or create) result. `group` is the group JID, or
//  NULL to take it from the <group id> attribute. NULL when the stanza
//  holds no usable <group>. Invalid participant JIDs are skipped. Caller
//  owns return value.
wa_group_t *wa_group_parse(const char *group, const wa_node_t *reply);

//  Parse one <group> element (id attribute required). NULL when it has
//  no valid id. Caller owns return value.
wa_group_t *wa_group_parse_node(const wa_node_t *group);

//  Destroy. NULL-safe; sets *self_p to NULL.
void wa_group_destroy(wa_group_t **self_p);

//  Group JID (borrowed).
const char *wa_group_jid(const wa_group_t *self);

//  Subject, or "" (borrowed).
const char *wa_group_subject(const wa_group_t *self);

//  True when the group addresses members by LID (addressing_mode="lid").
bool wa_group_is_lid(const wa_group_t *self);

//  Participant user JIDs (borrowed) and their count.
const char *const *wa_group_participants(const wa_group_t *self, size_t *count);

//  Role of participant `index` (< count).
wa_group_role_t wa_group_role(const wa_group_t *self, size_t index);

//  The other user JID of participant `index` (its LID in a PN group, its
//  phone number JID in a LID group), or NULL when the server did not
//  say (borrowed).
const char *wa_group_alt(const wa_group_t *self, size_t index);

//  The creator's user JID, or NULL (borrowed).
const char *wa_group_creator(const wa_group_t *self);

//  The creator's phone number JID when the group names it by LID
//  (creator_pn, or the creator's participant entry), or NULL (borrowed).
const char *wa_group_creator_pn(const wa_group_t *self);

//  Creation time (seconds), or 0 when unknown.
int64_t wa_group_creation(const wa_group_t *self);

//  Description text, or NULL when there is none (borrowed).
const char *wa_group_description(const wa_group_t *self);

//  True when only admins may send (announcement).
bool wa_group_announce(const wa_group_t *self);

//  True when only admins may edit the group info (locked).
bool wa_group_locked(const wa_group_t *self);

//  Id of the current description version, or NULL (borrowed).
const char *wa_group_description_id(const wa_group_t *self);

//  True when every member may add members (member_add_mode
//  all_member_add, WhatsApp's default when the group does not say).
bool wa_group_members_add(const wa_group_t *self);

//  True when joining needs an admin's approval (membership_approval_mode
//  with group_join state="on").
bool wa_group_approval(const wa_group_t *self);

//  True when `user` (any JID of the user) is a participant.
bool wa_group_has(const wa_group_t *self, const char *user);

//  Self test
void wa_group_test(bool verbose);

#endif
