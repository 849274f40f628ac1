/*  sim_model - wa-sim's in-memory world: accounts, devices, prekeys,
    message queues, groups and media blobs

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    The model is plain data owned by one sim_model_t and used from one
    thread. Accounts, devices, groups and queue items are records whose
    fields are documented below and read directly by the other sim_
    modules; they are created and destroyed only through this module.
    Pointers to records stay valid until the record is removed.

    An account is a phone number with a simulated primary phone (device
    0): an identity key pair (the ADV account key), a LID, a push name
    and a registration id. Companion devices (1, 2, ...) are added by
    pairing. Each device has a Signal identity, a signed prekey, one-time
    prekeys (consumed by bundle fetches) and a queue of stanzas waiting
    for delivery or for the device's ack.
*/
#ifndef SIM_MODEL_H_INCLUDED
#define SIM_MODEL_H_INCLUDED

#include <czmq.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define SIM_KEY_LEN 32
#define SIM_SIG_LEN 64
//  Phone numbers: digits only, international, no leading zero.
#define SIM_PHONE_MIN 7
#define SIM_PHONE_MAX 15
//  Most one-time prekeys kept per device (uploads beyond are refused).
#define SIM_PREKEYS_MAX 2000
//  Most stanzas queued per device (oldest dropped beyond).
#define SIM_QUEUE_MAX 10000
//  Most media bytes stored in total.
#define SIM_MEDIA_MAX (512 * 1024 * 1024)

typedef struct _sim_model_t sim_model_t;
typedef struct _sim_account_t sim_account_t;
typedef struct _sim_device_t sim_device_t;

//  A one-time prekey as uploaded by a device.
typedef struct {
    uint32_t id;              //  24-bit prekey id
    uint8_t pub[SIM_KEY_LEN]; //  X25519 public key
} sim_prekey_t;

//  A stanza waiting for a device: queued while it is offline, then sent
//  and kept until the device acknowledges it (receipt or ack).
typedef struct {
    char *id;          //  stanza id the device's receipt/ack will carry
    char *cls;         //  "message", "receipt" or "notification"
    char *peer;        //  `from` of the stanza (the ack's `to`)
    uint8_t *data;     //  encoded binary node (no frame flag byte)
    size_t len;        //  bytes in data
    bool sent;         //  written to the device's current connection
    int64_t queued_ms; //  wall clock when queued
    void *handle;      //  its handle in the device queue, when queued
} sim_pending_t;

struct _sim_device_t {
    sim_account_t *account;            //  owner (borrowed back pointer)
    uint32_t id;                       //  0 = the simulated phone
    char *platform;                    //  e.g. "Chrome (Mac OS)"
    bool has_noise;                    //  noise_pub set
    uint8_t noise_pub[SIM_KEY_LEN];    //  Noise static key (login check)
    bool has_identity;                 //  identity_pub set
    uint8_t identity_pub[SIM_KEY_LEN]; //  Signal identity public key
    uint32_t registration_id;          //  Signal registration id
    bool has_spk;                      //  signed prekey set
    uint32_t spk_id;                   //  signed prekey id (24 bits)
    uint8_t spk_pub[SIM_KEY_LEN];      //  signed prekey public key
    uint8_t spk_sig[SIM_SIG_LEN];      //  XEdDSA signature by identity
    zlistx_t *prekeys;                 //  sim_prekey_t *, oldest first
    uint32_t key_index;                //  ADV key index of this device
    uint8_t *adv;                      //  ADVSignedDeviceIdentity issued
    size_t adv_len;                    //  bytes in adv
    bool linked;                       //  pair-device-sign verified
    bool full_sync;                    //  DeviceProps.requireFullSync at
                                       //  pairing: the phone sends its
                                       //  whole history (FULL chunks)
    bool forged;                       //  added by the server alone: not
                                       //  in the signed key-index list
    int64_t created_ms;                //  when paired
    int64_t last_seen_ms;              //  last login or stanza
    zlistx_t *queue;                   //  sim_pending_t *, oldest first
    zhashx_t *queue_index;             //  "cls id" -> zlistx_t of the
                                       //  queue's items with that key
};

struct _sim_account_t {
    char *phone;                        //  digits, e.g. "15551234567"
    char *lid;                          //  LID user digits
    char *push_name;                    //  display name
    uint8_t identity_priv[SIM_KEY_LEN]; //  primary identity (ADV key)
    uint8_t identity_pub[SIM_KEY_LEN];  //  its public half
    uint32_t registration_id;           //  the phone's registration id
    uint32_t next_device;               //  next companion device id
    uint32_t next_key_index;            //  next ADV key index
    int64_t created_ms;                 //  creation time
    zlistx_t *devices;                  //  sim_device_t *, by id
    char *about;                        //  about text, NULL when none
    int64_t about_t;                    //  when it was set (s)
    char *picture_id;                   //  profile picture id or NULL
    char *picture_path;                 //  its full image's media path
    char *preview_path;                 //  its preview's media path
    zhashx_t *blocked;                  //  phones this account blocked
    json_t *status_privacy;             //  {type, users:[phone]}: who may
                                        //  see its statuses; NULL: contacts
    uint8_t nct_salt[32];               //  NCT salt (cstokens, sim_tctoken)
    size_t nct_salt_len;                //  0: none yet
};

//  A group participant.
typedef struct {
    char *phone; //  participant phone digits
    char *role;  //  NULL, "admin" or "superadmin"
} sim_participant_t;

//  A group chat.
typedef struct {
    char *id;               //  group user part, e.g. "120363..."
    char *subject;          //  group name
    char *creator;          //  phone of the creator
    int64_t creation_s;     //  creation time, unix seconds
    int64_t subject_s;      //  subject change time
    char *subject_owner;    //  phone that set the subject
    char *description;      //  NULL when none
    char *description_id;   //  id of the description version
    char *invite;           //  invite code, NULL until asked for
    bool announce;          //  only admins send
    bool locked;            //  only admins edit the group info
    bool lid;               //  addressing_mode="lid": members by LID
    char *picture_id;       //  picture version, NULL when none
    zlistx_t *participants; //  sim_participant_t *
    bool approval;          //  membership_approval_mode: joins are requests
    zhashx_t *requests;     //  phone -> "<request time s>", or NULL
} sim_group_t;

//  Fresh X25519 key pair (private key clamped). Returns 0 or -1.
int sim_model_keypair(uint8_t priv[SIM_KEY_LEN], uint8_t pub[SIM_KEY_LEN]);

//  Create an empty model. Caller owns return value.
sim_model_t *sim_model_new(void);

//  Destroy the model and every record in it.
void sim_model_destroy(sim_model_t **self_p);

//  True if `phone` is 7-15 digits without a leading zero.
bool sim_model_phone_valid(const char *phone);

//  Create an account with a fresh identity key pair, LID and
//  registration id, and its device 0. Returns the account (owned by the
//  model), or NULL if the phone is invalid or taken.
sim_account_t *sim_model_account_add(sim_model_t *self, const char *phone,
                                     const char *push_name);

//  Remove an account and all its devices. Returns 0 or -1 if unknown.
int sim_model_account_remove(sim_model_t *self, const char *phone);

//  The account with this phone number or LID user, or NULL. Borrowed.
sim_account_t *sim_model_account(sim_model_t *self, const char *phone);
sim_account_t *sim_model_account_by_lid(sim_model_t *self, const char *lid);

//  All accounts, in creation order. Borrowed.
zlistx_t *sim_model_accounts(sim_model_t *self);

//  True when `self` blocked the account `other` (its messages to self
//  are not delivered).
bool sim_account_blocks(sim_account_t *self, sim_account_t *other);

//  Block (or unblock) `other` for `self`.
void sim_account_set_blocked(sim_account_t *self, sim_account_t *other,
                             bool blocked);

//  Device `id` of the account, or NULL. Borrowed.
sim_device_t *sim_account_device(sim_account_t *self, uint32_t id);

//  Add a companion device with the next free id and key index (not yet
//  linked). Returns the device (owned by the account).
sim_device_t *sim_account_device_add(sim_account_t *self);

//  Remove a companion device (never device 0). Returns 0 or -1.
int sim_account_device_remove(sim_account_t *self, uint32_t id);

//  A new list of the account's devices (borrowed pointers, no
//  destructor) for loops that may change the account. Caller owns the
//  list.
zlistx_t *sim_account_devices_copy(sim_account_t *self);

//  Number of linked companion devices plus the phone.
size_t sim_account_device_count(sim_account_t *self);

//  Replace the device's one-time prekeys list entry with this id, or
//  append it. Returns 0, or -1 when the device holds SIM_PREKEYS_MAX.
int sim_device_prekey_add(sim_device_t *self, uint32_t id,
                          const uint8_t pub[SIM_KEY_LEN]);

//  Take (remove) the oldest one-time prekey into *out. Returns 0, or -1
//  when none is left.
int sim_device_prekey_take(sim_device_t *self, sim_prekey_t *out);

//  Number of one-time prekeys the device holds.
size_t sim_device_prekey_count(sim_device_t *self);

//  Queue a stanza for the device; takes ownership of *item_p. Drops the
//  oldest item when the queue is full.
void sim_device_queue_push(sim_device_t *self, sim_pending_t **item_p);

//  Remove the queued item of class `cls` with this id (and, when peer is
//  not NULL, this peer). Returns true if one was removed.
bool sim_device_queue_ack(sim_device_t *self, const char *cls, const char *id,
                          const char *peer);

//  Mark every queued item as not sent (the device disconnected).
void sim_device_queue_unsent(sim_device_t *self);

//  New queue item; copies every argument. Caller owns return value.
sim_pending_t *sim_pending_new(const char *id, const char *cls,
                               const char *peer, const uint8_t *data,
                               size_t len);

void sim_pending_destroy(sim_pending_t **self_p);

//  Device JIDs: "<phone>:<id>@s.whatsapp.net" (device 0 gives
//  "<phone>@s.whatsapp.net") and the LID form. Caller owns return value.
char *sim_device_jid(sim_device_t *self);
char *sim_device_lid_jid(sim_device_t *self);

//  Create a group with a fresh id, the creator as superadmin and the
//  other participants (phones). Returns the group (owned by the model).
sim_group_t *sim_model_group_add(sim_model_t *self, const char *creator,
                                 const char *subject);

//  The group with this id (user part), or NULL. Borrowed.
sim_group_t *sim_model_group(sim_model_t *self, const char *id);

//  All groups. Borrowed.
zlistx_t *sim_model_groups(sim_model_t *self);

//  Participant record for phone, or NULL. Borrowed.
sim_participant_t *sim_group_participant(sim_group_t *self, const char *phone);

//  Add a participant (no-op if present). Returns the record.
sim_participant_t *sim_group_participant_add(sim_group_t *self,
                                             const char *phone,
                                             const char *role);

//  Remove a participant. Returns 0 or -1 if absent.
int sim_group_participant_remove(sim_group_t *self, const char *phone);

//  Store a media blob under `path` (copied). Returns 0, or -1 when the
//  media store would exceed SIM_MEDIA_MAX.
int sim_model_media_put(sim_model_t *self, const char *path,
                        const uint8_t *data, size_t len);

//  The blob stored under path, or NULL. *len_p gets its size. Borrowed.
const uint8_t *sim_model_media_get(sim_model_t *self, const char *path,
                                   size_t *len_p);

//  Number of stored blobs and their total size.
//  Forget the blob under `path` (a media expiry). Returns 0, or -1 when
//  there is none.
int sim_model_media_del(sim_model_t *self, const char *path);
//  Forget every blob; returns how many there were.
size_t sim_model_media_clear(sim_model_t *self);
size_t sim_model_media_count(sim_model_t *self);
size_t sim_model_media_bytes(sim_model_t *self);

//  JSON views for the control API (no private keys). Caller owns.
json_t *sim_account_to_json(sim_account_t *self, bool with_devices);
json_t *sim_device_to_json(sim_device_t *self);
json_t *sim_group_to_json(sim_group_t *self);

//  Save every account, device and group (with private keys) to a JSON
//  file, and load such a file into an empty model. Queues and media are
//  not saved. Return 0 or -1 (logged).
int sim_model_save(sim_model_t *self, const char *path);
int sim_model_load(sim_model_t *self, const char *path);

void sim_model_test(bool verbose);

#endif
