/**
 * robots.txt against the fake site: the group for our product token, else `*` (RFC 9309: the most
 * specific group, longest match, Allow winning ties), read once per origin, a missing file allowing
 * everything and a failing one (5xx) disallowing everything; explicit URLs are not subject to it.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ROBOTS_AGENT, WebClient } from '../../src/kb/fetch/client.js';
import { FetchError } from '../../src/kb/fetch/errors.js';
import { ROBOTS_MAX_BYTES } from '../../src/kb/fetch/robots.js';
import { startFakeWeb, type FakeWeb } from '../fakes/web.js';

describe('robots.txt', () => {
  let web: FakeWeb;
  let client: WebClient;
  const allowed = async (path: string, c = client) => (await c.robots.check(new URL(web.url(path)))).allowed;
  const fresh = () => {
    client.close();
    client = new WebClient();
    return client;
  };

  before(async () => {
    web = await startFakeWeb();
    client = new WebClient();
  });
  after(async () => {
    client.close();
    await web.close();
  });
  beforeEach(() => {
    web.requests.length = 0;
    web.restore('/robots.txt');
    fresh();
  });

  test('the site’s file: /docs/internal/ for copilot, /docs/private/ for everyone; the rest allowed', async () => {
    assert.equal(ROBOTS_AGENT, 'copilot');
    assert.equal(await allowed('/docs/internal/oncall'), false);
    assert.equal(await allowed('/docs/private/roadmap'), false);
    assert.equal(await allowed('/docs/install'), true);
    assert.equal(await allowed('/docs/'), true);
    assert.equal(await allowed('/docs/internal'), true, 'the rule is a prefix of paths, /docs/internal/ only');
    const err = await client.get(web.url('/docs/internal/oncall')).catch((e: unknown) => e);
    assert.ok(err instanceof FetchError && err.reason === 'robots', String(err));
    assert.match(err.message, /disallowed by http:\/\/127\.0\.0\.1:\d+\/robots\.txt/);
    assert.ok(!web.requests.some((r) => r.path === '/docs/internal/oncall'), 'the page was never requested');
    assert.deepEqual(await client.robots.sitemaps(web.origin), [web.url('/sitemap.xml')]);
  });

  test('read once per origin, however many URLs are checked at once', async () => {
    await Promise.all(['/docs/install', '/docs/webhooks', '/docs/private/x', '/docs/', '/blog/launch'].map((p) => allowed(p)));
    await client.get(web.url('/docs/install'));
    await client.get(web.url('/docs/webhooks'));
    assert.equal(web.requests.filter((r) => r.path === '/robots.txt').length, 1);
  });

  test('only a * group: it applies to us', async () => {
    web.route('/robots.txt', { type: 'text/plain', body: 'User-agent: *\nDisallow: /docs/install\n' });
    assert.equal(await allowed('/docs/install'), false);
    assert.equal(await allowed('/docs/webhooks'), true);
  });

  test('a copilot group replaces * for us (the most specific group), merged when it is split', async () => {
    web.route('/robots.txt', {
      type: 'text/plain',
      body: [
        'User-agent: *',
        'Disallow: /docs/install',
        '',
        'User-agent: Copilot',
        'Disallow: /docs/configuration',
        '',
        'User-agent: otherbot',
        'Disallow: /',
        '',
        'User-agent: copilot',
        'Disallow: /docs/webhooks',
      ].join('\n'),
    });
    assert.equal(await allowed('/docs/install'), true, 'the * rule does not apply to copilot');
    assert.equal(await allowed('/docs/configuration'), false);
    assert.equal(await allowed('/docs/webhooks'), false, 'both copilot groups count');
    assert.equal(await allowed('/docs/changelog'), true);
  });

  test('longest match wins; Allow wins a tie; wildcards and $', async () => {
    web.route('/robots.txt', {
      type: 'text/plain',
      body: [
        'User-agent: copilot',
        'Disallow: /docs/',
        'Allow: /docs/install',
        'Disallow: /docs/webhooks',
        'Allow: /docs/webhooks',
        'Disallow: /*.pdf$',
        'Disallow: /docs/*?page=2',
      ].join('\n'),
    });
    assert.equal(await allowed('/docs/install'), true);
    assert.equal(await allowed('/docs/install/docker'), true);
    assert.equal(await allowed('/docs/configuration'), false);
    assert.equal(await allowed('/docs/webhooks'), true, 'a tie goes to Allow');
    assert.equal(await allowed('/blog/launch'), true);
    assert.equal(await allowed('/files/manual.pdf'), false);
    assert.equal(await allowed('/files/manual.pdf?x=1'), true);
    assert.equal(await allowed('/docs/install?page=2'), false, 'the longer Disallow wins');
  });

  test('no robots.txt (404) allows everything', async () => {
    web.remove('/robots.txt', 404);
    assert.equal(await allowed('/docs/internal/oncall'), true);
    assert.equal(await allowed('/docs/private/roadmap'), true);
  });

  test('a robots.txt that fails (5xx) disallows everything on the origin for the run', async () => {
    web.fail('/robots.txt', { status: 500 });
    const err = await client.get(web.url('/docs/install')).catch((e: unknown) => e);
    assert.ok(err instanceof FetchError && err.reason === 'robots', String(err));
    assert.match(err.message, /robots\.txt could not be read \(HTTP 500\)/);
    assert.ok(!err.message.includes('\n'));
    assert.ok(!web.requests.some((r) => r.path === '/docs/install'));
    assert.equal(await allowed('/'), false);
  });

  test('a robots.txt that does not answer in time, or keeps answering 429, disallows everything too', async () => {
    web.delay('/robots.txt', 'hang');
    const slow = new WebClient({ timeoutMs: 300 });
    try {
      const err = await slow.get(web.url('/docs/install')).catch((e: unknown) => e);
      assert.ok(err instanceof FetchError && err.reason === 'robots', String(err));
      assert.match(err.message, /robots\.txt could not be read \(timeout\)/);
    } finally {
      slow.close();
      web.restore('/robots.txt');
    }
    web.fail('/robots.txt', { status: 429 });
    const once = new WebClient({ maxAttempts: 1 });
    try {
      assert.equal((await once.robots.check(new URL(web.url('/docs/install')))).allowed, false, '429 is not "no robots.txt"');
    } finally {
      once.close();
    }
    assert.ok(!web.requests.some((r) => r.path === '/docs/install'));
  });

  test('a redirected robots.txt is followed: the rules of where it lands apply', async () => {
    web.redirect('/robots.txt', '/config/robots.txt', 301);
    web.route('/config/robots.txt', { type: 'text/plain', body: 'User-agent: *\nDisallow: /docs/webhooks\n' });
    try {
      assert.equal(await allowed('/docs/webhooks'), false);
      assert.equal(await allowed('/docs/private/roadmap'), true, 'the rules are the redirected file’s alone');
    } finally {
      web.restore('/config/robots.txt');
    }
  });

  test('a robots.txt over 500 KiB: the first 500 KiB are read, not refused as too large', async () => {
    assert.equal(ROBOTS_MAX_BYTES, 500 * 1024);
    const rules = 'User-agent: copilot\nDisallow: /docs/install\n';
    web.route('/robots.txt', { type: 'text/plain', body: rules + '# padding\n'.repeat(80_000) + 'Disallow: /docs/webhooks\n' });
    assert.equal(await allowed('/docs/install'), false);
    assert.equal(await allowed('/docs/configuration'), true);
    assert.equal(await allowed('/docs/webhooks'), true, 'a rule past 500 KiB is not read');
  });

  test('robots.txt is not consulted for a URL given explicitly', async () => {
    const r = await client.get(web.url('/docs/private/roadmap'), { explicit: true });
    assert.equal(r.kind, 'body');
    assert.deepEqual(
      web.requests.map((q) => q.path),
      ['/docs/private/roadmap'],
    );
  });
});
