/*  sim_mediahost - the media host: HTTP upload and download of encrypted
    blobs, as announced by media_conn

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Upload: POST /mms/<type>/<token>?auth=<auth>&token=<token> (also
    /newsletter/newsletter-<type>/<token>), where token is the URL-safe
    Base64 (padded or not) of SHA-256 of the body; the blob is checked
    against it and stored. The JSON reply carries url, direct_path,
    handle and object_id. Download: GET <direct_path> (query ignored).
    Channel media (/newsletter/…) is stored as sent, unencrypted, and
    its handle (sim_mediahost_handle of its path) is what a channel post
    names it by (media_id; sim_channels checks it).
    Blobs live in the model, so they survive a client reconnect; the
    control API can expire one (its download then answers 404, as
    WhatsApp's does for media past its lifetime).
*/
#ifndef SIM_MEDIAHOST_H_INCLUDED
#define SIM_MEDIAHOST_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim_model.h"

//  Largest blob accepted.
#define SIM_MEDIAHOST_BLOB_MAX (64 * 1024 * 1024)

typedef struct _sim_mediahost_t sim_mediahost_t;

//  Listen on bind:port (0 = any). With `cert_path` the host serves HTTPS
//  with a self-signed certificate for `bind` (EC P-256, made at start)
//  and writes that certificate there as PEM, for clients to trust
//  (Baileys through NODE_EXTRA_CA_CERTS, media-service through
//  MEDIA_CA_FILE); without it, plain HTTP. NULL if it cannot listen or
//  write the file. Caller owns return value.
sim_mediahost_t *sim_mediahost_new(zloop_t *loop, const char *bind,
                                   uint16_t port, sim_model_t *model,
                                   const char *cert_path);

//  "https" or "http". Borrowed, static.
const char *sim_mediahost_scheme(sim_mediahost_t *self);

void sim_mediahost_destroy(sim_mediahost_t **self_p);

//  Bound port, "host:port" for media_conn, and the auth token uploads
//  must carry. Borrowed.
uint16_t sim_mediahost_port(sim_mediahost_t *self);
const char *sim_mediahost_host(sim_mediahost_t *self);
const char *sim_mediahost_auth(sim_mediahost_t *self);

//  The handle of the blob at `path` (a direct path; query ignored), as
//  uploads answer it. Caller owns return value.
char *sim_mediahost_handle(const char *path);

void sim_mediahost_test(bool verbose);

#endif
