/*  sim_usync - user and device queries (xmlns usync)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_pair.h"
#include "sim_usync.h"
#include "wa/wa_jid.h"

//  Most users in one usync query.
#define SIM_USYNC_MAX_USERS 1000

//  Digits of a contact query ("+1 555…", "+1555@c.us"). NULL if none.
static char *
s_contact_digits(const char *text)
{
    if (!text) {
        return NULL;
    }
    char digits[32];
    size_t n = 0;
    for (const char *p = text; *p && *p != '@'; p++) {
        if (isdigit((unsigned char)*p)) {
            if (n == sizeof digits - 1) {
                return NULL;
            }
            digits[n++] = *p;
        }
    }
    digits[n] = 0;
    return n ? cm_strdup(digits) : NULL;
}

static wa_node_t *
s_devices_node(sim_hub_t *hub, sim_account_t *acc)
{
    wa_node_t *devices = wa_node_new("devices");
    wa_node_t *list = wa_node_add(devices, "device-list");
    wa_node_set_list(list);
    if (!acc) {
        return devices;
    }
    sim_device_t *dev = (sim_device_t *)zlistx_first(acc->devices);
    while (dev) {
        if (dev->id == 0 && sim_hub_config(hub)->phone_device) {
            wa_node_set_attr(wa_node_add(list, "device"), "id", "0");
        } else if (dev->id != 0 && dev->linked) {
            wa_node_t *d = wa_node_add(list, "device");
            wa_node_set_attr_int(d, "id", dev->id);
            wa_node_set_attr_int(d, "key-index", dev->key_index);
        }
        dev = (sim_device_t *)zlistx_next(acc->devices);
    }
    wa_node_t *kil = sim_pair_key_index_list(hub, acc);
    wa_node_append(devices, &kil);
    return devices;
}

static void
s_usync(sim_hub_t *hub, void *state, sim_conn_t *conn, const wa_node_t *iq)
{
    const wa_node_t *usync = wa_node_child(iq, "usync");
    const wa_node_t *query = usync ? wa_node_child(usync, "query") : NULL;
    const wa_node_t *list = usync ? wa_node_child(usync, "list") : NULL;
    if (!query || !list) {
        sim_hub_iq_error(conn, iq, 400, "bad-request");
        return;
    }
    bool want_devices = wa_node_child(query, "devices") != NULL;
    bool want_contact = wa_node_child(query, "contact") != NULL;
    bool want_lid = wa_node_child(query, "lid") != NULL;
    bool want_status = wa_node_child(query, "status") != NULL;
    bool want_dm = wa_node_child(query, "disappearing_mode") != NULL;
    wa_node_t *out = wa_node_new("usync");
    static const char *const echo[] = {"sid", "mode", "context", "index", NULL};
    for (int i = 0; echo[i]; i++) {
        const char *v = wa_node_attr(usync, echo[i]);
        if (v) {
            wa_node_set_attr(out, echo[i], v);
        }
    }
    wa_node_set_attr(out, "last", "true");
    wa_node_t *result = wa_node_add(out, "result");
    for (size_t i = 0; i < wa_node_child_count(query); i++) {
        wa_node_add(result, wa_node_tag(wa_node_child_at(query, i)));
    }
    wa_node_t *olist = wa_node_add(out, "list");
    wa_node_set_list(olist);
    size_t n = 0;
    for (const wa_node_t *u = wa_node_child_next(list, "user", NULL); u;
         u = wa_node_child_next(list, "user", u)) {
        if (++n > SIM_USYNC_MAX_USERS) {
            wa_node_destroy(&out);
            sim_hub_iq_error(conn, iq, 419, "resource-limit");
            return;
        }
        const char *jid = wa_node_attr(u, "jid");
        const wa_node_t *contact = wa_node_child(u, "contact");
        sim_account_t *acc = NULL;
        char *user_jid = NULL;
        if (jid) {
            wa_jid_t *parsed = wa_jid_new_from(jid);
            if (parsed) {
                wa_jid_set_device(parsed, 0);
                user_jid = cm_strdup(wa_jid_str(parsed));
                wa_jid_destroy(&parsed);
            }
            acc = sim_hub_account_of(hub, jid, NULL);
        }
        char *digits = NULL;
        if (!user_jid && contact) {
            digits = s_contact_digits(wa_node_text_content(contact));
            acc = digits ? sim_model_account(sim_hub_model(hub), digits) : NULL;
            if (digits) {
                user_jid = cm_sprintf("%s@s.whatsapp.net", digits);
            }
        }
        wa_node_t *ou = wa_node_add(olist, "user");
        if (user_jid) {
            wa_node_set_attr(ou, "jid", user_jid);
        }
        if (want_contact) {
            wa_node_t *c = wa_node_add(ou, "contact");
            wa_node_set_attr(c, "type", acc ? "in" : "out");
            const char *text = contact ? wa_node_text_content(contact) : NULL;
            if (text) {
                wa_node_set_string(c, text);
            }
        }
        if (want_devices) {
            wa_node_t *d = s_devices_node(hub, acc);
            wa_node_append(ou, &d);
        }
        if (want_lid && acc && !sim_fault_rules(sim_hub_faults(hub), acc->phone)->lid_hidden) {
            char *lid = cm_sprintf("%s@lid", acc->lid);
            wa_node_set_attr(wa_node_add(ou, "lid"), "val", lid);
            free(lid);
        }
        if (want_status && acc) {
            //  The about text and when it was set (none: the account's
            //  creation, empty text)
            wa_node_t *s = wa_node_add(ou, "status");
            wa_node_set_attr_int(
                s, "t", acc->about ? acc->about_t : acc->created_ms / 1000);
            if (acc->about) {
                wa_node_set_string(s, acc->about);
            }
        }
        if (want_dm && acc) {
            wa_node_t *dm = wa_node_add(ou, "disappearing_mode");
            wa_node_set_attr(dm, "duration", "0");
            wa_node_set_attr(dm, "t", "0");
        }
        free(user_jid);
        free(digits);
    }
    sim_hub_iq_result(conn, iq, &out);
}

static const sim_iq_route_t s_iqs[] = {{"usync", NULL, 0, s_usync},
                                       {NULL, NULL, 0, NULL}};

const sim_cap_t sim_usync_cap = {
    .name = "usync",
    .iqs = s_iqs,
};

void
sim_usync_test(bool verbose)
{
    printf(" * sim_usync: ");
    char *d = s_contact_digits("+1 555 123-4567");
    assert(d && cm_streq(d, "15551234567"));
    free(d);
    d = s_contact_digits("+15551234567@c.us");
    assert(d && cm_streq(d, "15551234567"));
    free(d);
    assert(!s_contact_digits("abc"));
    assert(!s_contact_digits(NULL));

    //  Device lists: no account, no devices.
    sim_hub_t *hub = sim_hub_new_test();
    wa_node_t *devices = s_devices_node(hub, NULL);
    assert(wa_node_child_count(wa_node_child(devices, "device-list")) == 0);
    assert(!wa_node_child(devices, "key-index-list"));
    wa_node_destroy(&devices);
    //  The phone (device 0) and linked companions with their key index.
    sim_account_t *a =
        sim_model_account_add(sim_hub_model(hub), "15550000051", "A");
    sim_device_t *dev = sim_account_device_add(a);
    dev->linked = true;
    dev->key_index = 7;
    sim_account_device_add(a); //  not linked: not listed
    devices = s_devices_node(hub, a);
    const wa_node_t *list = wa_node_child(devices, "device-list");
    assert(wa_node_child_count(list) == 2);
    assert(wa_node_attr_eq(wa_node_child_at(list, 0), "id", "0"));
    assert(wa_node_attr_eq(wa_node_child_at(list, 1), "id", "1"));
    assert(wa_node_attr_eq(wa_node_child_at(list, 1), "key-index", "7"));
    assert(wa_node_child(devices, "key-index-list"));
    wa_node_destroy(&devices);
    sim_hub_destroy(&hub);
    printf("OK\n");
}
