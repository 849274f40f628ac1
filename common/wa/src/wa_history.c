/*  wa_history - history sync codec (wa-protocol.md §8.6)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "cm/cm.h"
#include "wa/wa_binary.h"
#include "wa/wa_crypto.h"
#include "wa/wa_e2e.pb-c.h"
#include "wa/wa_history.h"
#include "wa/wa_media.h"
#include "wa/wa_pb.h"

wa_history_note_t *
wa_history_note(const uint8_t *message, size_t len)
{
    if (!message || len == 0 ||
        wa_pb_check(&wa__e2e__message__descriptor, message, len,
                    WA_PB_MAX_DEPTH) != 0) {
        return NULL;
    }
    Wa__E2e__Message *m = wa__e2e__message__unpack(NULL, len, message);
    if (!m) {
        return NULL;
    }
    wa_history_note_t *note = NULL;
    Wa__E2e__ProtocolMessage *pm = m->protocol_message;
    if (pm && pm->has_type && pm->type == WA_HISTORY_PROTOCOL_TYPE &&
        pm->has_history_sync_notification) {
        note = wa__history__history_sync_notification__unpack(
            NULL, pm->history_sync_notification.len,
            pm->history_sync_notification.data);
    }
    wa__e2e__message__free_unpacked(m, NULL);
    return note;
}

void
wa_history_note_free(wa_history_note_t **note_p)
{
    assert(note_p);
    if (*note_p) {
        wa__history__history_sync_notification__free_unpacked(*note_p, NULL);
        *note_p = NULL;
    }
}

wa_history_t *
wa_history_decode(const uint8_t *blob, size_t len, size_t max,
                  const char **reason_p)
{
    const char *reason = NULL;
    if (!blob || len == 0) {
        reason = "empty history blob";
    }
    size_t plain_len = 0;
    uint8_t *plain =
        reason
            ? NULL
            : wa_binary_inflate(blob, len, max ? max : WA_HISTORY_INFLATED_MAX,
                                &plain_len, &reason);
    wa_history_t *out = NULL;
    if (plain) {
        //  A HistorySync nests WebMessageInfo -> Message: the same depth
        //  limit as for messages, plus the three outer levels
        if (wa_pb_check(&wa__history__history_sync__descriptor, plain,
                        plain_len, WA_PB_MAX_DEPTH + 3) != 0) {
            reason = "not a HistorySync";
        } else {
            out = wa__history__history_sync__unpack(NULL, plain_len, plain);
            if (!out) {
                reason = "not a HistorySync";
            } else if (!out->has_sync_type) {
                reason = "HistorySync without a sync type";
                wa__history__history_sync__free_unpacked(out, NULL);
                out = NULL;
            }
        }
        free(plain);
    }
    if (!out && reason_p) {
        *reason_p = reason;
    }
    return out;
}

void
wa_history_free(wa_history_t **history_p)
{
    assert(history_p);
    if (*history_p) {
        wa__history__history_sync__free_unpacked(*history_p, NULL);
        *history_p = NULL;
    }
}

int
wa_history_encode(const wa_history_t *history, uint8_t **out_p, size_t *len_p)
{
    assert(history && out_p && len_p);
    size_t len = wa__history__history_sync__get_packed_size(history);
    uint8_t *plain = cm_alloc(len ? len : 1);
    wa__history__history_sync__pack(history, plain);
    uLongf zlen = compressBound((uLong)len);
    uint8_t *z = cm_alloc(zlen);
    int rc = compress2(z, &zlen, plain, (uLong)len, Z_BEST_SPEED);
    free(plain);
    if (rc != Z_OK) {
        free(z);
        return -1;
    }
    *out_p = z;
    *len_p = (size_t)zlen;
    return 0;
}

int
wa_history_note_message(const wa_history_note_t *note, uint8_t **out_p,
                        size_t *len_p)
{
    assert(note && out_p && len_p);
    size_t nlen = wa__history__history_sync_notification__get_packed_size(note);
    uint8_t *nbuf = cm_alloc(nlen ? nlen : 1);
    wa__history__history_sync_notification__pack(note, nbuf);
    Wa__E2e__ProtocolMessage pm = WA__E2E__PROTOCOL_MESSAGE__INIT;
    pm.has_type = 1;
    pm.type = WA__E2E__PROTOCOL_MESSAGE__TYPE__HISTORY_SYNC_NOTIFICATION;
    pm.has_history_sync_notification = 1;
    pm.history_sync_notification.data = nbuf;
    pm.history_sync_notification.len = nlen;
    Wa__E2e__Message msg = WA__E2E__MESSAGE__INIT;
    msg.protocol_message = &pm;
    size_t len = wa__e2e__message__get_packed_size(&msg);
    uint8_t *out = cm_alloc(len);
    wa__e2e__message__pack(&msg, out);
    free(nbuf);
    *out_p = out;
    *len_p = len;
    return 0;
}

int
wa_history_ask_message(const wa_history_ask_t *ask, uint8_t **out_p,
                       size_t *len_p)
{
    assert(ask && out_p && len_p);
    if (!ask->chat || !*ask->chat || !ask->oldest_id || !*ask->oldest_id ||
        ask->count < 1) {
        return -1;
    }
    Wa__E2e__PeerDataOperationRequestMessage__HistorySyncOnDemandRequest r =
        WA__E2E__PEER_DATA_OPERATION_REQUEST_MESSAGE__HISTORY_SYNC_ON_DEMAND_REQUEST__INIT;
    r.chat_jid = (char *)ask->chat;
    r.oldest_msg_id = (char *)ask->oldest_id;
    r.has_oldest_msg_from_me = 1;
    r.oldest_msg_from_me = ask->oldest_from_me;
    r.has_on_demand_msg_count = 1;
    r.on_demand_msg_count = ask->count;
    r.has_oldest_msg_timestamp_ms = 1;
    r.oldest_msg_timestamp_ms = ask->oldest_ts_ms;
    Wa__E2e__PeerDataOperationRequestMessage pdo =
        WA__E2E__PEER_DATA_OPERATION_REQUEST_MESSAGE__INIT;
    pdo.has_peer_data_operation_request_type = 1;
    pdo.peer_data_operation_request_type =
        WA__E2E__PEER_DATA_OPERATION_REQUEST_MESSAGE__TYPE__HISTORY_SYNC_ON_DEMAND;
    pdo.history_sync_on_demand_request = &r;
    Wa__E2e__ProtocolMessage pm = WA__E2E__PROTOCOL_MESSAGE__INIT;
    pm.has_type = 1;
    pm.type =
        WA__E2E__PROTOCOL_MESSAGE__TYPE__PEER_DATA_OPERATION_REQUEST_MESSAGE;
    pm.peer_data_operation_request_message = &pdo;
    Wa__E2e__Message msg = WA__E2E__MESSAGE__INIT;
    msg.protocol_message = &pm;
    size_t len = wa__e2e__message__get_packed_size(&msg);
    uint8_t *out = cm_alloc(len);
    wa__e2e__message__pack(&msg, out);
    *out_p = out;
    *len_p = len;
    return 0;
}

int
wa_history_ask_parse(const uint8_t *message, size_t len, wa_history_ask_t *ask,
                     void **msg_p)
{
    assert(ask && msg_p);
    *msg_p = NULL;
    Wa__E2e__Message *msg =
        message ? wa__e2e__message__unpack(NULL, len, message) : NULL;
    const Wa__E2e__ProtocolMessage *pm = msg ? msg->protocol_message : NULL;
    const Wa__E2e__PeerDataOperationRequestMessage *pdo =
        pm ? pm->peer_data_operation_request_message : NULL;
    const Wa__E2e__PeerDataOperationRequestMessage__HistorySyncOnDemandRequest
        *r = pdo ? pdo->history_sync_on_demand_request : NULL;
    if (!r ||
        pm->type !=
            WA__E2E__PROTOCOL_MESSAGE__TYPE__PEER_DATA_OPERATION_REQUEST_MESSAGE ||
        pdo->peer_data_operation_request_type !=
            WA__E2E__PEER_DATA_OPERATION_REQUEST_MESSAGE__TYPE__HISTORY_SYNC_ON_DEMAND ||
        !r->chat_jid || !r->oldest_msg_id || r->on_demand_msg_count < 1) {
        if (msg) {
            wa__e2e__message__free_unpacked(msg, NULL);
        }
        return -1;
    }
    ask->chat = r->chat_jid;
    ask->oldest_id = r->oldest_msg_id;
    ask->oldest_from_me = r->oldest_msg_from_me;
    ask->oldest_ts_ms = r->oldest_msg_timestamp_ms;
    ask->count = r->on_demand_msg_count;
    *msg_p = msg;
    return 0;
}

void
wa_history_ask_free(void **msg_p)
{
    if (msg_p && *msg_p) {
        wa__e2e__message__free_unpacked((Wa__E2e__Message *)*msg_p, NULL);
        *msg_p = NULL;
    }
}

int
wa_history_retry_seal(const uint8_t *media_key, size_t key_len, const char *id,
                      uint8_t **enc_p, size_t *enc_len_p, uint8_t iv[12])
{
    assert(enc_p && enc_len_p && iv);
    uint8_t key[32];
    if (!media_key || !id || !*id ||
        wa_media_retry_key(media_key, key_len, key) != 0) {
        return -1;
    }
    Wa__History__ServerErrorReceipt r = WA__HISTORY__SERVER_ERROR_RECEIPT__INIT;
    r.stanza_id = (char *)id;
    size_t len = wa__history__server_error_receipt__get_packed_size(&r);
    uint8_t *plain = cm_alloc(len + 1);
    wa__history__server_error_receipt__pack(&r, plain);
    cm_random(iv, 12);
    uint8_t *enc = cm_alloc(len + WA_GCM_TAG_LEN);
    int rc = wa_aes_gcm_encrypt(key, iv, 12, id, strlen(id), plain, len, enc);
    free(plain);
    wa_crypto_wipe(key, sizeof key);
    if (rc != 0) {
        free(enc);
        return -1;
    }
    *enc_p = enc;
    *enc_len_p = len + WA_GCM_TAG_LEN;
    return 0;
}

int
wa_history_retry_open(const uint8_t *media_key, size_t key_len, const char *id,
                      const uint8_t *enc, size_t enc_len, const uint8_t *iv,
                      size_t iv_len)
{
    uint8_t key[32];
    if (!media_key || !id || !enc || enc_len < WA_GCM_TAG_LEN || !iv ||
        iv_len == 0 || wa_media_retry_key(media_key, key_len, key) != 0) {
        return -1;
    }
    uint8_t *plain = cm_alloc(enc_len);
    int rc = wa_aes_gcm_decrypt(key, iv, iv_len, id, strlen(id), enc, enc_len,
                                plain);
    wa_crypto_wipe(key, sizeof key);
    Wa__History__ServerErrorReceipt *r =
        rc == 0 ? wa__history__server_error_receipt__unpack(
                      NULL, enc_len - WA_GCM_TAG_LEN, plain)
                : NULL;
    rc = r && r->stanza_id && strcmp(r->stanza_id, id) == 0 ? 0 : -1;
    if (r) {
        wa__history__server_error_receipt__free_unpacked(r, NULL);
    }
    free(plain);
    return rc;
}

const char *
wa_history_type_name(int sync_type)
{
    static const char *const names[] = {
        "INITIAL_BOOTSTRAP", "INITIAL_STATUS_V3", "FULL",     "RECENT",
        "PUSH_NAME",         "NON_BLOCKING_DATA", "ON_DEMAND"};
    return sync_type >= 0 && sync_type < (int)(sizeof names / sizeof *names)
               ? names[sync_type]
               : "UNKNOWN";
}

//  --------------------------------------------------------------------

void
wa_history_test(bool verbose)
{
    printf(" * wa_history: ");
    (void)verbose;
    //  A conversation with one text, a push name, a LID pair
    Wa__History__MessageKey key = WA__HISTORY__MESSAGE_KEY__INIT;
    key.remote_jid = "15550001111@s.whatsapp.net";
    key.id = "3EB0AAAA";
    key.has_from_me = 1;
    key.from_me = 0;
    Wa__E2e__Message text = WA__E2E__MESSAGE__INIT;
    text.conversation = "before the link";
    size_t tlen = wa__e2e__message__get_packed_size(&text);
    uint8_t *tbuf = cm_alloc(tlen);
    wa__e2e__message__pack(&text, tbuf);
    Wa__History__WebMessageInfo wmi = WA__HISTORY__WEB_MESSAGE_INFO__INIT;
    wmi.key = &key;
    wmi.has_message = 1;
    wmi.message.data = tbuf;
    wmi.message.len = tlen;
    wmi.has_message_timestamp = 1;
    wmi.message_timestamp = 1700000000;
    wmi.has_starred = 1;
    wmi.starred = 1;
    Wa__History__HistorySyncMsg hm = WA__HISTORY__HISTORY_SYNC_MSG__INIT;
    hm.message = &wmi;
    Wa__History__HistorySyncMsg *hms[] = {&hm};
    Wa__History__Conversation conv = WA__HISTORY__CONVERSATION__INIT;
    conv.id = "15550001111@s.whatsapp.net";
    conv.name = "Bob";
    conv.n_messages = 1;
    conv.messages = hms;
    conv.has_archived = 1;
    conv.archived = 1;
    Wa__History__Conversation *convs[] = {&conv};
    Wa__History__Pushname pn = WA__HISTORY__PUSHNAME__INIT;
    pn.id = "15550001111@s.whatsapp.net";
    pn.pushname = "Bobby";
    Wa__History__Pushname *pns[] = {&pn};
    wa_history_t hs = WA__HISTORY__HISTORY_SYNC__INIT;
    hs.has_sync_type = 1;
    hs.sync_type = WA__HISTORY__HISTORY_SYNC__SYNC_TYPE__INITIAL_BOOTSTRAP;
    hs.n_conversations = 1;
    hs.conversations = convs;
    hs.n_pushnames = 1;
    hs.pushnames = pns;
    uint8_t *blob = NULL;
    size_t blen = 0;
    assert(wa_history_encode(&hs, &blob, &blen) == 0);
    const char *reason = NULL;
    wa_history_t *back = wa_history_decode(blob, blen, 0, &reason);
    assert(back && back->n_conversations == 1 && back->n_pushnames == 1);
    assert(cm_streq(back->conversations[0]->name, "Bob"));
    assert(back->conversations[0]->archived);
    Wa__History__WebMessageInfo *w =
        back->conversations[0]->n_messages == 1
            ? back->conversations[0]->messages[0]->message
            : NULL;
    assert(w && w->starred && w->message_timestamp == 1700000000);
    assert(w->message.len == tlen && !memcmp(w->message.data, tbuf, tlen));
    assert(cm_streq(back->pushnames[0]->pushname, "Bobby"));
    wa_history_free(&back);
    assert(!back);

    //  Hostile input: not zlib, truncated, over the limit, not protobuf
    assert(!wa_history_decode((const uint8_t *)"junk", 4, 0, &reason));
    assert(reason && strstr(reason, "zlib"));
    assert(!wa_history_decode(blob, blen / 2, 0, &reason));
    assert(!wa_history_decode(blob, blen, 8, &reason));
    assert(strstr(reason, "limit"));
    assert(!wa_history_decode(NULL, 0, 0, &reason));
    uint8_t bad[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    uLongf zl = compressBound(sizeof bad);
    uint8_t *z = cm_alloc(zl);
    assert(compress2(z, &zl, bad, sizeof bad, 1) == Z_OK);
    assert(!wa_history_decode(z, zl, 0, &reason));
    assert(cm_streq(reason, "not a HistorySync"));
    free(z);
    free(blob);

    //  The notification inside a Message, and back
    wa_history_note_t note = WA__HISTORY__HISTORY_SYNC_NOTIFICATION__INIT;
    note.direct_path = "/v/t62.36145-24/x.enc";
    note.has_sync_type = 1;
    note.sync_type = WA__HISTORY__HISTORY_SYNC__SYNC_TYPE__PUSH_NAME;
    note.has_chunk_order = 1;
    note.chunk_order = 2;
    uint8_t *msg = NULL;
    size_t mlen = 0;
    assert(wa_history_note_message(&note, &msg, &mlen) == 0);
    wa_history_note_t *got = wa_history_note(msg, mlen);
    assert(got && cm_streq(got->direct_path, note.direct_path));
    assert(got->sync_type == WA__HISTORY__HISTORY_SYNC__SYNC_TYPE__PUSH_NAME);
    assert(got->chunk_order == 2);
    wa_history_note_free(&got);
    assert(!got);
    free(msg);
    //  A text is no notification
    assert(!wa_history_note(tbuf, tlen));
    assert(!wa_history_note(NULL, 0));
    free(tbuf);
    assert(cm_streq(wa_history_type_name(4), "PUSH_NAME"));
    assert(cm_streq(wa_history_type_name(99), "UNKNOWN"));
    //  A server-error receipt's payload opens with the media key and
    //  names its stanza id; another key or id does not open it
    {
        uint8_t mk[32], other[32], iv[12];
        memset(mk, 7, sizeof mk);
        memset(other, 8, sizeof other);
        uint8_t *enc = NULL;
        size_t enc_len = 0;
        assert(wa_history_retry_seal(mk, 32, "3EB0RETRY", &enc, &enc_len, iv) ==
               0);
        assert(enc_len > 16);
        assert(wa_history_retry_open(mk, 32, "3EB0RETRY", enc, enc_len, iv,
                                     12) == 0);
        assert(wa_history_retry_open(other, 32, "3EB0RETRY", enc, enc_len, iv,
                                     12) == -1);
        assert(wa_history_retry_open(mk, 32, "3EB0OTHER", enc, enc_len, iv,
                                     12) == -1);
        assert(wa_history_retry_seal(mk, 32, "", &enc, &enc_len, iv) == -1);
        free(enc);
    }
    //  An ON_DEMAND request round-trips; a text is none
    {
        wa_history_ask_t ask = {"15550002222@s.whatsapp.net", "3EB0OLDEST",
                                true, 1700000000000, 50};
        uint8_t *m = NULL;
        size_t qlen = 0;
        assert(wa_history_ask_message(&ask, &m, &qlen) == 0);
        wa_history_ask_t rq = {0};
        void *held = NULL;
        assert(wa_history_ask_parse(m, qlen, &rq, &held) == 0 && held);
        assert(cm_streq(rq.chat, ask.chat) &&
               cm_streq(rq.oldest_id, ask.oldest_id) && rq.oldest_from_me &&
               rq.oldest_ts_ms == ask.oldest_ts_ms && rq.count == 50);
        wa_history_ask_free(&held);
        assert(!held);
        free(m);
        uint8_t *txt = NULL;
        size_t txt_len = 0;
        Wa__E2e__Message plain = WA__E2E__MESSAGE__INIT;
        plain.conversation = "not a request";
        txt_len = wa__e2e__message__get_packed_size(&plain);
        txt = cm_alloc(txt_len);
        wa__e2e__message__pack(&plain, txt);
        assert(wa_history_ask_parse(txt, txt_len, &rq, &held) == -1 && !held);
        free(txt);
        ask.count = 0;
        assert(wa_history_ask_message(&ask, &m, &qlen) == -1);
    }
    printf("OK\n");
}
