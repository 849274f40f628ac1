/*  gw_static - static files the gateway serves (Swagger UI, dashboard)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "gw_classes.h"

#include <fcntl.h>
#include <sys/stat.h>

bool
gw_static_name_ok(const char *name)
{
    if (!name || !*name || *name == '.' || strlen(name) > 128) {
        return false;
    }
    for (const char *p = name; *p; p++) {
        if (!isalnum((unsigned char)*p) && !strchr(".-_", *p)) {
            return false;
        }
    }
    return true;
}

const char *
gw_static_type(const char *name)
{
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".json", "application/json; charset=utf-8"},
        {".map", "application/json; charset=utf-8"},
        {".png", "image/png"},
        {".svg", "image/svg+xml"},
        {".ico", "image/x-icon"},
        {NULL, NULL}};
    const char *dot = name ? strrchr(name, '.') : NULL;
    for (size_t i = 0; dot && types[i][0]; i++) {
        if (streq(dot, types[i][0])) {
            return types[i][1];
        }
    }
    return "application/octet-stream";
}

char *
gw_static_read(const char *www, const char *folder, const char *name,
               size_t *len_p)
{
    assert(www && folder && len_p);
    if (!gw_static_name_ok(name) || !gw_static_name_ok(folder)) {
        return NULL;
    }
    char *path = cm_sprintf("%s/%s/%s", www, folder, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    if (fd < 0) {
        return NULL;
    }
    struct stat st;
    char *data = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
        st.st_size <= GW_STATIC_MAX) {
        size_t size = (size_t)st.st_size;
        data = cm_alloc(size + 1);
        size_t got = 0;
        while (got < size) {
            ssize_t n = read(fd, data + got, size - got);
            if (n <= 0) {
                break;
            }
            got += (size_t)n;
        }
        if (got == size) {
            data[size] = 0;
            *len_p = size;
        } else {
            free(data);
            data = NULL;
        }
    }
    close(fd);
    return data;
}

void
gw_static_serve(gw_req_t *req, const char *folder, const char *name)
{
    size_t len = 0;
    char *data = gw_static_read(gw_config_www_dir(gw_req_config(req)), folder,
                                name, &len);
    if (!data) {
        gw_req_fail(req, 404, "not_found", "No such file: %s",
                    gw_req_path(req));
        return;
    }
    gw_req_reply_bytes(req, 200, gw_static_type(name), data, len);
    gw_req_add_response_header(req, "Cache-Control", "no-cache");
    gw_req_add_response_header(req, "X-Content-Type-Options", "nosniff");
    free(data);
}

void
gw_static_test(bool verbose)
{
    printf(" * gw_static: ");
    assert(gw_static_name_ok("swagger-ui.css"));
    assert(gw_static_name_ok("dashboard_v2.js"));
    assert(!gw_static_name_ok(".."));
    assert(!gw_static_name_ok(".hidden"));
    assert(!gw_static_name_ok("a/b"));
    assert(!gw_static_name_ok("a%2fb"));
    assert(!gw_static_name_ok(""));
    assert(!gw_static_name_ok(NULL));
    assert(streq(gw_static_type("a.js"), "text/javascript; charset=utf-8"));
    assert(streq(gw_static_type("a.png"), "image/png"));
    assert(streq(gw_static_type("noext"), "application/octet-stream"));

    //  A file in a folder is read; names outside it are refused.
    char dir[] = "/tmp/gw_static_XXXXXX";
    assert(mkdtemp(dir));
    char *sub = cm_sprintf("%s/docs", dir);
    assert(mkdir(sub, 0700) == 0);
    char *file = cm_sprintf("%s/index.html", sub);
    FILE *f = fopen(file, "w");
    assert(f);
    fputs("<p>hi</p>", f);
    fclose(f);
    size_t len = 0;
    char *data = gw_static_read(dir, "docs", "index.html", &len);
    assert(data && len == 9 && streq(data, "<p>hi</p>"));
    free(data);
    assert(!gw_static_read(dir, "docs", "..", &len));
    assert(!gw_static_read(dir, "..", "docs", &len));
    assert(!gw_static_read(dir, "docs", "missing.js", &len));
    //  A folder is not a file
    assert(!gw_static_read(dir, "docs", "..", &len));
    unlink(file);
    rmdir(sub);
    rmdir(dir);
    free(file);
    free(sub);

    //  Served with its type, or 404 in the error shape
    gw_req_t *req = gw_req_new("GET", "/dashboard/nothing.js");
    gw_static_serve(req, "dashboard", "nothing.js");
    assert(gw_req_status(req) == 404);
    gw_req_destroy(&req);
    printf("OK\n");
}
