/*  cm_msg - the versioned bus envelope

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Frames on the wire (after any ROUTER routing id):
      0  type     ASCII "family.verb"; also the PUB/SUB topic
      1  header   msgpack map {v, mv?, id, corr?, ts_ms, deadline_ms?,
                                trace?, st?, reason?}
      2  body     msgpack map with string keys
      3+ blobs    raw bytes (media), never inside msgpack

    The body is held as a jansson object so services read and build it
    with one familiar API; conversion to and from msgpack happens here and
    nowhere else. Replies carry corr = request id and st (2xx ok, 4xx
    caller fault, 5xx ours) plus a reason. See proto/PROTOCOL.md.
*/
#ifndef CM_MSG_H_INCLUDED
#define CM_MSG_H_INCLUDED

#include <czmq.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

//  Envelope version this build writes and the highest it reads (major:
//  a breaking change bumps it).
#define CM_MSG_VERSION 1
//  Minor version this build writes (header `mv`, left out when 0): bumped
//  by additions a reader may ignore. Never checked on receipt. The
//  environment variable WHARF_BUS_MINOR (0..65535, read once) overrides it,
//  so that a test can run a build as a newer peer.
#define CM_MSG_MINOR 0
#define CM_MSG_MAX_MINOR 65535
//  Limits enforced on decode.
#define CM_MSG_MAX_TYPE 64
#define CM_MSG_MAX_ID 64
#define CM_MSG_MAX_DEPTH 32
#define CM_MSG_MAX_BLOBS 8
//  Default ZMQ_MAXMSGSIZE for bus sockets: media can ride in blobs.
#define CM_MSG_MAX_SIZE (80 * 1024 * 1024)

typedef struct _cm_msg_t cm_msg_t;

//  New request of `type` with a fresh id, v=CM_MSG_VERSION, ts=now and an
//  empty body. Caller owns return value.
cm_msg_t *cm_msg_new(const char *type);

//  New reply to `request`: same type and routing id, corr = request id,
//  status `st`, optional reason. Caller owns return value.
cm_msg_t *cm_msg_new_reply(const cm_msg_t *request, int st,
                           const char *reason);

void cm_msg_destroy(cm_msg_t **self_p);

const char *cm_msg_type(const cm_msg_t *self);
int cm_msg_version(const cm_msg_t *self);
void cm_msg_set_version(cm_msg_t *self, int v);
//  Minor version (header `mv`), 0 when absent or not an integer 0..65535.
int cm_msg_minor(const cm_msg_t *self);
void cm_msg_set_minor(cm_msg_t *self, int mv);
const char *cm_msg_id(const cm_msg_t *self);
//  Correlation id (request id this replies to), or NULL for requests.
const char *cm_msg_corr(const cm_msg_t *self);
int64_t cm_msg_ts(const cm_msg_t *self);
//  Absolute deadline (epoch ms), 0 when none.
int64_t cm_msg_deadline(const cm_msg_t *self);
void cm_msg_set_deadline(cm_msg_t *self, int64_t epoch_ms);
//  True when the deadline has passed.
bool cm_msg_expired(const cm_msg_t *self);
const char *cm_msg_trace(const cm_msg_t *self);
void cm_msg_set_trace(cm_msg_t *self, const char *trace);
//  Reply status (0 on requests) and reason (NULL if none).
int cm_msg_status(const cm_msg_t *self);
const char *cm_msg_reason(const cm_msg_t *self);
bool cm_msg_is_reply(const cm_msg_t *self);
//  Set when the header decoded but the body did not: the message can be
//  answered with an error reply. NULL on good messages.
const char *cm_msg_error(const cm_msg_t *self);

//  The body object, borrowed and mutable.
json_t *cm_msg_body(cm_msg_t *self);
//  Replace the body; takes the reference (must be an object).
void cm_msg_set_body(cm_msg_t *self, json_t **body_p);

//  Body field helpers. Getters return NULL/dflt when absent or the wrong
//  type; they never assert on outside data.
const char *cm_msg_str(cm_msg_t *self, const char *key);
int64_t cm_msg_int(cm_msg_t *self, const char *key, int64_t dflt);
bool cm_msg_bool(cm_msg_t *self, const char *key, bool dflt);
void cm_msg_set_str(cm_msg_t *self, const char *key, const char *value);
void cm_msg_set_int(cm_msg_t *self, const char *key, int64_t value);
void cm_msg_set_bool(cm_msg_t *self, const char *key, bool value);
//  Set a JSON value; takes the reference.
void cm_msg_set(cm_msg_t *self, const char *key, json_t *value);

//  Append a blob frame (copies data).
void cm_msg_add_blob(cm_msg_t *self, const void *data, size_t len);
//  Append a blob frame; takes ownership.
void cm_msg_add_frame(cm_msg_t *self, zframe_t **frame_p);
size_t cm_msg_blob_count(const cm_msg_t *self);
//  Borrowed blob frame i (NULL when out of range).
zframe_t *cm_msg_blob(const cm_msg_t *self, size_t i);
//  Remove blob frame i and hand it over (caller owns; NULL when out of
//  range): the blobs after it move down one. Passes a file on without
//  copying it.
zframe_t *cm_msg_take_blob(cm_msg_t *self, size_t i);

//  ROUTER routing id (borrowed, NULL when none).
zframe_t *cm_msg_routing(const cm_msg_t *self);
//  Set the routing id; takes ownership.
void cm_msg_set_routing(cm_msg_t *self, zframe_t **routing_p);

//  Encode to frames (routing id first when set). Caller owns return value.
zmsg_t *cm_msg_encode(const cm_msg_t *self);

//  Decode frames; consumes *zmsg_p on all paths. With `routed`, the first
//  frame is a ROUTER routing id. Returns NULL (and logs a warning) when
//  the type or header cannot be read; returns a message with
//  cm_msg_error() set when only the body is bad.
cm_msg_t *cm_msg_decode(zmsg_t **zmsg_p, bool routed);

//  Send and destroy. The body as received and the blobs move into the
//  frames sent (no copy). Returns 0, or -1 if the socket refused it (the
//  message is destroyed either way).
int cm_msg_send(cm_msg_t **self_p, zsock_t *sock);

//  Receive one message (blocking). NULL on interrupt or when malformed
//  beyond reply.
cm_msg_t *cm_msg_recv(zsock_t *sock, bool routed);

//  Set explicit HWM, LINGER and MAXMSGSIZE on a bus socket.
void cm_msg_sock_defaults(zsock_t *sock);

//  Printable one-line summary for debug logs (no body values).
//  Borrowed; valid until the next call on self.
const char *cm_msg_summary(cm_msg_t *self);

void cm_msg_test(bool verbose);

#endif
