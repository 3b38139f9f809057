/*
 * The agent pages' Eta templates (rendered inside templates.ts's LAYOUT). `<%= %>` escapes everything.
 */

const FILTERS = `<form class="filters" method="get" action="<%= it.action %>">
<label>Company <input name="company" value="<%= it.q.company ?? '' %>"></label>
<label>From <input type="datetime-local" name="from" value="<%= it.q.from ?? '' %>"></label>
<label>To <input type="datetime-local" name="to" value="<%= it.q.to ?? '' %>"></label>
<button>Compare</button></form>
<% if (it.error) { %><p class="error"><%= it.error %></p><% } %>`;

const RULE = `<p class="rule">Each version is compared with the one before it. A difference is flagged only beyond noise:
success and error rates by a two-proportion z-test at 95% (|z| ≥ 1.96), the median e2e latency when the two
versions' 95% intervals of the median do not overlap; both need at least <%= it.minSample %> calls per version
(the n shown). Smaller differences are not flagged.</p>`;

export const AGENTS = `${FILTERS}
<table class="agents"><thead><tr><th>Agent</th><th>Version</th><th>Calls</th><th>Success</th><th>Median e2e p50</th><th>Errors</th><th>Cost / min</th><th>Beyond noise vs previous</th></tr></thead><tbody>
<% for (const a of it.agents) { %><% for (const [i, v] of a.versions.entries()) { %><tr>
<% if (i === 0) { %><td rowspan="<%= a.versions.length %>"><a href="<%= a.href %>"><%= a.agent_id %></a></td><% } %>
<td><a href="<%= v.callsHref %>">v<%= v.agent_version %></a></td><td><%= v.calls %></td><td><%= v.success %></td><td><%= v.e2e %></td><td><%= v.errors %></td><td><%= v.cost %></td>
<td><% for (const f of v.flags) { %><span class="flag flag-<%= f.verdict %>"><%= f.label %></span> <% } %></td></tr><% } %><% } %>
<% if (it.agents.length === 0) { %><tr><td colspan="8">No calls with an agent version match.</td></tr><% } %>
</tbody></table>
${RULE}`;

export const AGENT = `${FILTERS}
<% if (it.versions.length === 0) { %><p>No calls of <%= it.agentId %> match.</p><% } else { %>
<table class="versions"><thead><tr><th></th><% for (const v of it.versions) { %><th>v<%= v.agent_version %><br><a href="<%= v.callsHref %>">its calls</a></th><% } %></tr></thead><tbody>
<% for (const row of it.rows) { %><tr><th scope="row"><%= row.label %></th><% for (const c of row.cells) { %><td class="<%= c.flag ? 'flag-' + c.flag.verdict : '' %>"><%= c.text %><% if (c.flag) { %> <span class="flag flag-<%= c.flag.verdict %>" title="<%= c.flag.evidence %>"><%= c.flag.verdict %>: <%= c.flag.evidence %></span><% } %></td><% } %></tr><% } %>
</tbody></table>
${RULE}
<h2>Functions</h2>
<table class="functions"><thead><tr><th>Version</th><th>Function</th><th>Invocations</th><th>Failure rate (n)</th><th>p90 duration</th></tr></thead><tbody>
<% for (const f of it.functions) { %><tr><td>v<%= f.agent_version %></td><td><%= f.name %></td><td><%= f.invocations %></td><td><%= f.failure %></td><td><%= f.p90 %></td></tr><% } %>
<% if (it.functions.length === 0) { %><tr><td colspan="5">No function calls.</td></tr><% } %>
</tbody></table>
<section class="chart"><h2>Success rate per version and day</h2><div id="success-chart" class="plot" data-src="<%= it.chartSrc %>"></div></section>
<section class="chart"><h2>Median e2e p50 latency (ms) per version and day</h2><div id="latency-chart" class="plot"></div></section>
<link rel="stylesheet" href="/console/assets/uPlot.min.css">
<script src="/console/assets/uPlot.iife.min.js"></script><script src="/console/assets/agents.js"></script><% } %>`;
