/*  sim_classes.h - private umbrella header of wa-sim

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    System and third-party headers are pulled in once, here. Assertions
    stay on in every build.
*/
#ifndef SIM_CLASSES_H_INCLUDED
#define SIM_CLASSES_H_INCLUDED

#undef NDEBUG
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <czmq.h>
#include <jansson.h>

#include "cm/cm.h"
#include "wa/wa_crypto.h"

#include "sim_fault.h"
#include "sim_ledger.h"
#include "sim_log.h"
#include "sim_model.h"

#endif
