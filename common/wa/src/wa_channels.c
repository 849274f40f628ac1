/*  wa_channels - channels (newsletters): the w:mex queries and the
    newsletter IQs

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"
#include "wa/wa_channels.h"

wa_node_t *
wa_channels_mex(const char *query_id, json_t **variables_p)
{
    assert(query_id && variables_p);
    json_t *doc = json_pack("{s:o}", "variables",
                            *variables_p ? *variables_p : json_object());
    *variables_p = NULL;
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    wa_node_t *iq = wa_node_new("iq");
    wa_node_set_attr(iq, "xmlns", "w:mex");
    wa_node_set_attr(iq, "type", "get");
    wa_node_set_attr(iq, "to", "s.whatsapp.net");
    wa_node_t *q = wa_node_add(iq, "query");
    wa_node_set_attr(q, "query_id", query_id);
    wa_node_set_bytes(q, text, strlen(text));
    free(text);
    return iq;
}

json_t *
wa_channels_mex_data(const wa_node_t *reply, const char *path, int *error_p,
                     char **message_p)
{
    assert(path && error_p);
    *error_p = 502;
    if (message_p) {
        *message_p = NULL;
    }
    const wa_node_t *result = reply ? wa_node_child(reply, "result") : NULL;
    size_t len = 0;
    const uint8_t *bytes = result ? wa_node_bytes(result, &len) : NULL;
    if (!bytes || !len || len > WA_CHANNELS_RESULT_MAX ||
        wa_node_attr_eq(result, "format", "argo")) {
        return NULL;
    }
    json_t *doc = json_loadb((const char *)bytes, len, 0, NULL);
    json_t *errors = json_object_get(doc, "errors");
    json_t *first = json_array_get(errors, 0);
    json_t *data = json_object_get(json_object_get(doc, "data"), path);
    json_t *out = NULL;
    if (first) {
        json_t *code =
            json_object_get(json_object_get(first, "extensions"), "error_code");
        *error_p = json_is_integer(code) && json_integer_value(code) >= 400 &&
                           json_integer_value(code) < 600
                       ? (int)json_integer_value(code)
                       : 502;
        const char *msg = json_string_value(json_object_get(first, "message"));
        if (message_p && msg) {
            *message_p = cm_strndup(msg, strnlen(msg, 256));
        }
    } else if (json_is_null(data)) {
        *error_p = 404;
    } else if (data) {
        out = json_incref(data);
        *error_p = 0;
    }
    json_decref(doc);
    return out;
}

wa_node_t *
wa_channels_posts_iq(const char *key, bool invite, int count)
{
    if (!key || !*key || strlen(key) > 128 || count < 1 ||
        count > WA_CHANNELS_POSTS_MAX) {
        return NULL;
    }
    wa_node_t *iq = wa_node_new("iq");
    wa_node_set_attr(iq, "xmlns", "newsletter");
    wa_node_set_attr(iq, "type", "get");
    wa_node_set_attr(iq, "to", "s.whatsapp.net");
    wa_node_t *m = wa_node_add(iq, "messages");
    wa_node_set_attr(m, "type", invite ? "invite" : "jid");
    wa_node_set_attr(m, invite ? "key" : "jid", key);
    wa_node_set_attr_int(m, "count", count);
    return iq;
}

int
wa_channels_posts(const wa_node_t *reply, wa_channels_post_fn *fn, void *arg)
{
    const wa_node_t *msgs = reply ? wa_node_child(reply, "messages") : NULL;
    if (!msgs) {
        return -1;
    }
    int n = 0;
    for (const wa_node_t *m = wa_node_child_next(msgs, "message", NULL); m;
         m = wa_node_child_next(msgs, "message", m)) {
        wa_channels_post_t post = {0};
        post.server_id = wa_node_attr_int_or(m, "server_id", 0);
        post.id = wa_node_attr(m, "id");
        post.t = wa_node_attr_int_or(m, "t", 0);
        if (!post.id || post.server_id <= 0) {
            continue; //  not a post we can name
        }
        const wa_node_t *pt = wa_node_child(m, "plaintext");
        post.plain = pt ? wa_node_bytes(pt, &post.len) : NULL;
        const wa_node_t *views = wa_node_child(m, "views_count");
        post.views = views ? wa_node_attr_int_or(views, "count", 0) : 0;
        post.reactions = json_object();
        const wa_node_t *rs = wa_node_child(m, "reactions");
        for (const wa_node_t *r = rs ? wa_node_child_next(rs, "reaction", NULL)
                                     : NULL;
             r; r = wa_node_child_next(rs, "reaction", r)) {
            const char *code = wa_node_attr(r, "code");
            int64_t count = wa_node_attr_int_or(r, "count", 0);
            if (code && *code && strlen(code) <= 32 && count > 0) {
                json_object_set_new(post.reactions, code,
                                    json_integer((json_int_t)count));
            }
        }
        fn(arg, &post);
        json_decref(post.reactions);
        n++;
    }
    return n;
}

//  --------------------------------------------------------------------
//  Self test

static void
t_post(void *arg, const wa_channels_post_t *post)
{
    int *seen = (int *)arg;
    if (*seen == 0) {
        assert(post->server_id == 100 && cm_streq(post->id, "A1"));
        assert(post->t == 1700000000 && post->len == 3);
        assert(post->views == 7);
        assert(json_integer_value(json_object_get(post->reactions, "👍")) == 2);
    } else {
        assert(post->server_id == 101 && !post->plain && post->views == 0);
        assert(json_object_size(post->reactions) == 0);
    }
    (*seen)++;
}

static json_t *
t_data(const char *result, const char *path, int *error_p)
{
    wa_node_t *reply = wa_node_new("iq");
    wa_node_t *r = wa_node_add(reply, "result");
    wa_node_set_bytes(r, result, strlen(result));
    json_t *data = wa_channels_mex_data(reply, path, error_p, NULL);
    wa_node_destroy(&reply);
    return data;
}

void
wa_channels_test(bool verbose)
{
    printf(" * wa_channels: ");
    (void)verbose;
    json_t *vars = json_pack("{s:s}", "newsletter_id", "1@newsletter");
    wa_node_t *iq = wa_channels_mex(WA_CHANNELS_Q_FOLLOW, &vars);
    assert(!vars);
    assert(wa_node_attr_eq(iq, "xmlns", "w:mex"));
    assert(wa_node_attr_eq(iq, "type", "get"));
    const wa_node_t *q = wa_node_child(iq, "query");
    assert(wa_node_attr_eq(q, "query_id", WA_CHANNELS_Q_FOLLOW));
    size_t len = 0;
    const uint8_t *body = wa_node_bytes(q, &len);
    json_t *doc = json_loadb((const char *)body, len, 0, NULL);
    assert(cm_streq(json_string_value(json_object_get(
                        json_object_get(doc, "variables"), "newsletter_id")),
                    "1@newsletter"));
    json_decref(doc);
    wa_node_destroy(&iq);

    //  Data, GraphQL errors, null data, garbage
    int error = 0;
    json_t *data = t_data("{\"data\":{\"xwa2_newsletter\":{\"id\":\"1@n\"}}}",
                          "xwa2_newsletter", &error);
    assert(data && error == 0);
    json_decref(data);
    data = t_data("{\"data\":null,\"errors\":[{\"message\":\"Not found\","
                  "\"extensions\":{\"error_code\":404}}]}",
                  "xwa2_newsletter", &error);
    assert(!data && error == 404);
    data = t_data("{\"data\":{\"xwa2_newsletter\":null}}", "xwa2_newsletter",
                  &error);
    assert(!data && error == 404);
    data = t_data("not json", "xwa2_newsletter", &error);
    assert(!data && error == 502);
    assert(!wa_channels_mex_data(NULL, "x", &error, NULL) && error == 502);

    //  Posts
    assert(!wa_channels_posts_iq("1@newsletter", false, 0));
    assert(!wa_channels_posts_iq(NULL, false, 10));
    iq = wa_channels_posts_iq("0029VaXYZ", true, 5);
    const wa_node_t *m = wa_node_child(iq, "messages");
    assert(wa_node_attr_eq(m, "type", "invite"));
    assert(wa_node_attr_eq(m, "key", "0029VaXYZ"));
    assert(wa_node_attr_eq(m, "count", "5"));
    wa_node_destroy(&iq);
    wa_node_t *reply = wa_node_new_from_text(
        "<iq><messages jid=\"1@newsletter\"><message id=\"A1\" "
        "server_id=\"100\" t=\"1700000000\" type=\"text\"><plaintext>"
        "0x0a0178</plaintext><views_count count=\"7\"/><reactions>"
        "<reaction code=\"👍\" count=\"2\"/></reactions></message>"
        "<message id=\"A2\" server_id=\"101\" t=\"1700000001\"/>"
        "<message server_id=\"102\"/></messages></iq>",
        NULL);
    assert(reply);
    int seen = 0;
    assert(wa_channels_posts(reply, t_post, &seen) == 2 && seen == 2);
    wa_node_destroy(&reply);
    reply = wa_node_new("iq");
    assert(wa_channels_posts(reply, t_post, &seen) == -1);
    wa_node_destroy(&reply);
    printf("OK\n");
}
