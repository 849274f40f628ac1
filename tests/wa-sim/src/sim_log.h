/*  sim_log - the stanza log: metadata of every stanza in and out

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A bounded ring of JSON entries. Each entry carries only metadata
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

//  Sequence number of the newest entry (0 when empty).
int64_t sim_log_last(sim_log_t *self);

//  Drop every entry (sequence numbers keep growing).
void sim_log_clear(sim_log_t *self);

void sim_log_test(bool verbose);

#endif
