/*  sim_profile - profile picture, about text, disappearing mode

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    w:profile:picture, type set, without `target`: the sender's own
    picture. <picture type="image">JPEG</picture> replaces it (an
    optional second <picture type="preview"> gives the preview; else the
    full image is both); no <picture> child removes it. The answer is
    <picture id/> with a fresh id. The bytes go to the media store, so
    the URLs the get answers with download them from the media host.
    Type get, target=JID (PN or LID): <picture id url type direct_path/>
    for `type` image or preview, 304 not-modified when the query's `id`
    is the current one, 404 item-not-found when there is none. A set
    with someone else's `target` is 403. A group `target` (get or set)
    goes to sim_group_picture.

    status, type set: <status>TEXT</status> is the sender's about text
    (usync's status query reads it).
*/
#include "sim_classes.h"
#include "sim_group.h"
#include "sim_profile.h"
#include "wa/wa_jid.h"

//  Largest picture accepted (WhatsApp takes 640x640 JPEGs).
#define SIM_PROFILE_PICTURE_MAX (2 * 1024 * 1024)
//  Longest about text, bytes.
#define SIM_PROFILE_ABOUT_MAX 1024

//  True when the bytes start as a JPEG does.
static bool
s_is_jpeg(const uint8_t *data, size_t len)
{
    return data && len >= 4 && data[0] == 0xFF && data[1] == 0xD8 &&
           data[2] == 0xFF;
}

//  The media path of a picture version ("full" or "preview").
static char *
s_picture_path(const char *phone, const char *id, const char *which)
{
    return cm_sprintf("/v/t61.24694-24/pp_%s_%s_%s.jpg", phone, id, which);
}

//  Forget the account's picture (and its media blobs).
static void
s_picture_clear(sim_model_t *model, sim_account_t *acc)
{
    if (acc->picture_path) {
        sim_model_media_del(model, acc->picture_path);
    }
    if (acc->preview_path && !cm_streq(acc->preview_path, acc->picture_path)) {
        sim_model_media_del(model, acc->preview_path);
    }
    free(acc->picture_id);
    free(acc->picture_path);
    free(acc->preview_path);
    acc->picture_id = acc->picture_path = acc->preview_path = NULL;
}

//  Set the account's picture. Returns 0, or a WhatsApp error code.
static int
s_picture_set(sim_model_t *model, sim_account_t *acc, const char *id,
              const uint8_t *full, size_t full_len, const uint8_t *preview,
              size_t preview_len)
{
    if (!s_is_jpeg(full, full_len) || full_len > SIM_PROFILE_PICTURE_MAX ||
        (preview && (!s_is_jpeg(preview, preview_len) ||
                     preview_len > SIM_PROFILE_PICTURE_MAX))) {
        return 406;
    }
    s_picture_clear(model, acc);
    char *full_path = s_picture_path(acc->phone, id, "full");
    char *preview_path =
        preview ? s_picture_path(acc->phone, id, "preview") : NULL;
    if (sim_model_media_put(model, full_path, full, full_len) ||
        (preview_path &&
         sim_model_media_put(model, preview_path, preview, preview_len))) {
        sim_model_media_del(model, full_path);
        free(full_path);
        free(preview_path);
        return 500;
    }
    acc->picture_id = cm_strdup(id);
    acc->picture_path = full_path;
    acc->preview_path = preview_path ? preview_path : cm_strdup(full_path);
    return 0;
}

//  The <picture> answer for `acc`'s picture of `type`.
static wa_node_t *
s_picture_node(sim_hub_t *hub, sim_account_t *acc, const char *type)
{
    bool preview = cm_streq(type, "preview");
    const char *path = preview ? acc->preview_path : acc->picture_path;
    wa_node_t *pic = wa_node_new("picture");
    wa_node_set_attr(pic, "id", acc->picture_id);
    wa_node_set_attr(pic, "type", preview ? "preview" : "image");
    wa_node_set_attr(pic, "direct_path", path);
    char *url = sim_hub_media_host(hub)
                    ? cm_sprintf("%s://%s%s", sim_hub_media_scheme(hub),
                                 sim_hub_media_host(hub), path)
                    : cm_sprintf("https://mmg.whatsapp.net%s", path);
    wa_node_set_attr(pic, "url", url);
    free(url);
    return pic;
}

static void
s_picture(sim_hub_t *hub, void *state, sim_conn_t *conn, const wa_node_t *iq)
{
    sim_model_t *model = sim_hub_model(hub);
    sim_device_t *dev = sim_conn_device(conn);
    const char *target = wa_node_attr(iq, "target");
    if (target && strstr(target, "@g.us")) {
        //  A group's picture: sim_group keeps it
        sim_group_picture(hub, conn, iq);
        return;
    }
    if (wa_node_attr_eq(iq, "type", "get")) {
        sim_account_t *acc =
            target ? sim_hub_account_of(hub, target, NULL) : dev->account;
        const wa_node_t *q = wa_node_child(iq, "picture");
        if (!acc || !acc->picture_id) {
            sim_hub_iq_error(conn, iq, 404, "item-not-found");
        } else if (q && cm_streq(wa_node_attr(q, "id"), acc->picture_id)) {
            sim_hub_iq_error(conn, iq, 304, "not-modified");
        } else {
            wa_node_t *pic = s_picture_node(
                hub, acc, q ? wa_node_attr_or(q, "type", "image") : "image");
            sim_hub_iq_result(conn, iq, &pic);
        }
        return;
    }
    if (target) {
        //  Someone else's picture: not allowed
        sim_hub_iq_error(conn, iq, 403, "forbidden");
        return;
    }
    const wa_node_t *full = NULL;
    const wa_node_t *preview = NULL;
    for (const wa_node_t *p = wa_node_child_next(iq, "picture", NULL); p;
         p = wa_node_child_next(iq, "picture", p)) {
        if (wa_node_attr_eq(p, "type", "preview")) {
            preview = p;
        } else {
            full = p;
        }
    }
    if (!full && !preview) {
        s_picture_clear(model, dev->account);
        cm_log_info("profile picture removed", "phone=%s", dev->account->phone);
        sim_hub_iq_result(conn, iq, NULL);
        return;
    }
    size_t full_len = 0;
    size_t preview_len = 0;
    const uint8_t *full_data = full ? wa_node_bytes(full, &full_len) : NULL;
    const uint8_t *preview_data =
        preview ? wa_node_bytes(preview, &preview_len) : NULL;
    const char *id = sim_hub_next_id(hub);
    int rc = s_picture_set(model, dev->account, id, full_data, full_len,
                           preview_data, preview_len);
    if (rc) {
        sim_hub_iq_error(conn, iq, rc,
                         rc == 406 ? "not-acceptable" : "internal-error");
        return;
    }
    cm_log_info("profile picture set", "phone=%s id=%s bytes=%zu",
                dev->account->phone, id, full_len);
    wa_node_t *pic = wa_node_new("picture");
    wa_node_set_attr(pic, "id", id);
    sim_hub_iq_result(conn, iq, &pic);
}

//  <privacy> of the status privacy get: the account's list in use, its
//  users by number, or by LID (addressing "lid": the LID of each known
//  account, as a LID-migrated server names them).
static wa_node_t *
s_status_privacy(sim_model_t *model, const sim_account_t *acc)
{
    json_t *sp = acc->status_privacy;
    const char *type = json_string_value(json_object_get(sp, "type"));
    bool lid =
        cm_streq(json_string_value(json_object_get(sp, "addressing")), "lid");
    wa_node_t *privacy = wa_node_new("privacy");
    wa_node_t *list = wa_node_add(privacy, "list");
    wa_node_set_attr(list, "type", type ? type : "contacts");
    wa_node_set_attr(list, "default", "true");
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(sp, "users"), i, u)
    {
        sim_account_t *user =
            lid ? sim_model_account(model, json_string_value(u)) : NULL;
        char *jid = user
                        ? sim_hub_user_jid(user, true)
                        : cm_sprintf("%s@s.whatsapp.net", json_string_value(u));
        wa_node_set_attr(wa_node_add(list, "user"), "jid", jid);
        free(jid);
    }
    return privacy;
}

int
sim_profile_set_status_privacy(sim_account_t *acc, json_t *privacy)
{
    assert(acc);
    const char *type = json_string_value(json_object_get(privacy, "type"));
    json_t *users = json_object_get(privacy, "users");
    json_t *addressing = json_object_get(privacy, "addressing");
    const char *mode = json_string_value(addressing);
    bool ok =
        type && (cm_streq(type, "contacts") || cm_streq(type, "blacklist") ||
                 cm_streq(type, "whitelist"));
    ok = ok && (!addressing || cm_streq(mode, "pn") || cm_streq(mode, "lid"));
    ok = ok && (!users || (json_is_array(users) &&
                           json_array_size(users) <= SIM_PROFILE_PRIVACY_MAX));
    size_t i;
    json_t *u;
    json_array_foreach(users, i, u)
    {
        const char *p = json_string_value(u);
        ok = ok && p && *p && strlen(p) <= 20 &&
             strspn(p, "0123456789") == strlen(p);
    }
    if (!ok) {
        return -1;
    }
    json_decref(acc->status_privacy);
    json_t *list = users ? json_incref(users) : json_array();
    acc->status_privacy = json_pack("{s:s, s:o, s:s}", "type", type, "users",
                                    list, "addressing", mode ? mode : "pn");
    return 0;
}

static void
s_status(sim_hub_t *hub, void *state, sim_conn_t *conn, const wa_node_t *iq)
{
    const wa_node_t *status = wa_node_child(iq, "status");
    if (wa_node_attr_eq(iq, "type", "get") && wa_node_child(iq, "privacy")) {
        wa_node_t *privacy = s_status_privacy(sim_hub_model(hub),
                                              sim_conn_device(conn)->account);
        sim_hub_iq_result(conn, iq, &privacy);
        return;
    }
    if (!wa_node_attr_eq(iq, "type", "set") || !status) {
        //  The status (stories) privacy get and the like
        sim_hub_iq_ok(hub, state, conn, iq);
        return;
    }
    size_t len = 0;
    const uint8_t *text = wa_node_bytes(status, &len);
    if (len > SIM_PROFILE_ABOUT_MAX) {
        sim_hub_iq_error(conn, iq, 406, "not-acceptable");
        return;
    }
    sim_account_t *acc = sim_conn_device(conn)->account;
    char *copy = cm_strndup(text ? (const char *)text : "", len);
    sim_profile_set_about(acc, copy);
    free(copy);
    cm_log_info("about set", "phone=%s bytes=%zu", acc->phone, len);
    sim_hub_iq_result(conn, iq, NULL);
}

int
sim_profile_set_picture(sim_model_t *model, sim_account_t *acc,
                        const uint8_t *jpeg, size_t len)
{
    assert(model && acc);
    if (!jpeg) {
        s_picture_clear(model, acc);
        return 0;
    }
    static uint64_t counter;
    char id[32];
    snprintf(id, sizeof id, "%" PRId64 "%03" PRIu64, cm_now_ms() / 1000,
             ++counter % 1000);
    return s_picture_set(model, acc, id, jpeg, len, NULL, 0);
}

void
sim_profile_set_about(sim_account_t *acc, const char *text)
{
    assert(acc);
    free(acc->about);
    acc->about =
        text ? cm_strndup(text, strnlen(text, SIM_PROFILE_ABOUT_MAX)) : NULL;
    acc->about_t = cm_now_ms() / 1000;
}

static const sim_iq_route_t s_iqs[] = {
    {"w:profile:picture", NULL, 0, s_picture},
    {"status", NULL, 0, s_status},
    {"disappearing_mode", NULL, 0, sim_hub_iq_ok},
    {NULL, NULL, 0, NULL}};

const sim_cap_t sim_profile_cap = {
    .name = "profile",
    .iqs = s_iqs,
};

void
sim_profile_test(bool verbose)
{
    printf(" * sim_profile: ");
    //  Every route needs a logged-in device.
    size_t n = 0;
    for (const sim_iq_route_t *r = s_iqs; r->xmlns; r++, n++) {
        assert(r->flags == 0 && r->fn);
    }
    assert(n == 3);

    sim_hub_t *hub = sim_hub_new_test();
    sim_model_t *model = sim_hub_model(hub);
    sim_account_t *a = sim_model_account_add(model, "15550000061", "A");
    //  Status privacy: contacts until set; the list in use, as users
    wa_node_t *pv = s_status_privacy(model, a);
    const wa_node_t *pl = wa_node_child(pv, "list");
    assert(wa_node_attr_eq(pl, "type", "contacts") &&
           wa_node_attr_eq(pl, "default", "true") && !wa_node_child_at(pl, 0));
    wa_node_destroy(&pv);
    json_t *in =
        json_pack("{s:s, s:[s]}", "type", "whitelist", "users", "15550000062");
    assert(sim_profile_set_status_privacy(a, in) == 0);
    json_decref(in);
    pv = s_status_privacy(model, a);
    pl = wa_node_child(pv, "list");
    assert(wa_node_attr_eq(pl, "type", "whitelist"));
    assert(wa_node_attr_eq(wa_node_child(pl, "user"), "jid",
                           "15550000062@s.whatsapp.net"));
    wa_node_destroy(&pv);
    //  Named by LID when asked (a number no account has stays a number)
    sim_account_t *b = sim_model_account_add(model, "15550000062", "B");
    in = json_pack("{s:s, s:[ss], s:s}", "type", "blacklist", "users",
                   "15550000062", "15550000069", "addressing", "lid");
    assert(sim_profile_set_status_privacy(a, in) == 0);
    json_decref(in);
    pv = s_status_privacy(model, a);
    pl = wa_node_child(pv, "list");
    char *blid = sim_hub_user_jid(b, true);
    assert(strstr(blid, "@lid"));
    assert(wa_node_attr_eq(wa_node_child_at(pl, 0), "jid", blid));
    assert(wa_node_attr_eq(wa_node_child_at(pl, 1), "jid",
                           "15550000069@s.whatsapp.net"));
    free(blid);
    wa_node_destroy(&pv);
    const char *bad[] = {
        "{\"type\":\"nobody\"}", "{\"type\":\"blacklist\",\"users\":[\"x1\"]}",
        "{\"users\":[]}", "{\"type\":\"whitelist\",\"addressing\":\"x\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        in = json_loads(bad[i], 0, NULL);
        assert(in && sim_profile_set_status_privacy(a, in) == -1);
        json_decref(in);
    }
    in = json_pack("{s:s}", "type", "contacts");
    assert(sim_profile_set_status_privacy(a, in) == 0);
    json_decref(in);
    assert(json_array_size(json_object_get(a->status_privacy, "users")) == 0);
    const uint8_t jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3};
    const uint8_t small[] = {0xFF, 0xD8, 0xFF, 0xE0, 9};
    const uint8_t png[] = {0x89, 'P', 'N', 'G', 1, 2};
    //  Not a JPEG: refused, nothing stored
    assert(s_picture_set(model, a, "P1", png, sizeof png, NULL, 0) == 406);
    assert(!a->picture_id && sim_model_media_count(model) == 0);
    //  Full image only: the preview is the same blob
    assert(s_picture_set(model, a, "P1", jpeg, sizeof jpeg, NULL, 0) == 0);
    assert(cm_streq(a->picture_id, "P1"));
    assert(cm_streq(a->picture_path, a->preview_path));
    size_t len = 0;
    assert(sim_model_media_get(model, a->picture_path, &len) &&
           len == sizeof jpeg);
    //  A new picture replaces the old one's blobs
    assert(s_picture_set(model, a, "P2", jpeg, sizeof jpeg, small,
                         sizeof small) == 0);
    assert(sim_model_media_count(model) == 2);
    assert(sim_model_media_get(model, a->preview_path, &len) &&
           len == sizeof small);
    wa_node_t *pic = s_picture_node(hub, a, "preview");
    assert(wa_node_attr_eq(pic, "id", "P2"));
    assert(wa_node_attr_eq(pic, "type", "preview"));
    assert(wa_node_attr_eq(pic, "direct_path", a->preview_path));
    assert(strstr(wa_node_attr(pic, "url"), a->preview_path));
    wa_node_destroy(&pic);
    s_picture_clear(model, a);
    assert(!a->picture_id && sim_model_media_count(model) == 0);
    sim_hub_destroy(&hub);
    //  Handlers run against real clients in sim_server's test.
    printf("OK\n");
}
