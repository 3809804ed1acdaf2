/* core/sanitize.h — HTML mail made safe to show in a page.
 *
 * Purpose: HTML mail is hostile input.  The archive (and later the HTML
 * digest) shows an HTML part's formatting only after it went through this
 * module: libxml2's HTML parser (never a regex) builds a tree, and a new
 * fragment is written from it keeping only what an allow-list names.
 *
 * Kept (with their text):
 *   p br hr div span blockquote pre code tt kbd samp q cite
 *   b strong i em u s strike sub sup small big mark abbr del ins
 *   h1..h6 (written as h4..h6 with their level shifted, so a mail's headings
 *   never break the page's heading order: h1,h2,h3 -> h4, h4 -> h5, h5,h6 -> h6)
 *   ul ol li dl dt dd
 *   table caption thead tbody tfoot tr th td colgroup col
 *   a (href only; see links)  img (see images)
 * Attributes kept: a@href, a@title, td/th@colspan, td/th@rowspan (digits
 * only, at most 3), th@scope (row|col|rowgroup|colgroup), ol@start (digits),
 * abbr@title, img@alt, *@dir (ltr|rtl|auto), *@lang (letters, digits, '-').
 * Nothing else: no style, class, id, on* handlers, no data-*, no form.
 *
 * Dropped with their content: script, style, noscript, template, iframe,
 * frame, frameset, object, embed, applet, svg, math, head, title, meta,
 * link, base, form controls (form, input, button, select, textarea, option),
 * audio, video, canvas, and comments/processing instructions.
 * Any other element (font, center, html, body, section, custom tags...) is
 * unwrapped: it goes, its children stay.
 *
 * Links: an href is kept only when, after trimming white space and removing
 * ASCII control characters, its scheme is http, https or mailto (case
 * insensitive), or it is a fragment "#..."; relative links and every other
 * scheme (javascript:, data:, vbscript:, file:, cid:) lose the href (the
 * text stays, as a span-less run).  Kept links get
 * rel="noopener noreferrer nofollow" (and no target).
 *
 * Images: never loaded from anywhere (no remote images: they track readers
 * and the page's CSP forbids them anyway).  An img becomes its alt text in
 * brackets, "[image: ALT]", or "[image]" without alt.
 *
 * Output: a UTF-8 fragment (no html/body wrapper), every attribute value
 * quoted and escaped, every text node escaped, elements balanced (the tree
 * is written, not the input), so it can be placed inside any block element.
 *
 * Invariants:
 *   1. The output never contains an element or attribute not in the lists
 *      above, whatever the input (malformed, nested, encoded entities,
 *      NUL bytes, unknown charsets — input is UTF-8; invalid sequences are
 *      replaced).
 *   2. Never NULL; "" for empty or unparsable input.
 *
 * Thread safety: safe from several threads after xmlInitParser()
 * (cor_message_init does it).
 */
#ifndef COR_SANITIZE_H
#define COR_SANITIZE_H

#include <stddef.h>

/* Sanitises `len` bytes of UTF-8 HTML (a whole document or a fragment; need
 * not be NUL-terminated).  Returns the safe fragment (transfer full, g_free). */
char *cor_sanitize_html(const char *html, size_t len);

#endif
