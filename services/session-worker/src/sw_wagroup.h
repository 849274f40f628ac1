/*  sw_wagroup - WAHA shapes of groups for the WhatsApp engine

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Pure functions, no state: the group object the group commands answer
    with, the results of participant changes, and how a WhatsApp IQ
    error becomes a status for the gateway.

    Group object (JIDs in API form, "@c.us"):
      {id:"<digits>@g.us", subject, description:str|null,
       owner:"…@c.us"|null, creation:int (s, 0 unknown), size:int,
       addressingMode:"pn"|"lid", announce:bool, restrict:bool,
       participants:[{id:"…@c.us" (or "…@lid" when the phone number is
         unknown), lid?:"…@lid", role:"participant"|"admin"|"superadmin",
         admin:null|"admin"|"superadmin", isAdmin:bool,
         isSuperAdmin:bool}]}
    `admin` is how Baileys-based clients read roles, `role` WAHA's v2
    participants, isAdmin/isSuperAdmin whatsmeow-based ones.
*/
#ifndef SW_WAGROUP_H_INCLUDED
#define SW_WAGROUP_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "wa/wa_group.h"
#include "wa/wa_node.h"

//  The group object for `group`. Caller owns return value.
json_t *sw_wagroup_json(const wa_group_t *group);

//  The participants array of the group object. Caller owns return value.
json_t *sw_wagroup_participants(const wa_group_t *group);

//  The results of an add/remove/promote/demote reply (`action` is its
//  child tag): [{id:"…@c.us", status:int}] with status 200 for a done
//  change, else the code WhatsApp gave (e.g. 403, 404, 409). NULL when
//  the reply holds no `action` child. Caller owns return value.
json_t *sw_wagroup_results(const wa_node_t *reply, const char *action);

//  The status (4xx/5xx) and reason for the gateway when WhatsApp answered
//  a group IQ with error `code` (wa_iq_error_code; -1 none). `what`
//  names the request ("create the group"). Sets *reason_p to a string
//  the caller owns.
int sw_wagroup_error(int code, const char *what, char **reason_p);

void sw_wagroup_test(bool verbose);

#endif
