/*  gw_caps.h - the gateway's capability modules, one line each

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A capability module gw_<name>.{h,c} serves the routes of one family
    of WhatsApp operations (WAHA and Wawp forms). Its header, included by
    gw_classes.h like every module's, defines:
      GW_<NAME>_ROUTES   rows of the route table (gw_route_t), each with
                         its request and response schema names;
      gw_<name>_schemas  a function returning those schemas (a JSON
                         object of OpenAPI components), and the handlers.
    gw_api expands GW_CAPS twice: into the route table, after the
    service and session routes, and into the list of schema functions
    the OpenAPI document merges. gw_api's self-test checks that every
    schema a route names resolves. Adding a capability is adding its
    files, its include in gw_classes.h and one line here.
*/
#ifndef GW_CAPS_H_INCLUDED
#define GW_CAPS_H_INCLUDED

#define GW_CAPS(X)                                                             \
    X(webhooks, WEBHOOKS) /*  delivery log, replay, pull feed, Wawp hooks */   \
    X(login, LOGIN)       /*  QR and pairing code */                           \
    X(messages, MESSAGES) /*  sendText, sendSeen */                            \
    X(chats, CHATS)       /*  chats and their messages */                      \
    X(kinds, KINDS)       /*  location, contacts, polls, reactions, edits */   \
    X(groups, GROUPS)     /*  groups */                                        \
    X(labels, LABELS)     /*  WhatsApp Business labels */                      \
    X(contacts, CONTACTS) /*  check-exists, about, pictures, blocking */       \
    X(profile, PROFILE)   /*  own name, about and picture */                   \
    X(channels, CHANNELS) /*  channels (newsletters) */                        \
    X(calls, CALLS)       /*  rejecting calls */                               \
    X(lids, LIDS)         /*  the LID <-> phone number map */                  \
    X(presence, PRESENCE) /*  presence, typing */                              \
    X(media, MEDIA)       /*  sendImage/File/Voice/Video, convert, files */    \
    X(stories, STORIES)   /*  status (stories): text, media, delete */         \
    X(ws, WS)             /*  /ws event stream */                              \
    X(status, STATUS)     /*  server status and environment */                 \
    X(screenshot, SCREENSHOT) /*  a PNG of a session's state */                \
    X(metrics, METRICS)       /*  Prometheus /metrics */                       \
    X(swagger, SWAGGER)       /*  Swagger UI at /, OpenAPI at /-json */        \
    X(dashboard, DASHBOARD)   /*  the dashboard at /dashboard */               \
    X(keys, KEYS)             /*  /api/keys: admin and session keys */         \
    X(ratelimit, RATELIMIT)   /*  Wawp's per-session send policy */            \
    X(templink, TEMPLINK)     /*  Wawp's temporary QR links and page */

#endif
