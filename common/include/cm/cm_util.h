/*  cm_util - allocation, time and small string helpers

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    cm_alloc and cm_strdup abort on out-of-memory (as czmq, Redis and
    PostgreSQL do), so callers never check them for NULL.
*/
#ifndef CM_UTIL_H_INCLUDED
#define CM_UTIL_H_INCLUDED

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

//  Zeroed memory; aborts on out-of-memory. Caller owns return value.
void *cm_alloc(size_t size);
//  Copy of s (NULL gives NULL); aborts on out-of-memory.
char *cm_strdup(const char *s);
//  Copy of the first n bytes of s plus a NUL; aborts on out-of-memory.
char *cm_strndup(const char *s, size_t n);
//  printf into a new string. Caller owns return value.
char *cm_sprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
//  As cm_sprintf with a va_list (left unused: the caller still va_ends
//  it). Caller owns return value.
char *cm_vsprintf(const char *fmt, va_list args)
    __attribute__((format(printf, 1, 0)));

//  Wall clock, milliseconds since the epoch.
int64_t cm_now_ms(void);
//  Monotonic clock, milliseconds.
int64_t cm_mono_ms(void);
//  Resident memory of this process in bytes (/proc/self/statm), or -1.
int64_t cm_rss_bytes(void);

//  Lower-case hex of `len` bytes into `out` (2*len+1 bytes).
void cm_hex(const uint8_t *data, size_t len, char *out);
//  Parse hex into out (up to max bytes). Returns bytes written or -1.
int cm_unhex(const char *hex, uint8_t *out, size_t max);
//  Value of one hex digit (either case): 0..15, or -1 if c is not one.
int cm_hex_digit(char c);

//  Fill with cryptographically secure random bytes. Aborts if the kernel
//  cannot give them.
void cm_random(void *buf, size_t len);

//  True if signal `sig` is ignored (SIG_IGN), as a shell leaves SIGINT
//  and SIGQUIT for its background jobs and scripts/run.sh leaves SIGINT
//  for the services it starts. Call first thing in main, before czmq (or
//  anything) installs a handler for it. A service started with SIGINT
//  ignored ignores it again after zsys_init, so that a terminal's Ctrl-C,
//  which reaches the whole process group, leaves it to its parent to
//  stop it, in order, with SIGTERM.
bool cm_signal_ignored(int sig);

//  Read the rest of an open regular file, of at most `max` bytes, into a
//  new buffer with a NUL after the data (so text can be used as is).
//  Closes fd in every case. Caller frees *data_p. Returns -1 if the file
//  cannot be read or is larger than max.
int cm_read_fd(int fd, size_t max, uint8_t **data_p, size_t *len_p);

static inline bool
cm_streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

//  True for "message" and "message.*" names (events such as message.any
//  and message.ack, worker commands such as message.send_text): they are
//  about messages and never change a session's state.
static inline bool
cm_about_messages(const char *name)
{
    return name && strncmp(name, "message", 7) == 0 &&
           (name[7] == 0 || name[7] == '.');
}

void cm_util_test(bool verbose);

#endif
