// The dashboard page: draws the server's state and follows it over Server-Sent Events.
// On every (re)connection the server sends everything it has, charts' history included, so
// a reload or a restart of the page shows the same state.
(() => {
  const charts = new Map(); // history key -> { plot, data }
  let lastMessageAt = 0;
  let live = false;

  const el = (tag, attrs = {}, text) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const num = (n) => (Number.isInteger(n) ? n.toLocaleString('en-US') : n.toFixed(2));
  const setField = (root, field, value) => {
    const node = root.querySelector(`[data-field="${CSS.escape(field)}"]`);
    if (node && node.textContent !== String(value)) node.textContent = String(value);
    return node;
  };
  const stat = (label, field) => {
    const box = el('div', { class: 'stat' });
    box.append(el('div', { class: 'label' }, label), el('div', { class: 'value', 'data-field': field }, '0'));
    return box;
  };

  function setConnection(state, text) {
    const node = document.getElementById('connection');
    node.dataset.state = state;
    node.textContent = text;
    live = state === 'live';
  }

  function summary(calls, activeAgents) {
    const root = document.getElementById('summary');
    if (!root.firstChild) {
      for (const [label, field] of [
        ['LLM calls', 'calls'],
        ['429s seen', 'rate-limited'],
        ['retries', 'retries'],
        ['failed calls', 'failures'],
        ['circuit', 'circuit'],
        ['input tokens', 'input-tokens'],
        ['output tokens', 'output-tokens'],
        ['active agents', 'summary-active-agents'],
      ])
        root.append(stat(label, field));
    }
    setField(root, 'calls', num(calls.calls));
    setField(root, 'rate-limited', num(calls.rateLimited)).parentElement.classList.toggle(
      'bad',
      calls.rateLimited > 0,
    );
    setField(root, 'retries', num(calls.retries));
    setField(root, 'failures', num(calls.failures));
    setField(root, 'circuit', calls.circuit).parentElement.classList.toggle(
      'bad',
      calls.circuit !== 'closed',
    );
    setField(root, 'input-tokens', num(calls.inputTokens));
    setField(root, 'output-tokens', num(calls.outputTokens));
    setField(root, 'summary-active-agents', num(activeAgents));
  }

  function fleet(f) {
    const root = document.getElementById('fleet');
    if (!f) return;
    if (!root.firstChild) {
      const card = el('div', { class: 'card', 'data-fleet': f.name });
      card.append(el('h3', {}, `Fleet ${f.name}`), el('div', { class: 'row' }));
      const row = card.querySelector('.row');
      for (const [label, field] of [
        ['tasks finished', 'fleet-finished'],
        ['tasks', 'fleet-tasks'],
        ['succeeded', 'fleet-succeeded'],
        ['failed', 'fleet-failed'],
        ['tokens spent', 'fleet-tokens'],
        ['token cap', 'fleet-max-tokens'],
        ['cost spent ($)', 'fleet-cost'],
        ['cost cap ($)', 'fleet-max-cost'],
        ['stopped', 'fleet-stop'],
      ])
        row.append(stat(label, field));
      const bar = el('div', { class: 'bar', title: 'budget spent' });
      bar.append(el('div', { 'data-field': 'fleet-budget-bar', style: 'width:0%' }));
      card.append(bar);
      root.append(card);
    }
    setField(root, 'fleet-finished', num(f.finished));
    setField(root, 'fleet-tasks', f.tasks === null ? '—' : num(f.tasks));
    setField(root, 'fleet-succeeded', num(f.succeeded));
    setField(root, 'fleet-failed', num(f.failed));
    setField(root, 'fleet-tokens', num(f.tokens));
    setField(root, 'fleet-max-tokens', f.maxTokens === null ? 'none' : num(f.maxTokens));
    setField(root, 'fleet-cost', f.cost.toFixed(4));
    setField(root, 'fleet-max-cost', f.maxCost === null ? 'none' : f.maxCost.toFixed(4));
    setField(root, 'fleet-stop', f.stopReason ?? 'running');
    const share = Math.max(
      f.maxTokens ? f.tokens / f.maxTokens : 0,
      f.maxCost ? f.cost / f.maxCost : 0,
      f.tasks ? f.finished / f.tasks : 0,
    );
    root.querySelector('[data-field="fleet-budget-bar"]').style.width =
      `${Math.min(100, share * 100).toFixed(1)}%`;
  }

  function chartFor(key, container, title) {
    let chart = charts.get(key);
    if (chart) return chart;
    const data = [[], [], []];
    const plot = new uPlot(
      {
        title,
        width: 340,
        height: 150,
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        series: [
          {},
          { label: 'used', stroke: '#58a6ff', fill: 'rgba(88,166,255,0.15)' },
          { label: 'limit', stroke: '#f85149', dash: [6, 4] },
        ],
        axes: [{ stroke: '#8b98a5' }, { stroke: '#8b98a5' }],
      },
      data,
      container,
    );
    chart = { plot, data };
    charts.set(key, chart);
    return chart;
  }

  function limitBox(card, governor, limit) {
    let box = card.querySelector(`[data-limit="${CSS.escape(limit.name)}"]`);
    if (box) return box;
    box = el('div', { class: 'limit', 'data-limit': limit.name });
    const nums = el('div', { class: 'nums' });
    nums.append(
      el('strong', {}, `${limit.name} `),
      el('span', { 'data-field': `remaining:${limit.name}` }),
      ' left of ',
      el('span', { 'data-field': `limit:${limit.name}` }),
      ' (used ',
      el('span', { 'data-field': `used:${limit.name}` }),
      ') ',
      el('span', { class: 'badge reached', 'data-field': `reached:${limit.name}` }),
    );
    const plotBox = el('div');
    box.append(nums, plotBox);
    card.querySelector('.limits').append(box);
    chartFor(
      `${governor}\u0001${limit.name}`,
      plotBox,
      `${limit.resource} per ${+(limit.windowMs / 1000).toFixed(1)} s`,
    );
    return box;
  }

  function governorCard(g) {
    const root = document.getElementById('governors');
    let card = root.querySelector(`[data-governor="${CSS.escape(g.name)}"]`);
    if (card) return card;
    card = el('div', { class: 'card', 'data-governor': g.name });
    const meta = el('div', { class: 'meta' });
    meta.append(
      'mode ',
      el('span', { 'data-field': 'mode' }),
      ' · active ',
      el('span', { 'data-field': 'active' }),
      ' · queued ',
      el('span', { 'data-field': 'queued' }),
      ' · admitted ',
      el('span', { 'data-field': 'admissions' }),
      ' · rejected ',
      el('span', { 'data-field': 'rejections' }),
      ' · cooldowns ',
      el('span', { 'data-field': 'cooldowns' }),
      ' · wait mean ',
      el('span', { 'data-field': 'mean-wait' }),
      ' max ',
      el('span', { 'data-field': 'max-wait' }),
      ' ',
      el('span', { class: 'badge cooldown', 'data-field': 'cooldown' }),
    );
    card.append(el('h3', {}, g.name), meta, el('div', { class: 'limits' }));
    root.append(card);
    return card;
  }

  function governor(g) {
    const card = governorCard(g);
    setField(card, 'mode', g.disposed ? `${g.mode} (disposed)` : g.mode);
    setField(
      card,
      'active',
      g.maxTasks === null ? num(g.activeTasks) : `${num(g.activeTasks)}/${num(g.maxTasks)}`,
    );
    setField(card, 'queued', num(g.queued));
    setField(card, 'admissions', num(g.admissions));
    setField(card, 'rejections', num(g.rejections));
    setField(card, 'cooldowns', num(g.cooldowns));
    setField(card, 'mean-wait', `${Math.round(g.meanWaitMs)} ms`);
    setField(card, 'max-wait', `${Math.round(g.maxWaitMs)} ms`);
    const cooldown = setField(
      card,
      'cooldown',
      g.cooldownMs > 0 ? `cooldown ${(g.cooldownMs / 1000).toFixed(1)} s` : '',
    );
    cooldown.dataset.active = String(g.cooldownMs > 0);
    for (const l of g.limits) {
      const box = limitBox(card, g.name, l);
      setField(box, `remaining:${l.name}`, num(l.remaining));
      setField(box, `limit:${l.name}`, num(l.limit));
      setField(box, `used:${l.name}`, num(l.used));
      setField(box, `reached:${l.name}`, l.remaining === 0 ? 'limit reached' : '');
    }
  }

  function agents(rows, active) {
    setField(document, 'active-agents', num(active));
    const body = document.getElementById('agent-rows');
    body.replaceChildren(
      ...rows.slice(0, 50).map((a) => {
        const tr = el('tr', { 'data-agent': a.agentId });
        tr.append(el('td', {}, a.agentId), el('td', {}, a.taskId), el('td', {}, a.role));
        tr.append(el('td', { 'data-status': a.status }, a.status));
        tr.append(el('td', {}, num(a.llmCalls)), el('td', {}, num(a.toolCalls)), el('td', {}, num(a.tokens)));
        return tr;
      }),
    );
  }

  function render(state) {
    document.getElementById('title').textContent = `${state.title} · pid ${state.pid}`;
    document.title = `${state.title} dashboard`;
    summary(state.calls, state.activeAgents);
    fleet(state.fleet);
    for (const g of state.governors) governor(g);
    agents(state.agents, state.activeAgents);
    document.getElementById('clock').textContent = new Date(state.now).toLocaleTimeString();
  }

  function restoreHistory(history) {
    for (const [key, points] of Object.entries(history ?? {})) {
      const chart = charts.get(key);
      if (!chart) continue;
      chart.data = [points.map((p) => p[0]), points.map((p) => p[1]), points.map((p) => p[2])];
      chart.plot.setData(chart.data);
      chart.plot.root.dataset.points = String(chart.data[0].length);
    }
  }

  function appendSample(sample) {
    if (!sample) return;
    for (const [key, p] of Object.entries(sample.points)) {
      const chart = charts.get(key);
      if (!chart) continue;
      chart.data[0].push(p[0]);
      chart.data[1].push(p[1]);
      chart.data[2].push(p[2]);
      const keep = 1200;
      if (chart.data[0].length > keep)
        for (const series of chart.data) series.splice(0, series.length - keep);
      chart.plot.setData(chart.data);
      chart.plot.root.dataset.points = String(chart.data[0].length);
    }
  }

  function connect() {
    const source = new EventSource('events');
    source.addEventListener('hello', (e) => {
      lastMessageAt = Date.now();
      const state = JSON.parse(e.data);
      render(state); // creates the charts
      restoreHistory(state.history);
      setConnection('live', 'live');
    });
    source.addEventListener('state', (e) => {
      lastMessageAt = Date.now();
      const state = JSON.parse(e.data);
      render(state);
      appendSample(state.sample);
      if (!live) setConnection('live', 'live');
    });
    source.addEventListener('message', () => {
      lastMessageAt = Date.now();
    });
    source.onerror = () => goneSince(lastMessageAt);
  }

  function goneSince(at) {
    const when = at ? new Date(at).toLocaleTimeString() : 'the start';
    setConnection('gone', `process gone: no updates since ${when}; retrying`);
  }

  // A process that hangs sends nothing, not even the heartbeat (every 2 s).
  setInterval(() => {
    if (live && Date.now() - lastMessageAt > 5_000) goneSince(lastMessageAt);
  }, 1_000);
  connect();
})();
