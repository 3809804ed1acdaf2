/* mta-bridge/postfix_maps.h — the lookup tables that tell Postfix which
 * addresses are corridor's.
 *
 * Three files in one directory, each "key value" per line, for Postfix's
 * texthash: (read as they are) or hash: (after postmap):
 *
 *   transport              GROUP@DOMAIN  TRANSPORT     (and -request, -owner, -bounces)
 *   relay_recipient_maps   GROUP@DOMAIN  OK            (the same addresses)
 *   relay_domains          DOMAIN        OK
 *
 * With relay_recipient_maps Postfix refuses unknown addresses at RCPT, so
 * nobody gets a bounce for a typo (no backscatter).  -bounces+anything@
 * matches -bounces@ through Postfix's recipient_delimiter = +.  Each file
 * is written to a temporary name and renamed, so Postfix never reads half.
 */
#ifndef COR_POSTFIX_MAPS_H
#define COR_POSTFIX_MAPS_H

#include "core/status.h"
#include "core/store.h"

/* Writes the three tables for every group in `st`.  `domains` is
 * NULL-terminated and not empty.  *err transfer full. */
cor_status_t cor_postfix_maps_write(cor_store_t *st, const char *dir, const char *const *domains,
                                    const char *transport, char **err);

#endif
