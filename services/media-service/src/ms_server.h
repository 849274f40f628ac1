/*  ms_server - media-service request server actor

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Binds a ROUTER and answers bus requests. Today: health.ping. The media
    issue adds encryption, upload and download here.
*/
#ifndef MS_SERVER_H_INCLUDED
#define MS_SERVER_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>

//  A ROUTER bound at `endpoint`, or NULL (logged) when it cannot bind.
//  Caller owns return value.
zsock_t *ms_server_bind(const char *endpoint);

//  Actor body: args is a socket from ms_server_bind, which the actor takes
//  over and destroys when it exits on $TERM.
void ms_server_actor(zsock_t *pipe, void *args);

void ms_server_test(bool verbose);

#endif
