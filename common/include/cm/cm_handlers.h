/*  cm_handlers - dispatch table for a bus server

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Maps message types to handler functions and applies the protocol rules
    in one place (proto/PROTOCOL.md): a malformed body gets 400, an
    unknown type gets 400 "unrecognized message type", a version newer
    than the handler knows gets 400, a request past its deadline is
    dropped, replies arriving at a server are ignored.
*/
#ifndef CM_HANDLERS_H_INCLUDED
#define CM_HANDLERS_H_INCLUDED

#include "cm_msg.h"

typedef struct _cm_handlers_t cm_handlers_t;

//  Handle `request` and return the reply (caller owns it), or NULL to send
//  nothing (e.g. one-way messages, or a reply sent later).
typedef cm_msg_t *(cm_handler_fn)(cm_msg_t *request, void *arg);

cm_handlers_t *cm_handlers_new(void);
void cm_handlers_destroy(cm_handlers_t **self_p);

//  Register `fn` for `type`, accepting versions 1..max_version.
void cm_handlers_add(cm_handlers_t *self, const char *type, int max_version,
                     cm_handler_fn *fn, void *arg);

//  True if `type` has a handler.
bool cm_handlers_has(cm_handlers_t *self, const char *type);

//  Apply the rules and the handler. Returns the reply to send (caller
//  owns it) or NULL when nothing is to be sent.
cm_msg_t *cm_handlers_dispatch(cm_handlers_t *self, cm_msg_t *request);

//  Receive one message from a ROUTER socket, dispatch it and send the
//  reply. Returns 0, or -1 on interrupt.
int cm_handlers_serve_one(cm_handlers_t *self, zsock_t *router);

//  Reply for health.ping: {service, version, id}. Caller owns it.
cm_msg_t *cm_handlers_health(cm_msg_t *request, const char *service,
                             const char *id);

void cm_handlers_test(bool verbose);

#endif
