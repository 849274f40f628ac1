/*  cm_waha - the values Wharf reports where WAHA reports its own identity

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "cm_classes.h"

#include <pthread.h>
#include <sys/utsname.h>

bool
cm_waha_engine_valid(const char *engine)
{
    if (!engine || !*engine || strchr(engine, '|')) {
        return false;
    }
    const char *all = "|" CM_WAHA_ENGINES "|";
    char want[16];
    int n = snprintf(want, sizeof want, "|%s|", engine);
    return n > 0 && (size_t)n < sizeof want && strstr(all, want) != NULL;
}

//  The platform, known once per process (the store builds an
//  environment for every event it writes; uname is a system call).
static char s_platform[2 * _UTSNAME_LENGTH + 2];
static pthread_once_t s_platform_once = PTHREAD_ONCE_INIT;

static void
s_platform_init(void)
{
    struct utsname u;
    const char *arch = "unknown";
    const char *os = "linux";
    if (uname(&u) == 0) {
        arch = u.machine;
        if (cm_streq(u.machine, "x86_64")) {
            arch = "x64";
        } else if (cm_streq(u.machine, "aarch64")) {
            arch = "arm64";
        } else if (cm_streq(u.machine, "i686") || cm_streq(u.machine, "i386")) {
            arch = "ia32";
        }
        if (!cm_streq(u.sysname, "Linux")) {
            os = u.sysname;
        }
    }
    snprintf(s_platform, sizeof s_platform, "%s/%s", os, arch);
}

void
cm_waha_platform(char *out, size_t size)
{
    pthread_once(&s_platform_once, s_platform_init);
    snprintf(out, size, "%s", s_platform);
}

json_t *
cm_waha_environment(const char *engine, const char *platform,
                    const char *worker)
{
    if (!platform) {
        pthread_once(&s_platform_once, s_platform_init);
        platform = s_platform;
    }
    json_t *env = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:{s:o}}", "version", WHARF_VERSION,
        "engine",
        cm_waha_engine_valid(engine) ? engine : CM_WAHA_ENGINE_DEFAULT, "tier",
        CM_WAHA_TIER, "browser", "Wharf/" WHARF_VERSION, "platform", platform,
        "worker", "id", worker ? json_string(worker) : json_null());
    assert(env);
    return env;
}

void
cm_waha_test(bool verbose)
{
    (void)verbose;
    printf(" * cm_waha: ");
    assert(cm_waha_engine_valid("GOWS"));
    assert(cm_waha_engine_valid("NOWEB"));
    assert(cm_waha_engine_valid("WEBJS"));
    assert(cm_waha_engine_valid("WPP"));
    assert(!cm_waha_engine_valid("WHARF"));
    assert(!cm_waha_engine_valid("GOW"));
    assert(!cm_waha_engine_valid("NOWEB|GOWS"));
    assert(!cm_waha_engine_valid(""));
    assert(!cm_waha_engine_valid(NULL));
    assert(cm_waha_engine_valid(CM_WAHA_ENGINE_DEFAULT));

    json_t *env = cm_waha_environment("NOWEB", "linux/x64", "w1");
    assert(
        cm_streq(json_string_value(json_object_get(env, "engine")), "NOWEB"));
    assert(cm_streq(json_string_value(json_object_get(env, "tier")), "CORE"));
    assert(cm_streq(json_string_value(json_object_get(env, "version")),
                    WHARF_VERSION));
    assert(strncmp(json_string_value(json_object_get(env, "browser")), "Wharf/",
                   6) == 0);
    assert(cm_streq(json_string_value(json_object_get(env, "platform")),
                    "linux/x64"));
    json_t *worker = json_object_get(env, "worker");
    assert(json_is_object(worker));
    assert(cm_streq(json_string_value(json_object_get(worker, "id")), "w1"));
    json_decref(env);

    //  An unknown engine falls back to the default; no worker is id null
    env = cm_waha_environment("WHARF", NULL, NULL);
    assert(cm_streq(json_string_value(json_object_get(env, "engine")),
                    CM_WAHA_ENGINE_DEFAULT));
    assert(strchr(json_string_value(json_object_get(env, "platform")), '/'));
    worker = json_object_get(env, "worker");
    assert(json_is_object(worker) &&
           json_is_null(json_object_get(worker, "id")));
    json_decref(env);
    printf("OK\n");
}
