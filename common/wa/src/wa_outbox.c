/*  wa_outbox - outgoing messages

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A capability module of wa_client (see wa_client_int.h): sending
    (wa_client_send_text, wa_client_send_message) and what the server
    and other devices answer to it:

        <ack class="message">   the server took (or refused) a message:
                                a SENT event; on a group send, a `phash`
                                other than ours means our device lists
                                are stale: read the group and its
                                members' devices again and send the
                                message to the devices we missed, once
        <receipt type="retry">  a device could not decrypt one of our
                                messages: send it to that device again,
                                ack the receipt

    A send is a job that walks: group metadata (groups, kept by
    wa_groupcache; a status names its recipients instead) -> device
    lists (usync, cached) -> prekey bundles for devices without a session
    -> encrypt and send (wa_send) -> server ack. Each step that needs the
    server issues one IQ and resumes in its callback; a job waiting for
    an IQ is freed only by that callback. Jobs run from the client's
    wake-up (this module's deadline and wake hooks), fail when the
    connection drops, and time out after send_timeout_ms. Recent sends
    are kept for retry requests.

    A status (wa_status_send) is a group send to status@broadcast whose
    members are the recipients the caller names: one skmsg under our
    sender key for status@broadcast (LID address when we have one), and
    the key's distribution to every recipient device (and our own other
    devices) each time, since the audience may change from one status
    to the next. Recipients whose LID is known are reached at their LID
    devices. A viewer device's retry receipt (from status@broadcast,
    participant = the device) gets the status and our sender key again,
    pairwise, as <message to="status@broadcast" participant=DEVICE>.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>
#include <group_session_builder.h>
#include <protocol.h>

#include "cm/cm.h"
#include "wa/wa_e2e.h"
#include "wa/wa_group.h"
#include "wa/wa_jid.h"
#include "wa/wa_keys.h"
#include "wa/wa_kinds.h"
#include "wa/wa_message.h"
#include "wa/wa_recv.h"
#include "wa/wa_send.h"
#include "wa_client_int.h"

//  Recently sent messages kept for retry requests.
#define S_SENT_MAX 64
//  Resends of one message at most.
#define S_RESEND_MAX 10
//  Group metadata queries per send (changes may drop it meanwhile).
#define S_GROUP_ASKS_MAX 3

//  A list of strings (owned).
typedef struct {
    char **items; //  strings
    size_t count; //  used
    size_t size;  //  allocated
} s_list_t;

static bool
s_list_has(const s_list_t *l, const char *s)
{
    for (size_t i = 0; i < l->count; i++) {
        if (strcmp(l->items[i], s) == 0) {
            return true;
        }
    }
    return false;
}

//  Append a copy of s unless present.
static void
s_list_add(s_list_t *l, const char *s)
{
    if (!s || s_list_has(l, s)) {
        return;
    }
    if (l->count == l->size) {
        l->size = l->size ? l->size * 2 : 8;
        l->items = realloc(l->items, l->size * sizeof(char *));
        assert(l->items);
    }
    l->items[l->count++] = cm_strdup(s);
}

static void
s_list_free(s_list_t *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i]);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

//  A message we sent, for retry requests.
struct _wa_outbox_sent_t {
    char id[WA_CLIENT_ID_MAX]; //  message id ("" = free slot)
    char *chat;                //  destination
    uint8_t *msg;              //  serialised Message
    size_t len;                //  its length
    bool group;                //  sent to a group
    int64_t t;                 //  send time (seconds)
    int resends;               //  resends done
};

struct _wa_outbox_job_t {
    wa_client_t *client;       //  owner
    char id[WA_CLIENT_ID_MAX]; //  message id
    char *chat;                //  destination chat (wire)
    bool group;                //  chat is a group (or status@broadcast)
    bool status;               //  chat is status@broadcast
    char **audience;           //  status: recipients (user JIDs)
    size_t naudience;          //  their number
    bool channel;              //  chat is a channel: sent in plaintext
    char *media_id;            //  channel media: the upload's handle
    uint8_t *msg;              //  serialised Message
    size_t len;                //  its length
    int64_t deadline;          //  fail after this
    bool runnable;             //  run at the next wake
    bool waiting;              //  an IQ for this job is pending
    bool sent;                 //  stanza sent, waiting for the ack
    int group_asks;            //  group metadata queries sent
    int usync_asks;            //  device list queries sent (a reply may
                               //  name a LID to ask for next: 2 at most)
    bool asked_keys;           //  bundles fetched once
    char **skdm_to;            //  devices given our sender key
    size_t skdm_count;         //  their number
    char *phash;               //  participant hash sent (groups)
    s_list_t *had;             //  group sends: every device the send
                               //  covered; refresh: those of the send
    bool refresh;              //  after a phash mismatch: the devices
                               //  missed get the message (never again)
    //  Resend on a retry request
    bool peer;         //  a peer message to our own phone (device 0)
    bool resend;       //  this is a resend
    bool force_keys;   //  fetch a fresh bundle first
    char *device;      //  the device that asked
    char *to;          //  the receipt's from
    char *participant; //  its participant, or NULL
    char *recipient;   //  its recipient, or NULL
    int count;         //  its retry count
    int64_t t;         //  original timestamp
    //  Privacy tokens (wa_tctoken)
    wa_node_t *stanza;     //  a DM as sent, for the one resend after a 463
    bool token_asked;      //  the 463 was answered: no second resend
    wa_outbox_job_t *next; //  list link
};

static void s_job_run(wa_outbox_job_t *job);

//  The mediatype of a media Message for a channel post's <plaintext>
//  ("image", "video", ...), or NULL.
static const char *
s_channel_mediatype(const uint8_t *msg, size_t len)
{
    static const char *const kinds[] = {"image",    "video",   "audio", "ptt",
                                        "document", "sticker", NULL};
    wa_message_t *m = wa_message_decode(msg, len);
    const char *out = NULL;
    for (size_t i = 0; m && wa_message_has_media(m) && kinds[i]; i++) {
        if (cm_streq(wa_message_type(m), kinds[i])) {
            out = kinds[i];
        }
    }
    wa_message_destroy(&m);
    return out;
}

static wa_outbox_job_t *
s_job_new(wa_client_t *self, const char *chat, const uint8_t *msg, size_t len)
{
    wa_outbox_job_t *job = cm_alloc(sizeof *job);
    job->client = self;
    job->chat = cm_strdup(chat);
    wa_jid_t *jid = wa_jid_new_from(chat);
    job->status = jid && wa_jid_is_status(jid);
    job->group = jid && (wa_jid_is_group(jid) || job->status);
    job->channel = jid && wa_jid_is_newsletter(jid);
    wa_jid_destroy(&jid);
    job->msg = cm_alloc(len ? len : 1);
    memcpy(job->msg, msg, len);
    job->len = len;
    job->deadline = wa_client_now(self) + self->cfg.send_timeout_ms;
    job->runnable = true;
    job->next = self->jobs;
    self->jobs = job;
    return job;
}

static void
s_job_unlink(wa_outbox_job_t *job)
{
    wa_client_t *self = job->client;
    for (wa_outbox_job_t **p = &self->jobs; *p; p = &(*p)->next) {
        if (*p == job) {
            *p = job->next;
            break;
        }
    }
    job->next = NULL;
}

static void
s_job_free(wa_outbox_job_t **job_p)
{
    wa_outbox_job_t *job = *job_p;
    if (!job) {
        return;
    }
    for (size_t i = 0; i < job->skdm_count; i++) {
        free(job->skdm_to[i]);
    }
    free(job->skdm_to);
    for (size_t i = 0; i < job->naudience; i++) {
        free(job->audience[i]);
    }
    free(job->audience);
    free(job->phash);
    if (job->had) {
        s_list_free(job->had);
        free(job->had);
    }
    free(job->chat);
    free(job->media_id);
    free(job->msg);
    free(job->device);
    free(job->to);
    free(job->participant);
    free(job->recipient);
    wa_node_destroy(&job->stanza);
    free(job);
    *job_p = NULL;
}

//  End a job with an error: unlink, report (not for resends), free.
static void
s_job_fail(wa_outbox_job_t *job, int error, const char *reason)
{
    wa_client_t *self = job->client;
    s_job_unlink(job);
    if (!job->resend) {
        cm_log_info("could not send message", "session=%s id=%s reason=\"%s\"",
                    wa_client_name(self), job->id, reason);
        wa_client_event_t ev = {.type = WA_CLIENT_EVENT_SENT};
        ev.u.sent.id = job->id;
        ev.u.sent.chat = job->chat;
        ev.u.sent.ok = false;
        ev.u.sent.error = error;
        ev.u.sent.reason = reason;
        wa_client_emit(self, &ev);
    } else {
        cm_log_info("could not resend message",
                    "session=%s id=%s "
                    "reason=\"%s\"",
                    wa_client_name(self), job->id, reason);
    }
    s_job_free(&job);
}

//  The job's IQ came back; common handling of failures. Returns true
//  when the job may go on (result), false when it was ended.
static bool
s_job_reply(wa_outbox_job_t *job, wa_iq_outcome_t outcome,
            const wa_node_t *reply, const char *what)
{
    wa_client_t *self = job->client;
    job->waiting = false;
    if (outcome == WA_IQ_CANCELLED) {
        s_job_fail(job, 0, "connection lost");
        return false;
    }
    if (outcome == WA_IQ_TIMEOUT) {
        char *reason = cm_sprintf("%s timed out", what);
        s_job_fail(job, 0, reason);
        free(reason);
        return false;
    }
    if (outcome == WA_IQ_ERROR) {
        int code = wa_iq_error_code(reply);
        char *reason =
            cm_sprintf("%s failed: %d %s", what, code, wa_iq_error_text(reply));
        s_job_fail(job, code > 0 ? code : 0, reason);
        free(reason);
        return false;
    }
    if (wa_client_now(self) >= job->deadline) {
        s_job_fail(job, 0, "timed out");
        return false;
    }
    return true;
}

static void
s_on_group_info(void *arg, const wa_node_t *reply, wa_iq_outcome_t outcome)
{
    wa_outbox_job_t *job = (wa_outbox_job_t *)arg;
    if (!s_job_reply(job, outcome, reply, "group query")) {
        return;
    }
    wa_group_t *g = wa_group_parse(job->chat, reply);
    if (!g) {
        s_job_fail(job, 404, "group not found");
        return;
    }
    zhashx_update(job->client->groups, job->chat, g);
    wa_client_t *self = job->client;
    s_job_run(job); //  may free the job
    wa_client_rearm(self);
}

static void
s_on_usync(void *arg, const wa_node_t *reply, wa_iq_outcome_t outcome)
{
    wa_outbox_job_t *job = (wa_outbox_job_t *)arg;
    if (!s_job_reply(job, outcome, reply, "device query")) {
        return;
    }
    if (wa_usync_parse(job->client->usync, reply) < 0) {
        cm_log_warn("could not parse device list", "session=%s",
                    wa_client_name(job->client));
    }
    wa_client_t *self = job->client;
    s_job_run(job); //  may free the job
    wa_client_rearm(self);
}

static void
s_on_bundle(void *arg, const char *jid, const wa_bundle_t *bundle)
{
    wa_outbox_job_t *job = (wa_outbox_job_t *)arg;
    char name[WA_SEND_NAME_MAX];
    int device = 0;
    if (!bundle || wa_send_address(jid, name, &device) != 0 ||
        wa_e2e_process_bundle(job->client->store, name, device, bundle) != 0) {
        cm_log_warn("could not start session", "session=%s device=%s",
                    wa_client_name(job->client), jid);
    }
}

static void
s_on_keys(void *arg, const wa_node_t *reply, wa_iq_outcome_t outcome)
{
    wa_outbox_job_t *job = (wa_outbox_job_t *)arg;
    if (!s_job_reply(job, outcome, reply, "prekey query")) {
        return;
    }
    if (wa_keys_bundles(reply, s_on_bundle, job) < 0) {
        cm_log_warn("could not parse prekey bundles", "session=%s",
                    wa_client_name(job->client));
    }
    wa_client_t *self = job->client;
    s_job_run(job); //  may free the job
    wa_client_rearm(self);
}

//  True when jid (any JID text) is one of our own account's users.
static bool
s_is_own_user(wa_client_t *self, const char *jid)
{
    char *user = wa_client_user_of(jid);
    bool own = user && (cm_streq(user, self->me_pn_user) ||
                        cm_streq(user, self->me_lid_user));
    free(user);
    return own;
}

//  True when device (JID text) is this very device.
static bool
s_is_own_device(wa_client_t *self, const char *device)
{
    wa_jid_t *jid = wa_jid_new_from(device);
    bool own = jid && wa_jid_device(jid) == self->me_device &&
               s_is_own_user(self, device);
    wa_jid_destroy(&jid);
    return own;
}

//  Our user JID in the chat's address space (LID chats: our LID).
static const char *
s_own_user_for(wa_client_t *self, bool lid)
{
    return lid && self->me_lid_user ? self->me_lid_user : self->me_pn_user;
}

//  Users whose devices the job needs.
static void
s_job_users(wa_outbox_job_t *job, s_list_t *users)
{
    wa_client_t *self = job->client;
    if (job->resend) {
        char *u = wa_client_user_of(job->device);
        s_list_add(users, u);
        free(u);
        return;
    }
    if (job->status) {
        //  Statuses are LID-addressed: a recipient whose LID is known is
        //  reached at its LID devices (wa_lidmap)
        for (size_t i = 0; i < job->naudience; i++) {
            const char *lid = wa_client_lid_for(self, job->audience[i]);
            s_list_add(users, lid ? lid : job->audience[i]);
        }
        s_list_add(users, s_own_user_for(self, true));
        return;
    }
    if (job->group) {
        wa_group_t *g = (wa_group_t *)zhashx_lookup(self->groups, job->chat);
        size_t n = 0;
        const char *const *p = wa_group_participants(g, &n);
        for (size_t i = 0; i < n; i++) {
            s_list_add(users, p[i]);
        }
        s_list_add(users, s_own_user_for(self, wa_group_is_lid(g)));
        return;
    }
    wa_jid_t *chat = wa_jid_new_from(job->chat);
    bool lid = chat && wa_jid_is_lid(chat);
    wa_jid_destroy(&chat);
    //  LID first: a person whose LID is known is reached there (wa_lidmap)
    const char *peer_lid = s_is_own_user(self, job->chat)
                               ? NULL
                               : wa_client_lid_for(self, job->chat);
    s_list_add(users, peer_lid ? peer_lid : job->chat);
    s_list_add(users, s_own_user_for(self, lid));
}

//  Our current sender key distribution for a group (without encrypting
//  anything). Caller owns *out_p.
static int
s_group_skdm(wa_client_t *self, const char *group, const char *own_name,
             uint8_t **out_p, size_t *out_len)
{
    signal_context *ctx = wa_signal_context(self->signal);
    signal_protocol_sender_key_name name = {
        group, strlen(group), {own_name, strlen(own_name), self->me_device}};
    group_session_builder *builder = NULL;
    sender_key_distribution_message *skdm = NULL;
    int rc = -1;
    if (group_session_builder_create(&builder, wa_sigstore_context(self->store),
                                     ctx) == 0 &&
        group_session_builder_create_session(builder, &skdm, &name) == 0) {
        signal_buffer *b =
            ciphertext_message_get_serialized((ciphertext_message *)skdm);
        *out_len = signal_buffer_len(b);
        *out_p = cm_alloc(*out_len ? *out_len : 1);
        memcpy(*out_p, signal_buffer_data(b), *out_len);
        rc = 0;
    }
    SIGNAL_UNREF(skdm);
    if (builder) {
        group_session_builder_free(builder);
    }
    return rc;
}

//  True when the job's sender key is under our LID address: LID groups,
//  and statuses once we have a LID (as WhatsApp's clients send them).
static bool
s_job_lid(wa_outbox_job_t *job)
{
    wa_client_t *self = job->client;
    if (job->status) {
        return self->me_lid_user != NULL;
    }
    wa_group_t *g = (wa_group_t *)zhashx_lookup(self->groups, job->chat);
    return g && wa_group_is_lid(g);
}

static wa_node_t *
s_message_node(wa_outbox_job_t *job)
{
    wa_client_t *self = job->client;
    wa_node_t *m = wa_node_new("message");
    wa_node_set_attr(m, "id", job->id);
    //  A DM to a person whose LID is known goes to the LID, with the
    //  phone number alongside (wa_lidmap; wa-protocol.md §7.3)
    const char *peer_lid =
        !job->group && !job->resend && !s_is_own_user(self, job->chat)
            ? wa_client_lid_for(self, job->chat)
            : NULL;
    wa_node_set_attr(m, "to",
                     job->resend ? job->to : (peer_lid ? peer_lid : job->chat));
    if (peer_lid) {
        wa_node_set_attr(m, "peer_recipient_pn", job->chat);
    }
    wa_node_set_attr(m, "type", wa_send_stanza_type(job->msg, job->len));
    if (job->peer) {
        wa_node_set_attr(m, "category", "peer");
    }
    const char *edit = wa_kinds_edit_attr(job->msg, job->len);
    if (edit) {
        wa_node_set_attr(m, "edit", edit);
    }
    return m;
}

//  True when the job is a DM to someone else (privacy tokens apply).
static bool
s_is_dm(wa_outbox_job_t *job)
{
    return !job->group && !s_is_own_user(job->client, job->chat);
}

static void
s_add_device_identity(wa_client_t *self, wa_node_t *m)
{
    if (self->account) {
        wa_node_set_bytes(wa_node_add(m, "device-identity"), self->account,
                          self->account_len);
    }
}

//  Build and send a resend for one device.
static void
s_job_send_resend(wa_outbox_job_t *job)
{
    wa_client_t *self = job->client;
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    if (job->group) {
        //  Protobuf messages merge when concatenated: content + our key
        wa_group_t *g = (wa_group_t *)zhashx_lookup(self->groups, job->chat);
        char own[WA_SEND_NAME_MAX];
        wa_client_own_address(self, s_job_lid(job), own);
        uint8_t *skdm = NULL;
        size_t skdm_len = 0;
        uint8_t *dist = NULL;
        size_t dist_len = 0;
        if (s_group_skdm(self, job->chat, own, &skdm, &skdm_len) == 0 &&
            wa_message_build_skdm(job->chat, skdm, skdm_len, &dist,
                                  &dist_len) == 0) {
            plain_len = job->len + dist_len;
            plain = cm_alloc(plain_len);
            memcpy(plain, job->msg, job->len);
            memcpy(plain + job->len, dist, dist_len);
        }
        free(skdm);
        free(dist);
        if (g) {
            zhashx_delete(wa_groupcache_holders(self, job->chat), job->device);
        }
    } else if (s_is_own_user(self, job->device)) {
        wa_message_build_dsm(job->msg, job->len, job->chat, &plain, &plain_len);
    } else {
        plain = cm_alloc(job->len ? job->len : 1);
        memcpy(plain, job->msg, job->len);
        plain_len = job->len;
    }
    bool pkmsg = false;
    wa_node_t *enc =
        plain ? wa_send_enc(self->store, job->device, plain, plain_len, &pkmsg)
              : NULL;
    free(plain);
    if (!enc) {
        s_job_fail(job, 0, "could not encrypt for the device");
        return;
    }
    if (job->count > 0) {
        wa_node_set_attr_int(enc, "count", job->count);
    }
    wa_node_t *m = s_message_node(job);
    if (job->t > 0) {
        wa_node_set_attr_int(m, "t", job->t);
    }
    if (!job->group) {
        wa_node_set_attr(m, "device_fanout", "false");
    }
    if (job->participant) {
        wa_node_set_attr(m, "participant", job->participant);
    }
    if (job->recipient) {
        wa_node_set_attr(m, "recipient", job->recipient);
    }
    wa_node_append(m, &enc);
    if (pkmsg) {
        s_add_device_identity(self, m);
    }
    if (s_is_dm(job)) {
        wa_tctoken_attach(self, job->chat, m);
    }
    cm_log_debug("resending message", "session=%s id=%s device=%s count=%d",
                 wa_client_name(self), job->id, job->device, job->count);
    wa_client_send_node(self, &m);
    s_job_unlink(job);
    s_job_free(&job);
}

//  Encrypt for every device and send; then wait for the server ack.
static void
s_job_send(wa_outbox_job_t *job, const s_list_t *devices)
{
    wa_client_t *self = job->client;
    wa_node_t *m = s_message_node(job);
    wa_node_t *participants = wa_node_new("participants");
    bool any_pkmsg = false;
    if (job->group) {
        bool lid = s_job_lid(job);
        char own[WA_SEND_NAME_MAX];
        wa_client_own_address(self, lid, own);
        uint8_t *skmsg = NULL;
        size_t skmsg_len = 0;
        uint8_t *skdm = NULL;
        size_t skdm_len = 0;
        uint8_t *dist = NULL;
        size_t dist_len = 0;
        if (wa_e2e_group_encrypt(self->store, job->chat, own, self->me_device,
                                 job->msg, job->len, &skmsg, &skmsg_len, &skdm,
                                 &skdm_len) != 0 ||
            wa_message_build_skdm(job->chat, skdm, skdm_len, &dist,
                                  &dist_len) != 0) {
            free(skmsg);
            free(skdm);
            wa_node_destroy(&participants);
            wa_node_destroy(&m);
            s_job_fail(job, 0, "could not encrypt for the group");
            return;
        }
        //  A status distributes the key to every recipient each time
        zhashx_t *have =
            job->status ? NULL : wa_groupcache_holders(self, job->chat);
        job->skdm_to =
            cm_alloc((devices->count ? devices->count : 1) * sizeof(char *));
        for (size_t i = 0; i < devices->count; i++) {
            const char *d = devices->items[i];
            bool pk = false;
            if (have && zhashx_lookup(have, d)) {
                continue;
            }
            char *lid_dev = wa_client_lid_device(self, d); //  wa_lidmap
            if (wa_send_add_participant(self->store, participants,
                                        lid_dev ? lid_dev : d, dist, dist_len,
                                        &pk) == 0) {
                any_pkmsg |= pk;
                job->skdm_to[job->skdm_count++] = cm_strdup(d);
                if (lid_dev) {
                    //  Encrypted under the LID, addressed as the group does
                    wa_node_set_attr(
                        wa_node_child_at(participants,
                                         wa_node_child_count(participants) - 1),
                        "jid", d);
                }
            }
            free(lid_dev);
        }
        //  The participant hash of every device the send covers: the
        //  server acks a stale one with its own (s_on_message_ack)
        free(job->phash);
        job->phash =
            wa_send_phash((const char *const *)devices->items, devices->count);
        wa_node_set_attr(m, "phash", job->phash);
        if (!job->had) {
            job->had = cm_alloc(sizeof *job->had);
        }
        for (size_t i = 0; i < devices->count; i++) {
            s_list_add(job->had, devices->items[i]);
        }
        if (lid && !job->status) {
            wa_node_set_attr(m, "addressing_mode", "lid");
        }
        if (wa_node_child_count(participants) > 0) {
            wa_node_append(m, &participants);
        }
        wa_node_t *enc = wa_node_add(m, "enc");
        wa_node_set_attr(enc, "v", "2");
        wa_node_set_attr(enc, "type", "skmsg");
        wa_node_set_bytes(enc, skmsg, skmsg_len);
        free(skmsg);
        free(skdm);
        free(dist);
    } else {
        uint8_t *dsm = NULL;
        size_t dsm_len = 0;
        for (size_t i = 0; i < devices->count; i++) {
            const char *d = devices->items[i];
            const uint8_t *plain = job->msg;
            size_t plain_len = job->len;
            if (s_is_own_user(self, d) && !job->peer) {
                if (!dsm && wa_message_build_dsm(job->msg, job->len, job->chat,
                                                 &dsm, &dsm_len) != 0) {
                    continue;
                }
                plain = dsm;
                plain_len = dsm_len;
            }
            bool pk = false;
            if (wa_send_add_participant(self->store, participants, d, plain,
                                        plain_len, &pk) == 0) {
                any_pkmsg |= pk;
            } else {
                cm_log_warn("could not encrypt for device",
                            "session=%s id=%s device=%s", wa_client_name(self),
                            job->id, d);
            }
        }
        free(dsm);
        if (wa_node_child_count(participants) == 0) {
            wa_node_destroy(&participants);
            wa_node_destroy(&m);
            s_job_fail(job, 0, "no device could be reached");
            return;
        }
        wa_node_append(m, &participants);
    }
    wa_node_destroy(&participants);
    if (any_pkmsg) {
        s_add_device_identity(self, m);
    }
    if (s_is_dm(job)) {
        //  The recipient may take DMs only with its privacy token; keep
        //  the stanza to send it once more after a 463 (wa_tctoken)
        wa_tctoken_attach(self, job->chat, m);
        job->stanza = wa_node_dup(m);
    }
    job->sent = true;
    wa_client_send_node(self, &m);
}

//  A resend of job's message to one group device that the send missed
//  (as a retry answer: <message to=GROUP participant=DEVICE> with the
//  message and our sender key, pairwise).
static void
s_resend_to(wa_outbox_job_t *job, const char *device)
{
    wa_client_t *self = job->client;
    wa_outbox_job_t *r = s_job_new(self, job->chat, job->msg, job->len);
    snprintf(r->id, sizeof r->id, "%s", job->id);
    r->group = true;
    r->resend = true;
    char *lid_dev = wa_client_lid_device(self, device); //  wa_lidmap
    r->device = lid_dev ? lid_dev : cm_strdup(device);
    r->to = cm_strdup(job->chat);
    r->participant = cm_strdup(device);
}

//  The refreshed device lists of a group send whose phash the server
//  did not take: the devices it missed get the message, once; the
//  refresh ends here whatever happens (no second refresh).
static void
s_job_refresh(wa_outbox_job_t *job, const s_list_t *devices)
{
    wa_client_t *self = job->client;
    size_t missed = 0;
    for (size_t i = 0; i < devices->count; i++) {
        const char *d = devices->items[i];
        if (!job->had || !s_list_has(job->had, d)) {
            s_resend_to(job, d);
            missed++;
        }
    }
    cm_log_info("refreshed group devices after a participant hash mismatch",
                "session=%s id=%s group=%s devices=%zu missed=%zu",
                wa_client_name(self), job->id, job->chat, devices->count,
                missed);
    s_job_unlink(job);
    s_job_free(&job);
    wa_client_rearm(self);
}

//  The server acked a group send with another participant hash than
//  ours: our view of the group's devices is stale (a device joined or
//  left behind our back). Forget the group's metadata and its members'
//  device lists, read them again and send to the devices we missed
//  (whatsmeow send.go compares the ack's phash and drops its caches;
//  Baileys 7 stopped resending on it because it looped: we resend once,
//  to the missed devices only).
static void
s_phash_refresh(wa_outbox_job_t *job, const char *theirs)
{
    wa_client_t *self = job->client;
    cm_log_warn("server's participant hash differs from ours",
                "session=%s id=%s group=%s ours=%s theirs=%s",
                wa_client_name(self), job->id, job->chat, job->phash, theirs);
    wa_group_t *g = (wa_group_t *)zhashx_lookup(self->groups, job->chat);
    size_t n = 0;
    const char *const *p = g ? wa_group_participants(g, &n) : NULL;
    for (size_t i = 0; i < n; i++) {
        wa_usync_invalidate(self->usync, p[i]);
    }
    wa_usync_invalidate(self->usync, self->me_pn_user);
    if (self->me_lid_user) {
        wa_usync_invalidate(self->usync, self->me_lid_user);
    }
    wa_groupcache_forget(self, job->chat);
    wa_outbox_job_t *r = s_job_new(self, job->chat, job->msg, job->len);
    snprintf(r->id, sizeof r->id, "%s", job->id);
    r->refresh = true;
    r->had = job->had;
    job->had = NULL;
}

static void
s_job_run(wa_outbox_job_t *job)
{
    wa_client_t *self = job->client;
    job->runnable = false;
    if (job->waiting || job->sent) {
        return;
    }
    if (self->conn != WA_CLIENT_CONN_ONLINE) {
        s_job_fail(job, 0, "not connected");
        return;
    }
    if (job->channel) {
        //  Channel posts are not encrypted: the Message bytes, unpadded,
        //  in <plaintext> (wa-protocol.md §10.2); the server checks that
        //  we may post there
        wa_node_t *m = wa_node_new("message");
        wa_node_set_attr(m, "id", job->id);
        wa_node_set_attr(m, "to", job->chat);
        wa_node_set_attr(m, "type", wa_send_stanza_type(job->msg, job->len));
        if (job->media_id) {
            //  The handle of the unencrypted upload the post shows
            wa_node_set_attr(m, "media_id", job->media_id);
        }
        wa_node_t *pt = wa_node_add(m, "plaintext");
        const char *mediatype = s_channel_mediatype(job->msg, job->len);
        if (mediatype) {
            wa_node_set_attr(pt, "mediatype", mediatype);
        }
        wa_node_set_bytes(pt, job->msg, job->len);
        job->sent = true;
        wa_client_send_node(self, &m);
        return;
    }
    //  1. Group metadata
    if (job->group && !job->status && !zhashx_lookup(self->groups, job->chat)) {
        //  Fetched already, but a change notification dropped it since:
        //  fetch again (a few times at most)
        if (job->group_asks >= S_GROUP_ASKS_MAX) {
            s_job_fail(job, 0, "the group kept changing");
            return;
        }
        wa_node_t *iq = wa_group_query(job->chat);
        job->group_asks++;
        job->waiting = true;
        if (wa_client_request(self, &iq, s_on_group_info, job) != 0) {
            job->waiting = false;
            s_job_fail(job, 0, "not connected");
        }
        return;
    }
    //  2. Device lists
    s_list_t users = {0};
    s_job_users(job, &users);
    s_list_t missing = {0};
    for (size_t i = 0; i < users.count; i++) {
        if (!wa_usync_devices(self->usync, users.items[i], NULL)) {
            s_list_add(&missing, users.items[i]);
        }
    }
    if (missing.count && job->usync_asks < 2) {
        char sid[WA_IQ_ID_MAX];
        wa_iq_next_id(self->iq, sid);
        wa_node_t *iq = wa_usync_query((const char *const *)missing.items,
                                       missing.count, sid);
        s_list_free(&missing);
        s_list_free(&users);
        job->usync_asks++;
        job->waiting = true;
        if (wa_client_request(self, &iq, s_on_usync, job) != 0) {
            job->waiting = false;
            s_job_fail(job, 0, "not connected");
        }
        return;
    }
    s_list_free(&missing);
    //  3. Devices: everyone's except this one; no hosted devices in groups
    s_list_t devices = {0};
    bool recipient_found = job->group || job->resend;
    for (size_t i = 0; i < users.count; i++) {
        size_t n = 0;
        const char *const *d =
            wa_usync_devices(self->usync, users.items[i], &n);
        for (size_t k = 0; d && k < n; k++) {
            if (s_is_own_device(self, d[k])) {
                continue;
            }
            if (job->peer) {
                //  Our phone only, no other companion
                wa_jid_t *j = wa_jid_new_from(d[k]);
                bool phone = j && wa_jid_device(j) == 0;
                wa_jid_destroy(&j);
                if (phone && s_is_own_user(self, d[k])) {
                    s_list_add(&devices, d[k]);
                    recipient_found = true;
                }
                continue;
            }
            if (job->group) {
                wa_jid_t *j = wa_jid_new_from(d[k]);
                bool hosted = !j || wa_jid_is_hosted(j);
                wa_jid_destroy(&j);
                if (hosted) {
                    continue;
                }
            }
            s_list_add(&devices, d[k]);
            if (!s_is_own_user(self, d[k])) {
                recipient_found = true;
            }
        }
    }
    s_list_free(&users);
    if (job->resend) {
        s_list_free(&devices);
        s_list_add(&devices, job->device);
    }
    if (job->refresh) {
        s_job_refresh(job, &devices); //  frees the job
        s_list_free(&devices);
        return;
    }
    if (!recipient_found) {
        s_list_free(&devices);
        s_job_fail(job, 404, "recipient is not on WhatsApp");
        return;
    }
    //  4. Sessions
    s_list_t need = {0};
    zhashx_t *have = job->group && !job->status
                         ? (zhashx_t *)zhashx_lookup(self->skdm, job->chat)
                         : NULL;
    for (size_t i = 0; i < devices.count; i++) {
        const char *d = devices.items[i];
        char name[WA_SEND_NAME_MAX];
        int dev = 0;
        char *lid_dev = wa_client_lid_device(self, d); //  wa_lidmap
        const char *enc_dev = lid_dev ? lid_dev : d;
        if (wa_send_address(enc_dev, name, &dev) != 0 ||
            (job->group && !job->resend && have && zhashx_lookup(have, d))) {
            free(lid_dev); //  no address, or has our sender key
            continue;
        }
        if (!wa_e2e_has_session(self->store, name, dev) ||
            (job->resend && job->force_keys)) {
            s_list_add(&need, enc_dev);
        }
        free(lid_dev);
    }
    if (need.count && !job->asked_keys) {
        wa_node_t *iq =
            wa_keys_fetch((const char *const *)need.items, need.count);
        s_list_free(&need);
        s_list_free(&devices);
        job->asked_keys = true;
        job->waiting = true;
        if (wa_client_request(self, &iq, s_on_keys, job) != 0) {
            job->waiting = false;
            s_job_fail(job, 0, "not connected");
        }
        return;
    }
    s_list_free(&need);
    //  Only devices the account vouches for (wa_devident)
    for (size_t i = devices.count; !job->resend && i > 0; i--) {
        if (!wa_devident_covered(self, devices.items[i - 1])) {
            free(devices.items[i - 1]);
            devices.items[i - 1] = devices.items[--devices.count];
        }
    }
    //  5. Encrypt and send
    if (job->resend) {
        s_job_send_resend(job);
    } else {
        s_job_send(job, &devices);
    }
    s_list_free(&devices);
}

//  The answer to issuing our privacy token after a 463: send the DM
//  once more with the contact's token (or a cstoken), else fail.
static void
s_on_token(void *arg, const wa_node_t *reply, wa_iq_outcome_t outcome)
{
    wa_outbox_job_t *job = (wa_outbox_job_t *)arg;
    wa_client_t *self = job->client;
    job->waiting = false;
    if (outcome == WA_IQ_CANCELLED) {
        s_job_fail(job, 0, "connection lost");
        return;
    }
    wa_tctoken_on_issued(self, job->chat, reply);
    //  A cstoken the server refused is not sent again: only a token
    //  from the answer (or a salt that came since) is worth a resend
    bool had_cstoken = wa_node_child(job->stanza, "cstoken") != NULL;
    wa_tctoken_detach(job->stanza);
    int token = wa_tctoken_attach(self, job->chat, job->stanza);
    if (token == 0 || (token == 2 && had_cstoken)) {
        s_job_fail(job, 463,
                   "the recipient takes messages only with a "
                   "privacy token, and none could be obtained");
        return;
    }
    cm_log_info("resending message with privacy token", "session=%s id=%s",
                wa_client_name(self), job->id);
    wa_node_t *m = wa_node_dup(job->stanza);
    wa_client_send_node(self, &m);
    wa_client_rearm(self);
}

//  <ack class="message">: the server acknowledged (or refused) one of
//  our messages.
static int
s_on_message_ack(void *arg, const wa_node_t *node)
{
    wa_client_t *self = (wa_client_t *)arg;
    const char *id = wa_node_attr(node, "id");
    wa_outbox_job_t *job = self->jobs;
    while (job && !(job->sent && !job->resend && cm_streq(job->id, id))) {
        job = job->next;
    }
    if (!job) {
        return 0; //  a resend's ack, or a job already given up
    }
    int64_t error = 0;
    if (wa_node_attr_int(node, "error", &error) == 0 && error != 0) {
        if (error == 463 && job->stanza && !job->token_asked) {
            //  No valid privacy token: issue ours, which answers theirs,
            //  and send once more (never twice)
            job->token_asked = true;
            wa_node_t *iq = wa_tctoken_issue_iq(self, job->chat);
            job->waiting = iq != NULL;
            if (iq && wa_client_request(self, &iq, s_on_token, job) == 0) {
                return 0;
            }
            wa_node_destroy(&iq);
            job->waiting = false;
        }
        s_job_fail(job, (int)error, "the server refused the message");
        return 0;
    }
    if (job->group && !job->status && job->skdm_count) {
        zhashx_t *have = wa_groupcache_holders(self, job->chat);
        for (size_t i = 0; i < job->skdm_count; i++) {
            zhashx_update(have, job->skdm_to[i], (void *)1);
        }
    }
    if (job->stanza) {
        wa_tctoken_sent(self, job->chat); //  our token, once per bucket
    }
    const char *phash = wa_node_attr(node, "phash");
    if (job->group && !job->status && job->phash && phash &&
        !cm_streq(phash, job->phash)) {
        s_phash_refresh(job, phash);
    }
    s_job_unlink(job);
    wa_client_event_t ev = {.type = WA_CLIENT_EVENT_SENT};
    ev.u.sent.id = job->id;
    ev.u.sent.chat = job->chat;
    ev.u.sent.ok = true;
    ev.u.sent.timestamp = wa_node_attr_int_or(node, "t", wa_client_wall_s());
    wa_client_emit(self, &ev);
    s_job_free(&job);
    return 0;
}

//  Remember a sent message for retry requests.
static void
s_sent_remember(wa_client_t *self, const wa_outbox_job_t *job)
{
    wa_outbox_sent_t *s = &self->sent[self->sent_at];
    self->sent_at = (self->sent_at + 1) % S_SENT_MAX;
    free(s->chat);
    free(s->msg);
    snprintf(s->id, sizeof s->id, "%s", job->id);
    s->chat = cm_strdup(job->chat);
    s->msg = cm_alloc(job->len ? job->len : 1);
    memcpy(s->msg, job->msg, job->len);
    s->len = job->len;
    s->group = job->group;
    s->t = wa_client_wall_s();
    s->resends = 0;
}

static wa_outbox_sent_t *
s_sent_find(wa_client_t *self, const char *id)
{
    for (size_t i = 0; id && i < S_SENT_MAX; i++) {
        if (self->sent[i].msg && strcmp(self->sent[i].id, id) == 0) {
            return &self->sent[i];
        }
    }
    return NULL;
}

//  A device could not decrypt one of our messages: send it again.
static void
s_retry(wa_client_t *self, const wa_node_t *node)
{
    wa_recv_source_t src;
    wa_recv_retry_t rr;
    if (wa_recv_source(&src, node, self->me_jid, self->me_lid) != 0) {
        return;
    }
    if (wa_recv_retry_parse(node, &rr) != 0) {
        cm_log_warn("could not parse retry receipt", "session=%s id=%s",
                    wa_client_name(self), src.id);
        wa_recv_source_clear(&src);
        return;
    }
    wa_outbox_sent_t *sent = s_sent_find(self, src.id);
    if (!sent) {
        cm_log_info("could not find message for retry receipt",
                    "session=%s id=%s", wa_client_name(self), src.id);
        wa_recv_source_clear(&src);
        return;
    }
    if (++sent->resends > S_RESEND_MAX) {
        wa_recv_source_clear(&src);
        return;
    }
    //  Under the LID address when known (wa_lidmap)
    char *lid_dev = wa_client_lid_device(self, src.sender);
    if (lid_dev) {
        free(src.sender);
        src.sender = lid_dev;
    }
    if (rr.has_keys) {
        char name[WA_SEND_NAME_MAX];
        int device = 0;
        if (wa_send_address(src.sender, name, &device) != 0 ||
            wa_e2e_process_bundle(self->store, name, device, &rr.bundle) != 0) {
            cm_log_warn("could not start session from retry receipt",
                        "session=%s device=%s", wa_client_name(self),
                        src.sender);
        }
    }
    wa_outbox_job_t *job = s_job_new(self, sent->chat, sent->msg, sent->len);
    snprintf(job->id, sizeof job->id, "%s", sent->id);
    job->group = sent->group;
    job->resend = true;
    job->force_keys = !rr.has_keys && rr.count >= 2;
    job->device = cm_strdup(src.sender);
    job->to = cm_strdup(wa_node_attr(node, "from"));
    const char *p = wa_node_attr(node, "participant");
    job->participant = p ? cm_strdup(p) : NULL;
    const char *r = wa_node_attr(node, "recipient");
    job->recipient = r ? cm_strdup(r) : NULL;
    job->count = rr.count;
    job->t = sent->t;
    wa_recv_source_clear(&src);
}

//  <receipt type="retry">: resend (s_retry), then ack the receipt.
static int
s_on_retry_request(void *arg, const wa_node_t *node)
{
    wa_client_t *self = (wa_client_t *)arg;
    s_retry(self, node);
    wa_node_t *ack = wa_recv_ack(node, 0);
    wa_client_send_node(self, &ack);
    return 0;
}

int
wa_outbox_send_message(wa_client_t *self, const char *chat, const uint8_t *msg,
                       size_t len, char id[WA_CLIENT_ID_MAX])
{
    return wa_outbox_send_message_as(self, chat, msg, len, NULL, id);
}

int
wa_outbox_send_peer(wa_client_t *self, const uint8_t *msg, size_t len,
                    char id[WA_CLIENT_ID_MAX])
{
    if (!self->me_pn_user ||
        wa_outbox_send_message_as(self, self->me_pn_user, msg, len, NULL, id) !=
            0) {
        return -1;
    }
    //  The job just queued is the first
    assert(self->jobs && strcmp(self->jobs->id, id) == 0);
    self->jobs->peer = true;
    return 0;
}

int
wa_outbox_send_message_as(wa_client_t *self, const char *chat,
                          const uint8_t *msg, size_t len, const char *want,
                          char id[WA_CLIENT_ID_MAX])
{
    if (!wa_client_ready(self) || !chat || !msg || len == 0 ||
        len > WA_E2E_MAX_SIZE ||
        (want && (!*want || strlen(want) >= WA_CLIENT_ID_MAX))) {
        return -1;
    }
    char *wire = wa_jid_normalize(chat);
    wa_jid_t *jid = wire ? wa_jid_new_from(wire) : NULL;
    bool ok = jid && !wa_jid_is_server(jid) &&
              (wa_jid_is_pn(jid) || wa_jid_is_lid(jid) ||
               wa_jid_is_group(jid) || wa_jid_is_newsletter(jid)) &&
              wa_jid_device(jid) == 0;
    wa_jid_destroy(&jid);
    if (!ok) {
        free(wire);
        return -1;
    }
    char *pn = wa_client_lid_chat(self, wire); //  one chat per person
    if (pn) {
        free(wire);
        wire = pn;
    }
    wa_outbox_job_t *job = s_job_new(self, wire, msg, len);
    free(wire);
    char user[80];
    wa_jid_t *me = wa_jid_new_from(self->me_jid);
    snprintf(user, sizeof user, "%s", me ? wa_jid_user(me) : "");
    wa_jid_destroy(&me);
    char mid[WA_E2E_ID_LEN + 1];
    wa_e2e_message_id(user, mid);
    snprintf(job->id, sizeof job->id, "%s", want ? want : mid);
    snprintf(id, WA_CLIENT_ID_MAX, "%s", job->id);
    s_sent_remember(self, job);
    wa_client_rearm(self);
    return 0;
}

int
wa_outbox_send_post(wa_client_t *self, const char *chat, const uint8_t *msg,
                    size_t len, const char *media_id, char id[WA_CLIENT_ID_MAX])
{
    wa_jid_t *jid = chat ? wa_jid_new_from(chat) : NULL;
    bool channel = jid && wa_jid_is_newsletter(jid);
    wa_jid_destroy(&jid);
    if (!channel || (media_id && (!*media_id || strlen(media_id) > 256)) ||
        wa_outbox_send_message_as(self, chat, msg, len, NULL, id) != 0) {
        return -1;
    }
    //  The job just made heads the list
    assert(self->jobs && cm_streq(self->jobs->id, id));
    self->jobs->media_id = media_id ? cm_strdup(media_id) : NULL;
    return 0;
}

int
wa_outbox_send_status(wa_client_t *self, const uint8_t *msg, size_t len,
                      const char *const *recipients, size_t n, const char *want,
                      char id[WA_CLIENT_ID_MAX])
{
    if (!wa_client_ready(self) || !msg || len == 0 || len > WA_E2E_MAX_SIZE ||
        !recipients || n == 0 ||
        (want && (!*want || strlen(want) >= WA_CLIENT_ID_MAX))) {
        return -1;
    }
    s_list_t users = {0};
    for (size_t i = 0; i < n; i++) {
        char *wire = recipients[i] ? wa_jid_normalize(recipients[i]) : NULL;
        wa_jid_t *jid = wire ? wa_jid_new_from(wire) : NULL;
        bool ok = jid && !wa_jid_is_server(jid) &&
                  (wa_jid_is_pn(jid) || wa_jid_is_lid(jid)) &&
                  wa_jid_device(jid) == 0;
        wa_jid_destroy(&jid);
        if (!ok) {
            free(wire);
            s_list_free(&users);
            return -1;
        }
        if (!s_is_own_user(self, wire)) {
            s_list_add(&users, wire);
        }
        free(wire);
    }
    wa_outbox_job_t *job = s_job_new(self, WA_JID_STATUS, msg, len);
    job->audience = users.items;
    job->naudience = users.count;
    char user[80];
    wa_jid_t *me = wa_jid_new_from(self->me_jid);
    snprintf(user, sizeof user, "%s", me ? wa_jid_user(me) : "");
    wa_jid_destroy(&me);
    char mid[WA_E2E_ID_LEN + 1];
    wa_e2e_message_id(user, mid);
    snprintf(job->id, sizeof job->id, "%s", want ? want : mid);
    snprintf(id, WA_CLIENT_ID_MAX, "%s", job->id);
    s_sent_remember(self, job);
    wa_client_rearm(self);
    return 0;
}

int
wa_outbox_send_text(wa_client_t *self, const char *chat, const char *text,
                    const char *reply_id, const char *reply_participant,
                    char id[WA_CLIENT_ID_MAX])
{
    if (!text || !chat) {
        return -1;
    }
    char *wire = wa_jid_normalize(chat);
    if (!wire) {
        return -1;
    }
    char *participant =
        reply_participant ? wa_jid_normalize(reply_participant) : NULL;
    wa_jid_t *cj = wa_jid_new_from(wire);
    bool group = cj && wa_jid_is_group(cj);
    wa_jid_destroy(&cj);
    const char *quoted_sender = participant ? participant : wire;
    uint8_t *msg = NULL;
    size_t len = 0;
    int rc = -1;
    if (wa_message_build_text(text, reply_id, reply_id ? quoted_sender : NULL,
                              reply_id && group ? wire : NULL, &msg,
                              &len) == 0) {
        rc = wa_outbox_send_message(self, wire, msg, len, id);
    }
    free(msg);
    free(participant);
    free(wire);
    return rc;
}

static const wa_router_route_t s_routes[] = {
    {"ack", "class", "message", s_on_message_ack},
    {"receipt", "type", "retry", s_on_retry_request},
    {NULL, NULL, NULL, NULL}};

static void
s_start(wa_client_t *self)
{
    self->sent = cm_alloc(S_SENT_MAX * sizeof *self->sent);
}

//  Fail every job (silently while the client is destroyed).
static void
s_drop(wa_client_t *self)
{
    while (self->jobs) {
        wa_outbox_job_t *job = self->jobs;
        if (self->destroying) {
            s_job_unlink(job);
            s_job_free(&job);
        } else {
            s_job_fail(job, 0, "connection lost");
        }
    }
}

static void
s_forget(wa_client_t *self)
{
    for (size_t i = 0; i < S_SENT_MAX; i++) {
        free(self->sent[i].chat);
        free(self->sent[i].msg);
        memset(&self->sent[i], 0, sizeof self->sent[i]);
    }
}

static void
s_stop(wa_client_t *self)
{
    free(self->sent);
    self->sent = NULL;
}

static int64_t
s_deadline(wa_client_t *self, int64_t now)
{
    int64_t next = -1;
    for (wa_outbox_job_t *j = self->jobs; j; j = j->next) {
        int64_t t = j->runnable ? now : (!j->waiting ? j->deadline : -1);
        if (t >= 0 && (next < 0 || t < next)) {
            next = t;
        }
    }
    return next;
}

//  Run what is runnable, end what is overdue; restart the scan after
//  each step since a step may change the list.
static void
s_wake(wa_client_t *self, int64_t now)
{
    for (;;) {
        wa_outbox_job_t *job = self->jobs;
        while (job && !job->runnable &&
               !(!job->waiting && job->deadline <= now)) {
            job = job->next;
        }
        if (!job) {
            break;
        }
        if (job->runnable) {
            s_job_run(job);
        } else {
            s_job_fail(job, 0, "timed out");
        }
    }
}

const wa_client_cap_t wa_outbox_cap = {.name = "outbox",
                                       .routes = s_routes,
                                       .start = s_start,
                                       .stop = s_stop,
                                       .drop = s_drop,
                                       .forget = s_forget,
                                       .deadline = s_deadline,
                                       .wake = s_wake};

//  ---------------------------------------------------------------------
//  Self test

//  Fire the kit's wake-up when it is due.
static void
t_wake(wa_client_kit_t *kit)
{
    assert(kit->deadline >= 0);
    if (kit->deadline > kit->now) {
        kit->now = kit->deadline;
    }
    kit->deadline = -1;
    wa_client_wake(kit->client);
}

//  Send a text to Bob; the job asks for his prekeys: return that IQ.
static wa_node_t *
t_send(wa_client_kit_t *kit, char id[WA_CLIENT_ID_MAX])
{
    assert(wa_client_send_text(kit->client, "15550000002@c.us", "hi", NULL,
                               NULL, id) == 0);
    assert(kit->client->jobs && kit->deadline == kit->now);
    t_wake(kit);
    wa_node_t *iq = wa_client_kit_take(kit, "iq");
    assert(iq && wa_node_attr_eq(iq, "xmlns", "encrypt"));
    assert(zlistx_size(kit->out) == 0);
    return iq;
}

//  The next event is the SENT event of id with `result`.
static void
t_event_is(wa_client_kit_t *kit, const char *id, const char *result)
{
    char *want = cm_sprintf("sent %s %s", id, result);
    wa_client_kit_expect(kit, want);
    free(want);
}

//  Device lists known: ours (this device only) and Bob's (his phone).
static void
t_know_devices(wa_client_t *client)
{
    const char *mine = "15550000001:1@s.whatsapp.net";
    const char *bob = "15550000002@s.whatsapp.net";
    int rc =
        wa_usync_put(client->usync, "15550000001@s.whatsapp.net", &mine, 1);
    assert(rc == 0);
    rc = wa_usync_put(client->usync, bob, &bob, 1);
    assert(rc == 0);
}

//  A session with device JID `device` in the client's store, from a
//  fresh peer's bundle.
static void
t_session(wa_client_t *client, const char *device)
{
    wa_sigstore_t *peer = wa_sigstore_new(client->signal);
    assert(wa_sigstore_generate_identity(peer) == 0);
    wa_bundle_t bundle = {0};
    uint8_t priv[32];
    assert(wa_sigstore_identity(peer, priv, bundle.identity,
                                &bundle.registration_id) == 0);
    assert(wa_sigstore_generate_signed_prekey(peer, 1, bundle.skey,
                                              bundle.skey_sig) == 0);
    bundle.skey_id = 1;
    char name[WA_SEND_NAME_MAX];
    int dev = 0;
    assert(wa_send_address(device, name, &dev) == 0);
    assert(wa_e2e_process_bundle(client->store, name, dev, &bundle) == 0);
    wa_sigstore_destroy(&peer);
}

//  Answer the kit client's IQ `iq` (taken) with result content `inner`.
static void
t_answer(wa_client_kit_t *kit, wa_node_t **iq_p, const char *inner)
{
    char *reply = cm_sprintf("<iq type=\"result\" id=\"%s\" "
                             "from=\"s.whatsapp.net\">%s</iq>",
                             wa_node_attr(*iq_p, "id"), inner);
    wa_node_destroy(iq_p);
    assert(wa_client_kit_handle(kit, reply) == 0);
    free(reply);
}

#define T_GROUP "120363000000000009@g.us"
#define T_BOB "15550000002@s.whatsapp.net"
#define T_BOB3 "15550000002:3@s.whatsapp.net"
#define T_META                                                                 \
    "<group id=\"120363000000000009\" addressing_mode=\"pn\">"                 \
    "<participant jid=\"15550000001@s.whatsapp.net\"/>"                        \
    "<participant jid=\"" T_BOB "\"/></group>"

//  A group send whose phash the server does not take: the group and the
//  device lists are read again, the device missed gets the message (a
//  resend naming it), once; a refresh that misses nobody sends nothing.
static void
t_phash(wa_client_kit_t *kit)
{
    wa_client_t *client = kit->client;
    char *error = NULL;
    wa_node_t *meta = wa_node_new_from_text(T_META, &error);
    assert(meta);
    zhashx_update(client->groups, T_GROUP, wa_group_parse_node(meta));
    wa_node_destroy(&meta);
    t_session(client, T_BOB);
    t_session(client, T_BOB3);
    for (int round = 0; round < 2; round++) {
        char id[WA_CLIENT_ID_MAX];
        assert(wa_client_send_text(client, T_GROUP, "hi", NULL, NULL, id) == 0);
        t_wake(kit);
        wa_node_t *m = wa_client_kit_take(kit, "message");
        assert(m && wa_node_attr_eq(m, "to", T_GROUP));
        //  The hash of the devices sent to (Bob's phone; Bob's device 3
        //  too in the second round, once the lists were read again)
        const char *first[] = {T_BOB};
        const char *second[] = {T_BOB, T_BOB3};
        char *ours = wa_send_phash(round ? second : first, round ? 2 : 1);
        assert(wa_node_attr_eq(m, "phash", ours));
        free(ours);
        wa_node_destroy(&m);
        //  The server names another hash: the send is done all the same
        char *ack =
            cm_sprintf("<ack class=\"message\" id=\"%s\" from=\"" T_GROUP
                       "\" t=\"1700000001\" phash=\"2:AAAAAAAA\"/>",
                       id);
        assert(wa_client_kit_handle(kit, ack) == 0);
        t_event_is(kit, id, "ok");
        //  The group again, then the device lists (Bob now has device 3)
        assert(!zhashx_lookup(client->groups, T_GROUP));
        t_wake(kit);
        wa_node_t *iq = wa_client_kit_take(kit, "iq");
        assert(iq && wa_node_attr_eq(iq, "xmlns", "w:g2"));
        t_answer(kit, &iq, T_META);
        iq = wa_client_kit_take(kit, "iq");
        assert(iq && wa_node_attr_eq(iq, "xmlns", "usync"));
        t_answer(kit, &iq,
                 "<usync><list><user jid=\"" T_BOB "\"><devices><device-list>"
                 "<device id=\"0\"/><device id=\"3\" key-index=\"1\"/>"
                 "</device-list></devices></user>"
                 "<user jid=\"15550000001@s.whatsapp.net\"><devices>"
                 "<device-list><device id=\"1\" key-index=\"1\"/>"
                 "</device-list></devices></user></list></usync>");
        if (round == 0) {
            //  Device 3 was missed: it alone gets the message, our key
            //  beside, pairwise
            if (kit->deadline >= 0) {
                t_wake(kit);
            }
            m = wa_client_kit_take(kit, "message");
            assert(m && wa_node_attr_eq(m, "to", T_GROUP));
            assert(wa_node_attr_eq(m, "id", id));
            assert(wa_node_attr_eq(m, "participant", T_BOB3));
            const wa_node_t *enc = wa_node_child(m, "enc");
            assert(enc && wa_node_attr_eq(enc, "type", "pkmsg"));
            assert(!wa_node_attr(enc, "count"));
            assert(!wa_node_child(m, "participants"));
            wa_node_destroy(&m);
            //  Its ack, even with another hash, starts nothing
            assert(wa_client_kit_handle(kit, ack) == 0);
        }
        free(ack);
        //  Nothing more: no loop
        if (kit->deadline >= 0 && kit->deadline <= kit->now) {
            t_wake(kit);
        }
        assert(zlistx_size(kit->out) == 0);
        assert(zlistx_size(kit->events) == 0);
        assert(!client->jobs);
    }
}

void
wa_outbox_test(bool verbose)
{
    printf(" * wa_outbox: ");
    (void)verbose;
    wa_client_kit_t *kit = wa_client_kit_new("15550000001");
    wa_client_t *client = kit->client;
    t_know_devices(client);

    //  The prekey query fails: the send fails with the server's code
    char id[WA_CLIENT_ID_MAX];
    wa_node_t *iq = t_send(kit, id);
    char *reply = cm_sprintf("<iq type=\"error\" id=\"%s\" from=\"s.whatsapp."
                             "net\"><error code=\"406\" text=\"x\"/></iq>",
                             wa_node_attr(iq, "id"));
    wa_node_destroy(&iq);
    assert(wa_client_kit_handle(kit, reply) == 0);
    free(reply);
    t_event_is(kit, id, "406");
    assert(!client->jobs);

    //  The connection drops while it waits: it fails at once
    iq = t_send(kit, id);
    wa_node_destroy(&iq);
    wa_client_disconnected(client, "test");
    t_event_is(kit, id, "0");
    assert(!client->jobs);
    //  And no send without a connection
    assert(wa_client_send_text(client, "15550000002@c.us", "hi", NULL, NULL,
                               id) == -1);
    wa_client_connected(client);
    assert(wa_client_kit_handle(kit, "<success t=\"1700000000\"/>") == 0);
    zlistx_purge(kit->out);

    //  The server does not answer: the send times out
    iq = t_send(kit, id);
    wa_node_destroy(&iq);
    kit->now += client->cfg.iq_timeout_ms;
    wa_client_wake(client);
    t_event_is(kit, id, "0");
    zlistx_purge(kit->out);

    //  Acks of messages we do not know of, and retry requests for them,
    //  change nothing (the receipt is acked)
    assert(wa_client_kit_handle(kit,
                                "<ack class=\"message\" id=\"nope\" "
                                "from=\"15550000002@s.whatsapp.net\"/>") == 0);
    assert(wa_client_kit_handle(
               kit, "<receipt type=\"retry\" id=\"nope\" from=\"15550000002@"
                    "s.whatsapp.net\" t=\"1\"><retry count=\"1\" id=\"nope\" "
                    "t=\"1\" v=\"1\"/><registration>0x00000001</registration>"
                    "</receipt>") == 0);
    wa_node_t *ack = wa_client_kit_take(kit, "ack");
    assert(ack && wa_node_attr_eq(ack, "class", "receipt"));
    assert(wa_node_attr_eq(ack, "type", "retry"));
    wa_node_destroy(&ack);
    assert(zlistx_size(kit->out) == 0);
    assert(zlistx_size(kit->events) == 0);
    assert(!client->jobs);

    //  Bad destinations and arguments are refused
    uint8_t msg[] = {0x0a, 0x02, 'h', 'i'};
    assert(wa_client_send_message(client, "not a jid", msg, sizeof msg, id) ==
           -1);
    assert(wa_client_send_message(client, "15550000002:3@s.whatsapp.net", msg,
                                  sizeof msg, id) == -1);
    assert(wa_client_send_message(client, "15550000002@c.us", msg, 0, id) ==
           -1);
    assert(wa_client_send_text(client, "15550000002@c.us", NULL, NULL, NULL,
                               id) == -1);
    assert(!client->jobs);

    //  A channel post goes out at once in <plaintext>, unpadded, and
    //  ends with the server's ack; a refusal (not the owner) fails it
    assert(wa_client_send_text(client, "120363000000000009@newsletter", "hi",
                               NULL, NULL, id) == 0);
    t_wake(kit);
    wa_node_t *post = wa_client_kit_take(kit, "message");
    assert(post &&
           wa_node_attr_eq(post, "to", "120363000000000009@newsletter"));
    assert(wa_node_attr_eq(post, "type", "text"));
    size_t plen = 0;
    const uint8_t *pbytes =
        wa_node_bytes(wa_node_child(post, "plaintext"), &plen);
    assert(pbytes && plen == sizeof msg && memcmp(pbytes, msg, plen) == 0);
    assert(!wa_node_child(post, "enc") && !wa_node_child(post, "participants"));
    char *acked = cm_sprintf("<ack class=\"message\" id=\"%s\" from=\""
                             "120363000000000009@newsletter\" t=\"5\" "
                             "server_id=\"100\"/>",
                             id);
    assert(wa_client_kit_handle(kit, acked) == 0);
    free(acked);
    wa_node_destroy(&post);
    t_event_is(kit, id, "ok");
    assert(wa_client_send_text(client, "120363000000000009@newsletter", "hi",
                               NULL, NULL, id) == 0);
    t_wake(kit);
    post = wa_client_kit_take(kit, "message");
    wa_node_destroy(&post);
    acked = cm_sprintf("<ack class=\"message\" id=\"%s\" error=\"403\"/>", id);
    assert(wa_client_kit_handle(kit, acked) == 0);
    free(acked);
    t_event_is(kit, id, "403");
    assert(!client->jobs);
    //  A media post names its unencrypted upload by media_id; only
    //  channels take posts
    assert(wa_client_send_post(client, "120363000000000009@newsletter", msg,
                               sizeof msg, "h-77", id) == 0);
    t_wake(kit);
    post = wa_client_kit_take(kit, "message");
    assert(post && wa_node_attr_eq(post, "media_id", "h-77"));
    assert(wa_node_child(post, "plaintext"));
    wa_node_destroy(&post);
    acked = cm_sprintf("<ack class=\"message\" id=\"%s\" t=\"6\" "
                       "server_id=\"101\"/>",
                       id);
    assert(wa_client_kit_handle(kit, acked) == 0);
    free(acked);
    t_event_is(kit, id, "ok");
    assert(wa_client_send_post(client, "15550000002@c.us", msg, sizeof msg,
                               "h-77", id) == -1);
    assert(wa_client_send_post(client, "120363000000000009@newsletter", msg,
                               sizeof msg, "", id) == -1);
    assert(!client->jobs);

    //  The server's phash differs: refresh, resend once
    t_phash(kit);

    //  A peer message goes to our phone only (device 0, not our other
    //  companion), category peer, the message not wrapped
    const char *own[] = {"15550000001:1@s.whatsapp.net",
                         "15550000001@s.whatsapp.net",
                         "15550000001:2@s.whatsapp.net"};
    assert(wa_usync_put(client->usync, "15550000001@s.whatsapp.net", own, 3) ==
           0);
    t_session(client, "15550000001@s.whatsapp.net");
    t_session(client, "15550000001:2@s.whatsapp.net");
    assert(wa_outbox_send_peer(client, msg, sizeof msg, id) == 0);
    t_wake(kit);
    wa_node_t *pm = wa_client_kit_take(kit, "message");
    assert(pm && wa_node_attr_eq(pm, "to", "15550000001@s.whatsapp.net"));
    assert(wa_node_attr_eq(pm, "category", "peer"));
    const wa_node_t *parts = wa_node_child(pm, "participants");
    assert(parts && wa_node_child_count(parts) == 1);
    assert(wa_node_attr_eq(wa_node_child(parts, "to"), "jid",
                           "15550000001@s.whatsapp.net"));
    wa_node_destroy(&pm);

    wa_client_kit_destroy(&kit);
    printf("OK\n");
}
