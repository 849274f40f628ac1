/*  sw_wasession - the session capability of the WhatsApp engine: the QR
    shown, a pairing code instead of the QR, and our account

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    Commands (SW_WASESSION_COMMANDS, listed in sw_wa's table):
      session.qr {}                -> {value} the QR string; 409 "session
                                      is not in SCAN_QR_CODE"
      session.pair_code {phoneNumber} -> {code} once WhatsApp took the
                                      request (held under
                                      SW_WASESSION_PAIR_KEY; a newer request
                                      supersedes it); 409 when linked or
                                      not linking; 400 for a bad number;
                                      504 after SW_WA_PAIR_TIMEOUT_MS
      session.me {}                -> {me} ({id, lid?, pushName?}, or null
                                      unless WORKING)
*/
#ifndef SW_WASESSION_H_INCLUDED
#define SW_WASESSION_H_INCLUDED

#include "sw_wasess.h"

//  Longest wait for the pairing code from the server, ms.
#define SW_WA_PAIR_TIMEOUT_MS 15000
//  Key the pairing code request is held under.
#define SW_WASESSION_PAIR_KEY "session.pair_code"

//  The capability's rows of the command table.
#define SW_WASESSION_COMMANDS                                                  \
    SW_WACMD("session.qr", SW_WACMD_ANY, SW_WACMD_NOW, sw_wasession_qr),       \
        SW_WACMD("session.pair_code", SW_WACMD_ANY, SW_WA_PAIR_TIMEOUT_MS,     \
                 sw_wasession_pair_code),                                      \
        SW_WACMD("session.me", SW_WACMD_ANY, SW_WACMD_NOW, sw_wasession_me)

//  Handlers (sw_wacmd_fn).
void sw_wasession_qr(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wasession_pair_code(sw_wasess_t *sess, sw_cmd_t **cmd_p);
void sw_wasession_me(sw_wasess_t *sess, sw_cmd_t **cmd_p);

//  For the engine: the pairing code request ended. st 200: WhatsApp
//  took `code` (NULL: the one asked for); else the status and reason to
//  answer with. Nothing happens when no request is held.
void sw_wasession_pair_done(sw_wasess_t *sess, int st, const char *code,
                            const char *reason);

void sw_wasession_test(bool verbose);

#endif
