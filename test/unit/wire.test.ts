/** The wire-protocol framing used by the embedded database's socket, however the bytes are split. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BackendScanner, FrontendReader, PROTOCOL_3, SSL_REQUEST, errorResponse, simpleQuery, sync } from '../../src/db/wire.js';

function backend(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}
const ready = (status: string) => backend('Z', Buffer.from(status, 'latin1'));

/** Every way of cutting `bytes` into pieces of at most `max` bytes, sampled deterministically. */
function cuts(bytes: Buffer, seed: number, max: number): Buffer[] {
  const out: Buffer[] = [];
  let a = seed;
  for (let i = 0; i < bytes.length;) {
    a = (a * 1103515245 + 12345) % 2 ** 31;
    const n = 1 + (a % max);
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

test('the backend scanner finds each ReadyForQuery and its status across any chunking', () => {
  // A data row whose body holds the bytes of a ReadyForQuery must not be taken for one.
  const decoy = Buffer.concat([Buffer.from([0, 1]), Buffer.from([0, 0, 0, 6]), ready('T')]);
  const stream = Buffer.concat([
    backend('1', Buffer.alloc(0)),
    backend('D', decoy),
    backend('C', Buffer.from('SELECT 1\0')),
    ready('T'),
    backend('C', Buffer.from('INSERT 0 1\0')),
    errorResponse('ERROR', '42P01', 'relation "nope" does not exist'),
    ready('E'),
    backend('D', Buffer.alloc(70_000, 0x5a)),
    backend('C', Buffer.from('ROLLBACK\0')),
    ready('I'),
  ]);
  // Offsets where the stream so far ends with a ReadyForQuery, and the status there.
  const marks = new Map<number, string>();
  for (let i = 0; i < stream.length;) {
    const type = String.fromCharCode(stream[i]!);
    const length = 1 + stream.readInt32BE(i + 1);
    i += length;
    if (type === 'Z') marks.set(i, String.fromCharCode(stream[i - 1]!));
  }
  assert.deepEqual([...marks.values()], ['T', 'E', 'I']);
  for (const max of [1, 2, 3, 7, 64, 100_000]) {
    for (let seed = 1; seed <= 5; seed++) {
      const scanner = new BackendScanner();
      let offset = 0;
      for (const piece of cuts(stream, seed, max)) {
        // Feed byte ranges one piece at a time; check the state at every ReadyForQuery boundary.
        for (let start = 0; start < piece.length;) {
          const next = [...marks.keys()].find((m) => m > offset + start && m <= offset + piece.length);
          const end = next === undefined ? piece.length : next - offset;
          scanner.push(piece.subarray(start, end));
          if (next !== undefined) {
            assert.equal(scanner.endsWithReady, true, `ready at ${next} (max ${max}, seed ${seed})`);
            assert.equal(scanner.status, marks.get(next));
          } else if (!marks.has(offset + end)) {
            assert.equal(scanner.endsWithReady, false, `not ready at ${offset + end} (max ${max}, seed ${seed})`);
          }
          start = end;
        }
        offset += piece.length;
      }
      assert.equal(scanner.endsWithReady, true);
      assert.equal(scanner.status, 'I');
    }
  }
});

test('the frontend reader yields whole messages, untyped before startup and typed after, however the bytes arrive', () => {
  const ssl = Buffer.alloc(8);
  ssl.writeInt32BE(8, 0);
  ssl.writeInt32BE(SSL_REQUEST, 4);
  const params = Buffer.from('user\0postgres\0database\0postgres\0\0');
  const startup = Buffer.alloc(8);
  startup.writeInt32BE(8 + params.length, 0);
  startup.writeInt32BE(PROTOCOL_3, 4);
  const password = backend('p', Buffer.from('s3cret\0'));
  const big = simpleQuery(`select '${'x'.repeat(100_000)}'`);
  const stream = Buffer.concat([ssl, startup, params, password, simpleQuery('select 1'), big, sync()]);
  for (const max of [1, 5, 9, 1000, 200_000]) {
    const reader = new FrontendReader();
    const got = cuts(stream, max, max).flatMap((piece) => reader.push(Buffer.from(piece)));
    assert.deepEqual(
      got.map((m) => [m.type, m.code ?? null, m.bytes.length]),
      [
        ['', SSL_REQUEST, 8],
        ['', PROTOCOL_3, 8 + params.length],
        ['p', null, password.length],
        ['Q', null, simpleQuery('select 1').length],
        ['Q', null, big.length],
        ['S', null, 5],
      ],
    );
    assert.ok(got[4]!.bytes.equals(big));
  }
});

test('notices and parameter changes after a ReadyForQuery leave the cycle ended; anything else opens it', () => {
  const scanner = new BackendScanner();
  scanner.push(Buffer.concat([backend('C', Buffer.from('BEGIN\0')), ready('T')]));
  scanner.push(backend('N', Buffer.from('SNOTICE\0Mhello\0\0')));
  scanner.push(backend('S', Buffer.from('TimeZone\0UTC\0')));
  scanner.push(backend('A', Buffer.concat([Buffer.alloc(4), Buffer.from('ch\0payload\0')])));
  assert.deepEqual([scanner.endsWithReady, scanner.status], [true, 'T']);
  scanner.push(backend('G', Buffer.from([0, 0, 0]))); // CopyInResponse: the cycle goes on
  assert.equal(scanner.endsWithReady, false);
  scanner.push(backend('N', Buffer.from('SNOTICE\0Mx\0\0')));
  assert.equal(scanner.endsWithReady, false, 'a notice does not end a cycle either');
});

test('a message with an impossible length is refused, not waited for', () => {
  const reader = new FrontendReader();
  reader.untyped = false;
  assert.throws(() => reader.push(Buffer.from([0x51, 0, 0, 0, 2])), /malformed/);
});
