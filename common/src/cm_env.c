/*  cm_env - read and range-check configuration from the environment

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "cm_classes.h"

//  Longest secret we read from a *_FILE variable.
#define CM_ENV_FILE_MAX 4096

void
cm_env_fail(const char *name, const char *reason)
{
    cm_log_error("invalid configuration", "variable=%s reason=\"%s\"", name,
                 reason);
    fprintf(stderr, "configuration error: %s: %s\n", name, reason);
    exit(CM_EX_CONFIG);
}

static char *
s_read_file(const char *var, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        cm_env_fail(var, "could not open file");
    }
    char *buf = cm_alloc(CM_ENV_FILE_MAX + 1);
    size_t n = fread(buf, 1, CM_ENV_FILE_MAX, f);
    fclose(f);
    buf[n] = 0;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        buf[--n] = 0;
    }
    return buf;
}

char *
cm_env_str(const char *name, const char *dflt)
{
    const char *v = getenv(name); // NOLINT(concurrency-mt-unsafe)
    if (v && *v) {
        return cm_strdup(v);
    }
    char fname[128];
    snprintf(fname, sizeof fname, "%s_FILE", name);
    v = getenv(fname); // NOLINT(concurrency-mt-unsafe)
    if (v && *v) {
        return s_read_file(fname, v);
    }
    return dflt ? cm_strdup(dflt) : NULL;
}

long
cm_env_long(const char *name, long dflt, long min, long max)
{
    const char *v = getenv(name); // NOLINT(concurrency-mt-unsafe)
    if (!v || !*v) {
        return dflt;
    }
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end) {
        cm_env_fail(name, "not an integer");
    }
    if (n < min || n > max) {
        char why[96];
        snprintf(why, sizeof why, "out of range [%ld, %ld]", min, max);
        cm_env_fail(name, why);
    }
    return n;
}

bool
cm_env_bool(const char *name, bool dflt)
{
    const char *v = getenv(name); // NOLINT(concurrency-mt-unsafe)
    if (!v || !*v) {
        return dflt;
    }
    if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes")
        || !strcasecmp(v, "on")) {
        return true;
    }
    if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no")
        || !strcasecmp(v, "off")) {
        return false;
    }
    cm_env_fail(name, "not a boolean (true/false)");
}

char *
cm_env_choice(const char *name, const char *dflt, const char *choices)
{
    char *v = cm_env_str(name, dflt);
    if (!v) {
        return NULL;
    }
    size_t len = strlen(v);
    const char *p = choices;
    while (p && *p) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t) (bar - p) : strlen(p);
        if (n == len && strncasecmp(p, v, n) == 0) {
            return v;
        }
        p = bar ? bar + 1 : NULL;
    }
    free(v);
    char why[256];
    snprintf(why, sizeof why, "must be one of %s", choices);
    cm_env_fail(name, why);
}

void
cm_env_test(bool verbose)
{
    printf(" * cm_env: ");
    setenv("CM_ENV_TEST_N", "42", 1);
    assert(cm_env_long("CM_ENV_TEST_N", 1, 0, 100) == 42);
    assert(cm_env_long("CM_ENV_TEST_UNSET", 7, 0, 100) == 7);
    setenv("CM_ENV_TEST_B", "off", 1);
    assert(!cm_env_bool("CM_ENV_TEST_B", true));
    char *s = cm_env_str("CM_ENV_TEST_UNSET", "dflt");
    assert(streq(s, "dflt"));
    free(s);
    setenv("CM_ENV_TEST_C", "Linear", 1);
    s = cm_env_choice("CM_ENV_TEST_C", "constant",
                      "constant|linear|exponential");
    assert(streq(s, "Linear"));
    free(s);
    //  _FILE variant
    char path[] = "/tmp/cm_env_testXXXXXX";
    int fd = mkstemp(path);
    assert(fd >= 0);
    assert(write(fd, "secret\n", 7) == 7);
    close(fd);
    setenv("CM_ENV_TEST_S_FILE", path, 1);
    s = cm_env_str("CM_ENV_TEST_S", NULL);
    assert(streq(s, "secret"));
    free(s);
    unlink(path);
    //  A bad value exits 78
    pid_t pid = fork();
    if (pid == 0) {
        setenv("CM_ENV_TEST_N", "4x", 1);
        cm_log_init(NULL, "error");
        cm_env_long("CM_ENV_TEST_N", 1, 0, 100);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    assert(WIFEXITED(status) && WEXITSTATUS(status) == CM_EX_CONFIG);
    printf("OK\n");
}
