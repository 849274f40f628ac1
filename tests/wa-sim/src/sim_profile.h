/*  sim_profile - profile IQs: picture, about text, default
    disappearing mode

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    docs/wa-protocol.md §10.4. Pictures (JPEG, full and preview) live in
    the media store under the account, with a picture id that changes
    on every set; gets answer their URL on the media host. The about
    text is the account's (usync's status query reads it).
    Disappearing-mode sets are acknowledged only.
*/
#ifndef SIM_PROFILE_H_INCLUDED
#define SIM_PROFILE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_cap.h"
#include "sim_model.h"

//  IQs w:profile:picture, status, disappearing_mode.
extern const sim_cap_t sim_profile_cap;

//  Set (jpeg not NULL) or remove the account's picture as its phone
//  would. Returns 0, or 406 when it is not a JPEG, 500 when the media
//  store is full.
int sim_profile_set_picture(sim_model_t *model, sim_account_t *acc,
                            const uint8_t *jpeg, size_t len);

//  Set the account's about text (copied; NULL: none).
void sim_profile_set_about(sim_account_t *acc, const char *text);

//  Most users on a status privacy list.
#define SIM_PROFILE_PRIVACY_MAX 4096

//  Set who may see the account's statuses: {type: contacts|blacklist|
//  whitelist, users?: [phone digits]} (borrowed), answered to the
//  <iq xmlns="status" type="get"><privacy/> of its devices. Returns 0,
//  or -1 when it is not of that shape.
int sim_profile_set_status_privacy(sim_account_t *acc, json_t *privacy);

void sim_profile_test(bool verbose);

#endif
