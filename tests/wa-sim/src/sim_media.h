/*  sim_media - media: media_conn names the media host (sim_mediahost)
    and the auth token uploads must carry

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    docs/wa-protocol.md §8.3. Uploads and downloads themselves are HTTP
    on the media host, not stanzas.
*/
#ifndef SIM_MEDIA_H_INCLUDED
#define SIM_MEDIA_H_INCLUDED

#include <stdbool.h>

#include "sim_cap.h"

//  IQ w:m with <media_conn>.
extern const sim_cap_t sim_media_cap;

void sim_media_test(bool verbose);

#endif
