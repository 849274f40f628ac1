/*  sim_control - the control and inspection API (JSON over HTTP)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Routes (all JSON; see tests/wa-sim/README.md for curl examples):
      GET    /info, /health
      POST   /accounts                     {phone, push_name}
      GET    /accounts, /accounts/<phone>, /accounts/<phone>/devices
      DELETE /accounts/<phone>
      POST   /accounts/<phone>/scan        {qr}
      POST   /accounts/<phone>/pair-code   {code}
      POST   /accounts/<phone>/send        {to, text}  (the phone writes)
      GET    /accounts/<phone>/app-state   (collection versions)
      DELETE /accounts/<phone>/devices/<id>   (unlink from the phone)
      GET    /connections
      POST   /connections/<id>/drop
      POST   /connections/<id>/stream-error {code?, conflict?}
      GET    /stanzas?since=&limit=&conn=&jid=   DELETE /stanzas
      GET    /faults   PUT|POST /faults {...}   DELETE /faults
      GET    /groups, /media
      POST   /save
*/
#ifndef SIM_CONTROL_H_INCLUDED
#define SIM_CONTROL_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct _sim_control_t sim_control_t;
typedef struct _sim_server_t sim_server_t;

//  Largest control request body.
#define SIM_CONTROL_BODY_MAX (1024 * 1024)
//  Largest page of the stanza log.
#define SIM_CONTROL_LOG_PAGE 5000

//  Serve the control API for `server` on bind:port (0 = any). NULL if it
//  cannot listen. Caller owns return value.
sim_control_t *sim_control_new(zloop_t *loop, const char *bind, uint16_t port,
                               sim_server_t *server);

void sim_control_destroy(sim_control_t **self_p);

//  Bound port.
uint16_t sim_control_port(sim_control_t *self);

void sim_control_test(bool verbose);

#endif
