/*  ms_classes.h - private umbrella header of media-service

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#ifndef MS_CLASSES_H_INCLUDED
#define MS_CLASSES_H_INCLUDED

#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <czmq.h>

#include "cm/cm.h"
#include "ms_config.h"
#include "ms_server.h"

#endif
