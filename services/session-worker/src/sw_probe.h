/*  sw_probe - the "connect probe" engine

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Stands in for the WhatsApp engine until that exists. For each session
    it opens a non-blocking TCP connection to the host and port of WA_URL:
    - cannot connect (refused, unreachable, name unknown, 10 s timeout):
      status FAILED with the reason, e.g. "could not connect to
      127.0.0.1:1234: Connection refused", then STARTING again after an
      exponential backoff with jitter (WA_RECONNECT_MIN_MS..MAX_MS);
    - connects: logs that the WhatsApp engine is not built yet and stays
      STARTING with the connection open; if the server closes it, the
      session goes FAILED and retries as above.
    session.qr is answered 409 (a probe never shows a QR). Logout has
    nothing to unlink and completes at once.

    Host names other than numeric addresses are resolved with a blocking
    getaddrinfo, cached for SW_PROBE_DNS_CACHE_MS, shared by all sessions.
*/
#ifndef SW_PROBE_H_INCLUDED
#define SW_PROBE_H_INCLUDED

#include "sw_config.h"
#include "sw_engine.h"

//  Give up a connect attempt after this long.
#define SW_PROBE_CONNECT_TIMEOUT_MS 10000
//  Keep a resolved (or failed) address this long.
#define SW_PROBE_DNS_CACHE_MS 60000

//  New probe engine for WA_URL of `config` (borrowed; must outlive the
//  engine). Caller owns return value.
sw_engine_t *sw_probe_new(const sw_config_t *config);

void sw_probe_test(bool verbose);

#endif
