/*  ms_server - media-service request server

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Binds the request ROUTER (MEDIA_BIND) and runs MEDIA_WORKERS worker
    actors (ms_worker) behind an inproc DEALER: requests are handed to the
    workers round-robin, replies go back by routing id, so a slow
    conversion holds one worker only. The server actor also deletes
    local files past WHATSAPP_FILES_LIFETIME (every MS_SERVER_SWEEP_MS).
*/
#ifndef MS_SERVER_H_INCLUDED
#define MS_SERVER_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>

#include "ms_config.h"

//  How often local files past their lifetime are looked for.
#define MS_SERVER_SWEEP_MS 30000

typedef struct _ms_server_t ms_server_t;

//  Bind and start the workers. NULL (logged) when it cannot bind or a
//  worker cannot start. `config` must outlive the server. Caller owns
//  return value.
ms_server_t *ms_server_new(const ms_config_t *config);
void ms_server_destroy(ms_server_t **self_p);

void ms_server_test(bool verbose);

#endif
