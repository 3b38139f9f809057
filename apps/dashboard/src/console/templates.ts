/*
 * The console's pages, as Eta templates. `<%= %>` escapes everything; nothing is output raw except
 * the layout's body, which is itself a rendered template. Phone numbers are masked before they get
 * here. Styles and scripts are files (../../assets, served by assets.ts); none comes from a CDN.
 */

export const LAYOUT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title><%= it.title %> · callsync</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/console/assets/console.css"></head>
<body><header><strong>callsync</strong>
<nav><a href="/console/calls">Calls</a><a href="/console/events">Events</a><a href="/console/charts">Charts</a><a href="/console/agents">Agents</a><a href="/admin/queues">Queues</a></nav></header>
<main><h1><%= it.title %></h1><%~ it.body %></main></body></html>`;

export const CALLS = `<form class="filters" method="get" action="/console/calls">
<label>Call or chat id <input name="id" value="<%= it.q.id ?? '' %>"></label>
<label>Company <input name="company" value="<%= it.q.company ?? '' %>"></label>
<label>Status <select name="status"><option value="">any</option>
<% for (const s of ['in_progress', 'ended', 'error', 'not_connected']) { %><option<%= it.q.status === s ? ' selected' : '' %>><%= s %></option><% } %>
<option value="given_up"<%= it.q.status === 'given_up' ? ' selected' : '' %>>given up (in_progress, no longer polled)</option></select></label>
<label>Agent <input name="agent" value="<%= it.q.agent ?? '' %>"></label>
<label>Version <input name="version" inputmode="numeric" value="<%= it.q.version ?? '' %>"></label>
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

export const EVENTS = `<form class="filters" method="get" action="/console/events">
<label>Status <select name="status"><option value="">any</option>
<% for (const s of ['pending', 'processed', 'failed', 'skipped']) { %><option<%= it.q.status === s ? ' selected' : '' %>><%= s %></option><% } %></select></label>
<label>Event <input name="event" value="<%= it.q.event ?? '' %>"></label>
<label>Company <input name="company" value="<%= it.q.company ?? '' %>"></label>
<label>From <input type="datetime-local" name="from" value="<%= it.q.from ?? '' %>"></label>
<label>To <input type="datetime-local" name="to" value="<%= it.q.to ?? '' %>"></label>
<button>Filter</button></form>
<% if (it.error) { %><p class="error"><%= it.error %></p><% } %>
<% if (it.notice) { %><p class="notice"><%= it.notice %></p><% } %>
<% if (it.q.status === 'failed') { %><form method="post" action="/console/events/replay" class="replay-all">
<input type="hidden" name="csrf" value="<%= it.csrf %>">
<% for (const k of ['status', 'event', 'company', 'from', 'to']) { %><input type="hidden" name="<%= k %>" value="<%= it.q[k] ?? '' %>"><% } %>
<button>Replay every event matching this filter</button></form><% } %>
<table><thead><tr><th>Received</th><th>#</th><th>Event</th><th>Call or chat</th><th>Status</th><th>Deliveries</th><th>Attempts</th><th>Error</th><th></th></tr></thead><tbody>
<% for (const e of it.events) { %><tr>
<td><%= e.received %></td><td><%= e.id %></td><td><%= e.event_type %></td>
<td><% if (e.subject) { %><a href="/console/calls/<%= encodeURIComponent(e.subject) %>"><%= e.subject %></a><% } %></td>
<td class="status-<%= e.status %>"><%= e.status %></td><td><%= e.delivery_count %></td><td><%= e.attempts %></td><td><%= e.error ?? '' %></td>
<td><% if (e.status === 'failed') { %><form method="post" action="/console/events/replay"><input type="hidden" name="csrf" value="<%= it.csrf %>"><input type="hidden" name="id" value="<%= e.id %>"><button>Replay</button></form><% } %></td></tr><% } %>
<% if (it.events.length === 0) { %><tr><td colspan="9">No events match.</td></tr><% } %>
</tbody></table>
<% if (it.next) { %><p><a class="next" href="<%= it.next %>">Older events →</a></p><% } %>`;

export const CONFIRM = `<p><%= it.count %> events match this filter. Replay them all?</p>
<form method="post" action="/console/events/replay"><input type="hidden" name="csrf" value="<%= it.csrf %>"><input type="hidden" name="confirm" value="yes">
<% for (const [k, v] of it.fields) { %><input type="hidden" name="<%= k %>" value="<%= v %>"><% } %>
<button>Replay <%= it.count %> events</button> <a href="/console/events">Cancel</a></form>`;

export const CHARTS = `<section class="chart"><h2>Events per minute by status, last 24 hours</h2><div id="events-chart" class="plot"></div></section>
<section class="chart"><h2>Calls per day by outcome, per company, last 14 days</h2><div id="calls-chart" class="plot"></div></section>
<link rel="stylesheet" href="/console/assets/uPlot.min.css">
<script src="/console/assets/uPlot.iife.min.js"></script><script src="/console/assets/charts.js"></script>`;
