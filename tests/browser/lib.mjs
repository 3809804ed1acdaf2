// tests/browser/lib.mjs — what the browser checks (walk.mjs, page.mjs,
// digest.mjs, unsubscribe.mjs) share: Debian's chromium driven by
// playwright-core, axe-core, and the lines they print.
//
//   launch()                 a headless chromium; never downloads a browser:
//                            /usr/bin/chromium only
//   axeViolations(page)      runs axe-core (WCAG 2.0/2.1 A and AA, 2.2 AA) on
//                            the page; its violations as printable lines
//   watch(page, origin)      from now on, collects what went wrong while the
//                            page is used (subresources that failed or came
//                            from another origin, console and page errors);
//                            returns a function that hands over (and forgets)
//                            the problems so far
//   h1(page)                 the text of the page's first h1 (null: none)
//   ok(NAME)                 prints "ok - NAME"
//   notOk(NAME, DETAILS)     prints "not ok - NAME", then each line of
//                            DETAILS (a string or a list) as a "#" line
//   report(NAME, DETAILS)    ok when DETAILS is empty, notOk otherwise
//   check(NAME, fn)          awaits fn(): nothing, true or an empty list
//                            returned passes; a string or a list of strings
//                            fails with those details (false: with none); a
//                            throw fails with the error
//   finish(t0)               exits 0 when every check passed, 1 otherwise;
//                            with t0 (Date.now() at the start) prints
//                            "# N checks: P passed, F failed (S s)" first
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const axeSource = readFileSync(join(HERE, 'node_modules/axe-core/axe.min.js'), 'utf8');

export function launch() {
    return chromium.launch({
        executablePath: '/usr/bin/chromium',
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
               '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
}

// The page must let the script in: a page whose Content-Security-Policy
// forbids inline script is opened in a context with bypassCSP.
export async function axeViolations(page) {
    await page.addScriptTag({ content: axeSource });
    const res = await page.evaluate(
        (tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }), AXE_TAGS);
    return res.violations.map((v) => {
        const targets = v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ');
        return `${page.url()}: ${v.id} (${v.impact}): ${v.help} [${v.nodes.length} nodes] at ${targets}`;
    });
}

export function watch(page, origin) {
    const problems = [];
    page.on('requestfailed', (r) => {
        if (r.resourceType() !== 'document')
            problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`);
    });
    page.on('response', (r) => {
        if (r.request().resourceType() !== 'document' && r.status() >= 400)
            problems.push(`HTTP ${r.status()} for ${r.url()}`);
    });
    page.on('request', (r) => {
        const u = r.url();
        if (!u.startsWith('data:') && !u.startsWith('about:') && new URL(u).origin !== origin)
            problems.push(`request to another origin: ${u}`);
    });
    page.on('console', (m) => {
        // Chromium asks for /favicon.ico by itself; the archive has none
        const where = m.location()?.url || '';
        if (m.type() === 'error' && !/\/favicon\.ico$/.test(where))
            problems.push(`console error: ${m.text()}${where ? ` (${where})` : ''}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    return () => problems.splice(0);
}

export async function h1(page) {
    const t = await page.locator('h1').first().textContent({ timeout: 2000 }).catch(() => null);
    return t === null ? null : t.trim();
}

let passed = 0;
let failed = 0;

export function ok(name) {
    passed++;
    console.log(`ok - ${name}`);
}

export function notOk(name, details = []) {
    failed++;
    console.log(`not ok - ${name}`);
    for (const d of [].concat(details))
        for (const line of String(d).split('\n'))
            console.log(`#   ${line}`);
}

export function report(name, details) {
    if (details.length === 0)
        ok(name);
    else
        notOk(name, details);
}

export async function check(name, fn) {
    try {
        const r = await fn();
        if (r === undefined || r === null || r === true || (Array.isArray(r) && r.length === 0))
            ok(name);
        else
            notOk(name, r === false ? [] : r);
    } catch (e) {
        notOk(name, [String(e && e.message ? e.message : e).split('\n').slice(0, 6).join('\n')]);
    }
}

export function finish(t0) {
    if (t0 !== undefined)
        console.log(`# ${passed + failed} checks: ${passed} passed, ${failed} failed ` +
                    `(${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    process.exit(failed === 0 ? 0 : 1);
}
