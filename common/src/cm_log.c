/*  cm_log - logfmt logging to stderr

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "cm_classes.h"

//  Set once by cm_log_init before threads start; read-only afterwards.
static char s_svc[32] = "wharf";
static cm_log_level_t s_level = CM_LOG_INFO;

static const char *s_names[] = {"error", "warn", "info", "debug"};

int
cm_log_init(const char *svc, const char *level)
{
    if (svc) {
        snprintf(s_svc, sizeof s_svc, "%s", svc);
    }
    if (!level || !*level) {
        return 0;
    }
    for (int i = 0; i <= CM_LOG_DEBUG; i++) {
        if (strcasecmp(level, s_names[i]) == 0) {
            s_level = (cm_log_level_t) i;
            return 0;
        }
    }
    return -1;
}

bool
cm_log_enabled(cm_log_level_t level)
{
    return level <= s_level;
}

//  Append `text` to buf as a logfmt-quoted value.
static size_t
s_quote(char *buf, size_t size, size_t at, const char *text)
{
    if (at < size) {
        buf[at] = '"';
    }
    at++;
    for (const char *p = text; *p; p++) {
        unsigned char c = (unsigned char) *p;
        if (at + 3 >= size) {
            break;
        }
        if (c == '"' || c == '\\') {
            buf[at++] = '\\';
            buf[at++] = (char) c;
        }
        else if (c == '\n') {
            buf[at++] = '\\';
            buf[at++] = 'n';
        }
        else if (c < 0x20) {
            buf[at++] = ' ';
        }
        else {
            buf[at++] = (char) c;
        }
    }
    if (at < size) {
        buf[at++] = '"';
    }
    return at;
}

void
cm_log_write(cm_log_level_t level, const char *msg, const char *kvfmt, ...)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t at = strftime(line, sizeof line, "ts=%Y-%m-%dT%H:%M:%S", &tm);
    at += (size_t) snprintf(line + at, sizeof line - at,
                            ".%03ldZ level=%s svc=%s msg=",
                            ts.tv_nsec / 1000000, s_names[level], s_svc);
    at = s_quote(line, sizeof line - 2, at, msg);
    if (kvfmt && *kvfmt && at < sizeof line - 2) {
        line[at++] = ' ';
        va_list args;
        va_start(args, kvfmt);
        int n = vsnprintf(line + at, sizeof line - 2 - at, kvfmt, args);
        va_end(args);
        if (n > 0) {
            at += (size_t) n;
        }
    }
    if (at > sizeof line - 2) {
        at = sizeof line - 2;
    }
    line[at++] = '\n';
    line[at] = 0;
    //  One write() per line keeps lines whole across threads and processes.
    ssize_t rc = write(STDERR_FILENO, line, at);
    (void) rc;
}

void
cm_log_test(bool verbose)
{
    printf(" * cm_log: ");
    assert(cm_log_init("test", "bogus") == -1);
    assert(cm_log_init("test", "debug") == 0);
    assert(cm_log_enabled(CM_LOG_DEBUG));
    assert(cm_log_init("test", "warn") == 0);
    assert(!cm_log_enabled(CM_LOG_INFO));
    assert(cm_log_enabled(CM_LOG_ERROR));
    cm_log_warn("quoting \"works\"\nacross lines", "n=%d", 1);
    cm_log_warn("no fields");
    //  Arguments are not evaluated when the level is off
    int evaluated = 0;
    cm_log_debug("skipped", "x=%d", ++evaluated);
    assert(evaluated == 0);
    cm_log_init("test", "info");
    printf("OK\n");
}
