/*  st_classes.h - private umbrella header of store-service

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    System and third-party headers are pulled in once, here. Assertions
    stay on in every build.
*/
#ifndef ST_CLASSES_H_INCLUDED
#define ST_CLASSES_H_INCLUDED

#undef NDEBUG
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <czmq.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "cm/cm.h"
#include "st_seal.h"
#include "st_config.h"
#include "st_db.h"
#include "st_migrate.h"
#include "st_router.h"
#include "st_stats.h"
#include "st_families.h"
#include "st_sessions.h"
#include "st_leases.h"
#include "st_devices.h"
#include "st_events.h"
#include "st_messages.h"
#include "st_webhooks.h"
#include "st_signal.h"
#include "st_appstate.h"
#include "st_history.h"
#include "st_kinds.h"
#include "st_lids.h"
#include "st_unread.h"
#include "st_apikeys.h"
#include "st_ratelimits.h"
#include "st_templinks.h"
#include "st_worker.h"
#include "st_server.h"

#endif
