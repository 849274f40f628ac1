/*  sim_status - status updates (stories): fan-out to the recipients

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_status.h"
#include "wa/wa_jid.h"

//  Most devices one status reaches.
#define S_TARGETS_MAX 4096

static void
s_copy_attr(wa_node_t *dst, const wa_node_t *src, const char *key)
{
    const char *v = wa_node_attr(src, key);
    if (v) {
        wa_node_set_attr(dst, key, v);
    }
}

//  The copy of a status for one device, without its <enc> children.
static wa_node_t *
s_copy(sim_device_t *sender, const wa_node_t *msg)
{
    bool pn = wa_node_attr_eq(msg, "addressing_mode", "pn");
    wa_node_t *out = wa_node_new("message");
    wa_node_set_attr(out, "from", WA_JID_STATUS);
    s_copy_attr(out, msg, "id");
    s_copy_attr(out, msg, "type");
    wa_node_set_attr_int(out, "t", cm_now_ms() / 1000);
    char *participant =
        pn ? sim_device_jid(sender) : sim_device_lid_jid(sender);
    char *alt = sim_hub_user_jid(sender->account, pn);
    wa_node_set_attr(out, "participant", participant);
    wa_node_set_attr(out, pn ? "participant_lid" : "participant_pn", alt);
    wa_node_set_attr(out, "addressing_mode", pn ? "pn" : "lid");
    s_copy_attr(out, msg, "edit");
    if (*sender->account->push_name) {
        wa_node_set_attr(out, "notify", sender->account->push_name);
    }
    free(participant);
    free(alt);
    return out;
}

//  Append the children every copy carries: the skmsg (or, for a resend,
//  every <enc>) and the extras (device-identity, meta, ...).
static void
s_append_common(wa_node_t *out, const wa_node_t *msg, bool resend)
{
    for (size_t i = 0; i < wa_node_child_count(msg); i++) {
        const wa_node_t *c = wa_node_child_at(msg, i);
        if (wa_node_is(c, "participants") || wa_node_is(c, "tctoken") ||
            wa_node_is(c, "cstoken") || wa_node_is(c, "reporting")) {
            continue;
        }
        if (wa_node_is(c, "enc") && !resend &&
            !wa_node_attr_eq(c, "type", "skmsg")) {
            continue;
        }
        wa_node_t *copy = wa_node_dup(c);
        wa_node_append(out, &copy);
    }
}

//  True when dev may get a status from sender.
static bool
s_reachable(sim_device_t *sender, sim_device_t *dev)
{
    return dev && dev != sender && (dev->id == 0 || dev->linked) &&
           !sim_account_blocks(dev->account, sender->account);
}

static const sim_fault_rules_t *
s_rules(sim_hub_t *hub, sim_account_t *acc)
{
    return sim_fault_rules(sim_hub_faults(hub), acc->phone);
}

//  Damage the skmsg of a copy (the status_garbled rule): its last byte,
//  part of the sender key signature, is flipped.
static void
s_garble(wa_node_t *out)
{
    for (size_t i = 0; i < wa_node_child_count(out); i++) {
        wa_node_t *c = (wa_node_t *)wa_node_child_at(out, i);
        size_t len = 0;
        const uint8_t *data = wa_node_bytes(c, &len);
        if (wa_node_is(c, "enc") && wa_node_attr_eq(c, "type", "skmsg") &&
            data && len) {
            uint8_t *copy = cm_alloc(len);
            memcpy(copy, data, len);
            copy[len - 1] ^= 0xFF;
            wa_node_set_bytes(c, copy, len);
            free(copy);
        }
    }
}

static void
s_ledger(sim_hub_t *hub, sim_device_t *sender, sim_device_t *dev,
         const wa_node_t *enc)
{
    size_t len = 0;
    const uint8_t *data = wa_node_bytes(enc, &len);
    char *from = sim_device_jid(sender);
    char *to = sim_device_jid(dev);
    sim_ledger_record(sim_hub_ledger(hub), from, to, wa_node_attr(enc, "type"),
                      data, len);
    free(from);
    free(to);
}

size_t
sim_status_relay(sim_hub_t *hub, sim_conn_t *conn, const wa_node_t *msg)
{
    sim_device_t *sender = sim_conn_device(conn);
    if (!sender) {
        return 0;
    }
    size_t delivered = 0;
    const char *only = wa_node_attr(msg, "participant");
    if (only) {
        //  A resend to one device after its retry receipt
        sim_device_t *dev = sim_hub_device_of(hub, only, NULL);
        if (s_reachable(sender, dev)) {
            wa_node_t *out = s_copy(sender, msg);
            s_append_common(out, msg, true);
            sim_hub_deliver(hub, dev, out, "message");
            wa_node_destroy(&out);
            delivered++;
        }
        return delivered;
    }
    //  Collect the targets first: delivery must not move cursors
    const wa_node_t *parts = wa_node_child(msg, "participants");
    zlistx_t *targets = zlistx_new();
    zlistx_t *encs = zlistx_new();
    size_t n = 0;
    for (const wa_node_t *t = parts ? wa_node_child_next(parts, "to", NULL)
                                    : NULL;
         t && n < S_TARGETS_MAX; t = wa_node_child_next(parts, "to", t), n++) {
        bool by_lid = false;
        sim_device_t *dev =
            sim_hub_device_of(hub, wa_node_attr(t, "jid"), &by_lid);
        const wa_node_t *enc = wa_node_child(t, "enc");
        //  lid_status: a LID-migrated recipient named by number is missed
        bool missed = dev && !by_lid && dev->account != sender->account &&
                      s_rules(hub, sender->account)->lid_status &&
                      !s_rules(hub, dev->account)->lid_hidden;
        if (!enc || missed || !s_reachable(sender, dev) ||
            zlistx_find(targets, dev)) {
            cm_log_debug("skipping status target", "jid=%s",
                         wa_node_attr_or(t, "jid", ""));
            continue;
        }
        zlistx_add_end(targets, dev);
        zlistx_add_end(encs, (void *)enc);
    }
    sim_device_t *dev = (sim_device_t *)zlistx_first(targets);
    const wa_node_t *enc = (const wa_node_t *)zlistx_first(encs);
    while (dev && enc) {
        wa_node_t *out = s_copy(sender, msg);
        s_ledger(hub, sender, dev, enc);
        wa_node_t *e = wa_node_dup(enc);
        wa_node_append(out, &e);
        s_append_common(out, msg, false);
        if (s_rules(hub, dev->account)->status_garbled) {
            s_garble(out);
        }
        sim_hub_deliver(hub, dev, out, "message");
        wa_node_destroy(&out);
        delivered++;
        dev = (sim_device_t *)zlistx_next(targets);
        enc = (const wa_node_t *)zlistx_next(encs);
    }
    zlistx_destroy(&targets);
    zlistx_destroy(&encs);
    cm_log_debug("relayed status", "id=%s from=%s copies=%zu",
                 wa_node_attr_or(msg, "id", ""), sender->account->phone,
                 delivered);
    return delivered;
}

void
sim_status_test(bool verbose)
{
    printf(" * sim_status: ");
    (void)verbose;
    sim_hub_t *hub = sim_hub_new_test();
    sim_model_t *model = sim_hub_model(hub);
    sim_account_t *a = sim_model_account_add(model, "15550000031", "Ann");
    sim_device_t *ad = sim_account_device_add(a);
    ad->linked = true;
    sim_account_t *b = sim_model_account_add(model, "15550000032", "Bob");
    sim_device_t *bd = sim_account_device_add(b);
    bd->linked = true;
    //  The copy names the sender by its LID device, with the number
    wa_node_t *msg = wa_node_new("message");
    wa_node_set_attr(msg, "to", WA_JID_STATUS);
    wa_node_set_attr(msg, "id", "3EB0ST");
    wa_node_set_attr(msg, "type", "text");
    wa_node_t *parts = wa_node_add(msg, "participants");
    wa_node_t *to = wa_node_add(parts, "to");
    char *bjid = sim_device_jid(bd);
    wa_node_set_attr(to, "jid", bjid);
    free(bjid);
    wa_node_t *pw = wa_node_add(to, "enc");
    wa_node_set_attr(pw, "type", "pkmsg");
    wa_node_set_bytes(pw, (const uint8_t *)"pw", 2);
    wa_node_t *sk = wa_node_add(msg, "enc");
    wa_node_set_attr(sk, "type", "skmsg");
    wa_node_set_bytes(sk, (const uint8_t *)"sk", 2);
    wa_node_add(msg, "device-identity");
    wa_node_t *copy = s_copy(ad, msg);
    char *lid = sim_device_lid_jid(ad);
    assert(wa_node_attr_eq(copy, "from", WA_JID_STATUS));
    assert(wa_node_attr_eq(copy, "participant", lid));
    assert(
        wa_node_attr_eq(copy, "participant_pn", "15550000031@s.whatsapp.net"));
    assert(wa_node_attr_eq(copy, "addressing_mode", "lid"));
    assert(wa_node_attr_eq(copy, "notify", "Ann"));
    assert(wa_node_attr_eq(copy, "id", "3EB0ST"));
    free(lid);
    //  It carries the skmsg and the extras, not the others' parts
    s_append_common(copy, msg, false);
    assert(wa_node_child_count(copy) == 2);
    assert(wa_node_attr_eq(wa_node_child_at(copy, 0), "type", "skmsg"));
    assert(wa_node_is(wa_node_child_at(copy, 1), "device-identity"));
    //  status_garbled damages the skmsg's last byte, nothing else
    s_garble(copy);
    size_t glen = 0;
    const uint8_t *g = wa_node_bytes(wa_node_child_at(copy, 0), &glen);
    assert(glen == 2 && g[0] == 's' && g[1] == ('k' ^ 0xFF));
    assert(wa_node_is(wa_node_child_at(copy, 1), "device-identity"));
    wa_node_destroy(&copy);
    //  A PN-addressed status names the phone number device
    wa_node_set_attr(msg, "addressing_mode", "pn");
    copy = s_copy(ad, msg);
    char *pn = sim_device_jid(ad);
    assert(wa_node_attr_eq(copy, "participant", pn));
    assert(wa_node_attr_eq(copy, "addressing_mode", "pn"));
    free(pn);
    wa_node_destroy(&copy);
    wa_node_destroy(&msg);
    sim_hub_destroy(&hub);
    printf("OK\n");
}
