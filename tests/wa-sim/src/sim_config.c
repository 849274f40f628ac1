/*  sim_config - wa-sim settings from the environment and command line

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#include "sim_classes.h"
#include "sim_config.h"

void
sim_config_usage(void)
{
    printf("usage: wa-sim [options]\n"
           "A WhatsApp server simulator for offline tests (see "
           "tests/wa-sim/README.md).\n\n"
           "  --bind ADDR              listen address (SIM_BIND, 127.0.0.1)\n"
           "  --port N                 WebSocket port, 0 = any (SIM_PORT, 0)\n"
           "  --control-port N         control API port (SIM_CONTROL_PORT, 0)\n"
           "  --media-port N           media host port (SIM_MEDIA_PORT, 0)\n"
           "  --media-cert PATH        serve the media host over HTTPS and\n"
           "                           write its certificate here "
           "(SIM_MEDIA_CERT)\n"
           "  --qr-first-ms N          life of the first QR ref "
           "(SIM_QR_FIRST_MS, 60000)\n"
           "  --qr-next-ms N           life of later QR refs "
           "(SIM_QR_NEXT_MS, 20000)\n"
           "  --qr-refs N              refs per pair-device (SIM_QR_REFS, 6)\n"
           "  --root-private-key HEX   fixed root private key "
           "(SIM_ROOT_PRIVATE_KEY)\n"
           "  --root-key-file PATH     write the root public key (hex) here\n"
           "                           (SIM_ROOT_KEY_FILE)\n"
           "  --info-file PATH         write the startup JSON line here "
           "(SIM_INFO_FILE)\n"
           "  --state-file PATH        load/save accounts here "
           "(SIM_STATE_FILE)\n"
           "  --phone-device BOOL      list device 0 (the phone) in device\n"
           "                           lists (SIM_PHONE_DEVICE, true)\n"
           "  --log-level LEVEL        error|warn|info|debug (APP_LOG_LEVEL)\n"
           "  --help                   this text\n\n"
           "On start wa-sim prints one JSON line to stdout: ws_url, "
           "control_url,\nmedia_url and root_key (hex), then serves until "
           "SIGINT/SIGTERM.\n");
}

static long
s_number(const char *name, const char *text, long min, long max)
{
    char *end = NULL;
    errno = 0;
    long v = text ? strtol(text, &end, 10) : 0;
    if (!text || !*text || *end || errno || v < min || v > max) {
        char *reason = cm_sprintf("must be an integer in %ld..%ld", min, max);
        cm_env_fail(name, reason);
    }
    return v;
}

static bool
s_bool(const char *name, const char *text)
{
    if (text && (cm_streq(text, "true") || cm_streq(text, "1") ||
                 cm_streq(text, "yes") || cm_streq(text, "on"))) {
        return true;
    }
    if (text && (cm_streq(text, "false") || cm_streq(text, "0") ||
                 cm_streq(text, "no") || cm_streq(text, "off"))) {
        return false;
    }
    cm_env_fail(name, "must be true or false");
}

static void
s_set_str(char **field, const char *value)
{
    free(*field);
    *field = cm_strdup(value);
}

sim_config_t *
sim_config_new(int argc, char **argv)
{
    sim_config_t *self = (sim_config_t *)cm_alloc(sizeof(sim_config_t));
    self->bind = cm_env_str("SIM_BIND", "127.0.0.1");
    self->port = (uint16_t)cm_env_long("SIM_PORT", 0, 0, 65535);
    self->control_port = (uint16_t)cm_env_long("SIM_CONTROL_PORT", 0, 0, 65535);
    self->media_port = (uint16_t)cm_env_long("SIM_MEDIA_PORT", 0, 0, 65535);
    self->qr_first_ms = cm_env_long("SIM_QR_FIRST_MS", 60000, 100, 3600000);
    self->qr_next_ms = cm_env_long("SIM_QR_NEXT_MS", 20000, 100, 3600000);
    self->qr_refs = (int)cm_env_long("SIM_QR_REFS", 6, 1, 64);
    self->root_priv = cm_env_str("SIM_ROOT_PRIVATE_KEY", NULL);
    self->root_key_file = cm_env_str("SIM_ROOT_KEY_FILE", NULL);
    self->info_file = cm_env_str("SIM_INFO_FILE", NULL);
    self->state_file = cm_env_str("SIM_STATE_FILE", NULL);
    self->media_cert = cm_env_str("SIM_MEDIA_CERT", NULL);
    self->log_level =
        cm_env_choice("APP_LOG_LEVEL", "info", "error|warn|info|debug");
    self->phone_device = cm_env_bool("SIM_PHONE_DEVICE", true);

    for (int i = 1; argv && i < argc; i++) {
        const char *flag = argv[i];
        if (cm_streq(flag, "--help") || cm_streq(flag, "-h")) {
            sim_config_usage();
            exit(0);
        }
        if (i + 1 >= argc || strncmp(flag, "--", 2) != 0) {
            cm_env_fail(flag, "unrecognized option or missing value");
        }
        const char *value = argv[++i];
        if (cm_streq(flag, "--bind")) {
            s_set_str(&self->bind, value);
        } else if (cm_streq(flag, "--port")) {
            self->port = (uint16_t)s_number(flag, value, 0, 65535);
        } else if (cm_streq(flag, "--control-port")) {
            self->control_port = (uint16_t)s_number(flag, value, 0, 65535);
        } else if (cm_streq(flag, "--media-port")) {
            self->media_port = (uint16_t)s_number(flag, value, 0, 65535);
        } else if (cm_streq(flag, "--qr-first-ms")) {
            self->qr_first_ms = s_number(flag, value, 100, 3600000);
        } else if (cm_streq(flag, "--qr-next-ms")) {
            self->qr_next_ms = s_number(flag, value, 100, 3600000);
        } else if (cm_streq(flag, "--qr-refs")) {
            self->qr_refs = (int)s_number(flag, value, 1, 64);
        } else if (cm_streq(flag, "--root-private-key")) {
            s_set_str(&self->root_priv, value);
        } else if (cm_streq(flag, "--root-key-file")) {
            s_set_str(&self->root_key_file, value);
        } else if (cm_streq(flag, "--info-file")) {
            s_set_str(&self->info_file, value);
        } else if (cm_streq(flag, "--state-file")) {
            s_set_str(&self->state_file, value);
        } else if (cm_streq(flag, "--media-cert")) {
            s_set_str(&self->media_cert, value);
        } else if (cm_streq(flag, "--phone-device")) {
            self->phone_device = s_bool(flag, value);
        } else if (cm_streq(flag, "--log-level")) {
            if (!cm_streq(value, "error") && !cm_streq(value, "warn") &&
                !cm_streq(value, "info") && !cm_streq(value, "debug")) {
                cm_env_fail(flag, "must be error, warn, info or debug");
            }
            s_set_str(&self->log_level, value);
        } else {
            cm_env_fail(flag, "unrecognized option");
        }
    }
    if (self->root_priv) {
        uint8_t key[32];
        if (strlen(self->root_priv) != 64 ||
            cm_unhex(self->root_priv, key, sizeof key) != 32) {
            cm_env_fail("SIM_ROOT_PRIVATE_KEY", "must be 64 hex digits");
        }
    }
    return self;
}

void
sim_config_destroy(sim_config_t **self_p)
{
    assert(self_p);
    sim_config_t *self = *self_p;
    if (self) {
        free(self->bind);
        free(self->root_priv);
        free(self->root_key_file);
        free(self->info_file);
        free(self->state_file);
        free(self->media_cert);
        free(self->log_level);
        free(self);
        *self_p = NULL;
    }
}

void
sim_config_test(bool verbose)
{
    printf(" * sim_config: ");
    setenv("SIM_PORT", "1234", 1);
    setenv("SIM_QR_NEXT_MS", "500", 1);
    char *argv[] = {
        "wa-sim",         "--port", "4321",         "--qr-first-ms", "1000",
        "--phone-device", "false",  "--state-file", "/tmp/x",        NULL};
    sim_config_t *cfg = sim_config_new(9, argv);
    assert(cfg->port == 4321);
    assert(cfg->qr_first_ms == 1000);
    assert(cfg->qr_next_ms == 500);
    assert(cfg->qr_refs == 6);
    assert(!cfg->phone_device);
    assert(cm_streq(cfg->bind, "127.0.0.1"));
    assert(cm_streq(cfg->state_file, "/tmp/x"));
    assert(!cfg->root_priv);
    sim_config_destroy(&cfg);
    sim_config_destroy(&cfg);
    cfg = sim_config_new(0, NULL);
    assert(cfg->port == 1234);
    sim_config_destroy(&cfg);
    unsetenv("SIM_PORT");
    unsetenv("SIM_QR_NEXT_MS");
    printf("OK\n");
}
