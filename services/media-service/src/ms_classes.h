/*  ms_classes.h - private umbrella header of media-service

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#ifndef MS_CLASSES_H_INCLUDED
#define MS_CLASSES_H_INCLUDED

#undef NDEBUG
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <czmq.h>
#include <jansson.h>

#include "cm/cm.h"
#include "wa/wa_crypto.h"
#include "wa/wa_media.h"

#include "ms_config.h"
#include "ms_http.h"
#include "ms_sniff.h"
#include "ms_image.h"
#include "ms_preview.h"
#include "ms_av.h"
#include "ms_scratch.h"
#include "ms_store.h"
#include "ms_wamedia.h"
#include "ms_worker.h"
#include "ms_server.h"

#endif
