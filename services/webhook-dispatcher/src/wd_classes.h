/*  wd_classes.h - private umbrella header of webhook-dispatcher

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#ifndef WD_CLASSES_H_INCLUDED
#define WD_CLASSES_H_INCLUDED

#undef NDEBUG
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <czmq.h>
#include <jansson.h>

#include "cm/cm.h"
#include "wd_body.h"
#include "wd_config.h"
#include "wd_sender.h"
#include "wd_dispatcher.h"

#endif
