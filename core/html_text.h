/* core/html_text.h — HTML mail to plain text.
 *
 * Purpose: give HTML-only mail (and HTML attachments) a plain-text form for
 * the body, the search index and quote separation.  The HTML goes through
 * libxml2's forgiving HTML parser (never a regex) and the tree is walked
 * like a text browser would render it:
 *
 *   - the content of head, title, script, style, template, object, iframe,
 *     svg and of elements hidden with "display:none" / "mso-hide:all" is
 *     dropped; comments are dropped;
 *   - block elements (p, div, h1-h6, tr, li, table, ...) start and end lines,
 *     p and headings leave a blank line; <br> is a line break; <hr> is a
 *     line of 32 underscores (Outlook's own plain-text separator);
 *   - <li> starts with "- " (or "N. " inside <ol>);
 *   - <a href="URL">text</a> gives "text <URL>" when URL is an http(s),
 *     ftp or mailto address that differs from the text ("mailto:" dropped);
 *   - <blockquote> lines are prefixed "> " per nesting level, so that the
 *     plain-text quote rules of quote.h apply to HTML mail too;
 *   - entities are decoded by the parser; white space collapses as in a
 *     browser (runs become one space, no space at line starts or ends),
 *     except inside <pre>; &nbsp; becomes a plain space that does not
 *     collapse; runs of blank lines become one blank line.
 *
 * Quote separation: webmail and Outlook replies put the original message in
 * a recognisable container rather than in a blockquote.  The start of the
 * first such container outside any blockquote is reported as a split offset
 * (see cor_html_to_text_split): Outlook's <div id="divRplyFwdMsg"> and
 * <div id="appendonsend">, Outlook for Mac's <span id="OLK_SRC_BODY_SECTION">,
 * Yahoo's <div class="yahoo_quoted">, and Outlook desktop's separator: a
 * <div> whose style has "border-top" and whose text starts with a header
 * field such as "From:" (in any language cor_quote_header_field knows).
 * Gmail's "gmail_quote" is deliberately not a split point: inline answers
 * are written inside it; its blockquote and attribution are found by the
 * plain-text rules instead.
 *
 * Invariants:
 *   1. The result is valid UTF-8 without NUL, never NULL ("" for empty or
 *      unparsable input), lines end with "\n", no line has trailing blanks.
 *   2. Input is expected in UTF-8 (the caller converts the MIME charset);
 *      a <meta charset> in the document is ignored.
 *
 * Thread safety: safe from several threads once xmlInitParser() was called
 * (cor_message_init does it); no global state.
 */
#ifndef COR_HTML_TEXT_H
#define COR_HTML_TEXT_H

#include <stddef.h>

/* Converts `len` bytes of UTF-8 HTML at `html` to text (transfer full,
 * g_free).  `html` need not be NUL-terminated. */
char *cor_html_to_text(const char *html, size_t len);

/* Same as cor_html_to_text, and sets *quote_offset to the byte offset in the
 * returned text where the original message of a webmail/Outlook reply
 * begins (see "Quote separation" above), or to strlen(result) when there is
 * no such container.  The offset is at a line start. (transfer full) */
char *cor_html_to_text_split(const char *html, size_t len, size_t *quote_offset);

#endif
