/**
 * Reads a response body within a byte limit: the declared length is checked first, then the bytes
 * are counted as they arrive and once decompressed (gzip, deflate, br), so that neither a body
 * without Content-Length nor a small compressed body that inflates past the limit is held whole.
 */
import type { IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { FetchError } from './errors.js';

export interface BodyLimits {
  maxBytes: number;
  /** Keep the first maxBytes instead of failing (robots.txt: only the first 500 KiB count). */
  truncate?: boolean;
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KB`;
  return `${n} bytes`;
}

function tooLarge(url: string, hop: string, maxBytes: number): FetchError {
  const at = hop === url ? url : `${url} (at ${hop})`;
  return new FetchError('too_large', url, `${at}: larger than the limit of ${formatBytes(maxBytes)} per page`, { finalUrl: hop });
}

function decoderFor(coding: string, url: string, hop: string): Transform | null {
  switch (coding) {
    case 'identity':
    case '':
      return null;
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      throw new FetchError('bad_encoding', url, `${hop === url ? url : `${url} (at ${hop})`}: unsupported Content-Encoding ${coding}`, {
        finalUrl: hop,
      });
  }
}

/** Codings listed in Content-Encoding, in the order they were applied. */
export function contentCodings(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
}

const ENOUGH = Symbol('enough');

/**
 * The decoded body of `hop` (the URL asked for: `url`). A stream error (reset, decoder failure) rejects with that error unchanged:
 * the caller classifies it, since it knows whether its own timer destroyed the request.
 */
export async function readBody(res: IncomingMessage, url: string, hop: string, limits: BodyLimits): Promise<Buffer> {
  const { maxBytes } = limits;
  const codings = contentCodings(res.headers['content-encoding']);
  const declared = Number(res.headers['content-length']);
  if (!limits.truncate && codings.length === 0 && Number.isFinite(declared) && declared > maxBytes) {
    res.destroy();
    throw tooLarge(url, hop, maxBytes);
  }
  let decoders: Transform[];
  try {
    decoders = codings
      .reverse()
      .map((c) => decoderFor(c, url, hop))
      .filter((d): d is Transform => d !== null);
  } catch (err) {
    res.destroy();
    throw err;
  }
  let raw = 0;
  const countRaw = new Transform({
    transform(chunk: Buffer, _enc, done) {
      raw += chunk.length;
      // The transfer is bounded too, whatever it decodes to.
      if (raw > maxBytes && !limits.truncate) return done(over());
      done(null, chunk);
    },
  });
  const parts: Buffer[] = [];
  let size = 0;
  // The first limit error wins over whatever the streams report while they are torn down.
  let limitError: FetchError | null = null;
  // Set once the first maxBytes are kept: pipeline() then rejects with ENOUGH or, when the response
  // was still streaming, with the AbortError of tearing it down.
  let enough = false;
  const over = () => (limitError ??= tooLarge(url, hop, maxBytes));
  try {
    const sink = async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        if (size + chunk.length > maxBytes) {
          if (!limits.truncate) throw over();
          parts.push(chunk.subarray(0, maxBytes - size));
          size = maxBytes;
          enough = true;
          throw ENOUGH;
        }
        parts.push(chunk);
        size += chunk.length;
      }
    };
    // The overloads of pipeline() do not cover a variable number of transforms.
    await (pipeline as (...streams: unknown[]) => Promise<void>)(res, countRaw, ...decoders, sink);
  } catch (err) {
    if (limitError) throw limitError;
    if (!enough) throw err;
  }
  return Buffer.concat(parts, size);
}
