/*  sw_wadebug - the engine.event feed: raw stanzas for debugging

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    WAHA's engine.event ({event, data}) is internal and off by default:
    a session emits it only when one of its webhooks (config.webhooks[])
    names "engine.event" in its events; "*" never includes it (nor does
    the dispatcher deliver it for "*", cm_webhook). Each stanza the
    session receives or sends is then one event:
      {event: "stanza.in" | "stanza.out",
       data: {tag, id, type, from, to, node}}
    node is the stanza as text (wa_node_text; binary content as hex),
    cut at SW_WADEBUG_NODE_MAX bytes. The check is made once when
    the session starts (a config change restarts it), so sessions that
    do not ask pay one flag test per stanza.
*/
#ifndef SW_WADEBUG_H_INCLUDED
#define SW_WADEBUG_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "sw_wasess.h"
#include "wa/wa_node.h"

//  Longest stanza text in an event, bytes.
#define SW_WADEBUG_NODE_MAX 16384

//  True when a webhook of the session config asks for engine.event
//  by name.
bool sw_wadebug_wanted(json_t *config);

//  Emit the engine.event of a stanza received (in) or sent (!in).
void sw_wadebug_stanza(sw_wasess_t *sess, bool in, const wa_node_t *node);

void sw_wadebug_test(bool verbose);

#endif
