/*  sw_waprofile - the profile capability of the WhatsApp engine: the
    account's own name, about text and picture

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Commands (SW_WAPROFILE_COMMANDS; 409 unless WORKING):
      profile.get {} -> {id:"…@c.us", name:str ("" when unknown),
          picture:str|null}
          the picture URL from a w:profile:picture get of our own JID
      profile.set_name {pushName} -> {success:true}
          1 to WA_PROFILE_NAME_MAX bytes: the push name goes out with
          presence at once, is kept in the credentials and in `me`
      profile.set_status {status} -> {success:true}   (about; status IQ)
      profile.set_picture {}, blob 0 = the full JPEG, blob 1 = the
          preview JPEG (made square and sized by the gateway through
          media-service) -> {success:true, pictureId}
      profile.delete_picture {} -> {success:true}
*/
#ifndef SW_WAPROFILE_H_INCLUDED
#define SW_WAPROFILE_H_INCLUDED

#include <stdbool.h>

#include "sw_wacontacts.h"
#include "sw_wasess.h"

#define SW_WAPROFILE_COMMANDS                                                  \
    SW_WACMD("profile.get", SW_WACMD_WORKING, SW_WACONTACTS_TIMEOUT_MS,        \
             sw_waprofile_get),                                                \
        SW_WACMD("profile.set_name", SW_WACMD_WORKING, SW_WACMD_NOW,           \
                 sw_waprofile_set_name),                                       \
        SW_WACMD("profile.set_status", SW_WACMD_WORKING,                       \
                 SW_WACONTACTS_TIMEOUT_MS, sw_waprofile_set_status),           \
        SW_WACMD("profile.set_picture", SW_WACMD_WORKING,                      \
                 SW_WACONTACTS_TIMEOUT_MS, sw_waprofile_set_picture),          \
        SW_WACMD("profile.delete_picture", SW_WACMD_WORKING,                   \
                 SW_WACONTACTS_TIMEOUT_MS, sw_waprofile_delete_picture)

void sw_waprofile_get(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_waprofile_set_name(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_waprofile_set_status(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_waprofile_set_picture(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_waprofile_delete_picture(sw_wasess_t *sess, sw_cmd_t **cmd_p);

void sw_waprofile_test(bool verbose);

#endif
