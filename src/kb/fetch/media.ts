/**
 * What a response holds, decided by its Content-Type header, never by the URL's extension; only a
 * response without one is sniffed from its first bytes (PDF, gzip, XML, HTML). Pure.
 */

export interface MediaType {
  /** Lower-case type/subtype without parameters: `text/html`. */
  type: string;
  charset: string | null;
}

/** Parses a Content-Type header; null when it is absent or not of the form type/subtype. */
export function parseContentType(header: string | undefined | null): MediaType | null {
  if (!header) return null;
  const [essence, ...params] = header.split(';');
  const type = essence!.trim().toLowerCase();
  if (!/^[\w.+-]+\/[\w.+-]+$/.test(type)) return null;
  let charset: string | null = null;
  for (const p of params) {
    const m = /^\s*charset\s*=\s*"?([^";\s]+)"?\s*$/i.exec(p);
    if (m?.[1]) charset = m[1].toLowerCase();
  }
  return { type, charset };
}

export const HTML_TYPES: ReadonlySet<string> = new Set(['text/html', 'application/xhtml+xml']);
export const PDF_TYPES: ReadonlySet<string> = new Set(['application/pdf', 'application/x-pdf']);
export const XML_TYPES: ReadonlySet<string> = new Set(['application/xml', 'text/xml']);
export const GZIP_TYPES: ReadonlySet<string> = new Set(['application/gzip', 'application/x-gzip']);

export function isHtml(type: string): boolean {
  return HTML_TYPES.has(type);
}

export function isPdf(type: string): boolean {
  return PDF_TYPES.has(type);
}

export function startsWithGzipMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The type of an untyped body, from its first bytes (as browsers sniff, much reduced). */
export function sniffType(bytes: Uint8Array): string {
  if (startsWithGzipMagic(bytes)) return 'application/gzip';
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 1024)).toString('latin1');
  if (head.startsWith('%PDF-')) return 'application/pdf';
  const start = head.replace(/^\ufeff|^\xef\xbb\xbf/, '').trimStart();
  if (/^<\?xml\b/i.test(start)) return /<(?:html|!doctype\s+html)\b/i.test(head) ? 'application/xhtml+xml' : 'application/xml';
  if (/^<(?:!doctype\s+html|html|head|body|title|div|p|h[1-6]|table|a|!--)[\s>]/i.test(start)) return 'text/html';
  if (/^<(?:urlset|sitemapindex)\b/i.test(start)) return 'application/xml';
  if (!/[\x00-\x08\x0e-\x1a\x1c-\x1f]/.test(head)) return 'text/plain';
  return 'application/octet-stream';
}

/** A short name for messages: `HTML`, `PDF`, or the media type itself. */
export function describeType(type: string): string {
  if (isHtml(type)) return 'HTML';
  if (isPdf(type)) return 'PDF';
  return type;
}
