// Recent events, live: the last 50 audit events first (GET /v1/audit), then the event stream
// (GET /v1/events) resumed from the newest of them with Last-Event-ID, so none is missed or shown
// twice.
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, notifyUnauthorized } from '../api.js';
import { openEventStream } from '../sse.js';
import { describeEvent, opClass, subjectHref } from '../events.js';
import { fmtClock } from '../util.js';

const KEEP = 50;

export function EventFeed({ onEvent }) {
  const [events, setEvents] = useState([]);
  const [status, setStatus] = useState('connecting');
  const onEventRef = useRef(onEvent);
  onEventRef.current = onEvent;

  useEffect(() => {
    let stop = null;
    let cancelled = false;
    // Events arrive in sequence order; anything at or below the newest shown is a repeat.
    let newestSeq = 0;
    // A burst (a bulk allocation: thousands a second) is shown in batches, a few times a second,
    // not one render per event.
    let batch = [];
    let flushTimer = null;
    const flush = () => {
      flushTimer = null;
      const items = batch;
      batch = [];
      setEvents((prev) => [...items.reverse(), ...prev].slice(0, KEEP));
    };
    const add = (item, fresh) => {
      const seq = Number(item.seq);
      if (!(seq > newestSeq)) return;
      newestSeq = seq;
      batch.push({ ...item, fresh });
      if (batch.length > KEEP) batch = batch.slice(-KEEP);
      if (!flushTimer) flushTimer = setTimeout(flush, 150);
    };
    get(`/v1/audit?limit=${KEEP}`)
      .catch(() => ({ items: [] }))
      .then((page) => {
        if (cancelled) return;
        const items = (page.items || []).slice().sort((a, b) => Number(a.seq) - Number(b.seq));
        for (const e of items) add(e, false);
        if (flushTimer) {
          clearTimeout(flushTimer);
          flush();
        }
        stop = openEventStream('/v1/events', {
          lastEventId: newestSeq ? String(newestSeq) : '',
          onStatus: setStatus,
          onUnauthorized: notifyUnauthorized,
          onEvent: (ev) => {
            let item;
            try {
              item = JSON.parse(ev.data);
            } catch {
              return;
            }
            if (item.seq == null) item.seq = Number(ev.id);
            if (!item.op) item.op = ev.event;
            add(item, true);
            if (onEventRef.current) onEventRef.current(item);
          },
        });
      });
    return () => {
      cancelled = true;
      clearTimeout(flushTimer);
      if (stop) stop();
    };
  }, []);

  const label = status === 'live' ? 'live' : status === 'retrying' ? 'reconnecting…' : status === 'closed' ? 'closed' : 'connecting…';
  return (
    <section class="panel" aria-labelledby="feed-title" data-testid="event-feed">
      <div class="panel-head">
        <h2 id="feed-title">Recent events</h2>
        <div class="spacer" />
        <span class={`live ${status === 'live' ? 'on' : status}`} data-testid="feed-status" data-status={status}>
          <i />
          {label}
        </span>
      </div>
      {events.length === 0 ? <div class="empty">No events yet.</div> : null}
      <ul class="feed" aria-live="polite" aria-label="Recent events">
        {events.map((e) => {
          const link = subjectHref(e.subject);
          return (
            <li key={e.seq} class={e.fresh ? 'fresh' : ''} data-testid="feed-item" data-seq={e.seq} data-op={e.op}>
              <span class="t" title={e.time}>
                {fmtClock(e.time)}
              </span>
              <span>
                <span class={`op ${opClass(e.op)}`}>{e.op}</span>{' '}
                {link ? <a href={link}>{describeEvent(e)}</a> : <span>{describeEvent(e)}</span>}
                <span class="faint"> · {e.actor}</span>
              </span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
