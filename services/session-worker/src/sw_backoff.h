/*  sw_backoff - exponential reconnect delays with jitter

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Retry k (0-based) waits base = min(max_ms, min_ms * 2^k), minus up to
    a quarter of it at random, never less than min_ms. Delays therefore
    grow strictly until the cap, and thousands of sessions that failed
    together do not retry in lock-step. The state is one counter the
    caller keeps, so a session pays no more than an int for it.
*/
#ifndef SW_BACKOFF_H_INCLUDED
#define SW_BACKOFF_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

//  Delay in ms before retry `attempt`, with a fresh random jitter.
int sw_backoff_delay(int min_ms, int max_ms, unsigned attempt);

//  As sw_backoff_delay with the given random value (for tests).
int sw_backoff_delay_r(int min_ms, int max_ms, unsigned attempt,
                       uint32_t random);

void sw_backoff_test(bool verbose);

#endif
