/*  sim_group - groups: IQs of xmlns w:g2 (create, metadata,
    participating groups, add/remove/promote/demote, subject,
    description, leave, invite code) and the w:gp2 notifications members
    receive

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    docs/wa-protocol.md §10.1. Groups use phone-number addressing
    (addressing_mode="pn"; participants carry their LID in `lid`)
    unless their creator's account has the `lid_groups` rule
    (sim_fault): then addressing_mode="lid" and members are named by
    LID everywhere, with the number beside it (participant jid +
    phone_number, creator + creator_pn, s_o + s_o_pn, notifications'
    participant + participant_pn). The fan-out of group messages is
    sim_message's.
*/
#ifndef SIM_GROUP_H_INCLUDED
#define SIM_GROUP_H_INCLUDED

#include <stdbool.h>

#include "sim_cap.h"

//  IQ w:g2; notifications w:gp2 and picture (group pictures).
extern const sim_cap_t sim_group_cap;

//  <group ...> metadata node. Caller owns return value.
wa_node_t *sim_group_node(sim_hub_t *hub, sim_group_t *group);

//  A w:profile:picture IQ whose target is a group (sim_profile hands
//  it over): set stores <picture type="image">JPEG</picture> as the
//  group's picture (members only; locked groups: admins only), no child
//  removes it; get answers <picture id url direct_path type/> (404 when
//  there is none, 304 when the query's id is the current one). The
//  bytes go to the media store, served by the media host. A set or
//  removal sends every member device <notification type="picture"
//  from=GROUP participant=AUTHOR> with <set jid id author/> or <delete
//  jid author/>.
void sim_group_picture(sim_hub_t *hub, sim_conn_t *conn, const wa_node_t *iq);

//  Control: the simulated phone of `phone` asks to join group `gid` (in
//  membership approval mode; the members hear
//  <created_membership_requests>), or with `cancel` withdraws its
//  pending request (the members and the requester hear
//  <revoked_membership_requests> whose participant is the requester).
//  HTTP-like status: 200, 404 (group, account or request unknown), 409
//  (not in approval mode, already a member); *reason set on failure.
int sim_group_request_control(sim_hub_t *hub, const char *gid,
                              const char *phone, bool cancel,
                              const char **reason);

void sim_group_test(bool verbose);

#endif
