/*  cm_net - which addresses a connection to a caller's URL may reach

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Used by media-service (file.url fetches, link previews, redirects) and
    the webhook-dispatcher (webhook URLs). A connection to a caller's URL
    must not reach the machine's own services or
    its network: addresses in loopback, private, carrier-grade NAT,
    link-local (cloud metadata at 169.254.169.254 and fd00:ec2::254),
    multicast, reserved and unspecified ranges are refused, for IPv4,
    IPv6 and IPv4 inside IPv6 (mapped, NAT64), unless the allow-list
    names them. The check runs (CURLOPT_OPENSOCKETFUNCTION) on the address
    curl is about to connect to (after DNS), so a name that resolves differently
   later (DNS rebinding) and redirects are checked too.
*/
#ifndef CM_NET_H_INCLUDED
#define CM_NET_H_INCLUDED

#include <stdbool.h>
#include <sys/socket.h>

typedef struct _cm_net_t cm_net_t;

//  Most allow-list entries.
#define CM_NET_ALLOW_MAX 64

//  Policy with `allow`, a comma list of addresses and CIDRs (IPv4 or
//  IPv6, e.g. "127.0.0.1,10.1.0.0/16,::1"); empty allows nothing extra.
//  NULL when an entry is invalid. Caller owns return value.
cm_net_t *cm_net_new(const char *allow);
void cm_net_destroy(cm_net_t **self_p);

//  True if a connection to `addr` is permitted.
bool cm_net_permitted(cm_net_t *self, const struct sockaddr *addr);

//  True if `addr` is in a refused range (ignoring the allow-list).
bool cm_net_special(const struct sockaddr *addr);

void cm_net_test(bool verbose);

#endif
