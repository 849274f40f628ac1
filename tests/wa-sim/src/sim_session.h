/*  sim_session - a logged-in session's housekeeping: keepalive pings
    (w:p), passive/active (the offline queue is flushed on active), AB
    props (abt), dirty bits, account sync, stats, and the client's ib
    and notification stanzas (nothing to do)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    docs/wa-protocol.md §6.2-6.6. Pings and stats are answered even
    before login. Login itself is sim_pair's.
*/
#ifndef SIM_SESSION_H_INCLUDED
#define SIM_SESSION_H_INCLUDED

#include <stdbool.h>

#include "sim_cap.h"

//  IQs w:p, w:stats, passive, abt, urn:xmpp:whatsapp:dirty,
//  urn:xmpp:whatsapp:account; stanzas ib, notification.
extern const sim_cap_t sim_session_cap;

void sim_session_test(bool verbose);

#endif
