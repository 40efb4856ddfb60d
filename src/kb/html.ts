// long: HTML → text is one tree walk with its tables of dropped, block and inline elements.
/**
 * HTML pages → text units like Markdown's: the main content only (navigation, header, footer,
 * sidebars, cookie banners, breadcrumbs, scripts and styles dropped), one unit per heading section
 * with its heading path; code keeps its lines, tables a row per line. Also the page's title and
 * links. Pure: bytes or text in, no I/O. Parsed with htmlparser2.
 */
import { TextDecoder } from 'node:util';
import { parseDocument } from 'htmlparser2';
import { isTag, isText, type AnyNode, type Element } from 'domhandler';
import { FetchError } from './fetch/errors.js';
import { cleanLine, SECTION_SEPARATOR, type TextUnit } from './text.js';

export interface HtmlPage {
  /** `<title>`, else the first h1, else the URL. */
  title: string;
  /** Sections of the main content, as `{ page: null, section: 'H1 › H2', text }`. */
  units: TextUnit[];
  /** Every `<a href>` of the page resolved against the page (and its `<base>`), in order, once each. */
  links: string[];
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** The charset named by a BOM, the Content-Type, or a `<meta>` in the first 1024 bytes. */
export function htmlCharset(bytes: Uint8Array, declared: string | null = null): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  if (declared) return declared;
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 1024)).toString('latin1');
  const m =
    /<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)/i.exec(head) ??
    /<meta[^>]+http-equiv\s*=\s*["']?content-type["']?[^>]*content\s*=\s*["'][^"']*charset=([\w.:-]+)/i.exec(head);
  return m?.[1]?.toLowerCase() ?? 'utf-8';
}

export function decodeHtml(bytes: Uint8Array, declared: string | null = null): string {
  const label = htmlCharset(bytes, declared);
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label);
  } catch {
    decoder = new TextDecoder('utf-8'); // an unknown label: read as UTF-8, as browsers mostly do
  }
  return decoder.decode(bytes);
}

// ---------------------------------------------------------------------------------------------
// What is not content

/** Never text: their content is code, media or form controls. */
const SKIPPED = new Set([
  'head',
  'script',
  'style',
  'noscript',
  'template',
  'iframe',
  'object',
  'embed',
  'svg',
  'math',
  'canvas',
  'video',
  'audio',
  'picture',
  'img',
  'button',
  'input',
  'select',
  'textarea',
  'option',
  'datalist',
  'dialog',
]);

/** Around the content wherever they are: navigation, sidebars, footers. */
const BOILERPLATE_TAGS = new Set(['nav', 'aside', 'footer', 'menu', 'form']);

const BOILERPLATE_ROLES = new Set([
  'navigation',
  'banner',
  'contentinfo',
  'complementary',
  'search',
  'dialog',
  'alertdialog',
  'menu',
  'menubar',
  'toolbar',
  'tablist',
]);

/** Class or id tokens of boilerplate that plain elements carry (cookie banners, breadcrumbs, …). */
const BOILERPLATE_TOKEN =
  /^(?:toc|table-of-contents|pagination|pager|sr-only|visually-hidden|skip-link|skip-to-content|hash-link|headerlink|edit-this-page|theme-edit-this-page|share|social)$|cookie|consent|gdpr|breadcrumb/i;

function attr(el: Element, name: string): string | undefined {
  return el.attribs[name];
}

function tokensOf(el: Element): string[] {
  const c = attr(el, 'class') ?? '';
  const id = attr(el, 'id') ?? '';
  return [...c.split(/\s+/), id].filter((t) => t !== '');
}

function isHidden(el: Element): boolean {
  if (attr(el, 'hidden') !== undefined || attr(el, 'aria-hidden') === 'true') return true;
  const style = attr(el, 'style');
  return !!style && /(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)/i.test(style);
}

function hasHeading(el: Element): boolean {
  for (const c of el.children) {
    if (!isTag(c)) continue;
    if (/^h[1-6]$/.test(c.name) || hasHeading(c)) return true;
  }
  return false;
}

/**
 * Whether an element inside the chosen root is boilerplate. A `<header>` is kept only inside an
 * article or section and with a heading in it (Docusaurus puts the h1 there); page headers go.
 */
function isBoilerplate(el: Element, root: Element): boolean {
  if (SKIPPED.has(el.name) || isHidden(el)) return true;
  if (BOILERPLATE_TAGS.has(el.name)) return true;
  const role = attr(el, 'role');
  if (role && BOILERPLATE_ROLES.has(role.toLowerCase())) return true;
  if (tokensOf(el).some((t) => BOILERPLATE_TOKEN.test(t))) return true;
  const label = attr(el, 'aria-label');
  if (label && /breadcrumb/i.test(label)) return true;
  if (el.name === 'header') {
    let inContent = false;
    for (let p = el.parent; p && p !== root.parent; p = p.parent) {
      if (isTag(p) && (p.name === 'article' || p.name === 'section' || p.name === 'main' || attr(p, 'role') === 'main')) inContent = true;
    }
    return !(inContent && hasHeading(el));
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Finding things in the tree

function* elements(node: AnyNode): Generator<Element> {
  if (!('children' in node)) return;
  for (const c of node.children) {
    if (!isTag(c)) continue;
    yield c;
    yield* elements(c);
  }
}

function first(node: AnyNode, name: string): Element | undefined {
  for (const el of elements(node)) if (el.name === name) return el;
  return undefined;
}

/** Visible text of an element (scripts and styles left out), whitespace collapsed. */
function plainText(node: AnyNode): string {
  let out = '';
  const walk = (n: AnyNode) => {
    if (isText(n)) out += n.data;
    else if (isTag(n)) {
      if (SKIPPED.has(n.name) || tokensOf(n).some((t) => BOILERPLATE_TOKEN.test(t))) return;
      if (n.name === 'br') out += ' ';
      for (const c of n.children) walk(c);
      if (BLOCKS.has(n.name)) out += ' ';
    }
  };
  walk(node);
  return cleanLine(out);
}

/**
 * The element holding the main content: the `<main>` (or role=main) with the most text, else the
 * only `<article>`, else the body.
 */
function mainContent(doc: AnyNode): Element | undefined {
  const mains = [...elements(doc)].filter((el) => (el.name === 'main' || attr(el, 'role') === 'main') && !isHidden(el));
  // A main inside another main (a role=main div in <main>) is the same content.
  const outer = mains.filter((m) => !mains.some((o) => o !== m && contains(o, m)));
  if (outer.length === 1) return outer[0];
  // the one with the most text; the first of equals
  if (outer.length > 1) return outer.map((m) => ({ m, n: plainText(m).length })).reduce((a, b) => (b.n > a.n ? b : a)).m;
  const articles = [...elements(doc)].filter((el) => el.name === 'article');
  if (articles.length === 1) return articles[0];
  return first(doc, 'body') ?? first(doc, 'html');
}

function contains(outer: Element, inner: Element): boolean {
  for (let p = inner.parent; p; p = p.parent) if (p === outer) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Main content → sections

const BLOCKS = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'body',
  'caption',
  'center',
  'dd',
  'details',
  'div',
  'dl',
  'dt',
  'fieldset',
  'figcaption',
  'figure',
  'footer',
  'form',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'header',
  'hgroup',
  'hr',
  'html',
  'li',
  'main',
  'nav',
  'ol',
  'p',
  'pre',
  'section',
  'summary',
  'table',
  'tbody',
  'td',
  'tfoot',
  'th',
  'thead',
  'tr',
  'ul',
]);

interface Section {
  heading: string | null;
  path: string | null;
  blocks: string[];
}

class SectionWriter {
  readonly sections: Section[] = [{ heading: null, path: null, blocks: [] }];
  private readonly stack: (string | undefined)[] = [];
  private inline = '';
  /** Lines of the list being written (items of nested lists included), or null. */
  private list: string[] | null = null;
  private listDepth = 0;
  /** The marker of a list item whose first line is not written yet ("- ", "3. "). */
  private marker = '';

  private get current(): Section {
    const last = this.sections.at(-1);
    if (!last) throw new Error('the HTML text writer lost its sections');
    return last;
  }

  /** Inline text: white space collapses as HTML renders it; only `<br>` breaks a line. */
  text(s: string): void {
    this.inline += s.replace(/[\t\n\r\f ]+/g, ' ');
  }

  lineBreak(): void {
    this.inline += '\n';
  }

  /** Ends the running paragraph (in a list: a line of the item, the first one with its marker). */
  flush(): void {
    const lines = this.inline
      .split('\n')
      .map(cleanLine)
      .filter((l) => l !== '');
    this.inline = '';
    if (lines.length === 0) return;
    if (this.list) {
      const indent = '  '.repeat(Math.max(0, this.listDepth - 1));
      const marker = this.marker || ' '.repeat(2);
      this.marker = '';
      this.list.push(`${indent}${marker}${lines.join(' ')}`);
    } else this.block(lines.join('\n'));
  }

  startItem(marker: string): void {
    this.flush();
    this.marker = marker;
  }

  endItem(): void {
    this.flush();
    this.marker = '';
  }

  block(text: string): void {
    if (text.trim() !== '') this.current.blocks.push(text);
  }

  heading(level: number, title: string): void {
    this.flush();
    if (!title) return;
    this.stack[level - 1] = title;
    this.stack.length = level;
    const path = this.stack.filter((t): t is string => !!t).join(SECTION_SEPARATOR) || null;
    this.sections.push({ heading: title, path, blocks: [] });
  }

  startList(): void {
    this.flush();
    this.listDepth++;
    this.list ??= [];
  }

  endList(): void {
    this.flush();
    this.listDepth--;
    if (this.listDepth === 0 && this.list) {
      const lines = this.list;
      this.list = null;
      this.block(lines.join('\n'));
    }
  }

  /** A block (code, table) that interrupts a list is written after the list's lines so far. */
  standalone(text: string): void {
    this.flush();
    if (this.list) this.list.push(text);
    else this.block(text);
  }
}

/** A `<pre>` as written: line breaks and indentation kept, trailing spaces and blank edges dropped. */
function preText(el: Element): string {
  let out = '';
  const walk = (n: AnyNode) => {
    if (isText(n)) out += n.data;
    else if (isTag(n)) {
      if (SKIPPED.has(n.name)) return;
      if (n.name === 'br') out += '\n';
      for (const c of n.children) walk(c);
    }
  };
  walk(el);
  const lines = out
    .replace(/\r\n?/g, '\n')
    .replace(/[\u200b-\u200d\u2060\ufeff]/g, '')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''));
  while (lines.length && lines[0] === '') lines.shift();
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines.join('\n');
}

/** A table as one line per row, cells joined by ` | ` (rows of nested tables stay in their cell). */
function tableText(table: Element, root: Element): string {
  const rows: string[] = [];
  const visit = (n: Element) => {
    for (const c of n.children) {
      if (!isTag(c) || isBoilerplate(c, root)) continue;
      if (c.name === 'tr') {
        const cells = c.children.filter((x): x is Element => isTag(x) && (x.name === 'td' || x.name === 'th')).map((x) => plainText(x));
        if (cells.some((x) => x !== '')) rows.push(cells.join(' | '));
      } else if (c.name === 'caption') {
        const t = plainText(c);
        if (t) rows.push(t);
      } else if (c.name !== 'table') visit(c);
    }
  };
  visit(table);
  return rows.join('\n');
}

function write(node: AnyNode, w: SectionWriter, root: Element): void {
  if (isText(node)) {
    w.text(node.data);
    return;
  }
  if (!isTag(node)) return;
  const el = node;
  if (el !== root && isBoilerplate(el, root)) return;
  const name = el.name;
  if (/^h[1-6]$/.test(name)) {
    w.heading(Number(name[1]), plainText(el));
    return;
  }
  switch (name) {
    case 'br':
      w.lineBreak();
      return;
    case 'hr':
      w.flush();
      return;
    case 'pre':
      w.standalone(preText(el));
      return;
    case 'table':
      w.standalone(tableText(el, root));
      return;
    case 'ul':
    case 'ol': {
      w.startList();
      let n = Number(attr(el, 'start') ?? '1');
      if (!Number.isFinite(n)) n = 1;
      for (const c of el.children) {
        if (isTag(c) && c.name === 'li') {
          if (isBoilerplate(c, root)) continue;
          w.startItem(name === 'ol' ? `${n++}. ` : '- ');
          for (const cc of c.children) write(cc, w, root);
          w.endItem();
        } else write(c, w, root);
      }
      w.endList();
      return;
    }
  }
  const block = BLOCKS.has(name);
  if (block) w.flush();
  for (const c of el.children) write(c, w, root);
  if (block) w.flush();
}

function unitsOf(w: SectionWriter): TextUnit[] {
  const withBody = w.sections.filter((s) => s.blocks.length > 0);
  const keep = withBody.length > 0 ? withBody : w.sections.filter((s) => s.heading);
  return keep.map((s) => ({ page: null, section: s.path, text: [s.heading, ...s.blocks].filter((t): t is string => !!t).join('\n\n') }));
}

// ---------------------------------------------------------------------------------------------
// Links and title

function linksOf(doc: AnyNode, pageUrl: string): string[] {
  let base = pageUrl;
  const baseEl = first(doc, 'base');
  const href = baseEl ? attr(baseEl, 'href') : undefined;
  if (href !== undefined) {
    try {
      base = new URL(href.trim(), pageUrl).href;
    } catch {
      // an invalid <base> is ignored, as browsers do
    }
  }
  const out: string[] = [];
  const seen = new Set<string>();
  for (const el of elements(doc)) {
    if (el.name !== 'a' && el.name !== 'area') continue;
    const h = attr(el, 'href');
    if (h === undefined) continue;
    let abs: string;
    try {
      abs = new URL(h.trim(), base).href;
    } catch {
      continue;
    }
    if (!seen.has(abs)) {
      seen.add(abs);
      out.push(abs);
    }
  }
  return out;
}

function titleOf(doc: AnyNode, root: Element | undefined, url: string): string {
  const head = first(doc, 'head');
  const t = (head && first(head, 'title')) ?? first(doc, 'title');
  const text = t ? plainText(t) : '';
  if (text) return text;
  const h1 = root ? first(root, 'h1') : undefined;
  const h = h1 ? plainText(h1) : '';
  return h || url;
}

// ---------------------------------------------------------------------------------------------

/** Reads an HTML page (bytes are decoded by their charset). Its units may be empty. */
export function readHtml(input: string | Uint8Array, url: string, charset: string | null = null): HtmlPage {
  const html = typeof input === 'string' ? input : decodeHtml(input, charset);
  const doc = parseDocument(html, { decodeEntities: true });
  const root = mainContent(doc);
  const w = new SectionWriter();
  if (root) {
    write(root, w, root);
    w.flush();
  }
  return { title: titleOf(doc, root, url), units: unitsOf(w), links: linksOf(doc, url) };
}

/** Like readHtml, but a page whose main content has no text is a FetchError (`empty_page`). */
export function extractHtml(input: string | Uint8Array, url: string, charset: string | null = null): HtmlPage {
  const page = readHtml(input, url, charset);
  if (page.units.length === 0) throw new FetchError('empty_page', url, `${url}: empty page (no text in its main content)`);
  return page;
}
