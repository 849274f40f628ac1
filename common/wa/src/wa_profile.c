/*  wa_profile - the account's own profile: picture and about text

    Copyright (c) 2026 the Wharf authors. Apache-2.0.
*/
#undef NDEBUG
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/cm.h"
#include "wa/wa_profile.h"

static bool
s_jpeg(const uint8_t *data, size_t len)
{
    return data && len >= 4 && len <= WA_PROFILE_PICTURE_MAX &&
           data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;
}

static wa_node_t *
s_iq(const char *xmlns)
{
    wa_node_t *iq = wa_node_new("iq");
    wa_node_set_attr(iq, "xmlns", xmlns);
    wa_node_set_attr(iq, "type", "set");
    wa_node_set_attr(iq, "to", "s.whatsapp.net");
    return iq;
}

wa_node_t *
wa_profile_picture_iq(const uint8_t *full, size_t full_len,
                      const uint8_t *preview, size_t preview_len)
{
    if (full && (!s_jpeg(full, full_len) ||
                 (preview && !s_jpeg(preview, preview_len)))) {
        return NULL;
    }
    wa_node_t *iq = s_iq("w:profile:picture");
    if (full) {
        wa_node_t *pic = wa_node_add(iq, "picture");
        wa_node_set_attr(pic, "type", "image");
        wa_node_set_bytes(pic, full, full_len);
        if (preview) {
            pic = wa_node_add(iq, "picture");
            wa_node_set_attr(pic, "type", "preview");
            wa_node_set_bytes(pic, preview, preview_len);
        }
    }
    return iq;
}

char *
wa_profile_picture_id(const wa_node_t *reply)
{
    const wa_node_t *pic = reply ? wa_node_child(reply, "picture") : NULL;
    const char *id = pic ? wa_node_attr(pic, "id") : NULL;
    return id && strlen(id) <= 64 ? cm_strdup(id) : NULL;
}

wa_node_t *
wa_profile_about_iq(const char *text)
{
    if (!text || strlen(text) > WA_PROFILE_ABOUT_MAX) {
        return NULL;
    }
    wa_node_t *iq = s_iq("status");
    wa_node_set_bytes(wa_node_add(iq, "status"), text, strlen(text));
    return iq;
}

void
wa_profile_test(bool verbose)
{
    printf(" * wa_profile: ");
    (void)verbose;
    const uint8_t full[] = {0xFF, 0xD8, 0xFF, 0xE0, 1, 2};
    const uint8_t prev[] = {0xFF, 0xD8, 0xFF, 0xDB, 3};
    const uint8_t png[] = {0x89, 'P', 'N', 'G'};
    wa_node_t *iq = wa_profile_picture_iq(full, sizeof full, prev, sizeof prev);
    assert(iq && wa_node_attr_eq(iq, "xmlns", "w:profile:picture"));
    assert(wa_node_attr_eq(iq, "type", "set") && !wa_node_attr(iq, "target"));
    assert(wa_node_child_count(iq) == 2);
    const wa_node_t *p = wa_node_child_at(iq, 0);
    size_t len = 0;
    assert(wa_node_attr_eq(p, "type", "image"));
    assert(wa_node_bytes(p, &len) && len == sizeof full);
    p = wa_node_child_at(iq, 1);
    assert(wa_node_attr_eq(p, "type", "preview"));
    assert(wa_node_bytes(p, &len) && len == sizeof prev);
    wa_node_destroy(&iq);
    //  Removal: no child; not a JPEG: nothing
    iq = wa_profile_picture_iq(NULL, 0, NULL, 0);
    assert(iq && wa_node_child_count(iq) == 0);
    wa_node_destroy(&iq);
    assert(!wa_profile_picture_iq(png, sizeof png, NULL, 0));
    assert(!wa_profile_picture_iq(full, sizeof full, png, sizeof png));

    wa_node_t *reply =
        wa_node_new_from_text("<iq><picture id=\"42\"/></iq>", NULL);
    char *id = wa_profile_picture_id(reply);
    assert(cm_streq(id, "42"));
    free(id);
    wa_node_destroy(&reply);
    assert(!wa_profile_picture_id(NULL));

    iq = wa_profile_about_iq("At work");
    assert(iq && wa_node_attr_eq(iq, "xmlns", "status"));
    assert(wa_node_bytes(wa_node_child(iq, "status"), &len) && len == 7);
    wa_node_destroy(&iq);
    char *longer = cm_alloc(WA_PROFILE_ABOUT_MAX + 2);
    memset(longer, 'a', WA_PROFILE_ABOUT_MAX + 1);
    assert(!wa_profile_about_iq(longer));
    free(longer);
    printf("OK\n");
}
