/*  bench_nodes - binary node encode/decode throughput

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Three typical stanzas: an outgoing 1:1 message with an <enc> child, a
    read receipt for a batch of messages, and a usync result listing the
    devices of several users. For each: nodes per second and MB/s (of
    frame bytes) for wa_binary_encode and wa_binary_decode, plus the text
    printer. Usage: bench_nodes [seconds per figure, default 1]
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cm/cm.h"
#include "wa/wa_binary.h"
#include "wa/wa_node.h"

static double
s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static wa_node_t *
s_message(void)
{
    wa_node_t *msg = wa_node_new("message");
    wa_node_set_attr(msg, "id", "3EB0C431D5B7A2F9E1046B");
    wa_node_set_attr(msg, "to", "15551234567@s.whatsapp.net");
    wa_node_set_attr(msg, "type", "text");
    wa_node_set_attr(msg, "t", "1700000000");
    wa_node_t *enc = wa_node_add(msg, "enc");
    wa_node_set_attr(enc, "v", "2");
    wa_node_set_attr(enc, "type", "msg");
    uint8_t body[180];
    for (size_t i = 0; i < sizeof body; i++) {
        body[i] = (uint8_t)(i * 37 + 11);
    }
    wa_node_set_bytes(enc, body, sizeof body);
    return msg;
}

static wa_node_t *
s_receipt(void)
{
    wa_node_t *receipt = wa_node_new("receipt");
    wa_node_set_attr(receipt, "id", "3EB0C431D5B7A2F9E1046B");
    wa_node_set_attr(receipt, "to", "120363012345678901@g.us");
    wa_node_set_attr(receipt, "participant", "15551234567:3@s.whatsapp.net");
    wa_node_set_attr(receipt, "type", "read");
    wa_node_set_attr(receipt, "t", "1700000123");
    wa_node_t *list = wa_node_add(receipt, "list");
    for (int i = 0; i < 8; i++) {
        wa_node_set_attrf(wa_node_add(list, "item"), "id",
                          "3EB0C431D5B7A2F9E10%03d", i);
    }
    return receipt;
}

static wa_node_t *
s_usync(void)
{
    wa_node_t *iq = wa_node_new("iq");
    wa_node_set_attr(iq, "from", "@s.whatsapp.net");
    wa_node_set_attr(iq, "id", "71.231-4");
    wa_node_set_attr(iq, "type", "result");
    wa_node_t *usync = wa_node_add(iq, "usync");
    wa_node_set_attr(usync, "sid", "sync_sid_query_1700000000");
    wa_node_set_attr(usync, "mode", "query");
    wa_node_set_attr(usync, "context", "message");
    wa_node_t *list = wa_node_add(usync, "list");
    for (int u = 0; u < 10; u++) {
        wa_node_t *user = wa_node_add(list, "user");
        wa_node_set_attrf(user, "jid", "1555123%04d@s.whatsapp.net", u);
        wa_node_t *devices =
            wa_node_add(wa_node_add(user, "devices"), "device-list");
        for (int d = 0; d < 4; d++) {
            wa_node_t *device = wa_node_add(devices, "device");
            wa_node_set_attr_int(device, "id", d == 0 ? 0 : 10 + d);
            if (d) {
                wa_node_set_attr_int(device, "key-index", d);
            }
        }
        wa_node_set_attr(wa_node_add(user, "lid"), "val",
                         "123456789012345@lid");
    }
    return iq;
}

static void
s_bench(const char *name, wa_node_t *node, double seconds)
{
    uint8_t *frame;
    size_t len;
    assert(wa_binary_encode(node, &frame, &len, NULL) == 0);

    long count = 0;
    double start = s_now();
    double elapsed;
    do {
        for (int i = 0; i < 1000; i++) {
            uint8_t *out;
            size_t out_len;
            assert(wa_binary_encode(node, &out, &out_len, NULL) == 0);
            free(out);
        }
        count += 1000;
        elapsed = s_now() - start;
    } while (elapsed < seconds);
    double enc_rate = (double)count / elapsed;

    count = 0;
    start = s_now();
    do {
        for (int i = 0; i < 1000; i++) {
            wa_node_t *back = wa_binary_decode(frame, len, NULL, NULL);
            assert(back);
            wa_node_destroy(&back);
        }
        count += 1000;
        elapsed = s_now() - start;
    } while (elapsed < seconds);
    double dec_rate = (double)count / elapsed;

    count = 0;
    start = s_now();
    do {
        for (int i = 0; i < 100; i++) {
            free(wa_node_text(node, 0));
        }
        count += 100;
        elapsed = s_now() - start;
    } while (elapsed < seconds);
    double text_rate = (double)count / elapsed;

    printf("| %-14s | %5zu | %10.0f | %8.1f | %10.0f | %8.1f | %9.0f |\n", name,
           len, enc_rate, enc_rate * (double)len / 1e6, dec_rate,
           dec_rate * (double)len / 1e6, text_rate);
    free(frame);
}

int
main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 1.0;
    if (seconds <= 0 || seconds > 60) {
        fprintf(stderr, "usage: bench_nodes [seconds per figure, 0-60]\n");
        return 2;
    }
    printf("| stanza         | bytes | encode/s   | enc MB/s | decode/s   | "
           "dec MB/s | text/s    |\n");
    printf("|----------------|------:|-----------:|---------:|-----------:|"
           "---------:|----------:|\n");
    wa_node_t *nodes[] = {s_message(), s_receipt(), s_usync()};
    const char *names[] = {"message+enc", "receipt+list", "usync devices"};
    for (size_t i = 0; i < 3; i++) {
        s_bench(names[i], nodes[i], seconds);
        wa_node_destroy(&nodes[i]);
    }
    return 0;
}
