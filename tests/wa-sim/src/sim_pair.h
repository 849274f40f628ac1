/*  sim_pair - registration, login and linking: pair-device refs, the
    phone scanning a QR or typing a pairing code, pair-success and the
    device signature, the 515 restart, <success>, unlinking

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    docs/wa-protocol.md §5 and §6.2, server side. The simulated phone of
    an account signs the companion's ADV identity with the account
    identity key (wa_pair_adv_issue) and checks the countersignature
    (wa_pair_adv_check_reply).
*/
#ifndef SIM_PAIR_H_INCLUDED
#define SIM_PAIR_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim_cap.h"
#include "wa/wa_node.h"
#include "wa/wa_payload.h"

//  A ClientFinish payload arrived: a registration gets pair-device refs,
//  a login of a linked device gets <success>, anything else <failure>.
//  Takes *info_p. Returns 0, or -1 when the connection must close.
int sim_pair_handshake(sim_hub_t *hub, sim_conn_t *conn,
                       wa_payload_info_t **info_p);

//  IQ md (any connection state; answers to our pair-device and
//  pair-success); notifications devices, link_code_companion_reg.
extern const sim_cap_t sim_pair_cap;

//  The connection became active (or logged in non-passive): deliver the
//  offline queue and mark its end with <ib><offline/>.
void sim_pair_activate(sim_hub_t *hub, sim_conn_t *conn);

//  Control: the phone of `phone` scans `qr`. HTTP-like status.
int sim_pair_scan(sim_hub_t *hub, const char *phone, const char *qr,
                  json_t **result_p, const char **reason);

//  Control: the phone of `phone` types `code` ("ABCD-EFGH" or 8 chars).
int sim_pair_enter_code(sim_hub_t *hub, const char *phone, const char *code,
                        json_t **result_p, const char **reason);

//  Control or client: remove companion `id` of `phone`; its connection
//  gets the logged-out stream error and other devices a notification.
int sim_pair_unlink(sim_hub_t *hub, const char *phone, uint32_t id,
                    const char **reason);

//  <key-index-list ts=...> for an account's current devices, signed by
//  the account key. Caller owns return value.
wa_node_t *sim_pair_key_index_list(sim_hub_t *hub, sim_account_t *acc);

//  Give the account's phone (device 0) a Signal bundle: identity = the
//  account key, a signed prekey. Returns 0 or -1.
int sim_pair_phone_keys(sim_account_t *acc);

//  Control: link a companion device to `acc` that no client runs and
//  nobody is told about (no devices notification): a Signal identity,
//  a signed prekey and five one-time prekeys, so senders can encrypt to
//  it once they learn of it (a stale device list, wa-sim's phash rule).
//  Its stanzas wait in its queue. NULL on failure.
sim_device_t *sim_pair_shadow_device(sim_account_t *acc);

void sim_pair_test(bool verbose);

#endif
