/*  wa-node - decode and encode WhatsApp binary nodes from the shell

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    wa-node decode   hex frame payload on stdin -> XML-like text on stdout
    wa-node encode   XML-like text on stdin -> hex frame payload on stdout
    See --help for the options and the text format.
*/
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"
#include "wa/wa_binary.h"
#include "wa/wa_node.h"

#define S_EXIT_USAGE 64
//  Largest stdin accepted (hex of a 16 MiB frame plus whitespace)
#define S_INPUT_MAX (40u << 20)

static const char s_help[] =
    "usage: wa-node decode [--raw] [--max-bytes N] < hex\n"
    "       wa-node encode [--raw] < text\n"
    "\n"
    "decode  reads a WhatsApp binary node in hex (whitespace and a leading\n"
    "        0x ignored) and prints it as XML-like text. The input starts\n"
    "        with the frame flag byte (00 plain, 02 zlib-compressed).\n"
    "encode  reads the XML-like text and prints the frame in lower-case\n"
    "        hex, flag byte 00 first.\n"
    "\n"
    "options:\n"
    "  --raw          no flag byte on input (decode) or output (encode)\n"
    "  --max-bytes N  decode: cut attribute values and content longer than\n"
    "                 N bytes (the output then no longer encodes)\n"
    "  -h, --help     this text\n"
    "\n"
    "text format (one element, children indented by two spaces):\n"
    "  <iq id=\"1.2-3\" to=\"@s.whatsapp.net\" type=\"get\" xmlns=\"w:p\">\n"
    "    <ping/>\n"
    "  </iq>\n"
    "  <t/>              no content\n"
    "  <t></t>           an empty child list\n"
    "  <t>text</t>       bytes content that is printable UTF-8\n"
    "  <t>0x0a0b</t>     bytes content in hex (non-printable bytes)\n"
    "  <t>\"text\"</t>     string content (a token, packed string or JID on\n"
    "                    the wire)\n"
    "  escapes: &amp; &lt; &gt; &quot; &apos; and &#xHH; (one raw byte)\n"
    "  Attribute values holding a JID (user@server on a known server) are\n"
    "  encoded as JIDs; attribute order is kept.\n"
    "\n"
    "exit status: 0 ok, 1 bad input (reason on stderr), 64 usage error\n";

//  Read all of stdin; NULL when larger than S_INPUT_MAX
static char *
s_read_stdin(size_t *len_p)
{
    size_t cap = 4096;
    size_t len = 0;
    char *data = cm_alloc(cap);
    while (true) {
        if (len + 1 >= cap) {
            if (cap >= S_INPUT_MAX) {
                free(data);
                return NULL;
            }
            cap *= 2;
            char *grown = realloc(data, cap);
            if (!grown) {
                fprintf(stderr, "wa-node: out of memory\n");
                exit(1);
            }
            data = grown;
        }
        size_t n = fread(data + len, 1, cap - len - 1, stdin);
        len += n;
        if (n == 0) {
            break;
        }
    }
    data[len] = 0;
    *len_p = len;
    return data;
}

static int
s_decode(bool raw, size_t max_bytes)
{
    size_t len;
    char *text = s_read_stdin(&len);
    if (!text) {
        fprintf(stderr, "wa-node: could not read input: too large\n");
        return 1;
    }
    uint8_t *bytes = cm_alloc(len / 2 + 1);
    size_t n = 0;
    int high = -1;
    const char *p = text;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
        p++;
    }
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        p += 2;
    }
    for (; *p; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            continue;
        }
        int digit = cm_hex_digit(*p);
        if (digit < 0) {
            fprintf(stderr,
                    "wa-node: could not read input: bad hex digit "
                    "'%c'\n",
                    *p);
            free(bytes);
            free(text);
            return 1;
        }
        if (high < 0) {
            high = digit;
        } else {
            bytes[n++] = (uint8_t)(high << 4 | digit);
            high = -1;
        }
    }
    free(text);
    if (high >= 0) {
        fprintf(stderr, "wa-node: could not read input: odd number of hex "
                        "digits\n");
        free(bytes);
        return 1;
    }
    const char *reason = NULL;
    wa_node_t *node = raw ? wa_binary_decode_node(bytes, n, NULL, &reason)
                          : wa_binary_decode(bytes, n, NULL, &reason);
    free(bytes);
    if (!node) {
        fprintf(stderr, "wa-node: could not decode node: %s\n", reason);
        return 1;
    }
    int rc = wa_node_print(node, stdout, max_bytes) == 0 ? 0 : 1;
    wa_node_destroy(&node);
    return rc;
}

static int
s_encode(bool raw)
{
    size_t len;
    char *text = s_read_stdin(&len);
    if (!text) {
        fprintf(stderr, "wa-node: could not read input: too large\n");
        return 1;
    }
    if (strlen(text) != len) {
        fprintf(stderr, "wa-node: could not read input: NUL byte in text\n");
        free(text);
        return 1;
    }
    char *error = NULL;
    wa_node_t *node = wa_node_new_from_text(text, &error);
    free(text);
    if (!node) {
        fprintf(stderr, "wa-node: could not parse text: %s\n", error);
        free(error);
        return 1;
    }
    uint8_t *out;
    size_t out_len;
    const char *reason = NULL;
    int rc = raw ? wa_binary_encode_node(node, &out, &out_len, &reason)
                 : wa_binary_encode(node, &out, &out_len, &reason);
    wa_node_destroy(&node);
    if (rc < 0) {
        fprintf(stderr, "wa-node: could not encode node: %s\n", reason);
        return 1;
    }
    char *hex = cm_alloc(2 * out_len + 1);
    cm_hex(out, out_len, hex);
    rc = printf("%s\n", hex) < 0 ? 1 : 0;
    free(hex);
    free(out);
    return rc;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(s_help, stderr);
        return S_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(s_help, stdout);
        return 0;
    }
    bool decode = strcmp(argv[1], "decode") == 0;
    if (!decode && strcmp(argv[1], "encode") != 0) {
        fprintf(stderr, "wa-node: unrecognized command \"%s\" (try --help)\n",
                argv[1]);
        return S_EXIT_USAGE;
    }
    bool raw = false;
    size_t max_bytes = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--raw") == 0) {
            raw = true;
        } else if (strcmp(argv[i], "--max-bytes") == 0 && decode &&
                   i + 1 < argc) {
            char *end;
            long long value = strtoll(argv[++i], &end, 10);
            if (*end || value < 0 || argv[i][0] == 0) {
                fprintf(stderr, "wa-node: invalid --max-bytes \"%s\"\n",
                        argv[i]);
                return S_EXIT_USAGE;
            }
            max_bytes = (size_t)value;
        } else if (strcmp(argv[i], "-h") == 0 ||
                   strcmp(argv[i], "--help") == 0) {
            fputs(s_help, stdout);
            return 0;
        } else {
            fprintf(stderr,
                    "wa-node: unrecognized option \"%s\" (try "
                    "--help)\n",
                    argv[i]);
            return S_EXIT_USAGE;
        }
    }
    return decode ? s_decode(raw, max_bytes) : s_encode(raw);
}
