/*  sw_loop - the worker's single event loop: ZeroMQ sockets, raw file
    descriptors and timers

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"
#include <sys/epoll.h>

//  epoll and poll(2) share flag values on Linux; the API promises poll's.
_Static_assert(EPOLLIN == POLLIN && EPOLLOUT == POLLOUT &&
                   EPOLLERR == POLLERR && EPOLLHUP == POLLHUP,
               "epoll flags differ from poll flags");

//  Most descriptor events taken from epoll per round.
#define SW_LOOP_BATCH 256

//  A watched descriptor; the slot index is the descriptor number.
typedef struct {
    sw_loop_fd_fn *fn; //  callback, NULL when the slot is free
    void *arg;         //  its argument
    int events;        //  watched events
    uint32_t gen;      //  bumped on every add, tags epoll events
} s_fd_t;

//  A timer slot.
typedef struct {
    int64_t when;         //  monotonic ms when due
    sw_loop_timer_fn *fn; //  callback
    void *arg;            //  its argument
    int interval;         //  repeat period in ms, 0 for one-shot
    uint32_t gen;         //  bumped when the slot is reused
    int32_t heap_pos;     //  position in the heap, -1 when free
    uint32_t next_free;   //  free list link (slot index + 1, 0 = end)
} s_timer_t;

//  A watched ZeroMQ socket.
typedef struct {
    zsock_t *sock;       //  the socket, not owned
    sw_loop_sock_fn *fn; //  callback
    void *arg;           //  its argument
} s_sock_t;

struct _sw_loop_t {
    int epfd;                    //  epoll set of raw descriptors
    s_fd_t *fds;                 //  indexed by descriptor
    size_t fds_cap;              //  size of fds
    size_t fd_count;             //  descriptors watched
    s_timer_t *timers;           //  timer slots
    size_t timers_cap;           //  size of timers
    uint32_t timer_free;         //  first free slot + 1, 0 when none
    uint32_t *heap;              //  min-heap of slot indexes by `when`
    size_t heap_len;             //  timers pending
    s_sock_t *socks;             //  watched sockets
    size_t sock_count;           //  entries used in socks
    size_t sock_cap;             //  size of socks
    zmq_pollitem_t *items;       //  poll set scratch, sock_cap + 1
    s_sock_t *ready;             //  dispatch scratch, sock_cap
    sw_loop_prepare_fn *prepare; //  prepare hook or NULL
    void *prepare_arg;           //  its argument
    bool stopped;                //  sw_loop_stop was called
};

sw_loop_t *
sw_loop_new(void)
{
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) {
        cm_log_error("could not create epoll descriptor", "err=\"%s\"",
                     strerror(errno));
        return NULL;
    }
    sw_loop_t *self = cm_alloc(sizeof *self);
    self->epfd = epfd;
    return self;
}

void
sw_loop_destroy(sw_loop_t **self_p)
{
    assert(self_p);
    sw_loop_t *self = *self_p;
    if (!self) {
        return;
    }
    close(self->epfd);
    free(self->fds);
    free(self->timers);
    free(self->heap);
    free(self->socks);
    free(self->items);
    free(self->ready);
    free(self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------
//  Sockets

static ssize_t
s_sock_find(sw_loop_t *self, zsock_t *sock)
{
    for (size_t i = 0; i < self->sock_count; i++) {
        if (self->socks[i].sock == sock) {
            return (ssize_t)i;
        }
    }
    return -1;
}

int
sw_loop_sock_add(sw_loop_t *self, zsock_t *sock, sw_loop_sock_fn *fn, void *arg)
{
    assert(self && sock && fn);
    if (s_sock_find(self, sock) >= 0) {
        return -1;
    }
    if (self->sock_count == self->sock_cap) {
        self->sock_cap = self->sock_cap ? self->sock_cap * 2 : 4;
        self->socks =
            realloc(self->socks, self->sock_cap * sizeof *self->socks);
        self->items =
            realloc(self->items, (self->sock_cap + 1) * sizeof *self->items);
        self->ready =
            realloc(self->ready, self->sock_cap * sizeof *self->ready);
        assert(self->socks && self->items && self->ready);
    }
    self->socks[self->sock_count++] = (s_sock_t){sock, fn, arg};
    return 0;
}

void
sw_loop_sock_remove(sw_loop_t *self, zsock_t *sock)
{
    ssize_t i = s_sock_find(self, sock);
    if (i >= 0) {
        memmove(&self->socks[i], &self->socks[i + 1],
                (self->sock_count - (size_t)i - 1) * sizeof *self->socks);
        self->sock_count--;
    }
}

//  --------------------------------------------------------------------
//  Descriptors

static s_fd_t *
s_fd_slot(sw_loop_t *self, int fd)
{
    if (fd < 0 || (size_t)fd >= self->fds_cap || !self->fds[fd].fn) {
        return NULL;
    }
    return &self->fds[fd];
}

static int
s_epoll(sw_loop_t *self, int op, int fd, int events, uint32_t gen)
{
    struct epoll_event ev = {0};
    ev.events = (uint32_t)(events & (POLLIN | POLLOUT | POLLPRI));
    ev.data.u64 = ((uint64_t)gen << 32) | (uint32_t)fd;
    if (epoll_ctl(self->epfd, op, fd, &ev) != 0) {
        cm_log_warn("could not watch descriptor", "fd=%d err=\"%s\"", fd,
                    strerror(errno));
        return -1;
    }
    return 0;
}

int
sw_loop_fd_add(sw_loop_t *self, int fd, int events, sw_loop_fd_fn *fn,
               void *arg)
{
    assert(self && fn);
    if (fd < 0 || s_fd_slot(self, fd)) {
        return -1;
    }
    if ((size_t)fd >= self->fds_cap) {
        size_t cap = self->fds_cap ? self->fds_cap : 64;
        while (cap <= (size_t)fd) {
            cap *= 2;
        }
        self->fds = realloc(self->fds, cap * sizeof *self->fds);
        assert(self->fds);
        memset(self->fds + self->fds_cap, 0,
               (cap - self->fds_cap) * sizeof *self->fds);
        self->fds_cap = cap;
    }
    s_fd_t *slot = &self->fds[fd];
    uint32_t gen = slot->gen + 1;
    if (s_epoll(self, EPOLL_CTL_ADD, fd, events, gen) != 0) {
        return -1;
    }
    slot->gen = gen;
    slot->fn = fn;
    slot->arg = arg;
    slot->events = events;
    self->fd_count++;
    return 0;
}

int
sw_loop_fd_set_events(sw_loop_t *self, int fd, int events)
{
    s_fd_t *slot = s_fd_slot(self, fd);
    if (!slot) {
        return -1;
    }
    if (slot->events == events) {
        return 0;
    }
    if (s_epoll(self, EPOLL_CTL_MOD, fd, events, slot->gen) != 0) {
        return -1;
    }
    slot->events = events;
    return 0;
}

int
sw_loop_fd_events(sw_loop_t *self, int fd)
{
    s_fd_t *slot = s_fd_slot(self, fd);
    return slot ? slot->events : -1;
}

void
sw_loop_fd_remove(sw_loop_t *self, int fd)
{
    s_fd_t *slot = s_fd_slot(self, fd);
    if (!slot) {
        return;
    }
    //  Fails only if the owner closed fd first; epoll then dropped it.
    epoll_ctl(self->epfd, EPOLL_CTL_DEL, fd, NULL);
    slot->fn = NULL;
    slot->arg = NULL;
    slot->events = 0;
    self->fd_count--;
}

//  --------------------------------------------------------------------
//  Timers: a binary min-heap of slot indexes

static bool
s_earlier(sw_loop_t *self, uint32_t a, uint32_t b)
{
    return self->timers[a].when < self->timers[b].when;
}

static void
s_heap_set(sw_loop_t *self, size_t pos, uint32_t slot)
{
    self->heap[pos] = slot;
    self->timers[slot].heap_pos = (int32_t)pos;
}

static void
s_sift_up(sw_loop_t *self, size_t pos)
{
    uint32_t slot = self->heap[pos];
    while (pos > 0) {
        size_t parent = (pos - 1) / 2;
        if (!s_earlier(self, slot, self->heap[parent])) {
            break;
        }
        s_heap_set(self, pos, self->heap[parent]);
        pos = parent;
    }
    s_heap_set(self, pos, slot);
}

static void
s_sift_down(sw_loop_t *self, size_t pos)
{
    uint32_t slot = self->heap[pos];
    while (true) {
        size_t child = 2 * pos + 1;
        if (child >= self->heap_len) {
            break;
        }
        if (child + 1 < self->heap_len &&
            s_earlier(self, self->heap[child + 1], self->heap[child])) {
            child++;
        }
        if (!s_earlier(self, self->heap[child], slot)) {
            break;
        }
        s_heap_set(self, pos, self->heap[child]);
        pos = child;
    }
    s_heap_set(self, pos, slot);
}

static void
s_heap_push(sw_loop_t *self, uint32_t slot)
{
    s_heap_set(self, self->heap_len++, slot);
    s_sift_up(self, self->heap_len - 1);
}

static void
s_heap_remove(sw_loop_t *self, size_t pos)
{
    uint32_t gone = self->heap[pos];
    self->timers[gone].heap_pos = -1;
    self->heap_len--;
    if (pos == self->heap_len) {
        return;
    }
    s_heap_set(self, pos, self->heap[self->heap_len]);
    if (pos > 0 &&
        s_earlier(self, self->heap[pos], self->heap[(pos - 1) / 2])) {
        s_sift_up(self, pos);
    } else {
        s_sift_down(self, pos);
    }
}

static void
s_timer_free(sw_loop_t *self, uint32_t slot)
{
    s_timer_t *t = &self->timers[slot];
    t->fn = NULL;
    t->arg = NULL;
    t->gen++;
    t->next_free = self->timer_free;
    self->timer_free = slot + 1;
}

uint64_t
sw_loop_timer_add(sw_loop_t *self, int delay_ms, bool repeat,
                  sw_loop_timer_fn *fn, void *arg)
{
    assert(self && fn && delay_ms >= 0);
    assert(!repeat || delay_ms > 0);
    if (!self->timer_free) {
        size_t old = self->timers_cap;
        size_t cap = old ? old * 2 : 64;
        assert(cap < UINT32_MAX);
        self->timers = realloc(self->timers, cap * sizeof *self->timers);
        self->heap = realloc(self->heap, cap * sizeof *self->heap);
        assert(self->timers && self->heap);
        //  Chain the new slots into the free list, lowest index first.
        for (size_t i = cap; i > old; i--) {
            s_timer_t *t = &self->timers[i - 1];
            memset(t, 0, sizeof *t);
            t->heap_pos = -1;
            t->next_free = self->timer_free;
            self->timer_free = (uint32_t)i;
        }
        self->timers_cap = cap;
    }
    uint32_t slot = self->timer_free - 1;
    s_timer_t *t = &self->timers[slot];
    self->timer_free = t->next_free;
    t->next_free = 0;
    t->when = cm_mono_ms() + delay_ms;
    t->interval = repeat ? delay_ms : 0;
    t->fn = fn;
    t->arg = arg;
    s_heap_push(self, slot);
    return ((uint64_t)t->gen << 32) | (uint64_t)(slot + 1);
}

//  Slot of a live timer id, or -1.
static int64_t
s_timer_lookup(sw_loop_t *self, uint64_t timer_id)
{
    uint32_t index = (uint32_t)(timer_id & 0xffffffffu);
    uint32_t gen = (uint32_t)(timer_id >> 32);
    if (index == 0 || index > self->timers_cap) {
        return -1;
    }
    s_timer_t *t = &self->timers[index - 1];
    if (t->gen != gen || !t->fn || t->heap_pos < 0) {
        return -1;
    }
    return (int64_t)index - 1;
}

int
sw_loop_timer_cancel(sw_loop_t *self, uint64_t timer_id)
{
    int64_t slot = s_timer_lookup(self, timer_id);
    if (slot < 0) {
        return -1;
    }
    s_heap_remove(self, (size_t)self->timers[slot].heap_pos);
    s_timer_free(self, (uint32_t)slot);
    return 0;
}

int
sw_loop_next_timer(sw_loop_t *self)
{
    if (self->heap_len == 0) {
        return -1;
    }
    int64_t left = self->timers[self->heap[0]].when - cm_mono_ms();
    if (left < 0) {
        return 0;
    }
    return left > INT_MAX ? INT_MAX : (int)left;
}

//  Run timers that are due. A timer added by a callback runs at the
//  earliest in the next round, so a zero-delay timer cannot starve I/O.
static int
s_run_timers(sw_loop_t *self)
{
    int ran = 0;
    int64_t now = cm_mono_ms();
    size_t budget = self->heap_len;
    while (budget-- > 0 && self->heap_len > 0) {
        uint32_t slot = self->heap[0];
        s_timer_t *t = &self->timers[slot];
        if (t->when > now) {
            break;
        }
        sw_loop_timer_fn *fn = t->fn;
        void *arg = t->arg;
        uint64_t id = ((uint64_t)t->gen << 32) | (uint64_t)(slot + 1);
        if (t->interval > 0) {
            t->when += t->interval;
            if (t->when <= now) {
                t->when = now + t->interval; //  do not replay missed ticks
            }
            s_sift_down(self, 0);
        } else {
            s_heap_remove(self, 0);
            s_timer_free(self, slot);
        }
        fn(self, id, arg);
        ran++;
    }
    return ran;
}

//  --------------------------------------------------------------------
//  Dispatch

void
sw_loop_set_prepare(sw_loop_t *self, sw_loop_prepare_fn *fn, void *arg)
{
    self->prepare = fn;
    self->prepare_arg = arg;
}

static int
s_min_timeout(int a, int b)
{
    if (a < 0) {
        return b;
    }
    if (b < 0) {
        return a;
    }
    return a < b ? a : b;
}

static int
s_run_fds(sw_loop_t *self)
{
    struct epoll_event evs[SW_LOOP_BATCH];
    int n = epoll_wait(self->epfd, evs, SW_LOOP_BATCH, 0);
    int ran = 0;
    for (int i = 0; i < n; i++) {
        int fd = (int)(evs[i].data.u64 & 0xffffffffu);
        uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
        s_fd_t *slot = s_fd_slot(self, fd);
        //  Skip descriptors removed (or replaced) earlier in this round.
        if (!slot || slot->gen != gen) {
            continue;
        }
        int revents = (int)evs[i].events &
                      (POLLIN | POLLOUT | POLLPRI | POLLERR | POLLHUP);
        slot->fn(self, fd, revents, slot->arg);
        ran++;
    }
    return ran;
}

int
sw_loop_once(sw_loop_t *self, int max_wait_ms)
{
    int timeout = s_min_timeout(max_wait_ms, sw_loop_next_timer(self));
    if (self->prepare) {
        timeout =
            s_min_timeout(timeout, self->prepare(self, self->prepare_arg));
    }
    size_t nsocks = self->sock_count;
    for (size_t i = 0; i < nsocks; i++) {
        self->items[i] = (zmq_pollitem_t){zsock_resolve(self->socks[i].sock), 0,
                                          ZMQ_POLLIN, 0};
    }
    if (!self->items) {
        self->items = cm_alloc(sizeof *self->items);
    }
    self->items[nsocks] = (zmq_pollitem_t){NULL, self->epfd, ZMQ_POLLIN, 0};
    int rc = zmq_poll(self->items, (int)nsocks + 1, timeout);
    if (rc < 0) {
        if (zmq_errno() != EINTR) {
            cm_log_error("could not poll", "err=\"%s\"",
                         zmq_strerror(zmq_errno()));
        }
        return -1;
    }
    //  Sockets: take a snapshot, then check each is still registered
    //  before its callback (an earlier callback may have removed it).
    size_t nready = 0;
    for (size_t i = 0; i < nsocks; i++) {
        if (self->items[i].revents & ZMQ_POLLIN) {
            self->ready[nready++] = self->socks[i];
        }
    }
    bool fds_ready = (self->items[nsocks].revents & ZMQ_POLLIN) != 0;
    for (size_t i = 0; i < nready; i++) {
        s_sock_t entry = self->ready[i];
        ssize_t at = s_sock_find(self, entry.sock);
        if (at >= 0 && self->socks[at].fn == entry.fn &&
            self->socks[at].arg == entry.arg) {
            entry.fn(self, entry.sock, entry.arg);
        }
    }
    if (fds_ready) {
        s_run_fds(self);
    }
    s_run_timers(self);
    return 0;
}

int
sw_loop_run(sw_loop_t *self)
{
    self->stopped = false;
    while (!self->stopped) {
        sw_loop_once(self, -1);
    }
    return 0;
}

void
sw_loop_stop(sw_loop_t *self)
{
    self->stopped = true;
}

size_t
sw_loop_fd_count(sw_loop_t *self)
{
    return self->fd_count;
}

size_t
sw_loop_timer_count(sw_loop_t *self)
{
    return self->heap_len;
}

//  --------------------------------------------------------------------
//  Self test

typedef struct {
    int fired[16];    //  order in which timers 0..15 fired
    int count;        //  timers fired
    uint64_t ids[16]; //  timer ids
    int ticks;        //  repeating timer ticks
    int fd_calls;     //  descriptor callbacks
    int last_revents; //  last descriptor revents
    int sock_msgs;    //  socket messages read
    int other_fd;     //  descriptor to remove from a callback
    sw_loop_t *loop;  //  the loop under test
} s_test_t;

static void
s_test_order(sw_loop_t *loop, uint64_t id, void *arg)
{
    s_test_t *t = (s_test_t *)arg;
    for (int i = 0; i < 16; i++) {
        if (t->ids[i] == id) {
            t->fired[t->count++] = i;
        }
    }
}

static void
s_test_tick(sw_loop_t *loop, uint64_t id, void *arg)
{
    s_test_t *t = (s_test_t *)arg;
    if (++t->ticks == 3) {
        assert(sw_loop_timer_cancel(loop, id) == 0);
        sw_loop_stop(loop);
    }
}

static void
s_test_fd(sw_loop_t *loop, int fd, int revents, void *arg)
{
    s_test_t *t = (s_test_t *)arg;
    t->fd_calls++;
    t->last_revents = revents;
    if (revents & POLLIN) {
        char buf[16];
        ssize_t n = read(fd, buf, sizeof buf);
        assert(n >= 0);
    }
    if (t->other_fd >= 0) {
        sw_loop_fd_remove(loop, t->other_fd);
        t->other_fd = -1;
    }
}

static void
s_test_sock(sw_loop_t *loop, zsock_t *sock, void *arg)
{
    s_test_t *t = (s_test_t *)arg;
    char *s = zstr_recv(sock);
    assert(s);
    zstr_free(&s);
    t->sock_msgs++;
    sw_loop_sock_remove(loop, sock);
}

static int
s_test_prepare(sw_loop_t *loop, void *arg)
{
    int *calls = (int *)arg;
    (*calls)++;
    return 5;
}

static void
s_test_noop(sw_loop_t *loop, uint64_t id, void *arg)
{
    (*(int *)arg)++;
}

static void
s_test_again(sw_loop_t *loop, uint64_t id, void *arg)
{
    int *count = (int *)arg;
    if (++*count < 100) {
        sw_loop_timer_add(loop, 0, false, s_test_again, arg);
    }
}

void
sw_loop_test(bool verbose)
{
    printf(" * sw_loop: ");
    sw_loop_t *loop = sw_loop_new();
    assert(loop);
    s_test_t t;
    memset(&t, 0, sizeof t);
    t.other_fd = -1;

    //  Timers fire in deadline order; a cancelled one never fires
    int delays[5] = {30, 10, 20, 0, 40};
    for (int i = 0; i < 5; i++) {
        t.ids[i] = sw_loop_timer_add(loop, delays[i], false, s_test_order, &t);
        assert(t.ids[i]);
    }
    assert(sw_loop_timer_count(loop) == 5);
    assert(sw_loop_timer_cancel(loop, t.ids[4]) == 0);
    assert(sw_loop_timer_cancel(loop, t.ids[4]) == -1);
    assert(sw_loop_timer_cancel(loop, 0) == -1);
    assert(sw_loop_timer_cancel(loop, 12345) == -1);
    int64_t until = cm_mono_ms() + 2000;
    while (t.count < 4 && cm_mono_ms() < until) {
        sw_loop_once(loop, 100);
    }
    assert(t.count == 4);
    assert(t.fired[0] == 3 && t.fired[1] == 1 && t.fired[2] == 2 &&
           t.fired[3] == 0);
    assert(sw_loop_timer_count(loop) == 0);
    assert(sw_loop_next_timer(loop) == -1);
    //  A fired one-shot id is dead even when its slot is reused
    uint64_t reused = sw_loop_timer_add(loop, 1000, false, s_test_order, &t);
    assert(sw_loop_timer_cancel(loop, t.ids[3]) == -1);
    assert(sw_loop_timer_cancel(loop, reused) == 0);

    //  Repeating timer cancelled from its own callback; sw_loop_run
    int64_t start = cm_mono_ms();
    sw_loop_timer_add(loop, 10, true, s_test_tick, &t);
    sw_loop_run(loop);
    assert(t.ticks == 3);
    assert(cm_mono_ms() - start >= 30);
    assert(sw_loop_timer_count(loop) == 0);

    //  Heap stays consistent under many random adds and cancels
    uint64_t ids[500];
    for (int i = 0; i < 500; i++) {
        uint32_t r;
        cm_random(&r, sizeof r);
        ids[i] = sw_loop_timer_add(loop, 1000 + (int)(r % 5000), false,
                                   s_test_order, &t);
    }
    for (int i = 0; i < 500; i += 3) {
        assert(sw_loop_timer_cancel(loop, ids[i]) == 0);
    }
    assert(sw_loop_timer_count(loop) == 500 - 167);
    int64_t prev = 0;
    while (loop->heap_len > 0) {
        int64_t when = loop->timers[loop->heap[0]].when;
        assert(when >= prev);
        prev = when;
        s_heap_remove(loop, 0);
    }
    //  (slots are leaked into nowhere here; the loop frees the array)

    //  Descriptors: readable pipe, writable pipe, error on a closed peer
    int p1[2], p2[2];
    assert(pipe(p1) == 0 && pipe(p2) == 0);
    assert(sw_loop_fd_add(loop, p1[0], POLLIN, s_test_fd, &t) == 0);
    assert(sw_loop_fd_add(loop, p1[0], POLLIN, s_test_fd, &t) == -1);
    assert(sw_loop_fd_add(loop, -1, POLLIN, s_test_fd, &t) == -1);
    assert(sw_loop_fd_events(loop, p1[0]) == POLLIN);
    assert(sw_loop_fd_count(loop) == 1);
    sw_loop_once(loop, 20);
    assert(t.fd_calls == 0);
    assert(write(p1[1], "x", 1) == 1);
    sw_loop_once(loop, 1000);
    assert(t.fd_calls == 1 && (t.last_revents & POLLIN));
    sw_loop_once(loop, 20);
    assert(t.fd_calls == 1); //  drained: level-triggered, no repeat

    //  POLLOUT watched on the write end, switched off again
    assert(sw_loop_fd_add(loop, p2[1], POLLOUT, s_test_fd, &t) == 0);
    sw_loop_once(loop, 1000);
    assert(t.fd_calls == 2 && (t.last_revents & POLLOUT));
    assert(sw_loop_fd_set_events(loop, p2[1], 0) == 0);
    assert(sw_loop_fd_set_events(loop, 999, 0) == -1);
    sw_loop_once(loop, 20);
    assert(t.fd_calls == 2);

    //  Closing the read end makes the write end report POLLERR
    close(p2[0]);
    sw_loop_once(loop, 1000);
    assert(t.fd_calls == 3 && (t.last_revents & POLLERR));
    sw_loop_fd_remove(loop, p2[1]);
    sw_loop_fd_remove(loop, p2[1]);
    close(p2[1]);

    //  Removing a ready descriptor from another's callback: no call
    assert(pipe(p2) == 0);
    assert(sw_loop_fd_add(loop, p2[0], POLLIN, s_test_fd, &t) == 0);
    assert(write(p1[1], "y", 1) == 1);
    assert(write(p2[1], "z", 1) == 1);
    t.other_fd = p1[0]; //  whichever runs first removes p1[0]
    t.fd_calls = 0;
    sw_loop_once(loop, 1000);
    assert(t.fd_calls == 1 || (t.fd_calls == 2 && t.other_fd == -1));
    //  If p2[0] ran first it removed p1[0] ("y" unread); if p1[0] ran
    //  first it removed itself and p2[0] ran as well.
    sw_loop_fd_remove(loop, p1[0]);
    sw_loop_fd_remove(loop, p2[0]);
    assert(sw_loop_fd_count(loop) == 0);
    close(p1[0]);
    close(p1[1]);
    close(p2[0]);
    close(p2[1]);

    //  ZeroMQ sockets and the prepare hook
    zsock_t *rx = zsock_new_pair("@inproc://sw_loop_test");
    zsock_t *tx = zsock_new_pair(">inproc://sw_loop_test");
    assert(rx && tx);
    assert(sw_loop_sock_add(loop, rx, s_test_sock, &t) == 0);
    assert(sw_loop_sock_add(loop, rx, s_test_sock, &t) == -1);
    int prepared = 0;
    sw_loop_set_prepare(loop, s_test_prepare, &prepared);
    int64_t t0 = cm_mono_ms();
    sw_loop_once(loop, -1); //  the hook bounds the wait to 5 ms
    assert(prepared == 1 && cm_mono_ms() - t0 < 1000);
    zstr_send(tx, "hello");
    zstr_send(tx, "again");
    until = cm_mono_ms() + 2000;
    while (t.sock_msgs == 0 && cm_mono_ms() < until) {
        sw_loop_once(loop, 100);
    }
    assert(t.sock_msgs == 1);
    sw_loop_once(loop, 20); //  removed in its callback: not called again
    assert(t.sock_msgs == 1);
    sw_loop_set_prepare(loop, NULL, NULL);
    zsock_destroy(&tx);
    zsock_destroy(&rx);

    //  A zero-delay timer runs in the next round; one that re-adds itself
    //  from its callback runs once per round, so it cannot starve I/O
    int noops = 0;
    sw_loop_timer_add(loop, 0, false, s_test_noop, &noops);
    sw_loop_once(loop, 0);
    assert(noops == 1);
    int again = 0;
    sw_loop_timer_add(loop, 0, false, s_test_again, &again);
    sw_loop_once(loop, 0);
    assert(again == 1);
    sw_loop_once(loop, 0);
    assert(again == 2);
    again = 100; //  stop re-adding
    sw_loop_once(loop, 0);
    assert(sw_loop_timer_count(loop) == 0);

    sw_loop_destroy(&loop);
    sw_loop_destroy(&loop);
    printf("OK\n");
}
