// Host-port mappings (GET /v1/portmaps): every host port the ledger handed out, where it
// forwards, filtered by node; and the nodes' ranges for automatic ports (GET /v1/portranges).
import { useState } from 'preact/hooks';
import { query } from '../api.js';
import { replaceParams } from '../router.js';
import { ErrorBox, useApi } from '../components/common.jsx';
import { fmtTime } from '../util.js';

export function hostSide(m) {
  const ports = m.host_port === m.host_port_end ? `${m.host_port}` : `${m.host_port}-${m.host_port_end}`;
  return `${m.host_address || '*'}:${ports}`;
}

export function target(m) {
  const last = m.port + (m.host_port_end - m.host_port);
  const ports = last === m.port ? `${m.port}` : `${m.port}-${last}`;
  if (!m.address) return `(binding gone):${ports}`;
  return m.family === 'ipv6' ? `[${m.address}]:${ports}` : `${m.address}:${ports}`;
}

/** The mappings table, shared with the binding page. */
export function PortMapTable({ items, showBinding = true }) {
  return (
    <table class="data" data-testid="portmap-table">
      <thead>
        <tr>
          <th>Node</th>
          <th>Proto</th>
          <th>Host</th>
          <th>Forwards to</th>
          {showBinding ? <th>Binding</th> : null}
          <th>Created</th>
        </tr>
      </thead>
      <tbody>
        {items.map((m) => (
          <tr data-testid="portmap-row" data-portmap={m.id} title={m.id}>
            <td>{m.node}</td>
            <td>{m.protocol}</td>
            <td class="mono nowrap">{hostSide(m)}</td>
            <td class="mono nowrap">{target(m)}</td>
            {showBinding ? (
              <td>
                <a href={`#/bindings/${encodeURIComponent(m.binding_id)}`}>{m.instance || `binding ${m.binding_id}`}</a>
              </td>
            ) : null}
            <td class="nowrap">
              {fmtTime(m.created_at)} · {m.created_by}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function PortMaps({ params }) {
  const [node, setNode] = useState(params.get('node') || '');
  const maps = useApi(`/v1/portmaps${query({ node })}`, { keepPrevious: true });
  const ranges = useApi('/v1/portranges');
  const items = maps.data?.items || [];
  const onNode = (e) => {
    setNode(e.currentTarget.value);
    replaceParams('/portmaps', { node: e.currentTarget.value });
  };
  return (
    <div data-testid="portmaps-view">
      <div class="page-head">
        <h1>Port maps</h1>
        <span class="sub">host ports forwarded to bindings by the node's agent</span>
      </div>
      <section class="panel" aria-labelledby="portmaps-title">
        <h2 id="portmaps-title">Mappings</h2>
        <label>
          Node{' '}
          <input type="search" value={node} onInput={onNode} placeholder="every node" data-testid="portmap-node" aria-label="Node" />
        </label>
        <ErrorBox error={maps.error} what="the port mappings" />
        {maps.data && !items.length ? <div class="empty">No port mappings{node ? ` on ${node}` : ''}.</div> : null}
        {items.length ? <PortMapTable items={items} /> : null}
        <div class="muted" data-testid="portmap-count" data-count={maps.loading ? '' : items.length}>
          {maps.loading ? 'Loading…' : `${items.length} mapping${items.length === 1 ? '' : 's'}`}
        </div>
      </section>
      <section class="panel" aria-labelledby="ranges-title">
        <h2 id="ranges-title">Ranges for automatic host ports</h2>
        <ErrorBox error={ranges.error} what="the port ranges" />
        {ranges.data ? (
          <table class="data" data-testid="portrange-table">
            <tbody>
              {(ranges.data.items || []).map((r) => (
                <tr>
                  <td>{r.node}</td>
                  <td class="mono">
                    {r.first}-{r.last}
                  </td>
                  <td class="mono muted">{r.reserved?.length ? `reserved ${r.reserved.join(', ')}` : ''}</td>
                </tr>
              ))}
              <tr>
                <td class="muted">every other node</td>
                <td class="mono">
                  {ranges.data.default.first}-{ranges.data.default.last}
                </td>
                <td />
              </tr>
            </tbody>
          </table>
        ) : null}
      </section>
    </div>
  );
}
