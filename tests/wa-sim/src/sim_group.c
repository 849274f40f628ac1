/*  sim_group - group IQs (xmlns w:g2) and w:gp2 notifications

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_group.h"
#include "wa/wa_jid.h"

//  Most participants in one group.
#define SIM_GROUP_MAX 1024
//  Longest subject and description, in characters (as WhatsApp).
#define SIM_GROUP_SUBJECT_MAX 100
#define SIM_GROUP_DESCRIPTION_MAX 2048
//  Invite codes: this many letters and digits.
#define SIM_GROUP_CODE_LEN 22

//  Characters (UTF-8 code points) in text.
static size_t
s_chars(const char *text)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)text; p && *p; p++) {
        n += (*p & 0xC0) != 0x80;
    }
    return n;
}

//  A fresh invite code.
static char *
s_new_code(void)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    uint8_t raw[SIM_GROUP_CODE_LEN];
    cm_random(raw, sizeof raw);
    char *code = cm_alloc(SIM_GROUP_CODE_LEN + 1);
    for (size_t i = 0; i < SIM_GROUP_CODE_LEN; i++) {
        code[i] = alphabet[raw[i] % (sizeof alphabet - 1)];
    }
    return code;
}

//  The group whose invite code is `code`, or NULL.
static sim_group_t *
s_group_by_code(sim_model_t *model, const char *code)
{
    sim_group_t *g = (sim_group_t *)zlistx_first(sim_model_groups(model));
    while (g && !(code && g->invite && cm_streq(g->invite, code))) {
        g = (sim_group_t *)zlistx_next(sim_model_groups(model));
    }
    return g;
}

static char *
s_pn(const char *phone)
{
    return cm_sprintf("%s@s.whatsapp.net", phone);
}

//  Set node[key] to the member `phone` as the group addresses it: PN
//  groups by number, LID groups by LID with the number in `pn_key`
//  (whatsmeow group.go parseGroupNode: creator/creator_pn, s_o/s_o_pn,
//  participant jid/phone_number). PN groups name the LID in `lid_key`
//  when given. A member that is not LID-migrated (rule `lid_hidden`) has
//  no LID to tell: named by number.
static void
s_set_member(sim_hub_t *hub, sim_group_t *group, wa_node_t *node,
             const char *key, const char *pn_key, const char *lid_key,
             const char *phone)
{
    char *pn = s_pn(phone);
    sim_account_t *acc = sim_model_account(sim_hub_model(hub), phone);
    char *lid =
        acc && !sim_fault_rules(sim_hub_faults(hub), acc->phone)->lid_hidden
            ? cm_sprintf("%s@lid", acc->lid)
            : NULL;
    if (group->lid && lid) {
        wa_node_set_attr(node, key, lid);
        if (pn_key) {
            wa_node_set_attr(node, pn_key, pn);
        }
    } else {
        wa_node_set_attr(node, key, pn);
        if (lid_key && lid) {
            wa_node_set_attr(node, lid_key, lid);
        }
    }
    free(lid);
    free(pn);
}

//  A <participant> child of node naming member `phone`.
static wa_node_t *
s_add_participant(sim_hub_t *hub, sim_group_t *group, wa_node_t *node,
                  const char *phone)
{
    wa_node_t *p = wa_node_add(node, "participant");
    s_set_member(hub, group, p, "jid", "phone_number", "lid", phone);
    return p;
}

wa_node_t *
sim_group_node(sim_hub_t *hub, sim_group_t *group)
{
    wa_node_t *node = wa_node_new("group");
    wa_node_set_attr(node, "id", group->id);
    s_set_member(hub, group, node, "creator", "creator_pn", NULL,
                 group->creator);
    wa_node_set_attr_int(node, "creation", group->creation_s);
    wa_node_set_attr(node, "subject", group->subject);
    wa_node_set_attr_int(node, "s_t", group->subject_s);
    s_set_member(hub, group, node, "s_o", "s_o_pn", NULL, group->subject_owner);
    wa_node_set_attr_int(node, "size",
                         (int64_t)zlistx_size(group->participants));
    wa_node_set_attr(node, "addressing_mode", group->lid ? "lid" : "pn");
    sim_participant_t *p =
        (sim_participant_t *)zlistx_first(group->participants);
    while (p) {
        wa_node_t *pn = s_add_participant(hub, group, node, p->phone);
        if (p->role) {
            wa_node_set_attr(pn, "type", p->role);
        }
        p = (sim_participant_t *)zlistx_next(group->participants);
    }
    if (group->description) {
        wa_node_t *desc = wa_node_add(node, "description");
        wa_node_set_attr(desc, "id", group->description_id);
        wa_node_set_string(wa_node_add(desc, "body"), group->description);
    }
    if (group->announce) {
        wa_node_add(node, "announcement");
    }
    if (group->locked) {
        wa_node_add(node, "locked");
    }
    if (group->approval) {
        wa_node_set_attr(
            wa_node_add(wa_node_add(node, "membership_approval_mode"),
                        "group_join"),
            "state", "on");
    }
    return node;
}

//  Send a notification of `type` (child taken) to every member device,
//  from the group, with `actor` as participant.
static void
s_notify_type(sim_hub_t *hub, sim_group_t *group, const char *type,
              const char *actor, wa_node_t **child_p, bool members,
              const char *extra_phone)
{
    char *from = cm_sprintf("%s@g.us", group->id);
    wa_node_t *note = sim_hub_notification(hub, type, from, NULL);
    s_set_member(hub, group, note, "participant", "participant_pn", NULL,
                 actor);
    wa_node_append(note, child_p);
    free(from);
    sim_model_t *model = sim_hub_model(hub);
    zlistx_t *targets = zlistx_new();
    sim_participant_t *p =
        (sim_participant_t *)zlistx_first(group->participants);
    while (p && members) {
        zlistx_add_end(targets, p->phone);
        p = (sim_participant_t *)zlistx_next(group->participants);
    }
    if (extra_phone) {
        zlistx_add_end(targets, (void *)extra_phone);
    }
    const char *phone = (const char *)zlistx_first(targets);
    while (phone) {
        sim_account_t *acc = sim_model_account(model, phone);
        if (acc) {
            zlistx_t *devs = sim_account_devices_copy(acc);
            sim_device_t *d = (sim_device_t *)zlistx_first(devs);
            while (d) {
                if (d->linked && d->id != 0) {
                    sim_hub_deliver(hub, d, note, "notification");
                }
                d = (sim_device_t *)zlistx_next(devs);
            }
            zlistx_destroy(&devs);
        }
        phone = (const char *)zlistx_next(targets);
    }
    zlistx_destroy(&targets);
    wa_node_destroy(&note);
}

//  Send a w:gp2 notification (child taken) to every member device.
static void
s_notify(sim_hub_t *hub, sim_group_t *group, const char *actor,
         wa_node_t **child_p, bool members, const char *extra_phone)
{
    s_notify_type(hub, group, "w:gp2", actor, child_p, members, extra_phone);
}

//  Phone of a participant JID (PN or LID user) known to the sim, or
//  NULL. Borrowed from the model.
static const char *
s_member_phone(sim_hub_t *hub, const char *jid)
{
    sim_account_t *acc = sim_hub_account_of(hub, jid, NULL);
    return acc ? acc->phone : NULL;
}

static bool
s_is_admin(sim_participant_t *p)
{
    return p && p->role &&
           (cm_streq(p->role, "admin") || cm_streq(p->role, "superadmin"));
}

static void
s_create(sim_hub_t *hub, sim_conn_t *conn, const wa_node_t *iq,
         const wa_node_t *create)
{
    sim_account_t *me = sim_conn_device(conn)->account;
    const char *subject = wa_node_attr(create, "subject");
    if (!subject || !*subject || strlen(subject) > 100) {
        sim_hub_iq_error(conn, iq, 400, "bad-request");
        return;
    }
    size_t n = 0;
    for (const wa_node_t *p = wa_node_child_next(create, "participant", NULL);
         p; p = wa_node_child_next(create, "participant", p)) {
        if (++n > SIM_GROUP_MAX) {
            sim_hub_iq_error(conn, iq, 406, "not-acceptable");
            return;
        }
    }
    sim_group_t *group =
        sim_model_group_add(sim_hub_model(hub), me->phone, subject);
    //  The 2026 rule: the creator's groups may run in LID addressing
    group->lid = sim_fault_rules(sim_hub_faults(hub), me->phone)->lid_groups;
    for (const wa_node_t *p = wa_node_child_next(create, "participant", NULL);
         p; p = wa_node_child_next(create, "participant", p)) {
        const char *phone = s_member_phone(hub, wa_node_attr(p, "jid"));
        if (phone) {
            sim_group_participant_add(group, phone, NULL);
        }
    }
    cm_log_info("created group", "id=%s creator=%s size=%zu mode=%s", group->id,
                me->phone, zlistx_size(group->participants),
                group->lid ? "lid" : "pn");
    wa_node_t *node = sim_group_node(hub, group);
    sim_hub_iq_result(conn, iq, &node);
    wa_node_t *child = wa_node_new("create");
    wa_node_t *g = sim_group_node(hub, group);
    wa_node_append(child, &g);
    s_notify(hub, group, me->phone, &child, true, NULL);
}

//  add/remove/promote/demote
static void
s_members(sim_hub_t *hub, sim_conn_t *conn, const wa_node_t *iq,
          sim_group_t *group, const wa_node_t *action)
{
    const char *tag = wa_node_tag(action);
    sim_account_t *me = sim_conn_device(conn)->account;
    wa_node_t *reply = wa_node_new(tag);
    wa_node_t *change = wa_node_new(tag);
    bool changed = false;
    const char *removed[SIM_GROUP_MAX];
    size_t nremoved = 0;
    for (const wa_node_t *p = wa_node_child_next(action, "participant", NULL);
         p; p = wa_node_child_next(action, "participant", p)) {
        const char *jid = wa_node_attr_or(p, "jid", "");
        const char *phone = s_member_phone(hub, jid);
        wa_node_t *r = wa_node_add(reply, "participant");
        wa_node_set_attr(r, "jid", jid);
        sim_participant_t *member =
            phone ? sim_group_participant(group, phone) : NULL;
        int error = 0;
        if (!phone) {
            error = 404;
        } else if (cm_streq(tag, "add")) {
            error = member ? 409 : 0;
            if (!error) {
                sim_group_participant_add(group, phone, NULL);
            }
        } else if (!member) {
            error = 404;
        } else if (cm_streq(tag, "remove")) {
            if (nremoved < SIM_GROUP_MAX) {
                removed[nremoved++] = phone;
            }
            sim_group_participant_remove(group, phone);
        } else {
            free(member->role);
            member->role = cm_streq(tag, "promote") ? cm_strdup("admin") : NULL;
        }
        if (error) {
            wa_node_set_attr_int(r, "error", error);
        } else {
            s_add_participant(hub, group, change, phone);
            changed = true;
        }
    }
    sim_hub_iq_result(conn, iq, &reply);
    if (changed) {
        //  Removed members still hear about their removal.
        for (size_t i = 0; i < nremoved; i++) {
            wa_node_t *copy = wa_node_dup(change);
            s_notify(hub, group, me->phone, &copy, false, removed[i]);
            wa_node_destroy(&copy);
        }
        s_notify(hub, group, me->phone, &change, true, NULL);
    }
    wa_node_destroy(&change);
}

//  `phone` asks to join the approval-mode group: the request is kept
//  (once) and the members hear of it (<created_membership_requests>).
static void
s_request(sim_hub_t *hub, sim_group_t *group, const char *phone)
{
    if (!group->requests) {
        group->requests = zhashx_new();
        zhashx_set_destructor(group->requests,
                              (zhashx_destructor_fn *)zstr_free);
    }
    if (zhashx_lookup(group->requests, phone) ||
        zhashx_size(group->requests) >= SIM_GROUP_MAX) {
        return;
    }
    zhashx_insert(group->requests, phone,
                  cm_sprintf("%" PRId64, cm_now_ms() / 1000));
    cm_log_info("join request", "id=%s phone=%s", group->id, phone);
    wa_node_t *change = wa_node_new("created_membership_requests");
    wa_node_set_attr(change, "request_method", "invite_link");
    wa_node_t *user = wa_node_add(change, "requested_user");
    s_set_member(hub, group, user, "jid", "phone_number", NULL, phone);
    s_notify(hub, group, phone, &change, true, NULL);
}

int
sim_group_request_control(sim_hub_t *hub, const char *gid, const char *phone,
                          bool cancel, const char **reason)
{
    assert(hub && reason);
    char id[128];
    snprintf(id, sizeof id, "%s", gid ? gid : "");
    id[strcspn(id, "@")] = 0;
    sim_group_t *group = sim_model_group(sim_hub_model(hub), id);
    if (!group) {
        *reason = "no such group";
        return 404;
    }
    if (!phone || !sim_model_account(sim_hub_model(hub), phone)) {
        *reason = "no such account";
        return 404;
    }
    if (!cancel) {
        if (!group->approval) {
            *reason = "the group is not in membership approval mode";
            return 409;
        }
        if (sim_group_participant(group, phone)) {
            *reason = "already a member";
            return 409;
        }
        s_request(hub, group, phone);
        return 200;
    }
    if (!group->requests || !zhashx_lookup(group->requests, phone)) {
        *reason = "no request of that account is pending";
        return 404;
    }
    zhashx_delete(group->requests, phone);
    cm_log_info("join request cancelled", "id=%s phone=%s", group->id, phone);
    wa_node_t *change = wa_node_new("revoked_membership_requests");
    s_add_participant(hub, group, change, phone);
    s_notify(hub, group, phone, &change, true, phone);
    return 200;
}

//  The pending join requests: <membership_approval_requests> with one
//  <membership_approval_request jid request_time request_method/> each.
static wa_node_t *
s_requests_node(sim_hub_t *hub, sim_group_t *group)
{
    wa_node_t *list = wa_node_new("membership_approval_requests");
    wa_node_set_list(list);
    const char *time =
        group->requests ? (const char *)zhashx_first(group->requests) : NULL;
    while (time) {
        const char *phone = (const char *)zhashx_cursor(group->requests);
        wa_node_t *r = wa_node_add(list, "membership_approval_request");
        s_set_member(hub, group, r, "jid", "phone_number", NULL, phone);
        wa_node_set_attr(r, "request_time", time);
        wa_node_set_attr(r, "request_method", "invite_link");
        time = (const char *)zhashx_next(group->requests);
    }
    return list;
}

//  <membership_requests_action><approve|reject><participant jid/>…: per
//  participant `error` 404 without a pending request. Approved ones are
//  added (the members hear <add reason="membership_approval">), rejected
//  ones hear <revoked_membership_requests> with the admins.
static void
s_requests_action(sim_hub_t *hub, sim_conn_t *conn, const wa_node_t *iq,
                  sim_group_t *group, const wa_node_t *action)
{
    sim_account_t *me = sim_conn_device(conn)->account;
    const wa_node_t *what = wa_node_child_at(action, 0);
    bool approve = what && wa_node_is(what, "approve");
    if (!what || (!approve && !wa_node_is(what, "reject"))) {
        sim_hub_iq_error(conn, iq, 400, "bad-request");
        return;
    }
    wa_node_t *reply = wa_node_new("membership_requests_action");
    wa_node_t *results = wa_node_add(reply, wa_node_tag(what));
    wa_node_t *change =
        wa_node_new(approve ? "add" : "revoked_membership_requests");
    if (approve) {
        wa_node_set_attr(change, "reason", "membership_approval");
    }
    const char *done[SIM_GROUP_MAX];
    size_t ndone = 0;
    for (const wa_node_t *p = wa_node_child_next(what, "participant", NULL); p;
         p = wa_node_child_next(what, "participant", p)) {
        const char *jid = wa_node_attr_or(p, "jid", "");
        const char *phone = s_member_phone(hub, jid);
        wa_node_t *r = wa_node_add(results, "participant");
        wa_node_set_attr(r, "jid", jid);
        if (!phone || !group->requests ||
            !zhashx_lookup(group->requests, phone) || ndone == SIM_GROUP_MAX) {
            wa_node_set_attr_int(r, "error", 404);
            continue;
        }
        zhashx_delete(group->requests, phone);
        if (approve && !sim_group_participant(group, phone)) {
            sim_group_participant_add(group, phone, NULL);
        }
        s_add_participant(hub, group, change, phone);
        done[ndone++] = phone;
    }
    sim_hub_iq_result(conn, iq, &reply);
    for (size_t i = 0; !approve && i < ndone; i++) {
        wa_node_t *copy = wa_node_dup(change);
        s_notify(hub, group, me->phone, &copy, false, done[i]);
    }
    if (ndone > 0) {
        s_notify(hub, group, me->phone, &change, true, NULL);
    }
    wa_node_destroy(&change);
}

//  <invite code/> to @g.us: get says what group the code leads to, set
//  joins it (the members, the new one included, get <add
//  reason="invite">). Unknown codes: 406, as WhatsApp.
static void
s_invite_code(sim_hub_t *hub, sim_conn_t *conn, const wa_node_t *iq,
              const wa_node_t *invite, bool is_get)
{
    sim_account_t *me = sim_conn_device(conn)->account;
    sim_group_t *group =
        s_group_by_code(sim_hub_model(hub), wa_node_attr(invite, "code"));
    if (!group) {
        sim_hub_iq_error(conn, iq, 406, "not-acceptable");
        return;
    }
    if (is_get) {
        wa_node_t *node = sim_group_node(hub, group);
        sim_hub_iq_result(conn, iq, &node);
        return;
    }
    bool member = sim_group_participant(group, me->phone) != NULL;
    if (!member && zlistx_size(group->participants) >= SIM_GROUP_MAX) {
        sim_hub_iq_error(conn, iq, 406, "not-acceptable");
        return;
    }
    if (!member && group->approval) {
        s_request(hub, group, me->phone);
        wa_node_t *reply = wa_node_new("membership_approval_request");
        char *jid = cm_sprintf("%s@g.us", group->id);
        wa_node_set_attr(reply, "jid", jid);
        free(jid);
        sim_hub_iq_result(conn, iq, &reply);
        return;
    }
    wa_node_t *reply = wa_node_new("group");
    char *jid = cm_sprintf("%s@g.us", group->id);
    wa_node_set_attr(reply, "jid", jid);
    free(jid);
    sim_hub_iq_result(conn, iq, &reply);
    if (!member) {
        sim_group_participant_add(group, me->phone, NULL);
        wa_node_t *change = wa_node_new("add");
        wa_node_set_attr(change, "reason", "invite");
        s_add_participant(hub, group, change, me->phone);
        s_notify(hub, group, me->phone, &change, true, NULL);
    }
}

static void
s_handle(sim_hub_t *hub, void *state, sim_conn_t *conn, const wa_node_t *iq)
{
    sim_account_t *me = sim_conn_device(conn)->account;
    sim_model_t *model = sim_hub_model(hub);
    const char *to = wa_node_attr_or(iq, "to", "");
    bool is_get = wa_node_attr_eq(iq, "type", "get");
    const wa_node_t *child = wa_node_child_at(iq, 0);
    if (!child) {
        sim_hub_iq_error(conn, iq, 400, "bad-request");
        return;
    }
    if (cm_streq(to, "g.us") || cm_streq(to, "@g.us")) {
        if (!is_get && wa_node_is(child, "create")) {
            s_create(hub, conn, iq, child);
        } else if (is_get && wa_node_is(child, "participating")) {
            wa_node_t *groups = wa_node_new("groups");
            wa_node_set_list(groups);
            sim_group_t *g =
                (sim_group_t *)zlistx_first(sim_model_groups(model));
            while (g) {
                if (sim_group_participant(g, me->phone)) {
                    wa_node_t *node = sim_group_node(hub, g);
                    wa_node_append(groups, &node);
                }
                g = (sim_group_t *)zlistx_next(sim_model_groups(model));
            }
            sim_hub_iq_result(conn, iq, &groups);
        } else if (wa_node_is(child, "invite")) {
            s_invite_code(hub, conn, iq, child, is_get);
        } else if (!is_get && wa_node_is(child, "leave")) {
            wa_node_t *reply = wa_node_new("leave");
            for (const wa_node_t *g = wa_node_child_next(child, "group", NULL);
                 g; g = wa_node_child_next(child, "group", g)) {
                wa_jid_t *jid = wa_jid_new_from(wa_node_attr_or(g, "id", ""));
                sim_group_t *group =
                    jid ? sim_model_group(model, wa_jid_user(jid)) : NULL;
                wa_jid_destroy(&jid);
                wa_node_t *r = wa_node_add(reply, "group");
                wa_node_set_attr(r, "id", wa_node_attr_or(g, "id", ""));
                if (!group || sim_group_participant_remove(group, me->phone)) {
                    wa_node_set_attr(r, "error", "404");
                    continue;
                }
                wa_node_t *change = wa_node_new("remove");
                s_add_participant(hub, group, change, me->phone);
                s_notify(hub, group, me->phone, &change, true, me->phone);
            }
            sim_hub_iq_result(conn, iq, &reply);
        } else {
            sim_hub_iq_error(conn, iq, 501, "feature-not-implemented");
        }
        return;
    }
    wa_jid_t *jid = wa_jid_new_from(to);
    sim_group_t *group = jid && wa_jid_is_group(jid)
                             ? sim_model_group(model, wa_jid_user(jid))
                             : NULL;
    wa_jid_destroy(&jid);
    if (!group) {
        sim_hub_iq_error(conn, iq, 404, "item-not-found");
        return;
    }
    sim_participant_t *self_p = sim_group_participant(group, me->phone);
    if (!self_p) {
        sim_hub_iq_error(conn, iq, 403, "forbidden");
        return;
    }
    if (is_get && wa_node_is(child, "query")) {
        wa_node_t *node = sim_group_node(hub, group);
        sim_hub_iq_result(conn, iq, &node);
    } else if (wa_node_is(child, "invite")) {
        //  Admins read the code (made on first use) or revoke it
        if (!s_is_admin(self_p)) {
            sim_hub_iq_error(conn, iq, 401, "not-authorized");
            return;
        }
        if (!is_get || !group->invite) {
            free(group->invite);
            group->invite = s_new_code();
        }
        wa_node_t *invite = wa_node_new("invite");
        wa_node_set_attr(invite, "code", group->invite);
        sim_hub_iq_result(conn, iq, &invite);
    } else if (wa_node_is(child, "membership_approval_requests") ||
               wa_node_is(child, "membership_requests_action") ||
               wa_node_is(child, "membership_approval_mode")) {
        //  Join requests and approval mode: admins only
        if (!s_is_admin(self_p)) {
            sim_hub_iq_error(conn, iq, 401, "not-authorized");
        } else if (is_get &&
                   wa_node_is(child, "membership_approval_requests")) {
            wa_node_t *list = s_requests_node(hub, group);
            sim_hub_iq_result(conn, iq, &list);
        } else if (is_get) {
            sim_hub_iq_error(conn, iq, 400, "bad-request");
        } else if (wa_node_is(child, "membership_requests_action")) {
            s_requests_action(hub, conn, iq, group, child);
        } else if (wa_node_is(child, "membership_approval_mode")) {
            const wa_node_t *join = wa_node_child(child, "group_join");
            if (!join) {
                sim_hub_iq_error(conn, iq, 400, "bad-request");
                return;
            }
            group->approval = wa_node_attr_eq(join, "state", "on");
            sim_hub_iq_result(conn, iq, NULL);
            wa_node_t *change = wa_node_dup(child);
            s_notify(hub, group, me->phone, &change, true, NULL);
        } else {
            sim_hub_iq_error(conn, iq, 400, "bad-request");
        }
    } else if (is_get) {
        sim_hub_iq_error(conn, iq, 501, "feature-not-implemented");
    } else if (wa_node_is(child, "add") || wa_node_is(child, "remove") ||
               wa_node_is(child, "promote") || wa_node_is(child, "demote")) {
        if (!s_is_admin(self_p)) {
            sim_hub_iq_error(conn, iq, 401, "not-authorized");
            return;
        }
        s_members(hub, conn, iq, group, child);
    } else if (wa_node_is(child, "announcement") ||
               wa_node_is(child, "not_announcement") ||
               wa_node_is(child, "locked") || wa_node_is(child, "unlocked")) {
        if (!s_is_admin(self_p)) {
            sim_hub_iq_error(conn, iq, 401, "not-authorized");
            return;
        }
        const char *tag = wa_node_tag(child);
        if (cm_streq(tag, "announcement") ||
            cm_streq(tag, "not_announcement")) {
            group->announce = cm_streq(tag, "announcement");
        } else {
            group->locked = cm_streq(tag, "locked");
        }
        sim_hub_iq_result(conn, iq, NULL);
        wa_node_t *change = wa_node_new(tag);
        s_notify(hub, group, me->phone, &change, true, NULL);
    } else if ((wa_node_is(child, "subject") ||
                wa_node_is(child, "description")) &&
               group->locked && !s_is_admin(self_p)) {
        //  Locked: only admins edit the group info
        sim_hub_iq_error(conn, iq, 401, "not-authorized");
    } else if (wa_node_is(child, "subject")) {
        const char *text = wa_node_text_content(child);
        if (!text || !*text || s_chars(text) > SIM_GROUP_SUBJECT_MAX) {
            sim_hub_iq_error(conn, iq, 400, "bad-request");
            return;
        }
        free(group->subject);
        group->subject = cm_strdup(text);
        free(group->subject_owner);
        group->subject_owner = cm_strdup(me->phone);
        group->subject_s = cm_now_ms() / 1000;
        sim_hub_iq_result(conn, iq, NULL);
        wa_node_t *change = wa_node_new("subject");
        wa_node_set_attr(change, "subject", text);
        s_set_member(hub, group, change, "s_o", "s_o_pn", NULL, me->phone);
        wa_node_set_attr_int(change, "s_t", group->subject_s);
        s_notify(hub, group, me->phone, &change, true, NULL);
    } else if (wa_node_is(child, "description")) {
        const wa_node_t *body = wa_node_child(child, "body");
        const char *text = body ? wa_node_text_content(body) : NULL;
        const char *prev = wa_node_attr(child, "prev");
        if (s_chars(text) > SIM_GROUP_DESCRIPTION_MAX) {
            sim_hub_iq_error(conn, iq, 400, "bad-request");
            return;
        }
        //  The change names the version it replaces, as WhatsApp checks
        if (group->description_id ? !cm_streq(prev, group->description_id)
                                  : prev != NULL) {
            sim_hub_iq_error(conn, iq, 409, "conflict");
            return;
        }
        free(group->description);
        free(group->description_id);
        group->description = wa_node_attr_eq(child, "delete", "true")
                                 ? NULL
                                 : cm_strdup(text ? text : "");
        group->description_id =
            cm_strdup(wa_node_attr_or(child, "id", sim_hub_next_id(hub)));
        sim_hub_iq_result(conn, iq, NULL);
        wa_node_t *change = wa_node_dup(child);
        s_notify(hub, group, me->phone, &change, true, NULL);
    } else {
        sim_hub_iq_error(conn, iq, 501, "feature-not-implemented");
    }
}

//  The media path of a group picture version.
static char *
s_picture_path(sim_group_t *group, const char *id)
{
    return cm_sprintf("/v/t61.24694-24/gp_%s_%s.jpg", group->id, id);
}

void
sim_group_picture(sim_hub_t *hub, sim_conn_t *conn, const wa_node_t *iq)
{
    sim_model_t *model = sim_hub_model(hub);
    sim_account_t *me = sim_conn_device(conn)->account;
    wa_jid_t *jid = wa_jid_new_from(wa_node_attr_or(iq, "target", ""));
    sim_group_t *group = jid && wa_jid_is_group(jid)
                             ? sim_model_group(model, wa_jid_user(jid))
                             : NULL;
    wa_jid_destroy(&jid);
    sim_participant_t *self_p =
        group ? sim_group_participant(group, me->phone) : NULL;
    if (!group) {
        sim_hub_iq_error(conn, iq, 404, "item-not-found");
        return;
    }
    if (wa_node_attr_eq(iq, "type", "get")) {
        const wa_node_t *q = wa_node_child(iq, "picture");
        if (!group->picture_id) {
            sim_hub_iq_error(conn, iq, 404, "item-not-found");
        } else if (q && cm_streq(wa_node_attr(q, "id"), group->picture_id)) {
            sim_hub_iq_error(conn, iq, 304, "not-modified");
        } else {
            char *path = s_picture_path(group, group->picture_id);
            const char *host = sim_hub_media_host(hub);
            char *url = host ? cm_sprintf("%s://%s%s",
                                          sim_hub_media_scheme(hub), host, path)
                             : cm_sprintf("https://mmg.whatsapp.net%s", path);
            wa_node_t *pic = wa_node_new("picture");
            wa_node_set_attr(pic, "id", group->picture_id);
            wa_node_set_attr(pic, "type",
                             q ? wa_node_attr_or(q, "type", "image") : "image");
            wa_node_set_attr(pic, "direct_path", path);
            wa_node_set_attr(pic, "url", url);
            free(url);
            free(path);
            sim_hub_iq_result(conn, iq, &pic);
        }
        return;
    }
    if (!self_p || (group->locked && !s_is_admin(self_p))) {
        sim_hub_iq_error(conn, iq, self_p ? 401 : 403,
                         self_p ? "not-authorized" : "forbidden");
        return;
    }
    const wa_node_t *full = wa_node_child(iq, "picture");
    size_t len = 0;
    const uint8_t *data = full ? wa_node_bytes(full, &len) : NULL;
    if (full && (!data || len < 4 || data[0] != 0xFF || data[1] != 0xD8 ||
                 data[2] != 0xFF || len > 2 * 1024 * 1024)) {
        sim_hub_iq_error(conn, iq, 406, "not-acceptable");
        return;
    }
    if (group->picture_id) {
        char *old = s_picture_path(group, group->picture_id);
        sim_model_media_del(model, old);
        free(old);
        free(group->picture_id);
        group->picture_id = NULL;
    }
    char *gjid = cm_sprintf("%s@g.us", group->id);
    char *author = s_pn(me->phone);
    if (!full) {
        cm_log_info("group picture removed", "id=%s", group->id);
        sim_hub_iq_result(conn, iq, NULL);
        //  Members hear of it: <notification type="picture"><delete/>
        wa_node_t *del = wa_node_new("delete");
        wa_node_set_attr(del, "jid", gjid);
        wa_node_set_attr(del, "author", author);
        s_notify_type(hub, group, "picture", me->phone, &del, true, NULL);
        free(author);
        free(gjid);
        return;
    }
    char *id = cm_strdup(sim_hub_next_id(hub));
    char *path = s_picture_path(group, id);
    int rc = sim_model_media_put(model, path, data, len);
    free(path);
    if (rc != 0) {
        free(id);
        free(author);
        free(gjid);
        sim_hub_iq_error(conn, iq, 500, "internal-error");
        return;
    }
    group->picture_id = id;
    cm_log_info("group picture set", "id=%s picture=%s bytes=%zu", group->id,
                id, len);
    wa_node_t *pic = wa_node_new("picture");
    wa_node_set_attr(pic, "id", id);
    sim_hub_iq_result(conn, iq, &pic);
    wa_node_t *set = wa_node_new("set");
    wa_node_set_attr(set, "jid", gjid);
    wa_node_set_attr(set, "id", id);
    wa_node_set_attr(set, "author", author);
    s_notify_type(hub, group, "picture", me->phone, &set, true, NULL);
    free(author);
    free(gjid);
}

static const sim_iq_route_t s_iqs[] = {{"w:g2", NULL, 0, s_handle},
                                       {NULL, NULL, 0, NULL}};

static const char *const s_notifications[] = {"w:gp2", "picture", NULL};

const sim_cap_t sim_group_cap = {
    .name = "group",
    .iqs = s_iqs,
    .notifications = s_notifications,
};

void
sim_group_test(bool verbose)
{
    printf(" * sim_group: ");
    sim_hub_t *hub = sim_hub_new_test();
    sim_model_t *model = sim_hub_model(hub);
    sim_account_t *a = sim_model_account_add(model, "15550000001", "A");
    sim_account_t *b = sim_model_account_add(model, "15550000002", "B");
    sim_group_t *group = sim_model_group_add(model, a->phone, "Team");
    sim_group_participant_add(group, b->phone, NULL);
    wa_node_t *node = sim_group_node(hub, group);
    assert(wa_node_attr_eq(node, "subject", "Team"));
    assert(wa_node_attr_eq(node, "addressing_mode", "pn"));
    assert(wa_node_child_count(node) == 2);
    wa_node_t *first = wa_node_child(node, "participant");
    assert(wa_node_attr_eq(first, "type", "superadmin"));
    char *lid = cm_sprintf("%s@lid", a->lid);
    assert(wa_node_attr_eq(first, "lid", lid));
    free(lid);
    wa_node_destroy(&node);
    assert(cm_streq(s_member_phone(hub, "15550000002@s.whatsapp.net"),
                    "15550000002"));
    assert(!s_member_phone(hub, "15550000003@s.whatsapp.net"));
    assert(s_is_admin(sim_group_participant(group, a->phone)));
    //  Limits count characters; invite codes lead to their group
    assert(s_chars("é✓x") == 3 && s_chars("") == 0 && s_chars(NULL) == 0);
    group->invite = s_new_code();
    assert(strlen(group->invite) == SIM_GROUP_CODE_LEN);
    assert(s_group_by_code(model, group->invite) == group);
    assert(!s_group_by_code(model, "nope") && !s_group_by_code(model, NULL));
    group->announce = group->locked = true;
    node = sim_group_node(hub, group);
    assert(wa_node_child(node, "announcement") &&
           wa_node_child(node, "locked"));
    wa_node_destroy(&node);
    assert(!s_is_admin(sim_group_participant(group, b->phone)));
    //  LID addressing: members by LID, the number beside
    group->lid = true;
    node = sim_group_node(hub, group);
    assert(wa_node_attr_eq(node, "addressing_mode", "lid"));
    lid = cm_sprintf("%s@lid", a->lid);
    assert(wa_node_attr_eq(node, "creator", lid));
    assert(wa_node_attr_eq(node, "creator_pn", "15550000001@s.whatsapp.net"));
    assert(wa_node_attr_eq(node, "s_o", lid));
    first = wa_node_child(node, "participant");
    assert(wa_node_attr_eq(first, "jid", lid));
    assert(
        wa_node_attr_eq(first, "phone_number", "15550000001@s.whatsapp.net"));
    assert(!wa_node_attr(first, "lid"));
    free(lid);
    wa_node_destroy(&node);
    //  Join requests by control: approval mode only, from a non-member;
    //  a cancel needs a pending request
    sim_account_t *c = sim_model_account_add(model, "15550000003", "C");
    const char *why = NULL;
    assert(sim_group_request_control(hub, group->id, c->phone, false, &why) ==
           409);
    group->approval = true;
    assert(sim_group_request_control(hub, "nope", c->phone, false, &why) ==
           404);
    assert(sim_group_request_control(hub, group->id, "1", false, &why) == 404);
    assert(sim_group_request_control(hub, group->id, b->phone, false, &why) ==
           409);
    char *gjid = cm_sprintf("%s@g.us", group->id);
    assert(sim_group_request_control(hub, gjid, c->phone, false, &why) == 200);
    assert(zhashx_lookup(group->requests, c->phone));
    assert(sim_group_request_control(hub, gjid, c->phone, true, &why) == 200);
    assert(!zhashx_lookup(group->requests, c->phone));
    assert(sim_group_request_control(hub, gjid, c->phone, true, &why) == 404);
    free(gjid);
    sim_hub_destroy(&hub);
    printf("OK\n");
}
