/*  session-worker - runs WhatsApp sessions under leases from the store

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Parses configuration, builds the loop, the engine and the worker,
    runs until SIGTERM or SIGINT, then releases every lease (so another
    worker takes the sessions over at once) and exits 0. A second signal
    exits at once. Started with SIGINT ignored, it keeps ignoring it.
*/
#include "sw_classes.h"
#include "wa/wa_crypto.h"

static void
s_on_signal(sw_loop_t *loop, int fd, int revents, void *arg)
{
    sw_worker_t *worker = (sw_worker_t *)arg;
    struct signalfd_siginfo info;
    while (read(fd, &info, sizeof info) == (ssize_t)sizeof info) {
        if (sw_worker_finished(worker)) {
            continue;
        }
        static_assert(sizeof info.ssi_signo == 4, "ssi_signo size");
        if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT) {
            cm_log_info("received signal", "signal=%u", info.ssi_signo);
            sw_worker_shutdown(worker);
        }
    }
}

int
main(void)
{
    //  Started with SIGINT ignored (scripts/run.sh does so): a terminal's
    //  Ctrl-C is for run.sh, which stops us with SIGTERM while the store
    //  still runs. Linux keeps a blocked signal pending even when it is
    //  ignored, so SIGINT then stays out of the signalfd mask.
    bool sigint_ignored = cm_signal_ignored(SIGINT);
    sw_config_t *config = sw_config_new();
    cm_log_init("worker", sw_config_log_level(config));
    //  Signals arrive through a descriptor on the loop. Block them before
    //  libzmq starts its threads, so every thread inherits the mask, and
    //  keep czmq's own handler out of the way.
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    if (!sigint_ignored) {
        sigaddset(&mask, SIGINT);
    }
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    zsys_handler_set(NULL);
    zsys_init();
    if (sigint_ignored) {
        signal(SIGINT, SIG_IGN);
    }
    int sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    sw_loop_t *loop = sw_loop_new();
    if (sigfd < 0 || !loop) {
        cm_log_error("could not set up the event loop", "err=\"%s\"",
                     strerror(errno));
        return 1;
    }
    //  OpenSSL's first fetch of each algorithm, before the engine's threads
    if (wa_crypto_warmup() != 0) {
        cm_log_warn("OpenSSL warm-up failed");
    }
    sw_engine_t *engine = sw_wa_new(config);
    if (!engine) {
        cm_log_error("could not start the WebSocket loop");
        sw_loop_destroy(&loop);
        close(sigfd);
        sw_config_destroy(&config);
        zsys_shutdown();
        return 1;
    }
    sw_worker_t *worker = sw_worker_new(config, loop, &engine);
    if (!worker) {
        sw_engine_destroy(&engine);
        sw_loop_destroy(&loop);
        close(sigfd);
        sw_config_destroy(&config);
        zsys_shutdown();
        return CM_EX_CONFIG;
    }
    sw_loop_fd_add(loop, sigfd, POLLIN, s_on_signal, worker);
    sw_worker_start(worker);
    sw_loop_run(loop);
    cm_log_info("stopped");
    sw_loop_fd_remove(loop, sigfd);
    close(sigfd);
    sw_worker_destroy(&worker);
    sw_loop_destroy(&loop);
    sw_config_destroy(&config);
    zsys_shutdown();
    return 0;
}
