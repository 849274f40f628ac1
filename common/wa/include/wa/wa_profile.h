/*  wa_profile - the account's own profile: picture and about text
    (wa-protocol.md §10.4)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    IQ builders and reply parsers, without session state; the owner sends
    them with wa_client_iq. The push name goes out with presence
    (wa_client_set_push_name); the app-state setting is the appstate
    capability's.

      picture  w:profile:picture set: <picture type="image">FULL JPEG
               </picture><picture type="preview">PREVIEW JPEG</picture>;
               no child removes the picture. Reply: <picture id/>.
      about    status set: <status>TEXT</status>.
*/
#ifndef WA_PROFILE_H_INCLUDED
#define WA_PROFILE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wa_node.h"

//  Side of the full picture and of its preview, pixels (square).
#define WA_PROFILE_PICTURE_SIDE 640
#define WA_PROFILE_PREVIEW_SIDE 96
//  Largest JPEG sent as a picture.
#define WA_PROFILE_PICTURE_MAX (1024 * 1024)
//  Longest about text, bytes (WhatsApp's limit is 139 characters).
#define WA_PROFILE_ABOUT_MAX 1024
//  Longest push name, bytes.
#define WA_PROFILE_NAME_MAX 100

//  The picture set for our own account: both JPEGs, or full NULL to
//  remove it. NULL when a JPEG is too large or not a JPEG. Caller owns
//  return value.
wa_node_t *wa_profile_picture_iq(const uint8_t *full, size_t full_len,
                                 const uint8_t *preview, size_t preview_len);

//  The new picture id of a set reply (caller owns), or NULL.
char *wa_profile_picture_id(const wa_node_t *reply);

//  The about text set. NULL when longer than WA_PROFILE_ABOUT_MAX.
//  Caller owns return value.
wa_node_t *wa_profile_about_iq(const char *text);

void wa_profile_test(bool verbose);

#endif
