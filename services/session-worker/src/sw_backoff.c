/*  sw_backoff - exponential reconnect delays with jitter

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"

int
sw_backoff_delay_r(int min_ms, int max_ms, unsigned attempt, uint32_t random)
{
    assert(min_ms > 0 && max_ms >= min_ms);
    int64_t base = min_ms;
    for (unsigned i = 0; i < attempt && base < max_ms; i++) {
        base *= 2;
    }
    if (base > max_ms) {
        base = max_ms;
    }
    int64_t jitter = base / 4;
    int64_t delay =
        base - (jitter ? (int64_t)(random % (uint64_t)(jitter + 1)) : 0);
    if (delay < min_ms) {
        delay = min_ms;
    }
    return (int)delay;
}

int
sw_backoff_delay(int min_ms, int max_ms, unsigned attempt)
{
    uint32_t r;
    cm_random(&r, sizeof r);
    return sw_backoff_delay_r(min_ms, max_ms, attempt, r);
}

void
sw_backoff_test(bool verbose)
{
    printf(" * sw_backoff: ");
    //  No jitter: doubles up to the cap
    assert(sw_backoff_delay_r(100, 1000, 0, 0) == 100);
    assert(sw_backoff_delay_r(100, 1000, 1, 0) == 200);
    assert(sw_backoff_delay_r(100, 1000, 2, 0) == 400);
    assert(sw_backoff_delay_r(100, 1000, 3, 0) == 800);
    assert(sw_backoff_delay_r(100, 1000, 4, 0) == 1000);
    assert(sw_backoff_delay_r(100, 1000, 4000000000u, 0) == 1000);
    //  Full jitter takes off at most a quarter, never below min
    assert(sw_backoff_delay_r(100, 1000, 0, 25) == 100);
    assert(sw_backoff_delay_r(100, 1000, 2, 100) == 300);
    assert(sw_backoff_delay_r(100, 1000, 2, 101) == 400);
    assert(sw_backoff_delay_r(100, 1000, 9, 250) == 750);
    assert(sw_backoff_delay_r(1, 1, 3, 7) == 1);
    //  Random delays stay in range and strictly grow until the cap
    int prev = 0;
    for (unsigned k = 0; k < 12; k++) {
        int d = sw_backoff_delay(1000, 60000, k);
        assert(d >= 1000 && d <= 60000);
        if (k > 0 && k < 6) {
            assert(d > prev);
        }
        if (k >= 6) {
            assert(d >= 45000);
        }
        prev = d;
    }
    //  Jitter spreads retries
    bool differ = false;
    int first = sw_backoff_delay(1000, 60000, 5);
    for (int i = 0; i < 20 && !differ; i++) {
        differ = sw_backoff_delay(1000, 60000, 5) != first;
    }
    assert(differ);
    printf("OK\n");
}
