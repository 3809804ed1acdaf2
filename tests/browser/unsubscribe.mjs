// tests/browser/unsubscribe.mjs — the one-click leave page (/u/TOKEN) in a
// real browser (Debian's chromium driven by playwright-core; axe-core for
// accessibility).  Run by tests/T610-unsubscribe.sh against a running
// `corridor serve --http`.
//
//   node unsubscribe.mjs KEYBOARD_URL AXE_URL WRONG_URL [OUTDIR]
//       KEYBOARD_URL  a member's /u/TOKEN: the page is checked as served
//                     (its own Content-Security-Policy in force, no
//                     JavaScript), then left with the keyboard alone: Tab to
//                     the button, Enter; the form posts to the same address
//                     and the answer says the member has left
//       AXE_URL       another member's /u/TOKEN (or a combined digest's
//                     /u/TOKEN/digest): axe-core (WCAG 2.0/2.1 A
//                     and AA, 2.2 AA) on the page, then on the answer to its
//                     button
//       WRONG_URL     an unknown token: 404, the archive's look, axe-core
//       OUTDIR        where to write unsubscribe.png (none when absent)
//
// Prints one line per check, "ok - ..." or "not ok - ..." (details follow as
// "#" lines), then a summary; exits 0 when every check passed, 1 otherwise
// (2 on bad usage).  Never downloads a browser: /usr/bin/chromium only.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { axeViolations, check, finish, h1, launch, notOk, watch } from './lib.mjs';

async function goto(page, url, status) {
    const resp = await page.goto(url, { waitUntil: 'load' });
    if (!resp)
        throw new Error(`no response for ${url}`);
    if (resp.status() !== status)
        throw new Error(`${url}: HTTP ${resp.status()}, expected ${status}`);
    return resp;
}

// The form of the page: method, where it posts, its fields and its button.
function formOf(page) {
    return page.evaluate(() => {
        const f = document.querySelector('main form');
        if (!f)
            return null;
        const b = f.querySelector('button, input[type=submit]');
        return {
            method: f.method, action: f.action,
            fields: [...f.querySelectorAll('input')].map((i) => `${i.type}:${i.name}=${i.value}`),
            button: b ? b.textContent.trim() : null,
        };
    });
}

// Submits the page's form by clicking its button; returns the response.
async function submit(page, how) {
    const [resp] = await Promise.all([
        page.waitForNavigation({ waitUntil: 'load' }),
        how(),
    ]);
    if (!resp)
        throw new Error('no response to the form');
    return resp;
}

async function run(keyboardUrl, axeUrl, wrongUrl, outdir) {
    const origin = new URL(keyboardUrl).origin;
    const browser = await launch();
    try {
        // as a member sees it: the page's own CSP in force, no JavaScript
        const plain = await browser.newContext({
            viewport: { width: 1280, height: 900 }, javaScriptEnabled: false,
        });
        plain.setDefaultTimeout(15000);
        const page = await plain.newPage();
        const problems = watch(page, origin);
        let title = null;
        await check('the page: 200, "Leave GROUP", a form posting List-Unsubscribe=One-Click to its own address', async () => {
            const resp = await goto(page, keyboardUrl, 200);
            const errs = [];
            const csp = resp.headers()['content-security-policy'] || '';
            if (!/form-action 'self'/.test(csp))
                errs.push(`Content-Security-Policy without form-action 'self': ${csp}`);
            title = await h1(page);
            if (!title || !/^Leave ./.test(title))
                errs.push(`h1: ${title}`);
            const f = await formOf(page);
            if (!f)
                return errs.concat('no form in main');
            if (f.method !== 'post')
                errs.push(`method ${f.method}`);
            if (f.action !== keyboardUrl)
                errs.push(`the form posts to ${f.action}, not ${keyboardUrl}`);
            if (!f.fields.includes('hidden:List-Unsubscribe=One-Click'))
                errs.push(`fields: ${f.fields.join(', ')}`);
            if (f.button !== title)
                errs.push(`the button says "${f.button}", the heading "${title}"`);
            return errs.concat(problems());
        });
        if (outdir)
            await check('screenshot unsubscribe.png', async () => {
                mkdirSync(outdir, { recursive: true });
                await page.screenshot({ path: join(outdir, 'unsubscribe.png'), fullPage: true });
            });
        await check('keyboard, no JavaScript: Tab reaches the button (visibly focused), Enter leaves the group, no redirect', async () => {
            const errs = [];
            let focused = null;
            for (let i = 0; i < 30; i++) {
                await page.keyboard.press('Tab');
                focused = await page.evaluate(() => {
                    const a = document.activeElement;
                    const r = a.getBoundingClientRect();
                    const s = getComputedStyle(a);
                    return { tag: a.tagName, text: a.textContent.trim(), type: a.type,
                             w: r.width, h: r.height, outline: s.outlineStyle, shadow: s.boxShadow,
                             bg: s.backgroundColor };
                });
                if (focused.tag === 'BUTTON')
                    break;
            }
            if (focused.tag !== 'BUTTON')
                return `30 Tabs never reached the button (last: ${JSON.stringify(focused)})`;
            if (focused.w < 24 || focused.h < 24)
                errs.push(`the button is smaller than 24 by 24 px: ${JSON.stringify(focused)}`);
            if (focused.outline === 'none' && (!focused.shadow || focused.shadow === 'none'))
                errs.push(`the focused button shows no focus indicator: ${JSON.stringify(focused)}`);
            const resp = await submit(page, () => page.keyboard.press('Enter'));
            if (resp.request().method() !== 'POST')
                errs.push(`the form sent a ${resp.request().method()}`);
            if (resp.request().redirectedFrom())
                errs.push(`redirected from ${resp.request().redirectedFrom().url()}`);
            if (resp.status() !== 200)
                errs.push(`HTTP ${resp.status()}`);
            if (page.url() !== keyboardUrl)
                errs.push(`ended at ${page.url()}`);
            const body = resp.request().postData();
            if (body !== 'List-Unsubscribe=One-Click')
                errs.push(`posted ${JSON.stringify(body)}`);
            const left = await h1(page);
            const want = title ? title.replace(/^Leave /, 'You have left ') : null;
            if (left !== want)
                errs.push(`h1 after leaving: "${left}", expected "${want}"`);
            return errs.concat(problems());
        });
        await plain.close();

        // axe-core needs its script in the page: this context lets it past
        // the CSP (which forbids every script, as it should)
        const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
        ctx.setDefaultTimeout(15000);
        const ap = await ctx.newPage();
        const apProblems = watch(ap, origin);
        await check('axe: the leave page has no WCAG 2.2 AA violations', async () => {
            await goto(ap, axeUrl, 200);
            return (await axeViolations(ap)).concat(apProblems());
        });
        await check('axe: the page after leaving has no WCAG 2.2 AA violations', async () => {
            const resp = await submit(ap, () => ap.locator('main form button').click());
            if (resp.status() !== 200)
                return `HTTP ${resp.status()} after the button`;
            if (!/^(You have left .|Your digest has stopped)/.test(await h1(ap) || ''))
                return `h1 after leaving: ${await h1(ap)}`;
            return (await axeViolations(ap)).concat(apProblems());
        });
        await check('axe: an unknown token gives a 404 page in the archive\'s look, no WCAG 2.2 AA violations', async () => {
            await goto(ap, wrongUrl, 404);
            const errs = [];
            if (await ap.locator('main form').count() !== 0)
                errs.push('the 404 page has a form');
            if (await ap.locator('link[rel=stylesheet]').count() === 0)
                errs.push('the 404 page has no stylesheet');
            // the browser logs the 404 of the page itself: expected here
            const own = (l) => l.includes(`status of 404`) && l.includes(`(${wrongUrl})`);
            return errs.concat(await axeViolations(ap), apProblems().filter((l) => !own(l)));
        });
        await ctx.close();
    } finally {
        await browser.close();
    }
}

const argv = process.argv.slice(2);
if (argv.length < 3 || argv.length > 4 || argv.some((a) => a.startsWith('-'))) {
    console.error('usage: node unsubscribe.mjs KEYBOARD_URL AXE_URL WRONG_URL [OUTDIR]');
    process.exit(2);
}
const t0 = Date.now();
try {
    await run(argv[0], argv[1], argv[2], argv[3]);
} catch (e) {
    notOk('the run reached its end', [String(e && e.stack ? e.stack : e).split('\n').slice(0, 8).join('\n')]);
}
finish(t0);
