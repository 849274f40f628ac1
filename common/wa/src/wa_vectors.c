/*  wa_vectors - test vectors and hex fields for the self tests

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <unistd.h>

#include <jansson.h>

#include "cm/cm.h"
#include "wa/wa_vectors.h"

json_t *
wa_vectors_load(const char *name)
{
    const char *dir = getenv("WHARF_SOURCE_DIR");
    char *path = cm_sprintf("%s/tests/vectors/wa/%s", dir ? dir : ".", name);
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root) {
        fprintf(stderr, "could not load vectors \"%s\": %s\n", path, err.text);
    }
    free(path);
    assert(root);
    return root;
}

uint8_t *
wa_vectors_unhex(const char *hex, size_t *len_p)
{
    assert(hex);
    size_t len = strlen(hex) / 2;
    uint8_t *buf = cm_alloc(len + 1);
    int n = cm_unhex(hex, buf, len);
    assert(n == (int)len);
    if (len_p) {
        *len_p = len;
    }
    return buf;
}

size_t
wa_vectors_unhex_into(const char *hex, uint8_t *out, size_t max)
{
    assert(hex);
    int n = cm_unhex(hex, out, max);
    assert(n >= 0);
    return (size_t)n;
}

bool
wa_vectors_hex_eq(const uint8_t *data, size_t len, const char *hex)
{
    char *got = cm_alloc(2 * len + 1);
    cm_hex(data, len, got);
    bool eq = hex && strcasecmp(got, hex) == 0;
    if (!eq) {
        fprintf(stderr, "\n   got  %s\n   want %s\n", got, hex ? hex : "");
    }
    free(got);
    return eq;
}

uint8_t *
wa_vectors_field(json_t *obj, const char *key, size_t *len_p)
{
    return wa_vectors_unhex(json_string_value(json_object_get(obj, key)),
                            len_p);
}

void
wa_vectors_field_into(json_t *obj, const char *key, uint8_t *out, size_t len)
{
    const char *hex = json_string_value(json_object_get(obj, key));
    assert(hex && strlen(hex) == 2 * len);
    wa_vectors_unhex_into(hex, out, len);
}

bool
wa_vectors_field_eq(json_t *obj, const char *key, const uint8_t *data,
                    size_t len)
{
    const char *hex = json_string_value(json_object_get(obj, key));
    bool eq = wa_vectors_hex_eq(data, len, hex);
    if (!eq) {
        fprintf(stderr, "   (field \"%s\")\n", key);
    }
    return eq;
}

int
wa_vectors_counter_random(void *arg, uint8_t *buf, size_t len)
{
    uint8_t *next = arg;
    for (size_t i = 0; i < len; i++) {
        buf[i] = (*next)++;
    }
    return 0;
}

void
wa_vectors_test(bool verbose)
{
    printf(" * wa_vectors: ");
    json_t *root = wa_vectors_load("noise-handshake.json");
    json_t *keys = json_object_get(root, "keys");
    assert(json_is_object(keys));
    uint8_t pub[32];
    wa_vectors_field_into(keys, "server_static_pub", pub, sizeof pub);
    assert(wa_vectors_field_eq(keys, "server_static_pub", pub, sizeof pub));
    size_t len = 0;
    uint8_t *copy = wa_vectors_field(keys, "server_static_pub", &len);
    assert(len == 32 && memcmp(copy, pub, 32) == 0);
    free(copy);
    json_decref(root);

    json_t *obj = json_pack("{s:s, s:s}", "a", "00ff7F", "empty", "");
    uint8_t *bytes = wa_vectors_field(obj, "a", &len);
    assert(len == 3 && bytes[0] == 0 && bytes[1] == 0xff && bytes[2] == 0x7f);
    //  Case does not matter; length and content do.
    assert(wa_vectors_hex_eq(bytes, 3, "00FF7f"));
    assert(wa_vectors_field_eq(obj, "a", bytes, 3));
    //  Mismatches (reported on stderr: muted here unless verbose)
    int saved = dup(STDERR_FILENO);
    int null_fd = open("/dev/null", O_WRONLY);
    assert(saved >= 0 && null_fd >= 0);
    fflush(stderr);
    if (!verbose) {
        dup2(null_fd, STDERR_FILENO);
    }
    assert(!wa_vectors_field_eq(obj, "a", bytes, 2));
    assert(!wa_vectors_hex_eq(bytes, 3, "00ff7e"));
    assert(!wa_vectors_field_eq(obj, "missing", bytes, 3));
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(null_fd);
    free(bytes);
    bytes = wa_vectors_field(obj, "empty", &len);
    assert(bytes && len == 0);
    free(bytes);
    json_decref(obj);

    uint8_t out[4];
    assert(wa_vectors_unhex_into("0102", out, sizeof out) == 2);
    assert(out[0] == 1 && out[1] == 2);
    assert(wa_vectors_unhex_into("", out, sizeof out) == 0);

    uint8_t next = 0xfe;
    assert(wa_vectors_counter_random(&next, out, 3) == 0);
    assert(out[0] == 0xfe && out[1] == 0xff && out[2] == 0 && next == 1);
    printf("OK\n");
}
