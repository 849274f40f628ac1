/*  interop_nodes - our side of the binary node cross-check with Baileys

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    interop_nodes gen SEED COUNT
        Print COUNT random nodes, one JSON object per line:
        {"tree": T, "hex": our frame encoding, "bl": Baileys can encode T
        faithfully, "same": Baileys' bytes must equal ours}. T is
        {"tag", "attrs": [[k, v]...], "content"?: [T...] | {"hex"} |
        {"string"}}, the shape of tests/vectors/wa/binary-nodes.json.
    interop_nodes check
        Read lines {"tree": T, "hex": H} (H from Baileys' encoder) and
        check that our decoder turns H into T. Exit 1 on any mismatch.

    Baileys keeps attributes in a JS object and treats any string with
    '@' as a JID, so trees for it avoid integer-like keys (JS reorders
    them) and JID forms it renders differently (msgr, interop); those
    appear only in trees marked "bl": false.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cm/cm.h"
#include "wa/wa_binary.h"
#include "wa/wa_node.h"
#include "wa/wa_token.h"

typedef struct {
    uint64_t state; //  xorshift64* state, never 0
    bool bl;        //  Baileys can encode the tree faithfully
    bool same;      //  Baileys' bytes equal ours
} s_gen_t;

static uint64_t
s_rand(s_gen_t *gen)
{
    gen->state ^= gen->state >> 12;
    gen->state ^= gen->state << 25;
    gen->state ^= gen->state >> 27;
    return gen->state * 0x2545F4914F6CDD1DULL;
}

static size_t
s_below(s_gen_t *gen, size_t n)
{
    return (size_t)(s_rand(gen) % n);
}

static bool
s_integer_like(const char *s)
{
    if (!*s || (s[0] == '0' && s[1])) {
        return false;
    }
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') {
            return false;
        }
    }
    return true;
}

static const char *
s_token(s_gen_t *gen)
{
    if (s_below(gen, 2)) {
        return wa_token_single(1 + (unsigned)s_below(gen, 235));
    }
    return wa_token_double((unsigned)s_below(gen, 4),
                           (unsigned)s_below(gen, 256));
}

static char *
s_word(s_gen_t *gen, size_t len, const char *alphabet)
{
    char *word = cm_alloc(len + 1);
    size_t n = strlen(alphabet);
    for (size_t i = 0; i < len; i++) {
        word[i] = alphabet[s_below(gen, n)];
    }
    return word;
}

//  Tag or attribute key: a token or a lower-case word, never integer-like
static char *
s_name(s_gen_t *gen)
{
    while (true) {
        char *name = s_below(gen, 3) ? cm_strdup(s_token(gen))
                                     : s_word(gen, 1 + s_below(gen, 12),
                                              "abcdefghijklmnopqrstuvwxyz_-:");
        if (!s_integer_like(name) && !strchr(name, '@')) {
            return name;
        }
        free(name);
    }
}

static char *
s_jid(s_gen_t *gen)
{
    char user[24];
    snprintf(user, sizeof user, "%llu",
             (unsigned long long)(1 + s_rand(gen) % 999999999999999ULL));
    unsigned device = 1 + (unsigned)s_below(gen, 99);
    switch (s_below(gen, 14)) {
    case 0:
        return cm_sprintf("%s@s.whatsapp.net", user);
    case 1:
        return cm_sprintf("%s:%u@s.whatsapp.net", user, device);
    case 2:
        return cm_sprintf("%s@lid", user);
    case 3:
        return cm_sprintf("%s:%u@lid", user, device);
    case 4:
        return cm_sprintf("%s@g.us", user);
    case 5:
        return cm_sprintf("%s-%u@g.us", user, device);
    case 6:
        return cm_strdup("status@broadcast");
    case 7:
        return cm_sprintf("%s@newsletter", user);
    case 8:
        return cm_strdup("@s.whatsapp.net");
    case 9:
        return cm_sprintf("%s:%u@hosted", user, device);
    case 10:
        //  Baileys writes JID_PAIR, we write AD_JID: same text
        gen->same = false;
        return cm_sprintf("%s@hosted.lid", user);
    case 11:
        return cm_sprintf("%s@c.us", user);
    case 12:
        //  Baileys would write these as AD_JID on s.whatsapp.net
        gen->bl = false;
        return cm_sprintf("%s:%u@msgr", user, device);
    default:
        gen->bl = false;
        return cm_sprintf("%u-%s:%u@interop", device, user, device + 1);
    }
}

static char *
s_value(s_gen_t *gen)
{
    switch (s_below(gen, 9)) {
    case 0:
        return cm_strdup(s_token(gen));
    case 1:
        return s_word(gen, 1 + s_below(gen, 127), "0123456789-.");
    case 2:
        return s_word(gen, 1 + s_below(gen, 127), "0123456789ABCDEF");
    case 3:
    case 4:
        return s_jid(gen);
    case 5:
        return cm_strdup("");
    case 6:
        return s_word(gen, 256 + s_below(gen, 300),
                      "abcdefghijklmnopqrstuvwxyz ABC.,!?-_/");
    default:
        return s_word(gen, 1 + s_below(gen, 40),
                      "abcdefghijklmnopqrstuvwxyz0123456789 .:-_/+=");
    }
}

static json_t *s_tree(s_gen_t *gen, int depth, wa_node_t **node_p);

static void
s_content(s_gen_t *gen, int depth, json_t *tree, wa_node_t *node)
{
    switch (s_below(gen, depth > 4 ? 3 : 5)) {
    case 0:
        return;
    case 1: {
        size_t len = s_below(gen, 40) ? s_below(gen, 600) : 70000;
        if (depth == 1 && s_below(gen, 100) == 0) {
            len = (1u << 20) + 1; //  BINARY_32
        }
        uint8_t *bytes = cm_alloc(len + 1);
        for (size_t i = 0; i < len; i++) {
            bytes[i] = (uint8_t)s_rand(gen);
        }
        char *hex = cm_alloc(2 * len + 1);
        cm_hex(bytes, len, hex);
        json_object_set_new(tree, "content", json_pack("{s:s}", "hex", hex));
        wa_node_set_bytes(node, bytes, len);
        free(hex);
        free(bytes);
        return;
    }
    case 2: {
        char *value = s_value(gen);
        json_object_set_new(tree, "content",
                            json_pack("{s:s}", "string", value));
        wa_node_set_string(node, value);
        free(value);
        return;
    }
    default: {
        size_t count = depth == 1 && s_below(gen, 15) == 0
                           ? 256 + s_below(gen, 50)
                           : s_below(gen, 5);
        json_t *children = json_array();
        wa_node_set_list(node);
        for (size_t i = 0; i < count; i++) {
            wa_node_t *child;
            json_array_append_new(children, s_tree(gen, depth + 1, &child));
            wa_node_append(node, &child);
        }
        json_object_set_new(tree, "content", children);
    }
    }
}

static json_t *
s_tree(s_gen_t *gen, int depth, wa_node_t **node_p)
{
    char *tag = s_name(gen);
    wa_node_t *node = wa_node_new(tag);
    json_t *tree = json_pack("{s:s}", "tag", tag);
    free(tag);
    json_t *attrs = json_array();
    size_t count = s_below(gen, 6);
    for (size_t i = 0; i < count; i++) {
        char *key = s_name(gen);
        if (wa_node_attr(node, key)) {
            free(key);
            continue;
        }
        char *value = s_value(gen);
        wa_node_set_attr(node, key, value);
        json_array_append_new(attrs, json_pack("[s,s]", key, value));
        free(key);
        free(value);
    }
    json_object_set_new(tree, "attrs", attrs);
    s_content(gen, depth, tree, node);
    *node_p = node;
    return tree;
}

//  JSON tree -> node; NULL when the JSON is not a tree
static wa_node_t *
s_node_from_json(json_t *json)
{
    const char *tag = json_string_value(json_object_get(json, "tag"));
    json_t *attrs = json_object_get(json, "attrs");
    if (!tag || !*tag || !json_is_array(attrs)) {
        return NULL;
    }
    wa_node_t *node = wa_node_new(tag);
    size_t i;
    json_t *pair;
    json_array_foreach(attrs, i, pair)
    {
        const char *key = json_string_value(json_array_get(pair, 0));
        const char *value = json_string_value(json_array_get(pair, 1));
        if (!key || !*key || !value) {
            wa_node_destroy(&node);
            return NULL;
        }
        wa_node_set_attr(node, key, value);
    }
    json_t *content = json_object_get(json, "content");
    if (json_is_array(content)) {
        wa_node_set_list(node);
        json_t *item;
        json_array_foreach(content, i, item)
        {
            wa_node_t *child = s_node_from_json(item);
            if (!child) {
                wa_node_destroy(&node);
                return NULL;
            }
            wa_node_append(node, &child);
        }
    } else if (json_is_object(content)) {
        const char *hex = json_string_value(json_object_get(content, "hex"));
        const char *str = json_string_value(json_object_get(content, "string"));
        if (hex) {
            size_t len = strlen(hex) / 2;
            uint8_t *bytes = cm_alloc(len + 1);
            if (cm_unhex(hex, bytes, len) != (int)len) {
                free(bytes);
                wa_node_destroy(&node);
                return NULL;
            }
            wa_node_set_bytes(node, bytes, len);
            free(bytes);
        } else if (str) {
            wa_node_set_string(node, str);
        }
    }
    return node;
}

static int
s_gen(uint64_t seed, long count)
{
    s_gen_t gen = {seed * 0x9E3779B97F4A7C15ULL + 1, true, true};
    for (long i = 0; i < count; i++) {
        gen.bl = true;
        gen.same = true;
        wa_node_t *node;
        json_t *tree = s_tree(&gen, 1, &node);
        uint8_t *frame;
        size_t len;
        const char *reason = NULL;
        if (wa_binary_encode(node, &frame, &len, &reason) < 0) {
            fprintf(stderr, "interop_nodes: could not encode: %s\n", reason);
            return 1;
        }
        char *hex = cm_alloc(2 * len + 1);
        cm_hex(frame, len, hex);
        json_t *line = json_pack("{s:o,s:s,s:b,s:b}", "tree", tree, "hex", hex,
                                 "bl", gen.bl, "same", gen.bl && gen.same);
        char *text = json_dumps(line, JSON_COMPACT);
        printf("%s\n", text);
        free(text);
        json_decref(line);
        free(hex);
        free(frame);
        wa_node_destroy(&node);
    }
    return 0;
}

static int
s_check(void)
{
    size_t cap = 1 << 16;
    char *line = cm_alloc(cap);
    long checked = 0;
    int failed = 0;
    while (true) {
        size_t len = 0;
        int c;
        while ((c = getchar()) != EOF && c != '\n') {
            if (len + 1 >= cap) {
                cap *= 2;
                char *grown = realloc(line, cap);
                if (!grown) {
                    fprintf(stderr, "interop_nodes: out of memory\n");
                    return 1;
                }
                line = grown;
            }
            line[len++] = (char)c;
        }
        line[len] = 0;
        if (len == 0 && c == EOF) {
            break;
        }
        if (len == 0) {
            continue;
        }
        json_error_t error;
        json_t *item = json_loads(line, 0, &error);
        wa_node_t *want =
            item ? s_node_from_json(json_object_get(item, "tree")) : NULL;
        const char *hex = json_string_value(json_object_get(item, "hex"));
        if (!want || !hex) {
            fprintf(stderr, "interop_nodes: line %ld is not a test case\n",
                    checked + 1);
            return 1;
        }
        size_t frame_len = strlen(hex) / 2;
        uint8_t *frame = cm_alloc(frame_len + 1);
        const char *reason = "bad hex";
        wa_node_t *got = cm_unhex(hex, frame, frame_len) == (int)frame_len
                             ? wa_binary_decode(frame, frame_len, NULL, &reason)
                             : NULL;
        if (!got || !wa_node_eq(got, want)) {
            char *text = wa_node_text(want, 48);
            fprintf(stderr, "interop_nodes: case %ld: %s\nwant %s\n",
                    checked + 1, got ? "decoded to a different tree" : reason,
                    text);
            free(text);
            if (got) {
                text = wa_node_text(got, 48);
                fprintf(stderr, "got  %s\n", text);
                free(text);
            }
            failed = 1;
        }
        wa_node_destroy(&got);
        free(frame);
        wa_node_destroy(&want);
        json_decref(item);
        checked++;
    }
    free(line);
    printf("checked %ld nodes encoded by the peer\n", checked);
    return failed || checked == 0;
}

int
main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "gen") == 0) {
        return s_gen(strtoull(argv[2], NULL, 10), strtol(argv[3], NULL, 10));
    }
    if (argc == 2 && strcmp(argv[1], "check") == 0) {
        return s_check();
    }
    fprintf(stderr, "usage: interop_nodes gen SEED COUNT | check\n");
    return 64;
}
