/*  cm.h - public umbrella header of the Wharf common library

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#ifndef CM_H_INCLUDED
#define CM_H_INCLUDED

#include "cm_util.h"
#include "cm_log.h"
#include "cm_env.h"
#include "cm_msg.h"
#include "cm_client.h"
#include "cm_ulid.h"
#include "cm_handlers.h"
#include "cm_codec.h"
#include "cm_webhook.h"
#include "cm_json.h"
#include "cm_waha.h"
#include "cm_net.h"

#endif
