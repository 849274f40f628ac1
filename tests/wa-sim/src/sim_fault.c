/*  sim_fault - fault injection settings for reliability tests

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"

struct _sim_fault_t {
    sim_fault_rules_t global; //  rules for accounts without their own
    zhashx_t *accounts;       //  phone -> sim_fault_rules_t *
};

static void
s_rules_free(void **item)
{
    free(*item);
    *item = NULL;
}

sim_fault_t *
sim_fault_new(void)
{
    sim_fault_t *self = (sim_fault_t *)cm_alloc(sizeof(sim_fault_t));
    self->accounts = zhashx_new();
    zhashx_set_destructor(self->accounts, s_rules_free);
    return self;
}

void
sim_fault_destroy(sim_fault_t **self_p)
{
    assert(self_p);
    sim_fault_t *self = *self_p;
    if (self) {
        zhashx_destroy(&self->accounts);
        free(self);
        *self_p = NULL;
    }
}

const sim_fault_rules_t *
sim_fault_rules(sim_fault_t *self, const char *phone)
{
    assert(self);
    sim_fault_rules_t *rules =
        phone ? (sim_fault_rules_t *)zhashx_lookup(self->accounts, phone)
              : NULL;
    return rules ? rules : &self->global;
}

//  Read an optional boolean field. Returns -1 if present but not bool.
static int
s_bool(json_t *body, const char *key, bool *out)
{
    json_t *v = json_object_get(body, key);
    if (!v) {
        return 0;
    }
    if (!json_is_boolean(v)) {
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}

int
sim_fault_update(sim_fault_t *self, json_t *body, const char **error)
{
    assert(self);
    assert(error);
    if (!json_is_object(body)) {
        *error = "body must be a JSON object";
        return -1;
    }
    const char *known[] = {"phone",
                           "ack_delay_ms",
                           "withhold_acks",
                           "refuse_prekey_upload",
                           "refuse_prekey_fetch",
                           "refuse_prekeys",
                           "lid_groups",
                           "check_phash",
                           "tctoken",
                           "tctoken_withheld",
                           "lid_hidden",
                           "min_web_version",
                           "check_peer_pn",
                           "lid_status",
                           "status_garbled",
                           "garble_dms",
                           NULL};
    const char *key;
    json_t *value;
    json_object_foreach(body, key, value)
    {
        bool ok = false;
        for (int i = 0; known[i]; i++) {
            ok = ok || cm_streq(key, known[i]);
        }
        if (!ok) {
            *error = "unrecognized fault field";
            return -1;
        }
    }
    json_t *phone = json_object_get(body, "phone");
    if (phone && !json_is_string(phone)) {
        *error = "phone must be a string";
        return -1;
    }
    sim_fault_rules_t next =
        *sim_fault_rules(self, phone ? json_string_value(phone) : NULL);
    json_t *delay = json_object_get(body, "ack_delay_ms");
    if (delay) {
        if (!json_is_integer(delay) || json_integer_value(delay) < 0 ||
            json_integer_value(delay) > SIM_FAULT_MAX_DELAY_MS) {
            *error = "ack_delay_ms must be an integer in 0..600000";
            return -1;
        }
        next.ack_delay_ms = json_integer_value(delay);
    }
    json_t *minv = json_object_get(body, "min_web_version");
    if (minv) {
        if (!json_is_integer(minv) || json_integer_value(minv) < 0 ||
            json_integer_value(minv) > UINT32_MAX) {
            *error = "min_web_version must be an integer in 0..4294967295";
            return -1;
        }
        next.min_web_version = json_integer_value(minv);
    }
    json_t *garble = json_object_get(body, "garble_dms");
    if (garble) {
        if (!json_is_integer(garble) || json_integer_value(garble) < 0 ||
            json_integer_value(garble) > SIM_FAULT_MAX_GARBLE) {
            *error = "garble_dms must be an integer in 0..100";
            return -1;
        }
        next.garble_dms = json_integer_value(garble);
    }
    bool both = false;
    bool has_both = json_object_get(body, "refuse_prekeys") != NULL;
    if (s_bool(body, "withhold_acks", &next.withhold_acks) ||
        s_bool(body, "refuse_prekey_upload", &next.refuse_prekey_upload) ||
        s_bool(body, "refuse_prekey_fetch", &next.refuse_prekey_fetch) ||
        s_bool(body, "refuse_prekeys", &both) ||
        s_bool(body, "lid_groups", &next.lid_groups) ||
        s_bool(body, "check_phash", &next.check_phash) ||
        s_bool(body, "tctoken", &next.tctoken) ||
        s_bool(body, "tctoken_withheld", &next.tctoken_withheld) ||
        s_bool(body, "lid_hidden", &next.lid_hidden) ||
        s_bool(body, "check_peer_pn", &next.check_peer_pn) ||
        s_bool(body, "lid_status", &next.lid_status) ||
        s_bool(body, "status_garbled", &next.status_garbled)) {
        *error = "fault flags must be booleans";
        return -1;
    }
    if (has_both) {
        next.refuse_prekey_upload = both;
        next.refuse_prekey_fetch = both;
    }
    if (phone) {
        sim_fault_rules_t *rules =
            (sim_fault_rules_t *)cm_alloc(sizeof(sim_fault_rules_t));
        *rules = next;
        zhashx_update(self->accounts, json_string_value(phone), rules);
    } else {
        self->global = next;
    }
    return 0;
}

bool
sim_fault_take_garble(sim_fault_t *self, const char *phone)
{
    assert(self);
    sim_fault_rules_t *rules =
        phone ? (sim_fault_rules_t *)zhashx_lookup(self->accounts, phone)
              : NULL;
    if (!rules) {
        rules = &self->global;
    }
    if (rules->garble_dms <= 0) {
        return false;
    }
    rules->garble_dms--;
    return true;
}

void
sim_fault_reset(sim_fault_t *self)
{
    assert(self);
    zhashx_purge(self->accounts);
    memset(&self->global, 0, sizeof self->global);
}

static json_t *
s_rules_json(const sim_fault_rules_t *rules)
{
    return json_pack(
        "{s:I, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:I, s:b, "
        "s:b, s:b, s:I}",
        "ack_delay_ms", (json_int_t)rules->ack_delay_ms, "withhold_acks",
        rules->withhold_acks, "refuse_prekey_upload",
        rules->refuse_prekey_upload, "refuse_prekey_fetch",
        rules->refuse_prekey_fetch, "lid_groups", rules->lid_groups,
        "check_phash", rules->check_phash, "tctoken", rules->tctoken,
        "tctoken_withheld", rules->tctoken_withheld, "lid_hidden",
        rules->lid_hidden, "min_web_version",
        (json_int_t)rules->min_web_version, "check_peer_pn",
        rules->check_peer_pn, "lid_status", rules->lid_status, "status_garbled",
        rules->status_garbled, "garble_dms", (json_int_t)rules->garble_dms);
}

json_t *
sim_fault_to_json(sim_fault_t *self)
{
    assert(self);
    json_t *accounts = json_object();
    sim_fault_rules_t *rules =
        (sim_fault_rules_t *)zhashx_first(self->accounts);
    while (rules) {
        json_object_set_new(accounts,
                            (const char *)zhashx_cursor(self->accounts),
                            s_rules_json(rules));
        rules = (sim_fault_rules_t *)zhashx_next(self->accounts);
    }
    return json_pack("{s:o, s:o}", "global", s_rules_json(&self->global),
                     "accounts", accounts);
}

void
sim_fault_test(bool verbose)
{
    printf(" * sim_fault: ");
    sim_fault_t *fault = sim_fault_new();
    const char *error = NULL;
    assert(!sim_fault_rules(fault, NULL)->withhold_acks);

    json_t *body = json_pack("{s:i}", "ack_delay_ms", 250);
    assert(sim_fault_update(fault, body, &error) == 0);
    json_decref(body);
    assert(sim_fault_rules(fault, "1555")->ack_delay_ms == 250);

    body = json_pack("{s:s, s:b}", "phone", "1555", "refuse_prekeys", 1);
    assert(sim_fault_update(fault, body, &error) == 0);
    json_decref(body);
    const sim_fault_rules_t *r = sim_fault_rules(fault, "1555");
    assert(r->refuse_prekey_upload && r->refuse_prekey_fetch);
    assert(r->ack_delay_ms == 250); //  inherited from global
    assert(!sim_fault_rules(fault, "1666")->refuse_prekey_fetch);
    //  The server rules are per account too
    body = json_pack("{s:s, s:b, s:b}", "phone", "1777", "lid_groups", 1,
                     "check_phash", 1);
    assert(sim_fault_update(fault, body, &error) == 0);
    json_decref(body);
    assert(sim_fault_rules(fault, "1777")->lid_groups &&
           sim_fault_rules(fault, "1777")->check_phash);
    assert(!sim_fault_rules(fault, "1555")->check_phash);
    body = json_pack("{s:i}", "check_phash", 1);
    assert(sim_fault_update(fault, body, &error) == -1);
    json_decref(body);

    //  The oldest WA Web revision accepted
    body = json_pack("{s:I}", "min_web_version", (json_int_t)1047888331);
    assert(sim_fault_update(fault, body, &error) == 0);
    json_decref(body);
    assert(sim_fault_rules(fault, NULL)->min_web_version == 1047888331);
    body = json_pack("{s:i}", "min_web_version", -1);
    assert(sim_fault_update(fault, body, &error) == -1);
    json_decref(body);
    body = json_pack("{s:s}", "min_web_version", "2.3000.1");
    assert(sim_fault_update(fault, body, &error) == -1);
    json_decref(body);

    //  garble_dms counts down per account
    body = json_pack("{s:s, s:i}", "phone", "1888", "garble_dms", 2);
    assert(sim_fault_update(fault, body, &error) == 0);
    json_decref(body);
    assert(sim_fault_take_garble(fault, "1888"));
    assert(sim_fault_take_garble(fault, "1888"));
    assert(!sim_fault_take_garble(fault, "1888"));
    assert(!sim_fault_take_garble(fault, "1555"));
    body = json_pack("{s:i}", "garble_dms", 101);
    assert(sim_fault_update(fault, body, &error) == -1);
    json_decref(body);
    body = json_pack("{s:s}", "garble_dms", "1");
    assert(sim_fault_update(fault, body, &error) == -1);
    json_decref(body);

    body = json_pack("{s:s}", "bogus", "x");
    assert(sim_fault_update(fault, body, &error) == -1 && error);
    json_decref(body);
    body = json_pack("{s:i}", "ack_delay_ms", -1);
    assert(sim_fault_update(fault, body, &error) == -1);
    json_decref(body);
    body = json_pack("{s:s}", "withhold_acks", "yes");
    assert(sim_fault_update(fault, body, &error) == -1);
    json_decref(body);
    assert(sim_fault_update(fault, NULL, &error) == -1);

    json_t *view = sim_fault_to_json(fault);
    assert(json_object_get(json_object_get(view, "accounts"), "1555"));
    json_decref(view);

    sim_fault_reset(fault);
    assert(!sim_fault_rules(fault, "1555")->refuse_prekey_fetch);
    assert(sim_fault_rules(fault, NULL)->ack_delay_ms == 0);
    sim_fault_destroy(&fault);
    assert(!fault);
    printf("OK\n");
}
