/* Unit tests for filters/marking: table-driven cases for subjects, body
 * lines and X-Protective-Marking values (each row: input, expected kind,
 * expected text or NULL, why), then whole messages parsed as the intake
 * parses them (cor_message_parse_ex with COR_PARSE_SUMMARY|COR_PARSE_EDGES,
 * and cor_headers_parse on the same bytes).
 *
 * The prose rows matter as much as the marking rows: a false marking
 * rejects or holds ordinary council mail ("Confidential waste collection
 * moved to Tuesday"), so every prose subject we know of is pinned here.
 * The rule for prose against markings is documented at the top of
 * filters/marking.c.
 *
 * Table mismatches are all listed (g_test_message) before the test fails,
 * so one run shows every row that changed.
 */
#include <glib.h>
#include <string.h>

#include "core/message.h"
#include "filters/headers.h"
#include "filters/marking.h"

#define RECEIVED ((int64_t) 1700000000)

#define NONE COR_MARKING_NONE
#define PROT COR_MARKING_PROTECT
#define REST COR_MARKING_RESTRICTED
#define CONF COR_MARKING_CONFIDENTIAL
#define OS   COR_MARKING_OFFICIAL_SENSITIVE
#define SEC  COR_MARKING_SECRET
#define TS   COR_MARKING_TOP_SECRET
#define ENC  COR_MARKING_ENCRYPTED

typedef struct mcase {
    const char *input;
    cor_marking_kind_t kind;
    const char *text;            /* expected *text; NULL when kind is NONE */
    const char *why;
} mcase_t;

/* ---- subjects ------------------------------------------------------------- */

static const mcase_t subject_cases[] = {
    /* the joint between OFFICIAL and SENSITIVE */
    { "OFFICIAL-SENSITIVE", OS, "OFFICIAL-SENSITIVE", "hyphen, alone" },
    { "OFFICIAL\u2013SENSITIVE: budget", OS, "OFFICIAL\u2013SENSITIVE", "en dash" },
    { "OFFICIAL\u2014SENSITIVE budget papers", OS, "OFFICIAL\u2014SENSITIVE", "em dash" },
    { "OFFICIAL SENSITIVE", OS, "OFFICIAL SENSITIVE", "space" },
    { "OFFICIAL_SENSITIVE Housing case 123", OS, "OFFICIAL_SENSITIVE", "underscore" },
    { "OFFICIAL:SENSITIVE Budget", OS, "OFFICIAL:SENSITIVE", "colon" },
    { "OFFICIALSENSITIVE", OS, "OFFICIALSENSITIVE", "no separator" },
    { "OFFICIAL - SENSITIVE", OS, "OFFICIAL - SENSITIVE", "spaced hyphen" },
    /* case */
    { "official-sensitive: planning appeal", OS, "official-sensitive", "lower case, strong joint" },
    { "Official-Sensitive Planning appeal", OS, "Official-Sensitive", "mixed case, strong joint" },
    { "Official Sensitive: planning appeal", OS, "Official Sensitive", "mixed case, then ':'" },
    { "official sensitive", OS, "official sensitive", "lower case, whole subject" },
    { "OFFICIAL SENSITIVE minutes", OS, "OFFICIAL SENSITIVE", "capitals, then text" },
    { "OFFICIAL SENSITIVE MINUTES OF THE PANEL", OS, "OFFICIAL SENSITIVE",
      "OFFICIAL SENSITIVE in capitals is never prose, even shouted" },
    /* brackets */
    { "[OFFICIAL-SENSITIVE] Safeguarding referral", OS, "OFFICIAL-SENSITIVE", "[brackets]" },
    { "(OFFICIAL-SENSITIVE) Safeguarding referral", OS, "OFFICIAL-SENSITIVE", "(brackets)" },
    { "{OFFICIAL-SENSITIVE} Safeguarding referral", OS, "OFFICIAL-SENSITIVE", "{braces}" },
    { "[Official Sensitive] staff survey", OS, "Official Sensitive", "bracket, any case" },
    /* descriptors */
    { "OFFICIAL-SENSITIVE: PERSONAL", OS, "OFFICIAL-SENSITIVE: PERSONAL", "descriptor after ':'" },
    { "OFFICIAL SENSITIVE - COMMERCIAL", OS, "OFFICIAL SENSITIVE - COMMERCIAL", "descriptor after ' - '" },
    { "[OFFICIAL-SENSITIVE PERSONAL] Case notes", OS, "OFFICIAL-SENSITIVE PERSONAL", "bracket with descriptor" },
    { "OFFICIAL-SENSITIVE (PERSONAL) Case notes", OS, "OFFICIAL-SENSITIVE (PERSONAL)", "descriptor in brackets" },
    { "OFFICIAL-SENSITIVE LOCSEN: Ward boundaries", OS, "OFFICIAL-SENSITIVE LOCSEN", "LOCSEN" },
    { "OFFICIAL SENSITIVE - Personal data breach", OS, "OFFICIAL SENSITIVE",
      "marking, then a sentence-case subject: 'Personal' starts the subject" },
    { "OFFICIAL-SENSITIVE COMMERCIAL / PERSONAL", OS, "OFFICIAL-SENSITIVE COMMERCIAL / PERSONAL",
      "two descriptors" },
    { "Official sensitive PERSONAL: case 12", OS, "Official sensitive PERSONAL", "descriptor in capitals" },
    { "OFFICIAL-SENSITIVE: Budget", OS, "OFFICIAL-SENSITIVE",
      "a sentence-case descriptor word at the start is the subject, not a descriptor" },
    { "OFFICIAL-SENSITIVE: Personal - case 12", OS, "OFFICIAL-SENSITIVE: Personal",
      "a descriptor followed by a separator" },
    /* reply / forward prefixes and list tags */
    { "RE: OFFICIAL-SENSITIVE: Budget", OS, "OFFICIAL-SENSITIVE", "after RE:" },
    { "Re: FW: OFFICIAL SENSITIVE - Contract award", OS, "OFFICIAL SENSITIVE", "after Re: FW:" },
    { "Fwd: [OFFICIAL-SENSITIVE] Tender evaluation", OS, "OFFICIAL-SENSITIVE", "after Fwd:, bracketed" },
    { "AW: OFFICIAL-SENSITIVE Partnerschaft", OS, "OFFICIAL-SENSITIVE", "after AW:" },
    { "[planning-team] RE: OFFICIAL-SENSITIVE - Appeal 24/0012", OS, "OFFICIAL-SENSITIVE",
      "after a list tag and RE:" },
    { "RE[2]: Official-Sensitive: site visit", OS, "Official-Sensitive", "numbered prefix" },
    { "[EXTERNAL] Fwd: RE: [OFFICIAL-SENSITIVE PERSONAL] Referral", OS, "OFFICIAL-SENSITIVE PERSONAL",
      "tags and prefixes mixed" },
    { "** OFFICIAL-SENSITIVE ** Staff survey", OS, "OFFICIAL-SENSITIVE", "asterisks around it" },
    /* at the end, in brackets */
    { "Budget figures [OFFICIAL-SENSITIVE]", OS, "OFFICIAL-SENSITIVE", "end, [brackets]" },
    { "RE: Budget figures (Official Sensitive)", OS, "Official Sensitive", "end, (brackets), mixed case" },
    { "Budget figures [OFFICIAL-SENSITIVE - COMMERCIAL]  ", OS, "OFFICIAL-SENSITIVE - COMMERCIAL",
      "end, descriptor, trailing blanks" },
    { "Handover notes {RESTRICTED}", REST, "RESTRICTED", "end, {braces}" },
    /* legacy GPMS */
    { "PROTECT", PROT, "PROTECT", "alone" },
    { "PROTECT - PERSONAL", PROT, "PROTECT - PERSONAL", "with descriptor" },
    { "PROTECT: Tenancy file", PROT, "PROTECT", "followed by ':'" },
    { "RESTRICTED: COMMERCIAL", REST, "RESTRICTED: COMMERCIAL", "with descriptor" },
    { "RESTRICTED Contract negotiations", REST, "RESTRICTED", "capitals standing out from the text" },
    { "Restricted - parking on Friday", REST, "Restricted",
      "a separator after the word makes it a marking (rule b3)" },
    { "Confidential:", CONF, "Confidential", "mixed case, ':' and end" },
    { "CONFIDENTIAL Staff restructure", CONF, "CONFIDENTIAL", "'Staff' is not a descriptor here" },
    { "[Confidential] Grievance hearing", CONF, "Confidential", "bracket" },
    { "Re: CONFIDENTIAL - disciplinary hearing", CONF, "CONFIDENTIAL", "after Re:" },
    { "SECRET", SEC, "SECRET", "alone" },
    { "SECRET: Counter-terrorism briefing", SEC, "SECRET", "followed by ':'" },
    { "SECRET UK EYES ONLY", SEC, "SECRET UK EYES ONLY", "caveat" },
    { "TOP SECRET", TS, "TOP SECRET", "alone" },
    { "TOP-SECRET", TS, "TOP-SECRET", "hyphen" },
    { "Top Secret: Operation Kingfisher", TS, "Top Secret", "mixed case, ':'" },
    { "Fwd: TOP SECRET Briefing note", TS, "TOP SECRET", "capitals standing out" },
    /* prose: never a marking */
    { "OFFICIAL", NONE, NULL, "baseline classification, not a marking" },
    { "OFFICIAL:", NONE, NULL, "baseline classification with ':'" },
    { "OFFICIAL - Budget monitoring", NONE, NULL, "baseline with a subject" },
    { "[OFFICIAL] Budget monitoring", NONE, NULL, "baseline in a tag" },
    { "Official opening of the new library", NONE, NULL, "prose" },
    { "Confidential waste collection moved to Tuesday", NONE, NULL, "prose" },
    { "Restricted parking on Friday", NONE, NULL, "prose" },
    { "The secret to good minutes", NONE, NULL, "not at the start" },
    { "Top secret recipe for the bake sale", NONE, NULL, "prose after TOP SECRET in sentence case" },
    { "Re: protect the hedgehogs campaign", NONE, NULL, "lower case, running text" },
    { "Sensitive issues in the official report", NONE, NULL, "words apart and out of order" },
    { "Secretary vacancy", NONE, NULL, "SECRET inside a word" },
    { "Confidentiality agreement template", NONE, NULL, "CONFIDENTIAL inside a word" },
    { "Unofficial results", NONE, NULL, "OFFICIAL inside a word" },
    { "Official sensitive topics discussed at lunch", NONE, NULL,
      "weak joint, sentence case, running text: prose (rule b)" },
    { "Officially sensitive", NONE, NULL, "OFFICIALLY is not OFFICIAL" },
    { "SECRET SANTA DRAW", NONE, NULL, "shouted prose: the next word is capitals too" },
    { "Secret Santa sign-up", NONE, NULL, "prose" },
    { "TOP SECRET RECIPE!!!", NONE, NULL, "shouted prose" },
    { "Leaving card for Sue (secret)", NONE, NULL, "one lower-case word in a bracket" },
    { "Protected characteristics training", NONE, NULL, "PROTECTED is not PROTECT" },
    { "NOT PROTECTIVELY MARKED", NONE, NULL, "the old 'no marking' phrase" },
    { "UNCLASSIFIED", NONE, NULL, "not a UK marking" },
    { "Re: The official sensitive data policy", NONE, NULL, "not at the start" },
    { "Minutes of the panel - OFFICIAL-SENSITIVE", OS, "OFFICIAL-SENSITIVE",
      "at the end after a spaced separator" },
    { "Budget proposals \xe2\x80\x93 OFFICIAL SENSITIVE", OS, "OFFICIAL SENSITIVE",
      "at the end after an en dash" },
    { "Panel notes | CONFIDENTIAL", CONF, "CONFIDENTIAL", "at the end after a bar" },
    { "Minutes of the panel - Confidential", NONE, NULL,
      "at the end, not written as a marking: prose" },
    { "Ideas for the party - SECRET SANTA", NONE, NULL, "more than the marking after the dash" },
    { "Really: CONFIDENTIAL", CONF, "CONFIDENTIAL",
      "'Really:' is no reply prefix, but a capital marking ending the subject after ': ' counts" },
    { "[confidential] minutes", NONE, NULL, "one lower-case word in a tag: a list tag" },
    { "", NONE, NULL, "empty" },
};

/* ---- body lines ----------------------------------------------------------- */

static const mcase_t line_cases[] = {
    { "OFFICIAL-SENSITIVE", OS, "OFFICIAL-SENSITIVE", "alone" },
    { "Classification: OFFICIAL-SENSITIVE", OS, "OFFICIAL-SENSITIVE", "with a label" },
    { "** OFFICIAL SENSITIVE **", OS, "OFFICIAL SENSITIVE", "asterisks" },
    { "[OFFICIAL-SENSITIVE - PERSONAL]", OS, "OFFICIAL-SENSITIVE - PERSONAL", "bracketed, descriptor" },
    { "Protective Marking: PROTECT", PROT, "PROTECT", "GPMS label" },
    { "Security Classification: OFFICIAL \u2013 SENSITIVE", OS, "OFFICIAL \u2013 SENSITIVE",
      "spaced en dash" },
    { "> OFFICIAL-SENSITIVE", OS, "OFFICIAL-SENSITIVE", "in a quote" },
    { "  OFFICIAL SENSITIVE COMMERCIAL  \r", OS, "OFFICIAL SENSITIVE COMMERCIAL", "blanks and CR" },
    { "CONFIDENTIAL", CONF, "CONFIDENTIAL", "alone" },
    { "Sensitivity: Confidential", CONF, "Confidential", "label 'Sensitivity'" },
    { "TOP SECRET", TS, "TOP SECRET", "alone" },
    { "Official-Sensitive.", OS, "Official-Sensitive", "trailing full stop" },
    { "This is official.", NONE, NULL, "prose" },
    { "Please keep this confidential between us and the team", NONE, NULL, "prose" },
    { "OFFICIAL", NONE, NULL, "baseline" },
    { "Classification: OFFICIAL", NONE, NULL, "baseline with a label" },
    { "Protective Marking: NOT PROTECTIVELY MARKED", NONE, NULL, "the old 'no marking'" },
    { "OFFICIAL-SENSITIVE material must not be sent to this list", NONE, NULL,
      "a sentence, not a marking line" },
    { "confidential", NONE, NULL, "one lower-case word" },
    { "CONFIDENTIALITY NOTICE", NONE, NULL, "disclaimer heading" },
    { "Secret Santa", NONE, NULL, "more than the marking" },
    { "Remarking: SECRET", NONE, NULL, "not a label" },
    { "________________", NONE, NULL, "a rule" },
    { "", NONE, NULL, "empty" },
};

/* ---- X-Protective-Marking ------------------------------------------------- */

static const mcase_t xpm_cases[] = {
    { "VER=2018.1, NS=gov.au, SEC=OFFICIAL:Sensitive, ORIGIN=a@b.gov.au", OS, "OFFICIAL:Sensitive",
      "Australian PSPF form" },
    { "VER=2018.1, NS=gov.au, SEC=OFFICIAL:Sensitive, ACCESS=Personal-Privacy, ORIGIN=a@b.gov.au", OS,
      "OFFICIAL:Sensitive", "with an access marker" },
    { "SEC=PROTECT", PROT, "PROTECT", "GPMS" },
    { "SEC=OFFICIAL", NONE, NULL, "baseline" },
    { "SEC=UNOFFICIAL", NONE, NULL, "not government work" },
    { "SEC=RESTRICTED", REST, "RESTRICTED", "GPMS" },
    { "SEC=SECRET", SEC, "SECRET", "" },
    { "SEC=TOP-SECRET", TS, "TOP-SECRET", "" },
    { "VER=2012.3, NS=gov.au, SEC=UNCLASSIFIED, ORIGIN=a@b.gov.au", NONE, NULL, "older baseline" },
    { "sec = confidential", CONF, "confidential", "key and value in any case" },
    { "OFFICIAL-SENSITIVE", OS, "OFFICIAL-SENSITIVE", "a bare value, no SEC=" },
    { "VER=2018.1, NS=gov.au, SEC=PROTECTED, ORIGIN=a@b.gov.au", NONE, NULL,
      "Australian PROTECTED is not a UK level (see the report)" },
    { "VER=2018.1, NS=gov.au, ORIGIN=a@b.gov.au", NONE, NULL, "no SEC=" },
};

typedef cor_marking_kind_t (*match_fn)(const char *, char **);

static void
run_table(const char *what, const mcase_t *cases, size_t n, match_fn fn)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        const mcase_t *tc = &cases[i];
        char *text = (char *) 0x1;       /* must be overwritten, NULL or not */
        cor_marking_kind_t k = fn(tc->input, &text);
        if (k != tc->kind || g_strcmp0(text, tc->text) != 0) {
            g_test_message("%s '%s' (%s): got %s '%s', want %s '%s'", what, tc->input, tc->why,
                           cor_marking_kind_to_string(k), text ? text : "(null)",
                           cor_marking_kind_to_string(tc->kind), tc->text ? tc->text : "(null)");
            bad++;
        }
        g_free(text);
        /* text may be NULL */
        g_assert_cmpint(fn(tc->input, NULL), ==, k);
    }
    g_assert_cmpint(bad, ==, 0);
}

static void
test_subjects(void)
{
    run_table("subject", subject_cases, G_N_ELEMENTS(subject_cases), cor_marking_subject);
    g_assert_cmpint(cor_marking_subject(NULL, NULL), ==, NONE);
}

static void
test_lines(void)
{
    run_table("line", line_cases, G_N_ELEMENTS(line_cases), cor_marking_line);
}

static void
test_x_protective(void)
{
    run_table("X-Protective-Marking", xpm_cases, G_N_ELEMENTS(xpm_cases), cor_marking_x_protective);
}

static void
test_case_count(void)
{
    size_t n = G_N_ELEMENTS(subject_cases) + G_N_ELEMENTS(line_cases) + G_N_ELEMENTS(xpm_cases);
    g_test_message("%zu table cases", n);
    g_assert_cmpuint(n, >=, 60);
}

static void
test_kind_names(void)
{
    for (int k = 0; k < COR_MARKING_KIND_COUNT; k++) {
        const char *name = cor_marking_kind_to_string((cor_marking_kind_t) k);
        g_assert_cmpint(cor_marking_kind_from_string(name), ==, k);
    }
    g_assert_cmpstr(cor_marking_kind_to_string(OS), ==, "official-sensitive");
    g_assert_cmpstr(cor_marking_kind_to_string(TS), ==, "top-secret");
    g_assert_cmpint(cor_marking_kind_from_string("Official-Sensitive"), ==, OS);
    g_assert_cmpint(cor_marking_kind_from_string("bogus"), ==, COR_MARKING_KIND_COUNT);
    g_assert_cmpint(cor_marking_kind_from_string(NULL), ==, COR_MARKING_KIND_COUNT);
}

/* ---- whole messages ------------------------------------------------------- */

#define HDRS(subject) \
    "From: Jane Smith <jane.smith@example-council.gov.uk>\n" \
    "To: housing-panel@lists.example-council.gov.uk\n" \
    "Subject: " subject "\n" \
    "Date: Fri, 01 Mar 2024 09:30:00 +0000\n" \
    "Message-ID: <m1@example-council.gov.uk>\n" \
    "MIME-Version: 1.0\n"

typedef struct msg_case {
    const char *name;
    const char *raw;
    cor_marking_kind_t kind;
    const char *where;
    const char *text;
} msg_case_t;

static const msg_case_t msg_cases[] = {
    { "marking line at the top of the body",
      HDRS("Panel papers")
      "Content-Type: text/plain; charset=utf-8\n\n"
      "OFFICIAL-SENSITIVE\n\nDear all,\n\nThe papers for Thursday are attached.\n\nJane\n",
      OS, "first lines of the body", "OFFICIAL-SENSITIVE" },
    { "marking line at the bottom of the body",
      HDRS("Agenda for Thursday")
      "Content-Type: text/plain; charset=utf-8\n\n"
      "Dear all,\n\nPlease find below the agenda for Thursday.\n\n"
      "1. Apologies\n2. Minutes of the last meeting\n3. Budget monitoring\n4. Any other business\n\n"
      "Kind regards\nJane Smith\nDemocratic Services\n\n"
      "Classification: OFFICIAL-SENSITIVE\n",
      OS, "last lines of the body", "OFFICIAL-SENSITIVE" },
    { "HTML-only body",
      HDRS("Case conference")
      "Content-Type: text/html; charset=utf-8\n\n"
      "<html><body><p><b>OFFICIAL-SENSITIVE</b></p><p>Dear colleagues,</p>"
      "<p>The case conference is moved to 2pm.</p><p>Jane</p></body></html>\n",
      OS, "first lines of the body", "OFFICIAL-SENSITIVE" },
    { "subject first, then the body",
      HDRS("RE: [OFFICIAL-SENSITIVE PERSONAL] Referral")
      "Content-Type: text/plain; charset=utf-8\n\n"
      "PROTECT\n\nSee below.\n",
      OS, "subject", "OFFICIAL-SENSITIVE PERSONAL" },
    { "X-Protective-Marking after the subject, before the body",
      HDRS("Joint bid")
      "X-Protective-Marking: VER=2018.1, NS=gov.au, SEC=OFFICIAL:Sensitive, ORIGIN=a@b.gov.au\n"
      "Content-Type: text/plain; charset=utf-8\n\n"
      "CONFIDENTIAL\n\nHello.\n",
      OS, "X-Protective-Marking", "OFFICIAL:Sensitive" },
    { "quoted reply at the bottom carrying an old marking line: it counts",
      HDRS("Re: Housing panel")
      "Content-Type: text/plain; charset=utf-8\n\n"
      "Thanks Sam, I'll bring the papers on Thursday.\n\nJo\n\n"
      "-----Original Message-----\n"
      "From: Sam Patel <sam@example-council.gov.uk>\n"
      "Sent: 01 March 2024 09:12\n"
      "To: Jo Bloggs <jo@example-council.gov.uk>\n"
      "Subject: Housing panel\n\n"
      "Hi Jo,\n\nCan you bring the case papers for the housing panel?\n\nThanks\nSam\n\n"
      "OFFICIAL-SENSITIVE\n",
      OS, "last lines of the body", "OFFICIAL-SENSITIVE" },
    { "'>' quoted marking at the bottom counts too",
      HDRS("Re: Panel")
      "Content-Type: text/plain; charset=utf-8\n\n"
      "Agreed.\n\nOn Fri, 1 Mar 2024, Sam wrote:\n> Shall we meet at ten?\n> Sam\n> Housing\n> Room 4\n"
      "> [OFFICIAL-SENSITIVE]\n",
      OS, "last lines of the body", "OFFICIAL-SENSITIVE" },
    { "Sensitivity header is only collected",
      HDRS("Team rota")
      "Sensitivity: Company-Confidential\n"
      "Content-Type: text/plain; charset=utf-8\n\n"
      "The rota for March is attached.\n",
      NONE, NULL, NULL },
    { "msip_labels is only collected",
      HDRS("Team rota")
      "msip_labels: MSIP_Label_f42aa342-8706-4288-bd11-ebb85995028c_Enabled=true;\n"
      " MSIP_Label_f42aa342-8706-4288-bd11-ebb85995028c_Name=OFFICIAL-SENSITIVE\n"
      "Content-Type: text/plain; charset=utf-8\n\n"
      "The rota for March is attached.\n",
      NONE, NULL, NULL },
    { "S/MIME enveloped-data",
      HDRS("Contract")
      "Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\n"
      "Content-Transfer-Encoding: base64\n"
      "Content-Disposition: attachment; filename=smime.p7m\n\n"
      "MIAGCSqGSIb3DQEHA6CAMIACAQAxggFAMIIBPAIBADAkMBgxFjAUBgNVBAMMDWNvdW5jaWwuZ292LnVr\n",
      ENC, "S/MIME encryption", "application/pkcs7-mime" },
    { "S/MIME p7m without smime-type",
      HDRS("Contract")
      "Content-Type: application/x-pkcs7-mime; name=\"smime.p7m\"\n"
      "Content-Transfer-Encoding: base64\n\n"
      "MIAGCSqGSIb3DQEHA6CAMIACAQAxggFAMIIBPAIBADAk\n",
      ENC, "S/MIME encryption", "application/x-pkcs7-mime" },
    { "S/MIME signed-data p7m is readable: no marking",
      HDRS("Contract")
      "Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\n"
      "Content-Transfer-Encoding: base64\n"
      "Content-Disposition: attachment; filename=smime.p7m\n\n"
      "MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwE=\n",
      NONE, NULL, NULL },
    { "multipart/signed is readable: no marking",
      HDRS("Minutes")
      "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256;"
      " boundary=\"s1\"\n\n"
      "--s1\nContent-Type: text/plain; charset=utf-8\n\nHello all, the minutes are attached.\n"
      "--s1\nContent-Type: application/pkcs7-signature; name=smime.p7s\n"
      "Content-Disposition: attachment; filename=smime.p7s\nContent-Transfer-Encoding: base64\n\n"
      "MIAGCSqGSIb3DQEHAqCAMIACAQExDzANBglghkgBZQMEAgEFADCABgkqhkiG9w0BBwE=\n--s1--\n",
      NONE, NULL, NULL },
    { "PGP/MIME multipart/encrypted",
      HDRS("Contract")
      "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"e1\"\n\n"
      "--e1\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n"
      "--e1\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\n\n"
      "-----BEGIN PGP MESSAGE-----\n\nhQEMA1234567890abcdef\n=abcd\n-----END PGP MESSAGE-----\n--e1--\n",
      ENC, "PGP/MIME encryption", "multipart/encrypted" },
    { "rights-protected message.rpmsg attachment",
      HDRS("Contract")
      "Content-Type: multipart/mixed; boundary=\"b1\"\n\n"
      "--b1\nContent-Type: text/plain; charset=utf-8\n\n"
      "This message is protected with Microsoft Purview Message Encryption.\n"
      "--b1\nContent-Type: application/x-microsoft-rpmsg-message\n"
      "Content-Disposition: attachment; filename=\"message.rpmsg\"\n"
      "Content-Transfer-Encoding: base64\n\nAAECAwQFBgcICQ==\n--b1--\n",
      ENC, "rights-protected (rpmsg)", "message.rpmsg" },
    { "an ordinary message",
      HDRS("Official opening of the new library")
      "Content-Type: text/plain; charset=utf-8\n\n"
      "Dear all,\n\nThe official opening is on Saturday. Please keep the guest list confidential.\n\n"
      "Jane\n\nThis email and any attachments are confidential and may be restricted.\n",
      NONE, NULL, NULL },
};

static void
scan_raw(const char *raw, size_t len, cor_marking_scan_t *s)
{
    cor_message_t *m = NULL;
    g_autofree char *err = NULL;
    cor_status_t st = cor_message_parse_ex(raw, len, RECEIVED, COR_PARSE_SUMMARY | COR_PARSE_EDGES,
                                           &m, &err);
    if (st != COR_OK)
        g_test_message("parse failed: %s", err ? err : "?");
    g_assert_cmpint(st, ==, COR_OK);
    g_autoptr(cor_headers_t) h = cor_headers_parse(raw, len);
    cor_marking_scan(m, h, s);
    g_assert_nonnull(s->msip_labels);
    g_assert_nonnull(s->msip_names);
    g_assert_nonnull(s->sensitivity);
    g_assert_cmpuint(s->msip_labels->len, ==, s->msip_names->len);
    cor_message_free(m);
}

static void
test_messages(void)
{
    int bad = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(msg_cases); i++) {
        const msg_case_t *tc = &msg_cases[i];
        cor_marking_scan_t s;
        scan_raw(tc->raw, strlen(tc->raw), &s);
        if (s.kind != tc->kind || g_strcmp0(s.where, tc->where) != 0 || g_strcmp0(s.text, tc->text) != 0) {
            g_test_message("message '%s': got %s / %s / '%s', want %s / %s / '%s'", tc->name,
                           cor_marking_kind_to_string(s.kind), s.where ? s.where : "(null)",
                           s.text ? s.text : "(null)", cor_marking_kind_to_string(tc->kind),
                           tc->where ? tc->where : "(null)", tc->text ? tc->text : "(null)");
            bad++;
        }
        cor_marking_scan_clear(&s);
    }
    g_assert_cmpint(bad, ==, 0);
}

/* A long ordinary message (both edges well away from the middle) whose
 * middle paragraph talks about OFFICIAL-SENSITIVE material: no marking.
 * The same message with a marking line at its sixth content line from the
 * top is outside the first MARKING_EDGE_LINES lines: no marking either. */
static char *
long_message(const char *middle, const char *sixth)
{
    GString *b = g_string_new(HDRS("Mailing list etiquette") "Content-Type: text/plain; charset=utf-8\n\n");
    g_string_append(b, "Dear all,\n\nA reminder about how we use this list.\n\n"
                       "Line three.\nLine four.\nLine five.\n");
    if (sixth)
        g_string_append_printf(b, "%s\n", sixth);
    for (int i = 0; i < 60; i++)
        g_string_append_printf(b, "\nParagraph %d. Please keep messages short and to the point, use a "
                                  "clear subject line, and reply to the list only when everyone needs "
                                  "to read the answer. Attachments over 10 MB are refused.\n", i);
    g_string_append_printf(b, "\n%s\n", middle);
    for (int i = 60; i < 120; i++)
        g_string_append_printf(b, "\nParagraph %d. Meetings are booked through the room system; "
                                  "cancel the room when the meeting is cancelled so that others "
                                  "can use it.\n", i);
    g_string_append(b, "\nThanks,\nJane Smith\nDemocratic Services\n");
    return g_string_free(b, FALSE);
}

static void
test_long_message(void)
{
    g_autofree char *a = long_message("OFFICIAL-SENSITIVE material must not be sent to this list. "
                                      "Please use the secure portal instead.", NULL);
    g_assert_cmpuint(strlen(a), >, 3 * COR_BODY_EDGE);
    cor_marking_scan_t s;
    scan_raw(a, strlen(a), &s);
    g_assert_cmpint(s.kind, ==, NONE);
    g_assert_null(s.where);
    g_assert_null(s.text);
    cor_marking_scan_clear(&s);

    /* a marking *line* in the middle is not at an edge either */
    g_autofree char *b = long_message("OFFICIAL-SENSITIVE", NULL);
    scan_raw(b, strlen(b), &s);
    g_assert_cmpint(s.kind, ==, NONE);
    cor_marking_scan_clear(&s);

    /* the sixth content line from the top is past the edge */
    g_autofree char *c = long_message("Nothing here.", "OFFICIAL-SENSITIVE");
    scan_raw(c, strlen(c), &s);
    g_assert_cmpint(s.kind, ==, NONE);
    cor_marking_scan_clear(&s);

    /* and the fifth is within it (blank lines do not count) */
    g_autofree char *d = g_strdup(c);
    char *line5 = strstr(d, "Line five.\nOFFICIAL-SENSITIVE");
    g_assert_nonnull(line5);
    memcpy(line5, "\n\n\n\n\n\n\n\n\n\n", 10);      /* "Line five." becomes blank lines */
    scan_raw(d, strlen(d), &s);
    g_assert_cmpint(s.kind, ==, OS);
    g_assert_cmpstr(s.where, ==, "first lines of the body");
    cor_marking_scan_clear(&s);
}

static void
test_msip_labels(void)
{
    static const char raw[] =
        HDRS("Team rota")
        "msip_labels: MSIP_Label_F42AA342-8706-4288-BD11-EBB85995028C_Enabled=true;\n"
        " MSIP_Label_f42aa342-8706-4288-bd11-ebb85995028c_SetDate=2024-01-01T10:00:00Z;\n"
        "\tMSIP_Label_f42aa342-8706-4288-bd11-ebb85995028c_Method=Privileged;\n"
        " MSIP_Label_f42aa342-8706-4288-bd11-ebb85995028c_Name=OFFICIAL-SENSITIVE;\n"
        " MSIP_Label_f42aa342-8706-4288-bd11-ebb85995028c_SiteId=0a1b2c3d-0000-4000-8000-123456789abc;\n"
        " MSIP_Label_f42aa342-8706-4288-bd11-ebb85995028c_ActionId=9e8d7c6b-0000-4000-8000-000000000001;\n"
        " MSIP_Label_f42aa342-8706-4288-bd11-ebb85995028c_ContentBits=0;\n"
        " MSIP_Label_9d5e1a2b-1111-4222-8333-444455556666_Enabled=false;\n"
        " MSIP_Label_9d5e1a2b-1111-4222-8333-444455556666_Name=OFFICIAL;\n"
        " MSIP_Label_0b0b0b0b-2222-4333-8444-555566667777_Name=\"Internal\";\n"
        " MSIP_Label_0b0b0b0b-2222-4333-8444-555566667777_Enabled=True;\n"
        " MSIP_Label_11111111-2222-4333-8444-555566667777_Enabled=true\n"
        "Sensitivity: Company-Confidential\n"
        "Content-Type: text/plain; charset=utf-8\n\n"
        "The rota for March is attached.\n";
    cor_marking_scan_t s;
    scan_raw(raw, sizeof raw - 1, &s);
    g_assert_cmpint(s.kind, ==, NONE);
    g_assert_cmpuint(s.msip_labels->len, ==, 3);
    /* lowercase GUIDs of the enabled labels, in order; their names */
    g_assert_cmpstr(g_ptr_array_index(s.msip_labels, 0), ==, "f42aa342-8706-4288-bd11-ebb85995028c");
    g_assert_cmpstr(g_ptr_array_index(s.msip_names, 0), ==, "OFFICIAL-SENSITIVE");
    g_assert_cmpstr(g_ptr_array_index(s.msip_labels, 1), ==, "0b0b0b0b-2222-4333-8444-555566667777");
    g_assert_cmpstr(g_ptr_array_index(s.msip_names, 1), ==, "Internal");   /* _Name before _Enabled */
    g_assert_cmpstr(g_ptr_array_index(s.msip_labels, 2), ==, "11111111-2222-4333-8444-555566667777");
    g_assert_cmpstr(g_ptr_array_index(s.msip_names, 2), ==, "");           /* no _Name */
    g_assert_cmpstr(s.sensitivity, ==, "company-confidential");
    cor_marking_scan_clear(&s);

    /* without either header: empty, never NULL */
    static const char plain[] = HDRS("Hello") "Content-Type: text/plain\n\nHello.\n";
    scan_raw(plain, sizeof plain - 1, &s);
    g_assert_cmpuint(s.msip_labels->len, ==, 0);
    g_assert_cmpstr(s.sensitivity, ==, "");
    cor_marking_scan_clear(&s);
    cor_marking_scan_clear(&s);          /* clearing twice is harmless */
}

/* Not a benchmark, a guard: the subject and line matchers must stay cheap
 * (they run on every message at intake). */
static void
test_speed(void)
{
    gint64 t0 = g_get_monotonic_time();
    int rounds = 2000;
    size_t calls = 0;
    for (int r = 0; r < rounds; r++) {
        for (size_t i = 0; i < G_N_ELEMENTS(subject_cases); i++, calls++)
            (void) cor_marking_subject(subject_cases[i].input, NULL);
        for (size_t i = 0; i < G_N_ELEMENTS(line_cases); i++, calls++)
            (void) cor_marking_line(line_cases[i].input, NULL);
    }
    double secs = (double) (g_get_monotonic_time() - t0) / 1e6;
    g_test_message("%zu subject/line matches in %.3f s (%.0f per second)", calls, secs,
                   secs > 0 ? (double) calls / secs : 0.0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    cor_message_init();
    g_test_add_func("/marking/subjects", test_subjects);
    g_test_add_func("/marking/lines", test_lines);
    g_test_add_func("/marking/x-protective-marking", test_x_protective);
    g_test_add_func("/marking/case-count", test_case_count);
    g_test_add_func("/marking/kind-names", test_kind_names);
    g_test_add_func("/marking/messages", test_messages);
    g_test_add_func("/marking/long-message", test_long_message);
    g_test_add_func("/marking/msip-labels", test_msip_labels);
    g_test_add_func("/marking/speed", test_speed);
    return g_test_run();
}
