/*  gw_swagger - Swagger UI and the OpenAPI document at WAHA's paths

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

void
gw_swagger_index(gw_req_t *req)
{
    gw_static_serve(req, "docs", "index.html");
}

void
gw_swagger_file(gw_req_t *req)
{
    const char *name = gw_req_param(req, "file");
    //  Swagger UI's own files, then ours (swagger-init.js)
    size_t len = 0;
    char *data = gw_static_read(gw_config_www_dir(gw_req_config(req)),
                                "swagger-ui", name, &len);
    if (data) {
        gw_req_reply_bytes(req, 200, gw_static_type(name), data, len);
        gw_req_add_response_header(req, "Cache-Control", "max-age=3600");
        free(data);
        return;
    }
    gw_static_serve(req, "docs", name);
}

//  Examples by operationId: the request body and the success response.
//  Shapes as the handlers answer them (tests check them field by field).
static const char *const s_examples[][3] = {
    {"ping", NULL, "{\"message\":\"pong\"}"},
    {"health", NULL,
     "{\"status\":\"ok\",\"store\":{\"status\":\"ok\",\"service\":"
     "\"store-service\",\"version\":\"" WHARF_VERSION "\"},\"workers\":1,"
     "\"info\":{\"store\":{\"status\":\"up\"},\"workers\":{\"status\":"
     "\"up\",\"count\":1}},\"error\":{},\"details\":{\"store\":"
     "{\"status\":\"up\"},\"workers\":{\"status\":\"up\",\"count\":1}}}"},
    {"sessionsList", NULL,
     "[{\"name\":\"default\",\"status\":\"WORKING\",\"config\":{\"webhooks\":"
     "[]},\"me\":{\"id\":\"11111111111@c.us\",\"pushName\":\"Alice\"}}]"},
    {"sessionsCreate",
     "{\"name\":\"default\",\"start\":true,\"config\":{\"metadata\":"
     "{\"user.id\":\"123\"},\"webhooks\":[{\"url\":"
     "\"https://example.com/webhook\",\"events\":[\"message\","
     "\"session.status\"],\"retries\":{\"policy\":\"exponential\","
     "\"delaySeconds\":2,\"attempts\":15}}]}}",
     "{\"name\":\"default\",\"status\":\"STARTING\",\"config\":{\"metadata\":"
     "{\"user.id\":\"123\"},\"webhooks\":[{\"url\":"
     "\"https://example.com/webhook\",\"events\":[\"message\","
     "\"session.status\"]}]},\"me\":null}"},
    {"sessionsGet", NULL,
     "{\"name\":\"default\",\"status\":\"SCAN_QR_CODE\",\"config\":"
     "{\"webhooks\":[]},\"me\":null}"},
    {"sessionsStart", NULL,
     "{\"name\":\"default\",\"status\":\"STARTING\",\"config\":{},"
     "\"me\":null}"},
    {"sessionsStop", NULL,
     "{\"name\":\"default\",\"status\":\"STOPPED\",\"config\":{},"
     "\"me\":null}"},
    {"sessionsGetMe", NULL,
     "{\"id\":\"11111111111@c.us\",\"pushName\":\"Alice\"}"},
    {"authQr", NULL, "{\"value\":\"2@AbCdEf...,...,...,...\"}"},
    {"authRequestCode", "{\"phoneNumber\":\"12132132130\"}",
     "{\"code\":\"ABCD-ABCD\"}"},
    {"sendText",
     "{\"session\":\"default\",\"chatId\":\"12132132130@c.us\",\"text\":"
     "\"Hi there!\"}",
     "{\"id\":\"true_12132132130@c.us_3EB0C767D26A1D8B4F2E\",\"timestamp\":"
     "1733486400,\"from\":\"11111111111@c.us\",\"fromMe\":true,\"to\":"
     "\"12132132130@c.us\",\"body\":\"Hi there!\",\"hasMedia\":false,"
     "\"ack\":1,\"ackName\":\"SERVER\"}"},
    {"sendSeen", "{\"session\":\"default\",\"chatId\":\"12132132130@c.us\"}",
     NULL},
    {"serverVersion", NULL,
     "{\"version\":\"" WHARF_VERSION "\",\"engine\":\"NOWEB\",\"tier\":"
     "\"CORE\",\"browser\":\"Wharf/" WHARF_VERSION "\",\"platform\":"
     "\"linux/x64\",\"worker\":{\"id\":null}}"},
    {"wawpSendText",
     "{\"instance_id\":\"609ACF283B1C\",\"access_token\":\"<token>\","
     "\"chatId\":\"12132132130@c.us\",\"message\":\"Hi there!\"}",
     NULL},
    {NULL, NULL, NULL}};

//  Set `example` on the application/json media type under `node`.
static void
s_set_example(json_t *node, const char *text)
{
    json_t *media =
        json_object_get(json_object_get(node, "content"), "application/json");
    if (!media || !text) {
        return;
    }
    json_t *value = json_loads(text, JSON_DECODE_ANY, NULL);
    //  Our own static text: a parse failure is a bug.
    assert(value);
    json_object_set_new(media, "example", value);
}

void
gw_swagger_examples(json_t *doc)
{
    json_t *paths = json_object_get(doc, "paths");
    const char *path;
    json_t *item;
    json_object_foreach(paths, path, item)
    {
        const char *method;
        json_t *op;
        json_object_foreach(item, method, op)
        {
            const char *id =
                json_string_value(json_object_get(op, "operationId"));
            for (size_t i = 0; id && s_examples[i][0]; i++) {
                if (!streq(id, s_examples[i][0])) {
                    continue;
                }
                s_set_example(json_object_get(op, "requestBody"),
                              s_examples[i][1]);
                //  The success response: the first 2xx
                const char *code;
                json_t *resp;
                json_object_foreach(json_object_get(op, "responses"), code,
                                    resp)
                {
                    if (code[0] == '2') {
                        s_set_example(resp, s_examples[i][2]);
                        break;
                    }
                }
            }
        }
    }
}

json_t *
gw_swagger_schemas(void)
{
    json_t *schemas = json_loads(
        "{\"HtmlPage\":{\"type\":\"string\",\"description\":\"An HTML page\","
        "\"x-media-type\":\"text/html\"},"
        "\"StaticFile\":{\"type\":\"string\",\"format\":\"binary\","
        "\"description\":\"A static file; its Content-Type follows its "
        "extension\",\"x-media-type\":\"application/octet-stream\"},"
        "\"OpenApiDocument\":{\"type\":\"object\",\"description\":\"An "
        "OpenAPI 3.0 document\",\"required\":[\"openapi\",\"info\","
        "\"paths\"],\"properties\":{\"openapi\":{\"type\":\"string\"},"
        "\"info\":{\"type\":\"object\"},\"paths\":{\"type\":\"object\"},"
        "\"components\":{\"type\":\"object\"}}}}",
        0, NULL);
    assert(schemas);
    return schemas;
}

void
gw_swagger_test(bool verbose)
{
    printf(" * gw_swagger: ");
    //  Every example parses and lands on an operation of the document.
    json_t *doc = gw_api_openapi(NULL);
    size_t found = 0;
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(doc, "paths"), path, item)
    {
        const char *method;
        json_t *op;
        json_object_foreach(item, method, op)
        {
            json_t *ok =
                json_object_get(json_object_get(op, "responses"), "200");
            if (!ok) {
                ok = json_object_get(json_object_get(op, "responses"), "201");
            }
            json_t *media = json_object_get(json_object_get(ok, "content"),
                                            "application/json");
            found += json_object_get(media, "example") != NULL;
        }
    }
    assert(found >= 10);
    json_t *create = json_object_get(
        json_object_get(json_object_get(doc, "paths"), "/api/sessions"),
        "post");
    json_t *req_media = json_object_get(
        json_object_get(json_object_get(create, "requestBody"), "content"),
        "application/json");
    assert(streq(json_string_value(json_object_get(
                     json_object_get(req_media, "example"), "name")),
                 "default"));
    //  The UI page is text/html in the document
    json_t *root = json_object_get(
        json_object_get(json_object_get(doc, "paths"), "/"), "get");
    json_t *content = json_object_get(
        json_object_get(json_object_get(root, "responses"), "200"), "content");
    assert(json_object_get(content, "text/html"));
    assert(!json_object_get(content, "application/json"));
    json_decref(doc);

    //  Without GATEWAY_WWW_DIR files: 404 in the error shape, no crash
    gw_req_t *req = gw_req_new("GET", "/swagger-ui/..");
    gw_req_params(req);
    json_object_set_new(gw_req_params(req), "file", json_string(".."));
    gw_swagger_file(req);
    assert(gw_req_status(req) == 404);
    gw_req_destroy(&req);
    printf("OK\n");
}
