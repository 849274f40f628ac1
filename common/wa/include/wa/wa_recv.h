/*  wa_recv - incoming message stanzas: source, decryption, receipts, acks

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    wa-protocol.md §7.6–7.9. An incoming

        <message id from t type [participant] [recipient] [notify]
                 [category="peer"]>
          <enc v="2" type="pkmsg"|"msg"|"skmsg">CT</enc>...
        </message>

    is resolved to a source (chat, sender device, from-me), decrypted
    (pairwise pkmsg/msg first so that a sender-key distribution in them
    is known before the skmsg), unpadded and decoded with wa_message.
    The caller answers with the delivery receipt (success), a retry
    receipt (decryption failed) or an ack with an error code (unusable
    stanza). Receipts from others (<receipt>) and retry requests are
    parsed here too.

    All parsers treat the stanza as hostile input: missing or malformed
    parts give an error result, never a crash.
*/
#ifndef WA_RECV_H_INCLUDED
#define WA_RECV_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wa_e2e.h"
#include "wa_message.h"
#include "wa_node.h"
#include "wa_sigstore.h"

//  Where a message or receipt comes from. Strings are owned by the
//  struct (wa_recv_source_clear).
typedef struct {
    char *id;           //  stanza id
    char *chat;         //  chat JID without device (user, group, ...)
    char *sender;       //  sending device JID (group: the participant)
    char *sender_user;  //  sender without device
    char *recipient;    //  recipient attribute, or NULL
    char *push_name;    //  notify attribute, or NULL
    char *sender_alt;   //  the sender's other user JID (LID <-> phone
                        //  number, from sender_pn / sender_lid /
                        //  participant_pn / participant_lid), or NULL
    bool from_me;       //  sent by our own account (another device)
    bool is_group;      //  chat is a group or a broadcast list
    bool is_newsletter; //  chat is a channel (plaintext)
    bool is_peer;       //  category="peer" (our own devices' protocol)
    int64_t timestamp;  //  t attribute (seconds), 0 when absent
} wa_recv_source_t;

//  Resolve the source of a <message> (or <receipt>): own_pn and own_lid
//  are any JIDs of our own account (NULL when unknown). Returns 0, or -1
//  when id or from is missing or invalid (src is then cleared).
int wa_recv_source(wa_recv_source_t *src, const wa_node_t *node,
                   const char *own_pn, const char *own_lid);

//  Free the strings of a source and zero it.
void wa_recv_source_clear(wa_recv_source_t *src);

//  Outcome of wa_recv_decrypt.
typedef enum {
    WA_RECV_OK = 0,        //  decrypted, result has a message
    WA_RECV_EMPTY = 1,     //  decrypted, nothing to show (e.g. only a
                           //  key distribution): send the receipt
    WA_RECV_DUPLICATE = 2, //  already decrypted before: send the receipt
    WA_RECV_RETRY = 3,     //  decryption failed: send a retry receipt
    WA_RECV_NACK = 4       //  unusable stanza: ack with result.error
} wa_recv_status_t;

typedef struct {
    wa_recv_status_t status; //  outcome
    int error;               //  nack code (WA_RECV_NACK)
    wa_message_t *message;   //  decoded content (WA_RECV_OK)
    uint8_t *plain;          //  its serialised Message bytes
    size_t plain_len;        //  their length
    bool skdm;               //  a sender key distribution was accepted
    bool pkmsg;              //  a pkmsg was decrypted (session started)
} wa_recv_result_t;

//  Nack codes (wa-protocol.md §7.6).
#define WA_RECV_NACK_PARSE 487        //  parsing error
#define WA_RECV_NACK_UNRECOGNIZED 488 //  unrecognised stanza
#define WA_RECV_NACK_PROTOBUF 491     //  invalid protobuf

//  Decrypt the <enc> children (or the channel <plaintext>) of message
//  `node` from `src` with the session's Signal store; accepted sender key
//  distributions are stored. The result's message/plain belong to res
//  (wa_recv_result_clear). Returns 0 (see res->status).
int wa_recv_decrypt(wa_sigstore_t *store, const wa_node_t *node,
                    const wa_recv_source_t *src, wa_recv_result_t *res);

//  Free a result's message and plaintext and zero it.
void wa_recv_result_clear(wa_recv_result_t *res);

//  The delivery receipt for a message we could read: <receipt id
//  to=(from) [participant] [recipient] [type="sender"|"peer_msg"]/>.
//  Caller owns return value.
wa_node_t *wa_recv_receipt(const wa_node_t *node, const wa_recv_source_t *src);

//  An <ack> for any received stanza (message, receipt, notification,
//  call): class = its tag, id, to = its from, participant, recipient,
//  type (not for messages unless error), error when error > 0. NULL when
//  the stanza has no id or from. Caller owns return value.
wa_node_t *wa_recv_ack(const wa_node_t *node, int error);

//  A retry receipt for a message we could not decrypt (retry count,
//  our registration id). The caller appends <keys> (wa_keys_retry_keys)
//  when count > 1. NULL when the stanza has no id or from. Caller owns
//  return value.
wa_node_t *wa_recv_retry_receipt(const wa_node_t *node, int count,
                                 uint32_t registration_id);

//  One message a receipt is about.
typedef struct {
    char *id;          //  message id
    char *sender;      //  device that sent the receipt
    int64_t timestamp; //  receipt time (seconds)
} wa_recv_item_t;

//  A parsed <receipt>. Strings are owned (wa_recv_receipt_clear).
typedef struct {
    char *type;            //  type attribute, NULL for delivery
    char *chat;            //  chat without device
    bool from_me;          //  sent by one of our own devices
    bool is_group;         //  chat is a group
    wa_recv_item_t *items; //  the messages (id + list items, or the
                           //  aggregated per-user form)
    size_t count;          //  number of items
} wa_recv_receipt_t;

//  Parse a <receipt>. Returns 0, or -1 when malformed (r is cleared).
int wa_recv_receipt_parse(wa_recv_receipt_t *r, const wa_node_t *node,
                          const char *own_pn, const char *own_lid);

//  Free a parsed receipt and zero it.
void wa_recv_receipt_clear(wa_recv_receipt_t *r);

//  A retry request (<receipt type="retry">) as the sender sees it.
typedef struct {
    int count;             //  retry attempt (1..)
    int64_t timestamp;     //  the original message's t (0 if absent)
    bool has_keys;         //  a prekey bundle came with it
    wa_bundle_t bundle;    //  the bundle (has_keys)
    uint32_t registration; //  the requester's registration id
    bool has_registration; //  registration present
} wa_recv_retry_t;

//  Parse the <retry>, <registration> and optional <keys> of a retry
//  receipt. Returns 0, or -1 when <retry> is missing or malformed.
int wa_recv_retry_parse(const wa_node_t *node, wa_recv_retry_t *r);

//  Self test
void wa_recv_test(bool verbose);

#endif
