/*  sim_profile - profile IQs: picture, about text, default
    disappearing mode

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    docs/wa-protocol.md §10.4. Nobody has a profile picture (a get
    answers 404); a set answers a fresh picture id and stores nothing.
    Status (about) and disappearing-mode sets are acknowledged only.
*/
#ifndef SIM_PROFILE_H_INCLUDED
#define SIM_PROFILE_H_INCLUDED

#include <stdbool.h>

#include "sim_cap.h"

//  IQs w:profile:picture, status, disappearing_mode.
extern const sim_cap_t sim_profile_cap;

void sim_profile_test(bool verbose);

#endif
