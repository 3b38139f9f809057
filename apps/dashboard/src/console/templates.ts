/*
 * The console's pages, as Eta templates. `<%= %>` escapes everything; nothing is output raw except
 * the layout's body, which is itself a rendered template. Phone numbers are masked before they get
 * here. No script or style comes from a CDN.
 */

export const LAYOUT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title><%= it.title %> · callsync</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/console/assets/console.css"></head>
<body><header><strong>callsync</strong>
<nav><a href="/console/calls">Calls</a><a href="/console/events">Events</a><a href="/console/charts">Charts</a><a href="/admin/queues">Queues</a></nav></header>
<main><h1><%= it.title %></h1><%~ it.body %></main></body></html>`;

export const CALLS = `<form class="filters" method="get" action="/console/calls">
<label>Call or chat id <input name="id" value="<%= it.q.id ?? '' %>"></label>
<label>Company <input name="company" value="<%= it.q.company ?? '' %>"></label>
<label>Status <select name="status"><option value="">any</option>
<% for (const s of ['in_progress', 'ended', 'error', 'not_connected']) { %><option<%= it.q.status === s ? ' selected' : '' %>><%= s %></option><% } %></select></label>
<label>Agent <input name="agent" value="<%= it.q.agent ?? '' %>"></label>
<label>Caller ends in <input name="digits" inputmode="numeric" value="<%= it.q.digits ?? '' %>"></label>
<label>From <input type="datetime-local" name="from" value="<%= it.q.from ?? '' %>"></label>
<label>To <input type="datetime-local" name="to" value="<%= it.q.to ?? '' %>"></label>
<button>Search</button></form>
<% if (it.error) { %><p class="error"><%= it.error %></p><% } %>
<table><thead><tr><th>Started</th><th>Call</th><th>Status</th><th>Company</th><th>Agent</th><th>Customer</th><th>Outcome</th></tr></thead><tbody>
<% for (const c of it.calls) { %><tr>
<td><%= c.started %></td><td><a href="/console/calls/<%= encodeURIComponent(c.call_id) %>"><%= c.call_id %></a></td>
<td class="status-<%= c.call_status %>"><%= c.call_status %></td><td><%= c.company %></td><td><%= c.agent_id ?? '' %></td>
<td><%= c.customer %></td><td><%= c.outcome %></td></tr><% } %>
<% if (it.calls.length === 0) { %><tr><td colspan="7">No calls match.</td></tr><% } %>
</tbody></table>
<% if (it.next) { %><p><a class="next" href="<%= it.next %>">Older calls →</a></p><% } %>`;

export const TIMELINE = `<% if (!it.session) { %><p>No session for <%= it.id %> yet.</p><% } else { %>
<dl class="session"><% for (const [k, v] of it.facts) { %><dt><%= k %></dt><dd><%= v %></dd><% } %></dl><% } %>
<h2>Timeline</h2>
<table class="timeline"><thead><tr><th>When</th><th>What</th><th>Status</th><th>Details</th></tr></thead><tbody>
<% for (const e of it.timeline) { %><tr class="kind-<%= e.kind %>"><td><%= e.at %></td><td><%= e.what %></td><td><%= e.status %></td><td><%= e.details %></td></tr><% } %>
</tbody></table>
<h2>Payloads</h2>
<% for (const p of it.payloads) { %><details><summary>#<%= p.id %> <%= p.event %></summary><pre><%= p.json %></pre></details><% } %>`;
