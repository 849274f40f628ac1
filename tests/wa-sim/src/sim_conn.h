/*  sim_conn - one client connection as the server sees it: stanzas over
    a server-side wa_conn (WebSocket, framing, Noise responder)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    After the handshake the parsed ClientPayload goes to the handler's
    `handshake` callback; every decoded stanza goes to its `stanza`
    callback. Every stanza in and out is written to the stanza log
    (metadata only). A stanza that does not decode ends the stream with
    <stream:error><xml-not-well-formed/></stream:error>.

    A conn never frees itself: when the peer goes away or the conn is
    closed, the handler's `closed` callback runs once and the conn is
    inert; its owner destroys it later (not from inside a callback).
*/
#ifndef SIM_CONN_H_INCLUDED
#define SIM_CONN_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim_log.h"
#include "sim_model.h"
#include "wa/wa_node.h"
#include "wa/wa_payload.h"
#include "wa/wa_ws.h"

typedef struct _sim_conn_t sim_conn_t;

typedef enum {
    SIM_CONN_HELLO = 0,     //  waiting for ClientHello
    SIM_CONN_FINISH = 1,    //  waiting for ClientFinish
    SIM_CONN_REGISTER = 2,  //  unpaired companion (pair-device sent)
    SIM_CONN_PAIRING = 3,   //  pair-success sent, waiting for the sign
    SIM_CONN_LOGGED_IN = 4, //  <success> sent
    SIM_CONN_CLOSED = 5     //  closed or failed; waiting to be destroyed
} sim_conn_state_t;

//  What the owner does with a connection's events.
typedef struct {
    //  Handshake done: *info_p (taken) is the parsed ClientPayload.
    //  Return -1 to close the connection.
    int (*handshake)(void *arg, sim_conn_t *conn, wa_payload_info_t **info_p);
    //  A stanza arrived (taken).
    void (*stanza)(void *arg, sim_conn_t *conn, wa_node_t **node_p);
    //  The connection closed (once). The owner destroys it later.
    void (*closed)(void *arg, sim_conn_t *conn);
} sim_conn_handler_t;

//  Take over an accepted WebSocket connection: answer the handshake
//  with the server's static key and certificate chain (copied). Caller
//  owns return value.
sim_conn_t *sim_conn_new(int64_t id, wa_ws_conn_t *ws_conn,
                         const uint8_t static_priv[SIM_KEY_LEN],
                         const uint8_t *cert, size_t cert_len, sim_log_t *log,
                         const sim_conn_handler_t *handler, void *handler_arg);

//  Destroy the connection (closes it first if open; no callbacks).
void sim_conn_destroy(sim_conn_t **self_p);

//  Encrypt and send a stanza (not taken). Returns 0 or -1.
int sim_conn_send(sim_conn_t *self, const wa_node_t *node);

//  As sim_conn_send, then destroy *node_p.
int sim_conn_send_take(sim_conn_t *self, wa_node_t **node_p);

//  Send <stream:error> (code and/or conflict child, either may be NULL),
//  then close.
void sim_conn_stream_error(sim_conn_t *self, const char *code,
                           const char *conflict);

//  Close the connection after queued data is written (no stream end).
//  Idempotent; runs the `closed` callback the first time.
void sim_conn_close(sim_conn_t *self);

//  Properties.
int64_t sim_conn_id(sim_conn_t *self);
sim_conn_state_t sim_conn_state(sim_conn_t *self);
void sim_conn_set_state(sim_conn_t *self, sim_conn_state_t state);
const char *sim_conn_state_name(sim_conn_state_t state);
//  Client's Noise static key once the handshake is done (32 bytes).
const uint8_t *sim_conn_remote_static(sim_conn_t *self);

//  The device this connection is logged in as (NULL before login).
sim_device_t *sim_conn_device(sim_conn_t *self);
void sim_conn_set_device(sim_conn_t *self, sim_device_t *device);

//  Owner's per-connection data (e.g. pairing state) and its destructor,
//  run by sim_conn_destroy.
void *sim_conn_data(sim_conn_t *self);
void sim_conn_set_data(sim_conn_t *self, void *data,
                       void (*destructor)(void **data_p));

//  Passive flag and presence as last set by the client.
bool sim_conn_passive(sim_conn_t *self);
void sim_conn_set_passive(sim_conn_t *self, bool passive);
bool sim_conn_available(sim_conn_t *self);
void sim_conn_set_available(sim_conn_t *self, bool available);

//  JSON view for the control API. Caller owns return value.
json_t *sim_conn_to_json(sim_conn_t *self);

void sim_conn_test(bool verbose);

#endif
