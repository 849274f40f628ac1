/*  cm_classes.h - private umbrella header of the common library

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    System and third-party headers are pulled in once, here. Assertions
    stay on in every build.
*/
#ifndef CM_CLASSES_H_INCLUDED
#define CM_CLASSES_H_INCLUDED

#undef NDEBUG
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <czmq.h>
#include <jansson.h>
#include <msgpack.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cm/cm.h"

#endif
