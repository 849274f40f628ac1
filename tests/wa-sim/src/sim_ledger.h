/*  sim_ledger - which Signal message counters each sender used, so tests
    can prove no message key was ever used for two ciphertexts

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Every pairwise ciphertext a device sends (<enc type="msg|pkmsg">) is
    recorded under (sender device, recipient device, ratchet key,
    counter) with a digest of its bytes. The same ciphertext again (a
    resend of the same bytes) is fine; a different ciphertext under a
    key already recorded means the sender reused a message key (a chain
    counter used twice): it is counted and listed.

    Control API: GET /signal -> {ciphertexts, reused, untracked,
    reuses:[{sender, recipient, counter}]} (the first SIM_LEDGER_LIST of
    them); DELETE /signal clears it.
*/
#ifndef SIM_LEDGER_H_INCLUDED
#define SIM_LEDGER_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _sim_ledger_t sim_ledger_t;

//  Most keys remembered; later ciphertexts count as untracked.
#define SIM_LEDGER_MAX 500000
//  Most reuses listed in to_json.
#define SIM_LEDGER_LIST 100

//  New empty ledger. Caller owns return value.
sim_ledger_t *sim_ledger_new(void);

//  Destroy. NULL-safe; sets *self_p to NULL.
void sim_ledger_destroy(sim_ledger_t **self_p);

//  Record a pairwise ciphertext (`type` "msg" or "pkmsg"; others are
//  ignored) from device JID `sender` to device JID `recipient`. Returns
//  1 when it reuses a counter, 0 otherwise (also when unparseable).
int sim_ledger_record(sim_ledger_t *self, const char *sender,
                      const char *recipient, const char *type,
                      const uint8_t *data, size_t len);

//  Reuses seen.
size_t sim_ledger_reused(sim_ledger_t *self);

//  The state as the control API shows it. Caller owns return value.
json_t *sim_ledger_to_json(sim_ledger_t *self);

//  Forget everything.
void sim_ledger_clear(sim_ledger_t *self);

void sim_ledger_test(bool verbose);

#endif
