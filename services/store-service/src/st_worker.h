/*  st_worker - one pool worker: a PostgreSQL connection and a router

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A czmq actor. It connects a DEALER to the server's inproc backend and
    speaks this protocol there (frames):
      worker -> server  "READY"                       idle, send me work
                        "REPLY" routing type hdr body  a reply; idle again
                        "PUB" type hdr body            publish on the PUB
      server -> worker  routing type hdr body [blobs]  one request
    It decodes the request, runs it through its st_router (all families
    registered) and answers. While PostgreSQL is unreachable it keeps
    answering (503 for database requests) and reconnects with backoff.
*/
#ifndef ST_WORKER_H_INCLUDED
#define ST_WORKER_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>

typedef struct _st_config_t st_config_t;

//  Arguments for st_worker_actor; read before the actor signals ready,
//  so they may live on the creator's stack.
typedef struct {
    const st_config_t *config; //  database URL and timeouts
    const char *backend;       //  server's inproc backend endpoint
    const char *store_id;      //  this store's id
    int index;                 //  worker number, for logs
} st_worker_args_t;

//  Actor body; args is a heap st_worker_args_t * that the actor takes
//  over and frees (the creator may return before the actor has started,
//  e.g. when a signal interrupts zactor_new). The config, backend and
//  store_id it points to must outlive the actor. Exits on $TERM.
void st_worker_actor(zsock_t *pipe, void *args);

void st_worker_test(bool verbose);

#endif
