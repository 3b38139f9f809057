/* global document, uPlot */
// The agent page's charts: one series per version, points per day (gaps where a version had no calls).
(async () => {
  const el0 = document.getElementById('success-chart');
  const data = await (await fetch(el0.dataset.src)).json();
  const palette = ['#2f5bea', '#b00020', '#1a7f37', '#9a6700', '#8250df', '#0a7ea4'];
  function draw(id, key, unit) {
    const el = document.getElementById(id);
    new uPlot(
      {
        width: el.clientWidth || 1100,
        height: 240,
        scales: { x: { time: true } },
        axes: [{}, { size: 72, values: (u, vals) => vals.map((v) => (v == null ? '' : v + unit)) }],
        series: [
          {},
          ...data.versions.map((v, i) => ({
            label: 'v' + v.version,
            stroke: palette[i % palette.length],
            width: 2,
            spanGaps: false,
            points: { show: true },
          })),
        ],
      },
      [data.x, ...data.versions.map((v) => v[key])],
      el,
    );
    el.dataset.rendered = String(data.x.length);
  }
  draw('success-chart', 'success', ' %');
  draw('latency-chart', 'e2e', ' ms');
})();
