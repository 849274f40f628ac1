/*  sw_loop - the worker's single event loop: ZeroMQ sockets, raw file
    descriptors and timers

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    One loop runs every session a worker holds, so it is built to scale
    with the number of file descriptors and timers:
    - zmq_poll is the top level, over the registered ZeroMQ sockets and
      one epoll descriptor;
    - raw descriptors (TCP connections, later the WebSocket descriptors
      that libwebsockets hands out in its external-poll mode) sit in that
      epoll set, level-triggered, so a wake-up costs O(ready descriptors);
    - timers live in a binary heap; adding and cancelling cost O(log n)
      and need no allocation per timer beyond the shared slot array.

    Event flags are poll(2)'s: POLLIN, POLLOUT, POLLERR, POLLHUP (POLLERR
    and POLLHUP are always reported, whether asked for or not).

    Callbacks may add and remove sockets, descriptors and timers,
    including their own, at any time. A descriptor or timer removed
    during a dispatch round gets no further callback in that round.
    Not thread-safe: use from the owning thread only.

    Usage (what an engine does):
        uint64_t t = sw_loop_timer_add(loop, 1000, false, s_on_timer, me);
        sw_loop_fd_add(loop, fd, POLLOUT, s_on_connect, me);
        ...
        sw_loop_fd_set_events(loop, fd, POLLIN);
        sw_loop_fd_remove(loop, fd);      //  before close(fd)
        sw_loop_timer_cancel(loop, t);
*/
#ifndef SW_LOOP_H_INCLUDED
#define SW_LOOP_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct _sw_loop_t sw_loop_t;

//  A socket is readable (ZMQ_POLLIN). Read everything that is waiting or
//  at least one message; the loop calls again while more is waiting.
typedef void(sw_loop_sock_fn)(sw_loop_t *loop, zsock_t *sock, void *arg);
//  A descriptor is ready; `revents` is a mask of POLLIN, POLLOUT, POLLERR,
//  POLLHUP.
typedef void(sw_loop_fd_fn)(sw_loop_t *loop, int fd, int revents, void *arg);
//  A timer expired. A one-shot timer is already gone when this runs; a
//  repeating one may be cancelled from here.
typedef void(sw_loop_timer_fn)(sw_loop_t *loop, uint64_t timer_id, void *arg);
//  Runs before every poll; returns the longest time in ms the loop may
//  sleep (-1 for no limit). For owners that keep their own deadlines
//  (cm_client_expire).
typedef int(sw_loop_prepare_fn)(sw_loop_t *loop, void *arg);

//  New empty loop. NULL if the kernel refuses an epoll descriptor.
//  Caller owns return value.
sw_loop_t *sw_loop_new(void);

//  Destroy the loop. Registered sockets and descriptors are not closed
//  (their owners do that); pending timers are dropped without a call.
void sw_loop_destroy(sw_loop_t **self_p);

//  Watch a ZeroMQ socket for input. Returns 0, or -1 if it is already
//  registered. The socket stays owned by the caller.
int sw_loop_sock_add(sw_loop_t *self, zsock_t *sock, sw_loop_sock_fn *fn,
                     void *arg);

//  Stop watching a socket (no-op when not registered).
void sw_loop_sock_remove(sw_loop_t *self, zsock_t *sock);

//  Watch descriptor `fd` for `events` (POLLIN|POLLOUT, may be 0 to watch
//  only errors). Returns 0, or -1 if fd is invalid or already registered.
//  The descriptor stays owned by the caller, who must remove it before
//  closing it.
int sw_loop_fd_add(sw_loop_t *self, int fd, int events, sw_loop_fd_fn *fn,
                   void *arg);

//  Change the events watched on a registered descriptor. Returns 0, or -1
//  if fd is not registered.
int sw_loop_fd_set_events(sw_loop_t *self, int fd, int events);

//  The events watched on fd, or -1 if it is not registered.
int sw_loop_fd_events(sw_loop_t *self, int fd);

//  Stop watching fd (no-op when not registered).
void sw_loop_fd_remove(sw_loop_t *self, int fd);

//  Call fn after delay_ms (>= 0), and then every delay_ms if `repeat`.
//  Returns the timer id, never 0.
uint64_t sw_loop_timer_add(sw_loop_t *self, int delay_ms, bool repeat,
                           sw_loop_timer_fn *fn, void *arg);

//  Cancel a timer. Returns 0, or -1 when the id is 0, unknown, or a
//  one-shot timer that already fired.
int sw_loop_timer_cancel(sw_loop_t *self, uint64_t timer_id);

//  Set the prepare hook (NULL to remove).
void sw_loop_set_prepare(sw_loop_t *self, sw_loop_prepare_fn *fn, void *arg);

//  Wait up to max_wait_ms (-1: until something happens) for the next
//  events, limited by the earliest timer and the prepare hook, then run
//  every ready callback and due timer once. Returns 0, or -1 when
//  interrupted by a signal before anything ran.
int sw_loop_once(sw_loop_t *self, int max_wait_ms);

//  Run sw_loop_once until sw_loop_stop is called. Returns 0.
int sw_loop_run(sw_loop_t *self);

//  Make sw_loop_run return after the current round. Callable from any
//  callback.
void sw_loop_stop(sw_loop_t *self);

//  Milliseconds until the earliest timer (0 if due), or -1 when none.
int sw_loop_next_timer(sw_loop_t *self);

//  Counts, for tests and metrics.
size_t sw_loop_fd_count(sw_loop_t *self);
size_t sw_loop_timer_count(sw_loop_t *self);

void sw_loop_test(bool verbose);

#endif
