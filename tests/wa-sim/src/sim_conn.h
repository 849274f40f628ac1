/*  sim_conn - one client connection as the server sees it: framing,
    the responder Noise handshake, the transport cipher and stanza I/O

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Transport-agnostic: bytes come in through sim_conn_feed and go out
    through a transport callback (a wa_ws connection in wa-sim, an
    in-memory pipe in tests). After ClientFinish the parsed ClientPayload
    goes to the handler's `handshake` callback; every decrypted stanza
    goes to its `stanza` callback. Every stanza in and out is written to
    the stanza log (metadata only).

    A conn never frees itself: when it fails or is closed it tells the
    transport to close and marks itself closed; its owner destroys it.
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
    //  ClientFinish decrypted: *info_p (taken) is the parsed payload.
    //  Return -1 to close the connection.
    int (*handshake)(void *arg, sim_conn_t *conn,
                     wa_payload_info_t **info_p);
    //  A stanza arrived (taken).
    void (*stanza)(void *arg, sim_conn_t *conn, wa_node_t **node_p);
} sim_conn_handler_t;

//  How a connection writes and closes.
typedef struct {
    //  Send one WebSocket message. Return 0 or -1.
    int (*send)(void *arg, const uint8_t *data, size_t len);
    //  Close the transport (called once).
    void (*close)(void *arg);
} sim_conn_transport_t;

//  Create a connection. static_priv is the server's Noise static key and
//  cert its serialised certificate chain (both borrowed, must outlive the
//  conn). Caller owns return value.
sim_conn_t *sim_conn_new(int64_t id, const char *remote,
                         const uint8_t static_priv[SIM_KEY_LEN],
                         const uint8_t *cert, size_t cert_len,
                         sim_log_t *log, const sim_conn_handler_t *handler,
                         void *handler_arg,
                         const sim_conn_transport_t *transport,
                         void *transport_arg);

//  Destroy the connection (does not call the transport).
void sim_conn_destroy(sim_conn_t **self_p);

//  Bytes received from the transport. Returns 0, or -1 when the
//  connection failed and was closed.
int sim_conn_feed(sim_conn_t *self, const uint8_t *data, size_t len);

//  Encrypt and send a stanza (not taken). Returns 0 or -1.
int sim_conn_send(sim_conn_t *self, const wa_node_t *node);

//  As sim_conn_send, then destroy *node_p.
int sim_conn_send_take(sim_conn_t *self, wa_node_t **node_p);

//  Send <stream:error> (code and/or conflict child, either may be NULL),
//  then close.
void sim_conn_stream_error(sim_conn_t *self, const char *code,
                           const char *conflict);

//  Close the transport now (no stream end). Idempotent.
void sim_conn_close(sim_conn_t *self);

//  The transport went away: mark closed without calling it.
void sim_conn_lost(sim_conn_t *self);

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
