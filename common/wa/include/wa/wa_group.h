/*  wa_group - group metadata: the query and its participants

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Sending to a group needs its participants and addressing mode
    (wa-protocol.md §7.5, §10.1):

        <iq xmlns="w:g2" type="get" to="GROUP"><query request="interactive"/>
        -> <group id subject addressing_mode="lid"|"pn" ...>
             <participant jid [type="admin"|"superadmin"] [lid|phone_number]/>
           </group>

    A wa_group_t is the parsed result.
*/
#ifndef WA_GROUP_H_INCLUDED
#define WA_GROUP_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#include "wa_node.h"

//  Most participants kept (larger groups are cut).
#define WA_GROUP_MAX_PARTICIPANTS 4096

typedef struct _wa_group_t wa_group_t;

//  The metadata query <iq> for group JID `group`, without an id. NULL
//  when group is not a group JID. Caller owns return value.
wa_node_t *wa_group_query(const char *group);

//  Parse a metadata result for `group` (its JID). NULL when the stanza
//  holds no <group>. Invalid participant JIDs are skipped. Caller owns
//  return value.
wa_group_t *wa_group_parse(const char *group, const wa_node_t *reply);

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

//  True when `user` (any JID of the user) is a participant.
bool wa_group_has(const wa_group_t *self, const char *user);

//  Self test
void wa_group_test(bool verbose);

#endif
