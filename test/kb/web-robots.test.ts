/**
 * robots.txt against the fake site: the group for our product token, else `*` (RFC 9309: the most
 * specific group, longest match, Allow winning ties), read once per origin, a missing file allowing
 * everything and a failing one (5xx) disallowing everything; explicit URLs are not subject to it.
 */
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ROBOTS_AGENT, WebClient } from '../../src/kb/fetch/client.js';
import { FetchError } from '../../src/kb/fetch/errors.js';
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

  test('robots.txt is not consulted for a URL given explicitly', async () => {
    const r = await client.get(web.url('/docs/private/roadmap'), { explicit: true });
    assert.equal(r.kind, 'body');
    assert.deepEqual(
      web.requests.map((q) => q.path),
      ['/docs/private/roadmap'],
    );
  });
});
