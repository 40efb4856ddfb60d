/** Runs `copilot serve` as a child process and reads its JSON log lines. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { BIN, baseEnv } from './cli.js';

export interface ServeProcess {
  child: ChildProcess;
  logs: Record<string, unknown>[];
  stderr: () => string;
  /** Port of the status endpoint (known once it listens). */
  statusPort: () => number;
  waitForLog(pred: (l: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
}

export function startServe(env: Record<string, string | undefined>, args: string[] = []): ServeProcess {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--host', '127.0.0.1', ...args], {
    env: baseEnv({ LOG_LEVEL: 'info', ...env }),
    cwd: env.COPILOT_HOME,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const waiters: { pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  let buffer = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buffer += d;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line);
      } catch {
        entry = { raw: line };
      }
      logs.push(entry);
      for (const w of [...waiters]) {
        if (w.pred(entry)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(entry);
        }
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  const proc: ServeProcess = {
    child,
    logs,
    stderr: () => stderr,
    statusPort: () => {
      const l = logs.find((e) => e.msg === 'status endpoint listening');
      if (!l) throw new Error('status endpoint not listening yet');
      return Number(l.port);
    },
    waitForLog(pred, timeoutMs = 60_000) {
      const found = logs.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no such log line within ${timeoutMs} ms; stderr: ${stderr}; logs: ${JSON.stringify(logs.slice(-5))}`)),
          timeoutMs,
        );
        const w = { pred, resolve: (l: Record<string, unknown>) => (clearTimeout(timer), resolve(l)) };
        waiters.push(w);
        void exited.then(() => {
          if (waiters.includes(w)) {
            clearTimeout(timer);
            reject(new Error(`serve exited; stderr: ${stderr}; logs: ${JSON.stringify(logs.slice(-5))}`));
          }
        });
      });
    },
    exited,
    async stop(signal = 'SIGTERM') {
      const at = performance.now();
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const r = await exited;
      clearTimeout(timer);
      return { code: r.code, ms: r.at - at };
    },
  };
  return proc;
}

export async function getJson(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; json: unknown; headers: Headers }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
  const body = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(body);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body, json, headers: res.headers };
}
