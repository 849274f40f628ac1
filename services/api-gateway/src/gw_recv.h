/*  gw_recv - frames the bytes libmicrohttpd reads from a connection, so
    that nothing reaches it that it would refuse by itself

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Why this exists. libmicrohttpd 0.9.75 answers some bad input by
    itself, with an HTML page built from fixed strings inside the
    library, before any application callback sees the request: a
    malformed chunked body, and on the second and later requests of a
    kept-alive connection a bad request line or HTTP version, a header
    line without a colon, a Content-Length that is not a number, a head
    too large for the connection's memory. No option or callback of that
    version replaces those pages, and it offers no hook on the bytes it
    reads. What it does is read every connection with recv(fd, buf, len,
    0). So the gateway executable defines recv itself (symbol
    interposition: the executable's definition comes first for the
    libraries it loads); a descriptor that is not watched, or a call with
    flags, goes straight to the next recv (libc's, or ASan's interceptor
    in a sanitized build), so libzmq and everything else are unaffected.

    A watched connection (one gw_recv_t, attached to its descriptor when
    gw_front hands it to libmicrohttpd) gives libmicrohttpd only bytes
    that were judged good, in stream order:
    - a request head is peeked at (MSG_PEEK) until it is complete and
      checked with gw_front_check_head (the checks every first head
      gets); an incomplete head is not read (EAGAIN) until it is whole;
      the keep-alive sweeper in gw_http bounds how long that may take;
    - a Content-Length body is passed unread and unlooked-at, the reads
      capped at its end: media bodies cost no extra system call;
    - a chunked body's size lines, the CRLFs after its chunks and its
      trailer lines are checked; chunk data is passed as is;
    - after a head with an Upgrade header nothing more is judged until
      the answer: a /ws stream is then passed through untouched.
    Judging reads ahead of what libmicrohttpd asks for, up to a head past
    it, so a read is only ever short where the socket has no more good
    bytes (libmicrohttpd's epoll loop takes a short read to mean the
    socket is drained).

    At the first bad byte nothing more of the client's is passed. In its
    place libmicrohttpd gets bytes that end what it is reading cleanly: a
    request head of our own (for a bad head), or the end of the chunked
    body (for a bad chunk line or trailer). gw_http answers that request
    (gw_recv_refusal) in the API's JSON error shape with the refusal's
    status and message, and the connection closes. Requests before the
    bad bytes (pipelined ones too) are answered first, in order, as
    libmicrohttpd answers in order.
*/
#ifndef GW_RECV_H_INCLUDED
#define GW_RECV_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct _gw_recv_t gw_recv_t;

//  A connection's framing state. Caller owns return value.
gw_recv_t *gw_recv_new(void);

//  Free. Detach it first.
void gw_recv_destroy(gw_recv_t **self_p);

//  Watch `fd` from now on: libmicrohttpd's reads of it go through self.
//  Returns 0, or -1 when fd is out of range (then it is not watched).
int gw_recv_attach(gw_recv_t *self, int fd);

//  Stop watching `fd` if self is what watches it (before fd is closed).
//  Returns true when it was; only then may the caller destroy self.
bool gw_recv_detach(gw_recv_t *self, int fd);

//  Free every state still attached: call once libmicrohttpd has stopped
//  (it drops connections queued to a stopping daemon without notifying).
void gw_recv_release_all(void);

//  What watches `fd`, or NULL.
gw_recv_t *gw_recv_lookup(int fd);

//  The connection became a /ws stream: its bytes pass untouched.
void gw_recv_pass(gw_recv_t *self);

//  A request of the connection ended (a refused upgrade goes back to
//  HTTP).
void gw_recv_request_done(gw_recv_t *self);

//  When the `nth` request head libmicrohttpd parsed on the connection
//  (from 1) is a refusal, or the request whose body was refused: its HTTP
//  status, with *message_p, *method_p, *path_p (borrowed; method and path
//  of the refused head when it had them, else NULL). Else 0.
int gw_recv_refusal(gw_recv_t *self, unsigned nth, const char **message_p,
                    const char **method_p, const char **path_p);

//  Heads passed to libmicrohttpd so far (tests).
unsigned gw_recv_heads(gw_recv_t *self);

void gw_recv_test(bool verbose);

#endif
