/*  st_lids - the `lid` message family: a session's LID <-> phone number
    map

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Pairs travel as {lid:"<digits>@lid", pn:"<digits>@c.us"} and are kept
    as digits in lid_map (sql/0045_lid_map.sql).

      lid.put    {name, worker, epoch, pairs:[{lid, pn}]}    -> {written}
      lid.list   {session, limit?, offset?}           -> {lids:[{lid, pn}]}
      lid.count  {session}                                 -> {count}
      lid.get    {session, lid | pn}                       -> {lid, pn}

    put is fenced by the caller's lease and applies a batch in one
    transaction: each pair replaces the pairs of its LID and of its
    number (the last one in the batch wins). device.clear (a logout)
    removes the session's pairs too: another account may link next.
*/
#ifndef ST_LIDS_H_INCLUDED
#define ST_LIDS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct _st_router_t st_router_t;

//  Most pairs in one lid.put.
#define ST_LIDS_PUT_MAX 1000
//  Most pairs one lid.list returns (a worker loads the whole map).
#define ST_LIDS_LIST_MAX 200000
//  lid.list default page.
#define ST_LIDS_LIST_DEFAULT 100

//  The digits of a LID ("123", "123@lid") or a phone number ("123",
//  "+1 23", "123@c.us", "123@s.whatsapp.net") into out (1..20 digits);
//  false when text is neither.
bool st_lids_digits(const char *text, bool lid, char *out, size_t size);

//  Register the family on `r`. Returns 0.
int st_lids_register(st_router_t *r);

void st_lids_test(bool verbose);

#endif
