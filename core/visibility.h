/* core/visibility.h — who may see what, decided in one place.
 *
 * DESIGN.md invariant 5: a private group's text never reaches a public page,
 * feed, digest of another group, or a search result of someone not allowed
 * to see it.  Every page, feed, search, digest and export asks this module
 * which groups a viewer may see, and passes the answer on (for search, as
 * cor_search_query_t.groups) — nobody decides it again.
 *
 *   public group   everyone who reaches the archive
 *   staff group    signed-in staff (the `corridor search` command acts as staff)
 *   private group  its members only (a viewer with an address that is an
 *                  enabled member)
 *   officer        FOI/records officers see every group (records issue)
 */
#ifndef COR_VISIBILITY_H
#define COR_VISIBILITY_H

#include <glib.h>
#include <stdbool.h>

#include "core/status.h"
#include "core/store.h"

typedef enum cor_viewer_kind {
    COR_VIEWER_ANONYMOUS = 0,  /* public groups only */
    COR_VIEWER_STAFF,          /* public and staff groups, plus private ones
                                  where `address` is a member */
    COR_VIEWER_OFFICER,        /* every group */
    COR_VIEWER_GUEST,          /* someone outside the organisation (an address
                                  not in the staff domains) known by
                                  `address`: public groups, plus private ones
                                  where they are a member; never 'staff'
                                  groups, even as a member (digests) */
} cor_viewer_kind_t;

typedef struct cor_viewer {
    cor_viewer_kind_t kind;
    const char *address;       /* NULL, or the viewer's address (borrowed) */
} cor_viewer_t;

/* True when `viewer` may see group `g`. */
cor_status_t cor_visibility_can_see(cor_store_t *st, const cor_viewer_t *viewer,
                                    const cor_group_t *g, bool *allowed);

/* Names of the groups `viewer` may see, by name (transfer full). */
cor_status_t cor_visibility_groups(cor_store_t *st, const cor_viewer_t *viewer, GPtrArray **names);

#endif
