/* core/links.h — the links and addresses generated mail carries, made in
 * one place so that every sender agrees with the archive and the daemon.
 *
 *   the archive's page of a message  g/GROUP/m/KE/KEY.html, KEY the first 16
 *                                    hex digits of the SHA-256 of the
 *                                    Message-ID (without <>) and KE its first
 *                                    two (the layout of archive-web/archive.h)
 *   a group's archive                g/GROUP/
 *   a member's one-click leave page  u/TOKEN (RFC 8058; archive-web/http.c)
 *   VERP envelope sender             GROUP-bounces+LOCAL=DOMAIN@LISTDOMAIN
 *
 * Paths are relative to the base URL (cor_config_base_url, which ends in
 * '/'); the _url forms put the base in front.  All return transfer full. */
#ifndef COR_LINKS_H
#define COR_LINKS_H

/* "g/GROUP/m/KE/KEY.html" */
char *cor_link_message_path(const char *group, const char *message_id);
/* BASE + the path above */
char *cor_link_message_url(const char *base_url, const char *group, const char *message_id);
/* BASE "g/GROUP/" */
char *cor_link_group_url(const char *base_url, const char *group);
/* BASE "u/TOKEN" */
char *cor_link_unsubscribe_url(const char *base_url, const char *token);
/* BASE "u/TOKEN/digest": stops a combined digest (one click, RFC 8058) */
char *cor_link_digest_stop_url(const char *base_url, const char *token);
/* GROUP-bounces+LOCAL=DOMAIN@LISTDOMAIN for `address`, GROUP-bounces@LISTDOMAIN
 * when it has no '@' */
char *cor_link_verp_sender(const char *group, const char *list_domain, const char *address);
/* The member address a VERP detail ("local=domain", the part after
 * GROUP-bounces+) names, lowercase; NULL when it names none (transfer full). */
char *cor_link_verp_decode(const char *detail);

/* Percent-encodes `s` for a URI query value (RFC 3986): everything but
 * unreserved characters (A-Z a-z 0-9 - . _ ~) and `keep` (may be NULL) is
 * written %XX, byte by byte (UTF-8 stays UTF-8). */
char *cor_link_percent_encode(const char *s, const char *keep);

#endif
