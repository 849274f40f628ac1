/*  wa_token - WhatsApp binary-XML token dictionaries (DictVersion 3)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"
#include "wa/wa_token.h"

#include "wa_token_table.inc"

const char *
wa_token_single(unsigned index)
{
    if (index == 0 || index >= WA_TOKEN_SINGLE_COUNT) {
        return NULL;
    }
    return s_single[index];
}

const char *
wa_token_double(unsigned dict, unsigned index)
{
    if (dict >= WA_TOKEN_DICTS || index >= WA_TOKEN_DOUBLE_COUNT) {
        return NULL;
    }
    return s_double[dict][index];
}

//  FNV-1a 32; tools/gen_tokens.py builds s_hash with the same function
static uint32_t
s_hash_of(const char *str, size_t len)
{
    uint32_t h = 0x811C9DC5u;
    for (size_t i = 0; i < len; i++) {
        h ^= (uint8_t)str[i];
        h *= 0x01000193u;
    }
    return h;
}

bool
wa_token_find(const char *str, size_t len, int *dict_p, uint8_t *index_p)
{
    assert(str || len == 0);
    if (len == 0) {
        return false;
    }
    uint32_t slot = s_hash_of(str, len) & (S_HASH_SIZE - 1);
    for (int probe = 0; probe < S_HASH_MAX_PROBE; probe++) {
        uint16_t code = s_hash[slot];
        if (code == 0) {
            return false;
        }
        const char *token;
        int dict;
        uint8_t index;
        if (code < 256) {
            token = s_single[code];
            dict = WA_TOKEN_SINGLE;
            index = (uint8_t)code;
        } else {
            dict = (code - 256) / 256;
            index = (uint8_t)((code - 256) % 256);
            token = s_double[dict][index];
        }
        //  str may hold NUL bytes: compare lengths, then bytes
        if (strlen(token) == len && memcmp(token, str, len) == 0) {
            if (dict_p) {
                *dict_p = dict;
            }
            if (index_p) {
                *index_p = index;
            }
            return true;
        }
        slot = (slot + 1) & (S_HASH_SIZE - 1);
    }
    return false;
}

//  Compare one data file with the compiled table; returns entries checked
static int
s_check_file(const char *dir, const char *name, int dict, int count)
{
    char *path = cm_sprintf("%s/common/wa/data/%s", dir, name);
    FILE *f = fopen(path, "r");
    assert(f);
    char line[256];
    assert(fgets(line, sizeof line, f) && line[0] == '#');
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        assert(n < count);
        const char *token = dict == WA_TOKEN_SINGLE
                                ? (n == 0 ? "" : wa_token_single(n))
                                : wa_token_double(dict, n);
        assert(token && strcmp(token, line) == 0);
        n++;
    }
    fclose(f);
    free(path);
    assert(n == count);
    return n;
}

void
wa_token_test(bool verbose)
{
    printf(" * wa_token: ");
    //  Handy values from the protocol guide (section 4.6)
    assert(strcmp(wa_token_single(3), "s.whatsapp.net") == 0);
    assert(strcmp(wa_token_single(25), "iq") == 0);
    assert(strcmp(wa_token_single(203), "encrypt") == 0);
    assert(strcmp(wa_token_single(235), "") != 0);
    assert(wa_token_single(0) == NULL);
    assert(wa_token_single(236) == NULL);
    assert(wa_token_double(4, 0) == NULL);
    assert(wa_token_double(0, 256) == NULL);
    assert(strcmp(wa_token_double(0, 0), "read-self") == 0);

    int dict;
    uint8_t index;
    assert(wa_token_find("iq", 2, &dict, &index));
    assert(dict == WA_TOKEN_SINGLE && index == 25);
    assert(wa_token_find("participating", 13, &dict, &index));
    assert(dict == 1 && index == 0x78);
    assert(wa_token_find("iqx", 2, &dict, &index) && index == 25);
    //  Not tokens (sent raw)
    assert(!wa_token_find("ib", 2, NULL, NULL));
    assert(!wa_token_find("md", 2, NULL, NULL));
    assert(!wa_token_find("w:mex", 5, NULL, NULL));
    assert(!wa_token_find("newsletter", 10, NULL, NULL));
    assert(!wa_token_find("", 0, NULL, NULL));
    assert(!wa_token_find("i", 1, NULL, NULL));
    //  Found by fuzz_jid: a token followed by NUL bytes is not the token
    assert(!wa_token_find("4\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16, NULL, NULL));
    assert(!wa_token_find("iq\0", 3, NULL, NULL));

    //  Every entry maps back to itself
    for (unsigned i = 1; i < WA_TOKEN_SINGLE_COUNT; i++) {
        const char *t = wa_token_single(i);
        assert(wa_token_find(t, strlen(t), &dict, &index));
        assert(dict == WA_TOKEN_SINGLE && index == i);
    }
    for (unsigned d = 0; d < WA_TOKEN_DICTS; d++) {
        for (unsigned i = 0; i < WA_TOKEN_DOUBLE_COUNT; i++) {
            const char *t = wa_token_double(d, i);
            assert(wa_token_find(t, strlen(t), &dict, &index));
            assert(dict == (int)d && index == i);
        }
    }

    //  The compiled tables match the committed data files
    const char *dir = getenv("WHARF_SOURCE_DIR");
    if (dir) {
        int n = s_check_file(dir, "single.txt", WA_TOKEN_SINGLE, 236);
        for (int d = 0; d < WA_TOKEN_DICTS; d++) {
            char name[32];
            snprintf(name, sizeof name, "double-%d.txt", d);
            n += s_check_file(dir, name, d, 256);
        }
        assert(n == 236 + 4 * 256);
        if (verbose) {
            printf("(%d entries match data files) ", n);
        }
    }
    printf("OK\n");
}
