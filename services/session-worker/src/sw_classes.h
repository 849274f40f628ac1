/*  sw_classes.h - private umbrella header of session-worker

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    System and third-party headers are pulled in once, here. Assertions
    stay on in every build.
*/
#ifndef SW_CLASSES_H_INCLUDED
#define SW_CLASSES_H_INCLUDED

#undef NDEBUG
#include <assert.h>
#include <ctype.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <czmq.h>
#include <jansson.h>

#include "cm/cm.h"
#include "sw_config.h"
#include "sw_loop.h"
#include "sw_backoff.h"
#include "sw_url.h"
#include "sw_engine.h"
#include "sw_session.h"
#include "sw_probe.h"
#include "sw_wamsg.h"
#include "sw_wasess.h"
#include "sw_wasession.h"
#include "sw_wamessage.h"
#include "sw_wagroup.h"
#include "sw_waappstate.h"
#include "sw_wacontacts.h"
#include "sw_waprofile.h"
#include "sw_wachannels.h"
#include "sw_wacall.h"
#include "sw_wakinds.h"
#include "sw_wapresence.h"
#include "sw_wareceipt.h"
#include "sw_wadebug.h"
#include "sw_wamedia.h"
#include "sw_wafetch.h"
#include "sw_wastatus.h"
#include "sw_wahistory.h"
#include "sw_wajournal.h"
#include "sw_wa.h"
#include "sw_worker.h"

#endif
