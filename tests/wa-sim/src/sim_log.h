/*  sim_log - the stanza log: metadata of every stanza in and out

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A bounded ring of entries. Each entry carries only metadata
    (direction, connection, JID, tag, selected attributes, first child
    tag, size, time); payload bytes are never logged, and wa-sim never
    sees plaintext anyway. Entries get a sequence number so a reader can
    page with "since".
*/
#ifndef SIM_LOG_H_INCLUDED
#define SIM_LOG_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

//  Default number of entries kept.
#define SIM_LOG_SIZE 10000
//  Stanza attributes a stanza entry keeps (SIM_LOG_ATTRS lists them).
#define SIM_LOG_ATTR_COUNT 13

//  The attribute names a stanza entry keeps, in entry order.
extern const char *const SIM_LOG_ATTRS[SIM_LOG_ATTR_COUNT];

//  One stanza's metadata (strings borrowed; NULL attrs/child omitted).
typedef struct {
    const char *dir;                       //  "in" or "out"
    int64_t conn;                          //  connection id
    const char *jid;                       //  device JID, "" before login
    const char *tag;                       //  stanza tag
    int64_t size;                          //  encoded bytes
    const char *attrs[SIM_LOG_ATTR_COUNT]; //  values of SIM_LOG_ATTRS
    const char *child;                     //  first child's tag
} sim_log_stanza_t;

typedef struct _sim_log_t sim_log_t;

//  New log keeping at most `size` entries (0 = SIM_LOG_SIZE). Caller owns
//  return value.
sim_log_t *sim_log_new(size_t size);

void sim_log_destroy(sim_log_t **self_p);

//  Append an entry; takes the reference of *entry_p (an object) and adds
//  "seq" and "ts" (epoch ms). Returns the sequence number.
int64_t sim_log_add(sim_log_t *self, json_t **entry_p);

//  Entries with seq > since, oldest first, at most `limit`, optionally
//  only those whose "conn" equals conn (0 = any) and whose "jid" starts
//  with jid (NULL = any). Caller owns return value (a JSON array).
json_t *sim_log_query(sim_log_t *self, int64_t since, size_t limit,
                      int64_t conn, const char *jid);

//  Append a stanza entry (copied): the same as sim_log_add of the object
//  {dir, conn, jid, tag, size, <attrs present>, child?} but one
//  allocation instead of a JSON object; the object is built by queries.
//  Returns the sequence number.
int64_t sim_log_add_stanza(sim_log_t *self, const sim_log_stanza_t *stanza);

//  Sequence number of the newest entry (0 when empty).
int64_t sim_log_last(sim_log_t *self);

//  Drop every entry (sequence numbers keep growing).
void sim_log_clear(sim_log_t *self);

void sim_log_test(bool verbose);

#endif
