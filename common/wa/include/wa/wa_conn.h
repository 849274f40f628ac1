/*  wa_conn - a WhatsApp connection: WebSocket + framing + Noise

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Layers wa_ws (transport), wa_frame (intro and 3-byte frames) and
    wa_noise (handshake and transport encryption) into one object that
    delivers decrypted frames. Client side (session-worker): connect,
    handshake with a ClientPayload, verify the server certificate chain.
    Server side (wa-sim): adopt an accepted wa_ws connection, answer the
    handshake with a certificate chain, hand over the ClientPayload.

    Events go to the owner's callback:
      WA_CONN_OPEN    handshake done. Server: data/len is the decrypted
                      ClientPayload (parse with wa_payload_parse).
      WA_CONN_FRAME   one decrypted frame (a binary-node frame: flag byte
                      + node), borrowed for the call.
      WA_CONN_TIMER   the timer set with wa_conn_set_timer fired.
      WA_CONN_CLOSED  the connection is over; data is a reason text and
                      wa_conn_close_reason tells the kind. The object then
                      stays inert until the owner destroys it.

    The owner owns the wa_conn_t and destroys it with wa_conn_destroy at
    any time, also from inside its own callback (then no more events
    follow). Destroying an open connection closes it.

    Everything runs inside wa_ws_service: see wa_ws.h for driving the loop
    from zmq_poll.
*/
#ifndef WA_CONN_H_INCLUDED
#define WA_CONN_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wa/wa_ws.h"

//  Default time allowed from WebSocket open to the end of the handshake.
#define WA_CONN_HANDSHAKE_TIMEOUT_MS 20000

typedef struct _wa_conn_t wa_conn_t;

typedef enum {
    WA_CONN_OPEN = 1,  //  handshake complete
    WA_CONN_FRAME = 2, //  decrypted frame
    WA_CONN_TIMER = 3, //  owner timer fired
    WA_CONN_CLOSED = 4 //  connection over
} wa_conn_event_t;

typedef enum {
    WA_CONN_CLOSE_NONE = 0,      //  still open
    WA_CONN_CLOSE_REMOTE = 1,    //  the peer closed the WebSocket
    WA_CONN_CLOSE_TRANSPORT = 2, //  could not connect / transport broke
    WA_CONN_CLOSE_PROTOCOL = 3,  //  bad framing, handshake or certificate
    WA_CONN_CLOSE_TIMEOUT = 4    //  handshake did not finish in time
} wa_conn_close_t;

//  Event callback; data/len as described in the banner.
typedef void(wa_conn_event_fn)(wa_conn_t *conn, wa_conn_event_t event,
                               const uint8_t *data, size_t len, void *arg);

//  Client options; zero/NULL fields take the defaults.
typedef struct {
    const char *url;             //  default WA_WS_URL
    wa_ws_opts_t ws;             //  origin, user agent, proxy, insecure
    const uint8_t *root_pub;     //  32 bytes; NULL = WhatsApp root
    const uint8_t *routing_info; //  edge routing info, or NULL
    size_t routing_len;          //  its length
    long handshake_timeout_ms;   //  0 = WA_CONN_HANDSHAKE_TIMEOUT_MS
} wa_conn_opts_t;

//  Client: connect and run the handshake with the account's Noise key
//  noise_priv, sending payload (a serialised ClientPayload, copied).
//  Returns NULL if the connection cannot even start (bad URL or proxy).
//  Caller owns return value.
wa_conn_t *wa_conn_connect(wa_ws_t *ws, const uint8_t noise_priv[32],
                           const uint8_t *payload, size_t payload_len,
                           const wa_conn_opts_t *opts, wa_conn_event_fn *fn,
                           void *arg);

//  Server: take over an accepted connection (call from the wa_ws accept
//  callback) and answer its handshake with the server static key and the
//  certificate chain cert (copied; wa_cert_chain_issue). Caller owns
//  return value.
wa_conn_t *wa_conn_accept(wa_ws_conn_t *ws_conn, const uint8_t static_priv[32],
                          const uint8_t *cert, size_t cert_len,
                          wa_conn_event_fn *fn, void *arg);

//  Close (if open) and destroy. No events follow. NULL-safe; sets *self_p
//  to NULL. Allowed inside the connection's own callback.
void wa_conn_destroy(wa_conn_t **self_p);

//  Encrypt and queue one frame of len bytes. Returns 0, or -1 if the
//  connection is not open or len is too large.
int wa_conn_send(wa_conn_t *self, const uint8_t *data, size_t len);

//  Fire WA_CONN_TIMER once after ms milliseconds; ms < 0 cancels. A timer
//  set before WA_CONN_OPEN starts when the handshake completes.
void wa_conn_set_timer(wa_conn_t *self, long ms);

//  True between WA_CONN_OPEN and WA_CONN_CLOSED.
bool wa_conn_ready(wa_conn_t *self);

//  Why the connection closed (WA_CONN_CLOSE_NONE while open).
wa_conn_close_t wa_conn_close_reason(wa_conn_t *self);

//  Peer's Noise static public key once known, else NULL. Borrowed.
const uint8_t *wa_conn_remote_static(wa_conn_t *self);

//  Bytes queued for sending (back-pressure).
size_t wa_conn_queued(wa_conn_t *self);

//  Server: the edge-routing info the client sent, or NULL. Borrowed.
const uint8_t *wa_conn_routing_info(wa_conn_t *self, size_t *len_p);

//  Peer address as text. Borrowed.
const char *wa_conn_peer(wa_conn_t *self);

//  Self test.
void wa_conn_test(bool verbose);

#endif
