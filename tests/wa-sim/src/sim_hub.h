/*  sim_hub - shared state of the simulated server and the helpers the
    stanza handlers use: connections by device, delivery with queues,
    JID resolution, IQ replies

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The hub owns the model, the stanza log and the fault rules, and knows
    every live connection. It does not dispatch stanzas (sim_server does)
    (sim_router does, through the capability modules listed in
    sim_caps.inc), so the capability modules depend on it and not on
    each other.

    Delivery: sim_hub_deliver queues a stanza for a device (kept until the
    device acknowledges it) and writes it at once when the device has an
    active logged-in connection. Device 0 (the simulated phone) is a sink:
    stanzas for it are accepted and dropped.
*/
#ifndef SIM_HUB_H_INCLUDED
#define SIM_HUB_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim_config.h"
#include "sim_conn.h"
#include "sim_fault.h"
#include "sim_ledger.h"
#include "sim_log.h"
#include "sim_model.h"
#include "wa/wa_node.h"

//  The server JID as clients write it.
#define SIM_SERVER_JID "s.whatsapp.net"

typedef struct _sim_hub_t sim_hub_t;

//  Create the hub for a config (borrowed). Generates the server's Noise
//  static key and issues its certificate chain from root_priv. Caller
//  owns return value; NULL on a crypto failure.
sim_hub_t *sim_hub_new(zloop_t *loop, const sim_config_t *config,
                       const uint8_t root_priv[SIM_KEY_LEN]);

//  For self-tests: a hub with default settings and a fresh root key on
//  a loop of its own; sim_hub_destroy frees them. Caller owns return
//  value.
sim_hub_t *sim_hub_new_test(void);

//  Destroy the hub (connections must be gone already).
void sim_hub_destroy(sim_hub_t **self_p);

//  Parts. Borrowed.
zloop_t *sim_hub_loop(sim_hub_t *self);
const sim_config_t *sim_hub_config(sim_hub_t *self);
sim_model_t *sim_hub_model(sim_hub_t *self);
sim_log_t *sim_hub_log(sim_hub_t *self);
sim_fault_t *sim_hub_faults(sim_hub_t *self);
sim_ledger_t *sim_hub_ledger(sim_hub_t *self);
const uint8_t *sim_hub_static_priv(sim_hub_t *self);
const uint8_t *sim_hub_cert(sim_hub_t *self, size_t *len_p);

//  Media host identity for media_conn ("host:port" and auth token), set
//  by the server once the media listener runs. Borrowed / copied.
void sim_hub_set_media(sim_hub_t *self, const char *host, const char *auth);
const char *sim_hub_media_host(sim_hub_t *self);
const char *sim_hub_media_auth(sim_hub_t *self);
//  The media host's URL scheme ("https" unless set). Copied / borrowed.
void sim_hub_set_media_scheme(sim_hub_t *self, const char *scheme);
const char *sim_hub_media_scheme(sim_hub_t *self);

//  Connections: register / forget (not owned by the hub).
void sim_hub_conn_add(sim_hub_t *self, sim_conn_t *conn);
void sim_hub_conn_remove(sim_hub_t *self, sim_conn_t *conn);
//  All live connections. Borrowed.
zlistx_t *sim_hub_conns(sim_hub_t *self);
sim_conn_t *sim_hub_conn(sim_hub_t *self, int64_t id);

//  Bind a logged-in connection to its device; an older connection of the
//  same device gets <stream:error><conflict type="replaced"/>.
void sim_hub_bind(sim_hub_t *self, sim_conn_t *conn, sim_device_t *dev);

//  The live logged-in connection of a device, or NULL.
sim_conn_t *sim_hub_device_conn(sim_hub_t *self, sim_device_t *dev);

//  Forget a device (removed): close its connection with the "logged out"
//  stream error (401 + conflict device_removed) when `kick` is true, and
//  drop the binding. Call before removing it from the model.
void sim_hub_device_gone(sim_hub_t *self, sim_device_t *dev, bool kick);

//  Called when a companion device has been linked (pair-device-sign
//  verified), e.g. so the phone can share its app-state keys.
typedef void(sim_hub_linked_fn)(void *arg, sim_device_t *dev);
void sim_hub_set_linked_fn(sim_hub_t *self, sim_hub_linked_fn *fn, void *arg);
void sim_hub_linked(sim_hub_t *self, sim_device_t *dev);

//  Stanzas to a channel ("…@newsletter"): the message capability hands
//  <message> and <receipt> stanzas addressed to a channel to the channels
//  capability through this hook (capabilities do not call each other).
//  The hook answers the stanza (ack or nack). Without a hook they get
//  <ack error="501">.
typedef void(sim_hub_channel_fn)(void *arg, sim_conn_t *conn,
                                 const wa_node_t *node);
void sim_hub_set_channel_fn(sim_hub_t *self, sim_hub_channel_fn *fn, void *arg);
//  Hand a channel stanza to the hook. Returns false when there is none.
bool sim_hub_channel(sim_hub_t *self, sim_conn_t *conn, const wa_node_t *node);

//  A companion's <receipt type="hist_sync"> or <receipt
//  type="server-error" category="peer"> to its own account: the message
//  capability hands it to the phone capability through this hook; true
//  when it was for the history chunk in flight to `dev`.
typedef bool(sim_hub_hist_sync_fn)(void *arg, sim_device_t *dev,
                                   const wa_node_t *receipt);
void sim_hub_set_hist_sync_fn(sim_hub_t *self, sim_hub_hist_sync_fn *fn,
                              void *arg);
bool sim_hub_hist_sync(sim_hub_t *self, sim_device_t *dev,
                       const wa_node_t *receipt);

//  A companion's peer message (category="peer") to its own phone
//  (device 0): the message capability hands its <enc> to the phone
//  capability through this hook instead of queueing it for a device that
//  never connects; true when taken.
typedef bool(sim_hub_peer_fn)(void *arg, sim_device_t *from,
                              const wa_node_t *msg, const wa_node_t *enc);
void sim_hub_set_peer_fn(sim_hub_t *self, sim_hub_peer_fn *fn, void *arg);
bool sim_hub_peer(sim_hub_t *self, sim_device_t *from, const wa_node_t *msg,
                  const wa_node_t *enc);

//  Queue `node` (not taken) for `dev` as class cls ("message",
//  "receipt", "notification") and send it now if the device is online.
void sim_hub_deliver(sim_hub_t *self, sim_device_t *dev, const wa_node_t *node,
                     const char *cls);

//  Send every queued stanza not yet sent on the device's connection,
//  marked offline. Returns the number sent.
size_t sim_hub_flush(sim_hub_t *self, sim_device_t *dev);

//  Resolve a JID text: the account of a PN or LID user (NULL otherwise),
//  and the device it names (device part; 0 when absent). *is_lid tells
//  the form used (may be NULL).
sim_account_t *sim_hub_account_of(sim_hub_t *self, const char *jid,
                                  bool *is_lid);
sim_device_t *sim_hub_device_of(sim_hub_t *self, const char *jid, bool *is_lid);

//  A fresh server stanza id. Borrowed until the next call.
const char *sim_hub_next_id(sim_hub_t *self);

//  Reply <iq from="s.whatsapp.net" id=... type="result"> to `iq`, with
//  an optional child (taken). Returns 0 or -1.
int sim_hub_iq_result(sim_conn_t *conn, const wa_node_t *iq,
                      wa_node_t **child_p);

//  An IQ route handler (sim_cap.h) for IQs the server only
//  acknowledges: an empty result.
void sim_hub_iq_ok(sim_hub_t *self, void *state, sim_conn_t *conn,
                   const wa_node_t *iq);

//  Reply <iq type="error"><error code=... text=.../></iq> to `iq`.
int sim_hub_iq_error(sim_conn_t *conn, const wa_node_t *iq, int code,
                     const char *text);

//  A server <ack class id [from] t/> for a client stanza. Caller owns
//  return value.
wa_node_t *sim_hub_ack(const char *cls, const char *id, const char *from);

//  Refuse a stanza we cannot route: <ack class id from=to error=N/>
//  (nothing when the stanza has no id).
void sim_hub_nack(sim_conn_t *conn, const wa_node_t *node, const char *cls,
                  int error);

//  A <notification from id [participant] t type/> envelope with a fresh
//  id; the sender adds children and delivers it. Caller owns return
//  value.
wa_node_t *sim_hub_notification(sim_hub_t *self, const char *type,
                                const char *from, const char *participant);

//  User JID of an account in the LID or PN form. Caller owns return
//  value.
char *sim_hub_user_jid(sim_account_t *acc, bool lid);

//  Big-endian integer of n bytes as node bytes content.
void sim_hub_set_uint(wa_node_t *node, uint32_t value, size_t n);

//  Read big-endian integer content of 1..4 bytes. Returns 0 or -1.
int sim_hub_get_uint(const wa_node_t *node, uint32_t *value);

void sim_hub_test(bool verbose);

#endif
