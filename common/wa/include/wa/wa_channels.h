/*  wa_channels - channels (newsletters): the w:mex queries and the
    newsletter IQs (wa-protocol.md §10.2)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    IQ builders and reply parsers, without session state; the owner sends
    them with wa_client_iq. Posting is a plain send to "…@newsletter"
    (wa_client_send_text / _message: the outbox puts the Message bytes
    in <plaintext>, unencrypted); posts of followed channels arrive as
    ordinary messages (wa_recv: plaintext).

    Most channel operations are w:mex, GraphQL-style persisted queries:
      <iq xmlns="w:mex" type="get" to="s.whatsapp.net">
        <query query_id=ID>{"variables":{…}}</query></iq>
      → <result>{"data":{PATH:…}}</result> or {"errors":[{message,
        extensions:{error_code}}]}.
    The query ids are WhatsApp Web's (as whatsmeow sends them; wa-sim
    also takes Baileys' ids). Paths and variables:
      METADATA    {fetch_creation_time, fetch_full_image,
                   fetch_viewer_metadata, input:{key, type: JID|INVITE}}
                  → xwa2_newsletter (a channel's metadata)
      SUBSCRIBED  {} → xwa2_newsletter_subscribed (the channels we own,
                  administer or follow)
      CREATE      {newsletter_input:{name, description, picture (base64
                  JPEG)}} → xwa2_newsletter_create
      FOLLOW, UNFOLLOW, MUTE, UNMUTE, DELETE {newsletter_id}
      DIRECTORY   {input:{view, filters:{country_codes, categories},
                  limit, start_cursor}} → xwa2_newsletters_directory_list
                  {page_info:{hasNextPage, hasPreviousPage, startCursor,
                  endCursor}, result:[metadata…]}
      SEARCH      {input:{search_text, categories, limit, start_cursor}}
                  → xwa2_newsletters_directory_search (same shape)
    Metadata: {id, state:{type}, thread_metadata:{creation_time, invite,
    name:{text}, description:{text}, subscribers_count (string),
    verification: VERIFIED|UNVERIFIED, picture:{id, type, direct_path},
    preview:{…}}, viewer_metadata:{mute: ON|OFF, role: OWNER|ADMIN|
    SUBSCRIBER|GUEST} or null}.

    Posts: <iq xmlns="newsletter" type="get" to="s.whatsapp.net">
    <messages type="jid" jid=CHANNEL count [before]/> (or type="invite"
    key=CODE) → <messages><message id server_id t type><plaintext>
    Message</plaintext><views_count count/><reactions><reaction code
    count/></reactions></message>…</messages>.
*/
#ifndef WA_CHANNELS_H_INCLUDED
#define WA_CHANNELS_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wa_node.h"

//  Query ids (configuration data: WhatsApp changes them over time).
#define WA_CHANNELS_Q_METADATA "6563316087068696"
#define WA_CHANNELS_Q_SUBSCRIBED "6388546374527196"
#define WA_CHANNELS_Q_CREATE "6234210096708695"
#define WA_CHANNELS_Q_FOLLOW "9926858900719341"
#define WA_CHANNELS_Q_UNFOLLOW "6392786840836363"
#define WA_CHANNELS_Q_MUTE "6274038279359549"
#define WA_CHANNELS_Q_UNMUTE "6068417879924485"
#define WA_CHANNELS_Q_DELETE "30062808666639665"
#define WA_CHANNELS_Q_DIRECTORY "6190824427689257"
#define WA_CHANNELS_Q_SEARCH "6802402206520139"

//  Largest <result> JSON read, bytes.
#define WA_CHANNELS_RESULT_MAX (4 * 1024 * 1024)
//  Most posts asked for at once.
#define WA_CHANNELS_POSTS_MAX 100

//  The w:mex IQ of query `query_id` with `variables` (taken, on all
//  paths). Caller owns return value.
wa_node_t *wa_channels_mex(const char *query_id, json_t **variables_p);

//  The data of a w:mex reply: data[path] (caller owns), or NULL with
//  *error_p set to the first error's code (404 no such channel, 403,
//  400, ...; 502 for an answer that is not one) and *message_p (caller
//  frees; may be NULL) to its message. JSON null data is an error 404.
json_t *wa_channels_mex_data(const wa_node_t *reply, const char *path,
                             int *error_p, char **message_p);

//  The posts IQ: the newest `count` (1..WA_CHANNELS_POSTS_MAX) posts of
//  channel `key`, a JID or (invite true) an invite code. NULL on bad
//  arguments. Caller owns return value.
wa_node_t *wa_channels_posts_iq(const char *key, bool invite, int count);

//  A post of a posts reply. Strings and bytes are borrowed from the
//  reply.
typedef struct {
    int64_t server_id;    //  the channel's sequence number
    const char *id;       //  message id
    int64_t t;            //  when, s
    const uint8_t *plain; //  Message bytes, or NULL
    size_t len;           //  their length
    int64_t views;        //  view count
    json_t *reactions;    //  {code: count} (borrowed for the call)
} wa_channels_post_t;

typedef void(wa_channels_post_fn)(void *arg, const wa_channels_post_t *post);

//  Call fn for each post of a posts reply, oldest first. Returns the
//  number of posts, or -1 when the reply has no <messages>.
int wa_channels_posts(const wa_node_t *reply, wa_channels_post_fn *fn,
                      void *arg);

void wa_channels_test(bool verbose);

#endif
