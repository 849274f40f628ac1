/*  sim_message - messages and receipts between clients: fan-out,
    offline queues, server acks

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_message.h"
#include "sim_status.h"
#include "sim_tctoken.h"
#include "wa/wa_binary.h"
#include "wa/wa_jid.h"
#include "wa/wa_send.h"

//  Most <to> entries in one message.
#define SIM_RELAY_MAX_TARGETS 4096

typedef struct _s_message_t s_message_t;

//  An ack waiting for its fault delay.
typedef struct {
    s_message_t *owner; //  owner
    int64_t conn_id;    //  connection to send on (may be gone by then)
    wa_node_t *node;    //  the ack
    int timer_id;       //  zloop timer
} s_delayed_t;

//  State: acks held back by the ack_delay_ms fault.
struct _s_message_t {
    sim_hub_t *hub;    //  shared state (borrowed)
    zlistx_t *delayed; //  s_delayed_t *
};

static void
s_delayed_free(void **item)
{
    s_delayed_t *d = (s_delayed_t *)*item;
    if (d) {
        wa_node_destroy(&d->node);
        free(d);
        *item = NULL;
    }
}

static void *
s_new(sim_hub_t *hub)
{
    s_message_t *self = (s_message_t *)cm_alloc(sizeof(s_message_t));
    self->hub = hub;
    self->delayed = zlistx_new();
    zlistx_set_destructor(self->delayed, s_delayed_free);
    return self;
}

static void
s_destroy(void **self_p)
{
    assert(self_p);
    s_message_t *self = (s_message_t *)*self_p;
    if (self) {
        s_delayed_t *d = (s_delayed_t *)zlistx_first(self->delayed);
        while (d) {
            zloop_timer_end(sim_hub_loop(self->hub), d->timer_id);
            d = (s_delayed_t *)zlistx_next(self->delayed);
        }
        zlistx_destroy(&self->delayed);
        free(self);
        *self_p = NULL;
    }
}

static int64_t
s_now_s(void)
{
    return cm_now_ms() / 1000;
}

static int
s_delayed_fire(zloop_t *loop, int timer_id, void *arg)
{
    s_delayed_t *d = (s_delayed_t *)arg;
    s_message_t *self = d->owner;
    sim_conn_t *conn = sim_hub_conn(self->hub, d->conn_id);
    if (conn && sim_conn_state(conn) != SIM_CONN_CLOSED) {
        sim_conn_send(conn, d->node);
    }
    void *handle = zlistx_find(self->delayed, d);
    assert(handle);
    zlistx_delete(self->delayed, handle);
    return 0;
}

//  Send a server ack to the client, applying the fault rules.
static void
s_server_ack(s_message_t *self, sim_conn_t *conn, wa_node_t **ack_p)
{
    sim_device_t *dev = sim_conn_device(conn);
    const sim_fault_rules_t *rules = sim_fault_rules(
        sim_hub_faults(self->hub), dev ? dev->account->phone : NULL);
    if (rules->withhold_acks) {
        wa_node_destroy(ack_p);
        return;
    }
    if (rules->ack_delay_ms > 0) {
        s_delayed_t *d = (s_delayed_t *)cm_alloc(sizeof(s_delayed_t));
        d->owner = self;
        d->conn_id = sim_conn_id(conn);
        d->node = *ack_p;
        *ack_p = NULL;
        d->timer_id =
            zloop_timer(sim_hub_loop(self->hub), (size_t)rules->ack_delay_ms, 1,
                        s_delayed_fire, d);
        zlistx_add_end(self->delayed, d);
        return;
    }
    sim_conn_send_take(conn, ack_p);
}

//  JID of `dev` in the LID or PN form. Caller owns return value.
static char *
s_dev_jid(sim_device_t *dev, bool lid)
{
    return lid ? sim_device_lid_jid(dev) : sim_device_jid(dev);
}

//  Copy attribute key from src to dst if present.
static void
s_copy_attr(wa_node_t *dst, const wa_node_t *src, const char *key)
{
    const char *v = wa_node_attr(src, key);
    if (v) {
        wa_node_set_attr(dst, key, v);
    }
}

//  Children of an outgoing message other than participants/enc that
//  travel with every copy (device-identity, meta, reporting, ...).
static void
s_copy_extras(wa_node_t *dst, const wa_node_t *src)
{
    for (size_t i = 0; i < wa_node_child_count(src); i++) {
        const wa_node_t *c = wa_node_child_at(src, i);
        if (wa_node_is(c, "participants") || wa_node_is(c, "enc") ||
            wa_node_is(c, "tctoken") || wa_node_is(c, "cstoken")) {
            continue;
        }
        wa_node_t *copy = wa_node_dup(c);
        wa_node_append(dst, &copy);
    }
}

//  The per-device copy of a 1:1 message.
static wa_node_t *
s_direct_copy(sim_hub_t *hub, sim_device_t *sender, const wa_node_t *msg,
              bool lid, const char *recipient)
{
    wa_node_t *out = wa_node_new("message");
    char *from = s_dev_jid(sender, lid);
    char *alt = sim_hub_user_jid(sender->account, !lid);
    wa_node_set_attr(out, "from", from);
    s_copy_attr(out, msg, "id");
    s_copy_attr(out, msg, "type");
    wa_node_set_attr_int(out, "t", s_now_s());
    if (recipient) {
        wa_node_set_attr(out, "recipient", recipient);
    }
    s_copy_attr(out, msg, "edit");
    s_copy_attr(out, msg, "category");
    if (lid || !sim_fault_rules(sim_hub_faults(hub), sender->account->phone)
                    ->lid_hidden) {
        wa_node_set_attr(out, lid ? "sender_pn" : "sender_lid", alt);
    }
    if (*sender->account->push_name) {
        wa_node_set_attr(out, "notify", sender->account->push_name);
    }
    free(from);
    free(alt);
    return out;
}

//  Note a pairwise ciphertext from sender to dev in the counter ledger.
static void
s_ledger(s_message_t *self, sim_device_t *sender, sim_device_t *dev,
         const wa_node_t *enc)
{
    size_t len = 0;
    const uint8_t *data = wa_node_bytes(enc, &len);
    char *from = sim_device_jid(sender);
    char *to = sim_device_jid(dev);
    sim_ledger_record(sim_hub_ledger(self->hub), from, to,
                      wa_node_attr(enc, "type"), data, len);
    free(from);
    free(to);
}

//  Complete a device's copy (*out_p, taken) with its <enc> and the
//  message's extras, and deliver it.
static void
s_deliver_copy(s_message_t *self, sim_device_t *dev, wa_node_t **out_p,
               const wa_node_t *enc, const wa_node_t *msg)
{
    wa_node_t *e = wa_node_dup(enc);
    //  garble_dms: this copy's ciphertext is damaged in transit (the
    //  last byte, part of the MAC), so the companion asks for a retry
    //  (the simulated phone, which swallows its copy, is left out)
    size_t len = 0;
    const uint8_t *data = wa_node_bytes(e, &len);
    bool pairwise = wa_node_attr_eq(e, "type", "msg") ||
                    wa_node_attr_eq(e, "type", "pkmsg");
    if (pairwise && data && len && dev->id != 0 &&
        sim_fault_take_garble(sim_hub_faults(self->hub), dev->account->phone)) {
        uint8_t *copy = cm_alloc(len);
        memcpy(copy, data, len);
        copy[len - 1] ^= 0xFF;
        wa_node_set_bytes(e, copy, len);
        free(copy);
        cm_log_info("garbled a message copy", "id=%s phone=%s",
                    wa_node_attr_or(msg, "id", ""), dev->account->phone);
    }
    wa_node_append(*out_p, &e);
    s_copy_extras(*out_p, msg);
    sim_hub_deliver(self->hub, dev, *out_p, "message");
    wa_node_destroy(out_p);
}

//  Deliver a message whose recipients are listed in <participants> or a
//  single <enc> for the device named by `to`.
static void
s_message_direct(s_message_t *self, sim_conn_t *conn, const wa_node_t *msg,
                 sim_account_t *to_acc, bool to_lid)
{
    sim_device_t *sender = sim_conn_device(conn);
    const char *to = wa_node_attr(msg, "to");
    const wa_node_t *parts = wa_node_child(msg, "participants");
    size_t delivered = 0;
    if (parts) {
        size_t n = 0;
        for (const wa_node_t *t = wa_node_child_next(parts, "to", NULL); t;
             t = wa_node_child_next(parts, "to", t)) {
            if (++n > SIM_RELAY_MAX_TARGETS) {
                break;
            }
            bool lid = false;
            sim_device_t *dev =
                sim_hub_device_of(self->hub, wa_node_attr(t, "jid"), &lid);
            const wa_node_t *enc = wa_node_child(t, "enc");
            if (!dev || !enc || dev == sender ||
                (dev->id != 0 && !dev->linked) ||
                (dev->account != to_acc && dev->account != sender->account)) {
                cm_log_debug("skipping message target", "jid=%s",
                             wa_node_attr_or(t, "jid", ""));
                continue;
            }
            //  A peer message to our own phone: the phone reads it
            if (dev->id == 0 && dev->account == sender->account &&
                wa_node_attr_eq(msg, "category", "peer") &&
                sim_hub_peer(self->hub, sender, msg, enc)) {
                delivered++;
                continue;
            }
            //  Copies for our own other devices name the chat.
            bool own =
                dev->account == sender->account && to_acc != sender->account;
            wa_node_t *out =
                s_direct_copy(self->hub, sender, msg, lid, own ? to : NULL);
            s_ledger(self, sender, dev, enc);
            s_deliver_copy(self, dev, &out, enc, msg);
            delivered++;
        }
    } else {
        const wa_node_t *enc = wa_node_child(msg, "enc");
        sim_device_t *dev = sim_hub_device_of(self->hub, to, NULL);
        if (enc && dev && dev != sender && (dev->id == 0 || dev->linked)) {
            const char *recipient = wa_node_attr(msg, "recipient");
            wa_node_t *out =
                s_direct_copy(self->hub, sender, msg, to_lid, recipient);
            s_ledger(self, sender, dev, enc);
            s_deliver_copy(self, dev, &out, enc, msg);
            delivered++;
        }
    }
    cm_log_debug("relayed message", "id=%s to=%s copies=%zu",
                 wa_node_attr_or(msg, "id", ""), to, delivered);
}

//  A DM to a LID names the number alongside (wa-protocol.md §7.3:
//  `peer_recipient_pn`, whatsmeow since 2026). A number that is not the
//  recipient's is stale addressing; with `required` (the sender's
//  check_peer_pn rule) a missing one is too.
static bool
s_peer_pn_ok(const char *peer_pn, bool required, const sim_account_t *to_acc)
{
    if (!peer_pn) {
        return !required;
    }
    size_t n = strlen(to_acc->phone);
    return strncmp(peer_pn, to_acc->phone, n) == 0 &&
           cm_streq(peer_pn + n, "@s.whatsapp.net");
}

static int
s_strcmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

//  The participant hash of the group's current device list as a sender
//  device sees it (docs/protocol-fidelity.md; whatsmeow send.go
//  participantListHashV2): every device usync lists for the members
//  (the phone when wa-sim lists it, linked companions) but the sender,
//  each as "user.0:device@server" in the group's addressing (LID groups:
//  the LID), sorted, concatenated, SHA-256, the first 6 bytes in
//  unpadded Base64 after "2:". Written apart from the engine's
//  wa_send_phash so that a wrong formula there fails. Caller owns.
char *
sim_message_phash(sim_hub_t *hub, sim_group_t *group, sim_device_t *sender)
{
    sim_model_t *model = sim_hub_model(hub);
    bool phone = sim_hub_config(hub)->phone_device;
    zlistx_t *forms = zlistx_new();
    zlistx_set_destructor(forms, (zlistx_destructor_fn *)zstr_free);
    sim_participant_t *p =
        (sim_participant_t *)zlistx_first(group->participants);
    while (p) {
        sim_account_t *acc = sim_model_account(model, p->phone);
        sim_device_t *d =
            acc ? (sim_device_t *)zlistx_first(acc->devices) : NULL;
        while (d) {
            if (d != sender && (d->id == 0 ? phone : d->linked)) {
                zlistx_add_end(
                    forms,
                    cm_sprintf("%s.0:%u@%s", group->lid ? acc->lid : acc->phone,
                               d->id, group->lid ? "lid" : "s.whatsapp.net"));
            }
            d = (sim_device_t *)zlistx_next(acc->devices);
        }
        p = (sim_participant_t *)zlistx_next(group->participants);
    }
    size_t n = zlistx_size(forms);
    char **sorted = (char **)cm_alloc((n ? n : 1) * sizeof(char *));
    size_t i = 0;
    for (char *f = (char *)zlistx_first(forms); f;
         f = (char *)zlistx_next(forms)) {
        sorted[i++] = f;
    }
    qsort(sorted, n, sizeof(char *), s_strcmp);
    size_t total = 0;
    for (i = 0; i < n; i++) {
        total += strlen(sorted[i]);
    }
    char *all = (char *)cm_alloc(total + 1);
    char *at = all;
    for (i = 0; i < n; i++) {
        size_t len = strlen(sorted[i]);
        memcpy(at, sorted[i], len);
        at += len;
    }
    uint8_t hash[WA_SHA256_LEN];
    wa_sha256(all, total, hash);
    char *b64 = cm_base64_encode(hash, 6);
    char *out = cm_sprintf("2:%s", b64);
    free(b64);
    free(all);
    free(sorted);
    zlistx_destroy(&forms);
    return out;
}

//  Deliver a group message. Returns the server's participant hash when
//  the sender is held to the phash rule and sent another one (the ack
//  names it), else NULL. Caller owns return value.
static char *
s_message_group(s_message_t *self, sim_conn_t *conn, const wa_node_t *msg,
                sim_group_t *group)
{
    sim_device_t *sender = sim_conn_device(conn);
    sim_model_t *model = sim_hub_model(self->hub);
    const wa_node_t *parts = wa_node_child(msg, "participants");
    const wa_node_t *skmsg = NULL;
    for (size_t i = 0; i < wa_node_child_count(msg); i++) {
        const wa_node_t *c = wa_node_child_at(msg, i);
        if (wa_node_is(c, "enc")) {
            skmsg = c;
        }
    }
    //  Retry resend to one device: participant names it.
    const char *only = wa_node_attr(msg, "participant");
    sim_device_t *only_dev =
        only ? sim_hub_device_of(self->hub, only, NULL) : NULL;
    if (only && !only_dev) {
        return NULL;
    }
    //  The phash rule: a whole-group send names the device list it used
    char *phash = NULL;
    if (!only &&
        sim_fault_rules(sim_hub_faults(self->hub), sender->account->phone)
            ->check_phash) {
        char *want = sim_message_phash(self->hub, group, sender);
        const char *sent = wa_node_attr(msg, "phash");
        if (!cm_streq(sent, want)) {
            cm_log_info("group send with a stale participant hash",
                        "id=%s group=%s sent=%s expected=%s",
                        wa_node_attr_or(msg, "id", ""), group->id,
                        sent ? sent : "-", want);
            phash = want;
        } else {
            free(want);
        }
    }
    char *group_jid = cm_sprintf("%s@g.us", group->id);
    //  The sender as the group addresses it, the other form beside
    char *participant =
        group->lid ? sim_device_lid_jid(sender) : sim_device_jid(sender);
    char *participant_alt =
        group->lid ? sim_device_jid(sender) : sim_device_lid_jid(sender);
    //  Collect the target devices first: delivery must not move cursors.
    zlistx_t *targets = zlistx_new();
    sim_participant_t *p =
        (sim_participant_t *)zlistx_first(group->participants);
    while (p) {
        sim_account_t *acc = sim_model_account(model, p->phone);
        sim_device_t *d =
            acc ? (sim_device_t *)zlistx_first(acc->devices) : NULL;
        while (d) {
            if (d != sender && (d->id == 0 || d->linked) &&
                (!only_dev || d == only_dev)) {
                zlistx_add_end(targets, d);
            }
            d = (sim_device_t *)zlistx_next(acc->devices);
        }
        p = (sim_participant_t *)zlistx_next(group->participants);
    }
    size_t delivered = 0;
    sim_device_t *dev = (sim_device_t *)zlistx_first(targets);
    while (dev) {
        wa_node_t *out = wa_node_new("message");
        wa_node_set_attr(out, "from", group_jid);
        s_copy_attr(out, msg, "id");
        s_copy_attr(out, msg, "type");
        wa_node_set_attr_int(out, "t", s_now_s());
        wa_node_set_attr(out, "participant", participant);
        if (group->lid ||
            !sim_fault_rules(sim_hub_faults(self->hub), sender->account->phone)
                 ->lid_hidden) {
            //  (a sender that is not LID-migrated has no LID to tell)
            wa_node_set_attr(out,
                             group->lid ? "participant_pn" : "participant_lid",
                             participant_alt);
        }
        wa_node_set_attr(out, "addressing_mode", group->lid ? "lid" : "pn");
        s_copy_attr(out, msg, "edit");
        if (*sender->account->push_name) {
            wa_node_set_attr(out, "notify", sender->account->push_name);
        }
        //  This device's pairwise part (sender key distribution).
        for (const wa_node_t *t = parts ? wa_node_child_next(parts, "to", NULL)
                                        : NULL;
             t; t = wa_node_child_next(parts, "to", t)) {
            if (sim_hub_device_of(self->hub, wa_node_attr(t, "jid"), NULL) ==
                dev) {
                const wa_node_t *enc = wa_node_child(t, "enc");
                if (enc) {
                    s_ledger(self, sender, dev, enc);
                    wa_node_t *e = wa_node_dup(enc);
                    wa_node_append(out, &e);
                }
            }
        }
        if (skmsg) {
            wa_node_t *e = wa_node_dup(skmsg);
            wa_node_append(out, &e);
        }
        if (wa_node_child_count(out) > 0) {
            s_copy_extras(out, msg);
            sim_hub_deliver(self->hub, dev, out, "message");
            delivered++;
        }
        wa_node_destroy(&out);
        dev = (sim_device_t *)zlistx_next(targets);
    }
    zlistx_destroy(&targets);
    cm_log_debug("relayed group message", "id=%s group=%s copies=%zu",
                 wa_node_attr_or(msg, "id", ""), group->id, delivered);
    free(group_jid);
    free(participant);
    free(participant_alt);
    return phash;
}

static void
s_message(sim_hub_t *hub, void *state, sim_conn_t *conn, const wa_node_t *msg)
{
    s_message_t *self = (s_message_t *)state;
    const char *id = wa_node_attr(msg, "id");
    const char *to = wa_node_attr(msg, "to");
    wa_jid_t *jid = to ? wa_jid_new_from(to) : NULL;
    if (!id || !*id || !jid) {
        wa_jid_destroy(&jid);
        sim_hub_nack(conn, msg, "message", 479);
        return;
    }
    sim_device_t *sender = sim_conn_device(conn);
    if (wa_jid_is_group(jid)) {
        sim_group_t *group =
            sim_model_group(sim_hub_model(self->hub), wa_jid_user(jid));
        wa_jid_destroy(&jid);
        if (!group) {
            sim_hub_nack(conn, msg, "message", 404);
            return;
        }
        sim_participant_t *member =
            sim_group_participant(group, sender->account->phone);
        if (!member) {
            sim_hub_nack(conn, msg, "message", 403);
            return;
        }
        if (group->announce && !member->role) {
            //  Announcement group: only admins send
            sim_hub_nack(conn, msg, "message", 403);
            return;
        }
        char *phash = s_message_group(self, conn, msg, group);
        wa_node_t *ack = sim_hub_ack("message", id, to);
        if (phash) {
            //  Stale device list: the ack names the server's hash
            wa_node_set_attr(ack, "phash", phash);
            free(phash);
        }
        s_server_ack(self, conn, &ack);
        return;
    } else if (wa_jid_is_status(jid)) {
        wa_jid_destroy(&jid);
        sim_status_relay(self->hub, conn, msg); //  sim_status
    } else {
        bool is_pn = wa_jid_is_pn(jid);
        bool is_lid = wa_jid_is_lid(jid);
        bool channel = wa_jid_is_newsletter(jid);
        wa_jid_destroy(&jid);
        if (channel && sim_hub_channel(self->hub, conn, msg)) {
            return; //  a post or a reaction: sim_channels answers
        }
        if (!is_pn && !is_lid) {
            //  Broadcast lists, bots: not simulated.
            sim_hub_nack(conn, msg, "message", 501);
            return;
        }
        bool lid = false;
        sim_account_t *to_acc = sim_hub_account_of(self->hub, to, &lid);
        if (!to_acc) {
            sim_hub_nack(conn, msg, "message", 404);
            return;
        }
        if (lid && to_acc != sender->account &&
            !s_peer_pn_ok(wa_node_attr(msg, "peer_recipient_pn"),
                          sim_fault_rules(sim_hub_faults(self->hub),
                                          sender->account->phone)
                              ->check_peer_pn,
                          to_acc)) {
            cm_log_info("DM to a LID with a wrong or missing number refused",
                        "id=%s from=%s to=%s peer_recipient_pn=%s", id,
                        sender->account->phone, to,
                        wa_node_attr_or(msg, "peer_recipient_pn", ""));
            sim_hub_nack(conn, msg, "message", 479);
            return;
        }
        if (!sim_tctoken_allows(self->hub, sender->account, to_acc, msg)) {
            //  The recipient takes DMs only with its privacy token
            cm_log_info("message without privacy token refused",
                        "id=%s from=%s to=%s", id, sender->account->phone,
                        to_acc->phone);
            sim_hub_nack(conn, msg, "message", 463);
            return;
        }
        if (sim_account_blocks(to_acc, sender->account)) {
            //  Blocked: the server takes it and delivers it to nobody
            cm_log_info("message from a blocked sender dropped",
                        "id=%s from=%s to=%s", id, sender->account->phone,
                        to_acc->phone);
        } else {
            s_message_direct(self, conn, msg, to_acc, lid);
        }
    }
    wa_node_t *ack = sim_hub_ack("message", id, to);
    s_server_ack(self, conn, &ack);
}

//  Remove queued messages acknowledged by a receipt (id + list items).
static void
s_receipt_clears(sim_device_t *dev, const wa_node_t *receipt)
{
    sim_device_queue_ack(dev, "message", wa_node_attr(receipt, "id"), NULL);
    const wa_node_t *list = wa_node_child(receipt, "list");
    for (const wa_node_t *item = list ? wa_node_child_next(list, "item", NULL)
                                      : NULL;
         item; item = wa_node_child_next(list, "item", item)) {
        sim_device_queue_ack(dev, "message", wa_node_attr(item, "id"), NULL);
    }
}

static void
s_receipt(sim_hub_t *hub, void *state, sim_conn_t *conn,
          const wa_node_t *receipt)
{
    s_message_t *self = (s_message_t *)state;
    sim_device_t *dev = sim_conn_device(conn);
    const char *id = wa_node_attr(receipt, "id");
    const char *to = wa_node_attr(receipt, "to");
    wa_jid_t *jid = to ? wa_jid_new_from(to) : NULL;
    if (!id || !jid) {
        wa_jid_destroy(&jid);
        sim_hub_nack(conn, receipt, "receipt", 479);
        return;
    }
    s_receipt_clears(dev, receipt);
    const char *type = wa_node_attr(receipt, "type");
    //  Statuses are answered like group messages (sim_status)
    bool group = wa_jid_is_group(jid) || wa_jid_is_status(jid);
    bool channel = wa_jid_is_newsletter(jid);
    wa_jid_destroy(&jid);
    if (channel && sim_hub_channel(self->hub, conn, receipt)) {
        return; //  a view receipt: sim_channels counts it
    }
    //  Whose devices get it: the participant (group) or `to`.
    const char *target_jid = group ? wa_node_attr(receipt, "participant") : to;
    bool lid = false;
    sim_account_t *target =
        target_jid ? sim_hub_account_of(self->hub, target_jid, &lid) : NULL;
    if (target && target == dev->account &&
        (cm_streq(type, "hist_sync") ||
         (cm_streq(type, "server-error") &&
          wa_node_attr_eq(receipt, "category", "peer")))) {
        //  For our own phone only: it took a history chunk, or asks for
        //  its blob again
        sim_hub_hist_sync(self->hub, dev, receipt);
        target = NULL;
    }
    if (target) {
        wa_jid_t *tj = wa_jid_new_from(target_jid);
        uint16_t only = tj ? wa_jid_device(tj) : 0;
        bool explicit_device = tj && strchr(target_jid, ':') != NULL;
        wa_jid_destroy(&tj);
        wa_node_t *out = wa_node_new("receipt");
        char *from = s_dev_jid(dev, lid);
        if (group) {
            wa_node_set_attr(out, "from", to);
            wa_node_set_attr(out, "participant", from);
        } else {
            wa_node_set_attr(out, "from", from);
            s_copy_attr(out, receipt, "recipient");
        }
        free(from);
        wa_node_set_attr(out, "id", id);
        const char *t = wa_node_attr(receipt, "t");
        if (t) {
            wa_node_set_attr(out, "t", t);
        } else {
            wa_node_set_attr_int(out, "t", s_now_s());
        }
        if (type) {
            wa_node_set_attr(out, "type", type);
        }
        for (size_t i = 0; i < wa_node_child_count(receipt); i++) {
            wa_node_t *c = wa_node_dup(wa_node_child_at(receipt, i));
            wa_node_append(out, &c);
        }
        zlistx_t *devs = sim_account_devices_copy(target);
        sim_device_t *d = (sim_device_t *)zlistx_first(devs);
        while (d) {
            if (d != dev && d->id != 0 && d->linked &&
                (!explicit_device || d->id == only)) {
                sim_hub_deliver(self->hub, d, out, "receipt");
            }
            d = (sim_device_t *)zlistx_next(devs);
        }
        zlistx_destroy(&devs);
        wa_node_destroy(&out);
    }
    wa_node_t *ack = sim_hub_ack("receipt", id, to);
    if (type) {
        wa_node_set_attr(ack, "type", type);
    }
    s_server_ack(self, conn, &ack);
}

static void
s_client_ack(sim_hub_t *hub, void *state, sim_conn_t *conn,
             const wa_node_t *ack)
{
    sim_device_t *dev = sim_conn_device(conn);
    const char *cls = wa_node_attr(ack, "class");
    const char *id = wa_node_attr(ack, "id");
    if (!cls || !id) {
        return;
    }
    if (!sim_device_queue_ack(dev, cls, id, NULL)) {
        cm_log_debug("ack for nothing queued", "class=%s id=%s", cls, id);
    }
    const char *error = wa_node_attr(ack, "error");
    if (error) {
        cm_log_info("client refused a stanza",
                    "conn=%" PRId64 " class=%s id=%s error=%s",
                    sim_conn_id(conn), cls, id, error);
    }
}

static const sim_stanza_route_t s_stanzas[] = {{"message", s_message},
                                               {"receipt", s_receipt},
                                               {"ack", s_client_ack},
                                               {NULL, NULL}};

const sim_cap_t sim_message_cap = {
    .name = "message",
    .new_fn = s_new,
    .destroy_fn = s_destroy,
    .stanzas = s_stanzas,
};

void
sim_message_test(bool verbose)
{
    printf(" * sim_message: ");
    sim_hub_t *hub = sim_hub_new_test();
    void *state = s_new(hub);
    sim_account_t *a =
        sim_model_account_add(sim_hub_model(hub), "15550000011", "A");
    sim_device_t *dev = sim_account_device_add(a);
    dev->linked = true;
    //  Copies carry the sender and the other address form.
    wa_node_t *msg = wa_node_new("message");
    wa_node_set_attr(msg, "id", "3EB0AA");
    wa_node_set_attr(msg, "type", "text");
    wa_node_t *copy = s_direct_copy(hub, dev, msg, false, NULL);
    char *from = sim_device_jid(dev);
    assert(wa_node_attr_eq(copy, "from", from));
    free(from);
    char *lid = cm_sprintf("%s@lid", a->lid);
    assert(wa_node_attr_eq(copy, "sender_lid", lid));
    free(lid);
    assert(wa_node_attr_eq(copy, "notify", "A"));
    assert(wa_node_attr_eq(copy, "type", "text"));
    wa_node_destroy(&copy);
    copy = s_direct_copy(hub, dev, msg, true, "15550000022@s.whatsapp.net");
    assert(wa_node_attr_eq(copy, "sender_pn", "15550000011@s.whatsapp.net"));
    assert(wa_node_attr_eq(copy, "recipient", "15550000022@s.whatsapp.net"));
    wa_node_destroy(&copy);
    wa_node_destroy(&msg);
    //  peer_recipient_pn: the recipient's number, required by the rule
    assert(s_peer_pn_ok("15550000011@s.whatsapp.net", true, a));
    assert(s_peer_pn_ok(NULL, false, a));
    assert(!s_peer_pn_ok(NULL, true, a));
    assert(!s_peer_pn_ok("15550000012@s.whatsapp.net", false, a));
    assert(!s_peer_pn_ok("155500000111@s.whatsapp.net", false, a));
    assert(!s_peer_pn_ok("15550000011@lid", false, a));
    //  Receipts clear queued messages by id and list items.
    msg = wa_node_new("message");
    wa_node_set_attr(msg, "id", "M1");
    sim_hub_deliver(hub, dev, msg, "message");
    wa_node_set_attr(msg, "id", "M2");
    sim_hub_deliver(hub, dev, msg, "message");
    wa_node_destroy(&msg);
    assert(zlistx_size(dev->queue) == 2);
    wa_node_t *receipt = wa_node_new("receipt");
    wa_node_set_attr(receipt, "id", "M1");
    wa_node_t *list = wa_node_add(receipt, "list");
    wa_node_set_attr(wa_node_add(list, "item"), "id", "M2");
    s_receipt_clears(dev, receipt);
    assert(zlistx_size(dev->queue) == 0);
    wa_node_destroy(&receipt);
    //  garble_dms: the next copy to the account has its last byte
    //  flipped, the one after arrives intact
    json_t *rule = json_pack("{s:s, s:i}", "phone", a->phone, "garble_dms", 1);
    const char *error = NULL;
    assert(sim_fault_update(sim_hub_faults(hub), rule, &error) == 0);
    json_decref(rule);
    wa_node_t *enc = wa_node_new("enc");
    wa_node_set_attr(enc, "type", "msg");
    const uint8_t cipher[] = {1, 2, 3, 4};
    wa_node_set_bytes(enc, cipher, sizeof cipher);
    msg = wa_node_new("message");
    for (int i = 0; i < 2; i++) {
        wa_node_t *out = wa_node_new("message");
        wa_node_set_attr(out, "id", i ? "G2" : "G1");
        s_deliver_copy((s_message_t *)state, dev, &out, enc, msg);
        sim_pending_t *item = (sim_pending_t *)zlistx_last(dev->queue);
        wa_node_t *back =
            wa_binary_decode_node(item->data, item->len, NULL, NULL);
        size_t len = 0;
        const uint8_t *got = wa_node_bytes(wa_node_child(back, "enc"), &len);
        assert(len == 4 && !memcmp(got, cipher, 3));
        assert(got[3] == (i ? 4 : (4 ^ 0xFF)));
        wa_node_destroy(&back);
    }
    wa_node_destroy(&msg);
    wa_node_destroy(&enc);
    //  The participant hash: every listed device but the sender's, in
    //  the group's addressing; the engine's wa_send_phash agrees
    sim_account_t *b =
        sim_model_account_add(sim_hub_model(hub), "15550000022", "B");
    sim_device_t *bdev = sim_account_device_add(b);
    bdev->linked = true;
    sim_account_device_add(b); //  not linked: not counted
    sim_group_t *group = sim_model_group_add(sim_hub_model(hub), a->phone, "G");
    sim_group_participant_add(group, b->phone, NULL);
    char *got = sim_message_phash(hub, group, dev);
    const char *pns[] = {"15550000011@s.whatsapp.net",
                         "15550000022@s.whatsapp.net",
                         "15550000022:1@s.whatsapp.net"};
    char *want = wa_send_phash(pns, 3);
    assert(cm_streq(got, want) && strlen(got) == 10);
    free(got);
    free(want);
    group->lid = true;
    got = sim_message_phash(hub, group, dev);
    char *l0 = cm_sprintf("%s@lid", a->lid);
    char *l1 = cm_sprintf("%s@lid", b->lid);
    char *l2 = cm_sprintf("%s:1@lid", b->lid);
    const char *lids[] = {l2, l0, l1};
    want = wa_send_phash(lids, 3);
    assert(cm_streq(got, want));
    free(got);
    free(want);
    free(l0);
    free(l1);
    free(l2);
    s_destroy(&state);
    assert(!state);
    sim_hub_destroy(&hub);
    printf("OK\n");
}
