/*  cm_ulid - lexicographically sortable ids (ULID), lower-case

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "cm_classes.h"

//  Crockford base32, lower case (no i, l, o, u).
static const char s_alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

struct _cm_ulid_t {
    uint64_t last_ms;   //  timestamp of the previous id
    uint8_t random[10]; //  random part of the previous id
};

cm_ulid_t *
cm_ulid_new(void)
{
    return (cm_ulid_t *)cm_alloc(sizeof(cm_ulid_t));
}

void
cm_ulid_destroy(cm_ulid_t **self_p)
{
    assert(self_p);
    free(*self_p);
    *self_p = NULL;
}

void
cm_ulid_encode(uint64_t ms, const uint8_t random[10], char *out)
{
    //  128 bits: 48-bit time then 80 random bits, as 26 5-bit groups
    //  (the first group holds only the top 3 bits of 130).
    uint8_t b[16];
    for (int i = 0; i < 6; i++) {
        b[i] = (uint8_t)(ms >> (40 - 8 * i));
    }
    memcpy(b + 6, random, 10);
    for (int c = 0; c < CM_ULID_LEN; c++) {
        //  group c covers bits [5c - 2, 5c + 3) of the 130-bit string
        //  padded with two leading zero bits
        int v = 0;
        for (int k = 0; k < 5; k++) {
            int bit = 5 * c + k - 2;
            int set = bit >= 0 ? (b[bit / 8] >> (7 - bit % 8)) & 1 : 0;
            v = v << 1 | set;
        }
        out[c] = s_alphabet[v];
    }
    out[CM_ULID_LEN] = 0;
}

//  Add one to the 80-bit random part. Returns false on overflow.
static bool
s_increment(uint8_t random[10])
{
    for (int i = 9; i >= 0; i--) {
        if (++random[i] != 0) {
            return true;
        }
    }
    return false;
}

int
cm_ulid_next(cm_ulid_t *self, const char *prefix, char *out, size_t size)
{
    assert(self && out);
    size_t plen = prefix ? strlen(prefix) : 0;
    if (size < plen + CM_ULID_LEN + 1) {
        return -1;
    }
    uint64_t now = (uint64_t)cm_now_ms() & 0xffffffffffffULL;
    if (now > self->last_ms || !s_increment(self->random)) {
        //  a new millisecond (or, in the 2^80 overflow case, the next one)
        if (now <= self->last_ms) {
            now = self->last_ms + 1;
        }
        self->last_ms = now;
        cm_random(self->random, sizeof self->random);
    }
    if (plen) {
        memcpy(out, prefix, plen);
    }
    cm_ulid_encode(self->last_ms, self->random, out + plen);
    return 0;
}

bool
cm_ulid_valid(const char *s)
{
    if (!s || strlen(s) != CM_ULID_LEN) {
        return false;
    }
    //  the first character carries 3 bits: 0..7
    if (s[0] < '0' || s[0] > '7') {
        return false;
    }
    for (int i = 0; i < CM_ULID_LEN; i++) {
        if (!strchr(s_alphabet, tolower((unsigned char)s[i]))) {
            return false;
        }
    }
    return true;
}

void
cm_ulid_test(bool verbose)
{
    printf(" * cm_ulid: ");
    //  Known value: time 1469922850259 with all-zero randomness is
    //  "01arz3ndek" + 16 zeros (the ULID specification's example time).
    uint8_t zero[10] = {0};
    char out[CM_ULID_LEN + 1];
    cm_ulid_encode(1469922850259ULL, zero, out);
    assert(strcmp(out, "01arz3ndek0000000000000000") == 0);
    uint8_t ones[10];
    memset(ones, 0xff, sizeof ones);
    cm_ulid_encode(0xffffffffffffULL, ones, out);
    assert(strcmp(out, "7zzzzzzzzzzzzzzzzzzzzzzzzz") == 0);
    assert(cm_ulid_valid(out));
    assert(cm_ulid_valid("01ARZ3NDEK0000000000000000"));
    assert(!cm_ulid_valid("81arz3ndek0000000000000000"));
    assert(!cm_ulid_valid("01arz3ndek000000000000000"));
    assert(!cm_ulid_valid("01arz3ndek000000000000000u"));
    assert(!cm_ulid_valid(NULL));

    //  A generator is monotonic, even within one millisecond
    cm_ulid_t *ulid = cm_ulid_new();
    char prev[40] = "";
    char id[40];
    for (int i = 0; i < 5000; i++) {
        assert(cm_ulid_next(ulid, "evt_", id, sizeof id) == 0);
        assert(strlen(id) == 4 + CM_ULID_LEN);
        assert(strncmp(id, "evt_", 4) == 0);
        assert(cm_ulid_valid(id + 4));
        assert(strcmp(prev, id) < 0);
        memcpy(prev, id, sizeof prev);
    }
    //  the time part is the current time
    uint8_t r[10] = {0};
    char ref[CM_ULID_LEN + 1];
    cm_ulid_encode((uint64_t)cm_now_ms(), r, ref);
    assert(strncmp(id + 4, ref, 5) == 0);
    //  overflow of the random part moves to the next millisecond
    memset(ulid->random, 0xff, sizeof ulid->random);
    ulid->last_ms = (uint64_t)cm_now_ms() + 1000;
    uint64_t before = ulid->last_ms;
    assert(cm_ulid_next(ulid, NULL, id, sizeof id) == 0);
    assert(ulid->last_ms == before + 1);
    //  too small a buffer is refused
    assert(cm_ulid_next(ulid, "evt_", id, 10) == -1);
    cm_ulid_destroy(&ulid);
    cm_ulid_destroy(&ulid);
    printf("OK\n");
}
