/*  sim_config - wa-sim settings from the environment and command line

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Every setting has an environment variable and a flag; a flag wins.
    Read once at start; a bad value exits with 78 (EX_CONFIG). The struct
    is an immutable record after sim_config_new.
*/
#ifndef SIM_CONFIG_H_INCLUDED
#define SIM_CONFIG_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    char *bind;            //  SIM_BIND / --bind: listen address (all ports)
    uint16_t port;         //  SIM_PORT / --port: WebSocket port (0 = any)
    uint16_t control_port; //  SIM_CONTROL_PORT / --control-port
    uint16_t media_port;   //  SIM_MEDIA_PORT / --media-port
    int64_t qr_first_ms;   //  SIM_QR_FIRST_MS / --qr-first-ms (60000)
    int64_t qr_next_ms;    //  SIM_QR_NEXT_MS / --qr-next-ms (20000)
    int qr_refs;           //  SIM_QR_REFS / --qr-refs (6)
    char *root_priv;       //  SIM_ROOT_PRIVATE_KEY / --root-private-key
    char *root_key_file;   //  SIM_ROOT_KEY_FILE / --root-key-file
    char *info_file;       //  SIM_INFO_FILE / --info-file
    char *state_file;      //  SIM_STATE_FILE / --state-file
    char *media_cert;      //  SIM_MEDIA_CERT / --media-cert: HTTPS media
                           //  host, its certificate written here
    char *log_level;       //  APP_LOG_LEVEL / --log-level (info)
    bool phone_device;     //  SIM_PHONE_DEVICE / --phone-device (true)
} sim_config_t;

//  Parse the environment, then argv (argv may be NULL). Exits 78 on a
//  bad value and 0 after printing --help. Caller owns return value.
sim_config_t *sim_config_new(int argc, char **argv);

void sim_config_destroy(sim_config_t **self_p);

//  Print the usage text to stdout.
void sim_config_usage(void);

void sim_config_test(bool verbose);

#endif
