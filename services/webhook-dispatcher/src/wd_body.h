/*  wd_body - the exact bytes a webhook request carries

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The store keeps each event envelope as jsonb and hands it out as its
    text form, which is deterministic ("key": value, ", " separators).
    wd_body drops the separator spaces outside strings and leaves
    everything else, numbers included, untouched, so the body is compact
    and byte-identical on every attempt and after every restart.
*/
#ifndef WD_BODY_H_INCLUDED
#define WD_BODY_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

//  Compact copy of JSON text `text`: whitespace outside strings removed.
//  Sets *len_p to its length. Caller owns return value.
char *wd_body_compact(const char *text, size_t *len_p);

void wd_body_test(bool verbose);

#endif
