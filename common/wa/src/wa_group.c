/*  wa_group - group metadata: the query and its participants

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
    char *jid;           //  group JID
    char *subject;       //  subject or ""
    bool lid;            //  addressing_mode="lid"
    char **participants; //  user JIDs
    size_t count;        //  number of participants
};

wa_node_t *
wa_group_query(const char *group)
{
    wa_jid_t *jid = group ? wa_jid_new_from(group) : NULL;
    if (!jid || !wa_jid_is_group(jid) || wa_jid_is_server(jid)) {
        wa_jid_destroy(&jid);
        return NULL;
    }
    wa_node_t *iq = wa_node_new("iq");
    wa_node_set_attr(iq, "xmlns", "w:g2");
    wa_node_set_attr(iq, "type", "get");
    wa_node_set_attr(iq, "to", wa_jid_str(jid));
    wa_node_set_attr(wa_node_add(iq, "query"), "request", "interactive");
    wa_jid_destroy(&jid);
    return iq;
}

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

wa_group_t *
wa_group_parse(const char *group, const wa_node_t *reply)
{
    const wa_node_t *g = reply ? wa_node_child(reply, "group") : NULL;
    if (!g || !group || !wa_node_attr_eq(reply, "type", "result")) {
        return NULL;
    }
    wa_group_t *self = cm_alloc(sizeof *self);
    self->jid = cm_strdup(group);
    self->subject = cm_strdup(wa_node_attr_or(g, "subject", ""));
    self->lid = wa_node_attr_eq(g, "addressing_mode", "lid");
    size_t cap = wa_node_child_count(g);
    if (cap > WA_GROUP_MAX_PARTICIPANTS) {
        cap = WA_GROUP_MAX_PARTICIPANTS;
    }
    self->participants = cm_alloc((cap ? cap : 1) * sizeof(char *));
    const wa_node_t *p = NULL;
    while ((p = wa_node_child_next(g, "participant", p)) && self->count < cap) {
        char *user = s_user(wa_node_attr(p, "jid"));
        if (user && !wa_group_has(self, user)) {
            self->participants[self->count++] = user;
        } else {
            free(user);
        }
    }
    return self;
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
    }
    free(self->participants);
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
    printf("OK\n");
}
