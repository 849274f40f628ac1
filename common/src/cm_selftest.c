/*  cm_selftest - run the common library's module self tests

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    cm_selftest                run every test
    cm_selftest --test NAME    run one (ctest registers one per module)
*/
#include "cm_classes.h"

typedef struct {
    const char *name;            //  module name
    void (*fn)(bool verbose);    //  its self test
} s_test_t;

static const s_test_t s_tests[] = {
    {"cm_util", cm_util_test},   {"cm_log", cm_log_test},
    {"cm_env", cm_env_test},     {"cm_msg", cm_msg_test},
    {"cm_client", cm_client_test},
};

int
main(int argc, char **argv)
{
    bool verbose = false;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (streq(argv[i], "--verbose") || streq(argv[i], "-v")) {
            verbose = true;
        }
        else if (streq(argv[i], "--test") && i + 1 < argc) {
            only = argv[++i];
        }
        else if (streq(argv[i], "--list")) {
            for (size_t t = 0; t < sizeof s_tests / sizeof s_tests[0]; t++) {
                puts(s_tests[t].name);
            }
            return 0;
        }
    }
    int ran = 0;
    for (size_t t = 0; t < sizeof s_tests / sizeof s_tests[0]; t++) {
        if (!only || streq(only, s_tests[t].name)) {
            s_tests[t].fn(verbose);
            ran++;
        }
    }
    zsys_shutdown();
    if (!ran) {
        fprintf(stderr, "unrecognized test: %s\n", only);
        return 1;
    }
    return 0;
}
