/*  wa_node - a WhatsApp stanza as a tree: tag, attributes, content

    Copyright (c) 2026 the Wharf authors. Apache-2.0.

    A node has a non-empty tag, attributes in insertion order (key and
    value strings; values are binary-safe) and at most one kind of content:
    nothing, a list of child nodes, raw bytes, or a string. String content
    is bytes that the binary encoder writes like an attribute value (token,
    packed, JID or raw); received content that arrived as a token, packed
    string or JID decodes as string content. wa_binary converts nodes to
    and from the wire format.

    Text form (wa_node_text, wa_node_new_from_text), XML-like:

        <iq id="1.2-3" type="get" xmlns="w:p">
          <ping/>
        </iq>

    - `<t/>` no content; `<t></t>` an empty child list
    - `<t>text</t>` bytes that are printable UTF-8
    - `<t>0x0a0b</t>` bytes in hex (always used for non-printable bytes)
    - `<t>"text"</t>` string content
    - escapes in names, values and text: &amp; &lt; &gt; &quot; &apos; and
      &#xHH; (one raw byte, e.g. &#x0a;)
    Output truncated by a byte limit ends in "...(N more bytes)" and does
    not parse back.

    Attributes with the same key may occur twice in decoded input; lookups
    use the last one, as other implementations do.
*/
#ifndef WA_NODE_H_INCLUDED
#define WA_NODE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct _wa_node_t wa_node_t;

typedef enum {
    WA_NODE_EMPTY = 0, //  no content
    WA_NODE_LIST = 1,  //  child nodes (possibly none)
    WA_NODE_BYTES = 2, //  raw bytes
    WA_NODE_STRING = 3 //  a string, encoded with the string rules
} wa_node_content_t;

//  Deepest nesting wa_node_new_from_text accepts
#define WA_NODE_TEXT_MAX_DEPTH 64

//  Create a node with a copy of `tag` (non-empty) and no content. Caller
//  owns return value.
wa_node_t *wa_node_new(const char *tag);

//  As wa_node_new with a tag of `len` bytes (non-empty, no NUL byte).
wa_node_t *wa_node_new_n(const char *tag, size_t len);

//  Destroy a node and all its children. NULL-safe; sets *self_p to NULL.
void wa_node_destroy(wa_node_t **self_p);

//  Deep copy. Caller owns return value.
wa_node_t *wa_node_dup(const wa_node_t *self);

//  Tag (borrowed).
const char *wa_node_tag(const wa_node_t *self);

//  True when the tag equals `tag`.
bool wa_node_is(const wa_node_t *self, const char *tag);

//  ---------------------------------------------------------------------
//  Attributes

//  Set attribute `key` to a copy of the string `value`, replacing an
//  existing value in place (order is kept) or appending. A NULL value
//  removes the attribute. Returns 0.
int wa_node_set_attr(wa_node_t *self, const char *key, const char *value);

//  As wa_node_set_attr with a binary-safe value of `len` bytes.
int wa_node_set_attr_bytes(wa_node_t *self, const char *key, const void *value,
                           size_t len);

//  As wa_node_set_attr with a printf-formatted value.
int wa_node_set_attrf(wa_node_t *self, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

//  As wa_node_set_attr with a decimal integer value.
int wa_node_set_attr_int(wa_node_t *self, const char *key, int64_t value);

//  Append an attribute with a `key_len`-byte key (non-empty, no NUL) and a
//  `len`-byte value, without looking for an existing one (decoders use
//  this; lookups see the last of duplicate keys). Returns 0.
int wa_node_append_attr(wa_node_t *self, const char *key, size_t key_len,
                        const void *value, size_t len);

//  Remove attribute `key` (every occurrence). Returns 0, or -1 if absent.
int wa_node_remove_attr(wa_node_t *self, const char *key);

//  Value of attribute `key` (borrowed, NUL-terminated), or NULL if absent.
const char *wa_node_attr(const wa_node_t *self, const char *key);

//  Value of attribute `key`, or `dflt` if absent.
const char *wa_node_attr_or(const wa_node_t *self, const char *key,
                            const char *dflt);

//  Value and byte length of attribute `key` (binary-safe), or NULL.
const char *wa_node_attr_bytes(const wa_node_t *self, const char *key,
                               size_t *len_p);

//  True when attribute `key` exists and equals `value`.
bool wa_node_attr_eq(const wa_node_t *self, const char *key, const char *value);

//  Parse attribute `key` as a decimal integer (optional leading '-', no
//  spaces, in range). Returns 0 and sets *value_p, or -1 if absent or not
//  an integer.
int wa_node_attr_int(const wa_node_t *self, const char *key, int64_t *value_p);

//  Attribute `key` as an integer, or `dflt` if absent or not an integer.
int64_t wa_node_attr_int_or(const wa_node_t *self, const char *key,
                            int64_t dflt);

//  Number of attributes (duplicates counted).
size_t wa_node_attr_count(const wa_node_t *self);

//  Key of attribute `index` (borrowed), or NULL past the end.
const char *wa_node_attr_key_at(const wa_node_t *self, size_t index);

//  Value of attribute `index` (borrowed) and its length, or NULL.
const char *wa_node_attr_value_at(const wa_node_t *self, size_t index,
                                  size_t *len_p);

//  ---------------------------------------------------------------------
//  Content

//  Kind of content.
wa_node_content_t wa_node_content_type(const wa_node_t *self);

//  Drop any content (the node becomes WA_NODE_EMPTY).
void wa_node_clear_content(wa_node_t *self);

//  Make the content an empty child list (replacing other content).
void wa_node_set_list(wa_node_t *self);

//  Append a child, taking ownership (*child_p is set to NULL). Content
//  other than a child list is dropped first. Returns 0.
int wa_node_append(wa_node_t *self, wa_node_t **child_p);

//  Create a child with `tag`, append it and return it (borrowed).
wa_node_t *wa_node_add(wa_node_t *self, const char *tag);

//  Number of children (0 unless the content is a list).
size_t wa_node_child_count(const wa_node_t *self);

//  Child `index` (borrowed), or NULL past the end.
wa_node_t *wa_node_child_at(const wa_node_t *self, size_t index);

//  First child whose tag is `tag` (any child if `tag` is NULL), or NULL.
wa_node_t *wa_node_child(const wa_node_t *self, const char *tag);

//  Next child with `tag` after `prev` (a child of self; NULL starts at the
//  beginning), or NULL: for (c = wa_node_child_next(n, "x", NULL); c;
//  c = wa_node_child_next(n, "x", c)) visits every <x> child.
wa_node_t *wa_node_child_next(const wa_node_t *self, const char *tag,
                              const wa_node_t *prev);

//  Descendant by a '/'-separated tag path ("list/key/value"), taking the
//  first match at each level, or NULL.
wa_node_t *wa_node_find(const wa_node_t *self, const char *path);

//  Remove child `index` and return it. Caller owns return value; NULL past
//  the end.
wa_node_t *wa_node_take_child(wa_node_t *self, size_t index);

//  Set bytes content to a copy of `len` bytes (replacing other content).
void wa_node_set_bytes(wa_node_t *self, const void *data, size_t len);

//  Set string content to a copy of `str` (replacing other content).
void wa_node_set_string(wa_node_t *self, const char *str);

//  As wa_node_set_string with a binary-safe string of `len` bytes.
void wa_node_set_string_bytes(wa_node_t *self, const void *str, size_t len);

//  Bytes of bytes or string content (borrowed; always followed by a NUL
//  byte) and their length, or NULL with *len_p = 0 for other content.
const uint8_t *wa_node_bytes(const wa_node_t *self, size_t *len_p);

//  Bytes or string content as a C string (borrowed), or NULL for other
//  content or when it contains a NUL byte.
const char *wa_node_text_content(const wa_node_t *self);

//  ---------------------------------------------------------------------
//  Comparison and text form

//  Deep equality: same tag, same attributes (any order, duplicates as
//  lookups see them), same children in order, same content bytes. Bytes
//  and string content with equal bytes compare equal.
bool wa_node_eq(const wa_node_t *a, const wa_node_t *b);

//  Render as indented XML-like text (format in the banner). Content longer
//  than `max_bytes` is cut (0 = no limit). Caller owns return value.
char *wa_node_text(const wa_node_t *self, size_t max_bytes);

//  Write wa_node_text(self, max_bytes) and a newline to `file`. Returns 0
//  or -1 on a write error.
int wa_node_print(const wa_node_t *self, FILE *file, size_t max_bytes);

//  Parse the text form (one element, surrounding whitespace allowed).
//  Returns a node, or NULL and, when error_p is not NULL, an error message
//  ("line N: reason") in *error_p which the caller owns. Caller owns
//  return value.
wa_node_t *wa_node_new_from_text(const char *text, char **error_p);

//  Self test
void wa_node_test(bool verbose);

#endif
