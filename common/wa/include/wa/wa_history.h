/*  wa_history - history sync codec (wa-protocol.md §8.6)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    After a companion is linked, the primary phone sends it what happened
    before: protocolMessages of type HISTORY_SYNC_NOTIFICATION, each
    naming an encrypted blob on the media hosts (media type "md-msg-hist",
    HKDF info "WhatsApp History Keys") or carrying it inline. The blob is
    a zlib stream of a HistorySync: chats with their messages, push
    names, LID pairs (proto/wa/wa_history.proto).

    No state: the session-worker downloads the blob through media-service
    and calls wa_history_decode; wa-sim builds blobs with
    wa_history_encode. Blobs are hostile input: their inflated size is
    capped and what does not parse is refused with a reason.
*/
#ifndef WA_HISTORY_H_INCLUDED
#define WA_HISTORY_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wa/wa_history.pb-c.h"

//  Largest inflated HistorySync accepted by default.
#define WA_HISTORY_INFLATED_MAX (64u << 20)

//  ProtocolMessage type of a history-sync notification.
#define WA_HISTORY_PROTOCOL_TYPE 5

typedef Wa__History__HistorySyncNotification wa_history_note_t;
typedef Wa__History__HistorySync wa_history_t;

//  The HistorySyncNotification of a serialised Message (a
//  protocolMessage of type HISTORY_SYNC_NOTIFICATION), or NULL when the
//  message is none or the notification does not parse. Free with
//  wa_history_note_free.
wa_history_note_t *wa_history_note(const uint8_t *message, size_t len);
void wa_history_note_free(wa_history_note_t **note_p);

//  Inflate and parse a history-sync blob (the decrypted download, or the
//  inline payload) of at most `max` inflated bytes (0: the default).
//  Returns the HistorySync (free with wa_history_free), or NULL with a
//  static reason in *reason_p: not zlib, truncated, too large, not a
//  HistorySync.
wa_history_t *wa_history_decode(const uint8_t *blob, size_t len, size_t max,
                                const char **reason_p);
void wa_history_free(wa_history_t **history_p);

//  Serialise and deflate a HistorySync into a blob (for wa-sim and
//  tests). Returns 0 or -1; *out_p (caller frees) and *len_p.
int wa_history_encode(const wa_history_t *history, uint8_t **out_p,
                      size_t *len_p);

//  A Message carrying `note` as a HISTORY_SYNC_NOTIFICATION protocol
//  message. Returns 0 or -1; *out_p (caller frees) and *len_p.
int wa_history_note_message(const wa_history_note_t *note, uint8_t **out_p,
                            size_t *len_p);

//  The <encrypt> payload of a history blob's server-error receipt (ask
//  the phone to upload the blob of notification `id` again): the
//  ServerErrorReceipt {stanzaId: id} sealed with AES-256-GCM under
//  wa_media_retry_key(media_key), a random 12-byte iv and `id` as
//  associated data. Returns 0, *enc_p (caller frees; enc_p ciphertext
//  with its tag) and iv; -1 on bad arguments.
int wa_history_retry_seal(const uint8_t *media_key, size_t key_len,
                          const char *id, uint8_t **enc_p, size_t *enc_len_p,
                          uint8_t iv[12]);

//  Open such a payload: 0 when it decrypts and names `id`, else -1.
int wa_history_retry_open(const uint8_t *media_key, size_t key_len,
                          const char *id, const uint8_t *enc, size_t enc_len,
                          const uint8_t *iv, size_t iv_len);

//  An ON_DEMAND history request (what the companion knows of a chat:
//  its oldest message; the phone answers with up to `count` older
//  ones). Strings borrowed.
typedef struct {
    const char *chat;      //  chat wire JID
    const char *oldest_id; //  the oldest message known
    bool oldest_from_me;   //  ... is ours
    int64_t oldest_ts_ms;  //  ... its time, ms
    int32_t count;         //  how many older ones (1..)
} wa_history_ask_t;

//  The Message a companion sends its own phone (category="peer") to ask
//  for older history: a protocolMessage PEER_DATA_OPERATION_REQUEST_MESSAGE
//  with a HISTORY_SYNC_ON_DEMAND request. Returns 0, *out_p (caller
//  frees) and *len_p; -1 on bad arguments.
int wa_history_ask_message(const wa_history_ask_t *ask, uint8_t **out_p,
                           size_t *len_p);

//  Read such a Message (for the phone). Returns 0 and *ask (strings
//  point into *msg_p, which the caller frees with wa_history_ask_free),
//  or -1 when it is no on-demand history request.
int wa_history_ask_parse(const uint8_t *message, size_t len,
                         wa_history_ask_t *ask, void **msg_p);
void wa_history_ask_free(void **msg_p);

//  Name of a sync type ("INITIAL_BOOTSTRAP", "RECENT", "PUSH_NAME", ...),
//  "UNKNOWN" for others.
const char *wa_history_type_name(int sync_type);

void wa_history_test(bool verbose);

#endif
