/* filters/marking.h — UK protective markings in a message.
 *
 * What counts as a marking (the Government Security Classifications, 2014
 * onwards, and the older Government Protective Marking Scheme still found in
 * council mail):
 *
 *   OFFICIAL-SENSITIVE   with any spelling of the joint (hyphen, en dash,
 *                        space, colon, underscore, none), in brackets
 *                        [..], (..), {..}, with or without a descriptor
 *                        (PERSONAL, COMMERCIAL, LOCSEN, ...), anywhere at the
 *                        start of the subject after reply/forward prefixes
 *                        (RE:, FW:, Fwd:, AW:, ...) and [list tags], or at
 *                        its end in brackets or after a spaced separator
 *                        (" - ", " – ", " | ", ": ") when written as
 *                        markings are (capitals, or a joined pair);
 *   PROTECT, RESTRICTED, CONFIDENTIAL   (legacy GPMS) in the same positions;
 *   SECRET, TOP SECRET;
 *   a marking line alone (give or take "Classification:", brackets and
 *   punctuation) among the first or last lines of the body;
 *   X-Protective-Marking: ... SEC=VALUE ... with VALUE one of the above
 *   (OFFICIAL and UNOFFICIAL are not markings);
 *   S/MIME-encrypted mail (application/pkcs7-mime with
 *   smime-type=enveloped-data, or no smime-type), PGP/MIME encrypted
 *   (multipart/encrypted), and Microsoft rights-protected mail
 *   (a message.rpmsg attachment or application/x-microsoft-rpmsg-message).
 *
 * Plain OFFICIAL is the baseline classification of ordinary government work
 * and is *not* a marking.  Ordinary prose must never trigger: "the official
 * figures", "confidential advice was given", "a restricted car park", "top
 * secret recipe!" in a sentence — a marking is recognised only where
 * markings are written (the start of the subject, a bracketed tag at its
 * end, a line of its own at the top or bottom of the body), never in the
 * middle of running text.
 *
 * Purview (msip_labels) label GUIDs and the Sensitivity header depend on the
 * site's configuration, so the scan only collects them; the filter compares
 * them with the group's settings (filter.c).
 *
 * Thread-safe, no allocation beyond the result.
 */
#ifndef COR_FILTERS_MARKING_H
#define COR_FILTERS_MARKING_H

#include <glib.h>
#include <stdbool.h>

#include "core/message.h"
#include "filters/headers.h"

typedef enum cor_marking_kind {
    COR_MARKING_NONE = 0,
    COR_MARKING_PROTECT,
    COR_MARKING_RESTRICTED,
    COR_MARKING_CONFIDENTIAL,
    COR_MARKING_OFFICIAL_SENSITIVE,
    COR_MARKING_SECRET,
    COR_MARKING_TOP_SECRET,
    COR_MARKING_ENCRYPTED,       /* S/MIME, PGP/MIME or rpmsg: contents unknown */
    COR_MARKING_KIND_COUNT
} cor_marking_kind_t;

/* "none", "protect", "restricted", "confidential", "official-sensitive",
 * "secret", "top-secret", "encrypted" (static): the names used in the
 * `marking_levels` setting. */
const char *cor_marking_kind_to_string(cor_marking_kind_t k);
/* COR_MARKING_KIND_COUNT for an unknown name. */
cor_marking_kind_t cor_marking_kind_from_string(const char *name);

typedef struct cor_marking_scan {
    cor_marking_kind_t kind;     /* the first marking found (subject, then
                                    X-Protective-Marking, body top, body
                                    bottom, encryption), NONE when none */
    char *where;                 /* "subject", "X-Protective-Marking",
                                    "first lines of the body", "last lines of
                                    the body", "S/MIME encryption", "PGP/MIME
                                    encryption", "rights-protected (rpmsg)";
                                    NULL when none (owned) */
    char *text;                  /* the marking as written, e.g.
                                    "OFFICIAL-SENSITIVE: PERSONAL" (owned, NULL when none) */
    GPtrArray *msip_labels;      /* char*: lowercase GUIDs of the msip_labels
                                    labels marked Enabled=true, never NULL (owned) */
    GPtrArray *msip_names;       /* char*: their _Name= values, same order ("" when none) */
    char *sensitivity;           /* lowercase Sensitivity: value, "" when absent (owned) */
} cor_marking_scan_t;

/* Scans subject, X-Protective-Marking, the body's first and last lines
 * (msg->body_head, msg->body_tail), the MIME type (from `h`'s
 * Content-Type) and the attachments.  Fills *out (cleared first). */
void cor_marking_scan(const cor_message_t *msg, const cor_headers_t *h, cor_marking_scan_t *out);
void cor_marking_scan_clear(cor_marking_scan_t *s);

/* The marking at the start of a (decoded) subject, or in a bracketed tag
 * at its end; *text (may be NULL) gets the marking as written (transfer
 * full).  Exposed for the table-driven tests. */
cor_marking_kind_t cor_marking_subject(const char *subject, char **text);

/* The marking on one body line that holds nothing else; *text as above. */
cor_marking_kind_t cor_marking_line(const char *line, char **text);

/* The marking named by an X-Protective-Marking value ("VER=2018.1,
 * NS=gov.au, SEC=OFFICIAL:Sensitive, ..."); *text as above. */
cor_marking_kind_t cor_marking_x_protective(const char *value, char **text);

#endif
