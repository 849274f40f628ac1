/*  wa_group - group IQs (xmlns w:g2) and the metadata they return

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"
#include "wa/wa_group.h"
#include "wa/wa_jid.h"

struct _wa_group_t {
    char *jid;              //  group JID
    char *subject;          //  subject or ""
    bool lid;               //  addressing_mode="lid"
    char **participants;    //  user JIDs
    char **alts;            //  their other user JIDs, or NULL entries
    wa_group_role_t *roles; //  their roles
    size_t count;           //  number of participants
    char *creator;          //  creator user JID, or NULL
    char *creator_pn;       //  its phone number JID (LID groups), or NULL
    int64_t creation;       //  creation time (s), or 0
    char *description;      //  description text, or NULL
    char *description_id;   //  its version id, or NULL
    bool members_add;       //  member_add_mode all_member_add
    bool approval;          //  membership_approval_mode on
    bool announce;          //  <announcement/>
    bool locked;            //  <locked/>
};

//  User JID text (no device) of a participant JID, or NULL.
static char *
s_user(const char *text)
{
    wa_jid_t *jid = text ? wa_jid_new_from(text) : NULL;
    char *out = NULL;
    if (jid && !wa_jid_is_server(jid)) {
        wa_jid_t *user =
            wa_jid_new_parts(wa_jid_user(jid), wa_jid_server(jid), 0);
        out = user ? cm_strdup(wa_jid_str(user)) : NULL;
        wa_jid_destroy(&user);
    }
    wa_jid_destroy(&jid);
    return out;
}

//  Wire user JID of an API or wire JID naming a person (PN or LID, no
//  device), or NULL.
static char *
s_person(const char *text)
{
    char *wire = text ? wa_jid_normalize(text) : NULL;
    wa_jid_t *jid = wire ? wa_jid_new_from(wire) : NULL;
    char *out = NULL;
    if (jid && !wa_jid_is_server(jid) &&
        (wa_jid_is_pn(jid) || wa_jid_is_lid(jid))) {
        out = s_user(wire);
    }
    wa_jid_destroy(&jid);
    free(wire);
    return out;
}

bool
wa_group_text_ok(const char *text, size_t max, bool multiline)
{
    if (!text || !*text) {
        return false;
    }
    size_t chars = 0;
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        size_t len = *p < 0x80             ? 1
                     : (*p & 0xE0) == 0xC0 ? 2
                     : (*p & 0xF0) == 0xE0 ? 3
                     : (*p & 0xF8) == 0xF0 ? 4
                                           : 0;
        bool control = len == 1 && (*p < 0x20 || *p == 0x7F) &&
                       !(multiline && (*p == '\n' || *p == '\t'));
        if (len == 0 || control || (len == 2 && *p < 0xC2)) {
            return false;
        }
        for (size_t i = 1; i < len; i++) {
            if ((p[i] & 0xC0) != 0x80) {
                return false;
            }
        }
        p += len;
        if (++chars > max) {
            return false;
        }
    }
    return true;
}

bool
wa_group_subject_ok(const char *text)
{
    return wa_group_text_ok(text, WA_GROUP_SUBJECT_MAX, false);
}

//  Add a <participant jid> per entry to node. Returns 0, or -1 when one
//  is no person's JID.
static int
s_add_participants(wa_node_t *node, const char *const *participants,
                   size_t count)
{
    for (size_t i = 0; i < count; i++) {
        char *jid = s_person(participants[i]);
        if (!jid) {
            return -1;
        }
        wa_node_set_attr(wa_node_add(node, "participant"), "jid", jid);
        free(jid);
    }
    return 0;
}

static wa_node_t *
s_iq(const char *type, const char *to)
{
    wa_node_t *iq = wa_node_new("iq");
    wa_node_set_attr(iq, "xmlns", "w:g2");
    wa_node_set_attr(iq, "type", type);
    wa_node_set_attr(iq, "to", to);
    return iq;
}

//  Group JID text of `group` when it names a group, else NULL.
static char *
s_group_jid(const char *group)
{
    wa_jid_t *jid = group ? wa_jid_new_from(group) : NULL;
    char *out = NULL;
    if (jid && wa_jid_is_group(jid) && !wa_jid_is_server(jid)) {
        out = cm_strdup(wa_jid_str(jid));
    }
    wa_jid_destroy(&jid);
    return out;
}

//  A w:g2 IQ of `type` to `group`, or NULL when it names no group.
static wa_node_t *
s_group_iq(const char *type, const char *group)
{
    char *jid = s_group_jid(group);
    wa_node_t *iq = jid ? s_iq(type, jid) : NULL;
    free(jid);
    return iq;
}

wa_node_t *
wa_group_query(const char *group)
{
    wa_node_t *iq = s_group_iq("get", group);
    if (iq) {
        wa_node_set_attr(wa_node_add(iq, "query"), "request", "interactive");
    }
    return iq;
}

wa_node_t *
wa_group_create(const char *subject, const char *const *participants,
                size_t count)
{
    if (!wa_group_subject_ok(subject) || count > WA_GROUP_MAX_PARTICIPANTS ||
        (count && !participants)) {
        return NULL;
    }
    wa_node_t *iq = s_iq("set", "@g.us");
    wa_node_t *create = wa_node_add(iq, "create");
    wa_node_set_attr(create, "subject", subject);
    if (s_add_participants(create, participants, count) != 0) {
        wa_node_destroy(&iq);
    }
    return iq;
}

wa_node_t *
wa_group_participating(void)
{
    wa_node_t *iq = s_iq("get", "@g.us");
    wa_node_t *p = wa_node_add(iq, "participating");
    wa_node_add(p, "participants");
    wa_node_add(p, "description");
    return iq;
}

wa_node_t *
wa_group_change(const char *group, const char *action,
                const char *const *participants, size_t count)
{
    if (!action ||
        !(strcmp(action, "add") == 0 || strcmp(action, "remove") == 0 ||
          strcmp(action, "promote") == 0 || strcmp(action, "demote") == 0) ||
        count == 0 || !participants || count > WA_GROUP_MAX_PARTICIPANTS) {
        return NULL;
    }
    wa_node_t *iq = s_group_iq("set", group);
    if (iq &&
        s_add_participants(wa_node_add(iq, action), participants, count) != 0) {
        wa_node_destroy(&iq);
    }
    return iq;
}

char *
wa_group_code_of(const char *text)
{
    if (!text || strlen(text) > 512) {
        return NULL;
    }
    const char *prefixes[] = {"https://", "http://", NULL};
    const char *p = text;
    for (size_t i = 0; prefixes[i]; i++) {
        if (strncmp(p, prefixes[i], strlen(prefixes[i])) == 0) {
            p += strlen(prefixes[i]);
            break;
        }
    }
    const char *host = "chat.whatsapp.com/";
    if (strncmp(p, host, strlen(host)) == 0) {
        p += strlen(host);
    } else if (p != text) {
        return NULL; //  a link, but not an invite link
    }
    size_t len = strcspn(p, "/?#");
    const char *rest = p + len;
    if (*rest == '/') {
        rest++;
    }
    if (*rest && *rest != '?' && *rest != '#') {
        return NULL;
    }
    if (len == 0 || len > WA_GROUP_CODE_MAX) {
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok) {
            return NULL;
        }
    }
    char *code = cm_alloc(len + 1);
    memcpy(code, p, len);
    return code;
}

wa_node_t *
wa_group_invite(const char *group, bool revoke)
{
    wa_node_t *iq = s_group_iq(revoke ? "set" : "get", group);
    if (iq) {
        wa_node_add(iq, "invite");
    }
    return iq;
}

const char *
wa_group_invite_code(const wa_node_t *reply)
{
    const wa_node_t *invite = reply ? wa_node_child(reply, "invite") : NULL;
    const char *code = invite ? wa_node_attr(invite, "code") : NULL;
    char *check = code ? wa_group_code_of(code) : NULL;
    bool ok = check && strcmp(check, code) == 0;
    free(check);
    return ok ? code : NULL;
}

wa_node_t *
wa_group_join(const char *code, bool join)
{
    char *clean = wa_group_code_of(code);
    if (!clean || strcmp(clean, code) != 0) {
        free(clean);
        return NULL;
    }
    wa_node_t *iq = s_iq(join ? "set" : "get", "@g.us");
    wa_node_set_attr(wa_node_add(iq, "invite"), "code", clean);
    free(clean);
    return iq;
}

char *
wa_group_joined(const wa_node_t *reply)
{
    const wa_node_t *g = reply ? wa_node_child(reply, "group") : NULL;
    const char *jid = g ? wa_node_attr(g, "jid") : NULL;
    if (!jid && g) {
        jid = wa_node_attr(g, "id");
    }
    if (!jid) {
        return NULL;
    }
    char *text = strchr(jid, '@') ? cm_strdup(jid) : cm_sprintf("%s@g.us", jid);
    char *out = s_group_jid(text);
    free(text);
    return out;
}

wa_node_t *
wa_group_leave(const char *group)
{
    char *jid = s_group_jid(group);
    if (!jid) {
        return NULL;
    }
    wa_node_t *iq = s_iq("set", "@g.us");
    wa_node_set_attr(wa_node_add(wa_node_add(iq, "leave"), "group"), "id", jid);
    free(jid);
    return iq;
}

wa_node_t *
wa_group_set_subject(const char *group, const char *subject)
{
    wa_node_t *iq =
        wa_group_subject_ok(subject) ? s_group_iq("set", group) : NULL;
    if (iq) {
        wa_node_set_string(wa_node_add(iq, "subject"), subject);
    }
    return iq;
}

//  True when `id` can be a description version id (short, printable).
static bool
s_version_ok(const char *id)
{
    size_t len = id ? strlen(id) : 0;
    if (len == 0 || len > 64) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (id[i] <= ' ' || id[i] > '~') {
            return false;
        }
    }
    return true;
}

wa_node_t *
wa_group_set_description(const char *group, const char *text, const char *id,
                         const char *prev)
{
    bool remove = !text || !*text;
    if ((!remove && !wa_group_text_ok(text, WA_GROUP_DESCRIPTION_MAX, true)) ||
        !s_version_ok(id) || (prev && !s_version_ok(prev))) {
        return NULL;
    }
    wa_node_t *iq = s_group_iq("set", group);
    if (!iq) {
        return NULL;
    }
    wa_node_t *desc = wa_node_add(iq, "description");
    wa_node_set_attr(desc, "id", id);
    if (prev) {
        wa_node_set_attr(desc, "prev", prev);
    }
    if (remove) {
        wa_node_set_attr(desc, "delete", "true");
    } else {
        wa_node_set_string(wa_node_add(desc, "body"), text);
    }
    return iq;
}

wa_node_t *
wa_group_set_setting(const char *group, const char *setting, bool on)
{
    const char *tag = NULL;
    if (setting && strcmp(setting, "announcement") == 0) {
        tag = on ? "announcement" : "not_announcement";
    } else if (setting && strcmp(setting, "locked") == 0) {
        tag = on ? "locked" : "unlocked";
    }
    wa_node_t *iq = tag ? s_group_iq("set", group) : NULL;
    if (iq) {
        wa_node_add(iq, tag);
    }
    return iq;
}

wa_node_t *
wa_group_set_approval(const char *group, bool on)
{
    wa_node_t *iq = s_group_iq("set", group);
    if (iq) {
        wa_node_t *mode = wa_node_add(iq, "membership_approval_mode");
        wa_node_set_attr(wa_node_add(mode, "group_join"), "state",
                         on ? "on" : "off");
    }
    return iq;
}

wa_node_t *
wa_group_requests(const char *group)
{
    wa_node_t *iq = s_group_iq("get", group);
    if (iq) {
        wa_node_add(iq, "membership_approval_requests");
    }
    return iq;
}

wa_node_t *
wa_group_requests_action(const char *group, bool approve,
                         const char *const *participants, size_t count)
{
    if (count == 0 || !participants || count > WA_GROUP_MAX_PARTICIPANTS) {
        return NULL;
    }
    wa_node_t *iq = s_group_iq("set", group);
    wa_node_t *what =
        iq ? wa_node_add(wa_node_add(iq, "membership_requests_action"),
                         approve ? "approve" : "reject")
           : NULL;
    if (what && s_add_participants(what, participants, count) != 0) {
        wa_node_destroy(&iq);
    }
    return iq;
}

wa_group_request_t *
wa_group_requests_parse(const wa_node_t *reply, size_t *count_p)
{
    assert(count_p);
    *count_p = 0;
    const wa_node_t *list =
        reply ? wa_node_child(reply, "membership_approval_requests") : NULL;
    size_t n = list ? wa_node_child_count(list) : 0;
    if (n == 0) {
        return NULL;
    }
    if (n > WA_GROUP_MAX_PARTICIPANTS) {
        n = WA_GROUP_MAX_PARTICIPANTS;
    }
    wa_group_request_t *items = cm_alloc(n * sizeof *items);
    size_t k = 0;
    const wa_node_t *r = NULL;
    while (k < n &&
           (r = wa_node_child_next(list, "membership_approval_request", r))) {
        char *jid = s_person(wa_node_attr(r, "jid"));
        if (!jid) {
            continue;
        }
        wa_group_request_t *item = &items[k++];
        item->jid = jid;
        const char *pn = wa_node_attr(r, "phone_number");
        item->pn = pn ? s_person(pn) : NULL;
        item->time = wa_node_attr_int_or(r, "request_time", 0);
        const char *method = wa_node_attr(r, "request_method");
        item->method = method ? cm_strdup(method) : NULL;
    }
    if (k == 0) {
        free(items);
        return NULL;
    }
    *count_p = k;
    return items;
}

void
wa_group_requests_free(wa_group_request_t **items_p, size_t count)
{
    assert(items_p);
    wa_group_request_t *items = *items_p;
    for (size_t i = 0; items && i < count; i++) {
        free(items[i].jid);
        free(items[i].pn);
        free(items[i].method);
    }
    free(items);
    *items_p = NULL;
}

wa_node_t *
wa_group_set_picture(const char *group, const uint8_t *jpeg, size_t len)
{
    if (jpeg && (len < 4 || len > WA_GROUP_PICTURE_MAX || jpeg[0] != 0xFF ||
                 jpeg[1] != 0xD8 || jpeg[2] != 0xFF)) {
        return NULL;
    }
    char *jid = s_group_jid(group);
    if (!jid) {
        return NULL;
    }
    wa_node_t *iq = wa_node_new("iq");
    wa_node_set_attr(iq, "xmlns", "w:profile:picture");
    wa_node_set_attr(iq, "type", "set");
    wa_node_set_attr(iq, "to", "s.whatsapp.net");
    wa_node_set_attr(iq, "target", jid);
    free(jid);
    if (jpeg) {
        wa_node_t *pic = wa_node_add(iq, "picture");
        wa_node_set_attr(pic, "type", "image");
        wa_node_set_bytes(pic, jpeg, len);
    }
    return iq;
}

const char *
wa_group_picture_id(const wa_node_t *reply)
{
    const wa_node_t *pic = reply ? wa_node_child(reply, "picture") : NULL;
    const char *id = pic ? wa_node_attr(pic, "id") : NULL;
    return id && *id && strlen(id) <= 64 ? id : NULL;
}

static wa_group_t *
s_parse(const char *group, const wa_node_t *g)
{
    char *jid = NULL;
    if (group) {
        jid = cm_strdup(group);
    } else {
        //  The id is the group's user part, or (some servers) the JID
        const char *id = wa_node_attr(g, "id");
        char *text = id && !strchr(id, '@') ? cm_sprintf("%s@g.us", id)
                                            : (id ? cm_strdup(id) : NULL);
        jid = s_group_jid(text);
        free(text);
        if (!jid) {
            return NULL;
        }
    }
    wa_group_t *self = cm_alloc(sizeof *self);
    self->jid = jid;
    self->subject = cm_strdup(wa_node_attr_or(g, "subject", ""));
    self->lid = wa_node_attr_eq(g, "addressing_mode", "lid");
    self->creator = s_user(wa_node_attr(g, "creator"));
    self->creator_pn = s_user(wa_node_attr(g, "creator_pn"));
    int64_t creation = 0;
    if (wa_node_attr_int(g, "creation", &creation) == 0 && creation > 0) {
        self->creation = creation;
    }
    const wa_node_t *desc = wa_node_child(g, "description");
    const wa_node_t *body = desc ? wa_node_child(desc, "body") : NULL;
    const char *text = body ? wa_node_text_content(body) : NULL;
    self->description = text ? cm_strdup(text) : NULL;
    const char *desc_id = desc ? wa_node_attr(desc, "id") : NULL;
    self->description_id = desc_id ? cm_strdup(desc_id) : NULL;
    const wa_node_t *add_mode = wa_node_child(g, "member_add_mode");
    const char *mode = add_mode ? wa_node_text_content(add_mode) : NULL;
    self->members_add = !mode || strcmp(mode, "admin_add") != 0;
    const wa_node_t *approval = wa_node_child(g, "membership_approval_mode");
    const wa_node_t *join =
        approval ? wa_node_child(approval, "group_join") : NULL;
    self->approval = join && wa_node_attr_eq(join, "state", "on");
    self->announce = wa_node_child(g, "announcement") != NULL;
    self->locked = wa_node_child(g, "locked") != NULL;
    size_t cap = wa_node_child_count(g);
    if (cap > WA_GROUP_MAX_PARTICIPANTS) {
        cap = WA_GROUP_MAX_PARTICIPANTS;
    }
    self->participants = cm_alloc((cap ? cap : 1) * sizeof(char *));
    self->alts = cm_alloc((cap ? cap : 1) * sizeof(char *));
    self->roles = cm_alloc((cap ? cap : 1) * sizeof(wa_group_role_t));
    const wa_node_t *p = NULL;
    while ((p = wa_node_child_next(g, "participant", p)) && self->count < cap) {
        char *user = s_user(wa_node_attr(p, "jid"));
        if (!user || wa_group_has(self, user)) {
            free(user);
            continue;
        }
        size_t i = self->count++;
        self->participants[i] = user;
        const char *alt = wa_node_attr(p, self->lid ? "phone_number" : "lid");
        if (!alt) {
            alt = wa_node_attr(p, self->lid ? "lid" : "phone_number");
        }
        self->alts[i] = s_user(alt);
        if (self->alts[i] && strcmp(self->alts[i], user) == 0) {
            free(self->alts[i]);
            self->alts[i] = NULL;
        }
        self->roles[i] =
            wa_node_attr_eq(p, "type", "superadmin") ? WA_GROUP_SUPERADMIN
            : wa_node_attr_eq(p, "type", "admin")    ? WA_GROUP_ADMIN
                                                     : WA_GROUP_MEMBER;
    }
    return self;
}

wa_group_t *
wa_group_parse(const char *group, const wa_node_t *reply)
{
    const wa_node_t *g = reply ? wa_node_child(reply, "group") : NULL;
    if (!g || !wa_node_attr_eq(reply, "type", "result")) {
        return NULL;
    }
    return s_parse(group, g);
}

wa_group_t *
wa_group_parse_node(const wa_node_t *group)
{
    return group && wa_node_is(group, "group") ? s_parse(NULL, group) : NULL;
}

void
wa_group_destroy(wa_group_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    wa_group_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        free(self->participants[i]);
        free(self->alts[i]);
    }
    free(self->participants);
    free(self->alts);
    free(self->roles);
    free(self->creator);
    free(self->creator_pn);
    free(self->description);
    free(self->description_id);
    free(self->subject);
    free(self->jid);
    free(self);
    *self_p = NULL;
}

const char *
wa_group_jid(const wa_group_t *self)
{
    return self->jid;
}

const char *
wa_group_subject(const wa_group_t *self)
{
    return self->subject;
}

bool
wa_group_is_lid(const wa_group_t *self)
{
    return self->lid;
}

const char *const *
wa_group_participants(const wa_group_t *self, size_t *count)
{
    *count = self->count;
    return (const char *const *)self->participants;
}

wa_group_role_t
wa_group_role(const wa_group_t *self, size_t index)
{
    assert(index < self->count);
    return self->roles[index];
}

const char *
wa_group_alt(const wa_group_t *self, size_t index)
{
    assert(index < self->count);
    return self->alts[index];
}

const char *
wa_group_creator(const wa_group_t *self)
{
    return self->creator;
}

const char *
wa_group_creator_pn(const wa_group_t *self)
{
    if (self->creator_pn) {
        return self->creator_pn;
    }
    //  The creator among the participants, with its number beside
    for (size_t i = 0; self->creator && i < self->count; i++) {
        if (strcmp(self->participants[i], self->creator) == 0 &&
            self->alts[i] && !strstr(self->alts[i], "@lid")) {
            return self->alts[i];
        }
    }
    return NULL;
}

int64_t
wa_group_creation(const wa_group_t *self)
{
    return self->creation;
}

const char *
wa_group_description(const wa_group_t *self)
{
    return self->description;
}

bool
wa_group_announce(const wa_group_t *self)
{
    return self->announce;
}

bool
wa_group_locked(const wa_group_t *self)
{
    return self->locked;
}

const char *
wa_group_description_id(const wa_group_t *self)
{
    return self->description_id;
}

bool
wa_group_members_add(const wa_group_t *self)
{
    return self->members_add;
}

bool
wa_group_approval(const wa_group_t *self)
{
    return self->approval;
}

bool
wa_group_has(const wa_group_t *self, const char *user)
{
    char *u = s_user(user);
    bool found = false;
    for (size_t i = 0; u && i < self->count && !found; i++) {
        found = strcmp(self->participants[i], u) == 0;
    }
    free(u);
    return found;
}

//  --------------------------------------------------------------------
//  Self test

void
wa_group_test(bool verbose)
{
    printf(" * wa_group: ");
    (void)verbose;
    wa_node_t *q = wa_group_query("120363012345678901@g.us");
    assert(q && wa_node_attr_eq(q, "xmlns", "w:g2"));
    assert(wa_node_attr_eq(q, "to", "120363012345678901@g.us"));
    assert(
        wa_node_attr_eq(wa_node_child(q, "query"), "request", "interactive"));
    wa_node_destroy(&q);
    assert(wa_group_query("15551234567@s.whatsapp.net") == NULL);
    assert(wa_group_query("@g.us") == NULL);
    assert(wa_group_query(NULL) == NULL);

    wa_node_t *reply = wa_node_new_from_text(
        "<iq type=\"result\" id=\"1\" from=\"120363012345678901@g.us\">"
        "<group id=\"120363012345678901\" subject=\"Team\" "
        "addressing_mode=\"lid\">"
        "<participant jid=\"111@lid\" type=\"superadmin\"/>"
        "<participant jid=\"222:4@lid\"/>"
        "<participant jid=\"111@lid\"/>"
        "<participant jid=\"garbage\"/><participant/>"
        "<description/></group></iq>",
        NULL);
    assert(reply);
    wa_group_t *g = wa_group_parse("120363012345678901@g.us", reply);
    assert(g);
    assert(strcmp(wa_group_jid(g), "120363012345678901@g.us") == 0);
    assert(strcmp(wa_group_subject(g), "Team") == 0);
    assert(wa_group_is_lid(g));
    size_t n = 0;
    const char *const *p = wa_group_participants(g, &n);
    assert(n == 2);
    assert(strcmp(p[0], "111@lid") == 0 && strcmp(p[1], "222@lid") == 0);
    assert(wa_group_has(g, "222:9@lid"));
    assert(!wa_group_has(g, "333@lid"));
    assert(!wa_group_has(g, "junk"));
    wa_group_destroy(&g);
    assert(g == NULL);
    wa_group_destroy(&g);
    wa_node_destroy(&reply);

    reply = wa_node_new_from_text("<iq type=\"result\" id=\"1\"/>", NULL);
    assert(!wa_group_parse("1@g.us", reply));
    wa_node_destroy(&reply);
    reply = wa_node_new_from_text("<iq type=\"result\" id=\"1\"><group/></iq>",
                                  NULL);
    g = wa_group_parse("1@g.us", reply);
    assert(g && !wa_group_is_lid(g) && strcmp(wa_group_subject(g), "") == 0);
    wa_group_participants(g, &n);
    assert(n == 0);
    wa_group_destroy(&g);
    wa_node_destroy(&reply);

    //  Full metadata: roles, other JIDs, creator, description, settings;
    //  the JID from the id attribute
    reply = wa_node_new_from_text(
        "<iq type=\"result\" id=\"2\" from=\"@g.us\">"
        "<group id=\"120363000000000001\" subject=\"Team\" "
        "creator=\"15550001111@s.whatsapp.net\" creation=\"1700000000\" "
        "addressing_mode=\"pn\">"
        "<participant jid=\"15550001111@s.whatsapp.net\" type=\"superadmin\" "
        "lid=\"111@lid\"/>"
        "<participant jid=\"15550002222@s.whatsapp.net\" type=\"admin\"/>"
        "<participant jid=\"15550003333@s.whatsapp.net\" type=\"x\"/>"
        "<description id=\"D1\"><body>About us</body></description>"
        "<announcement/></group></iq>",
        NULL);
    assert(reply);
    g = wa_group_parse(NULL, reply);
    assert(g && strcmp(wa_group_jid(g), "120363000000000001@g.us") == 0);
    assert(!wa_group_is_lid(g));
    assert(strcmp(wa_group_creator(g), "15550001111@s.whatsapp.net") == 0);
    assert(wa_group_creation(g) == 1700000000);
    assert(strcmp(wa_group_description(g), "About us") == 0);
    assert(wa_group_announce(g) && !wa_group_locked(g));
    p = wa_group_participants(g, &n);
    assert(n == 3);
    assert(wa_group_role(g, 0) == WA_GROUP_SUPERADMIN);
    assert(wa_group_role(g, 1) == WA_GROUP_ADMIN);
    assert(wa_group_role(g, 2) == WA_GROUP_MEMBER);
    assert(strcmp(wa_group_alt(g, 0), "111@lid") == 0);
    assert(wa_group_alt(g, 1) == NULL);
    wa_group_destroy(&g);
    //  LID addressing: members by LID, numbers beside (creator_pn, or
    //  the creator's participant entry)
    wa_node_t *lidg = wa_node_new_from_text(
        "<group id=\"120363000000000002\" addressing_mode=\"lid\" "
        "creator=\"111@lid\" creator_pn=\"15550001111@s.whatsapp.net\">"
        "<participant jid=\"111@lid\" type=\"superadmin\" "
        "phone_number=\"15550001111@s.whatsapp.net\"/>"
        "<participant jid=\"222@lid\" "
        "phone_number=\"15550002222@s.whatsapp.net\"/></group>",
        NULL);
    g = wa_group_parse_node(lidg);
    assert(g && wa_group_is_lid(g));
    assert(strcmp(wa_group_creator(g), "111@lid") == 0);
    assert(strcmp(wa_group_creator_pn(g), "15550001111@s.whatsapp.net") == 0);
    assert(strcmp(wa_group_alt(g, 1), "15550002222@s.whatsapp.net") == 0);
    wa_group_destroy(&g);
    wa_node_set_attr(lidg, "creator_pn", "junk");
    g = wa_group_parse_node(lidg);
    assert(strcmp(wa_group_creator_pn(g), "15550001111@s.whatsapp.net") == 0);
    wa_group_destroy(&g);
    wa_node_set_attr(lidg, "creator", "333@lid");
    g = wa_group_parse_node(lidg);
    assert(!wa_group_creator_pn(g));
    wa_group_destroy(&g);
    wa_node_destroy(&lidg);
    //  A <group> without a usable id
    wa_node_t *bad = wa_node_new_from_text("<group subject=\"x\"/>", NULL);
    assert(!wa_group_parse_node(bad));
    wa_node_destroy(&bad);
    bad = wa_node_new_from_text("<group id=\"1@s.whatsapp.net\"/>", NULL);
    assert(!wa_group_parse_node(bad));
    wa_node_destroy(&bad);
    g = wa_group_parse_node(wa_node_child(reply, "group"));
    assert(g && strcmp(wa_group_subject(g), "Team") == 0);
    wa_group_destroy(&g);
    wa_node_destroy(&reply);

    //  Create: API and wire JIDs; bad subjects and JIDs refused
    const char *people[] = {"15550002222@c.us", "15550003333@s.whatsapp.net",
                            "123456789012345@lid"};
    wa_node_t *iq = wa_group_create("Team ✓", people, 3);
    assert(iq && wa_node_attr_eq(iq, "type", "set"));
    assert(wa_node_attr_eq(iq, "to", "@g.us"));
    wa_node_t *create = wa_node_child(iq, "create");
    assert(create && wa_node_attr_eq(create, "subject", "Team ✓"));
    assert(wa_node_child_count(create) == 3);
    assert(wa_node_attr_eq(wa_node_child_at(create, 0), "jid",
                           "15550002222@s.whatsapp.net"));
    assert(wa_node_attr_eq(wa_node_child_at(create, 2), "jid",
                           "123456789012345@lid"));
    wa_node_destroy(&iq);
    iq = wa_group_create("Solo", NULL, 0);
    assert(iq && wa_node_child_count(wa_node_child(iq, "create")) == 0);
    wa_node_destroy(&iq);
    char long_subject[WA_GROUP_SUBJECT_MAX * 3 + 8];
    memset(long_subject, 0, sizeof long_subject);
    for (size_t i = 0; i < WA_GROUP_SUBJECT_MAX; i++) {
        memcpy(long_subject + 2 * i, "\xc3\xa9", 2); //  100 characters
    }
    iq = wa_group_create(long_subject, NULL, 0);
    assert(iq);
    wa_node_destroy(&iq);
    strcat(long_subject, "x"); //  101
    assert(!wa_group_create(long_subject, NULL, 0));
    assert(!wa_group_create("", NULL, 0));
    assert(!wa_group_create(NULL, NULL, 0));
    assert(!wa_group_create("bad\x01", NULL, 0));
    assert(!wa_group_create("bad \xff", NULL, 0));
    const char *wrong[] = {"120363000000000001@g.us"};
    assert(!wa_group_create("x", wrong, 1));
    const char *junk[] = {"nope"};
    assert(!wa_group_create("x", junk, 1));

    //  Participating and changes
    iq = wa_group_participating();
    assert(wa_node_attr_eq(iq, "to", "@g.us") &&
           wa_node_attr_eq(iq, "type", "get"));
    assert(wa_node_child(wa_node_child(iq, "participating"), "participants"));
    wa_node_destroy(&iq);
    iq = wa_group_change("120363000000000001@g.us", "add", people, 2);
    assert(iq && wa_node_attr_eq(iq, "to", "120363000000000001@g.us"));
    assert(wa_node_child_count(wa_node_child(iq, "add")) == 2);
    wa_node_destroy(&iq);
    assert(!wa_group_change("120363000000000001@g.us", "kick", people, 1));
    assert(!wa_group_change("15550001111@s.whatsapp.net", "add", people, 1));
    assert(!wa_group_change("120363000000000001@g.us", "add", people, 0));
    assert(!wa_group_change("120363000000000001@g.us", "remove", junk, 1));

    //  Invite codes and links
    struct {
        const char *in;
        const char *out;
    } codes[] = {{"AbC123xyz", "AbC123xyz"},
                 {"https://chat.whatsapp.com/AbC123xyz", "AbC123xyz"},
                 {"http://chat.whatsapp.com/AbC-_1/", "AbC-_1"},
                 {"chat.whatsapp.com/AbC?lang=en", "AbC"},
                 {"https://example.com/AbC", NULL},
                 {"https://chat.whatsapp.com/", NULL},
                 {"https://chat.whatsapp.com/a/b", NULL},
                 {"bad code", NULL},
                 {"a<b", NULL},
                 {"", NULL},
                 {NULL, NULL}};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        char *code = wa_group_code_of(codes[i].in);
        assert((!code && !codes[i].out) ||
               (code && codes[i].out && strcmp(code, codes[i].out) == 0));
        free(code);
    }
    char long_code[WA_GROUP_CODE_MAX + 2];
    memset(long_code, 'a', sizeof long_code - 1);
    long_code[WA_GROUP_CODE_MAX + 1] = 0;
    assert(!wa_group_code_of(long_code));
    long_code[WA_GROUP_CODE_MAX] = 0;
    char *code = wa_group_code_of(long_code);
    assert(code);
    free(code);
    iq = wa_group_invite("120363000000000001@g.us", false);
    assert(iq && wa_node_attr_eq(iq, "type", "get") &&
           wa_node_child(iq, "invite"));
    wa_node_destroy(&iq);
    iq = wa_group_invite("120363000000000001@g.us", true);
    assert(iq && wa_node_attr_eq(iq, "type", "set"));
    wa_node_destroy(&iq);
    assert(!wa_group_invite("x", false));
    reply = wa_node_new_from_text(
        "<iq type=\"result\"><invite code=\"AbC1\"/></iq>", NULL);
    assert(strcmp(wa_group_invite_code(reply), "AbC1") == 0);
    wa_node_destroy(&reply);
    reply = wa_node_new_from_text(
        "<iq type=\"result\"><invite code=\"a b\"/></iq>", NULL);
    assert(!wa_group_invite_code(reply));
    wa_node_destroy(&reply);
    iq = wa_group_join("AbC1", true);
    assert(iq && wa_node_attr_eq(iq, "to", "@g.us") &&
           wa_node_attr_eq(iq, "type", "set") &&
           wa_node_attr_eq(wa_node_child(iq, "invite"), "code", "AbC1"));
    wa_node_destroy(&iq);
    iq = wa_group_join("AbC1", false);
    assert(iq && wa_node_attr_eq(iq, "type", "get"));
    wa_node_destroy(&iq);
    assert(!wa_group_join("https://chat.whatsapp.com/AbC1", true));
    assert(!wa_group_join(NULL, true));
    reply = wa_node_new_from_text(
        "<iq type=\"result\"><group jid=\"120363000000000001@g.us\"/></iq>",
        NULL);
    char *joined = wa_group_joined(reply);
    assert(joined && strcmp(joined, "120363000000000001@g.us") == 0);
    free(joined);
    wa_node_destroy(&reply);
    reply = wa_node_new_from_text(
        "<iq type=\"result\"><group jid=\"1@s.whatsapp.net\"/></iq>", NULL);
    assert(!wa_group_joined(reply));
    wa_node_destroy(&reply);

    //  Leave, subject, description, settings
    iq = wa_group_leave("120363000000000001@g.us");
    assert(iq && wa_node_attr_eq(iq, "to", "@g.us"));
    assert(wa_node_attr_eq(wa_node_find(iq, "leave/group"), "id",
                           "120363000000000001@g.us"));
    wa_node_destroy(&iq);
    assert(!wa_group_leave("15550001111@s.whatsapp.net"));
    iq = wa_group_set_subject("120363000000000001@g.us", "New name");
    assert(iq && strcmp(wa_node_text_content(wa_node_child(iq, "subject")),
                        "New name") == 0);
    wa_node_destroy(&iq);
    assert(!wa_group_set_subject("120363000000000001@g.us", long_subject));
    assert(!wa_group_set_subject("120363000000000001@g.us", "a\nb"));
    iq = wa_group_set_description("120363000000000001@g.us", "Line 1\nLine 2",
                                  "D2", "D1");
    wa_node_t *desc = wa_node_child(iq, "description");
    assert(desc && wa_node_attr_eq(desc, "id", "D2") &&
           wa_node_attr_eq(desc, "prev", "D1") &&
           !wa_node_attr(desc, "delete"));
    assert(strcmp(wa_node_text_content(wa_node_child(desc, "body")),
                  "Line 1\nLine 2") == 0);
    wa_node_destroy(&iq);
    iq = wa_group_set_description("120363000000000001@g.us", "", "D3", NULL);
    desc = wa_node_child(iq, "description");
    assert(wa_node_attr_eq(desc, "delete", "true") &&
           !wa_node_attr(desc, "prev") && !wa_node_child(desc, "body"));
    wa_node_destroy(&iq);
    char *big = cm_alloc(WA_GROUP_DESCRIPTION_MAX + 2);
    memset(big, 'x', WA_GROUP_DESCRIPTION_MAX);
    iq = wa_group_set_description("120363000000000001@g.us", big, "D4", NULL);
    assert(iq);
    wa_node_destroy(&iq);
    big[WA_GROUP_DESCRIPTION_MAX] = 'x';
    assert(
        !wa_group_set_description("120363000000000001@g.us", big, "D4", NULL));
    free(big);
    assert(!wa_group_set_description("120363000000000001@g.us", "x", "", NULL));
    assert(
        !wa_group_set_description("120363000000000001@g.us", "x", "a b", NULL));
    const char *settings[][3] = {{"announcement", "1", "announcement"},
                                 {"announcement", "0", "not_announcement"},
                                 {"locked", "1", "locked"},
                                 {"locked", "0", "unlocked"}};
    for (size_t i = 0; i < 4; i++) {
        iq = wa_group_set_setting("120363000000000001@g.us", settings[i][0],
                                  settings[i][1][0] == '1');
        assert(iq && wa_node_child(iq, settings[i][2]) &&
               wa_node_child_count(iq) == 1);
        wa_node_destroy(&iq);
    }
    assert(!wa_group_set_setting("120363000000000001@g.us", "ephemeral", true));

    //  Join requests: approval mode, the list, approve and reject
    iq = wa_group_set_approval("120363000000000001@g.us", true);
    assert(
        iq && wa_node_attr_eq(iq, "type", "set") &&
        wa_node_attr_eq(wa_node_find(iq, "membership_approval_mode/group_join"),
                        "state", "on"));
    wa_node_destroy(&iq);
    assert(!wa_group_set_approval("nope", false));
    iq = wa_group_requests("120363000000000001@g.us");
    assert(iq && wa_node_attr_eq(iq, "type", "get") &&
           wa_node_child(iq, "membership_approval_requests"));
    wa_node_destroy(&iq);
    const char *asking[] = {"15551234567@c.us", "123456789012345@lid"};
    iq = wa_group_requests_action("120363000000000001@g.us", false, asking, 2);
    const wa_node_t *rej =
        wa_node_find(iq, "membership_requests_action/reject");
    assert(rej && wa_node_child_count(rej) == 2 &&
           wa_node_attr_eq(wa_node_child_at(rej, 0), "jid",
                           "15551234567@s.whatsapp.net") &&
           wa_node_attr_eq(wa_node_child_at(rej, 1), "jid",
                           "123456789012345@lid"));
    wa_node_destroy(&iq);
    assert(
        !wa_group_requests_action("120363000000000001@g.us", true, asking, 0));
    const char *not_people[] = {"120363000000000002@g.us"};
    assert(!wa_group_requests_action("120363000000000001@g.us", true,
                                     not_people, 1));
    wa_node_t *list = wa_node_new_from_text(
        "<iq type=\"result\"><membership_approval_requests>"
        "<membership_approval_request jid=\"123456789012345@lid\" "
        "phone_number=\"15551234567@s.whatsapp.net\" "
        "request_time=\"1700000000\" "
        "request_method=\"invite_link\"/>"
        "<membership_approval_request jid=\"x@g.us\"/>"
        "<membership_approval_request jid=\"15557654321@s.whatsapp.net\"/>"
        "</membership_approval_requests></iq>",
        NULL);
    size_t nreq = 0;
    wa_group_request_t *reqs = wa_group_requests_parse(list, &nreq);
    assert(nreq == 2 && cm_streq(reqs[0].jid, "123456789012345@lid") &&
           cm_streq(reqs[0].pn, "15551234567@s.whatsapp.net") &&
           reqs[0].time == 1700000000 &&
           cm_streq(reqs[0].method, "invite_link"));
    assert(cm_streq(reqs[1].jid, "15557654321@s.whatsapp.net") && !reqs[1].pn &&
           reqs[1].time == 0 && !reqs[1].method);
    wa_group_requests_free(&reqs, nreq);
    assert(!reqs);
    wa_node_destroy(&list);
    list = wa_node_new_from_text(
        "<iq type=\"result\"><membership_approval_requests/></iq>", NULL);
    assert(!wa_group_requests_parse(list, &nreq) && nreq == 0);
    wa_node_destroy(&list);

    //  Picture: a JPEG, or none to remove it
    const uint8_t jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3};
    iq = wa_group_set_picture("120363000000000001@g.us", jpeg, sizeof jpeg);
    assert(iq && wa_node_attr_eq(iq, "xmlns", "w:profile:picture") &&
           wa_node_attr_eq(iq, "target", "120363000000000001@g.us") &&
           wa_node_attr_eq(iq, "to", "s.whatsapp.net"));
    size_t pic_len = 0;
    wa_node_t *pic = wa_node_child(iq, "picture");
    assert(pic && wa_node_attr_eq(pic, "type", "image") &&
           wa_node_bytes(pic, &pic_len) && pic_len == sizeof jpeg);
    wa_node_destroy(&iq);
    iq = wa_group_set_picture("120363000000000001@g.us", NULL, 0);
    assert(iq && wa_node_child_count(iq) == 0);
    wa_node_destroy(&iq);
    const uint8_t png[] = {0x89, 'P', 'N', 'G', 0x0D};
    assert(!wa_group_set_picture("120363000000000001@g.us", png, sizeof png));
    assert(!wa_group_set_picture("x", jpeg, sizeof jpeg));
    reply = wa_node_new_from_text(
        "<iq type=\"result\"><picture id=\"1700000001\"/></iq>", NULL);
    assert(strcmp(wa_group_picture_id(reply), "1700000001") == 0);
    wa_node_destroy(&reply);

    //  Description version, member add mode, approval
    reply = wa_node_new_from_text(
        "<iq type=\"result\"><group id=\"120363000000000001\">"
        "<description id=\"D9\"><body>x</body></description>"
        "<member_add_mode>admin_add</member_add_mode>"
        "<membership_approval_mode><group_join state=\"on\"/>"
        "</membership_approval_mode></group></iq>",
        NULL);
    g = wa_group_parse(NULL, reply);
    assert(strcmp(wa_group_description_id(g), "D9") == 0);
    assert(!wa_group_members_add(g) && wa_group_approval(g));
    wa_group_destroy(&g);
    wa_node_destroy(&reply);
    reply = wa_node_new_from_text(
        "<iq type=\"result\"><group id=\"120363000000000001\"/></iq>", NULL);
    g = wa_group_parse(NULL, reply);
    assert(!wa_group_description_id(g));
    assert(wa_group_members_add(g) && !wa_group_approval(g));
    wa_group_destroy(&g);
    wa_node_destroy(&reply);
    printf("OK\n");
}
