/*  sim_privacy - privacy settings and the blocklist

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    docs/wa-protocol.md §10.6-10.7. A get of the privacy settings
    answers fixed defaults (everyone may see and add; status to
    contacts); sets are acknowledged and not stored. The blocklist is
    empty and blocking is acknowledged only.
*/
#ifndef SIM_PRIVACY_H_INCLUDED
#define SIM_PRIVACY_H_INCLUDED

#include <stdbool.h>

#include "sim_cap.h"

//  IQs privacy, blocklist.
extern const sim_cap_t sim_privacy_cap;

void sim_privacy_test(bool verbose);

#endif
