/*  wa_media - WhatsApp media encryption (keys, encrypt, verify + decrypt)

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A media file is encrypted with keys expanded from a 32-byte mediaKey:
    expanded = HKDF-SHA256(salt none, mediaKey, "WhatsApp <Kind> Keys", 112)
    = iv(16) || cipherKey(32) || macKey(32) || refKey(32). The uploaded
    ("enc") file is AES-256-CBC/PKCS#7(cipherKey, iv, plain) followed by
    the first 10 bytes of HMAC-SHA256(macKey, iv || ciphertext). Messages
    carry fileSHA256 = SHA-256(plain), fileEncSHA256 = SHA-256(enc file)
    and fileLength.

    One-shot functions work on whole buffers. The streaming objects
    (wa_media_enc_t, wa_media_dec_t) take the file in chunks of any size,
    so a large file never has to be held in memory. Streaming decryption
    releases plaintext before the MAC at the end of the file has been
    checked: treat that output as untrusted and discard it unless
    wa_media_dec_final returns 0.
*/
#ifndef WA_MEDIA_H_INCLUDED
#define WA_MEDIA_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WA_MEDIA_KEY_LEN 32
#define WA_MEDIA_MAC_LEN 10
//  Enc file length for a plaintext of n bytes.
#define WA_MEDIA_ENC_LEN(n) ((((n) / 16) + 1) * 16 + WA_MEDIA_MAC_LEN)
//  Most bytes wa_media_enc_final / wa_media_dec_final write.
#define WA_MEDIA_FINAL_MAX (16 + WA_MEDIA_MAC_LEN)

//  What the keys are for; selects the HKDF info string.
typedef enum {
    WA_MEDIA_IMAGE = 0,          //  image, sticker, sticker metadata
    WA_MEDIA_VIDEO,              //  video, gif, ptv
    WA_MEDIA_AUDIO,              //  audio, ptt
    WA_MEDIA_DOCUMENT,           //  document
    WA_MEDIA_HISTORY,            //  history sync blob (md-msg-hist)
    WA_MEDIA_APP_STATE,          //  app-state blob (md-app-state)
    WA_MEDIA_LINK_THUMBNAIL,     //  link preview thumbnail (thumbnail-link)
    WA_MEDIA_IMAGE_THUMBNAIL,    //  image thumbnail
    WA_MEDIA_VIDEO_THUMBNAIL,    //  video thumbnail
    WA_MEDIA_DOCUMENT_THUMBNAIL, //  document thumbnail
    WA_MEDIA_PAYMENT_BACKGROUND, //  payment background
    WA_MEDIA_STICKER_PACK,       //  sticker pack
    WA_MEDIA_TYPE_COUNT          //  number of types (not a type)
} wa_media_type_t;

//  Expanded media keys.
typedef struct {
    uint8_t iv[16];         //  CBC IV
    uint8_t cipher_key[32]; //  AES-256 key
    uint8_t mac_key[32];    //  HMAC-SHA256 key
    uint8_t ref_key[32];    //  unused by WhatsApp clients
} wa_media_keys_t;

//  Hashes and length of an encrypted file, as carried in messages.
typedef struct {
    uint8_t file_sha256[32];       //  SHA-256 of the plaintext
    uint8_t file_enc_sha256[32];   //  SHA-256 of ciphertext || mac
    uint8_t mac[WA_MEDIA_MAC_LEN]; //  the 10-byte MAC (tail of enc file)
    uint64_t file_length;          //  plaintext length
} wa_media_hashes_t;

//  HKDF info string of a type ("WhatsApp Image Keys", ...), or NULL for
//  an out-of-range type.
const char *wa_media_info(wa_media_type_t type);

//  Upload path type ("image", "md-msg-hist", ...) of a type, or NULL when
//  the type has none of its own.
const char *wa_media_mms_type(wa_media_type_t type);

//  Type for a message/mms name: image, sticker, video, gif, ptv, audio,
//  ptt, document, history / md-msg-hist, app-state / md-app-state,
//  thumbnail-link, thumbnail-image, thumbnail-video, thumbnail-document,
//  payment-bg-image, sticker-pack. Returns -1 if unrecognized.
int wa_media_type_parse(const char *name, wa_media_type_t *type);

//  Expand a media key (key_len must be 32). Returns 0 / -1.
int wa_media_keys(const uint8_t *media_key, size_t key_len,
                  wa_media_type_t type, wa_media_keys_t *keys);

//  Key for media retry receipts: HKDF(mediaKey, "WhatsApp Media Retry
//  Notification", 32). Returns 0 / -1.
int wa_media_retry_key(const uint8_t *media_key, size_t key_len,
                       uint8_t out[32]);

//  Encrypt len bytes of plaintext into out (WA_MEDIA_ENC_LEN(len) bytes);
//  *out_len gets the enc file length; hashes (may be NULL) get the
//  message fields. Returns 0 / -1.
int wa_media_encrypt(const uint8_t *media_key, size_t key_len,
                     wa_media_type_t type, const void *plain, size_t len,
                     uint8_t *out, size_t *out_len, wa_media_hashes_t *hashes);

//  Verify and decrypt an enc file. enc_sha256 / plain_sha256 (32 bytes
//  each, may be NULL to skip) are the fileEncSHA256 / fileSHA256 from the
//  message. out must hold enc_len bytes; *out_len gets the plaintext
//  length. Returns -1 on a bad length, MAC, hash or padding (out wiped).
int wa_media_decrypt(const uint8_t *media_key, size_t key_len,
                     wa_media_type_t type, const void *enc, size_t enc_len,
                     const uint8_t *enc_sha256, const uint8_t *plain_sha256,
                     uint8_t *out, size_t *out_len);

//  Streaming encryption.
typedef struct _wa_media_enc_t wa_media_enc_t;

//  Start encrypting with a 32-byte media key. NULL on bad arguments.
wa_media_enc_t *wa_media_enc_new(const uint8_t *media_key, size_t key_len,
                                 wa_media_type_t type);
//  Destroy. NULL-safe; sets *self_p to NULL.
void wa_media_enc_destroy(wa_media_enc_t **self_p);
//  Encrypt the next len bytes; out must hold len + 16 bytes; *out_len
//  gets the bytes written (enc file bytes, in order). Returns 0 / -1.
int wa_media_enc_update(wa_media_enc_t *self, const void *in, size_t len,
                        uint8_t *out, size_t *out_len);
//  Finish: write the last block and the MAC (at most WA_MEDIA_FINAL_MAX
//  bytes) and fill hashes (may be NULL). No updates after this. 0 / -1.
int wa_media_enc_final(wa_media_enc_t *self, uint8_t *out, size_t *out_len,
                       wa_media_hashes_t *hashes);

//  Streaming verification and decryption.
typedef struct _wa_media_dec_t wa_media_dec_t;

//  Start decrypting. enc_sha256 / plain_sha256 as for wa_media_decrypt
//  (copied; may be NULL). NULL on bad arguments.
wa_media_dec_t *wa_media_dec_new(const uint8_t *media_key, size_t key_len,
                                 wa_media_type_t type,
                                 const uint8_t *enc_sha256,
                                 const uint8_t *plain_sha256);
//  Destroy. NULL-safe; sets *self_p to NULL.
void wa_media_dec_destroy(wa_media_dec_t **self_p);
//  Feed the next len bytes of the enc file; out must hold len + 16 bytes;
//  *out_len gets the UNVERIFIED plaintext bytes written. Returns 0 / -1.
int wa_media_dec_update(wa_media_dec_t *self, const void *in, size_t len,
                        uint8_t *out, size_t *out_len);
//  Finish: check MAC, padding and the given hashes; write the last
//  plaintext bytes (at most 16). Returns 0 only if everything verified.
int wa_media_dec_final(wa_media_dec_t *self, uint8_t *out, size_t *out_len);

//  Self test
void wa_media_test(bool verbose);

#endif
