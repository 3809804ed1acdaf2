/* mta-bridge/listcopy.h — the copy of a post that goes to each member.
 *
 * Design notes
 * ------------
 * One post to a group of 5,000 becomes 5,000 messages that differ only in
 * the envelope (VERP: GROUP-bounces+local=domain@DOMAIN, so a bounce names
 * the member) and in two header fields (List-Unsubscribe carries the
 * member's own one-click URL).  So the copy is prepared once per post —
 * cor_copy_prepare builds the shared header block and the body — and each
 * member's copy is three pieces sent one after another: the shared head,
 * the member's lines, the body.  Nothing is copied per member.
 *
 * The shared head is the original's header block with:
 *   - removed: Return-Path, Delivered-To, X-Original-To (local delivery's),
 *     every List-*, Archived-At, Precedence, X-Auto-Response-Suppress,
 *     Errors-To (incoming list headers are replaced, never duplicated);
 *   - From: rewritten per the group's DMARC setting ("Name via Group"
 *     <group@domain>; then Sender goes too) and the author put in Reply-To
 *     (reply_to = author) or Cc (reply_to = group), unless already there;
 *     without rewriting, reply_to = group sets Reply-To: the group unless the
 *     author set a Reply-To of their own;
 *   - Subject: the group's prefix put in front, once;
 *   - added: List-Id (RFC 2919, with the title), List-Post, List-Help,
 *     List-Subscribe, List-Archive, Archived-At (RFC 5064: the message's
 *     archive permalink), Precedence: list, X-Auto-Response-Suppress: OOF,
 *     AutoReply, X-Loop: group@domain.
 * Per member: List-Unsubscribe: <BASE/u/TOKEN>, <mailto:GROUP-leave@DOMAIN>
 * and List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058).
 * The body is the original's, with the group's footer: appended to a plain
 * 7bit/8bit text body, added as a last part of multipart/mixed, or else the
 * original body wrapped into a new multipart/mixed with the footer part.
 * Line ends become CRLF everywhere (libcurl sends the bytes as given).
 */
#ifndef COR_LISTCOPY_H
#define COR_LISTCOPY_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/listconf.h"
#include "core/status.h"

typedef struct cor_copy_params {
    const cor_list_policy_t *policy;
    const char *domain;        /* the list domain */
    const char *base_url;      /* ends with '/' */
    const char *message_id;    /* the post's (for Archived-At) */
    const char *author_addr;   /* From: address of the post ("" if none) */
    const char *author_name;   /* From: display name ("" if none) */
} cor_copy_params_t;

typedef struct cor_copy cor_copy_t;

/* Prepares a post's copies (transfer full). */
cor_status_t cor_copy_prepare(const char *raw, size_t len, const cor_copy_params_t *p,
                              cor_copy_t **out, char **err);
void cor_copy_free(cor_copy_t *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_copy_t, cor_copy_free)

/* The shared header lines (CRLF-terminated, no blank line) and the body
 * (starting with the blank line), transfer none. */
const char *cor_copy_head(const cor_copy_t *c, size_t *len);
const char *cor_copy_body(const cor_copy_t *c, size_t *len);
/* The member's own header lines (CRLF-terminated); `token` NULL when the
 * recipient is not a member (then only the mailto) — transfer full. */
char *cor_copy_member_lines(const cor_copy_t *c, const char *token);

/* VERP senders, their decoding and the archive permalink are core/links.h's
 * (the digests use them too). */

#endif
