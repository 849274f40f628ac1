/*  cm_net - which addresses a file.url fetch may connect to

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "cm_classes.h"
#include <arpa/inet.h>
#include <netinet/in.h>

//  One range: 16 bytes (IPv4 as ::ffff:a.b.c.d) and a prefix length
//  counted on those 16 bytes.
typedef struct {
    uint8_t addr[16];
    int bits;
} s_range_t;

struct _cm_net_t {
    s_range_t allow[CM_NET_ALLOW_MAX];
    size_t count;
};

static const uint8_t s_v4_prefix[12] = {0, 0, 0, 0, 0,    0,
                                        0, 0, 0, 0, 0xff, 0xff};

//  Refused IPv4 ranges (address, prefix length).
static const struct {
    uint8_t a, b, c, d;
    int bits;
} s_v4_refused[] = {
    {0, 0, 0, 0, 8},       //  "this" network, unspecified
    {10, 0, 0, 0, 8},      //  private
    {100, 64, 0, 0, 10},   //  carrier-grade NAT
    {127, 0, 0, 0, 8},     //  loopback
    {169, 254, 0, 0, 16},  //  link-local, cloud metadata
    {172, 16, 0, 0, 12},   //  private
    {192, 0, 0, 0, 24},    //  IETF protocol assignments
    {192, 0, 2, 0, 24},    //  documentation
    {192, 88, 99, 0, 24},  //  6to4 relay
    {192, 168, 0, 0, 16},  //  private
    {198, 18, 0, 0, 15},   //  benchmarking
    {198, 51, 100, 0, 24}, //  documentation
    {203, 0, 113, 0, 24},  //  documentation
    {224, 0, 0, 0, 4},     //  multicast
    {240, 0, 0, 0, 4},     //  reserved, broadcast
};

//  Refused IPv6 ranges, as text.
static const char *const s_v6_refused[] = {
    "::/128",        //  unspecified
    "::1/128",       //  loopback
    "::/96",         //  IPv4-compatible (deprecated)
    "100::/64",      //  discard
    "2001:db8::/32", //  documentation
    "2002::/16",     //  6to4 (embeds IPv4 anywhere)
    "2001::/32",     //  Teredo
    "fc00::/7",      //  unique local (incl. fd00:ec2::254 metadata)
    "fe80::/10",     //  link-local
    "fec0::/10",     //  site-local (deprecated)
    "ff00::/8",      //  multicast
};

static bool
s_in_range(const uint8_t addr[16], const uint8_t net[16], int bits)
{
    int full = bits / 8;
    if (memcmp(addr, net, full) != 0) {
        return false;
    }
    int rest = bits % 8;
    if (rest) {
        uint8_t mask = (uint8_t)(0xff << (8 - rest));
        return (addr[full] & mask) == (net[full] & mask);
    }
    return true;
}

//  Parse "addr[/bits]" into a range. Returns 0 or -1.
static int
s_parse_range(const char *text, s_range_t *range)
{
    char buf[64];
    if (strlen(text) >= sizeof buf) {
        return -1;
    }
    strcpy(buf, text);
    char *slash = strchr(buf, '/');
    int bits = -1;
    if (slash) {
        *slash = 0;
        char *end = NULL;
        long n = strtol(slash + 1, &end, 10);
        if (!*(slash + 1) || *end || n < 0 || n > 128) {
            return -1;
        }
        bits = (int)n;
    }
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, buf, &v4) == 1) {
        if (bits > 32) {
            return -1;
        }
        memcpy(range->addr, s_v4_prefix, 12);
        memcpy(range->addr + 12, &v4, 4);
        range->bits = 96 + (bits < 0 ? 32 : bits);
    } else if (inet_pton(AF_INET6, buf, &v6) == 1) {
        memcpy(range->addr, &v6, 16);
        range->bits = bits < 0 ? 128 : bits;
    } else {
        return -1;
    }
    return 0;
}

//  The 16-byte form of a socket address. Returns 0, or -1 for other
//  families.
static int
s_addr16(const struct sockaddr *addr, uint8_t out[16])
{
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
        memcpy(out, s_v4_prefix, 12);
        memcpy(out + 12, &in->sin_addr, 4);
        return 0;
    }
    if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
        memcpy(out, &in6->sin6_addr, 16);
        return 0;
    }
    return -1;
}

static bool
s_v4_special(const uint8_t v4[4])
{
    for (size_t i = 0; i < sizeof s_v4_refused / sizeof s_v4_refused[0]; i++) {
        uint8_t net[4] = {s_v4_refused[i].a, s_v4_refused[i].b,
                          s_v4_refused[i].c, s_v4_refused[i].d};
        uint32_t a = ((uint32_t)v4[0] << 24) | ((uint32_t)v4[1] << 16) |
                     ((uint32_t)v4[2] << 8) | v4[3];
        uint32_t n = ((uint32_t)net[0] << 24) | ((uint32_t)net[1] << 16) |
                     ((uint32_t)net[2] << 8) | net[3];
        int bits = s_v4_refused[i].bits;
        uint32_t mask = bits ? 0xffffffffu << (32 - bits) : 0;
        if ((a & mask) == (n & mask)) {
            return true;
        }
    }
    return false;
}

static bool
s_special16(const uint8_t a[16])
{
    if (memcmp(a, s_v4_prefix, 12) == 0) {
        return s_v4_special(a + 12); //  IPv4 or IPv4-mapped IPv6
    }
    static const uint8_t nat64[12] = {0, 0x64, 0xff, 0x9b};
    if (memcmp(a, nat64, 12) == 0) {
        return s_v4_special(a + 12); //  64:ff9b::/96 NAT64
    }
    for (size_t i = 0; i < sizeof s_v6_refused / sizeof s_v6_refused[0]; i++) {
        s_range_t r;
        int rc = s_parse_range(s_v6_refused[i], &r);
        assert(rc == 0);
        if (s_in_range(a, r.addr, r.bits)) {
            return true;
        }
    }
    return false;
}

cm_net_t *
cm_net_new(const char *allow)
{
    cm_net_t *self = cm_alloc(sizeof *self);
    char *copy = cm_strdup(allow ? allow : "");
    char *save = NULL;
    for (char *t = strtok_r(copy, ", ", &save); t;
         t = strtok_r(NULL, ", ", &save)) {
        if (self->count == CM_NET_ALLOW_MAX ||
            s_parse_range(t, &self->allow[self->count]) != 0) {
            free(copy);
            free(self);
            return NULL;
        }
        self->count++;
    }
    free(copy);
    return self;
}

void
cm_net_destroy(cm_net_t **self_p)
{
    assert(self_p);
    free(*self_p);
    *self_p = NULL;
}

bool
cm_net_special(const struct sockaddr *addr)
{
    uint8_t a[16];
    if (s_addr16(addr, a) != 0) {
        return true; //  unix sockets and the like
    }
    return s_special16(a);
}

bool
cm_net_permitted(cm_net_t *self, const struct sockaddr *addr)
{
    uint8_t a[16];
    if (s_addr16(addr, a) != 0) {
        return false;
    }
    for (size_t i = 0; i < self->count; i++) {
        if (s_in_range(a, self->allow[i].addr, self->allow[i].bits)) {
            return true;
        }
    }
    return !s_special16(a);
}

//  --------------------------------------------------------------------

static bool
s_check(cm_net_t *net, const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (strchr(text, ':')) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        int rc = inet_pton(AF_INET6, text, &in6->sin6_addr);
        assert(rc == 1);
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        int rc = inet_pton(AF_INET, text, &in->sin_addr);
        assert(rc == 1);
    }
    return cm_net_permitted(net, (struct sockaddr *)&ss);
}

void
cm_net_test(bool verbose)
{
    printf(" * cm_net: ");
    cm_net_t *net = cm_net_new("");
    assert(net);
    const char *refused[] = {"127.0.0.1",
                             "127.1.2.3",
                             "10.0.0.1",
                             "172.16.0.1",
                             "172.31.255.255",
                             "192.168.1.1",
                             "169.254.169.254",
                             "100.64.0.1",
                             "0.0.0.0",
                             "224.0.0.1",
                             "255.255.255.255",
                             "::1",
                             "::",
                             "fe80::1",
                             "fd00:ec2::254",
                             "fc00::1",
                             "::ffff:127.0.0.1",
                             "::ffff:169.254.169.254",
                             "64:ff9b::a00:1",
                             "ff02::1",
                             "2002:7f00:1::1"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert(!s_check(net, refused[i]));
    }
    const char *fine[] = {"1.1.1.1",        "172.32.0.1",
                          "8.8.8.8",        "2a00:1450:4001::1",
                          "::ffff:8.8.8.8", "64:ff9b::808:808"};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        assert(s_check(net, fine[i]));
    }
    cm_net_destroy(&net);
    cm_net_destroy(&net);

    net = cm_net_new("127.0.0.1, 10.1.0.0/16,::1");
    assert(net);
    assert(s_check(net, "127.0.0.1"));
    assert(!s_check(net, "127.0.0.2"));
    assert(s_check(net, "10.1.200.3"));
    assert(!s_check(net, "10.2.0.1"));
    assert(s_check(net, "::1"));
    assert(s_check(net, "::ffff:127.0.0.1"));
    assert(!s_check(net, "169.254.169.254"));
    cm_net_destroy(&net);

    assert(cm_net_new("nonsense") == NULL);
    assert(cm_net_new("10.0.0.0/33") == NULL);
    assert(cm_net_new("10.0.0.0/") == NULL);
    printf("OK\n");
}
