/*  sim_channels - channels (newsletters): the directory, followers,
    roles, posts, reactions and view counts

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    What clients send (wa-protocol.md §10.2):
      <iq xmlns="w:mex" type="get"><query query_id>{"variables":{…}}
          </query></iq>: GraphQL-style persisted queries, answered
          <result>{"data":{PATH: …}}</result>, or {"data":null,
          "errors":[{message, extensions:{error_code}}]} (404 unknown
          channel, 403 not allowed, 400 bad variables). The query ids of
          both WhatsApp Web clients checked (whatsmeow's and Baileys')
          are taken: SIM_CHANNELS_Q_* below;
      <iq xmlns="newsletter">: <messages type="jid" jid|type="invite"
          key count before/> (posts with plaintext, views and
          reactions), <message_updates count after/> (views and
          reactions only), <live_updates/> (duration);
      <message to="…@newsletter" type [mediatype]><plaintext>Message
          </plaintext></message>: a post, from the owner or an admin
          only (else <ack error="403">; unknown channel 404); it gets a
          server_id, is acked with it and goes to every follower's
          devices as <message from=CHANNEL id server_id t type>
          <plaintext/></message>;
      <message to=CHANNEL type="reaction" server_id><reaction code/>
          </message>: a follower's reaction (no code: removed);
      <receipt to=CHANNEL type="view"><list><item server_id/></list>:
          views.
    A channel has an 18-digit id "120363…@newsletter", a 24-character
    invite code, a name, description, picture, country and category (for
    the directory), a verified flag, an owner, admins, followers (each
    muted or not), posts. The directory answers views (RECOMMENDED,
    TRENDING, POPULAR, NEW) filtered by countries and categories, and
    text search in name and description, a page at a time behind an
    opaque cursor.
*/
#ifndef SIM_CHANNELS_H_INCLUDED
#define SIM_CHANNELS_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "sim_cap.h"

//  Most channels in the directory, posts kept per channel, bytes per
//  post, channels an account owns.
#define SIM_CHANNELS_MAX 10000
#define SIM_CHANNELS_POSTS_MAX 1000
#define SIM_CHANNELS_POST_BYTES (64 * 1024)
#define SIM_CHANNELS_NAME_MAX 100
#define SIM_CHANNELS_DESCRIPTION_MAX 2048
//  Largest page of a directory query.
#define SIM_CHANNELS_PAGE_MAX 100
//  Seconds of live updates granted.
#define SIM_CHANNELS_LIVE_S 300

//  Query ids (whatsmeow: WM, Baileys: BL).
#define SIM_CHANNELS_Q_METADATA "6563316087068696"
#define SIM_CHANNELS_Q_SUBSCRIBED "6388546374527196"
#define SIM_CHANNELS_Q_CREATE_WM "6234210096708695"
#define SIM_CHANNELS_Q_CREATE_BL "8823471724422422"
#define SIM_CHANNELS_Q_FOLLOW_WM "9926858900719341"
#define SIM_CHANNELS_Q_FOLLOW_BL "24404358912487870"
#define SIM_CHANNELS_Q_UNFOLLOW_WM "6392786840836363"
#define SIM_CHANNELS_Q_UNFOLLOW_BL "9767147403369991"
#define SIM_CHANNELS_Q_MUTE_WM "6274038279359549"
#define SIM_CHANNELS_Q_MUTE_BL "29766401636284406"
#define SIM_CHANNELS_Q_UNMUTE_WM "6068417879924485"
#define SIM_CHANNELS_Q_UNMUTE_BL "9864994326891137"
#define SIM_CHANNELS_Q_UPDATE_WM "7150902998257522"
#define SIM_CHANNELS_Q_UPDATE_BL "24250201037901610"
#define SIM_CHANNELS_Q_DELETE "30062808666639665"
#define SIM_CHANNELS_Q_ADMIN_COUNT "7130823597031706"
#define SIM_CHANNELS_Q_DIRECTORY "6190824427689257"
#define SIM_CHANNELS_Q_SEARCH "6802402206520139"

typedef struct _sim_channels_t sim_channels_t;

extern const sim_cap_t sim_channels_cap;

//  The control API's /channels routes (tests/wa-sim/README.md):
//    GET  /channels                        the directory (all channels)
//    POST /channels {owner, name, description?, country?, category?,
//         verified?, subscribers?}         a channel made by a phone
//    POST /channels/<id>/react {server_id, code, from}
//    POST /channels/<id>/view {server_id, count?}
//    POST /channels/<id>/post {text}       the owner's phone posts
//  `seg` are the path segments after "channels", `in` the body (may be
//  NULL). Returns the HTTP status; *result_p (caller owns) the answer,
//  *reason_p (static) the error.
int sim_channels_control(sim_channels_t *self, const char *method, char **seg,
                         int n, json_t *in, json_t **result_p,
                         const char **reason_p);

void sim_channels_test(bool verbose);

#endif
