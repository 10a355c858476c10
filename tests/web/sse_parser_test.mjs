#!/usr/bin/env node
// Unit checks of the dashboard's text/event-stream parser (web/src/sse.js) and address helpers
// (web/src/util.js), in Node: chunk boundaries anywhere, CRLF, multi-line data, comments, retry,
// ids; IPv4/IPv6 parse, format (RFC 5952) and offsets used by the heat map.
//   node --test tests/web/sse_parser_test.mjs
import assert from 'node:assert/strict';
import test from 'node:test';
import { SseParser } from '../../web/src/sse.js';
import { addIp, fmtCountShort, formatIp, parseIp } from '../../web/src/util.js';

const STREAM =
  'retry: 2000\n\n: keep-alive\n\nid: 3\nevent: binding.allocate\ndata: {"seq":3}\n\n' +
  'id: 4\r\nevent: binding.release\r\ndata: line one\r\ndata: line two\r\n\r\n' +
  'data: no id keeps the last\n\n';

function parseAll(chunks) {
  const p = new SseParser();
  const out = chunks.flatMap((c) => p.feed(c));
  return { out, p };
}

test('whole stream at once', () => {
  const { out, p } = parseAll([STREAM]);
  assert.equal(p.retry, 2000);
  assert.deepEqual(out, [
    { id: '3', event: 'binding.allocate', data: '{"seq":3}' },
    { id: '4', event: 'binding.release', data: 'line one\nline two' },
    { id: '4', event: 'message', data: 'no id keeps the last' },
  ]);
});

test('split at every possible byte boundary gives the same events', () => {
  const whole = parseAll([STREAM]).out;
  for (let i = 1; i < STREAM.length; i++) assert.deepEqual(parseAll([STREAM.slice(0, i), STREAM.slice(i)]).out, whole, `split at ${i}`);
  assert.deepEqual(parseAll(STREAM.split('')).out, whole, 'one character at a time');
});

test('an event is not emitted before its blank line', () => {
  const p = new SseParser();
  assert.deepEqual(p.feed('id: 9\ndata: x\n'), []);
  assert.deepEqual(p.feed('\n'), [{ id: '9', event: 'message', data: 'x' }]);
});

test('addresses: parse, format, offsets', () => {
  assert.equal(formatIp(parseIp('2001:0db8:0:0:1:0:0:1')), '2001:db8::1:0:0:1');
  assert.equal(formatIp(parseIp('2001:db8:0:1:1:1:1:1')), '2001:db8:0:1:1:1:1:1');
  assert.equal(formatIp(parseIp('::')), '::');
  assert.equal(parseIp('1.2.3'), null);
  assert.equal(parseIp('1:::2'), null);
  assert.equal(parseIp('256.1.1.1'), null);
  assert.equal(addIp('10.20.0.0', 65535), '10.20.255.255');
  assert.equal(addIp('192.0.2.0', 10), '192.0.2.10');
  assert.equal(addIp('2001:db8:42::', 281474976710656n * 3n), '2001:db8:42:0:3::');
  assert.equal(fmtCountShort('18446744073709551616'), '1.84·10¹⁹');
  assert.equal(fmtCountShort('65536'), '65,536');
});
