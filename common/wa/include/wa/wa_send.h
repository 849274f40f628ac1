/*  wa_send - outgoing message stanzas: per-device encryption and helpers

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    wa-protocol.md §7.4–7.5. A message to a chat is one <message> stanza:

        <message id to type [phash] [addressing_mode]>
          <participants>
            <to jid="DEVICE"><enc v="2" type="pkmsg"|"msg">CT</enc></to>...
          </participants>
          [<enc v="2" type="skmsg">CT</enc>]          (groups)
          [<device-identity>ADV</device-identity>]   (when any pkmsg)
        </message>

    This module encrypts one plaintext for one device (a Signal session
    must exist) and builds the pieces; wa_client decides which devices
    get which plaintext and fetches the sessions first.
*/
#ifndef WA_SEND_H_INCLUDED
#define WA_SEND_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wa_node.h"
#include "wa_sigstore.h"

//  Room for a Signal address name ("<user>_<domain>").
#define WA_SEND_NAME_MAX 80

//  Signal address of a device JID (wire text): name = user, plus
//  "_<domain>" for non-zero AD domains (LID 1, hosted 128, hosted LID
//  129), and the device number. Returns 0, or -1 when the JID is invalid
//  or has no user or is on a server without Signal addresses.
int wa_send_address(const char *jid, char name[WA_SEND_NAME_MAX], int *device);

//  Encrypt `plain` (a serialised Message, padded here) for device JID
//  `device` into <enc v="2" type="pkmsg"|"msg">. *pkmsg (may be NULL)
//  tells which. NULL when there is no session with the device or the
//  JID is invalid. Caller owns return value.
wa_node_t *wa_send_enc(wa_sigstore_t *store, const char *device,
                       const uint8_t *plain, size_t len, bool *pkmsg);

//  As wa_send_enc, wrapped in <to jid="device"> and appended to
//  `participants`. Returns 0 or -1.
int wa_send_add_participant(wa_sigstore_t *store, wa_node_t *participants,
                            const char *device, const uint8_t *plain,
                            size_t len, bool *pkmsg);

//  The "type" attribute of a message stanza for a serialised Message:
//  "reaction", "poll", "media" or "text" (also for undecodable input).
const char *wa_send_stanza_type(const uint8_t *msg, size_t len);

//  Participant hash of a group send over `count` device JIDs (whatsmeow's
//  form: sorted "user.agent:device@server" strings, SHA-256, first 6
//  bytes, unpadded Base64, "2:" prefix). Invalid JIDs are skipped.
//  Caller owns return value.
char *wa_send_phash(const char *const *devices, size_t count);

//  Self test
void wa_send_test(bool verbose);

#endif
