/** HTML → text units on small hand-written pages: what is content, how blocks read, titles, links, charsets. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeHtml, readHtml } from '../../src/kb/html.js';

const URL_ = 'https://docs.example.com/guide/page';
const page = (body: string, head = '<title>T</title>') => `<!DOCTYPE html><html><head>${head}</head><body>${body}</body></html>`;
const texts = (html: string) => readHtml(html, URL_).units;

describe('main content', () => {
  test('<main> is the content; page header, nav, aside, footer, scripts, styles, noscript, banners and hidden parts are not', () => {
    const units = texts(
      page(`
      <div class="cookie-notice"><p>We use cookies.</p></div>
      <header><h1>Site name</h1><nav><a href="/">Home</a></nav></header>
      <aside><p>Sidebar text.</p></aside>
      <main>
        <nav class="breadcrumbs"><a href="/">Docs</a></nav>
        <article>
          <header><h1>Guide</h1></header>
          <p>Real text.</p>
          <script>var tracking = 1;</script><style>.x{}</style><noscript>Enable JS.</noscript>
          <div hidden><p>Hidden text.</p></div><p aria-hidden="true">Aria hidden.</p><p style="display: none">Styled away.</p>
          <div role="dialog"><p>A modal.</p></div>
          <template><p>Template text.</p></template>
          <footer><a href="/edit">Edit this page</a></footer>
        </article>
      </main>
      <footer><p>Copyright.</p></footer>`),
    );
    assert.deepEqual(units, [{ page: null, section: 'Guide', text: 'Guide\n\nReal text.' }]);
  });

  test('without <main>: the only <article>, else role=main, else the body without its boilerplate', () => {
    assert.deepEqual(
      texts(page('<header><p>Top</p></header><article><h1>A</h1><p>Body.</p><aside>Related</aside></article><p>Outside.</p>')),
      [{ page: null, section: 'A', text: 'A\n\nBody.' }],
    );
    assert.deepEqual(texts(page('<nav>Menu</nav><div role="main"><h2>B</h2><p>Body.</p></div><div>Outside.</div>')), [
      { page: null, section: 'B', text: 'B\n\nBody.' },
    ]);
    assert.deepEqual(texts(page('<header><h1>Logo</h1></header><nav>Menu</nav><h1>C</h1><p>Body.</p><footer>F</footer>')), [
      { page: null, section: 'C', text: 'C\n\nBody.' },
    ]);
  });

  test('text before the first heading has no section; a heading-only page keeps its headings', () => {
    assert.deepEqual(texts(page('<main><p>Intro.</p><h2>Next</h2><p>More.</p></main>')), [
      { page: null, section: null, text: 'Intro.' },
      { page: null, section: 'Next', text: 'Next\n\nMore.' },
    ]);
    assert.deepEqual(
      texts(page('<main><h1>Only</h1><h2>Headings</h2></main>')).map((u) => u.section),
      ['Only', 'Only › Headings'],
    );
  });
});

describe('blocks', () => {
  test('heading paths follow levels, as Markdown sections do', () => {
    const units = texts(page('<main><h1>A</h1><p>a</p><h2>B</h2><p>b</p><h3>C</h3><p>c</p><h2>D</h2><p>d</p><h4>E</h4><p>e</p></main>'));
    assert.deepEqual(
      units.map((u) => u.section),
      ['A', 'A › B', 'A › B › C', 'A › D', 'A › D › E'],
    );
  });

  test('paragraphs: HTML white space collapses, <br> breaks the line, inline markup disappears, entities decode', () => {
    const [u] = texts(
      page(
        '<main><p>One\n   two <b>bold</b> <a href="/x">link</a>&nbsp;&amp; <code>&lt;code&gt;</code><br>next&#8203; line</p><p>Second.</p></main>',
      ),
    );
    assert.equal(u!.text, 'One two bold link & <code>\nnext line\n\nSecond.');
  });

  test('lists: a line per item, ordered ones numbered (from start), nested ones indented', () => {
    const [u] = texts(
      page(
        '<main><ul><li>one</li><li>two<ul><li>two.a</li><li><p>two.b</p><p>more</p></li></ul></li></ul><ol start="3"><li>three</li><li>four</li></ol></main>',
      ),
    );
    assert.equal(u!.text, '- one\n- two\n  - two.a\n  - two.b\n    more\n\n3. three\n4. four');
  });

  test('code: <pre> keeps lines, indentation and blank lines inside; <br> in <pre> is a line', () => {
    const [u] = texts(page('<main><pre><code>def f():\n    return "&lt;ok&gt;"   \n\n\tprint(1)\n</code></pre><pre>a<br>b</pre></main>'));
    assert.equal(u!.text, 'def f():\n    return "<ok>"\n\n\tprint(1)\n\na\nb');
  });

  test('tables: a row per line, cells joined by " | ", caption first, nested tables inside their cell', () => {
    const [u] = texts(
      page(
        '<main><table><caption>Limits</caption><thead><tr><th>Name</th><th>Value</th></tr></thead><tbody><tr><td>max <b>size</b></td><td>10 MB</td></tr><tr><td></td><td></td></tr><tr><td>inner</td><td><table><tr><td>x</td><td>y</td></tr></table></td></tr></tbody></table></main>',
      ),
    );
    assert.equal(u!.text, 'Limits\nName | Value\nmax size | 10 MB\ninner | x y');
  });

  test('permalink anchors and screen-reader-only text in headings are dropped', () => {
    const units = texts(
      page(
        '<main><h2 id="a">Setup<a class="hash-link" href="#a">#</a></h2><p>x</p><h2>Run<a class="headerlink" href="#r">¶</a></h2><p>y</p></main>',
      ),
    );
    assert.deepEqual(
      units.map((u) => u.section),
      ['Setup', 'Run'],
    );
  });
});

describe('title, links, charset', () => {
  test('the title is <title>, else the first h1 of the content, else the URL', () => {
    assert.equal(readHtml(page('<main><h1>Heading</h1><p>x</p></main>', '<title>  Page  title </title>'), URL_).title, 'Page title');
    assert.equal(readHtml(page('<main><h1>Heading</h1><p>x</p></main>', ''), URL_).title, 'Heading');
    assert.equal(readHtml(page('<main><p>x</p></main>', ''), URL_).title, URL_);
    assert.equal(readHtml(page('<svg><title>icon</title></svg><main><p>x</p></main>'), URL_).title, 'T', 'the <title> of the head wins');
  });

  test('links resolve against <base> and the page, once each, every kind kept for the caller to filter', () => {
    const html = page(
      '<nav><a href="../other">o</a></nav><main><a href="sub#frag">s</a><a href="sub#frag">again</a><a href="mailto:a@b.c">m</a><a href=" /abs ">a</a><a>no href</a><a href="http://[bad">bad</a></main>',
      '<title>T</title><base href="/base/dir/">',
    );
    assert.deepEqual(readHtml(html, URL_).links, [
      'https://docs.example.com/base/other',
      'https://docs.example.com/base/dir/sub#frag',
      'mailto:a@b.c',
      'https://docs.example.com/abs',
    ]);
    assert.deepEqual(readHtml(page('<a href="x">x</a>'), URL_).links, ['https://docs.example.com/guide/x']);
  });

  test('bytes are decoded by BOM, declared charset or <meta charset>', () => {
    const latin = Buffer.from(page('<main><p>Caf\xe9 cr\xe8me</p></main>', '<meta charset="iso-8859-1"><title>T</title>'), 'latin1');
    assert.equal(readHtml(latin, URL_).units[0]!.text, 'Café crème');
    const declared = Buffer.from(page('<main><p>Caf\xe9</p></main>'), 'latin1');
    assert.equal(readHtml(declared, URL_, 'windows-1252').units[0]!.text, 'Café');
    const utf8 = Buffer.from(
      page('<main><p>Café</p></main>', '<meta http-equiv="Content-Type" content="text/html; charset=utf-8"><title>T</title>'),
    );
    assert.equal(readHtml(utf8, URL_).units[0]!.text, 'Café');
    assert.equal(decodeHtml(Buffer.from([0xef, 0xbb, 0xbf, 0x41])), 'A');
    assert.equal(decodeHtml(Buffer.from('<p>x</p>'), 'no-such-charset'), '<p>x</p>');
  });
});
