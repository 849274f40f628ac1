/*  sim_usync - user and device queries (xmlns usync)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    docs/wa-protocol.md §7.2, §10.5. Per user: devices (device 0 = the
    phone when --phone-device, companions with key-index, a signed
    key-index-list), contact (in/out, by JID or by the typed number),
    lid, status, disappearing_mode. At most 1000 users per query.
*/
#ifndef SIM_USYNC_H_INCLUDED
#define SIM_USYNC_H_INCLUDED

#include <stdbool.h>

#include "sim_cap.h"

//  IQ usync.
extern const sim_cap_t sim_usync_cap;

void sim_usync_test(bool verbose);

#endif
