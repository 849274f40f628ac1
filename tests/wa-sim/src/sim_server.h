/*  sim_server - wa-sim's core: the world model, the listeners and the
    actions the control API triggers

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    One sim_server_t runs everything on one czmq zloop: the WebSocket
    listener (client connections), the control API and the media host
    (both libmicrohttpd in external epoll mode). Control actions such as
    "the phone scans this QR" are plain calls made from the control
    handler, so no state is shared between threads.

    Actions return an HTTP-like status (200/201 ok, 4xx caller fault,
    5xx ours) and, on failure, a static reason text.
*/
#ifndef SIM_SERVER_H_INCLUDED
#define SIM_SERVER_H_INCLUDED

#include <czmq.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim_config.h"
#include "sim_fault.h"
#include "sim_log.h"
#include "sim_model.h"

typedef struct _sim_server_t sim_server_t;

//  Start listeners on the loop as configured (loads the state file when
//  set and present). NULL on failure (logged). Caller owns return value.
sim_server_t *sim_server_new(zloop_t *loop, const sim_config_t *config);

//  Close every connection and listener (saves the state file when set).
void sim_server_destroy(sim_server_t **self_p);

//  The world and its tools. Borrowed.
sim_model_t *sim_server_model(sim_server_t *self);
sim_log_t *sim_server_log(sim_server_t *self);
sim_fault_t *sim_server_faults(sim_server_t *self);
//  The Signal counter ledger. Borrowed.
sim_ledger_t *sim_server_ledger(sim_server_t *self);

//  {ws_url, control_url, media_url, root_key} as printed at start.
//  Caller owns return value.
json_t *sim_server_info(sim_server_t *self);

//  Root public key (32 bytes). Borrowed.
const uint8_t *sim_server_root_key(sim_server_t *self);

//  Open connections as JSON. Caller owns return value.
json_t *sim_server_connections(sim_server_t *self);

//  The phone of `phone` scans a QR string shown by a companion: links a
//  new device, sends pair-success. *result_p gets {device jid, lid}.
int sim_server_scan_qr(sim_server_t *self, const char *phone, const char *qr,
                       json_t **result_p, const char **reason);

//  The phone of `phone` types a pairing code shown by a companion.
int sim_server_enter_code(sim_server_t *self, const char *phone,
                          const char *code, json_t **result_p,
                          const char **reason);

//  App-state collection versions of an account ({name: version}).
//  Caller owns return value.
json_t *sim_server_app_state(sim_server_t *self, const char *phone);

//  The account's recent app-state fetches (sim_appstate_fetches). Caller
//  owns return value.
json_t *sim_server_app_state_fetches(sim_server_t *self, const char *phone);

//  Store a tampered copy of a collection's last patch
//  (sim_appstate_tamper). HTTP-like status.
int sim_server_app_state_tamper(sim_server_t *self, const char *phone,
                                const char *collection, const char **reason);

//  The phone of `phone` sends an end-to-end encrypted text to `to` (a
//  phone number, user JID or group JID). *result_p gets {id, copies}.
int sim_server_phone_send(sim_server_t *self, const char *phone, const char *to,
                          const char *text, json_t **result_p,
                          const char **reason);

//  The phone of `phone` changes its app state: `actions` as
//  sim_appstate_phone_act takes them (external: 1 mutations in external
//  blobs, 2 blobs gone); 409 before it has an app-state key (no
//  companion linked yet).
int sim_server_phone_app_state(sim_server_t *self, const char *phone,
                               const json_t *actions, int external,
                               json_t **result_p, const char **reason);

//  The phone of `phone` makes a new app-state key it does not share
//  (sim_phone_new_app_state_key), and what key requests it got
//  (sim_phone_key_requests).
int sim_server_phone_app_state_key(sim_server_t *self, const char *phone,
                                   json_t **result_p, const char **reason);
json_t *sim_server_phone_key_requests(sim_server_t *self, const char *phone);

//  The phone of `phone` makes a snapshot of `collection`
//  (sim_appstate_phone_snapshot); 409 as above.
int sim_server_phone_app_state_snapshot(sim_server_t *self, const char *phone,
                                        const char *collection,
                                        json_t **result_p, const char **reason);

//  Seed the history the phone of `phone` sends its next companions
//  (sim_phone_seed_history).
int sim_server_phone_history(sim_server_t *self, const char *phone,
                             json_t *seed, json_t **result_p,
                             const char **reason);

//  What the phone of `phone` sent of its history and which chunks the
//  companions confirmed (sim_phone_history_status); 404 for no such
//  account.
int sim_server_phone_history_status(sim_server_t *self, const char *phone,
                                    json_t **result_p, const char **reason);

//  The phone of `phone` sends its seeded history again to its linked
//  companions (sim_phone_resend_history); 404 for no such account.
int sim_server_phone_history_send(sim_server_t *self, const char *phone,
                                  json_t **result_p, const char **reason);

//  A simulated phone asks to join a group in approval mode, or cancels
//  its request (sim_group_request_control).
int sim_server_group_request(sim_server_t *self, const char *gid,
                             const char *phone, bool cancel,
                             const char **reason);

//  Calls (sim_call): `phone` calls `to`; acts on a call ("accept",
//  "end"); lists a phone's calls. Status codes and results as
//  sim_call_place / sim_call_act / sim_call_list.
//  The control API's /channels routes (sim_channels_control): seg are
//  the segments after "channels".
int sim_server_channels(sim_server_t *self, const char *method, char **seg,
                        int n, json_t *in, json_t **result_p,
                        const char **reason);

int sim_server_call_place(sim_server_t *self, const char *phone, const char *to,
                          bool video, json_t **result_p, const char **reason);
int sim_server_call_act(sim_server_t *self, const char *phone, const char *id,
                        const char *action, json_t **result_p,
                        const char **reason);
json_t *sim_server_calls(sim_server_t *self, const char *phone);

//  The phone unlinks companion device `id`: its connection gets the
//  "logged out" stream error and the device is removed.
//  The simulated phone sends an undecryptable message (sim_phone).
int sim_server_phone_send_undecryptable(sim_server_t *self, const char *phone,
                                        const char *to, json_t **result_p,
                                        const char **reason);

//  Migrate the account of `phone` from PN to LID addressing, in the
//  middle of whatever it is doing: its `lid_hidden` rule is cleared
//  (usync <lid>, sender_lid show its LID from now on) and its phone
//  sends its companions the LID migration mapping sync message
//  (sim_phone_lid_sync). 200 with *result_p {lid, pairs, copies}, 404.
int sim_server_phone_lid_migrate(sim_server_t *self, const char *phone,
                                 json_t **result_p, const char **reason);

//  The account's companion `device` texts `to` with its device identity,
//  forged or not (sim_phone_send_as): SIM_FORGE_SIGNATURE breaks the
//  account signature, SIM_FORGE_ACCOUNT signs with another key.
#define SIM_FORGE_NONE 0
#define SIM_FORGE_SIGNATURE 1
#define SIM_FORGE_ACCOUNT 2
int sim_server_phone_send_as(sim_server_t *self, const char *phone,
                             const char *to, const char *text, uint32_t device,
                             int forge, int64_t key_index, json_t **result_p,
                             const char **reason);

//  The simulated phone sends a location, card, poll, vote, reaction, edit
//  or revoke: `in` as sim_kinds describes (sim_kinds).
int sim_server_phone_send_kind(sim_server_t *self, const char *phone,
                               json_t *in, json_t **result_p,
                               const char **reason);

//  The simulated phone goes online/offline, or types (sim_presence).
int sim_server_phone_presence(sim_server_t *self, const char *phone,
                              bool available, const char **reason);
int sim_server_phone_chatstate(sim_server_t *self, const char *phone,
                               const char *to, const char *state,
                               const char **reason);

int sim_server_unlink(sim_server_t *self, const char *phone, uint32_t id,
                      const char **reason);

//  Remove an account, closing its devices' connections.
int sim_server_remove_account(sim_server_t *self, const char *phone,
                              const char **reason);

//  Close a connection abruptly (no stream end).
int sim_server_drop(sim_server_t *self, int64_t conn_id, const char **reason);

//  Send <stream:error> to a connection and close it. `code` like "515"
//  or "503" (NULL = none), `conflict` like "replaced" or
//  "device_removed" (NULL = none).
int sim_server_stream_error(sim_server_t *self, int64_t conn_id,
                            const char *code, const char *conflict,
                            const char **reason);

//  Save the state file now (when configured). Returns 0 or -1.
int sim_server_save(sim_server_t *self);

void sim_server_test(bool verbose);

#endif
