/*  wa_presence - presence and chat state (wa-protocol.md §10.3)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A capability module of wa_client. Outgoing:
      <presence type="available"|"unavailable" name=PUSHNAME/>
      <presence type="subscribe" to=JID/>
      <chatstate to=JID><composing/></chatstate>, <composing media="audio"/>
        (recording), <paused/>
    Incoming <presence from [type="unavailable"] [last]/> and <chatstate
    from [participant]><composing|paused/></chatstate> become
    WA_CLIENT_EVENT_PRESENCE events (wa_client_presence_t). The server
    sends a contact's presence only after we subscribed to it, and chat
    states of chats with us.
*/
#ifndef WA_PRESENCE_H_INCLUDED
#define WA_PRESENCE_H_INCLUDED

#include <stdbool.h>

#include "wa_client.h"

//  Chat states we send.
typedef enum {
    WA_PRESENCE_COMPOSING = 1, //  typing
    WA_PRESENCE_RECORDING,     //  recording a voice message
    WA_PRESENCE_PAUSED         //  stopped typing or recording
} wa_presence_chatstate_t;

//  Tell the server we are available (online) or not. Returns 0, or -1
//  when not ready.
int wa_presence_set(wa_client_t *client, bool available);

//  Subscribe to the presence of user `jid` (wire or API form; no groups).
//  The server answers with the current presence as an event. Returns 0,
//  or -1 when not ready or jid is no user.
int wa_presence_subscribe(wa_client_t *client, const char *jid);

//  Send our chat state in `chat` (user or group, wire or API form).
//  Returns 0, or -1 when not ready or chat is invalid.
int wa_presence_chatstate(wa_client_t *client, const char *chat,
                          wa_presence_chatstate_t state);

//  Self test
void wa_presence_test(bool verbose);

#endif
