/*  st_devices - the `device` message family: WhatsApp device credentials

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    device.get/put/clear. put is fenced by the caller's lease (worker,
    epoch); clear is fenced when the caller gives them.
*/
#ifndef ST_DEVICES_H_INCLUDED
#define ST_DEVICES_H_INCLUDED

#include <stdbool.h>

typedef struct _st_router_t st_router_t;

//  Register the family on `r`. Returns 0.
int st_devices_register(st_router_t *r);

void st_devices_test(bool verbose);

#endif
