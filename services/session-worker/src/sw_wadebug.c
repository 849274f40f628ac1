/*  sw_wadebug - the engine.event feed: raw stanzas for debugging

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sw_classes.h"

bool
sw_wadebug_wanted(json_t *config)
{
    json_t *hooks = json_object_get(config, "webhooks");
    size_t i;
    json_t *hook;
    json_array_foreach(hooks, i, hook)
    {
        json_t *events = json_object_get(hook, "events");
        size_t j;
        json_t *e;
        json_array_foreach(events, j, e)
        {
            if (cm_streq(json_string_value(e), "engine.event")) {
                return true;
            }
        }
    }
    return false;
}

static json_t *
s_attr(const wa_node_t *node, const char *key)
{
    const char *v = wa_node_attr(node, key);
    return v ? json_string(v) : json_null();
}

void
sw_wadebug_stanza(sw_wasess_t *sess, bool in, const wa_node_t *node)
{
    char *text = wa_node_text(node, SW_WADEBUG_NODE_MAX);
    json_t *data =
        json_pack("{s:s, s:o, s:o, s:o, s:o, s:s}", "tag", wa_node_tag(node),
                  "id", s_attr(node, "id"), "type", s_attr(node, "type"),
                  "from", s_attr(node, "from"), "to", s_attr(node, "to"),
                  "node", text ? text : "");
    free(text);
    if (!data) {
        return; //  not valid UTF-8 (a tag or attribute of raw bytes)
    }
    json_t *payload = json_pack("{s:s, s:o}", "event",
                                in ? "stanza.in" : "stanza.out", "data", data);
    sw_session_emit(sw_wasess_session(sess), "engine.event", &payload);
}

//  --------------------------------------------------------------------

static const sw_wacmd_t t_table[] = {
    SW_WACMD(NULL, SW_WACMD_ANY, SW_WACMD_NOW, NULL)};

void
sw_wadebug_test(bool verbose)
{
    printf(" * sw_wadebug: ");
    cm_log_init(NULL, verbose ? "debug" : "error");
    json_t *config = json_loads(
        "{\"webhooks\":[{\"url\":\"http://x\",\"events\":[\"*\"]}]}", 0, NULL);
    assert(!sw_wadebug_wanted(config));
    json_decref(config);
    config = json_loads("{\"webhooks\":[{\"url\":\"http://x\",\"events\":"
                        "[\"message\"]},{\"url\":\"http://y\",\"events\":"
                        "[\"engine.event\"]}]}",
                        0, NULL);
    assert(sw_wadebug_wanted(config));
    json_decref(config);
    assert(!sw_wadebug_wanted(NULL));
    config = json_loads("{\"webhooks\":{}}", 0, NULL);
    assert(!sw_wadebug_wanted(config));
    json_decref(config);

    sw_wasess_rig_t *rig = sw_wasess_rig_new(t_table, 1000);
    sw_wasess_t *sess = sw_wasess_rig_sess(rig);
    sw_session_t *session = sw_wasess_session(sess);
    size_t queued = sw_session_queued(session);
    wa_node_t *node = wa_node_new_from_text(
        "<presence from=\"15550002222@s.whatsapp.net\" type=\"unavailable\"/>",
        NULL);
    assert(node);
    sw_wadebug_stanza(sess, true, node);
    wa_node_destroy(&node);
    assert(sw_session_queued(session) == queued + 1);
    sw_wasess_rig_destroy(&rig);
    cm_log_init(NULL, "info");
    printf("OK\n");
}
