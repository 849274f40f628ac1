/*  sim_fault - fault injection settings for reliability tests

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A global rule set plus optional per-account rule sets (by phone). The
    rule set that applies to an account is its own when present, else the
    global one. Rules:
      ack_delay_ms        delay every server <ack> by this many ms
      withhold_acks       never send server <ack>s for messages/receipts
      refuse_prekey_upload answer prekey uploads with an error
      refuse_prekey_fetch answer prekey bundle fetches with an error
      refuse_prekeys      sets both of the above (write-only alias)
    and the 2026 server rules (docs/protocol-fidelity.md) an account
    may be held to:
      lid_groups          groups the account creates run in
                          addressing_mode="lid" (members by LID)
      check_phash         the account's group sends must carry the
                          participant hash of the group's current device
                          list, else the server ack names the right one
      tctoken             DMs to the account without a privacy token it
                          issued to the sender get <ack error="463">
                          (sim_tctoken)
      tctoken_withheld    privacy token IQs naming the account get no
                          token for it
      lid_hidden          the account is not LID-migrated: its LID is not
                          revealed (usync <lid>, sender_lid of its DMs)
      min_web_version     logins (the account's rules) and registrations
                          (the global rules) whose UserAgent appVersion
                          third number (WA Web's client_revision) is
                          below it get <failure reason="405">, as the
                          real server answers an outdated client; 0: any
      check_peer_pn       the account's DMs to a LID must name the
                          recipient's number in peer_recipient_pn, else
                          <ack error="479"> (a wrong number always is)
      lid_status          the account's statuses reach a LID-migrated
                          recipient only at devices named by LID (a
                          <to> naming one by number gets nothing), as
                          statuses are LID-addressed
      status_garbled      status copies to the account's devices carry
                          a skmsg no one can decrypt (the sender key
                          message is damaged in transit): their clients
                          ask for a retry; resends are left alone
      garble_dms          the next N one-to-one message copies to the
                          account's devices (0..100) carry a damaged
                          msg / pkmsg (its last byte, part of the MAC,
                          flipped in transit): the device cannot decrypt
                          it and asks for a retry; the count goes down
                          by one a copy, so the resend arrives intact
*/
#ifndef SIM_FAULT_H_INCLUDED
#define SIM_FAULT_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

//  Longest ack delay accepted.
#define SIM_FAULT_MAX_DELAY_MS 600000

//  Most one-to-one copies garble_dms damages at one time.
#define SIM_FAULT_MAX_GARBLE 100

typedef struct {
    int64_t ack_delay_ms;      //  delay of server acks
    bool withhold_acks;        //  drop server acks
    bool refuse_prekey_upload; //  error on prekey upload
    bool refuse_prekey_fetch;  //  error on bundle fetch
    bool lid_groups;           //  new groups use LID addressing
    bool check_phash;          //  group sends' phash is checked
    bool tctoken;              //  DMs to it need its privacy token
    bool tctoken_withheld;     //  its token is not handed out
    bool lid_hidden;           //  its LID is not revealed
    int64_t min_web_version;   //  older WA Web revisions get 405 (0 any)
    bool check_peer_pn;        //  its DMs to LIDs need peer_recipient_pn
    bool lid_status;           //  its statuses reach LID devices only
    bool status_garbled;       //  statuses to it carry a broken skmsg
    int64_t garble_dms;        //  DM copies to it still to damage
} sim_fault_rules_t;

typedef struct _sim_fault_t sim_fault_t;

//  New fault set with no faults. Caller owns return value.
sim_fault_t *sim_fault_new(void);

void sim_fault_destroy(sim_fault_t **self_p);

//  Rules in effect for an account phone (NULL = the global rules).
//  Borrowed; valid until the next change.
const sim_fault_rules_t *sim_fault_rules(sim_fault_t *self, const char *phone);

//  True (and one less to go) when the rules for the account phone
//  still have a one-to-one copy to damage (garble_dms).
bool sim_fault_take_garble(sim_fault_t *self, const char *phone);

//  Update rules from a JSON object: fields absent keep their value;
//  "phone" (optional) selects a per-account set (created from the
//  global one when new). Returns 0, or -1 with *error set (static text)
//  on a bad field.
int sim_fault_update(sim_fault_t *self, json_t *body, const char **error);

//  Remove every per-account set and reset the global one.
void sim_fault_reset(sim_fault_t *self);

//  JSON view {global:{...}, accounts:{phone:{...}}}. Caller owns.
json_t *sim_fault_to_json(sim_fault_t *self);

void sim_fault_test(bool verbose);

#endif
