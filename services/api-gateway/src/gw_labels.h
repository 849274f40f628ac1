/*  gw_labels - WhatsApp Business labels (api-surface §5.4)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Routes (GW_LABELS_ROUTES):
      GET    /api/{session}/labels                  label.list (store)
      POST   /api/{session}/labels {name, color?|colorHex?}   label.upsert
      PUT    /api/{session}/labels/{labelId} {name, color?|colorHex?}
      DELETE /api/{session}/labels/{labelId}        label.delete
      GET    /api/{session}/labels/chats/{chatId}   chat.labels (store)
      PUT    /api/{session}/labels/chats/{chatId} {labels: [{id}]}
                                   label.chat for each label added/removed
      GET    /api/{session}/labels/{labelId}/chats  label.chats + chat.list
    Each also as Wawp's /v2/labels/… with ?instance_id= (the same handler).
    A label is {id, name, color (0..19), colorHex}. Changes are app-state
    patches the session uploads (session-worker, sw_waappstate): the
    phone and the other devices see them; what they change comes back as
    label.upsert / label.deleted / label.chat.added / label.chat.deleted
    events. New labels get the next free id. Unknown label: 404; name
    over GW_LABELS_NAME_MAX bytes or an unknown color: 400.
*/
#ifndef GW_LABELS_H_INCLUDED
#define GW_LABELS_H_INCLUDED

#include <jansson.h>
#include <stdbool.h>

#include "gw_req.h"

//  Longest label name (bytes), as the WhatsApp Business app allows.
#define GW_LABELS_NAME_MAX 100
//  Most labels in one PUT …/labels/chats/{chatId}.
#define GW_LABELS_SET_MAX 20
//  Longest wait for the worker (a fetch and an upload).
#define GW_LABELS_TIMEOUT_MS 20000

void gw_labels_list(gw_req_t *req);
void gw_labels_create(gw_req_t *req);
void gw_labels_update(gw_req_t *req);
void gw_labels_delete(gw_req_t *req);
void gw_labels_of_chat(gw_req_t *req);
void gw_labels_set_chat(gw_req_t *req);
void gw_labels_chats(gw_req_t *req);

//  OpenAPI schemas. Caller owns return value.
json_t *gw_labels_schemas(void);

#define GW_LABELS_TAG "🏷️ Labels"
#define GW_LABELS_ROW(m, p, fn, st, op, sum, rq, rs)                           \
    {                                                                          \
        m, p, fn, GW_AUTH_ADMIN, st, GW_LABELS_TAG, op, sum, rq, rs, NULL,     \
            false                                                              \
    }

//  The Wawp /v2 form of a label route: the same handler, the session
//  named by instance_id.
#define GW_LABELS_WAWP(m, p, fn, st, op, sum, rq, rs)                          \
    {                                                                          \
        m, p, fn, GW_AUTH_INSTANCE, st, GW_LABELS_TAG, op, sum, rq, rs,        \
            "instance_id|string|Instance id", false                            \
    }

#define GW_LABELS_ROUTES                                                       \
    GW_LABELS_ROW("GET", "/api/{session}/labels", gw_labels_list, 200,         \
                  "labelsGetAll", "Get all labels", NULL, "LabelList"),        \
        GW_LABELS_ROW("POST", "/api/{session}/labels", gw_labels_create, 201,  \
                      "labelsCreate", "Create a label", "LabelBody", "Label"), \
        GW_LABELS_ROW("GET", "/api/{session}/labels/chats/{chatId}",           \
                      gw_labels_of_chat, 200, "labelsGetChatLabels",           \
                      "Labels of a chat", NULL, "LabelList"),                  \
        GW_LABELS_ROW("PUT", "/api/{session}/labels/chats/{chatId}",           \
                      gw_labels_set_chat, 200, "labelsPutChatLabels",          \
                      "Set the labels of a chat", "SetLabelsRequest",          \
                      "LabelList"),                                            \
        GW_LABELS_ROW("PUT", "/api/{session}/labels/{labelId}",                \
                      gw_labels_update, 200, "labelsUpdate", "Update a label", \
                      "LabelBody", "Label"),                                   \
        GW_LABELS_ROW("DELETE", "/api/{session}/labels/{labelId}",             \
                      gw_labels_delete, 200, "labelsDelete", "Delete a label", \
                      NULL, "Label"),                                          \
        GW_LABELS_ROW("GET", "/api/{session}/labels/{labelId}/chats",          \
                      gw_labels_chats, 200, "labelsGetChatsByLabel",           \
                      "Chats with a label", NULL, "ChatList"),                 \
        GW_LABELS_WAWP("GET", "/v2/labels", gw_labels_list, 200,               \
                       "wawpLabelsGetAll", "Get all labels (Wawp)", NULL,      \
                       "LabelList"),                                           \
        GW_LABELS_WAWP("POST", "/v2/labels", gw_labels_create, 201,            \
                       "wawpLabelsCreate", "Create a label (Wawp)",            \
                       "LabelBody", "Label"),                                  \
        GW_LABELS_WAWP("GET", "/v2/labels/chats/{chatId}", gw_labels_of_chat,  \
                       200, "wawpLabelsGetChatLabels",                         \
                       "Labels of a chat (Wawp)", NULL, "LabelList"),          \
        GW_LABELS_WAWP("PUT", "/v2/labels/chats/{chatId}", gw_labels_set_chat, \
                       200, "wawpLabelsPutChatLabels",                         \
                       "Set the labels of a chat (Wawp)", "SetLabelsRequest",  \
                       "LabelList"),                                           \
        GW_LABELS_WAWP("PUT", "/v2/labels/{labelId}", gw_labels_update, 200,   \
                       "wawpLabelsUpdate", "Update a label (Wawp)",            \
                       "LabelBody", "Label"),                                  \
        GW_LABELS_WAWP("DELETE", "/v2/labels/{labelId}", gw_labels_delete,     \
                       200, "wawpLabelsDelete", "Delete a label (Wawp)", NULL, \
                       "Label"),                                               \
        GW_LABELS_WAWP("GET", "/v2/labels/{labelId}/chats", gw_labels_chats,   \
                       200, "wawpLabelsGetChatsByLabel",                       \
                       "Chats with a label (Wawp)", NULL, "ChatList"),

void gw_labels_test(bool verbose);

#endif
