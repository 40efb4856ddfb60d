/** Pure rules of web ingest: URL normalisation and scope, the link-local rule, media types. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isLinkLocal, literalAddress } from '../../src/kb/fetch/address.js';
import { FetchError } from '../../src/kb/fetch/errors.js';
import { parseContentType, sniffType } from '../../src/kb/fetch/media.js';
import { directoryOf, isTrackingParam, normalizeUrl, outsideScope, parseHttpUrl, scopeOf } from '../../src/kb/fetch/url.js';
import { UserError } from '../../src/errors.js';

describe('normalizeUrl', () => {
  test('lower-cases scheme and host, drops the default port and the fragment', () => {
    assert.equal(normalizeUrl('HTTP://Docs.Example.COM:80/Guide/Install#requirements'), 'http://docs.example.com/Guide/Install');
    assert.equal(normalizeUrl('https://docs.example.com:443/a'), 'https://docs.example.com/a');
    assert.equal(normalizeUrl('https://docs.example.com:8443/a'), 'https://docs.example.com:8443/a');
    assert.equal(normalizeUrl('https://docs.example.com'), 'https://docs.example.com/');
  });

  test('drops tracking parameters and keeps the others, in their order and encoding', () => {
    assert.equal(
      normalizeUrl('https://x.test/docs/install?utm_source=newsletter&utm_medium=email&utm_campaign=march'),
      'https://x.test/docs/install',
    );
    assert.equal(normalizeUrl('https://x.test/c?ref=social&fbclid=IwAR0fake42'), 'https://x.test/c');
    assert.equal(normalizeUrl('https://x.test/c?utm_campaign=spring&page=2'), 'https://x.test/c?page=2');
    assert.equal(normalizeUrl('https://x.test/c?gclid=Cj0&q=a%20b&mc_cid=1&mc_eid=2&UTM_Term=x#top'), 'https://x.test/c?q=a%20b');
    assert.equal(normalizeUrl('https://x.test/c?page=2&sort=asc'), 'https://x.test/c?page=2&sort=asc');
    assert.equal(normalizeUrl('https://x.test/c?'), 'https://x.test/c');
    for (const p of ['utm_source', 'utm_anything', 'ref', 'fbclid', 'gclid', 'msclkid', 'mc_cid', 'mc_eid'])
      assert.ok(isTrackingParam(p), p);
    for (const p of ['page', 'q', 'lang', 'version', 'referrer']) assert.ok(!isTrackingParam(p), p);
  });

  test('keeps the trailing slash as given and resolves relative links and dot segments', () => {
    assert.equal(normalizeUrl('https://x.test/docs'), 'https://x.test/docs');
    assert.equal(normalizeUrl('https://x.test/docs/'), 'https://x.test/docs/');
    assert.equal(normalizeUrl('troubleshooting', 'https://x.test/docs/'), 'https://x.test/docs/troubleshooting');
    assert.equal(normalizeUrl('./../docs/changelog', 'https://x.test/docs/'), 'https://x.test/docs/changelog');
    assert.equal(normalizeUrl('webhooks/retries', 'https://x.test/docs/webhooks'), 'https://x.test/docs/webhooks/retries');
    assert.equal(normalizeUrl('//other.test/p', 'https://x.test/docs/'), 'https://other.test/p');
  });

  test('only http and https: other schemes and non-URLs are FetchErrors (user errors, one line)', () => {
    for (const [input, reason] of [
      ['file:///etc/passwd', 'scheme'],
      ['ftp://x.test/pub/', 'scheme'],
      ['mailto:a@x.test', 'scheme'],
      ['javascript:void(0)', 'scheme'],
      ['tel:+351210000000', 'scheme'],
      ['not a url', 'bad_url'],
      ['http://user:secret@x.test/', 'bad_url'],
    ] as const) {
      assert.throws(
        () => parseHttpUrl(input),
        (err: unknown) => {
          assert.ok(err instanceof FetchError && err instanceof UserError, input);
          assert.equal(err.reason, reason, input);
          assert.equal(err.exitCode, 2);
          assert.ok(!err.message.includes('\n'));
          assert.ok(!err.message.includes('secret'), 'a password never reaches the message');
          return true;
        },
      );
    }
  });
});

describe('crawl scope', () => {
  test('is the start URL’s origin and directory', () => {
    assert.equal(directoryOf(new URL('https://x.test/docs/install')), '/docs/');
    assert.equal(directoryOf(new URL('https://x.test/docs/')), '/docs/');
    assert.equal(directoryOf(new URL('https://x.test/docs')), '/');
    assert.deepEqual(scopeOf('https://x.test/docs/install?x=1'), { origin: 'https://x.test', prefix: '/docs/' });
    const scope = scopeOf('https://x.test/docs/');
    assert.equal(outsideScope(new URL('https://x.test/docs/a/b'), scope), null);
    assert.equal(outsideScope(new URL('https://x.test/blog/a'), scope), 'outside_prefix');
    assert.equal(outsideScope(new URL('https://x.test/docs'), scope), 'outside_prefix');
    assert.equal(outsideScope(new URL('http://x.test/docs/a'), scope), 'other_origin');
    assert.equal(outsideScope(new URL('https://x.test:8443/docs/a'), scope), 'other_origin');
  });
});

describe('link-local addresses', () => {
  test('169.254.0.0/16 and fe80::/10, IPv4-mapped forms included; loopback and private ranges are not', () => {
    for (const a of [
      '169.254.169.254',
      '169.254.0.1',
      '169.254.255.255',
      'fe80::1',
      '[fe80::1]',
      'febf::1',
      '::ffff:169.254.169.254',
      '::ffff:a9fe:a9fe',
      'fe80::1%eth0',
    ]) {
      assert.ok(isLinkLocal(a), a);
    }
    for (const a of [
      '127.0.0.1',
      '10.0.0.1',
      '192.168.1.1',
      '172.16.0.1',
      '169.253.255.255',
      '169.255.0.1',
      '::1',
      'fec0::1',
      'docs.example.com',
    ]) {
      assert.ok(!isLinkLocal(a), a);
    }
  });

  test('IP literals in URLs, however written, are recognised without resolving', () => {
    for (const u of ['http://169.254.169.254/', 'http://0xA9FEA9FE/', 'http://169.254.43518/', 'http://[::ffff:169.254.169.254]/']) {
      const lit = literalAddress(new URL(u).hostname);
      assert.ok(lit && isLinkLocal(lit.address), u);
    }
    assert.equal(literalAddress('metadata.google.internal'), null);
  });
});

describe('media types', () => {
  test('Content-Type decides: type and charset, parameters and case ignored', () => {
    assert.deepEqual(parseContentType('text/html; charset=UTF-8'), { type: 'text/html', charset: 'utf-8' });
    assert.deepEqual(parseContentType('Application/PDF'), { type: 'application/pdf', charset: null });
    assert.deepEqual(parseContentType('text/html;charset="iso-8859-1";foo=bar'), { type: 'text/html', charset: 'iso-8859-1' });
    assert.equal(parseContentType(''), null);
    assert.equal(parseContentType('nonsense'), null);
  });

  test('sniffing, only for untyped bodies: PDF, gzip, XML, HTML', () => {
    assert.equal(sniffType(Buffer.from('%PDF-1.7\n...')), 'application/pdf');
    assert.equal(sniffType(Buffer.from([0x1f, 0x8b, 8, 0])), 'application/gzip');
    assert.equal(sniffType(Buffer.from('<?xml version="1.0"?><urlset/>')), 'application/xml');
    assert.equal(sniffType(Buffer.from('\n  <!DOCTYPE html><html><body>x</body></html>')), 'text/html');
    assert.equal(sniffType(Buffer.from('<html><head><title>t</title>')), 'text/html');
    assert.equal(sniffType(Buffer.from('just words')), 'text/plain');
    assert.equal(sniffType(Buffer.from([0, 1, 2, 3, 0x50, 0x4b])), 'application/octet-stream');
  });
});
