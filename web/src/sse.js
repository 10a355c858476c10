// Server-sent events over fetch(): EventSource cannot send an Authorization header, so the
// stream is read with a ReadableStream reader and parsed here (the text/event-stream format of
// the HTML standard: fields id, event, data, retry; ':' comments; a blank line ends an event).
// Reconnects after the server's `retry` delay, resuming with Last-Event-ID so nothing is lost.

import { authHeaders } from './api.js';

/** Incremental parser: feed() text chunks, get complete events back. */
export class SseParser {
  constructor() {
    this.buffer = '';
    this.reset();
    this.lastEventId = '';
    this.retry = null;
  }

  reset() {
    this.data = [];
    this.event = '';
    this.id = null;
  }

  feed(chunk) {
    this.buffer += chunk;
    const events = [];
    let start = 0;
    for (;;) {
      const nl = this.buffer.indexOf('\n', start);
      if (nl < 0) break;
      let line = this.buffer.slice(start, nl);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      start = nl + 1;
      const ev = this.line(line);
      if (ev) events.push(ev);
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  line(line) {
    if (line === '') {
      if (this.id !== null) this.lastEventId = this.id;
      if (this.data.length === 0) {
        this.reset();
        return null;
      }
      const ev = { id: this.lastEventId, event: this.event || 'message', data: this.data.join('\n') };
      this.reset();
      return ev;
    }
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    return null;
  }
}

/**
 * Opens the stream at `url` and calls onEvent({id, event, data}) for each event, onStatus(state)
 * with 'connecting' | 'live' | 'retrying' | 'closed'. Returns a function that stops it.
 * onUnauthorized is called (and the stream stops) on a 401.
 */
export function openEventStream(url, { onEvent, onStatus, onUnauthorized, lastEventId = '' }) {
  const controller = new AbortController();
  let stopped = false;
  let retryMs = 2000;
  let lastId = lastEventId ? String(lastEventId) : '';
  let timer = null;

  const status = (s) => onStatus && onStatus(s);

  async function connect() {
    if (stopped) return;
    status('connecting');
    const parser = new SseParser();
    try {
      const headers = authHeaders({ Accept: 'text/event-stream' });
      if (lastId) headers['Last-Event-ID'] = lastId;
      const res = await fetch(url, { headers, signal: controller.signal, cache: 'no-store' });
      if (res.status === 401) {
        stopped = true;
        status('closed');
        onUnauthorized && onUnauthorized();
        return;
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      status('live');
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const ev of parser.feed(value)) {
          if (ev.id) lastId = ev.id;
          onEvent(ev);
        }
        if (parser.retry !== null) retryMs = parser.retry;
      }
    } catch (err) {
      if (stopped || err?.name === 'AbortError') return;
    }
    if (stopped) return;
    status('retrying');
    timer = setTimeout(connect, retryMs);
  }

  connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    controller.abort();
    status('closed');
  };
}
