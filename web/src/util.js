// Small helpers: address arithmetic (v4 and v6, as BigInt), formatting of counts, times, rates.

/** Parses an IPv4 or IPv6 address to { v6, value: BigInt }; null if it is neither. */
export function parseIp(text) {
  if (typeof text !== 'string') return null;
  if (text.includes(':')) return parseIpv6(text);
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    value = (value << 8n) | BigInt(p);
  }
  return { v6: false, value };
}

function parseIpv6(text) {
  let s = text;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    // An embedded IPv4 tail (::ffff:192.0.2.1): rewrite it as two hex groups.
    const v4 = parseIp(s.slice(lastColon + 1));
    if (!v4) return null;
    const hi = (v4.value >> 16n).toString(16);
    const lo = (v4.value & 0xffffn).toString(16);
    s = `${s.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const group = (h) => (h === '' ? [] : h.split(':'));
  const head = group(halves[0]);
  const rest = halves.length === 2 ? group(halves[1]) : [];
  const words = [];
  for (const g of [...head, ...rest]) if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 && missing !== 0) return null;
  if (halves.length === 2 && missing < 1) return null;
  words.push(...head.map((g) => parseInt(g, 16)));
  if (halves.length === 2) for (let i = 0; i < missing; i++) words.push(0);
  words.push(...rest.map((g) => parseInt(g, 16)));
  let value = 0n;
  for (const w of words) value = (value << 16n) | BigInt(w);
  return { v6: true, value };
}

/** Formats { v6, value } back to canonical text (RFC 5952 for IPv6). */
export function formatIp({ v6, value }) {
  if (!v6) {
    const n = Number(value);
    return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }
  const words = [];
  for (let i = 7; i >= 0; i--) words.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws) => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

/** The address `offset` places after `first` (offset: BigInt or number). */
export function addIp(first, offset) {
  const base = typeof first === 'string' ? parseIp(first) : first;
  if (!base) return '';
  return formatIp({ v6: base.v6, value: base.value + BigInt(offset) });
}

const NUMBER_FORMAT = new Intl.NumberFormat('en-US');

/** Big decimal strings from the API ("65536") as a display string with thousands separators. */
export function fmtCount(value) {
  if (value === null || value === undefined || value === '') return '–';
  const s = String(value);
  if (!/^\d+$/.test(s)) return s;
  if (s.length > 15) return s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return NUMBER_FORMAT.format(Number(s));
}

const SUPERSCRIPT = '⁰¹²³⁴⁵⁶⁷⁸⁹';

/** Like fmtCount, but counts past a trillion (IPv6 pools) as 1.8·10¹⁹; the exact value is fmtCount's. */
export function fmtCountShort(value) {
  const s = String(value ?? '');
  if (!/^\d{13,}$/.test(s)) return fmtCount(value);
  const exp = s.length - 1;
  const mant = `${s[0]}.${s.slice(1, 3)}`.replace(/\.?0+$/, '');
  return `${mant}·10${String(exp).split('').map((d) => SUPERSCRIPT[d]).join('')}`;
}

/** A count string as a number (for sorting, ratios); huge v6 counts lose precision, fine there. */
export function num(value) {
  const n = Number(value);
  return Number.isFinite(n) ? n : 0;
}

export function fmtPct(ratio, digits = 1) {
  if (ratio === null || ratio === undefined || !Number.isFinite(Number(ratio))) return '–';
  return `${(Number(ratio) * 100).toFixed(digits)} %`;
}

export function fmtTime(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(
    d.getMinutes(),
  )}:${pad(d.getSeconds())}`;
}

export function fmtClock(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso || '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Today's times as HH:MM:SS, other days' in full. */
export function fmtWhen(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso || '–';
  return d.toDateString() === new Date().toDateString() ? fmtClock(iso) : fmtTime(iso);
}

/** "in 3 h 20 min", "5 min ago". */
export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(Number(seconds))) return '–';
  let s = Math.abs(Math.round(Number(seconds)));
  const days = Math.floor(s / 86400);
  s -= days * 86400;
  const hours = Math.floor(s / 3600);
  s -= hours * 3600;
  const mins = Math.floor(s / 60);
  s -= mins * 60;
  if (days > 0) return `${days} d ${hours} h`;
  if (hours > 0) return `${hours} h ${mins} min`;
  if (mins > 0) return `${mins} min`;
  return `${s} s`;
}

export function fmtAgo(iso, now = Date.now()) {
  const t = new Date(iso).getTime();
  if (!Number.isFinite(t)) return '';
  const d = (now - t) / 1000;
  if (d < 5) return 'just now';
  return d >= 0 ? `${fmtDuration(d)} ago` : `in ${fmtDuration(-d)}`;
}

/** Converts a <input type="datetime-local"> value (local time) to RFC 3339 UTC, or ''. */
export function localInputToIso(value) {
  if (!value) return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

export const SEVERITIES = ['critical', 'high', 'warning', 'info'];

export const CONFLICT_KINDS = [
  'duplicate_ip',
  'binding_mismatch',
  'mac_drift',
  'mac_flapping',
  'unknown_station',
  'stale_binding',
  'pool_overlap',
  'pool_utilization',
  'dhcp_decline',
];

export function humanKind(kind) {
  return String(kind || '').replace(/_/g, ' ');
}
