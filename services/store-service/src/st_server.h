/*  st_server - store-service front end: ROUTER, PUB and the worker pool

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A load-balancing broker (czmq actor). Requests arrive on the ROUTER
    bound at STORE_BIND and go to the least recently idle worker over an
    inproc ROUTER backend (st_worker.h describes that protocol); while
    every worker is busy the front end is not read, so requests wait in
    ZeroMQ's queue and one slow query never holds up the others. Workers
    hand notifications (event.new) to the server, the only thread that
    writes the PUB socket bound at STORE_PUB_BIND.
*/
#ifndef ST_SERVER_H_INCLUDED
#define ST_SERVER_H_INCLUDED

#include <stdbool.h>

typedef struct _st_server_t st_server_t;
typedef struct _st_config_t st_config_t;

//  Bind the sockets and start the pool of st_config_pool_size workers.
//  `config` is borrowed and must outlive the server. Returns NULL (logged)
//  when a socket cannot be bound. Caller owns return value.
st_server_t *st_server_new(const st_config_t *config, const char *store_id);

//  Stop the workers (each finishes its request) and close the sockets.
void st_server_destroy(st_server_t **self_p);

void st_server_test(bool verbose);

#endif
