/** `copilot ask`, `copilot chat`, `copilot kb gaps` and `copilot doctor` through the built binary, on both backends. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFakeEmbeddings } from '../fakes/embeddings.js';
import type { FakeEmbeddings } from '../fakes/embeddings.js';
import { lastUserMessage, startFakeGroq } from '../fakes/groq.js';
import type { FakeGroq } from '../fakes/groq.js';
import { runCli } from '../support/cli.js';
import { BACKENDS, createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';
import { longManual } from '../support/pdfs.js';

const CHANNEL = '123456789012345678';

for (const kind of BACKENDS) {
  describe(`copilot ask and chat (${kind})`, () => {
    let t: TestDatabase;
    let groq: FakeGroq;
    let embeddings: FakeEmbeddings;
    let env: Record<string, string>;
    const cli = (args: string[], input?: string, extra: Record<string, string> = {}) => runCli(args, { env: { ...env, ...extra }, input });

    before(async () => {
      t = await createTestDatabase(kind);
      groq = await startFakeGroq({ apiKey: 'gsk_test' });
      embeddings = await startFakeEmbeddings();
      env = {
        ...t.env,
        GROQ_API_KEY: 'gsk_test',
        GROQ_BASE_URL: groq.baseURL,
        EMBEDDINGS_URL: embeddings.url,
        // On Postgres the Groq token budget is shared by every process: the whole file's answers count in one window.
        GROQ_TOKENS_PER_MINUTE: '10000000',
      };
      writeFileSync(join(t.home, 'manual.pdf'), await longManual(12));
      assert.equal((await cli(['kb', 'ingest', join(t.home, 'manual.pdf')])).code, 0);
      assert.equal((await cli(['channels', 'add', CHANNEL])).code, 0);
    });
    after(async () => {
      await groq.close();
      await embeddings.close();
      await t.cleanup();
    });

    test('ask streams the answer, then the sources; --json has the documented shape', async () => {
      groq.setBehavior({ kind: 'ok', reply: 'Open Preferences > Exports [1].', chunkSize: 4 });
      const r = await cli(['ask', 'how', 'do', 'i', 'keep', 'my', 'export', 'settings?']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^Open Preferences > Exports \[1\]\.\n\nSources: manual\.pdf p\.\d+\n$/);
      const j = await cli(['--json', 'ask', 'and', 'where', 'are', 'backups', 'kept?']);
      assert.equal(j.code, 0, j.stderr);
      const body = JSON.parse(j.stdout);
      for (const key of ['answer', 'sources', 'fallback', 'gap', 'usage']) assert.ok(key in body, key);
      assert.equal(body.fallback, false);
      assert.match(body.sources[0].label, /^manual\.pdf p\.\d+$/);
      assert.equal(typeof body.usage.promptTokens, 'number');
      const request = groq.chatRequests().at(-1)!.body!;
      assert.equal(request.messages!.at(-1)!.content, 'and where are backups kept?');
      assert.deepEqual(
        request.messages!.slice(1, -1).map((m) => m.role),
        ['user', 'assistant'],
        'the command line conversation remembers the previous question',
      );
    });

    test("ask --channel uses that channel's memory; no key gives the retrieval-only answer; an empty question exits 2", async () => {
      groq.setBehavior({ kind: 'ok', reply: 'Channel answer [1].' });
      assert.equal((await cli(['ask', '--channel', CHANNEL, 'what', 'about', 'proxies?'])).code, 0);
      const convo = JSON.parse((await cli(['--json', 'convo', 'show', CHANNEL])).stdout) as { role: string; content: string }[];
      assert.deepEqual(
        convo.map((m) => m.role),
        ['user', 'assistant'],
      );
      assert.equal(convo[0]!.content, 'what about proxies?');
      const noKey = await runCli(['ask', 'how', 'do', 'i', 'install', 'it', 'on', 'ubuntu?'], {
        env: { ...t.env, EMBEDDINGS_URL: embeddings.url },
      });
      assert.equal(noKey.code, 0, noKey.stderr);
      assert.match(noKey.stdout, /^Generated answers are not set up here; here is what the knowledge base says:\n> /);
      assert.equal((await cli(['ask', '   '])).code, 2);
      assert.equal((await cli(['ask', '--channel', 'general', 'hi'])).code, 2);
    });

    test('chat over stdin: answers each line in one conversation; /reset forgets it; /exit leaves', async () => {
      groq.setBehavior({ kind: 'ok', reply: (body) => `You said: ${lastUserMessage(body)}` });
      const r = await cli(['chat', '--channel', CHANNEL], 'first line\nsecond line\n/reset\nthird line\n/exit\nnever sent\n');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /You said: first line[\s\S]*You said: second line[\s\S]*\(forgot \d+ messages\)[\s\S]*You said: third line/);
      assert.doesNotMatch(r.stdout, /never sent/);
      const convo = JSON.parse((await cli(['--json', 'convo', 'show', CHANNEL])).stdout) as { role: string; content: string }[];
      assert.deepEqual(
        convo.map((m) => m.content.split('\n')[0]),
        ['third line', 'You said: third line'],
      );
      const last = groq.chatRequests().at(-1)!.body!;
      assert.equal(last.messages!.length, 2, 'after /reset the history is empty');
    });

    test('kb gaps lists unanswered questions, most frequent first', async () => {
      groq.setBehavior({ kind: 'ok', reply: "[[NOT_IN_KB]] The knowledge base doesn't say." });
      for (const q of ['is there a mobile app?', 'Is there a mobile app', 'who is the ceo?']) {
        const r = await cli(['ask', q]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, "The knowledge base doesn't say.\n");
      }
      const gaps = JSON.parse((await cli(['--json', 'kb', 'gaps', '--since', '1h'])).stdout) as { question: string; count: number }[];
      // Earlier tests in this file may have left gaps of their own: this test's questions only.
      const mine = gaps.filter((g) => /mobile app|ceo/i.test(g.question));
      assert.deepEqual(
        mine.map((g) => g.count),
        [2, 1],
      );
      assert.match(mine[0]!.question, /mobile app/i);
      assert.equal((await cli(['kb', 'gaps', '--since', 'last week'])).code, 2);
    });

    test('terminal escapes in stored messages and answers are not printed raw; --json keeps the data as stored', async () => {
      const evil = 'where is \u001b]0;pwned\u0007\u001b[2J\u001b[31mthe\u009b2J office\r?';
      groq.setBehavior({ kind: 'ok', reply: '[[NOT_IN_KB]] No idea \u001b[2Jat all\u0007.', chunkSize: 3 });
      const asked = await cli(['ask', evil]);
      assert.equal(asked.code, 0, asked.stderr);
      const control = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
      assert.doesNotMatch(asked.stdout, control, 'the streamed answer');
      assert.match(asked.stdout, /No idea \[2Jat all\./);
      const shown = await cli(['convo', 'show', 'cli', '--limit', '2']);
      assert.equal(shown.code, 0, shown.stderr);
      assert.doesNotMatch(shown.stdout, control, 'convo show');
      assert.match(shown.stdout, /where is \]0;pwned\[2Jthe2J office \?/);
      const gaps = await cli(['kb', 'gaps', '--since', '1h']);
      assert.equal(gaps.code, 0, gaps.stderr);
      assert.doesNotMatch(gaps.stdout, control, 'kb gaps');
      assert.match(gaps.stdout, /where is \]0;pwned/);
      const stored = JSON.parse((await cli(['--json', 'convo', 'show', 'cli', '--limit', '2'])).stdout) as { content: string }[];
      assert.equal(stored[0]!.content, evil.trim());
      const gapJson = JSON.parse((await cli(['--json', 'kb', 'gaps', '--since', '1h'])).stdout) as { question: string }[];
      assert.ok(
        gapJson.some((g) => g.question === evil.trim()),
        'the gap is stored as asked',
      );
    });

    test('doctor checks Groq and the embeddings endpoint', async () => {
      const ok = await cli(['--json', 'doctor']);
      assert.equal(ok.code, 0, ok.stderr);
      const checks = Object.fromEntries(
        (JSON.parse(ok.stdout).checks as { name: string; ok: boolean; detail: string }[]).map((c) => [c.name, c]),
      );
      assert.equal(checks.groq!.ok, true);
      assert.match(checks.groq!.detail, /llama-3\.3-70b-versatile/);
      assert.equal(checks.embeddings!.ok, true);
      assert.match(checks.embeddings!.detail, /384 dimensions/);
      const bad = await cli(['--json', 'doctor'], undefined, { GROQ_API_KEY: 'gsk_wrong' });
      assert.equal(bad.code, 1);
      const badChecks = JSON.parse(bad.stdout).checks as { name: string; ok: boolean; detail: string }[];
      assert.match(badChecks.find((c) => c.name === 'groq')!.detail, /refused the API key/);
      assert.ok(!bad.stdout.includes('gsk_wrong') && !bad.stderr.includes('gsk_wrong'), 'the key is never printed');
    });
  });
}
