// tests/browser/page.mjs — pages `corridor serve --http` makes on request
// rather than serving from the tree (a 503 "being added to the archive"
// page, an error page), in a real browser (Debian's chromium driven by
// playwright-core; axe-core for accessibility).  Run by
// tests/T340-publish-lag.sh against a running `corridor serve --http`.
//
//   node page.mjs STATUS URL...
//
// For each URL: the answer has HTTP status STATUS; axe-core (WCAG 2.0/2.1 A
// and AA, 2.2 AA) finds no violation; every link has text; the archive's
// stylesheet is applied and no request failed or went to another origin;
// the page fits a 320 px wide window without sideways scrolling (WCAG
// 1.4.10 reflow).  Prints one line per check, "ok - ..." or "not ok - ..."
// (details follow as "#" lines); exits 0 when every check passed, 1
// otherwise (2 on bad usage).  Never downloads a browser: /usr/bin/chromium
// only.
import { axeViolations, finish, launch, report } from './lib.mjs';

const [status, ...urls] = process.argv.slice(2);
if (!/^[1-5][0-9][0-9]$/.test(status || '') || urls.length === 0) {
    console.error('usage: node page.mjs STATUS URL...');
    process.exit(2);
}
const browser = await launch();
try {
    for (const url of urls) {
        const name = new URL(url).pathname;
        // bypassCSP: the pages forbid inline script (good), but axe is injected
        const ctx = await browser.newContext({ viewport: { width: 1024, height: 800 },
                                               bypassCSP: true });
        const page = await ctx.newPage();
        const origin = new URL(url).origin;
        const problems = [];
        page.on('request', (r) => {
            if (!r.url().startsWith('data:') && new URL(r.url()).origin !== origin)
                problems.push(`request to another origin: ${r.url()}`);
        });
        page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
        page.on('response', (r) => {
            if (r.request().resourceType() !== 'document' && r.status() >= 400)
                problems.push(`HTTP ${r.status()} for ${r.url()}`);
        });
        const resp = await page.goto(url, { waitUntil: 'load' });
        const got = resp ? resp.status() : 0;
        report(`${name}: HTTP ${status}`, got === Number(status) ? [] : [`HTTP ${got}`]);
        report(`${name}: axe-core finds no violation`, await axeViolations(page));
        const empty = await page.evaluate(() =>
            [...document.querySelectorAll('a')].filter((a) => !a.textContent.trim()).length);
        report(`${name}: every link has text`, empty ? [`${empty} links without text`] : []);
        const styled = await page.evaluate(() =>
            [...document.styleSheets].some((s) => s.href && s.href.endsWith('/static/corridor.css')));
        report(`${name}: the archive's stylesheet is applied`, styled ? [] : ['no corridor.css']);
        report(`${name}: nothing failed or came from elsewhere`, problems);
        await page.setViewportSize({ width: 320, height: 640 });
        const wide = await page.evaluate(() => document.documentElement.scrollWidth);
        report(`${name}: fits 320 px without scrolling sideways`,
               wide > 320 ? [`scroll width ${wide}px`] : []);
        await ctx.close();
    }
} finally {
    await browser.close();
}
finish();
