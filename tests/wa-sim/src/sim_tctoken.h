/*  sim_tctoken - privacy tokens (trusted-contact tokens) and the 463
    rule of 1:1 messages

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    docs/wa-protocol.md §7.4, docs/protocol-fidelity.md rule 9. An
    account B held to the rule `tctoken` (sim_fault) takes DMs only
    when they carry a <tctoken> B issued to the sender A; any other DM
    to B gets <ack error="463">. Tokens are minted, not stored:

        token(B -> A, week) = HMAC-SHA256(B's account key,
                                          "tctoken|" A's LID "|" week)

    where week is the 7-day bucket (unix seconds / 604800) the token was
    issued in. A token is valid for its bucket and the three after it
    (about 28 days, as WhatsApp Web's tctoken_duration x
    tctoken_num_buckets). They reach A two ways:

      - B issues its token to A: <iq xmlns="privacy" type="set"><tokens>
        <token jid=A t type="trusted_contact"/></tokens></iq> from any of
        B's devices. A's companions get
            <notification type="privacy_token" from=B(LID, or PN when B
              is lid_hidden)><tokens><token jid=A t type="trusted_contact">
              TOKEN</token></tokens></notification>
      - the same IQ answers the issuer with the named contact's token
        for it (<tokens><token jid=A t type="trusted_contact">token(A ->
        B)</token></tokens>) unless A's rule `tctoken_withheld` is on:
        a client that met 463 gets a token this way (whatsmeow reads the
        token from this reply).
      - history sync: a seeded chat with `tctoken` (sim_history) carries
        token(contact -> account) of the bucket of its tcTokenTimestamp
        in Conversation field 21 (22: t, 28: our last issuance).
    A DM without a valid token passes with a <cstoken> equal to
        HMAC-SHA256(sender's NCT salt, recipient's LID "user@lid")
    (whatsmeow generateCsToken, Baileys 7 cs-token-utils), the salt the
    sender's phone gave its companions: in history sync (HistorySync
    nctSalt 19, seed `nctSalt`) or in app state (["nct_salt_sync"],
    POST /accounts/{phone}/app-state/actions, a remove clears it).
    Whether the real server checks a cstoken cannot be seen from here;
    wa-sim takes the phone's salt as known to it and checks, so a wrong
    derivation (or a cstoken without a salt) fails a test with 463.
*/
#ifndef SIM_TCTOKEN_H_INCLUDED
#define SIM_TCTOKEN_H_INCLUDED

#include <stdbool.h>

#include "sim_cap.h"

//  Seconds of one token bucket; buckets a token stays valid.
#define SIM_TCTOKEN_BUCKET 604800
#define SIM_TCTOKEN_BUCKETS 4

//  IQ privacy (with <tokens>, before sim_privacy); notification
//  privacy_token.
extern const sim_cap_t sim_tctoken_cap;

//  True when a 1:1 message from `sender` may reach `to` under to's
//  rules: the rule is off, it is the sender's own account, or the
//  message carries a valid token `to` issued to `sender`.
bool sim_tctoken_allows(sim_hub_t *hub, sim_account_t *sender,
                        sim_account_t *to, const wa_node_t *msg);

//  `issuer` issues its token to `holder`: holder's companions get a
//  privacy_token notification.
void sim_tctoken_issue(sim_hub_t *hub, sim_account_t *issuer,
                       sim_account_t *holder);

//  Length of a minted token.
#define SIM_TCTOKEN_LEN 32

//  token(issuer -> holder) of the bucket of `t` (unix s).
void sim_tctoken_mint(sim_account_t *issuer, sim_account_t *holder, int64_t t,
                      uint8_t out[SIM_TCTOKEN_LEN]);

//  The account's NCT salt, made (32 random bytes) on first use.
const uint8_t *sim_tctoken_salt(sim_account_t *acc, size_t *len_p);

//  Set (len 1..32) or clear (NULL) the account's NCT salt, as its phone
//  does through app state. Returns 0, or -1 when the length is wrong.
int sim_tctoken_set_salt(sim_account_t *acc, const uint8_t *salt, size_t len);

void sim_tctoken_test(bool verbose);

#endif
