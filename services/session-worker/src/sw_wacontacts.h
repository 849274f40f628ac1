/*  sw_wacontacts - the contacts capability of the WhatsApp engine: is a
    number on WhatsApp, a contact's about text and picture, blocking

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Commands (SW_WACONTACTS_COMMANDS; 409 unless WORKING). Ids come in
    API form ("<digits>@c.us", "…@lid"; bare phone numbers where named):
      contact.check {phone} -> {numberExists, chatId?, lid?}
          usync contact query, answers cached for SW_WACONTACTS_CHECK_TTL_S
          per session; at most SW_WACONTACTS_CHECK_RATE uncached numbers
          per minute per session (429 beyond: WhatsApp bans clients that
          probe numbers in bulk)
      contact.about {id} -> {id, about:str|null, setAt:int|null (s)}
          usync status query
      contact.picture {id, refresh?:bool, preview?:bool} ->
          {id, url:str|null, pictureId:str|null}; cached
          SW_WACONTACTS_PICTURE_TTL_S unless refresh, dropped when a
          picture notification says it changed
      contact.block {id, block:bool} -> {id, blocked:bool}
          blocklist IQ, addressed by the LID when the session knows it
      contact.info {id} -> {id, number, isBlocked, isWAContact:bool|null,
          pushname:str|null, me}; from what the session learnt (no IQ)
      contact.blocked {} -> {blocked:["…@c.us"], me}: whom this session
          blocked
    IQ errors: 400 (refused as invalid), 403, 404 (body {missing:
    what}), 429, 502, 504 (no answer in time), 503 (connection lost).

    The helper sw_wacontacts_ask (used by sw_waprofile too) holds a
    command, sends an IQ and answers the command from the reply.
*/
#ifndef SW_WACONTACTS_H_INCLUDED
#define SW_WACONTACTS_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "sw_wasess.h"
#include "wa/wa_client.h"
#include "wa/wa_node.h"

//  Longest wait of a contacts command: the IQ's own deadline comes first.
#define SW_WACONTACTS_TIMEOUT_MS (SW_WA_IQ_TIMEOUT_MS + SW_WACMD_GRACE_MS)
//  Life of a cached check answer, s.
#define SW_WACONTACTS_CHECK_TTL_S (24 * 3600)
//  Uncached numbers checked per minute and session.
#define SW_WACONTACTS_CHECK_RATE 20
//  Life of a cached picture URL, s.
#define SW_WACONTACTS_PICTURE_TTL_S (24 * 3600)
//  Most entries of each cache per session.
#define SW_WACONTACTS_CACHE_MAX 10000

#define SW_WACONTACTS_COMMANDS                                                 \
    SW_WACMD("contact.check", SW_WACMD_WORKING, SW_WACONTACTS_TIMEOUT_MS,      \
             sw_wacontacts_check),                                             \
        SW_WACMD("contact.about", SW_WACMD_WORKING, SW_WACONTACTS_TIMEOUT_MS,  \
                 sw_wacontacts_about),                                         \
        SW_WACMD("contact.picture", SW_WACMD_WORKING,                          \
                 SW_WACONTACTS_TIMEOUT_MS, sw_wacontacts_picture),             \
        SW_WACMD("contact.block", SW_WACMD_WORKING, SW_WACONTACTS_TIMEOUT_MS,  \
                 sw_wacontacts_block),                                         \
        SW_WACMD("contact.info", SW_WACMD_WORKING, SW_WACMD_NOW,               \
                 sw_wacontacts_info),                                          \
        SW_WACMD("contact.blocked", SW_WACMD_WORKING, SW_WACMD_NOW,            \
                 sw_wacontacts_blocked)

void sw_wacontacts_check(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wacontacts_about(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wacontacts_picture(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wacontacts_block(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wacontacts_info(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wacontacts_blocked(sw_wasess_t *sess, sw_cmd_t **cmd_p);

//  A picture notification: forget what is cached about that picture.
void sw_wacontacts_on_picture(sw_wasess_t *sess,
                              const wa_client_picture_t *picture);

//  Learn a contact's push name (from its messages).
void sw_wacontacts_learn_name(sw_wasess_t *sess, const char *jid,
                              const char *push_name);

//  What an IQ reply becomes: a body (answered 200), or NULL with *st_p
//  and *reason_p (caller frees) set.
typedef json_t *(sw_wacontacts_done_fn)(sw_wasess_t *sess,
                                        const wa_node_t *reply, void *ctx,
                                        int *st_p, char **reason_p);

//  Hold the command, send the IQ (taken) and answer the command from
//  done (on a result) or from the failure. `what` names the request for
//  reasons ("get the about text"); ctx (freed with free() afterwards;
//  may be NULL) goes to done.
void sw_wacontacts_ask(sw_wasess_t *sess, sw_cmd_t **cmd_p, wa_node_t **iq_p,
                       const char *what, sw_wacontacts_done_fn *done,
                       void *ctx);

//  What comes after done's body when the answer needs more work (media
//  downloads): the command stays held under `key`, and `then` answers
//  it later (sw_wasess_release(sess, key)); it may take *body_p. ctx is
//  freed when then returns.
typedef void(sw_wacontacts_then_fn)(sw_wasess_t *sess, const char *key,
                                    json_t **body_p, void *ctx);

//  As sw_wacontacts_ask, with `then` (NULL: answer done's body at once).
void sw_wacontacts_ask_then(sw_wasess_t *sess, sw_cmd_t **cmd_p,
                            wa_node_t **iq_p, const char *what,
                            sw_wacontacts_done_fn *done,
                            sw_wacontacts_then_fn *then, void *ctx);

//  The request's `key` as a person's wire user JID (phone numbers and
//  "…@c.us" / "…@lid"); NULL after a 400 naming the key.
char *sw_wacontacts_person(sw_cmd_t **cmd_p, const char *key);

void sw_wacontacts_test(bool verbose);

#endif
