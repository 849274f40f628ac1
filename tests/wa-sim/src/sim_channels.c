/*  sim_channels - channels (newsletters): the directory, followers,
    roles, posts, reactions and view counts

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_channels.h"
#include "sim_mediahost.h"
#include "wa/wa_jid.h"
#include "wa/wa_mediamsg.h"
#include "wa/wa_message.h"

//  A reaction of one account to one post.
typedef struct {
    char *phone; //  who reacted
    char *code;  //  the emoji
} s_reaction_t;

//  A post.
typedef struct {
    int64_t server_id;   //  the channel's sequence number
    char *id;            //  the sender's message id
    int64_t t;           //  when, s
    char *type;          //  stanza type ("text", "media", ...)
    char *mediatype;     //  mediatype attribute, or NULL
    uint8_t *plain;      //  Message bytes
    size_t len;          //  their length
    int64_t views;       //  view count
    zlistx_t *reactions; //  s_reaction_t *
} s_post_t;

//  A channel.
typedef struct {
    char *user;             //  id digits
    char *jid;              //  "<user>@newsletter"
    char *invite;           //  invite code
    char *name;             //  name
    char *description;      //  description ("" when none)
    char *country;          //  ISO country code ("" when none)
    char *category;         //  directory category ("" when none)
    bool verified;          //  verified badge
    int64_t created;        //  creation time, s
    int64_t updated;        //  name/description change time, us
    int64_t extra;          //  subscribers beyond the simulated followers
    char *owner;            //  owner's phone
    zhashx_t *admins;       //  phone -> (void *)1
    zhashx_t *followers;    //  phone -> (void *)1 unmuted, 2 muted
    zlistx_t *posts;        //  s_post_t *, oldest first
    int64_t next_server_id; //  next post's server id
    char *picture_id;       //  picture id, or NULL
    char *picture_path;     //  its media path, or NULL
    zhashx_t *live;         //  device JID -> (intptr_t) live updates
                            //  subscription end, s
} s_channel_t;

struct _sim_channels_t {
    sim_hub_t *hub;     //  the server
    zhashx_t *channels; //  jid -> s_channel_t * (owned)
    uint64_t counter;   //  for ids
};

//  --------------------------------------------------------------------
//  Records

static void
s_reaction_free(void **item_p)
{
    s_reaction_t *r = (s_reaction_t *)*item_p;
    if (r) {
        free(r->phone);
        free(r->code);
        free(r);
        *item_p = NULL;
    }
}

static void
s_post_free(void **item_p)
{
    s_post_t *p = (s_post_t *)*item_p;
    if (p) {
        free(p->id);
        free(p->type);
        free(p->mediatype);
        free(p->plain);
        zlistx_destroy(&p->reactions);
        free(p);
        *item_p = NULL;
    }
}

static void
s_channel_free(void **item_p)
{
    s_channel_t *c = (s_channel_t *)*item_p;
    if (c) {
        free(c->user);
        free(c->jid);
        free(c->invite);
        free(c->name);
        free(c->description);
        free(c->country);
        free(c->category);
        free(c->owner);
        free(c->picture_id);
        free(c->picture_path);
        zhashx_destroy(&c->admins);
        zhashx_destroy(&c->followers);
        zhashx_destroy(&c->live);
        zlistx_destroy(&c->posts);
        free(c);
        *item_p = NULL;
    }
}

static const char s_alnum[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static s_channel_t *
s_channel_new(sim_channels_t *self, const char *owner, const char *name,
              const char *description)
{
    s_channel_t *c = (s_channel_t *)cm_alloc(sizeof(s_channel_t));
    uint8_t rnd[18];
    cm_random(rnd, sizeof rnd);
    char user[19];
    //  120363 + 12 digits, unique by the counter in the last digits
    snprintf(user, sizeof user, "120363%06u%06u",
             (unsigned)((rnd[0] << 16 | rnd[1] << 8 | rnd[2]) % 1000000),
             (unsigned)(++self->counter % 1000000));
    c->user = cm_strdup(user);
    c->jid = cm_sprintf("%s@newsletter", user);
    char invite[25] = "0029Va";
    for (size_t i = 6; i < 24; i++) {
        invite[i] = s_alnum[rnd[i - 6] % (sizeof s_alnum - 1)];
    }
    invite[24] = 0;
    c->invite = cm_strdup(invite);
    c->name = cm_strdup(name);
    c->description = cm_strdup(description ? description : "");
    c->country = cm_strdup("");
    c->category = cm_strdup("");
    c->created = cm_now_ms() / 1000;
    c->updated = cm_now_ms() * 1000;
    c->owner = cm_strdup(owner);
    c->admins = zhashx_new();
    c->followers = zhashx_new();
    c->live = zhashx_new();
    c->posts = zlistx_new();
    zlistx_set_destructor(c->posts, s_post_free);
    c->next_server_id = 100;
    zhashx_insert(self->channels, c->jid, c);
    return c;
}

//  A channel by JID ("…@newsletter") or invite code (a link's last
//  part too).
static s_channel_t *
s_channel_find(sim_channels_t *self, const char *key, bool invite)
{
    if (!key) {
        return NULL;
    }
    if (!invite) {
        return (s_channel_t *)zhashx_lookup(self->channels, key);
    }
    const char *slash = strrchr(key, '/');
    const char *code = slash ? slash + 1 : key;
    for (s_channel_t *c = (s_channel_t *)zhashx_first(self->channels); c;
         c = (s_channel_t *)zhashx_next(self->channels)) {
        if (cm_streq(c->invite, code)) {
            return c;
        }
    }
    return NULL;
}

//  The account's role: OWNER, ADMIN, SUBSCRIBER or GUEST.
static const char *
s_role(const s_channel_t *c, const char *phone)
{
    if (phone && cm_streq(c->owner, phone)) {
        return "OWNER";
    }
    if (phone && zhashx_lookup(c->admins, phone)) {
        return "ADMIN";
    }
    if (phone && zhashx_lookup(c->followers, phone)) {
        return "SUBSCRIBER";
    }
    return "GUEST";
}

static bool
s_can_post(const s_channel_t *c, const char *phone)
{
    const char *role = s_role(c, phone);
    return cm_streq(role, "OWNER") || cm_streq(role, "ADMIN");
}

static int64_t
s_subscribers(const s_channel_t *c)
{
    return (int64_t)zhashx_size(c->followers) + c->extra;
}

static int64_t
s_total_views(const s_channel_t *c)
{
    int64_t n = 0;
    for (s_post_t *p = (s_post_t *)zlistx_first(c->posts); p;
         p = (s_post_t *)zlistx_next(c->posts)) {
        n += p->views;
    }
    return n;
}

//  The metadata object (whatsmeow's NewsletterMetadata shape); viewer
//  metadata for `phone` unless NULL.
static json_t *
s_metadata(sim_channels_t *self, const s_channel_t *c, const char *phone)
{
    char created[24];
    char updated[24];
    char subs[24];
    snprintf(created, sizeof created, "%" PRId64, c->created);
    snprintf(updated, sizeof updated, "%" PRId64, c->updated);
    snprintf(subs, sizeof subs, "%" PRId64, s_subscribers(c));
    json_t *picture = json_object();
    json_t *preview = json_object();
    if (c->picture_id) {
        json_object_set_new(picture, "id", json_string(c->picture_id));
        json_object_set_new(picture, "type", json_string("IMAGE"));
        json_object_set_new(picture, "direct_path",
                            json_string(c->picture_path));
        json_object_set_new(preview, "id", json_string(c->picture_id));
        json_object_set_new(preview, "type", json_string("PREVIEW"));
        json_object_set_new(preview, "direct_path",
                            json_string(c->picture_path));
    }
    json_t *thread = json_pack(
        "{s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}, s:s, s:s, s:o, "
        "s:o, s:{s:{s:s}}}",
        "creation_time", created, "invite", c->invite, "name", "text", c->name,
        "id", c->user, "update_time", updated, "description", "text",
        c->description, "id", c->user, "update_time", updated,
        "subscribers_count", subs, "verification",
        c->verified ? "VERIFIED" : "UNVERIFIED", "picture", picture, "preview",
        preview, "settings", "reaction_codes", "value", "ALL");
    json_t *meta = json_pack("{s:s, s:{s:s}, s:o}", "id", c->jid, "state",
                             "type", "ACTIVE", "thread_metadata", thread);
    if (phone) {
        void *f = zhashx_lookup(c->followers, phone);
        json_object_set_new(meta, "viewer_metadata",
                            json_pack("{s:s, s:s}", "mute",
                                      f == (void *)2 ? "ON" : "OFF", "role",
                                      s_role(c, phone)));
    } else {
        json_object_set_new(meta, "viewer_metadata", json_null());
    }
    (void)self;
    return meta;
}

//  --------------------------------------------------------------------
//  w:mex

//  What a query answers: data (owned), or NULL with a code and message.
typedef json_t *(s_mex_fn)(sim_channels_t *self, sim_account_t *acc,
                           json_t *vars, int *code_p, const char **msg_p);

static json_t *
s_fail(int code, const char *msg, int *code_p, const char **msg_p)
{
    *code_p = code;
    *msg_p = msg;
    return NULL;
}

//  The channel named by vars.newsletter_id (or vars.input.newsletter_id).
static s_channel_t *
s_target(sim_channels_t *self, json_t *vars, int *code_p, const char **msg_p)
{
    json_t *id = json_object_get(vars, "newsletter_id");
    if (!id) {
        id = json_object_get(json_object_get(vars, "input"), "newsletter_id");
    }
    if (!json_is_string(id)) {
        s_fail(400, "newsletter_id is required", code_p, msg_p);
        return NULL;
    }
    s_channel_t *c = s_channel_find(self, json_string_value(id), false);
    if (!c) {
        s_fail(404, "Newsletter not found", code_p, msg_p);
    }
    return c;
}

static json_t *
s_q_create(sim_channels_t *self, sim_account_t *acc, json_t *vars, int *code_p,
           const char **msg_p)
{
    json_t *in = json_object_get(vars, "newsletter_input");
    if (!in) {
        in = json_object_get(vars, "input");
    }
    const char *name = json_string_value(json_object_get(in, "name"));
    json_t *desc = json_object_get(in, "description");
    if (!name || !*name || strlen(name) > SIM_CHANNELS_NAME_MAX ||
        (desc && !json_is_null(desc) &&
         (!json_is_string(desc) ||
          strlen(json_string_value(desc)) > SIM_CHANNELS_DESCRIPTION_MAX))) {
        return s_fail(400,
                      "name must be 1 to 100 bytes, description at most "
                      "2048",
                      code_p, msg_p);
    }
    if (zhashx_size(self->channels) >= SIM_CHANNELS_MAX) {
        return s_fail(429, "too many channels", code_p, msg_p);
    }
    //  whatsmeow sends the picture as base64 of the JPEG
    const char *pic = json_string_value(json_object_get(in, "picture"));
    uint8_t *jpeg = NULL;
    size_t jpeg_len = 0;
    if (pic && *pic &&
        (cm_base64_decode(pic, 2 * 1024 * 1024, &jpeg, &jpeg_len) != 0 ||
         jpeg_len < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8)) {
        free(jpeg);
        return s_fail(400, "picture must be a base64 JPEG", code_p, msg_p);
    }
    s_channel_t *c =
        s_channel_new(self, acc->phone, name, json_string_value(desc));
    if (jpeg) {
        c->picture_id = cm_sprintf("%" PRId64, cm_now_ms());
        c->picture_path =
            cm_sprintf("/v/t61.24694-24/nl_%s_%s.jpg", c->user, c->picture_id);
        sim_model_media_put(sim_hub_model(self->hub), c->picture_path, jpeg,
                            jpeg_len);
        free(jpeg);
    }
    cm_log_info("channel created", "channel=%s owner=%s", c->jid, acc->phone);
    return s_metadata(self, c, acc->phone);
}

static json_t *
s_q_metadata(sim_channels_t *self, sim_account_t *acc, json_t *vars,
             int *code_p, const char **msg_p)
{
    json_t *in = json_object_get(vars, "input");
    const char *key = json_string_value(json_object_get(in, "key"));
    const char *type = json_string_value(json_object_get(in, "type"));
    if (!key || !type ||
        (strcasecmp(type, "JID") != 0 && strcasecmp(type, "INVITE") != 0)) {
        return s_fail(400, "input must be {key, type: JID|INVITE}", code_p,
                      msg_p);
    }
    s_channel_t *c = s_channel_find(self, key, strcasecmp(type, "INVITE") == 0);
    if (!c) {
        return s_fail(404, "Newsletter not found", code_p, msg_p);
    }
    return s_metadata(self, c, acc->phone);
}

static json_t *
s_q_subscribed(sim_channels_t *self, sim_account_t *acc, json_t *vars,
               int *code_p, const char **msg_p)
{
    json_t *list = json_array();
    for (s_channel_t *c = (s_channel_t *)zhashx_first(self->channels); c;
         c = (s_channel_t *)zhashx_next(self->channels)) {
        if (!cm_streq(s_role(c, acc->phone), "GUEST")) {
            json_array_append_new(list, s_metadata(self, c, acc->phone));
        }
    }
    return list;
}

static json_t *
s_q_follow(sim_channels_t *self, sim_account_t *acc, json_t *vars, int *code_p,
           const char **msg_p)
{
    s_channel_t *c = s_target(self, vars, code_p, msg_p);
    if (!c) {
        return NULL;
    }
    if (!zhashx_lookup(c->followers, acc->phone) &&
        !cm_streq(c->owner, acc->phone)) {
        zhashx_insert(c->followers, acc->phone, (void *)1);
    }
    cm_log_info("channel followed", "channel=%s phone=%s", c->jid, acc->phone);
    return json_pack("{s:s}", "id", c->jid);
}

static json_t *
s_q_unfollow(sim_channels_t *self, sim_account_t *acc, json_t *vars,
             int *code_p, const char **msg_p)
{
    s_channel_t *c = s_target(self, vars, code_p, msg_p);
    if (!c) {
        return NULL;
    }
    if (cm_streq(c->owner, acc->phone)) {
        return s_fail(403, "the owner cannot unfollow", code_p, msg_p);
    }
    zhashx_delete(c->followers, acc->phone);
    zhashx_delete(c->admins, acc->phone);
    return json_pack("{s:s}", "id", c->jid);
}

//  A follower's mute setting changed: the account's companion devices
//  get it as the server tells them,
//    <notification type="mex" from="s.whatsapp.net"><update
//      op_name="NotificationNewsletterMuteChange">{"data":{
//      "xwa2_notify_newsletter_on_mute_change":{"id","mute":"on|off"}}}
//    </update></notification>
//  Returns the copies sent.
static size_t
s_mute_notify(sim_channels_t *self, sim_account_t *acc, const s_channel_t *c,
              bool mute)
{
    json_t *data = json_pack("{s:{s:{s:s, s:s}}}", "data",
                             "xwa2_notify_newsletter_on_mute_change", "id",
                             c->jid, "mute", mute ? "on" : "off");
    char *text = json_dumps(data, JSON_COMPACT);
    json_decref(data);
    wa_node_t *note =
        sim_hub_notification(self->hub, "mex", SIM_SERVER_JID, NULL);
    wa_node_t *up = wa_node_add(note, "update");
    wa_node_set_attr(up, "op_name", "NotificationNewsletterMuteChange");
    wa_node_set_bytes(up, text, strlen(text));
    free(text);
    size_t sent = 0;
    zlistx_t *devs = sim_account_devices_copy(acc);
    for (sim_device_t *d = (sim_device_t *)zlistx_first(devs); d;
         d = (sim_device_t *)zlistx_next(devs)) {
        if (d->id != 0 && d->linked) {
            sim_hub_deliver(self->hub, d, note, "notification");
            sent++;
        }
    }
    zlistx_destroy(&devs);
    wa_node_destroy(&note);
    return sent;
}

static json_t *
s_mute_set(sim_channels_t *self, sim_account_t *acc, json_t *vars, bool mute,
           int *code_p, const char **msg_p)
{
    s_channel_t *c = s_target(self, vars, code_p, msg_p);
    if (!c) {
        return NULL;
    }
    if (!zhashx_lookup(c->followers, acc->phone)) {
        return s_fail(403, "not a follower of the channel", code_p, msg_p);
    }
    zhashx_update(c->followers, acc->phone, (void *)(intptr_t)(mute ? 2 : 1));
    s_mute_notify(self, acc, c, mute);
    return json_pack("{s:s, s:s}", "id", c->jid, "mute", mute ? "ON" : "OFF");
}

static json_t *
s_q_mute(sim_channels_t *self, sim_account_t *acc, json_t *vars, int *code_p,
         const char **msg_p)
{
    return s_mute_set(self, acc, vars, true, code_p, msg_p);
}

static json_t *
s_q_unmute(sim_channels_t *self, sim_account_t *acc, json_t *vars, int *code_p,
           const char **msg_p)
{
    return s_mute_set(self, acc, vars, false, code_p, msg_p);
}

static json_t *
s_q_update(sim_channels_t *self, sim_account_t *acc, json_t *vars, int *code_p,
           const char **msg_p)
{
    s_channel_t *c = s_target(self, vars, code_p, msg_p);
    if (!c) {
        return NULL;
    }
    if (!s_can_post(c, acc->phone)) {
        return s_fail(403, "only the owner and admins may update", code_p,
                      msg_p);
    }
    json_t *up = json_object_get(vars, "updates");
    const char *name = json_string_value(json_object_get(up, "name"));
    const char *desc = json_string_value(json_object_get(up, "description"));
    if ((name && (!*name || strlen(name) > SIM_CHANNELS_NAME_MAX)) ||
        (desc && strlen(desc) > SIM_CHANNELS_DESCRIPTION_MAX)) {
        return s_fail(400,
                      "name must be 1 to 100 bytes, description at most "
                      "2048",
                      code_p, msg_p);
    }
    if (name) {
        free(c->name);
        c->name = cm_strdup(name);
    }
    if (desc) {
        free(c->description);
        c->description = cm_strdup(desc);
    }
    c->updated = cm_now_ms() * 1000;
    return s_metadata(self, c, NULL);
}

static json_t *
s_q_delete(sim_channels_t *self, sim_account_t *acc, json_t *vars, int *code_p,
           const char **msg_p)
{
    s_channel_t *c = s_target(self, vars, code_p, msg_p);
    if (!c) {
        return NULL;
    }
    if (!cm_streq(c->owner, acc->phone)) {
        return s_fail(403, "only the owner may delete the channel", code_p,
                      msg_p);
    }
    json_t *out =
        json_pack("{s:s, s:{s:s}}", "id", c->jid, "state", "type", "DELETED");
    cm_log_info("channel deleted", "channel=%s", c->jid);
    zhashx_delete(self->channels, c->jid);
    return out;
}

static json_t *
s_q_admin_count(sim_channels_t *self, sim_account_t *acc, json_t *vars,
                int *code_p, const char **msg_p)
{
    s_channel_t *c = s_target(self, vars, code_p, msg_p);
    return c ? json_pack("{s:I}", "admin_count",
                         (json_int_t)(1 + zhashx_size(c->admins)))
             : NULL;
}

//  Directory ----------------------------------------------------------

//  The views (directory orders).
static const char *const s_views[] = {"RECOMMENDED", "TRENDING", "POPULAR",
                                      "NEW", NULL};

static bool
s_in_list(json_t *list, const char *value)
{
    if (!json_array_size(list)) {
        return true; //  no filter
    }
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (json_is_string(v) && strcasecmp(json_string_value(v), value) == 0) {
            return true;
        }
    }
    return false;
}

static bool
s_contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++) {
        if (strncasecmp(p, needle, n) == 0) {
            return true;
        }
    }
    return n == 0;
}

static const char *s_sort_view; //  the view qsort compares by

static int
s_cmp(const void *a, const void *b)
{
    const s_channel_t *x = *(const s_channel_t *const *)a;
    const s_channel_t *y = *(const s_channel_t *const *)b;
    int64_t kx = 0;
    int64_t ky = 0;
    if (cm_streq(s_sort_view, "NEW")) {
        kx = x->created;
        ky = y->created;
    } else if (cm_streq(s_sort_view, "TRENDING")) {
        kx = s_total_views(x);
        ky = s_total_views(y);
    } else if (cm_streq(s_sort_view, "RECOMMENDED")) {
        kx = s_subscribers(x) + (x->verified ? (int64_t)1 << 40 : 0);
        ky = s_subscribers(y) + (y->verified ? (int64_t)1 << 40 : 0);
    } else {
        kx = s_subscribers(x);
        ky = s_subscribers(y);
    }
    if (kx != ky) {
        return kx > ky ? -1 : 1;
    }
    return strcmp(x->jid, y->jid);
}

//  A page of matching channels after the cursor.
static json_t *
s_page(sim_channels_t *self, sim_account_t *acc, json_t *in, const char *view,
       const char *text, int *code_p, const char **msg_p)
{
    json_t *lim = json_object_get(in, "limit");
    int64_t limit = json_is_integer(lim) ? json_integer_value(lim) : 20;
    const char *cursor = json_string_value(json_object_get(in, "start_cursor"));
    json_t *filters = json_object_get(in, "filters");
    json_t *countries = json_object_get(filters, "country_codes");
    json_t *categories = json_object_get(filters, "categories");
    if (!categories) {
        categories = json_object_get(in, "categories");
    }
    if (limit < 1 || limit > SIM_CHANNELS_PAGE_MAX ||
        (countries && !json_is_array(countries)) ||
        (categories && !json_is_array(categories))) {
        return s_fail(400, "limit must be 1 to 100, filters arrays", code_p,
                      msg_p);
    }
    int64_t offset = 0;
    if (cursor && *cursor) {
        uint8_t *raw = NULL;
        size_t len = 0;
        char buf[32] = "";
        if (cm_base64_decode(cursor, 24, &raw, &len) == 0 && len < sizeof buf) {
            memcpy(buf, raw, len);
            buf[len] = 0;
        }
        free(raw);
        char *end = NULL;
        offset = strncmp(buf, "off:", 4) == 0 ? strtoll(buf + 4, &end, 10) : -1;
        if (offset < 0 || !end || *end) {
            return s_fail(400, "start_cursor is not a cursor of ours", code_p,
                          msg_p);
        }
    }
    size_t n = zhashx_size(self->channels);
    s_channel_t **all =
        (s_channel_t **)cm_alloc((n ? n : 1) * sizeof(s_channel_t *));
    size_t count = 0;
    for (s_channel_t *c = (s_channel_t *)zhashx_first(self->channels); c;
         c = (s_channel_t *)zhashx_next(self->channels)) {
        if (!s_in_list(countries, c->country) ||
            !s_in_list(categories, c->category) ||
            (text && !s_contains(c->name, text) &&
             !s_contains(c->description, text))) {
            continue;
        }
        all[count++] = c;
    }
    s_sort_view = view;
    qsort(all, count, sizeof all[0], s_cmp);
    json_t *result = json_array();
    int64_t i = offset;
    for (; i < (int64_t)count && i < offset + limit; i++) {
        json_array_append_new(result, s_metadata(self, all[i], acc->phone));
    }
    free(all);
    bool next = i < (int64_t)count;
    char *end_cur = NULL;
    char *start_cur = NULL;
    char buf[32];
    snprintf(buf, sizeof buf, "off:%" PRId64, i);
    end_cur = cm_base64_encode((const uint8_t *)buf, strlen(buf));
    snprintf(buf, sizeof buf, "off:%" PRId64, offset);
    start_cur = cm_base64_encode((const uint8_t *)buf, strlen(buf));
    json_t *out =
        json_pack("{s:{s:b, s:b, s:s, s:s}, s:o}", "page_info", "hasNextPage",
                  next, "hasPreviousPage", offset > 0, "startCursor", start_cur,
                  "endCursor", end_cur, "result", result);
    free(end_cur);
    free(start_cur);
    return out;
}

static json_t *
s_q_directory(sim_channels_t *self, sim_account_t *acc, json_t *vars,
              int *code_p, const char **msg_p)
{
    json_t *in = json_object_get(vars, "input");
    const char *view = json_string_value(json_object_get(in, "view"));
    bool known = false;
    for (size_t i = 0; view && s_views[i]; i++) {
        known = known || cm_streq(view, s_views[i]);
    }
    if (!known) {
        return s_fail(400, "view must be RECOMMENDED, TRENDING, POPULAR or NEW",
                      code_p, msg_p);
    }
    return s_page(self, acc, in, view, NULL, code_p, msg_p);
}

static json_t *
s_q_search(sim_channels_t *self, sim_account_t *acc, json_t *vars, int *code_p,
           const char **msg_p)
{
    json_t *in = json_object_get(vars, "input");
    const char *text = json_string_value(json_object_get(in, "search_text"));
    if (!text || strlen(text) > 256) {
        return s_fail(400, "search_text is required", code_p, msg_p);
    }
    return s_page(self, acc, in, "POPULAR", text, code_p, msg_p);
}

typedef struct {
    const char *id;   //  query_id
    const char *path; //  data key of the answer
    s_mex_fn *fn;     //  handler
} s_mex_t;

static const s_mex_t s_mex_table[] = {
    {SIM_CHANNELS_Q_CREATE_WM, "xwa2_newsletter_create", s_q_create},
    {SIM_CHANNELS_Q_CREATE_BL, "xwa2_newsletter_create", s_q_create},
    {SIM_CHANNELS_Q_METADATA, "xwa2_newsletter", s_q_metadata},
    {SIM_CHANNELS_Q_SUBSCRIBED, "xwa2_newsletter_subscribed", s_q_subscribed},
    {SIM_CHANNELS_Q_FOLLOW_WM, "xwa2_newsletter_join_v2", s_q_follow},
    {SIM_CHANNELS_Q_FOLLOW_BL, "xwa2_newsletter_join_v2", s_q_follow},
    {SIM_CHANNELS_Q_UNFOLLOW_WM, "xwa2_newsletter_leave_v2", s_q_unfollow},
    {SIM_CHANNELS_Q_UNFOLLOW_BL, "xwa2_newsletter_leave_v2", s_q_unfollow},
    {SIM_CHANNELS_Q_MUTE_WM, "xwa2_newsletter_mute_v2", s_q_mute},
    {SIM_CHANNELS_Q_MUTE_BL, "xwa2_newsletter_mute_v2", s_q_mute},
    {SIM_CHANNELS_Q_UNMUTE_WM, "xwa2_newsletter_unmute_v2", s_q_unmute},
    {SIM_CHANNELS_Q_UNMUTE_BL, "xwa2_newsletter_unmute_v2", s_q_unmute},
    {SIM_CHANNELS_Q_UPDATE_WM, "xwa2_newsletter_update", s_q_update},
    {SIM_CHANNELS_Q_UPDATE_BL, "xwa2_newsletter_update", s_q_update},
    {SIM_CHANNELS_Q_DELETE, "xwa2_newsletter_delete_v2", s_q_delete},
    {SIM_CHANNELS_Q_ADMIN_COUNT, "xwa2_newsletter_admin", s_q_admin_count},
    {SIM_CHANNELS_Q_DIRECTORY, "xwa2_newsletters_directory_list",
     s_q_directory},
    {SIM_CHANNELS_Q_SEARCH, "xwa2_newsletters_directory_search", s_q_search},
    {NULL, NULL, NULL}};

//  Run a query: the JSON text of the <result>. Caller owns return value.
static char *
s_mex_run(sim_channels_t *self, sim_account_t *acc, const char *query_id,
          const uint8_t *body, size_t len)
{
    const s_mex_t *q = s_mex_table;
    while (q->id && !cm_streq(q->id, query_id)) {
        q++;
    }
    json_t *vars = NULL;
    json_t *doc =
        body && len ? json_loadb((const char *)body, len, 0, NULL) : NULL;
    if (json_is_object(doc)) {
        vars = json_object_get(doc, "variables");
    }
    int code = 400;
    const char *msg = "unrecognized query_id";
    json_t *data = NULL;
    if (q->id && !json_is_object(vars)) {
        msg = "the query carries no variables object";
    } else if (q->id) {
        data = q->fn(self, acc, vars, &code, &msg);
    }
    json_t *out = NULL;
    if (data) {
        out = json_pack("{s:{s:o}}", "data", q->path, data);
    } else {
        out = json_pack("{s:n, s:[{s:s, s:{s:i, s:b, s:s}, s:[s]}]}", "data",
                        "errors", "message", msg, "extensions", "error_code",
                        code, "is_retryable", 0, "severity", "CRITICAL", "path",
                        q->path ? q->path : "unknown");
    }
    json_decref(doc);
    char *text = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    return text;
}

static void
s_mex(sim_hub_t *hub, void *state, sim_conn_t *conn, const wa_node_t *iq)
{
    sim_channels_t *self = (sim_channels_t *)state;
    const wa_node_t *query = wa_node_child(iq, "query");
    const char *query_id = query ? wa_node_attr(query, "query_id") : NULL;
    if (!query_id) {
        sim_hub_iq_error(conn, iq, 400, "bad-request");
        return;
    }
    size_t len = 0;
    const uint8_t *body = wa_node_bytes(query, &len);
    char *text =
        s_mex_run(self, sim_conn_device(conn)->account, query_id, body, len);
    wa_node_t *result = wa_node_new("result");
    wa_node_set_bytes(result, text, strlen(text));
    free(text);
    sim_hub_iq_result(conn, iq, &result);
}

//  --------------------------------------------------------------------
//  Posts

//  The <message> node of a post for clients: with the Message bytes
//  (plain) and/or its counts (counts).
static wa_node_t *
s_post_node(const s_channel_t *c, const s_post_t *p, bool plain, bool counts,
            bool from)
{
    wa_node_t *m = wa_node_new("message");
    if (from) {
        wa_node_set_attr(m, "from", c->jid);
    }
    wa_node_set_attr(m, "id", p->id);
    wa_node_set_attr_int(m, "server_id", p->server_id);
    wa_node_set_attr_int(m, "t", p->t);
    wa_node_set_attr(m, "type", p->type);
    if (plain) {
        wa_node_t *pt = wa_node_add(m, "plaintext");
        if (p->mediatype) {
            wa_node_set_attr(pt, "mediatype", p->mediatype);
        }
        wa_node_set_bytes(pt, p->plain, p->len);
    }
    if (counts) {
        wa_node_t *v = wa_node_add(m, "views_count");
        wa_node_set_attr_int(v, "count", p->views);
        if (zlistx_size(p->reactions)) {
            wa_node_t *rs = wa_node_add(m, "reactions");
            zhashx_t *sum = zhashx_new();
            for (s_reaction_t *r = (s_reaction_t *)zlistx_first(p->reactions);
                 r; r = (s_reaction_t *)zlistx_next(p->reactions)) {
                intptr_t k = (intptr_t)zhashx_lookup(sum, r->code);
                zhashx_update(sum, r->code, (void *)(k + 1));
            }
            for (void *k = zhashx_first(sum); k; k = zhashx_next(sum)) {
                wa_node_t *r = wa_node_add(rs, "reaction");
                wa_node_set_attr(r, "code", (const char *)zhashx_cursor(sum));
                wa_node_set_attr_int(r, "count", (intptr_t)k);
            }
            zhashx_destroy(&sum);
        }
    }
    return m;
}

//  Deliver a post to every follower's devices except `skip`.
static size_t
s_fan_out(sim_channels_t *self, const s_channel_t *c, const s_post_t *p,
          const sim_device_t *skip)
{
    sim_model_t *model = sim_hub_model(self->hub);
    wa_node_t *m = s_post_node(c, p, true, false, true);
    size_t copies = 0;
    for (void *f = zhashx_first(c->followers); f;
         f = zhashx_next(c->followers)) {
        sim_account_t *acc =
            sim_model_account(model, (const char *)zhashx_cursor(c->followers));
        zlistx_t *devs = acc ? sim_account_devices_copy(acc) : NULL;
        for (sim_device_t *d = devs ? (sim_device_t *)zlistx_first(devs) : NULL;
             d; d = (sim_device_t *)zlistx_next(devs)) {
            if (d != skip && d->id != 0) {
                sim_hub_deliver(self->hub, d, m, "message");
                copies++;
            }
        }
        zlistx_destroy(&devs);
    }
    wa_node_destroy(&m);
    return copies;
}

static s_post_t *
s_post_add(s_channel_t *c, const char *id, const char *type,
           const char *mediatype, const uint8_t *plain, size_t len)
{
    if (zlistx_size(c->posts) >= SIM_CHANNELS_POSTS_MAX) {
        zlistx_first(c->posts);
        zlistx_delete(c->posts, zlistx_cursor(c->posts));
    }
    s_post_t *p = (s_post_t *)cm_alloc(sizeof(s_post_t));
    p->server_id = c->next_server_id++;
    p->id = cm_strdup(id);
    p->t = cm_now_ms() / 1000;
    p->type = cm_strdup(type ? type : "text");
    p->mediatype = mediatype ? cm_strdup(mediatype) : NULL;
    p->plain = (uint8_t *)cm_alloc(len ? len : 1);
    memcpy(p->plain, plain, len);
    p->len = len;
    p->reactions = zlistx_new();
    zlistx_set_destructor(p->reactions, s_reaction_free);
    zlistx_add_end(c->posts, p);
    return p;
}

static s_post_t *
s_post_find(const s_channel_t *c, int64_t server_id)
{
    for (s_post_t *p = (s_post_t *)zlistx_first(c->posts); p;
         p = (s_post_t *)zlistx_next(c->posts)) {
        if (p->server_id == server_id) {
            return p;
        }
    }
    return NULL;
}

//  Set (code) or remove (NULL) a reaction of `phone`.
static void
s_react(s_post_t *p, const char *phone, const char *code)
{
    for (s_reaction_t *r = (s_reaction_t *)zlistx_first(p->reactions); r;
         r = (s_reaction_t *)zlistx_next(p->reactions)) {
        if (cm_streq(r->phone, phone)) {
            zlistx_delete(p->reactions, zlistx_cursor(p->reactions));
            break;
        }
    }
    if (code && *code) {
        s_reaction_t *r = (s_reaction_t *)cm_alloc(sizeof(s_reaction_t));
        r->phone = cm_strdup(phone);
        r->code = cm_strdup(code);
        zlistx_add_end(p->reactions, r);
    }
}

//  Whether the media of a post (plain: its Message bytes) is as the
//  server takes it: channel media is not encrypted (no media key, no
//  enc hash), the blob its direct path (or url) names is on the media
//  host with the message's fileSha256 and length, and media_id, when
//  given, is that blob's handle. NULL when so (or it has no media),
//  else why not.
static const char *
s_media_refused(sim_channels_t *self, const uint8_t *plain, size_t len,
                const char *media_id)
{
    wa_message_t *m = wa_message_decode(plain, len);
    const char *why = NULL;
    wa_mediamsg_t f;
    if (!m || !wa_message_has_media(m)) {
        why = media_id ? "media_id on a post without media" : NULL;
    } else if (wa_mediamsg_read(m, &f) != 0 || !f.plain) {
        why = "channel media must be unencrypted (no mediaKey, "
              "fileEncSha256), with fileSha256";
    } else {
        //  The blob's path: the direct path, else the url's
        const char *where =
            f.direct_path && *f.direct_path == '/' ? f.direct_path : NULL;
        const char *host = !where && f.url ? strstr(f.url, "://") : NULL;
        where = where ? where : host ? strchr(host + 3, '/') : NULL;
        char *path = where ? cm_strndup(where, strcspn(where, "?")) : NULL;
        size_t blen = 0;
        const uint8_t *blob =
            path ? sim_model_media_get(sim_hub_model(self->hub), path, &blen)
                 : NULL;
        uint8_t hash[WA_SHA256_LEN];
        char *handle = path ? sim_mediahost_handle(path) : NULL;
        if (!blob) {
            why = "the post's media is not on the media host";
        } else if (blen != f.file_length || wa_sha256(blob, blen, hash) != 0 ||
                   memcmp(hash, f.file_sha256, sizeof hash) != 0) {
            why = "the media host's blob is not the post's plaintext "
                  "(fileSha256, fileLength)";
        } else if (media_id && !cm_streq(media_id, handle)) {
            why = "media_id is not the handle of the post's media";
        }
        free(handle);
        free(path);
    }
    wa_message_destroy(&m);
    return why;
}

//  A post's counts changed: every device subscribed to the channel's
//  live updates (and not expired) gets
//    <notification type="newsletter" from=CHANNEL t><live_updates>
//      <message server_id id t type><views_count count/>
//      [<reactions><reaction code count/>…</reactions>]</message>
//    </live_updates></notification>
//  Returns the copies sent.
static size_t
s_live_notify(sim_channels_t *self, s_channel_t *c, const s_post_t *p)
{
    int64_t now = cm_now_ms() / 1000;
    zlistx_t *gone = zlistx_new();
    zlistx_set_destructor(gone, (czmq_destructor *)zstr_free);
    zlistx_t *devs = zlistx_new();
    for (void *until = zhashx_first(c->live); until;
         until = zhashx_next(c->live)) {
        const char *jid = (const char *)zhashx_cursor(c->live);
        sim_device_t *dev = sim_hub_device_of(self->hub, jid, NULL);
        if ((intptr_t)until < now || !dev) {
            zlistx_add_end(gone, cm_strdup(jid));
        } else {
            zlistx_add_end(devs, dev);
        }
    }
    for (char *jid = (char *)zlistx_first(gone); jid;
         jid = (char *)zlistx_next(gone)) {
        zhashx_delete(c->live, jid);
    }
    zlistx_destroy(&gone);
    wa_node_t *note =
        sim_hub_notification(self->hub, "newsletter", c->jid, NULL);
    wa_node_t *lu = wa_node_add(note, "live_updates");
    wa_node_t *m = s_post_node(c, p, false, true, false);
    wa_node_append(lu, &m);
    size_t sent = 0;
    for (sim_device_t *dev = (sim_device_t *)zlistx_first(devs); dev;
         dev = (sim_device_t *)zlistx_next(devs)) {
        sim_hub_deliver(self->hub, dev, note, "notification");
        sent++;
    }
    wa_node_destroy(&note);
    zlistx_destroy(&devs);
    return sent;
}

//  <message to=CHANNEL> and <receipt to=CHANNEL> (the hub's hook).
static void
s_on_stanza(void *arg, sim_conn_t *conn, const wa_node_t *node)
{
    sim_channels_t *self = (sim_channels_t *)arg;
    sim_device_t *dev = sim_conn_device(conn);
    const char *to = wa_node_attr(node, "to");
    const char *id = wa_node_attr(node, "id");
    s_channel_t *c = s_channel_find(self, to, false);
    if (wa_node_is(node, "receipt")) {
        const wa_node_t *list = wa_node_child(node, "list");
        for (const wa_node_t *item =
                 c && list ? wa_node_child_next(list, "item", NULL) : NULL;
             item; item = wa_node_child_next(list, "item", item)) {
            s_post_t *p =
                s_post_find(c, wa_node_attr_int_or(item, "server_id", -1));
            if (p && wa_node_attr_eq(node, "type", "view")) {
                p->views++;
                s_live_notify(self, c, p);
            }
        }
        if (id) {
            wa_node_t *ack = sim_hub_ack("receipt", id, to);
            wa_node_set_attr(ack, "type", wa_node_attr_or(node, "type", ""));
            sim_conn_send_take(conn, &ack);
        }
        return;
    }
    if (!c) {
        sim_hub_nack(conn, node, "message", 404);
        return;
    }
    if (wa_node_attr_eq(node, "type", "reaction")) {
        s_post_t *p =
            s_post_find(c, wa_node_attr_int_or(node, "server_id", -1));
        const wa_node_t *r = wa_node_child(node, "reaction");
        if (!p || !r) {
            sim_hub_nack(conn, node, "message", 404);
            return;
        }
        const char *code = wa_node_attr(r, "code");
        s_react(p, dev->account->phone,
                wa_node_attr_eq(node, "edit", "7") ? NULL : code);
        s_live_notify(self, c, p);
        wa_node_t *ack = sim_hub_ack("message", id, to);
        sim_conn_send_take(conn, &ack);
        return;
    }
    const wa_node_t *pt = wa_node_child(node, "plaintext");
    size_t len = 0;
    const uint8_t *plain = pt ? wa_node_bytes(pt, &len) : NULL;
    if (!plain || !len || len > SIM_CHANNELS_POST_BYTES) {
        sim_hub_nack(conn, node, "message", 479);
        return;
    }
    if (!s_can_post(c, dev->account->phone)) {
        cm_log_info("channel post refused", "channel=%s phone=%s", c->jid,
                    dev->account->phone);
        sim_hub_nack(conn, node, "message", 403);
        return;
    }
    const char *why =
        s_media_refused(self, plain, len, wa_node_attr(node, "media_id"));
    if (why) {
        cm_log_info("channel post refused", "channel=%s phone=%s why=\"%s\"",
                    c->jid, dev->account->phone, why);
        sim_hub_nack(conn, node, "message", 400);
        return;
    }
    s_post_t *p = s_post_add(c, id, wa_node_attr(node, "type"),
                             wa_node_attr(pt, "mediatype"), plain, len);
    size_t copies = s_fan_out(self, c, p, dev);
    cm_log_info("channel post", "channel=%s server_id=%" PRId64 " copies=%zu",
                c->jid, p->server_id, copies);
    wa_node_t *ack = sim_hub_ack("message", id, to);
    wa_node_set_attr_int(ack, "server_id", p->server_id);
    sim_conn_send_take(conn, &ack);
}

//  xmlns="newsletter": messages, message_updates, live_updates.
static void
s_newsletter(sim_hub_t *hub, void *state, sim_conn_t *conn, const wa_node_t *iq)
{
    sim_channels_t *self = (sim_channels_t *)state;
    const wa_node_t *q = wa_node_child_at(iq, 0);
    if (!q) {
        sim_hub_iq_error(conn, iq, 400, "bad-request");
        return;
    }
    if (wa_node_is(q, "live_updates")) {
        if (!s_channel_find(self, wa_node_attr(iq, "to"), false)) {
            sim_hub_iq_error(conn, iq, 404, "item-not-found");
            return;
        }
        //  Its counts' changes are notified for the duration
        s_channel_t *lc = s_channel_find(self, wa_node_attr(iq, "to"), false);
        char *dj = sim_device_jid(sim_conn_device(conn));
        zhashx_update(
            lc->live, dj,
            (void *)(intptr_t)(cm_now_ms() / 1000 + SIM_CHANNELS_LIVE_S));
        free(dj);
        wa_node_t *lu = wa_node_new("live_updates");
        wa_node_set_attr_int(lu, "duration", SIM_CHANNELS_LIVE_S);
        sim_hub_iq_result(conn, iq, &lu);
        return;
    }
    bool updates = wa_node_is(q, "message_updates");
    if (!updates && !wa_node_is(q, "messages")) {
        sim_hub_iq_error(conn, iq, 501, "feature-not-implemented");
        return;
    }
    s_channel_t *c = NULL;
    if (updates) {
        c = s_channel_find(self, wa_node_attr(iq, "to"), false);
    } else if (wa_node_attr_eq(q, "type", "invite")) {
        c = s_channel_find(self, wa_node_attr(q, "key"), true);
    } else {
        c = s_channel_find(self, wa_node_attr(q, "jid"), false);
    }
    if (!c) {
        sim_hub_iq_error(conn, iq, 404, "item-not-found");
        return;
    }
    int64_t count = wa_node_attr_int_or(q, "count", 10);
    int64_t before = wa_node_attr_int_or(q, "before", INT64_MAX);
    int64_t after = wa_node_attr_int_or(q, "after", 0);
    if (count < 1 || count > SIM_CHANNELS_POSTS_MAX) {
        sim_hub_iq_error(conn, iq, 400, "bad-request");
        return;
    }
    //  The newest `count` posts in range, oldest first
    size_t n = zlistx_size(c->posts);
    s_post_t **in = (s_post_t **)cm_alloc((n ? n : 1) * sizeof(s_post_t *));
    size_t k = 0;
    for (s_post_t *p = (s_post_t *)zlistx_first(c->posts); p;
         p = (s_post_t *)zlistx_next(c->posts)) {
        if (p->server_id < before && p->server_id > after) {
            in[k++] = p;
        }
    }
    size_t from = k > (size_t)count ? k - (size_t)count : 0;
    wa_node_t *msgs = wa_node_new("messages");
    wa_node_set_attr(msgs, "jid", c->jid);
    wa_node_set_attr_int(msgs, "t", cm_now_ms() / 1000);
    for (size_t i = from; i < k; i++) {
        wa_node_t *m = s_post_node(c, in[i], !updates, true, false);
        wa_node_append(msgs, &m);
    }
    free(in);
    if (updates) {
        wa_node_t *mu = wa_node_new("message_updates");
        wa_node_append(mu, &msgs);
        sim_hub_iq_result(conn, iq, &mu);
    } else {
        sim_hub_iq_result(conn, iq, &msgs);
    }
}

//  --------------------------------------------------------------------
//  Control API

static int
s_control_create(sim_channels_t *self, json_t *in, json_t **result_p,
                 const char **reason_p)
{
    const char *owner = json_string_value(json_object_get(in, "owner"));
    const char *name = json_string_value(json_object_get(in, "name"));
    const char *desc = json_string_value(json_object_get(in, "description"));
    const char *country = json_string_value(json_object_get(in, "country"));
    const char *category = json_string_value(json_object_get(in, "category"));
    json_t *subs = json_object_get(in, "subscribers");
    if (!owner || !name || !*name || strlen(name) > SIM_CHANNELS_NAME_MAX ||
        (desc && strlen(desc) > SIM_CHANNELS_DESCRIPTION_MAX) ||
        (country && strlen(country) > 8) ||
        (category && strlen(category) > 64) ||
        (subs && (!json_is_integer(subs) || json_integer_value(subs) < 0))) {
        *reason_p = "body must be {owner, name, description?, country?, "
                    "category?, verified?, subscribers?}";
        return 400;
    }
    if (!sim_model_account(sim_hub_model(self->hub), owner)) {
        *reason_p = "no such account";
        return 404;
    }
    if (zhashx_size(self->channels) >= SIM_CHANNELS_MAX) {
        *reason_p = "too many channels";
        return 429;
    }
    s_channel_t *c = s_channel_new(self, owner, name, desc);
    free(c->country);
    c->country = cm_strdup(country ? country : "");
    free(c->category);
    c->category = cm_strdup(category ? category : "");
    c->verified = json_is_true(json_object_get(in, "verified"));
    c->extra = subs ? json_integer_value(subs) : 0;
    *result_p = s_metadata(self, c, NULL);
    return 201;
}

int
sim_channels_control(sim_channels_t *self, const char *method, char **seg,
                     int n, json_t *in, json_t **result_p,
                     const char **reason_p)
{
    assert(self);
    *reason_p = "unrecognized route";
    if (n == 0 && cm_streq(method, "GET")) {
        json_t *list = json_array();
        for (s_channel_t *c = (s_channel_t *)zhashx_first(self->channels); c;
             c = (s_channel_t *)zhashx_next(self->channels)) {
            json_t *meta = s_metadata(self, c, NULL);
            json_object_set_new(meta, "owner", json_string(c->owner));
            json_object_set_new(
                meta, "posts", json_integer((json_int_t)zlistx_size(c->posts)));
            json_object_set_new(
                meta, "followers",
                json_integer((json_int_t)zhashx_size(c->followers)));
            json_array_append_new(list, meta);
        }
        *result_p = json_pack("{s:o}", "channels", list);
        return 200;
    }
    if (n == 0 && cm_streq(method, "POST")) {
        return s_control_create(self, in, result_p, reason_p);
    }
    if (n != 2 || !cm_streq(method, "POST")) {
        return 404;
    }
    s_channel_t *c = s_channel_find(self, seg[0], strchr(seg[0], '@') == NULL);
    if (!c) {
        *reason_p = "no such channel";
        return 404;
    }
    if (cm_streq(seg[1], "post")) {
        const char *text = json_string_value(json_object_get(in, "text"));
        uint8_t *msg = NULL;
        size_t len = 0;
        if (!text || !*text || strlen(text) > 4096 ||
            wa_message_build_text(text, NULL, NULL, NULL, &msg, &len) != 0) {
            *reason_p = "body must be {text} (1 to 4096 bytes)";
            return 400;
        }
        char id[32];
        snprintf(id, sizeof id, "3EB0%016" PRIX64,
                 (uint64_t)cm_now_ms() * 1000 + ++self->counter % 1000);
        s_post_t *p = s_post_add(c, id, "text", NULL, msg, len);
        free(msg);
        size_t copies = s_fan_out(self, c, p, NULL);
        *result_p =
            json_pack("{s:I, s:s, s:I}", "server_id", (json_int_t)p->server_id,
                      "id", p->id, "copies", (json_int_t)copies);
        return 200;
    }
    json_t *sid = json_object_get(in, "server_id");
    s_post_t *p =
        json_is_integer(sid) ? s_post_find(c, json_integer_value(sid)) : NULL;
    if (!p) {
        *reason_p = "body must name a post's server_id";
        return json_is_integer(sid) ? 404 : 400;
    }
    if (cm_streq(seg[1], "react")) {
        const char *code = json_string_value(json_object_get(in, "code"));
        const char *from = json_string_value(json_object_get(in, "from"));
        if (!from || (code && strlen(code) > 32)) {
            *reason_p = "body must be {server_id, code, from}";
            return 400;
        }
        s_react(p, from, code);
        s_live_notify(self, c, p);
    } else if (cm_streq(seg[1], "view")) {
        json_t *count = json_object_get(in, "count");
        int64_t k = json_is_integer(count) ? json_integer_value(count) : 1;
        if (k < 0 || k > 1000000000) {
            *reason_p = "count must be 0 to 1e9";
            return 400;
        }
        p->views += k;
        s_live_notify(self, c, p);
    } else {
        return 404;
    }
    *result_p = json_pack("{s:I, s:I}", "server_id", (json_int_t)p->server_id,
                          "views", (json_int_t)p->views);
    return 200;
}

//  --------------------------------------------------------------------
//  Capability

static void *
s_new(sim_hub_t *hub)
{
    sim_channels_t *self = (sim_channels_t *)cm_alloc(sizeof(sim_channels_t));
    self->hub = hub;
    self->channels = zhashx_new();
    zhashx_set_destructor(self->channels, s_channel_free);
    sim_hub_set_channel_fn(hub, s_on_stanza, self);
    return self;
}

static void
s_destroy(void **state_p)
{
    sim_channels_t *self = (sim_channels_t *)*state_p;
    if (self) {
        sim_hub_set_channel_fn(self->hub, NULL, NULL);
        zhashx_destroy(&self->channels);
        free(self);
        *state_p = NULL;
    }
}

//  An account is removed: its channels go, it follows nothing.
static void
s_account_gone(void *state, const char *phone)
{
    sim_channels_t *self = (sim_channels_t *)state;
    zlistx_t *gone = zlistx_new();
    for (s_channel_t *c = (s_channel_t *)zhashx_first(self->channels); c;
         c = (s_channel_t *)zhashx_next(self->channels)) {
        zhashx_delete(c->followers, phone);
        zhashx_delete(c->admins, phone);
        if (cm_streq(c->owner, phone)) {
            zlistx_add_end(gone, c->jid);
        }
    }
    for (char *jid = (char *)zlistx_first(gone); jid;
         jid = (char *)zlistx_next(gone)) {
        zhashx_delete(self->channels, jid);
    }
    zlistx_destroy(&gone);
}

static const sim_iq_route_t s_iqs[] = {{"w:mex", NULL, 0, s_mex},
                                       {"newsletter", NULL, 0, s_newsletter},
                                       {NULL, NULL, 0, NULL}};

static const char *const s_notifications[] = {NULL};

const sim_cap_t sim_channels_cap = {.name = "channels",
                                    .new_fn = s_new,
                                    .destroy_fn = s_destroy,
                                    .iqs = s_iqs,
                                    .notifications = s_notifications,
                                    .account_gone_fn = s_account_gone};

//  --------------------------------------------------------------------
//  Self test

static json_t *
t_mex(sim_channels_t *self, sim_account_t *acc, const char *query_id,
      const char *vars)
{
    char *body = cm_sprintf("{\"variables\":%s}", vars);
    char *text =
        s_mex_run(self, acc, query_id, (const uint8_t *)body, strlen(body));
    free(body);
    json_t *out = json_loads(text, 0, NULL);
    free(text);
    assert(out);
    return out;
}

static int
t_error(json_t *out)
{
    json_t *e = json_array_get(json_object_get(out, "errors"), 0);
    return (int)json_integer_value(
        json_object_get(json_object_get(e, "extensions"), "error_code"));
}

void
sim_channels_test(bool verbose)
{
    printf(" * sim_channels: ");
    (void)verbose;
    sim_hub_t *hub = sim_hub_new_test();
    sim_model_t *model = sim_hub_model(hub);
    sim_account_t *a = sim_model_account_add(model, "15550000071", "A");
    sim_account_t *b = sim_model_account_add(model, "15550000072", "B");
    sim_channels_t *self = (sim_channels_t *)s_new(hub);

    //  Channel media: unencrypted, on the media host as hashed, named by
    //  its handle
    uint8_t blob[] = "channel picture bytes";
    uint8_t sha[WA_SHA256_LEN];
    wa_sha256(blob, sizeof blob, sha);
    assert(sim_model_media_put(model, "/v/t62.7161-24/aa", blob, sizeof blob) ==
           0);
    char *handle = sim_mediahost_handle("/v/t62.7161-24/aa");
    wa_mediamsg_t f = {0};
    f.kind = "image";
    f.mimetype = "image/jpeg";
    f.direct_path = "/v/t62.7161-24/aa?ccb=11-4";
    f.file_sha256 = sha;
    f.file_length = sizeof blob;
    f.plain = true;
    uint8_t *pm = NULL;
    size_t pml = 0;
    assert(wa_mediamsg_build(&f, &pm, &pml) == 0);
    assert(!s_media_refused(self, pm, pml, handle));
    assert(!s_media_refused(self, pm, pml, NULL));
    assert(strstr(s_media_refused(self, pm, pml, "other"), "media_id"));
    free(pm);
    f.file_length = 3; //  not the blob
    assert(wa_mediamsg_build(&f, &pm, &pml) == 0);
    assert(strstr(s_media_refused(self, pm, pml, NULL), "fileSha256"));
    free(pm);
    f.file_length = sizeof blob;
    f.direct_path = "/v/t62.7161-24/zz"; //  not on the host
    assert(wa_mediamsg_build(&f, &pm, &pml) == 0);
    assert(strstr(s_media_refused(self, pm, pml, NULL), "not on the media"));
    free(pm);
    uint8_t key[32] = {1};
    f.plain = false; //  encrypted media is refused
    f.media_key = key;
    f.media_key_len = 32;
    f.file_enc_sha256 = sha;
    assert(wa_mediamsg_build(&f, &pm, &pml) == 0);
    assert(strstr(s_media_refused(self, pm, pml, NULL), "unencrypted"));
    free(pm);
    assert(wa_message_build_text("hi", NULL, NULL, NULL, &pm, &pml) == 0);
    assert(!s_media_refused(self, pm, pml, NULL));
    assert(s_media_refused(self, pm, pml, handle));
    free(pm);
    free(handle);

    //  Create (both query ids), read back by JID and by invite
    json_t *out = t_mex(self, a, SIM_CHANNELS_Q_CREATE_BL,
                        "{\"input\":{\"name\":\"News\","
                        "\"description\":\"Daily\"}}");
    json_t *meta =
        json_object_get(json_object_get(out, "data"), "xwa2_newsletter_create");
    const char *jid = json_string_value(json_object_get(meta, "id"));
    assert(jid && strlen(jid) == 18 + 11);
    json_t *thread = json_object_get(meta, "thread_metadata");
    assert(cm_streq(json_string_value(json_object_get(
                        json_object_get(thread, "name"), "text")),
                    "News"));
    const char *invite = json_string_value(json_object_get(thread, "invite"));
    assert(invite && strlen(invite) == 24);
    char *jid_copy = cm_strdup(jid);
    char *invite_copy = cm_strdup(invite);
    assert(cm_streq(json_string_value(json_object_get(
                        json_object_get(meta, "viewer_metadata"), "role")),
                    "OWNER"));
    json_decref(out);
    char *vars = cm_sprintf("{\"input\":{\"key\":\"%s\",\"type\":\"INVITE\"}}",
                            invite_copy);
    out = t_mex(self, b, SIM_CHANNELS_Q_METADATA, vars);
    free(vars);
    meta = json_object_get(json_object_get(out, "data"), "xwa2_newsletter");
    assert(cm_streq(json_string_value(json_object_get(meta, "id")), jid_copy));
    assert(cm_streq(json_string_value(json_object_get(
                        json_object_get(meta, "viewer_metadata"), "role")),
                    "GUEST"));
    json_decref(out);
    //  Unknown channel: 404; unknown query: 400
    out = t_mex(self, b, SIM_CHANNELS_Q_METADATA,
                "{\"input\":{\"key\":\"1@newsletter\",\"type\":\"JID\"}}");
    assert(t_error(out) == 404);
    json_decref(out);
    out = t_mex(self, b, "1", "{}");
    assert(t_error(out) == 400);
    json_decref(out);
    //  Follow, subscribed list, mute
    vars = cm_sprintf("{\"newsletter_id\":\"%s\"}", jid_copy);
    json_decref(t_mex(self, b, SIM_CHANNELS_Q_FOLLOW_WM, vars));
    out = t_mex(self, b, SIM_CHANNELS_Q_SUBSCRIBED, "{}");
    json_t *list = json_object_get(json_object_get(out, "data"),
                                   "xwa2_newsletter_subscribed");
    assert(json_array_size(list) == 1);
    assert(cm_streq(
        json_string_value(json_object_get(
            json_object_get(json_array_get(list, 0), "viewer_metadata"),
            "role")),
        "SUBSCRIBER"));
    json_decref(out);
    json_decref(t_mex(self, b, SIM_CHANNELS_Q_MUTE_BL, vars));
    s_channel_t *c = s_channel_find(self, jid_copy, false);
    assert(zhashx_lookup(c->followers, b->phone) == (void *)2);
    //  Only the owner deletes
    out = t_mex(self, b, SIM_CHANNELS_Q_DELETE, vars);
    assert(t_error(out) == 403);
    json_decref(out);
    free(vars);

    //  Posts, reactions, views, the messages IQ's node
    s_post_t *p =
        s_post_add(c, "M1", "text", NULL, (const uint8_t *)"\x0a\x01x", 3);
    assert(p->server_id == 100);
    s_react(p, b->phone, "👍");
    s_react(p, a->phone, "👍");
    s_react(p, a->phone, "❤");
    p->views = 7;
    wa_node_t *node = s_post_node(c, p, true, true, false);
    assert(wa_node_attr_int_or(node, "server_id", 0) == 100);
    assert(wa_node_attr_int_or(wa_node_child(node, "views_count"), "count",
                               0) == 7);
    assert(wa_node_child_count(wa_node_child(node, "reactions")) == 2);
    wa_node_destroy(&node);
    //  Live updates go to subscribed devices until their subscription
    //  ends; a mute change to the follower's companions
    sim_device_t *bd = sim_account_device_add(b);
    bd->linked = true;
    char *bj = sim_device_jid(bd);
    zhashx_update(c->live, bj, (void *)(intptr_t)(cm_now_ms() / 1000 + 300));
    zhashx_update(c->live, "15550000071:9@s.whatsapp.net",
                  (void *)(intptr_t)(cm_now_ms() / 1000 + 300));
    assert(s_live_notify(self, c, p) == 1);
    assert(zhashx_size(c->live) == 1); //  the unknown device is dropped
    zhashx_update(c->live, bj, (void *)(intptr_t)1);
    assert(s_live_notify(self, c, p) == 0);
    assert(zhashx_size(c->live) == 0); //  expired
    free(bj);
    assert(s_mute_notify(self, b, c, false) == 1);
    assert(s_mute_notify(self, a, c, false) == 0); //  no companion

    //  Directory: views, filters, cursor pages
    json_t *seed = json_pack("{s:s, s:s, s:s, s:s, s:I}", "owner", a->phone,
                             "name", "Football daily", "country", "BR",
                             "category", "SPORTS", "subscribers", 500);
    json_t *res = NULL;
    const char *reason = NULL;
    assert(sim_channels_control(self, "POST", NULL, 0, seed, &res, &reason) ==
           201);
    json_decref(res);
    json_decref(seed);
    out = t_mex(self, b, SIM_CHANNELS_Q_DIRECTORY,
                "{\"input\":{\"view\":\"POPULAR\",\"limit\":1,"
                "\"filters\":{\"country_codes\":[]}}}");
    json_t *dir = json_object_get(json_object_get(out, "data"),
                                  "xwa2_newsletters_directory_list");
    assert(json_array_size(json_object_get(dir, "result")) == 1);
    json_t *page = json_object_get(dir, "page_info");
    assert(json_is_true(json_object_get(page, "hasNextPage")));
    char *cursor =
        cm_strdup(json_string_value(json_object_get(page, "endCursor")));
    json_decref(out);
    vars = cm_sprintf("{\"input\":{\"view\":\"POPULAR\",\"limit\":1,"
                      "\"start_cursor\":\"%s\"}}",
                      cursor);
    out = t_mex(self, b, SIM_CHANNELS_Q_DIRECTORY, vars);
    free(vars);
    free(cursor);
    dir = json_object_get(json_object_get(out, "data"),
                          "xwa2_newsletters_directory_list");
    assert(
        cm_streq(json_string_value(json_object_get(
                     json_array_get(json_object_get(dir, "result"), 0), "id")),
                 jid_copy));
    assert(json_is_false(
        json_object_get(json_object_get(dir, "page_info"), "hasNextPage")));
    json_decref(out);
    out = t_mex(self, b, SIM_CHANNELS_Q_DIRECTORY,
                "{\"input\":{\"view\":\"NEW\",\"filters\":"
                "{\"country_codes\":[\"BR\"],\"categories\":[\"SPORTS\"]}}}");
    dir = json_object_get(json_object_get(out, "data"),
                          "xwa2_newsletters_directory_list");
    assert(json_array_size(json_object_get(dir, "result")) == 1);
    json_decref(out);
    out = t_mex(self, b, SIM_CHANNELS_Q_SEARCH,
                "{\"input\":{\"search_text\":\"dail\",\"limit\":10}}");
    dir = json_object_get(json_object_get(out, "data"),
                          "xwa2_newsletters_directory_search");
    assert(json_array_size(json_object_get(dir, "result")) == 2);
    json_decref(out);
    out = t_mex(self, b, SIM_CHANNELS_Q_DIRECTORY,
                "{\"input\":{\"view\":\"POPULAR\",\"start_cursor\":\"xx\"}}");
    assert(t_error(out) == 400);
    json_decref(out);

    //  The owner deletes; an account gone takes its channels
    vars = cm_sprintf("{\"newsletter_id\":\"%s\"}", jid_copy);
    json_decref(t_mex(self, a, SIM_CHANNELS_Q_DELETE, vars));
    free(vars);
    assert(!s_channel_find(self, jid_copy, false));
    s_account_gone(self, a->phone);
    assert(zhashx_size(self->channels) == 0);
    free(jid_copy);
    free(invite_copy);
    void *state = self;
    s_destroy(&state);
    sim_hub_destroy(&hub);
    printf("OK\n");
}
