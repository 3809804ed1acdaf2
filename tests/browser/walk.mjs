// tests/browser/walk.mjs — the archive in a real browser (Debian's chromium
// driven by playwright-core; axe-core for accessibility).  Run by
// tests/T320-browser.sh against a running `corridor serve --http`.
//
//   node walk.mjs BASEURL OUTDIR [--group NAME] [--word WORD] [--moved PATH]
//       walks the archive like a reader: site index, a group, a thread, a
//       message and its .eml, month, about, author, older pages, search (form
//       and JSON), a search error, a 404 and a moved page; runs axe-core
//       (WCAG 2.0/2.1 A and AA, 2.2 AA) on every page type; checks the skip
//       link from the keyboard and the pages without JavaScript; writes
//       screenshots (site, group, month, thread, thread-mobile, message,
//       about, author, search, error .png) into OUTDIR.
//         --group NAME  the group to walk (default: the first one listed)
//         --word WORD   the word to search for (default: kernel)
//         --moved PATH  a "conversation has moved" page (relative to BASEURL)
//   node walk.mjs --hostile GROUPURL
//       opens every thread and message page of a group of hostile mail and
//       checks nothing runs, nothing is fetched from another origin, and no
//       attachment is offered under an active type.
//
// Prints one line per check, "ok - ..." or "not ok - ..." (details follow as
// "#" lines), then a summary; exits 0 when every check passed, 1 otherwise
// (2 on bad usage).  Never downloads a browser: /usr/bin/chromium only.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { axeViolations, check, finish, h1, launch, notOk, ok, watch } from './lib.mjs';

const BAD_EXT = new Set(['html', 'htm', 'svg', 'xml', 'js', 'xhtml']);
const PAYLOAD = /pwned|evil\.example|tracker\.example|alert\(|xss/i;

function usage() {
    console.error('usage: node walk.mjs BASEURL OUTDIR [--group NAME] [--word WORD] [--moved PATH]\n' +
                  '       node walk.mjs --hostile GROUPURL');
    process.exit(2);
}

async function axeCheck(page, what) {
    await check(`axe: ${what} has no WCAG 2.2 AA violations`, () => axeViolations(page));
}

async function screenshot(page, outdir, name) {
    await check(`screenshot ${name}`, async () => {
        // the whole page, cut at 2,400 px: long month and group pages would
        // otherwise make multi-megabyte images for docs/screenshots/
        const h = await page.evaluate(() => document.documentElement.scrollHeight);
        const w = page.viewportSize().width;
        await page.screenshot({ path: join(outdir, name), fullPage: true,
                                clip: { x: 0, y: 0, width: w, height: Math.min(h, 2400) } });
    });
}

// What the server sends for a URL that did not load as a page (a download,
// say): status and the headers that matter.
async function whyNotAPage(page, url) {
    try {
        const r = await page.request.get(url);
        const h = r.headers();
        return `GET ${new URL(url).pathname}: HTTP ${r.status()}, Content-Type: ${h['content-type']}` +
            (h['content-disposition'] ? `, Content-Disposition: ${h['content-disposition']}` : '');
    } catch (e) {
        return `GET ${url}: ${e.message}`;
    }
}

// goto(page, url): navigates; returns the response (throws on no response).
async function goto(page, url, status = 200) {
    let resp;
    try {
        resp = await page.goto(url, { waitUntil: 'load' });
    } catch (e) {
        throw new Error(`${url} did not load as a page: ${e.message.split('\n')[0]}; ${await whyNotAPage(page, url)}`);
    }
    if (!resp)
        throw new Error(`no response for ${url}`);
    if (status !== null && resp.status() !== status)
        throw new Error(`${url}: HTTP ${resp.status()}, expected ${status}`);
    return resp;
}

// Clicks a link and waits for the page it leads to; returns the response.
async function follow(page, locator, status = 200) {
    const href = await locator.getAttribute('href');
    const target = await locator.evaluate((a) => a.href);
    let resp;
    try {
        [resp] = await Promise.all([
            page.waitForNavigation({ waitUntil: 'load' }),
            locator.click(),
        ]);
    } catch (e) {
        throw new Error(`the link ${href} did not load as a page: ${e.message.split('\n')[0]}; ${await whyNotAPage(page, target)}`);
    }
    if (!resp)
        throw new Error(`no response following ${href}`);
    if (status !== null && resp.status() !== status)
        throw new Error(`${resp.url()} (from link ${href}): HTTP ${resp.status()}, expected ${status}`);
    return resp;
}

// ---------------------------------------------------------------- the walk

async function walk(base, outdir, opts) {
    mkdirSync(outdir, { recursive: true });
    const origin = new URL(base).origin;
    const browser = await launch();
    // bypassCSP: the pages forbid inline script (good), but axe is injected
    const ctx = await browser.newContext({
        viewport: { width: 1280, height: 900 }, acceptDownloads: true, bypassCSP: true,
    });
    ctx.setDefaultTimeout(15000);
    const page = await ctx.newPage();
    const problems = watch(page, origin);
    const clean = async (what) =>
        check(`${what}: no failed subresource, other origin or console error`, () => problems());
    const url = {};
    let stop = false;   // a step the rest depends on failed

    // site index
    await check('site index loads (/) with the list of groups', async () => {
        await goto(page, `${base}/`);
        const n = await page.locator('table.govuk-table tbody a').count();
        if (n === 0)
            return 'no group links in the site index table';
        url.site = page.url();
    });
    if (!url.site)
        stop = true;
    else {
        await clean('site index');
        await axeCheck(page, 'site index');
        await screenshot(page, outdir, 'site.png');
    }

    // a group
    if (!stop)
        await check(`group index: follow ${opts.group ? `group ${opts.group}` : 'the first group'} from the site index`, async () => {
            const links = page.locator('table.govuk-table tbody a');
            const link = opts.group
                ? links.and(page.locator(`[href*="g/${opts.group}/"]`)).first()
                : links.first();
            await follow(page, link);
            if (!/\/g\/[^/]+\/(index\.html)?$/.test(new URL(page.url()).pathname))
                return `unexpected group URL ${page.url()}`;
            if (!(await h1(page)))
                return 'no h1';
            url.group = page.url();
        });
    if (!url.group)
        stop = true;
    else {
        await clean('group index');
        await axeCheck(page, 'group index');
        await screenshot(page, outdir, 'group.png');
    }

    // a thread, from the group index table
    if (!stop)
        await check('thread: follow the first conversation in the group index', async () => {
            await follow(page, page.locator('table.govuk-table tbody a[href*="/t/"]').first());
            if (!/\/g\/[^/]+\/t\/[0-9a-f]{2}\/\d+\.html$/.test(new URL(page.url()).pathname))
                return `unexpected thread URL ${page.url()}`;
            const n = await page.locator('article.cor-message').count();
            if (n === 0)
                return 'no article.cor-message in the thread';
            url.thread = page.url();
        });
    if (!url.thread)
        stop = true;
    else {
        await clean('thread');
        await axeCheck(page, 'thread');
        await screenshot(page, outdir, 'thread.png');
        await check('screenshot thread-mobile.png (390x844)', async () => {
            await page.setViewportSize({ width: 390, height: 844 });
            const h = await page.evaluate(() => document.documentElement.scrollHeight);
            await page.screenshot({ path: join(outdir, 'thread-mobile.png'), fullPage: true,
                                    clip: { x: 0, y: 0, width: 390, height: Math.min(h, 2400) } });
            const overflow = await page.evaluate(
                () => document.documentElement.scrollWidth - document.documentElement.clientWidth);
            await page.setViewportSize({ width: 1280, height: 900 });
            if (overflow > 0)
                return `the page scrolls sideways by ${overflow}px at 390px wide`;
        });
        await axeCheck(page, 'thread (after mobile)');
    }

    // a message: the heading link of the first message in the thread
    if (!stop)
        await check('message: follow the heading link of a message in the thread', async () => {
            await follow(page, page.locator('article.cor-message h2 a').first());
            if (!/\/g\/[^/]+\/m\/[0-9a-f]{2}\/[0-9a-f]{16}\.html$/.test(new URL(page.url()).pathname))
                return `unexpected message URL ${page.url()}`;
            if ((await page.locator('article.cor-message').count()) !== 1)
                return 'not exactly one article on the message page';
            url.message = page.url();
        });
    if (url.message) {
        await clean('message');
        await axeCheck(page, 'message');
        await screenshot(page, outdir, 'message.png');
        await check('message: the .eml download gives the original (a mail header)', async () => {
            const link = page.locator('a[download][href$=".eml"]').first();
            const href = new URL(await link.getAttribute('href'), page.url()).pathname;
            if (href !== new URL(url.message).pathname.replace(/\.html$/, '.eml'))
                return `the .eml link points to ${href}`;
            const [dl] = await Promise.all([page.waitForEvent('download'), link.click()]);
            const failure = await dl.failure();
            if (failure) {
                const r = await page.request.get(new URL(href, base).href);
                return `download of ${href} failed: ${failure} (GET: HTTP ${r.status()})`;
            }
            const bytes = readFileSync(await dl.path());
            const head = bytes.subarray(0, 65536).toString('latin1');
            if (!/^(message-id|from):/im.test(head))
                return `the download does not look like a message: ${JSON.stringify(head.slice(0, 120))}`;
            if (page.url() !== url.message)
                return `the page navigated away to ${page.url()}`;
        });
        await check('message: the permanent link names this page', async () => {
            const a = page.locator('main li', { hasText: 'Permanent link' }).locator('a').first();
            const href = new URL(await a.getAttribute('href'), page.url()).href;
            const shown = (await a.textContent()).trim();
            if (href !== url.message)
                return `the link goes to ${href}, not ${url.message}`;
            if (!/^https?:\/\//.test(shown))
                return `the permanent link shown is not an absolute URL: ${shown}`;
            if (!shown.endsWith(new URL(url.message).pathname))
                return `the permanent link shown, ${shown}, does not end in ${new URL(url.message).pathname}`;
            if (new URL(shown).origin === origin) {
                const r = await page.request.get(shown);
                if (r.status() !== 200)
                    return `${shown}: HTTP ${r.status()}`;
            }
        });
        await check('message: Back returns to the thread', async () => {
            const resp = await page.goBack({ waitUntil: 'load' });
            if (page.url() !== url.thread)
                return `back went to ${page.url()}`;
            if (resp && resp.status() !== 200)
                return `HTTP ${resp.status()}`;
            await goto(page, url.message);
        });
        // an author page, linked from the message
        await check('author: follow the From link of the message', async () => {
            await follow(page, page.locator('main a[href*="author/"]').first());
            if (!/\/author\/[0-9a-f]{16}\.html$/.test(new URL(page.url()).pathname))
                return `unexpected author URL ${page.url()}`;
            if ((await page.locator('main a[href*="/m/"]').count()) === 0)
                return 'no message links on the author page';
            url.author = page.url();
        });
        if (url.author) {
            await clean('author');
            await axeCheck(page, 'author');
            await screenshot(page, outdir, 'author.png');
        }
    }

    // the keyboard: skip link on the thread page
    if (url.thread)
        await check('keyboard: the first Tab on a thread focuses the skip link, shown; Enter moves to #main-content', async () => {
            const p = await ctx.newPage();
            try {
                await goto(p, url.thread);
                await p.keyboard.press('Tab');
                const f = await p.evaluate(() => {
                    const a = document.activeElement;
                    const r = a.getBoundingClientRect();
                    return {
                        cls: a.className, href: a.getAttribute('href'), text: a.textContent.trim(),
                        w: r.width, h: r.height, top: r.top, left: r.left,
                        clip: getComputedStyle(a).clip, clipPath: getComputedStyle(a).clipPath,
                    };
                });
                const errs = [];
                if (!/govuk-skip-link/.test(f.cls) || f.href !== '#main-content')
                    return `the first focused element is ${JSON.stringify(f)}`;
                if (f.w < 10 || f.h < 10 || f.top < 0 || f.top > 900 || f.left < 0 ||
                    /rect\(0px,? 0px,? 0px,? 0px\)/.test(f.clip) || /inset\(50%\)/.test(f.clipPath))
                    errs.push(`the focused skip link is not visible: ${JSON.stringify(f)}`);
                await p.keyboard.press('Enter');
                await p.waitForFunction(() => location.hash === '#main-content', null, { timeout: 3000 })
                    .catch(() => errs.push(`after Enter the location is ${p.url()}`));
                const s = await p.evaluate(() => {
                    const m = document.getElementById('main-content');
                    return {
                        top: m.getBoundingClientRect().top, scrollY: window.scrollY,
                        maxScroll: document.documentElement.scrollHeight - window.innerHeight,
                        focusIsMain: document.activeElement === m,
                    };
                });
                if (Math.abs(s.top) > 2 && Math.abs(s.scrollY - s.maxScroll) > 2)
                    errs.push(`#main-content is not scrolled to the top: ${JSON.stringify(s)}`);
                // the next Tab must land inside main (the focus starting point moved)
                if (!s.focusIsMain) {
                    await p.keyboard.press('Tab');
                    const inMain = await p.evaluate(
                        () => document.getElementById('main-content').contains(document.activeElement));
                    if (!inMain) {
                        const what = await p.evaluate(() => document.activeElement.outerHTML.slice(0, 160));
                        errs.push(`after the skip link, Tab focuses ${what}, outside #main-content`);
                    }
                }
                return errs;
            } finally {
                await p.close();
            }
        });

    // month, about, older pages: from the group index
    if (url.group) {
        await check('month: follow a "Browse by month" link from the group index', async () => {
            await goto(page, url.group);
            const list = page.getByRole('heading', { name: 'Browse by month' })
                .locator('xpath=following-sibling::ul[1]');
            await follow(page, list.locator('a').first());
            if (!/\/g\/[^/]+\/\d{4}-\d{2}\.html$/.test(new URL(page.url()).pathname))
                return `unexpected month URL ${page.url()}`;
            if ((await page.locator('main a[href*="/m/"]').count()) === 0)
                return 'no message links on the month page';
            url.month = page.url();
        });
        if (url.month) {
            await clean('month');
            await axeCheck(page, 'month');
            await screenshot(page, outdir, 'month.png');
        }
        await check('about: follow "About this group" from the group index', async () => {
            await goto(page, url.group);
            await follow(page, page.getByRole('link', { name: /About this group/ }));
            if (!/\/g\/[^/]+\/about\.html$/.test(new URL(page.url()).pathname))
                return `unexpected about URL ${page.url()}`;
            url.about = page.url();
        });
        if (url.about) {
            await clean('about');
            await axeCheck(page, 'about');
            await screenshot(page, outdir, 'about.png');
        }
        await goto(page, url.group);
        const older = page.getByRole('link', { name: 'Older conversations' });
        if ((await older.count()) > 0) {
            await check('older: follow "Older conversations" to a numbered page', async () => {
                await follow(page, older.first());
                if (!/\/g\/[^/]+\/page-\d+\.html$/.test(new URL(page.url()).pathname))
                    return `unexpected page URL ${page.url()}`;
                if ((await page.locator('table.govuk-table tbody a[href*="/t/"]').count()) === 0)
                    return 'no conversations on the numbered page';
                url.older = page.url();
            });
            if (url.older) {
                await clean('numbered page');
                await axeCheck(page, 'numbered page');
            }
            await check('older: page-1.html (the oldest) loads with conversations', async () => {
                await goto(page, new URL('page-1.html', url.group).href);
                if ((await page.locator('table.govuk-table tbody a[href*="/t/"]').count()) === 0)
                    return 'no conversations on page-1.html';
                const newer = page.getByRole('link', { name: 'Newer conversations' });
                if ((await newer.count()) === 0)
                    return 'no "Newer conversations" link on the oldest page';
                await follow(page, newer.first());
            });
            await axeCheck(page, 'page-1.html');
        } else {
            ok('older: the group has a single page of conversations (no numbered page)');
        }
    }

    // search: the form, by its label
    await check(`search: type "${opts.word}" into "Search the archive" and submit; results listed`, async () => {
        await goto(page, `${base}/`);
        await follow(page, page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Search' }));
        await page.getByLabel('Search the archive').fill(opts.word);
        const [resp] = await Promise.all([
            page.waitForNavigation({ waitUntil: 'load' }),
            page.getByRole('button', { name: 'Search' }).click(),
        ]);
        if (resp.status() !== 200)
            return `HTTP ${resp.status()} for ${page.url()}`;
        if (new URL(page.url()).searchParams.get('q') !== opts.word)
            return `the results page is ${page.url()}`;
        const heading = (await page.locator('#results').textContent()).trim();
        if (!/^[1-9][\d,]* results?/.test(heading))
            return `results heading: ${heading}`;
        if ((await page.getByLabel('Search the archive').inputValue()) !== opts.word)
            return 'the query is not kept in the box';
        url.search = page.url();
    });
    if (url.search) {
        await clean('search results');
        await axeCheck(page, 'search results');
        await screenshot(page, outdir, 'search.png');
        await check('search: every result link on the page resolves to a 200 page', async () => {
            const hrefs = await page.locator('main ol a').evaluateAll((as) => as.map((a) => a.href));
            if (hrefs.length === 0)
                return 'no result links';
            const errs = [];
            for (const h of hrefs) {
                const r = await page.request.get(h);
                if (r.status() !== 200)
                    errs.push(`${h}: HTTP ${r.status()}`);
                else if (!/<h1/.test(await r.text()))
                    errs.push(`${h}: no h1`);
            }
            return errs;
        });
        const more = page.getByRole('link', { name: 'More results' });
        if ((await more.count()) > 0)
            await check('search: "More results" gives the next page', async () => {
                await follow(page, more.first());
                if (new URL(page.url()).searchParams.get('page') !== '2' &&
                    !/showing 21 to/.test(await page.locator('#results').textContent()))
                    return `the next page is ${page.url()}`;
            });
    }

    // search: JSON
    await check(`search: /search?q=${opts.word}&format=json has total and results with every field`, async () => {
        const r = await page.request.get(`${base}/search?q=${encodeURIComponent(opts.word)}&format=json`);
        if (r.status() !== 200)
            return `HTTP ${r.status()}`;
        if (!/json/.test(r.headers()['content-type'] || ''))
            return `Content-Type ${r.headers()['content-type']}`;
        const j = JSON.parse(await r.text());
        const errs = [];
        if (typeof j.total !== 'number' || j.total < 1)
            errs.push(`total: ${JSON.stringify(j.total)}`);
        if (!Array.isArray(j.results) || j.results.length === 0)
            return errs.concat('no results');
        for (const [i, hit] of j.results.entries())
            for (const f of ['message_id', 'group', 'subject', 'from', 'date', 'url'])
                if (typeof hit[f] !== 'string' || (f !== 'subject' && hit[f] === ''))
                    errs.push(`results[${i}].${f}: ${JSON.stringify(hit[f])}`);
        if (j.results.length > 0 && typeof j.results[0].url === 'string') {
            const u = new URL(j.results[0].url, `${base}/`).href;
            const p = await page.request.get(u);
            if (p.status() !== 200)
                errs.push(`results[0].url ${u}: HTTP ${p.status()}`);
        }
        return errs;
    });

    // search: a malformed query
    await check('search: a malformed query (subject:() shows an error summary', async () => {
        const resp = await goto(page, `${base}/search?q=${encodeURIComponent('subject:(')}`, null);
        if (resp.status() !== 400 && resp.status() !== 200)
            return `HTTP ${resp.status()}`;
        const box = page.locator('.govuk-error-summary');
        if ((await box.count()) === 0 || !(await box.first().isVisible()))
            return 'no visible error summary';
        if ((await page.getByLabel('Search the archive').inputValue()) !== 'subject:(')
            return 'the query is not kept in the box';
    });
    await axeCheck(page, 'search with a malformed query');
    problems();   // the 400 is the point here

    // a 404
    await check('404: a missing page answers 404 with an error page', async () => {
        await goto(page, `${base}/g/no-such-group/t/00/1.html`, 404);
        if (!(await h1(page)))
            return 'no h1 on the 404 page';
        if ((await page.getByRole('link', { name: /list of groups/ }).count()) === 0)
            return 'no way back to the list of groups';
    });
    problems();
    await axeCheck(page, '404 page');
    await screenshot(page, outdir, 'error.png');

    // a moved conversation
    if (opts.moved) {
        await check('moved: a merged conversation\'s old page links to the whole conversation', async () => {
            await goto(page, new URL(opts.moved, `${base}/`).href);
            if (!/moved/i.test(await h1(page)))
                return `h1: ${await h1(page)}`;
            await follow(page, page.getByRole('link', { name: 'Read the whole conversation' }));
            if ((await page.locator('article.cor-message').count()) < 2)
                return `the conversation ${page.url()} has fewer than two messages`;
            await goto(page, new URL(opts.moved, `${base}/`).href);
        });
        await clean('moved');
        await axeCheck(page, 'moved page');
    }

    // without JavaScript
    const nojs = await browser.newContext({ viewport: { width: 1280, height: 900 }, javaScriptEnabled: false });
    nojs.setDefaultTimeout(15000);
    const np = await nojs.newPage();
    if (url.thread)
        await check('no JavaScript: the thread shows its messages', async () => {
            await goto(np, url.thread);
            const n = await np.locator('article.cor-message').count();
            if (n === 0 || !(await np.locator('article.cor-message').first().isVisible()))
                return 'no visible messages';
            if (!(await h1(np)))
                return 'no h1';
        });
    if (url.group)
        await check('no JavaScript: <details> (quoted text, signature) open by clicking the summary', async () => {
            // the walked thread, else the first conversation of the index that has some
            const candidates = [url.thread];
            await goto(np, url.group);
            candidates.push(...await np.locator('table.govuk-table tbody a[href*="/t/"]')
                .evaluateAll((as) => as.slice(0, 20).map((a) => a.href)));
            for (const c of candidates) {
                if (!c)
                    continue;
                await goto(np, c);
                const details = np.locator('details');
                if ((await details.count()) === 0)
                    continue;
                const d = details.first();
                if (await d.evaluate((e) => e.open))
                    return `${c}: details open before the click`;
                const inner = d.locator('.govuk-details__text');
                await d.locator('summary').click();
                if (!(await d.evaluate((e) => e.open)))
                    return `${c}: the details did not open`;
                if (!(await inner.isVisible()))
                    return `${c}: the details' text is not shown when open`;
                return;
            }
            return 'no conversation with <details> among the first 20';
        });
    await check(`no JavaScript: the search form works and lists results`, async () => {
        await goto(np, `${base}/search`);
        await np.getByLabel('Search the archive').fill(opts.word);
        await Promise.all([
            np.waitForNavigation({ waitUntil: 'load' }),
            np.getByRole('button', { name: 'Search' }).click(),
        ]);
        if ((await np.locator('main ol a').count()) === 0)
            return `no results at ${np.url()}`;
    });
    await nojs.close();
    await browser.close();
}

// ---------------------------------------------------------------- hostile

async function hostile(groupUrl) {
    if (!groupUrl.endsWith('/') && !groupUrl.endsWith('.html'))
        groupUrl += '/';
    const origin = new URL(groupUrl).origin;
    const browser = await launch();
    // bypassCSP: the sanitiser alone must make the pages safe (the pages'
    // Content-Security-Policy is a second line, not the one tested here)
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    ctx.setDefaultTimeout(15000);
    const lister = await ctx.newPage();

    // every page listing the group: index, numbered pages, months
    const threads = new Set();
    const messages = new Set();
    await check(`list the group's threads and messages (index, older pages, months)`, async () => {
        const seen = new Set();
        const queue = [groupUrl];
        while (queue.length > 0) {
            const u = queue.shift();
            if (seen.has(u))
                continue;
            seen.add(u);
            await goto(lister, u);
            const hrefs = await lister.locator('main a').evaluateAll((as) => as.map((a) => a.href));
            for (const h of hrefs) {
                const path = new URL(h).pathname;
                if (/\/t\/[0-9a-f]{2}\/\d+\.html$/.test(path))
                    threads.add(h.split('#')[0]);
                else if (/\/m\/[0-9a-f]{2}\/[0-9a-f]{16}\.html$/.test(path))
                    messages.add(h.split('#')[0]);
                else if (/\/(page-\d+|\d{4}-\d{2})\.html$/.test(path) && h.startsWith(groupUrl.replace(/index\.html$/, '')))
                    queue.push(h.split('#')[0]);
            }
        }
        if (threads.size === 0)
            return 'no thread pages found';
        console.log(`# ${threads.size} threads, ${messages.size} messages from ${seen.size} listing pages`);
    });
    // the messages of each thread too (a listing may show only some)
    for (const t of threads) {
        try {
            await goto(lister, t);
            for (const h of await lister.locator('article.cor-message h2 a').evaluateAll((as) => as.map((a) => a.href)))
                messages.add(h.split('#')[0]);
        } catch (e) {
            // reported when the thread itself is checked
        }
    }
    await lister.close();

    for (const u of [...threads, ...messages])
        await hostilePage(ctx, origin, u);
    await browser.close();
}

const seenAttachments = new Set();

async function hostilePage(ctx, origin, u) {
    const page = await ctx.newPage();
    const events = [];
    page.on('dialog', (d) => {
        events.push(`a dialog opened (${d.type()}): ${d.message()}`);
        d.dismiss().catch(() => {});
    });
    page.on('console', (m) => {
        const where = m.location()?.url || '';
        if (PAYLOAD.test(m.text()) || (m.type() === 'error' && !/\/favicon\.ico$/.test(where)))
            events.push(`console ${m.type()}: ${m.text()}${where ? ` (${where})` : ''}`);
    });
    page.on('pageerror', (e) => events.push(`page error: ${e.message}`));
    page.on('popup', (p) => events.push(`a popup opened: ${p.url()}`));
    page.on('request', (r) => {
        const ru = r.url();
        if (!ru.startsWith('data:') && !ru.startsWith('about:') && new URL(ru).origin !== origin)
            events.push(`request to another origin: ${ru}`);
        else if (r.isNavigationRequest() && r.frame() === page.mainFrame() && ru.split('#')[0] !== u)
            events.push(`the page navigated to ${ru}`);
    });
    page.on('frameattached', (f) => events.push(`a frame was attached: ${f.url()}`));
    const short = new URL(u).pathname;
    let loaded = false;
    try {
        await check(`${short}: loads; nothing runs, nothing from another origin, title kept`, async () => {
            await goto(page, u);
            loaded = true;
            await page.waitForTimeout(300);
            // open every <details>, so the sanitised HTML parts render too
            const summaries = page.locator('details > summary');
            const n = await summaries.count();
            for (let i = 0; i < n; i++) {
                const d = summaries.nth(i).locator('xpath=..');
                if (!(await d.evaluate((e) => e.open)))
                    await summaries.nth(i).click();
                if (!(await d.evaluate((e) => e.open)))
                    events.push(`details ${i} did not open`);
            }
            await page.waitForLoadState('load');
            await page.waitForTimeout(500);
            const title = await page.title();
            if (/^\s*pwned\s*$/i.test(title) || !/ - /.test(title))
                events.push(`document.title is ${JSON.stringify(title)}`);
            return events.splice(0);
        });
        if (!loaded)
            return;
        await check(`${short}: no <script>, on* attribute, frame, object, base, refresh or active URL in the DOM`, async () => {
            return page.evaluate(() => {
                const errs = [];
                const desc = (e) => e.outerHTML.slice(0, 140);
                for (const e of document.querySelectorAll('script'))
                    errs.push(`script element: ${desc(e)}`);
                for (const e of document.querySelectorAll('*')) {
                    for (const a of e.attributes) {
                        if (/^on/i.test(a.name))
                            errs.push(`${a.name} attribute: ${desc(e)}`);
                        if (/^(href|src|action|formaction|xlink:href|data|poster|background|srcset|srcdoc|ping|codebase)$/i.test(a.name)) {
                            const v = a.value.replace(/[\s\u0000-\u001f]+/g, '').toLowerCase();
                            if (/^(javascript|vbscript|data:text\/html|data:image\/svg|livescript|mocha):?/.test(v) ||
                                /^(https?:)?\/\/(?!127\.0\.0\.1|localhost)/.test(v) && a.name.toLowerCase() !== 'href')
                                errs.push(`${a.name}="${a.value.slice(0, 80)}": ${desc(e)}`);
                        }
                        if (a.name.toLowerCase() === 'style' && /url\(|expression|behavior|binding|position:\s*fixed/i.test(a.value))
                            errs.push(`style="${a.value.slice(0, 80)}": ${desc(e)}`);
                    }
                }
                for (const e of document.querySelectorAll('iframe, frame, frameset, object, embed, applet, base, body meta, meta[http-equiv]:not([http-equiv="Content-Security-Policy"]), link[rel~="import"], form:not(.cor-search), main style, main link, noscript, portal, svg script, math [href]'))
                    errs.push(`${e.tagName.toLowerCase()} element: ${desc(e)}`);
                for (const e of document.querySelectorAll('link[href]'))
                    if (new URL(e.href).origin !== location.origin)
                        errs.push(`link to another origin: ${desc(e)}`);
                return errs;
            });
        });
        await axeCheck(page, short);
        // each attachment once (a thread page shows the message's links too)
        const atts = (await page.locator('.cor-attachments a').evaluateAll((as) =>
            as.map((a) => ({ href: a.href, raw: a.getAttribute('href'), download: a.getAttribute('download'), text: a.textContent }))))
            .filter((a) => !seenAttachments.has(a.href) && seenAttachments.add(a.href));
        if (atts.length > 0) {
            await check(`${short}: ${atts.length} attachment links: download attribute, under /m/, no active extension`, () => {
                const errs = [];
                for (const a of atts) {
                    const path = new URL(a.href).pathname;
                    const ext = (path.match(/\.([^./]*)$/) || [, ''])[1].toLowerCase();
                    if (a.download === null)
                        errs.push(`no download attribute: ${a.raw}`);
                    if (!/\/g\/[^/]+\/m\/[0-9a-f]{2}\/[0-9a-f]{16}\/\d+\.[a-z0-9]+$/.test(path) || new URL(a.href).origin !== origin)
                        errs.push(`not under the message's /m/ folder: ${a.raw}`);
                    if (BAD_EXT.has(ext))
                        errs.push(`active extension .${ext}: ${a.raw}`);
                    if (/[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/.test(a.text + (a.download || '')))
                        errs.push(`control or bidi character in the name shown or offered: ${JSON.stringify(a.download)}`);
                }
                return errs;
            });
            await check(`${short}: attachments download as attachments, never as an active type`, async () => {
                const errs = [];
                for (const a of atts) {
                    const r = await page.request.get(a.href);
                    const h = r.headers();
                    if (r.status() !== 200) {
                        errs.push(`${a.raw}: HTTP ${r.status()}`);
                        continue;
                    }
                    const ct = (h['content-type'] || '').toLowerCase();
                    if (/html|svg|xml|javascript|ecmascript/.test(ct))
                        errs.push(`${a.raw}: Content-Type ${ct}`);
                    if (!/^attachment/i.test(h['content-disposition'] || ''))
                        errs.push(`${a.raw}: Content-Disposition ${h['content-disposition']}`);
                    if ((h['x-content-type-options'] || '').toLowerCase() !== 'nosniff')
                        errs.push(`${a.raw}: no X-Content-Type-Options: nosniff`);
                }
                return errs;
            });
        }
    } finally {
        await page.close();
    }
}

// ---------------------------------------------------------------- main

const argv = process.argv.slice(2);
const t0 = Date.now();
try {
    if (argv[0] === '--hostile') {
        if (argv.length !== 2)
            usage();
        await hostile(argv[1]);
    } else {
        if (argv.length < 2 || argv[0].startsWith('-') || argv[1].startsWith('-'))
            usage();
        const opts = { group: null, word: 'kernel', moved: null };
        for (let i = 2; i < argv.length; i += 2) {
            const v = argv[i + 1];
            if (v === undefined)
                usage();
            if (argv[i] === '--group') opts.group = v;
            else if (argv[i] === '--word') opts.word = v;
            else if (argv[i] === '--moved') opts.moved = v;
            else usage();
        }
        await walk(argv[0].replace(/\/+$/, ''), argv[1], opts);
    }
} catch (e) {
    notOk('the walk ran to its end', [String(e && e.stack ? e.stack : e).split('\n').slice(0, 8).join('\n')]);
}
finish(t0);
