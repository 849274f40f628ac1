/*  sim_kinds - a simulated phone sends the message kinds beyond text:
    locations, contact cards, polls and votes, reactions, edits, revokes

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    No stanzas of its own (the messages go out through sim_phone as every
    phone message does); the control API's
    POST /accounts/<phone>/send-kind {to, kind, ...} lands here:
      location {latitude, longitude, name?, address?}
      contact  {name, vcard}
      poll     {name, options[], multipleAnswers?}
      reaction {id, fromMe, text}        (id: the stanza id reacted to;
                                          fromMe: from the phone's view)
      edit     {id, text}                (one of the phone's messages)
      revoke   {id}                      (one of the phone's messages)
      vote     {id, creator, secret (base64), options[]} (a poll's id,
                                          its creator's user JID)
    Answers {id, copies} as /send does; a poll also {secret} (base64).
*/
#ifndef SIM_KINDS_H_INCLUDED
#define SIM_KINDS_H_INCLUDED

#include "sim_cap.h"
#include "sim_phone.h"

extern const sim_cap_t sim_kinds_cap;

//  The phone of `phone` sends the kind `in` describes. HTTP-like status;
//  *result_p gets {id, copies[, secret]}.
int sim_kinds_send(sim_phone_t *phones, const char *phone, json_t *in,
                   json_t **result_p, const char **reason);

void sim_kinds_test(bool verbose);

#endif
