/**
 * Just enough of the PostgreSQL wire protocol (v3) to put a server in front of PGlite: framing of
 * the client's byte stream into whole messages, a scanner of the backend's output that finds each
 * ReadyForQuery and its transaction status across chunk boundaries, and the few messages we write.
 */

export const PROTOCOL_3 = 196608;
export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;
/** Larger than any message a copilot client sends (a batch of chunks with vectors is a few MB). */
const MAX_MESSAGE = 256 * 1024 * 1024;

/** A whole frontend message: `type` is '' for the untyped messages sent before startup. */
export interface FrontendMessage {
  type: string;
  /** The message's bytes, header included, as PGlite expects them. */
  bytes: Buffer;
  /** For untyped messages: the request code or protocol version (second int32). */
  code?: number;
}

/**
 * Splits the client's stream into whole messages. Before startup, messages are untyped
 * (int32 length, int32 code); afterwards, a type byte and an int32 length.
 */
export class FrontendReader {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Until the StartupMessage, messages carry no type byte. */
  untyped = true;

  push(chunk: Buffer): FrontendMessage[] {
    this.chunks.push(chunk);
    this.size += chunk.length;
    const out: FrontendMessage[] = [];
    for (;;) {
      const headerLength = this.untyped ? 8 : 5;
      if (this.size < headerLength) break;
      const head = this.peek(headerLength);
      const length = this.untyped ? head.readInt32BE(0) : 1 + head.readInt32BE(1);
      const minimum = this.untyped ? 8 : 5;
      if (length < minimum || length > MAX_MESSAGE) throw new Error(`malformed message (length ${length})`);
      if (this.size < length) break;
      const bytes = this.take(length);
      if (this.untyped) {
        const code = bytes.readInt32BE(4);
        if (code === PROTOCOL_3) this.untyped = false;
        out.push({ type: '', code, bytes });
      } else {
        out.push({ type: String.fromCharCode(bytes.readUInt8(0)), bytes });
      }
    }
    return out;
  }

  /** The first chunk, joined with the next ones first if it is shorter than `n`. */
  private front(n: number): Buffer {
    const first = this.chunks[0];
    if (first && first.length >= n) return first;
    const whole = Buffer.concat(this.chunks);
    this.chunks = [whole];
    return whole;
  }

  private peek(n: number): Buffer {
    return this.front(n).subarray(0, n);
  }

  private take(n: number): Buffer {
    const first = this.front(n);
    const bytes = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.size -= n;
    return bytes;
  }
}

/** Reads the parameters of a StartupMessage (user, database, application_name, …). */
export function startupParameters(message: Buffer): Record<string, string> {
  const params: Record<string, string> = {};
  const fields = message.subarray(8).toString('utf8').split('\0');
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i];
    const value = fields[i + 1];
    if (!name || value === undefined) break;
    params[name] = value;
  }
  return params;
}

/** The password of a PasswordMessage ('p'), without its terminating NUL. */
export function passwordOf(message: Buffer): Buffer {
  const body = message.subarray(5);
  const end = body.indexOf(0);
  return end >= 0 ? body.subarray(0, end) : body;
}

/** NoticeResponse, NotificationResponse, ParameterStatus: may come at any time, outside any cycle. */
const ASYNC = new Set([0x4e, 0x41, 0x53]);

/**
 * Follows the backend's output message by message, however it is split into chunks, and
 * remembers whether the output seen so far ends with a ReadyForQuery (followed by nothing but
 * asynchronous messages), and its status: 'I' idle, 'T' in a transaction, 'E' in a failed one.
 */
export class BackendScanner {
  private header = Buffer.alloc(6);
  private headerFill = 0;
  /** Bytes of the current message's body still to skip (after the status byte, for 'Z'). */
  private remaining = 0;
  private type = 0;
  /** True when the last message seen that belongs to a cycle is a ReadyForQuery. */
  endsWithReady = false;
  status: 'I' | 'T' | 'E' = 'I';

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - i);
        this.remaining -= n;
        i += n;
        continue;
      }
      // A header: type byte, int32 length, and for 'Z' the status byte (6 bytes in all).
      const byte = chunk[i++];
      if (byte === undefined) break;
      this.header[this.headerFill++] = byte;
      if (this.headerFill === 1) {
        this.type = this.header.readUInt8(0);
        if (!ASYNC.has(this.type)) this.endsWithReady = false;
      }
      if (this.headerFill < 5) continue;
      const length = this.header.readInt32BE(1);
      if (this.type === 0x5a /* Z */) {
        if (this.headerFill < 6) continue;
        const s = String.fromCharCode(this.header.readUInt8(5));
        this.status = s === 'T' || s === 'E' ? s : 'I';
        this.remaining = length - 5;
        this.headerFill = 0;
        if (this.remaining === 0) this.endsWithReady = true;
        continue;
      }
      this.remaining = length - 4;
      this.headerFill = 0;
    }
  }
}

function message(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const cstring = (s: string) => Buffer.from(`${s}\0`, 'utf8');

/** AuthenticationCleartextPassword: asks the client for its password. */
export function authenticationCleartextPassword(): Buffer {
  const body = Buffer.alloc(4);
  body.writeInt32BE(3, 0);
  return message('R', body);
}

/** An ErrorResponse with severity, SQLSTATE and message (e.g. FATAL 28P01). */
export function errorResponse(severity: 'ERROR' | 'FATAL', code: string, text: string): Buffer {
  return message(
    'E',
    Buffer.concat([
      Buffer.from('S'),
      cstring(severity),
      Buffer.from('V'),
      cstring(severity),
      Buffer.from('C'),
      cstring(code),
      Buffer.from('M'),
      cstring(text),
      Buffer.from([0]),
    ]),
  );
}

/** A simple Query message. */
export function simpleQuery(sql: string): Buffer {
  return message('Q', cstring(sql));
}

/** A Sync message: ends an extended-protocol cycle (the backend answers with ReadyForQuery). */
export function sync(): Buffer {
  return message('S', Buffer.alloc(0));
}

/** An Execute message for `portal` (all rows). */
export function execute(portal: string): Buffer {
  const limit = Buffer.alloc(4);
  return message('E', Buffer.concat([cstring(portal), limit]));
}

/** CopyFail: aborts a COPY FROM STDIN in progress; outside COPY the backend ignores it. */
export function copyFail(reason: string): Buffer {
  return message('f', cstring(reason));
}
