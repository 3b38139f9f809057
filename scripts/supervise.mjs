#!/usr/bin/env node
// Runs callsync's processes in the foreground with prefixed output, for `make up`.
// Ctrl-C (SIGINT) or SIGTERM asks each process once to stop gracefully and waits for it.
// If one process dies on its own, the others are stopped and this exits non-zero.
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import runtime from '../packages/runtime/dist/index.js';

// `background`: not on a live call's path, so run at a lower CPU priority (runtime's BACKGROUND_NICE):
// under webhook load the live process gets the CPUs first (docs/during-the-call.md, "Isolation").
const processes = [
  { name: 'ingress', color: 36, args: [...runtime.INGRESS_NODE_FLAGS, 'apps/ingress/dist/main.js'], background: true },
  // Inbound answers, custom functions and the context API, away from webhook load (docs/during-the-call.md).
  { name: 'live   ', color: 34, args: ['apps/ingress/dist/live-main.js'] },
  { name: 'worker ', color: 35, args: ['apps/worker/dist/main.js'], background: true },
  { name: 'admin  ', color: 32, args: ['apps/dashboard/dist/main.js'], background: true },
];
if (process.env.CALLSYNC_FAKE_RETELL === '1') {
  processes.push({
    name: 'retell ',
    color: 33,
    args: ['apps/cli/dist/main.js', 'fake-retell', `--port=${process.env.FAKE_RETELL_PORT}`],
  });
}

let stopping = false;
let exitCode = 0;
const running = new Map();

function stopAll(reason) {
  if (stopping) return;
  stopping = true;
  console.log(`\x1b[2m[up] ${reason}: stopping ${[...running.keys()].join(', ').replace(/ +/g, '')}...\x1b[0m`);
  for (const child of running.values()) child.kill('SIGTERM');
}

for (const p of processes) {
  // Own process group: the terminal's Ctrl-C reaches only this supervisor, which then
  // sends exactly one SIGTERM (a second signal means "exit now" to our processes).
  const child = spawn(process.execPath, p.args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: process.env,
  });
  // (No pid: the spawn failed; runInBackground() without one would lower the supervisor itself.)
  if (p.background && child.pid !== undefined) runtime.runInBackground(child.pid);
  running.set(p.name, child);
  for (const stream of [child.stdout, child.stderr]) {
    readline
      .createInterface({ input: stream })
      .on('line', (line) => console.log(`\x1b[${p.color}m${p.name}|\x1b[0m ${line}`));
  }
  child.on('exit', (code, signal) => {
    running.delete(p.name);
    if (!stopping) {
      exitCode = 1;
      stopAll(`${p.name.trim()} exited unexpectedly (${signal ?? `code ${code}`})`);
    } else if (code !== 0 && signal !== 'SIGTERM') {
      // Ended by our own SIGTERM (signal set) means it was still loading and had nothing to finish.
      exitCode = 1;
      console.log(`[up] ${p.name.trim()} exited with ${signal ?? `code ${code}`}`);
    }
    if (running.size === 0) process.exit(exitCode);
  });
}

process.on('SIGINT', () => stopAll('Ctrl-C'));
process.on('SIGTERM', () => stopAll('SIGTERM'));
