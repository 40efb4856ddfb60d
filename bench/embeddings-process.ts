/**
 * The fake embeddings server in a process of its own, as a real provider would be: its work does
 * not compete with the ingest being measured for this process's event loop.
 *   node embeddings-process.js DELAY_MS   → prints the URL; stops when stdin closes.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startFakeEmbeddings } from '../test/fakes/embeddings.js';

export async function startEmbeddingsProcess(delayMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), String(delayMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').once('data', (d: string) => resolve(d.trim()));
    child.once('exit', (code) => reject(new Error(`embeddings process exited ${code}`)));
  });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.stdin.end();
      }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const fake = await startFakeEmbeddings({ behavior: { kind: 'ok', delayMs: Number(process.argv[2] ?? 0) } });
  process.stdout.write(`${fake.url}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void fake.close());
}
