/*  wa_contacts - who is on WhatsApp, their about text and picture, the
    blocklist (wa-protocol.md §10.4–10.6)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    IQ builders and reply parsers, without session state; the owner sends
    the IQs with wa_client_iq. JIDs are wire text.

      exists   usync, mode query, context interactive, protocols contact
               and lid; one <user><contact>+DIGITS</contact></user> per
               phone number. The reply's <contact type="in"> is a
               registered number; <lid val> its LID.
      about    usync with the status protocol for one user JID: the
               reply's <status t>TEXT</status>.
      picture  w:profile:picture get with target=JID and <picture
               type="image"|"preview" query="url" [id]>: the reply's
               <picture id url direct_path>.
      block    blocklist set <item action="block"|"unblock" jid
               [pn_jid]/>; get: <list><item jid [pn_jid]/>…</list>.

    The capability module (cap contacts) turns <notification
    type="picture"> into WA_CLIENT_EVENT_PICTURE, so the owner can drop
    what it cached about that picture.
*/
#ifndef WA_CONTACTS_H_INCLUDED
#define WA_CONTACTS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wa_node.h"

//  Most phone numbers in one exists query.
#define WA_CONTACTS_EXISTS_MAX 50

//  One number's answer to an exists query.
typedef struct {
    char *phone; //  digits as asked
    bool exists; //  registered
    char *jid;   //  its user JID, or NULL
    char *lid;   //  its LID user JID, or NULL when not given
} wa_contacts_exists_t;

//  The exists query for `count` phone numbers (digits; a leading '+' is
//  added), NULL when count is 0, above WA_CONTACTS_EXISTS_MAX or a number
//  is not 6 to 15 digits. Caller owns return value.
wa_node_t *wa_contacts_exists_query(const char *const *phones, size_t count,
                                    const char *sid);

//  Parse an exists reply into *items_p (caller frees with
//  wa_contacts_exists_free) and *count_p. Returns 0, or -1 when it is no
//  usync result.
int wa_contacts_exists_parse(const wa_node_t *reply,
                             wa_contacts_exists_t **items_p, size_t *count_p);
void wa_contacts_exists_free(wa_contacts_exists_t **items_p, size_t count);

//  The about (status) query for user `jid`. NULL when jid is no user.
//  Caller owns return value.
wa_node_t *wa_contacts_about_query(const char *jid, const char *sid);

//  The about text of the first user of a reply (*text_p, caller owns;
//  "" when empty) and when it was set (*t_p, s, 0 unknown). Returns 0,
//  or -1 when the reply holds none.
int wa_contacts_about_parse(const wa_node_t *reply, char **text_p,
                            int64_t *t_p);

//  The picture URL query for `jid` (user or group), the preview or the
//  full image; `known_id` (or NULL) lets the server answer 304. NULL
//  when jid is invalid. Caller owns return value.
wa_node_t *wa_contacts_picture_query(const char *jid, bool preview,
                                     const char *known_id);

//  URL and id of a picture reply (caller owns both). Returns 0, or -1
//  when it holds no picture with a URL.
int wa_contacts_picture_parse(const wa_node_t *reply, char **url_p,
                              char **id_p);

//  The blocklist change for `jid` (the LID when known, else the phone
//  number JID) with `pn_jid` (or NULL) when blocking. NULL when jid is
//  no user. Caller owns return value.
wa_node_t *wa_contacts_block_iq(const char *jid, const char *pn_jid,
                                bool block);

//  The blocklist get. Caller owns return value.
wa_node_t *wa_contacts_blocklist_query(void);

//  The blocked users of a blocklist reply, as phone number user JIDs
//  where the item gives one (pn_jid), else as given; *count_p set.
//  Caller owns the array and its strings (free each, then the array).
char **wa_contacts_blocklist_parse(const wa_node_t *reply, size_t *count_p);

void wa_contacts_test(bool verbose);

#endif
