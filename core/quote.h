/* core/quote.h — splitting a text body into what the author wrote, what
 * they quoted, and their signature.
 *
 * Purpose: the archive shows new text prominently and folds quotes away,
 * digests show only new text, search can weigh new text above quotes.  The
 * rules are line based and work on the plain-text body (HTML mail is first
 * rendered by html_text.h, which prefixes blockquotes with "> "):
 *
 * Quoted (role "quoted"):
 *   - lines whose first non-blank character is '>', with the blank lines
 *     between them;
 *   - the attribution just above such a block (up to two blank lines above
 *     it), one to three lines ending in ':' that name an author or a date:
 *     "On Mon, 3 Jan 2005, Ralf wrote:", "Ralf Baechle wrote:",
 *     "... schrieb:", "Le ... a écrit :", "26.06.2014, 14:41, "A" <a@b>:",
 *     including attributions wrapped onto two or three lines;
 *   - from a forwarded/original-message marker to the end of the body:
 *     "-----Original Message-----" and its translations, "----- Forwarded
 *     message -----", "Begin forwarded message:", Outlook's underscore line or
 *     header block "From: ... Sent: ... To: ..." (in the languages
 *     cor_quote_header_field knows; a block needs From plus Sent, or From
 *     plus To plus Date or Subject, so a "git format-patch" header pasted
 *     into a mail is not taken for one), with the attribution or separator
 *     line just above it.
 *
 * Signature (role "signature"), searched in the text that is neither quoted
 * nor after a marker:
 *   - from a "-- " (or "--") line to the end of its text block (the next
 *     quote or the end);
 *   - a mobile sign-off such as "Sent from my iPhone" near the end of a block;
 *   - inline PGP armour ("-----BEGIN PGP SIGNED MESSAGE-----" with its Hash
 *     lines, and the "-----BEGIN PGP SIGNATURE-----" block);
 *   - at the end of the last block of new text: disclaimer paragraphs ("This
 *     email and any attachments are confidential ...", "DISCLAIMER", "The
 *     information contained in this e-mail ... intended solely ..."), a
 *     mailing-list footer under an underscore line, a contact block under a
 *     separator line ("----------"), and — when the sender is known — the
 *     short closing lines from the one naming the sender ("Thanks,\nRalf",
 *     "Gina Smith\ngina@example.com\n555 0100"), with a closing such as
 *     "Thanks," just above.  These end-of-text heuristics never take the
 *     whole text: some new text must remain above them.
 *
 * Everything else is new text.  Interleaved replies (quote, answer, quote,
 * answer) keep every answer as new text.
 *
 * Invariants:
 *   1. Every input line ends up in exactly one of the three outputs (blank
 *      lines at the edges of a block aside); nothing is rewritten.
 *   2. Within each output, the blocks keep their order and are separated by
 *      one blank line; each non-empty output ends with "\n".
 *
 * Thread safety: no global state.
 */
#ifndef COR_QUOTE_H
#define COR_QUOTE_H

#include <stddef.h>

/* The kinds of header field that reply and forward blocks show. */
typedef enum cor_header_field {
    COR_FIELD_NONE = 0,
    COR_FIELD_FROM,      /* From, Von, De, Van, От, ... */
    COR_FIELD_SENT,      /* Sent, Gesendet, Envoyé, Отправлено, ... */
    COR_FIELD_DATE,      /* Date, Datum, Fecha, ... */
    COR_FIELD_TO,        /* To, An, À, Aan, Кому, ... */
    COR_FIELD_CC,        /* Cc, Bcc, Kopie, ... */
    COR_FIELD_SUBJECT,   /* Subject, Betreff, Objet, Тема, ... */
} cor_header_field_t;

/* Recognises a line of a quoted header block: a known field name (optionally
 * bold-marked "*From:*" and with a space before the colon as in French),
 * then ':'.  `line` is `len` bytes of UTF-8, not necessarily NUL-terminated.
 * Returns COR_FIELD_NONE for anything else. */
cor_header_field_t cor_quote_header_field(const char *line, size_t len);

/* Splits the UTF-8 text `body` (`len` bytes; LF or CRLF line ends) into new
 * text, quoted text and signature (see the rules above).  `sender`, when
 * not NULL, is the author's display form ("Ralf Baechle <ralf@x.org>", or a
 * name, or an address): its name words and address local part let the
 * signature rule find "Thanks,\nRalf".  Each out-parameter receives a new
 * string, "" when that part is empty (transfer full, g_free each). */
void cor_quote_split(const char *body, size_t len, const char *sender,
                     char **new_text, char **quoted, char **signature);

#endif
