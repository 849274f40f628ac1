/*  sim_call - calls between accounts: a simulated phone places a voice
    or video call, clients reject it, the phone ends it

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The control API drives the caller's side (sim_call_place,
    sim_call_act); the callee's linked devices get

        <call from=CALLER id t notify><offer call-id call-creator=CALLER
          count="0">[<video/>]<audio enc="opus" rate="16000"/></offer></call>

    (queued while offline, as class "call"), then <accept/> (the callee's
    phone took it) or <terminate/> (the caller hung up) with the same
    call-id and call-creator. A client's <call to=CALLER><reject call-id
    call-creator count/></call> marks the call rejected and ends it for
    the callee's other devices (<terminate reason="rejected"/>); every
    <call> a client sends gets <ack class="call">.
*/
#ifndef SIM_CALL_H_INCLUDED
#define SIM_CALL_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "sim_cap.h"

//  Stanza call.
extern const sim_cap_t sim_call_cap;

typedef struct _sim_calls_t sim_calls_t;

//  `phone` calls `to` (phone number or JID), video or voice. Returns 200
//  with *result_p = {id, from, to, video, state:"offered"}, or 400 / 404
//  with *reason.
int sim_call_place(sim_calls_t *self, const char *phone, const char *to,
                   bool video, json_t **result_p, const char **reason);

//  Act on call `id` of `phone` (caller or callee): "accept" (the callee's
//  phone answered) or "end" (the caller hung up). Returns 200 with the
//  call, or 400 / 404 / 409 (already over) with *reason.
int sim_call_act(sim_calls_t *self, const char *phone, const char *id,
                 const char *action, json_t **result_p, const char **reason);

//  The calls `phone` placed or got: [{id, from, to, video, state
//  ("offered", "accepted", "rejected", "ended"), rejected_by?}]. Caller
//  owns return value.
json_t *sim_call_list(sim_calls_t *self, const char *phone);

void sim_call_test(bool verbose);

#endif
