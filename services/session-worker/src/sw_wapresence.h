/*  sw_wapresence - the presence capability of the WhatsApp engine: our
    presence and chat states, subscriptions, the last known presences
    and the presence.update event

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Commands (SW_WAPRESENCE_COMMANDS, listed in sw_wa's table; 409 unless
    WORKING; answered at once):
      presence.set {presence, chatId?} -> {}
          presence: online, offline (everyone), typing, recording, paused
          (in chatId, required for these three); 400 naming the field
      presence.subscribe {chatId} -> {}
          a person: <presence type="subscribe">; a group: nothing to send
          (the server forwards group chat states to members anyway)
      presence.get {chatId?, subscribe?} -> WAHAChatPresences
          {id, presences:[{participant, lastKnownPresence, lastSeen}]} of
          chatId (after subscribing when `subscribe`), or
          {presences:[WAHAChatPresences...]} of every chat known

    Events: `presence.update` {id, presences:[{participant,
    lastKnownPresence, lastSeen}]} for each presence or chat state the
    engine reports. lastKnownPresence is WAHA's: online, offline, typing,
    recording, paused; lastSeen unix seconds or null.

    The last known presences live in memory per session (at most
    SW_WAPRESENCE_CHATS chats of SW_WAPRESENCE_PARTICIPANTS participants);
    a restart forgets them, as WhatsApp sends them again to subscribers.
*/
#ifndef SW_WAPRESENCE_H_INCLUDED
#define SW_WAPRESENCE_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "sw_wasess.h"

//  Chats whose presences are kept, and participants per chat.
#define SW_WAPRESENCE_CHATS 1024
#define SW_WAPRESENCE_PARTICIPANTS 256

//  The capability's rows of the command table.
#define SW_WAPRESENCE_COMMANDS                                                 \
    SW_WACMD("presence.set", SW_WACMD_WORKING, SW_WACMD_NOW,                   \
             sw_wapresence_set),                                               \
        SW_WACMD("presence.subscribe", SW_WACMD_WORKING, SW_WACMD_NOW,         \
                 sw_wapresence_subscribe),                                     \
        SW_WACMD("presence.get", SW_WACMD_WORKING, SW_WACMD_NOW,               \
                 sw_wapresence_get)

//  Handlers (sw_wacmd_fn).
void sw_wapresence_set(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wapresence_subscribe(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wapresence_get(sw_wasess_t *sess, sw_cmd_t **cmd_p);

//  For the engine: a presence or chat state (keeps it, emits
//  presence.update).
void sw_wapresence_on_presence(sw_wasess_t *sess,
                               const wa_client_presence_t *p);

//  WAHA's name of an engine presence state ("available" -> "online").
//  NULL for an unknown one.
const char *sw_wapresence_waha_name(const char *state);

void sw_wapresence_test(bool verbose);

#endif
