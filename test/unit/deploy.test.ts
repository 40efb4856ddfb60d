/** The deploy files agree with the code: fly.toml, the Dockerfile and .env.example. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'smol-toml';
import { DEFAULT_PORT } from '../../src/config.js';

const root = new URL('../../../', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, root), 'utf8');

test('fly.toml parses; its port, health check and shutdown match the daemon', () => {
  const fly = parse(read('fly.toml')) as Record<string, any>;
  assert.equal(fly.http_service.internal_port, DEFAULT_PORT);
  assert.equal(fly.env.PORT, String(DEFAULT_PORT));
  const check = fly.http_service.checks[0];
  assert.equal(check.method, 'GET');
  assert.equal(check.path, '/healthz');
  assert.equal(fly.kill_signal, 'SIGTERM');
  assert.ok(Number(fly.kill_timeout) >= 10);
});

test('the Dockerfile is multi-stage on Node 20, runs as a non-root user, and starts `copilot serve`', () => {
  const docker = read('Dockerfile');
  assert.equal(docker.match(/^FROM node:20/gm)?.length, 2);
  const user = docker.match(/^USER (\S+)/m);
  assert.ok(user && user[1] !== 'root');
  assert.match(docker, /^CMD \[.*"serve"\]$/m);
  assert.match(docker, /EXPOSE 8080/);
});

test('.env.example lists every variable of the contract, each with a comment, and the code reads each', () => {
  const example = read('.env.example');
  const config = read('src/config.ts');
  const names = [...example.matchAll(/^([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!);
  const contract = [
    'DATABASE_URL',
    'COPILOT_HOME',
    'DISCORD_TOKEN',
    'DISCORD_API_URL',
    'GROQ_API_KEY',
    'GROQ_BASE_URL',
    'GROQ_MODEL',
    'HF_TOKEN',
    'EMBEDDINGS_URL',
    'EMBEDDINGS_MODEL',
    'PORT',
    'HOST',
    'LOG_LEVEL',
    'STATUS_TOKEN',
  ];
  for (const name of contract) assert.ok(names.includes(name), `${name} in .env.example`);
  const lines = example.split('\n');
  for (const name of names) {
    const i = lines.findIndex((l) => l.startsWith(`${name}=`));
    assert.match(lines[i - 1]!, /^# /, `${name} has a comment`);
    assert.ok(config.includes(`'${name}'`) || config.includes(`.${name}`), `${name} is read by src/config.ts`);
  }
});

test('the public Fly.io service says how to protect /status with STATUS_TOKEN; the README documents it', () => {
  const fly = read('fly.toml');
  assert.equal((parse(fly) as Record<string, any>).http_service.force_https, true);
  assert.match(fly, /^#.*fly secrets set STATUS_TOKEN=/m);
  assert.match(fly, /^#.*curl -H "Authorization: Bearer \$STATUS_TOKEN"/m);
  assert.ok(!('STATUS_TOKEN' in (parse(fly) as Record<string, any>).env), 'the token is a secret, not an [env] value');
  const readme = read('README.md');
  assert.match(readme, /^\| STATUS_TOKEN \|/m);
  assert.match(readme, /fly secrets set STATUS_TOKEN=/);
  assert.match(readme, /curl -H "Authorization: Bearer \$STATUS_TOKEN"/);
});
