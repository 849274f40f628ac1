/*  ms_worker - one media-service worker thread and its request handlers

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Each worker owns its curl handle, its ffmpeg scratch directory and its
    store client, and serves whole requests one at a time; ms_server
    spreads requests over the workers. Requests and replies are listed in
    proto/PROTOCOL.md (family media): media.upload, media.download,
    media.convert, media.profile_picture, media.preview (a web page's
    title, description and image thumbnail, fetched under the same
    policy as file.url: ms_preview), media.thumbnail (a custom link
    preview's image as a JPEG thumbnail), media.file.get, media.file.put,
    health.ping. File bytes
    travel as blob frames, never inside the msgpack body.
*/
#ifndef MS_WORKER_H_INCLUDED
#define MS_WORKER_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>

#include "cm/cm_msg.h"
#include "ms_config.h"

typedef struct _ms_worker_t ms_worker_t;

//  Default WhatsApp media host for downloads without media_conn hosts.
#define MS_WORKER_DEFAULT_HOST "mmg.whatsapp.net"
//  Most media_conn hosts taken from a request.
#define MS_WORKER_HOSTS_MAX 8
//  Profile pictures: full and preview sides (square) and JPEG quality.
#define MS_WORKER_PICTURE_SIDE 640
#define MS_WORKER_PREVIEW_SIDE 96
#define MS_WORKER_PICTURE_QUALITY 85
//  Longest side of a link preview's high-quality image (link-thumbnail).
#define MS_WORKER_LINK_THUMB_SIDE 1280
//  Longest URL media.preview takes, bytes.
#define MS_WORKER_PREVIEW_URL_MAX 2048

//  Worker for `config` (borrowed; must outlive it) named `id`. NULL when
//  its resources cannot be made. Caller owns return value.
ms_worker_t *ms_worker_new(const ms_config_t *config, const char *id,
                           const char *scratch);
void ms_worker_destroy(ms_worker_t **self_p);

//  Handle one request; returns the reply (caller owns it).
cm_msg_t *ms_worker_handle(ms_worker_t *self, cm_msg_t *request);

//  Actor body: args is an ms_worker_args_t; serves requests from a
//  DEALER connected to args->endpoint until $TERM.
typedef struct {
    const ms_config_t *config;
    const char *endpoint;
    const char *scratch; //  directory for temporary files (ms_scratch)
    int index;
    bool failed; //  set by the actor before its start signal
} ms_worker_args_t;
void ms_worker_actor(zsock_t *pipe, void *args);

void ms_worker_test(bool verbose);

#endif
