/**
 * A web document to ingest: an HTML page (read into sections, with its title and links) or a PDF
 * (its bytes, for the PDF reader), decided by Content-Type. Anything else is unsupported.
 */
import { readHtml, type HtmlPage } from '../html.js';
import type { TextUnit } from '../text.js';
import type { GetOptions, NotModified, WebClient } from './client.js';
import { FetchError } from './errors.js';
import { isHtml, isPdf } from './media.js';

interface WebDocumentBase {
  /** The URL asked for (normalised when it came from a crawl or a sitemap). */
  url: string;
  /** The URL that answered, after redirects: the document's name. */
  finalUrl: string;
  redirects: string[];
  /** Media type (`text/html`, `application/pdf`). */
  contentType: string;
  etag: string | null;
  lastModified: string | null;
  /** Decoded body size. */
  bytes: number;
  body: Buffer;
}

export interface HtmlDocument extends WebDocumentBase {
  kind: 'html';
  title: string;
  /** Sections of the main content (never empty). */
  units: TextUnit[];
  /** Every link on the page, absolute. */
  links: string[];
}

export interface PdfDocument extends WebDocumentBase {
  kind: 'pdf';
}

export type WebDocument = HtmlDocument | PdfDocument;

export const DOCUMENT_TYPES = 'HTML or PDF';
const ACCEPT = 'text/html, application/xhtml+xml;q=0.9, application/pdf;q=0.8, */*;q=0.1';

export type DocumentFetchOptions = Pick<
  GetOptions,
  'explicit' | 'robots' | 'etag' | 'lastModified' | 'refuseRedirect' | 'signal' | 'maxBytes'
>;

/** A fetched page before the empty-page rule: the crawler follows the links of an empty page too. */
export type PageRead = { document: WebDocument; links: string[] } | { error: FetchError; links: string[] };

/** Fetches an HTML page or a PDF; a NotModified when the validators still match. */
export async function fetchPage(client: WebClient, url: string, opts: DocumentFetchOptions = {}): Promise<PageRead | NotModified> {
  const r = await client.get(url, {
    ...opts,
    accept: (type) => isHtml(type) || isPdf(type),
    acceptName: DOCUMENT_TYPES,
    acceptHeader: ACCEPT,
  });
  if (r.kind === 'not_modified') return r;
  const base: WebDocumentBase = {
    url: r.url,
    finalUrl: r.finalUrl,
    redirects: r.redirects,
    contentType: r.contentType,
    etag: r.etag,
    lastModified: r.lastModified,
    bytes: r.bytes,
    body: r.body,
  };
  if (isPdf(r.contentType)) return { document: { ...base, kind: 'pdf' }, links: [] };
  const page: HtmlPage = readHtml(r.body, r.finalUrl, r.charset);
  if (page.units.length === 0) {
    const at = r.finalUrl === r.url ? r.url : `${r.url} (at ${r.finalUrl})`;
    return {
      error: new FetchError('empty_page', r.url, `${at}: empty page (no text in its main content)`, { finalUrl: r.finalUrl }),
      links: page.links,
    };
  }
  return { document: { ...base, kind: 'html', title: page.title, units: page.units, links: page.links }, links: page.links };
}

/** Fetches one document (`kb ingest URL`): an empty page is a FetchError like any other failure. */
export async function fetchDocument(client: WebClient, url: string, opts: DocumentFetchOptions = {}): Promise<WebDocument | NotModified> {
  const r = await fetchPage(client, url, opts);
  if ('kind' in r) return r;
  if ('error' in r) throw r.error;
  return r.document;
}
