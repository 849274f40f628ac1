/*  replay_main - run a libFuzzer target over files, without libFuzzer

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Linked with one tests/fuzz/fuzz_<name>.c into bin/fuzz_<name>_replay
    for builds without clang/libFuzzer: every file named on the command
    line, or found under a named directory (recursively, in sorted order),
    is passed to LLVMFuzzerTestOneInput once. A crash or sanitizer report
    fails the run; so does an argument that yields no input at all.
*/
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

//  Largest input replayed; libFuzzer's default -max_len is far below
#define S_MAX_INPUT (64u << 20)

static int
s_run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: could not open \"%s\"\n", path);
        return -1;
    }
    size_t cap = 4096;
    size_t len = 0;
    uint8_t *data = malloc(cap);
    while (data) {
        size_t n = fread(data + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            break;
        }
        if (len == cap) {
            uint8_t *grown = cap < S_MAX_INPUT ? realloc(data, cap * 2) : NULL;
            if (!grown) {
                free(data);
                data = NULL;
                break;
            }
            data = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (!data) {
        fprintf(stderr, "replay: could not read \"%s\"\n", path);
        return -1;
    }
    //  An exact-size copy lets ASan catch reads past the end
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        free(data);
        return -1;
    }
    memcpy(exact, data, len);
    free(data);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

static int
s_compare(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

//  Replay a file or a directory tree; returns inputs run or -1
static long
s_run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        fprintf(stderr, "replay: could not stat \"%s\"\n", path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        return s_run_file(path) == 0 ? 1 : -1;
    }
    DIR *dir = opendir(path);
    if (!dir) {
        fprintf(stderr, "replay: could not open directory \"%s\"\n", path);
        return -1;
    }
    char **names = NULL;
    size_t count = 0;
    struct dirent *entry;
    while ((entry = readdir(dir))) {
        if (entry->d_name[0] == '.') {
            continue;
        }
        char **grown = realloc(names, (count + 1) * sizeof(char *));
        if (!grown) {
            break;
        }
        names = grown;
        size_t n = strlen(path) + strlen(entry->d_name) + 2;
        names[count] = malloc(n);
        if (!names[count]) {
            break;
        }
        snprintf(names[count], n, "%s/%s", path, entry->d_name);
        count++;
    }
    closedir(dir);
    qsort(names, count, sizeof(char *), s_compare);
    long total = 0;
    for (size_t i = 0; i < count; i++) {
        long n = s_run_path(names[i]);
        total = n < 0 || total < 0 ? -1 : total + n;
        free(names[i]);
    }
    free(names);
    return total;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        long n = s_run_path(argv[i]);
        if (n <= 0) {
            fprintf(stderr, "replay: no inputs under \"%s\"\n", argv[i]);
            return 1;
        }
        printf("replayed %ld inputs from %s\n", n, argv[i]);
    }
    return 0;
}
