/** What the HTTP fakes share: JSON responses, delays that end on close, and a quick shutdown. */
import type http from 'node:http';
import type { Socket } from 'node:net';

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(data)), ...headers });
  res.end(data);
}

/** Delays that all resolve at once when the fake closes, so nothing keeps the process alive. */
export class Lifecycle {
  closed = false;
  readonly sockets = new Set<Socket>();
  private readonly timers = new Map<NodeJS.Timeout, () => void>();

  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (ms <= 0 || this.closed) return resolve();
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.set(t, resolve);
    });
  }

  /** Ends pending delays, destroys open sockets (hanging requests too) and closes the server. */
  async close(server: http.Server): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [t, resolve] of this.timers) {
      clearTimeout(t);
      resolve();
    }
    this.timers.clear();
    const done = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    server.closeAllConnections();
    await done;
  }
}
