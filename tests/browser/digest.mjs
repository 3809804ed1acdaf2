// tests/browser/digest.mjs — a digest's HTML part in a real browser
// (Debian's chromium driven by playwright-core; axe-core for accessibility).
// Run by tests/T700-digest.sh on files `corridor digest preview --format
// html` wrote.
//
//   node digest.mjs FILE.html...
//
// For each file: axe-core (WCAG 2.0/2.1 A and AA, 2.2 AA) with no
// violations; the page fits a 320 px wide window without sideways scrolling
// (WCAG 1.4.10 reflow), long links included; every link has text.  Prints
// one line per check, "ok - ..." or "not ok - ..." (details follow as "#"
// lines); exits 0 when every check passed, 1 otherwise (2 on bad usage).
// Nothing is fetched: the files are opened from disk.
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { axeViolations, finish, launch, report } from './lib.mjs';

const files = process.argv.slice(2);
if (files.length === 0) {
    console.error('usage: node digest.mjs FILE.html...');
    process.exit(2);
}
const browser = await launch();
try {
    for (const f of files) {
        const name = basename(f);
        const page = await browser.newPage({ viewport: { width: 1024, height: 800 } });
        const outside = [];
        page.on('request', (r) => {
            if (!r.url().startsWith('file:') && !r.url().startsWith('data:'))
                outside.push(r.url());
        });
        await page.goto(pathToFileURL(resolve(f)).href, { waitUntil: 'load' });
        report(`${name}: axe-core finds no violation`, await axeViolations(page));
        const empty = await page.evaluate(() =>
            [...document.querySelectorAll('a')].filter((a) => !a.textContent.trim()).length);
        report(`${name}: every link has text`, empty ? [`${empty} links without text`] : []);
        await page.setViewportSize({ width: 320, height: 640 });
        const wide = await page.evaluate(() => document.documentElement.scrollWidth);
        report(`${name}: fits 320 px without scrolling sideways`,
               wide > 320 ? [`scroll width ${wide}px`] : []);
        report(`${name}: nothing fetched`, outside);
        await page.close();
    }
} finally {
    await browser.close();
}
finish();
