/*  fuzz_http_framing - libFuzzer target for the gateway's own HTTP
    framing: the request-head checks of gw_front and the byte-stream
    judge of gw_recv

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The gateway judges the bytes of every connection before libmicrohttpd
    reads them (gw_front for a connection's first head, gw_recv for every
    later head and every chunked body). This target drives both with one
    input:
      byte 0: the size of each read (bits 0-3: 1, 2, 3, 5, 7, 16, 64,
              512, 4096 or 16384 bytes; the rest repeat the largest);
      then the bytes a client sends on one connection.
    First the head checks run on the input as one buffer (where its head
    ends, if it does). Then the input is written to one end of a
    socketpair, the other end is watched by a gw_recv_t, and it is read
    as libmicrohttpd would, with recv(fd, buf, len, 0) until the end of
    the stream; a read that would block ends a request (as an answer
    would) before the next. Every refusal of the heads it passed must
    carry a status and a message. Crashes, hangs, leaks and sanitizer
    reports are failures.
*/
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gw_classes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

//  Largest input: it must fit the socketpair's buffer in one write.
#define FUZZ_FRAMING_MAX 65536

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool quiet = false;
    if (!quiet) {
        cm_log_init("fuzz", "error");
        quiet = true;
    }
    if (size < 1 || size > FUZZ_FRAMING_MAX + 1) {
        return 0;
    }
    static const size_t reads[] = {1, 2, 3, 5, 7, 16, 64, 512, 4096, 16384};
    size_t step = reads[(data[0] & 15) < 10 ? (data[0] & 15) : 9];
    const char *in = (const char *)data + 1;
    size_t len = size - 1;

    //  The head checks on the whole input
    size_t end = gw_front_head_end(in, len);
    if (end) {
        char *method = NULL, *path = NULL, *message = NULL;
        gw_front_fields_t fields;
        int st = gw_front_check_head_fields(in, end, &method, &path, &message,
                                            &fields);
        assert(st == 0 || (st >= 400 && st <= 599 && message));
        free(method);
        free(path);
        free(message);
    }

    //  The stream judge, as libmicrohttpd reads
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0) {
        return 0;
    }
    int buf_size = 4 * FUZZ_FRAMING_MAX;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &buf_size, sizeof buf_size);
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &buf_size, sizeof buf_size);
    size_t off = 0;
    while (off < len) {
        ssize_t n = send(sv[0], in + off, len - off, MSG_NOSIGNAL);
        if (n <= 0) {
            break;
        }
        off += (size_t)n;
    }
    shutdown(sv[0], SHUT_WR);
    gw_recv_t *judge = gw_recv_new();
    if (gw_recv_attach(judge, sv[1]) == 0) {
        char *buf = malloc(step);
        //  Each round either reads bytes, ends, or ends a request: bound
        //  the rounds by what the input could need.
        size_t rounds = 4 * (len + 16);
        for (size_t i = 0; i < rounds; i++) {
            ssize_t n = recv(sv[1], buf, step, 0);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
                break;
            }
            if (n < 0) {
                gw_recv_request_done(judge);
            }
        }
        free(buf);
        unsigned heads = gw_recv_heads(judge);
        for (unsigned nth = 1; nth <= heads + 1; nth++) {
            const char *message = NULL, *method = NULL, *path = NULL;
            int st = gw_recv_refusal(judge, nth, &message, &method, &path);
            assert(st == 0 || (st >= 400 && st <= 599 && message));
        }
        gw_recv_detach(judge, sv[1]);
    }
    gw_recv_destroy(&judge);
    close(sv[0]);
    close(sv[1]);
    return 0;
}
