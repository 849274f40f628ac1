/*  cm_util - allocation, time and small string helpers

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "cm_classes.h"
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>

void *
cm_alloc(size_t size)
{
    void *p = calloc(1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "out of memory allocating %zu bytes\n", size);
        abort();
    }
    return p;
}

char *
cm_strdup(const char *s)
{
    if (!s) {
        return NULL;
    }
    return cm_strndup(s, strlen(s));
}

char *
cm_strndup(const char *s, size_t n)
{
    char *p = cm_alloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *
cm_vsprintf(const char *fmt, va_list args)
{
    va_list copy;
    va_copy(copy, args);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    assert(n >= 0);
    char *p = cm_alloc((size_t) n + 1);
    va_copy(copy, args);
    vsnprintf(p, (size_t)n + 1, fmt, copy);
    va_end(copy);
    return p;
}

char *
cm_sprintf(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    char *p = cm_vsprintf(fmt, args);
    va_end(args);
    return p;
}

int64_t
cm_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
cm_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) {
        return -1;
    }
    long pages = 0, resident = 0;
    int n = fscanf(f, "%ld %ld", &pages, &resident);
    fclose(f);
    return n == 2 ? (int64_t)resident * sysconf(_SC_PAGESIZE) : -1;
}

int64_t
cm_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
cm_hex(const uint8_t *data, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 15];
    }
    out[2 * len] = 0;
}

int
cm_hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int
cm_unhex(const char *hex, uint8_t *out, size_t max)
{
    size_t len = strlen(hex);
    if (len % 2 || len / 2 > max) {
        return -1;
    }
    for (size_t i = 0; i < len / 2; i++) {
        int hi = cm_hex_digit(hex[2 * i]);
        int lo = cm_hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return -1;
        }
        out[i] = (uint8_t) (hi << 4 | lo);
    }
    return (int) (len / 2);
}

void
cm_random(void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, "could not read random bytes: %s\n",
                    strerror(errno));
            abort();
        }
        p += n;
        len -= (size_t) n;
    }
}

bool
cm_signal_ignored(int sig)
{
    struct sigaction old;
    return sigaction(sig, NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO) &&
           old.sa_handler == SIG_IGN;
}

int
cm_read_fd(int fd, size_t max, uint8_t **data_p, size_t *len_p)
{
    struct stat st;
    if (fd < 0) {
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (uint64_t) st.st_size > max) {
        close(fd);
        return -1;
    }
    uint8_t *data = cm_alloc((size_t) st.st_size + 1);
    size_t done = 0;
    while (done < (size_t) st.st_size) {
        ssize_t n = read(fd, data + done, (size_t) st.st_size - done);
        if (n <= 0) {
            break;
        }
        done += (size_t) n;
    }
    close(fd);
    data[done] = 0;
    *data_p = data;
    *len_p = done;
    return 0;
}

void
cm_util_test(bool verbose)
{
    printf(" * cm_util: ");
    assert(cm_rss_bytes() > 0);
    char *s = cm_sprintf("%s-%d", "a", 7);
    assert(cm_streq(s, "a-7"));
    free(s);
    s = cm_sprintf("%0500d|%s", 1, "end"); //  longer than any guess
    assert(strlen(s) == 504 && s[498] == '0' && cm_streq(s + 499, "1|end"));
    free(s);
    //  message events and commands; not other names, nor a bare prefix
    assert(cm_about_messages("message") && cm_about_messages("message.any") &&
           cm_about_messages("message.send_text"));
    assert(!cm_about_messages("session.status") && !cm_about_messages(NULL) &&
           !cm_about_messages("messages") && !cm_about_messages("msg"));
    uint8_t raw[4] = {0x00, 0x7f, 0xab, 0xff};
    char hex[9];
    cm_hex(raw, 4, hex);
    assert(cm_streq(hex, "007fabff"));
    uint8_t back[4];
    assert(cm_unhex(hex, back, 4) == 4);
    assert(memcmp(raw, back, 4) == 0);
    assert(cm_unhex("abc", back, 4) == -1);
    assert(cm_unhex("zz", back, 4) == -1);
    assert(cm_unhex("0011223344", back, 4) == -1);
    assert(cm_unhex("0A0b", back, 4) == 2 && back[0] == 10 && back[1] == 11);
    assert(cm_hex_digit('0') == 0 && cm_hex_digit('9') == 9);
    assert(cm_hex_digit('a') == 10 && cm_hex_digit('F') == 15);
    assert(cm_hex_digit('g') == -1 && cm_hex_digit('/') == -1);
    assert(cm_hex_digit(':') == -1 && cm_hex_digit('@') == -1);
    assert(cm_hex_digit('G') == -1 && cm_hex_digit('`') == -1);
    assert(cm_hex_digit(0) == -1 && cm_hex_digit((char)0xe9) == -1);
    assert(cm_now_ms() > 1700000000000LL);
    int64_t m = cm_mono_ms();
    assert(cm_mono_ms() >= m);
    uint8_t r1[16], r2[16];
    cm_random(r1, 16);
    cm_random(r2, 16);
    assert(memcmp(r1, r2, 16) != 0);
    //  the disposition as it is, not as it was asked for elsewhere
    struct sigaction saved;
    sigaction(SIGUSR2, NULL, &saved);
    signal(SIGUSR2, SIG_IGN);
    assert(cm_signal_ignored(SIGUSR2));
    signal(SIGUSR2, SIG_DFL);
    assert(!cm_signal_ignored(SIGUSR2));
    sigaction(SIGUSR2, &saved, NULL);
    //  cm_read_fd: whole file, NUL after it; refuses larger than max
    char tmpl[] = "/tmp/cm_util_test_XXXXXX";
    int fd = mkstemp(tmpl);
    assert(fd >= 0 && write(fd, "hello", 5) == 5);
    uint8_t *data = NULL;
    size_t len = 0;
    assert(cm_read_fd(open(tmpl, O_RDONLY | O_CLOEXEC), 5, &data, &len) == 0);
    assert(len == 5 && memcmp(data, "hello", 6) == 0);
    free(data);
    assert(cm_read_fd(open(tmpl, O_RDONLY | O_CLOEXEC), 4, &data, &len) == -1);
    assert(cm_read_fd(-1, 4, &data, &len) == -1);
    close(fd);
    unlink(tmpl);
    printf("OK\n");
}
