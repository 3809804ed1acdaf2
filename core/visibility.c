/* core/visibility.c — see visibility.h. */
#include "core/visibility.h"

cor_status_t
cor_visibility_can_see(cor_store_t *st, const cor_viewer_t *viewer, const cor_group_t *g,
                       bool *allowed)
{
    *allowed = false;
    switch (viewer->kind) {
    case COR_VIEWER_OFFICER:
        *allowed = true;
        return COR_OK;
    case COR_VIEWER_ANONYMOUS:
        *allowed = g->visibility == COR_VISIBILITY_PUBLIC;
        return COR_OK;
    case COR_VIEWER_GUEST:
        if (g->visibility == COR_VISIBILITY_PUBLIC) {
            *allowed = true;
            return COR_OK;
        }
        if (g->visibility == COR_VISIBILITY_STAFF)
            return COR_OK;
        /* a private group: as staff, when they are a member */
        G_GNUC_FALLTHROUGH;
    case COR_VIEWER_STAFF:
        if (viewer->kind == COR_VIEWER_STAFF && g->visibility != COR_VISIBILITY_PRIVATE) {
            *allowed = true;
            return COR_OK;
        }
        if (viewer->address == NULL || *viewer->address == '\0')
            return COR_OK;
        cor_status_t s = cor_store_member_check(st, g->id, viewer->address);
        if (s == COR_OK)
            *allowed = true;
        return s == COR_ERR_NOT_FOUND ? COR_OK : s;
    }
    return COR_OK;
}

cor_status_t
cor_visibility_groups(cor_store_t *st, const cor_viewer_t *viewer, GPtrArray **names)
{
    *names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) groups = NULL;
    cor_status_t s = cor_store_group_list(st, false, &groups);
    if (s != COR_OK)
        return s;
    for (guint i = 0; i < groups->len; i++) {
        cor_group_t *g = g_ptr_array_index(groups, i);
        bool ok;
        if ((s = cor_visibility_can_see(st, viewer, g, &ok)) != COR_OK)
            return s;
        if (ok)
            g_ptr_array_add(*names, g_strdup(g->name));
    }
    return COR_OK;
}
