/*  gw_classes.h - private umbrella header of the api-gateway

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    System and third-party headers are pulled in once, here. Assertions
    stay on in every build.
*/
#ifndef GW_CLASSES_H_INCLUDED
#define GW_CLASSES_H_INCLUDED

#undef NDEBUG
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <czmq.h>
#include <jansson.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cm/cm.h"

#include "gw_auth.h"
#include "gw_config.h"
#include "gw_link.h"
#include "gw_core.h"
#include "gw_req.h"
#include "gw_api.h"
#include "gw_sessions.h"
#include "gw_webhooks.h"
#include "gw_messages.h"
#include "gw_chats.h"
#include "gw_kinds.h"
#include "gw_login.h"
#include "gw_groups.h"
#include "gw_labels.h"
#include "gw_contacts.h"
#include "gw_profile.h"
#include "gw_channels.h"
#include "gw_calls.h"
#include "gw_lids.h"
#include "gw_presence.h"
#include "gw_media.h"
#include "gw_stories.h"
#include "gw_wsframe.h"
#include "gw_ws.h"
#include "gw_status.h"
#include "gw_screenshot.h"
#include "gw_metrics.h"
#include "gw_static.h"
#include "gw_swagger.h"
#include "gw_dashboard.h"
#include "gw_keys.h"
#include "gw_ratelimit.h"
#include "gw_templink.h"
#include "gw_limits.h"
#include "gw_caps.h"
#include "gw_server.h"
#include "gw_front.h"
#include "gw_recv.h"
#include "gw_http.h"

#endif
