/*  sim_call - calls: a <call> stanza is acknowledged, nothing more

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Offers, accepts and rejects are not relayed yet; the server
    <ack class="call"> keeps clients from resending.
*/
#ifndef SIM_CALL_H_INCLUDED
#define SIM_CALL_H_INCLUDED

#include <stdbool.h>

#include "sim_cap.h"

//  Stanza call.
extern const sim_cap_t sim_call_cap;

void sim_call_test(bool verbose);

#endif
