/* global document, uPlot */
// The charts page's script, served from the package (never a CDN); it reads /console/charts.json.
(async () => {
  const data = await (await fetch('/console/charts.json')).json();
  const palette = ['#2f5bea', '#b00020', '#1a7f37', '#9a6700', '#8250df', '#0a7ea4', '#bf3989'];
  function draw(id, x, series, range, opts) {
    const el = document.getElementById(id);
    const plot = new uPlot(
      {
        width: el.clientWidth || 1100,
        height: 260,
        ...opts,
        scales: { x: { time: true, range: () => range } },
        series: [
          {},
          ...series.map((s, i) => ({
            label: s.label,
            stroke: palette[i % palette.length],
            width: 2,
            fill: opts.bars ? palette[i % palette.length] + '55' : undefined,
            paths: opts.bars ? uPlot.paths.bars({ size: [0.8] }) : undefined,
          })),
        ],
      },
      [x, ...series.map((s) => s.values)],
      el,
    );
    el.dataset.rendered = String(x.length);
    return plot;
  }
  draw('events-chart', data.events.x, data.events.series, data.eventsRange, {});
  draw('calls-chart', data.calls.x, data.calls.series, data.callsRange, { bars: true });
})();
