/*  cm_log - logfmt logging to stderr

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    One line per event: ts=... level=... svc=... msg="..." key=value...
    The level check happens in the macro, before arguments are evaluated.
    Never log secrets or message bodies at info level or above.
*/
#ifndef CM_LOG_H_INCLUDED
#define CM_LOG_H_INCLUDED

#include <stdbool.h>

typedef enum {
    CM_LOG_ERROR = 0,
    CM_LOG_WARN = 1,
    CM_LOG_INFO = 2,
    CM_LOG_DEBUG = 3
} cm_log_level_t;

//  Set the service name and level ("error","warn","info","debug"). Call
//  once from main before any thread starts. Returns -1 on a bad level.
int cm_log_init(const char *svc, const char *level);

//  True if events at this level are written.
bool cm_log_enabled(cm_log_level_t level);

//  Write one event. `msg` is the human text (quoted for you); `kvfmt` is a
//  printf format for extra logfmt fields ("" for none).
void cm_log_write(cm_log_level_t level, const char *msg, const char *kvfmt,
                  ...) __attribute__((format(printf, 3, 4)));

//  Usage: cm_log_warn("could not connect", "endpoint=%s", ep);
//         cm_log_info("started");
#define cm_log_at(lvl, msg, ...)                                             \
    do {                                                                     \
        if (cm_log_enabled(lvl)) {                                           \
            cm_log_write(lvl, msg, "" __VA_ARGS__);                          \
        }                                                                    \
    } while (0)
#define cm_log_error(msg, ...) cm_log_at(CM_LOG_ERROR, msg, ##__VA_ARGS__)
#define cm_log_warn(msg, ...) cm_log_at(CM_LOG_WARN, msg, ##__VA_ARGS__)
#define cm_log_info(msg, ...) cm_log_at(CM_LOG_INFO, msg, ##__VA_ARGS__)
#define cm_log_debug(msg, ...) cm_log_at(CM_LOG_DEBUG, msg, ##__VA_ARGS__)

//  Self test
void cm_log_test(bool verbose);

#endif
