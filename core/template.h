/* core/template.h — page templates that escape by default.
 *
 * Purpose: the archive, the digests and the FOI exports render pages from
 * template files that a council may replace (branding) without recompiling.
 * The syntax is a small, logic-less subset of Mustache:
 *
 *   {{name}}            the value of `name`, escaped for HTML/XML
 *   {{a.b.c}}           a dotted path into nested objects
 *   {{.}}               the current item (inside a section over a list)
 *   {{#name}}...{{/name}}  a section: once per item when `name` is a list
 *                       (each item becomes the innermost scope), once with
 *                       the object as scope when it is an object, once when
 *                       it is any other true value; not at all when it is
 *                       missing, false, 0, "" or an empty list
 *   {{^name}}...{{/name}}  inverted: only when the section would not render
 *   {{> other}}         the template `other` of the same set, in the current
 *                       scope (recursion is cut at depth 16)
 *   {{! comment }}      nothing
 *
 * Names are looked up from the innermost scope outwards (so a list item can
 * use the page's `{{site.title}}`).  A missing name renders as nothing.
 *
 * Escaping is decided by the value, never by the template: a string value
 * is always escaped (& < > " ' become entities; C0 controls other than tab
 * and newline, CR and DEL are dropped; invalid UTF-8, U+FFFE and U+FFFF
 * become U+FFFD; so the result is valid in HTML text, in quoted attribute
 * values and in XML); only a value the code built as markup with
 * cor_tval_set_html() (sanitised mail HTML, markup the renderer made) is
 * written as it is.  There is deliberately no "{{{raw}}}" form: a template
 * cannot turn escaping off.
 *
 * A standalone tag line (a line holding only a section, inverted, closing,
 * partial or comment tag, with white space around it) is removed entirely,
 * as in Mustache, so templates can be indented without spraying blank lines
 * (unlike Mustache, a standalone partial's indentation is not added to the
 * lines of the partial).  {{x}} of a boolean prints true or false.
 *
 * Values live in a cor_tctx_t arena: every value, key and string copied in
 * is freed with the context, in one go.  Building values is cheap (no
 * hashing; objects keep keys in insertion order; lookups compare keys
 * linearly, fine for the few dozen keys of a page).
 *
 * Thread safety: a compiled set is read-only after loading and may be used
 * from several threads at once; a context belongs to one thread.
 */
#ifndef COR_TEMPLATE_H
#define COR_TEMPLATE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"

/* ---- values ---- */

typedef struct cor_tctx cor_tctx_t;   /* the arena */
typedef struct cor_tval cor_tval_t;   /* a value: object, list, string, html, int, bool */

cor_tctx_t *cor_tctx_new(void);
void cor_tctx_free(cor_tctx_t *ctx);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_tctx_t, cor_tctx_free)

/* A new empty object (transfer none: owned by ctx). */
cor_tval_t *cor_tval_object(cor_tctx_t *ctx);

/* Setters on an object.  `key` and `s` are copied into the arena (the
 * _static forms keep the pointer: for string literals).  Setting a key that
 * exists replaces its value.  `s` NULL is the same as "". */
void cor_tval_set_str(cor_tctx_t *ctx, cor_tval_t *obj, const char *key, const char *s);
void cor_tval_set_str_len(cor_tctx_t *ctx, cor_tval_t *obj, const char *key, const char *s,
                          size_t len);
void cor_tval_set_static(cor_tctx_t *ctx, cor_tval_t *obj, const char *key, const char *s);
void cor_tval_set_printf(cor_tctx_t *ctx, cor_tval_t *obj, const char *key, const char *fmt,
                         ...) G_GNUC_PRINTF(4, 5);
/* Trusted markup, written without escaping.  Only for markup the code made
 * itself or that went through cor_sanitize_html(). */
void cor_tval_set_html(cor_tctx_t *ctx, cor_tval_t *obj, const char *key, const char *html);
void cor_tval_set_html_len(cor_tctx_t *ctx, cor_tval_t *obj, const char *key, const char *html,
                           size_t len);
void cor_tval_set_int(cor_tctx_t *ctx, cor_tval_t *obj, const char *key, int64_t v);
void cor_tval_set_bool(cor_tctx_t *ctx, cor_tval_t *obj, const char *key, bool v);
/* A new child object / list under `key` (transfer none). */
cor_tval_t *cor_tval_set_object(cor_tctx_t *ctx, cor_tval_t *obj, const char *key);
cor_tval_t *cor_tval_set_list(cor_tctx_t *ctx, cor_tval_t *obj, const char *key);
/* Sets `key` to an existing value (shared, not copied; same ctx). */
void cor_tval_set_value(cor_tctx_t *ctx, cor_tval_t *obj, const char *key, cor_tval_t *v);

/* Appends to a list: a new object (transfer none) or a string. */
cor_tval_t *cor_tval_list_add_object(cor_tctx_t *ctx, cor_tval_t *list);
void cor_tval_list_add_str(cor_tctx_t *ctx, cor_tval_t *list, const char *s);
size_t cor_tval_list_len(const cor_tval_t *list);

/* ---- templates ---- */

typedef struct cor_tmpl_set cor_tmpl_set_t;

cor_tmpl_set_t *cor_tmpl_set_new(void);
void cor_tmpl_set_free(cor_tmpl_set_t *set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(cor_tmpl_set_t, cor_tmpl_set_free)

/* Compiles `len` bytes of template text under `name` (replacing a template
 * of that name).  `origin` names the source in errors ("templates/page.html"
 * or "built-in page.html").  On a syntax error (unclosed or mismatched
 * section, a close with no open section, unterminated tag, empty or bad
 * name) returns COR_ERR_FORMAT and *err says
 * "ORIGIN:LINE: what is wrong" (transfer full). */
cor_status_t cor_tmpl_set_add(cor_tmpl_set_t *set, const char *name, const char *text, size_t len,
                              const char *origin, char **err);

/* Adds every regular file in `dir` whose name ends in .html, .xml or .txt
 * under its file name ("page.html"), replacing built-in ones.  COR_ERR_IO
 * when the folder cannot be read (err names it); syntax errors as above. */
cor_status_t cor_tmpl_set_add_dir(cor_tmpl_set_t *set, const char *dir, char **err);

bool cor_tmpl_set_has(const cor_tmpl_set_t *set, const char *name);

/* Renders template `name` with `scope` as the outermost scope, appending to
 * `out`.  COR_ERR_NOT_FOUND (err says which) when `name` or a partial it
 * uses is not in the set.  Deterministic: the same values give the same
 * bytes. */
cor_status_t cor_tmpl_render(const cor_tmpl_set_t *set, const char *name, const cor_tval_t *scope,
                             GString *out, char **err);

/* Appends `s` (`len` bytes, -1 for NUL-terminated) to `out` escaped the way
 * string values are. */
void cor_escape_html(GString *out, const char *s, gssize len);

#endif
