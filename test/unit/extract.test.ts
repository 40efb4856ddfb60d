import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { before, describe, test } from 'node:test';
import { UserError } from '../../src/errors.js';
import { detectType, extractText, type Extracted } from '../../src/kb/extract.js';
import { renderPages } from '../../src/kb/pdf/extract.js';
import { layoutPage, type PositionedText } from '../../src/kb/pdf/layout.js';
import {
  corruptPdf,
  encryptedPdf,
  longManual,
  longManualWithLayout,
  manualFacts,
  manualPages,
  scannedPdf,
  tableFacts,
  tablesDoc,
  tablesProseFacts,
  truncatedPdf,
  twoColumnDoc,
  twoColumnFacts,
  whitespacePdf,
  type ManualLayout,
} from '../support/pdfs.js';

const flat = (s: string) => s.replace(/\s+/g, ' ');
const pageText = (x: Extracted, page: number) =>
  x.units
    .filter((u) => u.page === page)
    .map((u) => u.text)
    .join('\n\n');

async function rejectsWith(promise: Promise<unknown>, code: string, message: RegExp, fileName: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
    assert.equal(err.exitCode, 2);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    assert.ok(err.message.startsWith(`${fileName}: `), `message names the file: ${err.message}`);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  });
}

describe('detectType', () => {
  const pdf = new TextEncoder().encode('%PDF-1.7\n...');
  test('by extension, case-insensitively', () => {
    assert.equal(detectType('guide.pdf', pdf), 'pdf');
    assert.equal(detectType('dir/Guide.PDF', pdf), 'pdf');
    assert.equal(detectType('notes.md', new Uint8Array([0x61])), 'markdown');
    assert.equal(detectType('notes.markdown', new Uint8Array([0x61])), 'markdown');
    assert.equal(detectType('faq.txt', new Uint8Array([0x61])), 'text');
    assert.equal(detectType('faq.text', new Uint8Array([0x61])), 'text');
  });
  test('unsupported extension', () => {
    assert.throws(
      () => detectType('report.docx', new Uint8Array([1])),
      (e: unknown) =>
        e instanceof UserError &&
        e.code === 'unsupported_type' &&
        e.message === 'report.docx: unsupported file type .docx — use PDF, Markdown (.md) or text (.txt)',
    );
    assert.throws(() => detectType('Makefile', new Uint8Array([1])), /Makefile: unsupported file type \(no extension\)/);
  });
  test('zero bytes', () => {
    for (const name of ['a.pdf', 'a.md', 'a.txt']) {
      assert.throws(
        () => detectType(name, new Uint8Array()),
        (e: unknown) => e instanceof UserError && e.code === 'empty_file' && /empty file/.test(e.message),
      );
    }
  });
  test('a .pdf that is not a PDF', () => {
    const html = new TextEncoder().encode('<!doctype html><title>Not found</title>');
    assert.throws(
      () => detectType('manual.pdf', html),
      (e: unknown) => e instanceof UserError && e.code === 'not_pdf' && /manual\.pdf: not a PDF/.test(e.message),
    );
  });
});

test('pdf.js is loaded lazily: not when the extractor is imported, nor by the CLI starting', () => {
  // A module hook in a child process refuses pdfjs-dist; importing it directly proves the hook works.
  const dir = mkdtempSync(join(tmpdir(), 'copilot-lazy-'));
  try {
    const hooks = join(dir, 'hooks.mjs');
    writeFileSync(
      hooks,
      "export async function resolve(s, c, next) { if (s.startsWith('pdfjs-dist')) throw new Error('pdf.js loaded from ' + c.parentURL); return next(s, c); }\n",
    );
    const register = join(dir, 'register.mjs');
    writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    const extract = new URL('../../src/kb/extract.js', import.meta.url).href;
    const script = `await import(${JSON.stringify(extract)});
      try { await import('pdfjs-dist/legacy/build/pdf.mjs'); console.log('hook missed'); } catch { console.log('lazy'); }`;
    const child = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    assert.equal(child.stderr, '');
    assert.equal(child.stdout.trim(), 'lazy');
    const bin = fileURLToPath(new URL('../../../bin/copilot.js', import.meta.url));
    const cli = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, bin, '--help'], { encoding: 'utf8' });
    assert.doesNotMatch(cli.stderr, /pdf\.js loaded/);
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, /Usage: copilot/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** As they were before pdf.js was first loaded in this thread (it is only ever loaded lazily). */
const BUILT_INS = { push: Array.prototype.push, parse: JSON.parse, stringify: JSON.stringify };

describe('PDF: 50-page manual', () => {
  let layout: ManualLayout;
  let extracted: Extracted;
  const progress: [number, number][] = [];
  let bytesBefore: string;
  before(async () => {
    layout = await longManualWithLayout(50);
    bytesBefore = createHash('sha256').update(layout.pdf).digest('hex');
    extracted = await extractText('manual.pdf', layout.pdf, { onPage: (d, t) => progress.push([d, t]) });
  });

  test('one unit per page, page numbers 1..50, sections from the outline', () => {
    assert.equal(extracted.type, 'pdf');
    assert.equal(extracted.pages, 50);
    assert.deepEqual(
      extracted.units.map((u) => u.page),
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    assert.equal(extracted.units[8]!.section, '9. Keeping settings between exports');
    assert.equal(extracted.units[32]!.section, '33. Proxy configuration');
    for (const u of extracted.units) assert.match(u.text, new RegExp(`page ${u.page} of 50`));
  });

  test('every sentence of the source is on its page', () => {
    for (const p of manualPages) {
      const text = flat(pageText(extracted, p.page));
      for (const para of p.paragraphs) assert.ok(text.includes(flat(para)), `page ${p.page}: ${para.slice(0, 60)}`);
    }
  });

  test('every known fact is on its page and on no other', () => {
    assert.ok(manualFacts.length >= 90);
    for (const f of manualFacts) {
      const pages = extracted.units.filter((u) => flat(u.text).includes(f.fact)).map((u) => u.page);
      assert.deepEqual(pages, [f.page], `${f.fact} (${f.topic})`);
    }
  });

  test('words hyphenated at line ends are joined', () => {
    assert.ok(layout.hyphenations.length >= 5, 'the generator hyphenated some words');
    for (const h of layout.hyphenations) {
      const text = pageText(extracted, h.page);
      assert.ok(text.includes(h.word), `${h.word} joined on page ${h.page}`);
      assert.ok(!new RegExp(`${h.head.replace('-', '\\-')}\\s`).test(text), `no "${h.head}" left on page ${h.page}`);
    }
  });

  test('paragraphs are separated by blank lines, lines of a paragraph reflowed', () => {
    const p9 = pageText(extracted, 9);
    const paragraphs = p9.split('\n\n');
    assert.ok(
      paragraphs.some((p) => p.startsWith('To keep your settings, open Preferences > Exports') && p.endsWith('keep their own defaults.')),
    );
    assert.ok(!/[^.:\n]\n[a-z]/.test(p9), 'no line break inside a sentence');
    assert.ok(!/ {2}/.test(p9), 'whitespace collapsed');
  });

  test('numbered steps stay on their own lines', () => {
    const p6 = pageText(extracted, 6);
    assert.match(p6, /\n1\. Click New export and choose a data source, for example the Sales database\.\n2\. Pick the table/);
  });

  test('progress per page, caller bytes untouched', () => {
    assert.deepEqual(
      progress,
      Array.from({ length: 50 }, (_, i) => [i + 1, 50]),
    );
    assert.equal(createHash('sha256').update(layout.pdf).digest('hex'), bytesBefore);
  });

  test('generated PDF bytes are deterministic', async () => {
    assert.ok((await longManual(50)).equals(layout.pdf));
  });

  test('the same pages whether read in this thread or shared among 1, 2 or 3 reading threads', async () => {
    for (const readers of [0, 1, 2, 3]) {
      const order: number[] = [];
      const x = await extractText('manual.pdf', layout.pdf, { readers, onPage: (d) => order.push(d) });
      assert.deepEqual(x, extracted, `${readers} reading threads`);
      assert.deepEqual(
        order,
        Array.from({ length: 50 }, (_, i) => i + 1),
        `pages handed on in order with ${readers} threads`,
      );
    }
  });
});

test('loading pdf.js leaves Array.prototype.push and JSON as they were', async () => {
  const before = BUILT_INS;
  const { loadPdfJs } = await import('../../src/kb/pdf/read.js');
  await loadPdfJs();
  assert.equal(Array.prototype.push, before.push);
  assert.equal(JSON.parse, before.parse);
  assert.equal(JSON.stringify, before.stringify);
  assert.equal(Object.getOwnPropertyDescriptor(Array.prototype, 'push')!.enumerable, false);
});

describe('PDF: tables', () => {
  let x: Extracted;
  before(async () => {
    x = await extractText('plans.pdf', await tablesDoc());
  });
  test('each table row is one line, cells in order separated by " | "', () => {
    for (const f of tableFacts) {
      const lines = pageText(x, f.page).split('\n');
      assert.ok(lines.includes(f.row.join(' | ')), `row on page ${f.page}: ${f.row.join(' | ')}`);
    }
  });
  test('prose around the tables', () => {
    for (const f of tablesProseFacts) assert.ok(flat(pageText(x, f.page)).includes(f.fact), f.fact);
  });
});

describe('PDF: two columns', () => {
  let x: Extracted;
  before(async () => {
    x = await extractText('newsletter.pdf', await twoColumnDoc());
  });
  test('sentences that wrap inside a column come out whole', () => {
    assert.ok(twoColumnFacts.length >= 6);
    for (const f of twoColumnFacts) assert.ok(flat(pageText(x, f.page)).includes(f.sentence), `page ${f.page} ${f.column}: ${f.sentence}`);
  });
  test('left column first, then the right one (also when drawn row by row)', () => {
    for (const page of [1, 2, 3]) {
      const text = flat(pageText(x, page));
      const left = twoColumnFacts.filter((f) => f.page === page && f.column === 'left');
      const right = twoColumnFacts.filter((f) => f.page === page && f.column === 'right');
      const lastLeft = Math.max(...left.map((f) => text.indexOf(f.sentence)));
      const firstRight = Math.min(...right.map((f) => text.indexOf(f.sentence)));
      assert.ok(lastLeft >= 0 && firstRight > lastLeft, `page ${page}: left before right`);
      assert.ok(text.startsWith('Acme Quarterly: news for Acme Exporter administrators'), 'full-width title first');
      assert.ok(text.endsWith(`Acme Quarterly · issue 12 · page ${page}`), 'the footer under the columns comes last');
    }
  });
});

for (const readers of [undefined, 0])
  describe(`PDF: bad input (${readers === 0 ? 'read in this thread' : 'reading threads'})`, () => {
    test('password protected', async () => {
      await rejectsWith(
        extractText('salaries.pdf', await encryptedPdf(), { readers }),
        'pdf_encrypted',
        /password protected/,
        'salaries.pdf',
      );
    });
    test('scanned, no text layer', async () => {
      await rejectsWith(
        extractText('scan.pdf', await scannedPdf(), { readers }),
        'pdf_no_text',
        /no extractable text — OCR it first/,
        'scan.pdf',
      );
    });
    test('corrupt', async () => {
      await rejectsWith(
        extractText('bad.pdf', await corruptPdf(), { readers }),
        'pdf_damaged',
        /could not be read as a PDF: damaged or truncated/,
        'bad.pdf',
      );
    });
    test('truncated', async () => {
      await rejectsWith(
        extractText('half.pdf', await truncatedPdf(), { readers }),
        'pdf_damaged',
        /could not be read as a PDF: damaged or truncated/,
        'half.pdf',
      );
    });
    test('only whitespace', async () => {
      await rejectsWith(extractText('blank.pdf', await whitespacePdf(), { readers }), 'no_text', /no text in file/, 'blank.pdf');
    });
    test('just a header', async () => {
      await rejectsWith(
        extractText('h.pdf', new TextEncoder().encode('%PDF-1.4\n'), { readers }),
        'pdf_damaged',
        /damaged or truncated/,
        'h.pdf',
      );
    });

    test('no unhandled rejection escapes, whatever the damage', async () => {
      const unhandled: unknown[] = [];
      const spy = (reason: unknown) => unhandled.push(reason);
      process.on('unhandledRejection', spy);
      try {
        const good = await longManual(6);
        const inputs: Uint8Array[] = [await corruptPdf(), await corruptPdf(200), await corruptPdf(65536), await truncatedPdf()];
        for (const f of [0.02, 0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 0.95, 0.98, 0.995])
          inputs.push(good.subarray(0, Math.floor(good.length * f)));
        // bytes flipped inside the compressed streams and the cross-reference table
        for (const at of [0.15, 0.35, 0.5, 0.65, 0.8, 0.97]) {
          const copy = Buffer.from(good);
          const i = Math.floor(copy.length * at);
          for (let k = 0; k < 64; k++) copy[i + k] = (copy[i + k]! * 31 + k) & 0xff;
          inputs.push(copy);
        }
        const outcomes = await Promise.all(
          inputs.map(async (bytes, i) => {
            try {
              await extractText(`damaged-${i}.pdf`, bytes, { readers });
              return 'ok';
            } catch (err) {
              assert.ok(err instanceof UserError, `damaged-${i}.pdf: ${String(err)}`);
              return err.code;
            }
          }),
        );
        assert.ok(outcomes.filter((o) => o === 'pdf_damaged').length >= 8, outcomes.join(','));
        // give late rejections (cleanup, font loading, destroy) time to surface
        for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 40));
        await new Promise((r) => setImmediate(r));
        assert.deepEqual(unhandled, []);
      } finally {
        process.off('unhandledRejection', spy);
      }
    });
  });

describe('PDF layout (synthetic positions)', () => {
  const line = (str: string, x: number, y: number, size = 10): PositionedText => ({ str, x, y, width: str.length * size * 0.5, size });
  const render = (items: PositionedText[]) => renderPages([layoutPage(items)])[0]!;

  test('two columns given row by row are read column by column', () => {
    const left = [
      'Left one starts a sentence that',
      'goes on in the left column and',
      'ends here in the left column.',
      'Another left line follows here',
      'and the left column closes now.',
      'Final words of the left column.',
    ];
    const right = [
      'Right one starts a sentence th',
      'continues in the right column',
      'and ends in the right column.',
      'More text in the right column',
      'before the right column closes',
      'with these last words at last.',
    ];
    const items: PositionedText[] = [line('A title that spans both of the columns of the page', 72, 720, 14)];
    left.forEach((s, i) => {
      items.push(line(s, 72, 690 - i * 13));
      items.push(line(right[i]!, 330, 690 - i * 13));
    });
    const text = render(items);
    assert.ok(text.startsWith('A title that spans both'));
    assert.ok(text.includes('Left one starts a sentence that goes on in the left column and ends here in the left column.'));
    assert.ok(text.indexOf('Final words of the left column.') < text.indexOf('Right one starts'));
  });

  test('a table with gaps between its columns is not split into columns', () => {
    const items: PositionedText[] = [];
    const rows = [
      ['Code', 'Meaning', 'Action'],
      ['E-1', 'Refused', 'Check host'],
      ['E-2', 'Denied', 'Fix rights'],
      ['E-3', 'Timeout', 'Raise limit'],
      ['E-4', 'Full', 'Free space'],
      ['E-5', 'Expired', 'Renew'],
      ['E-6', 'Skew', 'Sync clock'],
    ];
    rows.forEach((r, i) => r.forEach((c, k) => items.push(line(c, 72 + k * 150, 700 - i * 15))));
    const lines = render(items).split('\n');
    assert.deepEqual(
      lines,
      rows.map((r) => r.join(' | ')),
    );
  });

  test('hyphenation: broken words joined, real compounds and codes kept', () => {
    const items = [
      line('The read-only account needs a configu-', 72, 700),
      line('ration file and a read-', 72, 687),
      line('only role; see error E-', 72, 674),
      line('4012 and the well-', 72, 661),
      line('known fix.', 72, 648),
    ];
    // lines are "full" here (each ends near the right edge of the block) so they are reflowed
    for (const it of items) it.width = 300;
    const text = render(items);
    assert.equal(text, 'The read-only account needs a configuration file and a read-only role; see error E-4012 and the wellknown fix.');
  });

  test('paragraph breaks from vertical gaps, headings from font size', () => {
    const items = [
      line('Heading', 72, 720, 16),
      line('First paragraph line one that is long', 72, 690),
      line('first paragraph line two.', 72, 677),
      line('Second paragraph after a gap.', 72, 650),
    ];
    items[1]!.width = 300;
    assert.equal(
      render(items),
      'Heading\n\nFirst paragraph line one that is long first paragraph line two.\n\nSecond paragraph after a gap.',
    );
  });

  test('ligatures and odd spaces are normalised', () => {
    assert.equal(render([line('e\ufb03cient\u00a0\u00a0 o\ufb00line\u200b', 72, 700)]), 'efficient offline');
  });
});

const enc = (s: string) => new TextEncoder().encode(s);

describe('Markdown', () => {
  const md = `---
title: Front matter is dropped
---
Intro text before any heading.

# Setup

Install with **npm** and _read_ the [guide](https://example.com/guide "Guide").
Keep \`snake_case_names\` and file_names_like_this intact.

## Export

Choose *CSV* or ~~XML~~ Parquet. See <https://acme.example/export>.

\`\`\`bash
# not a heading
acme-exporter run --profile "Monthly"
\`\`\`

| Plan | Price |
|------|------:|
| Team | $29 |

### Keep settings

Turn on Remember last used settings.

# Billing

> Invoices are sent monthly.

Payment
-------

Cards and SEPA.

[ref]: https://example.com/ref
![diagram](img.png)
`;
  let x: Extracted;
  before(async () => {
    x = await extractText('guide.md', enc(md));
  });

  test('sections are heading paths', () => {
    assert.equal(x.type, 'markdown');
    assert.deepEqual(
      x.units.map((u) => u.section),
      [null, 'Setup', 'Setup › Export', 'Setup › Export › Keep settings', 'Billing', 'Billing › Payment'],
    );
    assert.equal(x.pages, x.units.length);
    assert.ok(x.units.every((u) => u.page === null));
    assert.equal(x.units[0]!.text, 'Intro text before any heading.');
  });

  test('light clean-up: link targets and emphasis markers go, words and code stay', () => {
    const setup = x.units[1]!.text;
    assert.equal(setup, 'Setup\n\nInstall with npm and read the guide. Keep snake_case_names and file_names_like_this intact.');
    const exp = x.units[2]!.text;
    assert.ok(exp.startsWith('Export\n\nChoose CSV or XML Parquet. See https://acme.example/export.'));
    assert.ok(exp.includes('# not a heading\nacme-exporter run --profile "Monthly"'), 'code block text kept, line by line');
    assert.ok(exp.includes('Plan | Price\nTeam | $29'), 'table rows kept, delimiter row dropped');
    assert.ok(!exp.includes('```'));
    assert.equal(x.units[4]!.text, 'Billing\n\nInvoices are sent monthly.');
    assert.equal(x.units[5]!.text, 'Payment\n\nCards and SEPA.\n\ndiagram');
  });

  test('whitespace-only and heading-only edge cases', async () => {
    await rejectsWith(extractText('blank.md', enc(' \n\n\t\n')), 'no_text', /no text in file/, 'blank.md');
    const onlyHeadings = await extractText('h.md', enc('# One\n## Two\n'));
    assert.deepEqual(
      onlyHeadings.units.map((u) => [u.section, u.text]),
      [
        ['One', 'One'],
        ['One › Two', 'Two'],
      ],
    );
  });
});

describe('plain text', () => {
  test('blank-line separated blocks, hard-wrapped lines reflowed, grouped into units', async () => {
    const para = (i: number) =>
      `Paragraph ${i} talks about exports and settings in some detail so that it is long enough\nto be wrapped over two lines by the author of this plain text file.`;
    const text = Array.from({ length: 60 }, (_, i) => para(i)).join('\n\n');
    const x = await extractText('notes.txt', enc(text));
    assert.equal(x.type, 'text');
    assert.ok(x.units.length >= 2, 'long files make several units');
    assert.equal(x.pages, x.units.length);
    assert.ok(x.units.every((u) => u.page === null && u.section === null && u.text.length <= 4200));
    const all = x.units.map((u) => u.text).join('\n\n');
    assert.equal(all.split('\n\n').length, 60);
    assert.ok(all.includes('long enough to be wrapped over two lines'));
  });
  test('lists keep their lines; CRLF, tabs and BOM are handled', async () => {
    const x = await extractText('list.txt', enc('\ufeffShopping:\r\n- eggs\r\n- flour\t\t and  sugar\r\n'));
    assert.equal(x.units[0]!.text, 'Shopping:\n- eggs\n- flour and sugar');
  });
  test('UTF-16 with a byte order mark', async () => {
    const body = Buffer.from('Grüße aus Köln', 'utf16le');
    const x = await extractText('de.txt', new Uint8Array([0xff, 0xfe, ...body]));
    assert.equal(x.units[0]!.text, 'Grüße aus Köln');
  });
  test('errors', async () => {
    await rejectsWith(extractText('blank.txt', enc('   \n\n  \t ')), 'no_text', /no text in file/, 'blank.txt');
    await rejectsWith(extractText('bin.txt', new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 1])), 'not_text', /not a text file/, 'bin.txt');
    await rejectsWith(extractText('empty.txt', new Uint8Array()), 'empty_file', /empty file/, 'empty.txt');
  });
});
