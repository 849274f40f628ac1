/*  wa_status - status updates (24-hour stories): sending them to
    status@broadcast and building their messages

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A status is a message to status@broadcast sent like a group message
    (wa-protocol.md §7.5): one skmsg under our sender key for
    status@broadcast and, pairwise, the key's distribution to each
    recipient device, listed in <participants>:

        <message to="status@broadcast" id type phash>
          <participants><to jid=DEVICE><enc type="pkmsg|msg"/></to>…
          </participants>
          <enc v="2" type="skmsg" [mediatype]/> [<device-identity/>]
        </message>

    The recipients are the caller's (WAHA's `contacts`; Baileys'
    statusJidList); the key goes to all of them each time. A text status
    is an extendedTextMessage with backgroundArgb (8), textArgb (7) and
    font (9); a voice status an audioMessage with backgroundArgb (20).
    Deleting one is a REVOKE protocol message to status@broadcast for the
    same recipients. Incoming statuses are ordinary messages from
    status@broadcast whose participant posted them (wa_inbox).

    Who may see our statuses is the account's status privacy, asked with
        <iq xmlns="status" type="get" to="s.whatsapp.net"><privacy/></iq>
      → <privacy><list type="contacts|blacklist|whitelist" default="true">
        <user jid=USER/>…</list>…</privacy>
    (the default list is the one in use; none, or a 404: contacts).
*/
#ifndef WA_STATUS_H_INCLUDED
#define WA_STATUS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wa_client.h"
#include "wa_kinds.h"

//  Most recipients of one status.
#define WA_STATUS_RECIPIENTS_MAX 1024
//  Text colour of text statuses (opaque white).
#define WA_STATUS_TEXT_ARGB 0xFFFFFFFFu
//  Fonts (ExtendedTextMessage.FontType): 0..2 and 6..10.
#define WA_STATUS_FONT_MAX 10

//  Send a serialised Message as a status to `recipients` (user JIDs,
//  wire or API form, 1..WA_STATUS_RECIPIENTS_MAX; our own are skipped,
//  our other devices get it too) under the id `want` (NULL: a new one).
//  The outcome is a SENT event for the id, chat status@broadcast.
//  Returns 0, or -1 when not ready or an argument is invalid.
int wa_status_send(wa_client_t *client, const uint8_t *msg, size_t len,
                   const char *const *recipients, size_t n, const char *want,
                   char id[WA_CLIENT_ID_MAX]);

//  A text status: text on background_argb in font, with the link it
//  previews (NULL: none): its url (matchedText), title, description and
//  JPEG thumbnail, as far as known. Returns 0 and a new buffer (caller
//  owns), or -1 (no text, unknown font).
int wa_status_build_text(const char *text, uint32_t background_argb, int font,
                         const wa_kinds_preview_t *preview, uint8_t **out_p,
                         size_t *out_len);

//  Give the audio message in a serialised Message (a voice status) a
//  background colour: *msg_p is replaced by a new buffer. Returns 0, or
//  -1 (no audio message).
int wa_status_set_audio_background(uint8_t **msg_p, size_t *len_p,
                                   uint32_t background_argb);

//  Parse a colour: "#RRGGBB" (opaque) or "#AARRGGBB", '#' optional, hex
//  digits either case. Returns 0 and *argb, or -1.
int wa_status_parse_color(const char *text, uint32_t *argb);

//  True when font is a FontType value.
bool wa_status_font_valid(int font);

//  The first http(s) URL in text (for a link preview), or NULL. Caller
//  owns return value.
char *wa_status_find_url(const char *text);

//  Most users kept from a status privacy list.
#define WA_STATUS_PRIVACY_MAX 4096

//  The status privacy IQ (send with wa_client_iq). Caller owns.
wa_node_t *wa_status_privacy_iq(void);

//  The status privacy in use from its IQ's reply (a result, or an error:
//  404 means the default): *type_p "contacts", "blacklist" or
//  "whitelist" (static), *users_p the list's users as wire JIDs
//  (caller frees each and the array; NULL when empty) and *n_p their
//  number. Returns 0, or -1 for another error or a list of another type.
int wa_status_privacy_parse(const wa_node_t *reply, const char **type_p,
                            char ***users_p, size_t *n_p);

void wa_status_test(bool verbose);

#endif
