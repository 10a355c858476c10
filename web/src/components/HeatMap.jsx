// The address space of a pool as a picture: one cell per address (or per block of addresses for
// big pools, shaded by how full the block is), colored by state. Drawn one pixel per cell into an
// ImageData and scaled up without smoothing, so a /16 (65,536 cells) costs a few milliseconds.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { get } from '../api.js';
import { navigate } from '../router.js';
import { cssVar, useTheme } from '../theme.js';
import { addIp, fmtCount, fmtCountShort } from '../util.js';
import { STATE_INFO } from './common.jsx';

const STATE_ORDER = ['u', 'c', 'q', 'p', 'r', '.', '-'];
const MAX_WIDTH_PX = 768;
const MAX_CELL_PX = 28;

function hexToRgb(hex) {
  let h = hex.replace('#', '').trim();
  if (h.length === 3) h = h.split('').map((c) => c + c).join('');
  const n = parseInt(h, 16);
  if (!Number.isFinite(n) || h.length !== 6) return [128, 128, 128];
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function palette() {
  const p = {};
  for (const [ch, info] of Object.entries(STATE_INFO)) p[ch] = hexToRgb(cssVar(info.color));
  p.empty = hexToRgb(cssVar('--st-empty'));
  p.grid = hexToRgb(cssVar('--panel'));
  return p;
}

/**
 * Columns and cell size for blocks of n cells that fit maxW x maxH pixels: the biggest cells that
 * fit (at most MAX_CELL_PX), the squarest grid among equals; columns a power of two, 16..1024.
 * A window too short for even 1 px cells gets 1 px cells in the square grid (the page scrolls).
 */
export function layoutFor(n, maxW, maxH) {
  let best = null;
  for (let cols = 16; cols <= 1024; cols *= 2) {
    const rows = Math.max(1, Math.ceil(n / cols));
    const px = Math.min(MAX_CELL_PX, Math.floor(maxW / cols), Math.floor(maxH / rows));
    if (px < 1) continue;
    const squarer = best && px === best.cellPx && Math.abs(cols - rows) < Math.abs(best.cols - best.rows);
    if (!best || px > best.cellPx || squarer) best = { cols, rows, cellPx: px };
  }
  return best || { cols: columnsFor(n), rows: Math.ceil(n / columnsFor(n)), cellPx: 1 };
}

/** Columns for a block of n cells: a power of two near its square root, 16..256. */
export function columnsFor(n) {
  let cols = 16;
  while (cols < 256 && cols * cols < n) cols *= 2;
  return cols;
}

export function countCells(blocks) {
  const counts = Object.fromEntries(STATE_ORDER.map((c) => [c, 0]));
  for (const b of blocks) {
    const s = b.cells || '';
    for (let i = 0; i < s.length; i++) {
      const ch = s[i];
      counts[ch] = (counts[ch] || 0) + 1;
    }
  }
  return counts;
}

function rgba32(rgb) {
  // ImageData is RGBA in memory; little-endian Uint32 is ABGR.
  return ((255 << 24) | (rgb[2] << 16) | (rgb[1] << 8) | rgb[0]) >>> 0;
}

function mix(a, b, t) {
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t));
}

/** Draws one block into `canvas`; returns its geometry for hit testing. */
function drawBlock(canvas, block, cols, cellPx, pal) {
  const cells = block.cells || '';
  const fill = block.fill || null;
  const rows = Math.max(1, Math.ceil(cells.length / cols));
  const img = new ImageData(cols, rows);
  const px = new Uint32Array(img.data.buffer);
  const colors = {};
  for (const ch of STATE_ORDER) colors[ch] = rgba32(pal[ch]);
  const empty = rgba32(pal.empty);
  // Block cells: shade free->used by the fill digit (tenths), so a busy block reads darker.
  const shades = [];
  for (let d = 0; d <= 9; d++) shades.push(rgba32(mix(pal['.'], pal.u, Math.max(0.18, d / 9))));
  for (let i = 0; i < cells.length; i++) {
    const ch = cells[i];
    if (fill && ch === 'u') {
      const d = fill.charCodeAt(i) - 48;
      px[i] = d >= 0 && d <= 9 ? shades[d] : colors.u;
    } else px[i] = colors[ch] ?? empty;
  }
  for (let i = cells.length; i < cols * rows; i++) px[i] = empty;

  const dpr = Math.min(2, window.devicePixelRatio || 1);
  const w = cols * cellPx;
  const h = rows * cellPx;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  canvas.style.width = `${w}px`;
  canvas.style.height = `${h}px`;
  const src = document.createElement('canvas');
  src.width = cols;
  src.height = rows;
  src.getContext('2d').putImageData(img, 0, 0);
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(src, 0, 0, canvas.width, canvas.height);
  if (cellPx >= 8) {
    // Big cells get a 1 px gap so single addresses read as tiles.
    ctx.fillStyle = `rgb(${pal.grid.join(',')})`;
    for (let c = 1; c < cols; c++) ctx.fillRect(Math.round(c * cellPx * dpr) - dpr / 2, 0, dpr, canvas.height);
    for (let r = 1; r < rows; r++) ctx.fillRect(0, Math.round(r * cellPx * dpr) - dpr / 2, canvas.width, dpr);
  }
  return { cols, rows, cellPx };
}

function cellAddress(block, index, cellSize) {
  return addIp(block.first, BigInt(index) * BigInt(cellSize));
}

/**
 * The holder of an address, fetched once per address and map (null: nobody holds it). The cache
 * belongs to one fetched map: a re-fetched map (a new visit, another token after signing in
 * again, addresses released and taken since) starts empty, so hover never shows a stale holder.
 */
const holderCaches = new WeakMap();
function fetchHolder(map, ip) {
  if (!holderCaches.has(map)) holderCaches.set(map, new Map());
  const holderCache = holderCaches.get(map);
  if (!holderCache.has(ip)) {
    holderCache.set(
      ip,
      get(`/v1/addresses/${encodeURIComponent(ip)}`).then(
        (b) => b,
        (err) => {
          if (err.status === 404) return null;
          holderCache.delete(ip);
          throw err;
        },
      ),
    );
  }
  return holderCache.get(ip);
}

// The height left for the map's blocks between the canvas's top and the window's bottom, so a
// /16 fits a short window instead of running off it; follows resizes.
function useAvailableHeight(root, blockCount) {
  const measure = () => {
    const box = root.current?.querySelector('.heat-canvas-box');
    const top = box ? box.getBoundingClientRect().top + window.scrollY : 200;
    const labels = Math.max(0, blockCount - 1) * 28;
    return Math.max(64, Math.floor((window.innerHeight - top - 24 - labels) / Math.max(1, blockCount)));
  };
  const [height, setHeight] = useState(() => Math.max(64, window.innerHeight - 260));
  useLayoutEffect(() => {
    const update = () => setHeight(measure());
    update();
    addEventListener('resize', update);
    return () => removeEventListener('resize', update);
  }, [blockCount]);
  return height;
}

export function HeatMap({ map, onDrawn }) {
  const [theme] = useTheme();
  const canvases = useRef([]);
  const geometry = useRef([]);
  const [hover, setHover] = useState(null);
  const [holder, setHolder] = useState({ ip: null, state: 'idle', binding: null });
  const hoverTimer = useRef(null);
  const cellSize = Number(map.cell_size) || 1;
  const blocks = map.blocks || [];
  const root = useRef(null);
  const availHeight = useAvailableHeight(root, blocks.length);
  const largest = blocks.reduce((m, b) => Math.max(m, (b.cells || '').length), 0);
  const { cols, cellPx } = useMemo(() => layoutFor(largest, MAX_WIDTH_PX, availHeight), [largest, availHeight]);
  const counts = useMemo(() => countCells(blocks), [map]);

  useEffect(() => {
    const pal = palette();
    geometry.current = blocks.map((b, i) => (canvases.current[i] ? drawBlock(canvases.current[i], b, cols, cellPx, pal) : null));
    if (onDrawn) onDrawn();
  }, [map, theme, cols, cellPx]);

  useEffect(() => () => clearTimeout(hoverTimer.current), []);

  const locate = (blockIndex, ev) => {
    const g = geometry.current[blockIndex];
    const canvas = canvases.current[blockIndex];
    if (!g || !canvas) return null;
    const r = canvas.getBoundingClientRect();
    const col = Math.floor((ev.clientX - r.left) / g.cellPx);
    const row = Math.floor((ev.clientY - r.top) / g.cellPx);
    if (col < 0 || col >= g.cols || row < 0) return null;
    const index = row * g.cols + col;
    const block = blocks[blockIndex];
    if (index >= (block.cells || '').length) return null;
    return { blockIndex, index, col, row, x: (col + 0.5) * g.cellPx, y: row * g.cellPx };
  };

  const showCell = (cell) => {
    if (!cell) {
      setHover(null);
      return;
    }
    const block = blocks[cell.blockIndex];
    const ch = block.cells[cell.index];
    const address = cellAddress(block, cell.index, cellSize);
    const last = cellSize > 1 ? addIp(block.first, BigInt(cell.index + 1) * BigInt(cellSize) - 1n) : null;
    const fillDigit = block.fill ? block.fill[cell.index] : null;
    const info = { ...cell, ch, address, last, fillDigit };
    setHover((h) => (h && h.blockIndex === info.blockIndex && h.index === info.index ? h : info));
    clearTimeout(hoverTimer.current);
    if (cellSize === 1 && (ch === 'u' || ch === 'c' || ch === 'q' || ch === 'p')) {
      hoverTimer.current = setTimeout(() => {
        setHolder({ ip: address, state: 'loading', binding: null });
        fetchHolder(map, address).then(
          (binding) => setHolder((h) => (h.ip === address ? { ip: address, state: 'done', binding } : h)),
          (err) => setHolder((h) => (h.ip === address ? { ip: address, state: 'error', error: err } : h)),
        );
      }, 150);
    } else setHolder({ ip: null, state: 'idle', binding: null });
  };

  const open = async (cell) => {
    if (!cell || cellSize !== 1) return;
    const block = blocks[cell.blockIndex];
    const ip = cellAddress(block, cell.index, 1);
    const ch = block.cells[cell.index];
    if (ch === '.' || ch === '-' || ch === 'r') return;
    try {
      const b = await fetchHolder(map, ip);
      if (b && b.id) navigate(`/bindings/${encodeURIComponent(b.id)}`);
      else if (ch === 'c') navigate('/conflicts', { ip });
      else setHolder({ ip, state: 'done', binding: null });
    } catch (err) {
      setHolder({ ip, state: 'error', error: err });
    }
  };

  const onKey = (blockIndex, ev) => {
    const g = geometry.current[blockIndex];
    if (!g) return;
    const n = blocks[blockIndex].cells.length;
    const cur = hover && hover.blockIndex === blockIndex ? hover.index : -1;
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: g.cols, ArrowUp: -g.cols }[ev.key];
    if (step !== undefined) {
      ev.preventDefault();
      const index = Math.max(0, Math.min(n - 1, cur < 0 ? 0 : cur + step));
      const row = Math.floor(index / g.cols);
      const col = index % g.cols;
      showCell({ blockIndex, index, col, row, x: (col + 0.5) * g.cellPx, y: row * g.cellPx });
    } else if (ev.key === 'Enter' && hover) open(hover);
  };

  return (
    <div class="heat" ref={root}>
      <ul class="legend" data-testid="heatmap-legend" aria-label="Legend: cells by state">
        {STATE_ORDER.map((ch) => (
          <li class={counts[ch] ? '' : 'zero'}>
            <i class="dot" style={{ background: `var(${STATE_INFO[ch].color})` }} />
            <span>{STATE_INFO[ch].label}</span>
            <span class="n" data-testid={`legend-${STATE_INFO[ch].key}`} data-count={counts[ch] || 0}>
              {fmtCount(counts[ch] || 0)}
            </span>
          </li>
        ))}
        <li class="legend-note">
          {cellSize === 1 ? 'one cell per address' : `one cell per ${fmtCountShort(cellSize)} addresses · darker = fuller`}
        </li>
      </ul>
      <HoverBox hover={hover} holder={holder} cellSize={cellSize} />
      {blocks.map((b, i) => (
        <div class="heat-block">
          {blocks.length > 1 ? <div class="block-label">{b.cidr}</div> : null}
          <div class="heat-canvas-box">
            <canvas
              ref={(el) => (canvases.current[i] = el)}
              data-testid="heatmap-canvas"
              tabIndex={0}
              role="img"
              aria-label={`Heat map of ${b.cidr}: ${(b.cells || '').length} cells of ${cellSize} address${cellSize > 1 ? 'es' : ''}. Use the arrow keys to inspect, Enter to open.`}
              onMouseMove={(ev) => showCell(locate(i, ev))}
              onMouseLeave={() => setHover(null)}
              onClick={(ev) => open(locate(i, ev))}
              onKeyDown={(ev) => onKey(i, ev)}
            />
            {hover && hover.blockIndex === i ? (
              <div class="tooltip" data-testid="heatmap-tooltip" style={{ left: `${hover.x + 12}px`, top: `${hover.y - 22}px` }}>
                {cellSize > 1 ? `${hover.address} – ${hover.last}` : hover.address} · {STATE_INFO[hover.ch]?.label || hover.ch}
              </div>
            ) : null}
          </div>
        </div>
      ))}
    </div>
  );
}

function HoverBox({ hover, holder, cellSize }) {
  if (!hover)
    return (
      <div class="hoverbox muted" data-testid="heatmap-hover">
        Point at a cell for its address{cellSize === 1 ? ' and holder; click to open the binding' : ''}.
      </div>
    );
  const label = STATE_INFO[hover.ch]?.label || hover.ch;
  let who = null;
  if (cellSize === 1 && hover.address === holder.ip) {
    if (holder.state === 'loading') who = <span class="faint">looking up the holder…</span>;
    else if (holder.state === 'error') who = <span class="faint">holder: {holder.error?.message}</span>;
    else if (holder.binding)
      who = (
        <span data-testid="heatmap-holder">
          <a href={`#/bindings/${encodeURIComponent(holder.binding.id)}`}>{holder.binding.instance}</a>
          {holder.binding.interface ? <span class="muted">/{holder.binding.interface}</span> : null}
          {holder.binding.mac ? <span class="mono"> {holder.binding.mac}</span> : null}
          {holder.binding.host ? <span> on {holder.binding.host}</span> : null}
          <span class="muted"> ({holder.binding.state})</span>
        </span>
      );
    else if (holder.state === 'done') who = <span class="muted">no current holder</span>;
  }
  return (
    <div class="hoverbox" data-testid="heatmap-hover">
      <span class="addr" data-testid="heatmap-hover-address">
        {cellSize > 1 ? `${hover.address} – ${hover.last}` : hover.address}
      </span>
      <span class="state">
        <i class="dot" style={{ background: `var(${STATE_INFO[hover.ch]?.color || '--faint'})` }} />
        {label}
      </span>
      {hover.fillDigit && hover.fillDigit !== '-' ? (
        <span class="muted">about {Number(hover.fillDigit) * 10} % in use</span>
      ) : null}
      {who}
    </div>
  );
}
