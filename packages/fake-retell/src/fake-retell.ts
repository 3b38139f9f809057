import type { Server } from 'node:http';
import express from 'express';
import type { Documented, RetellCallListItem, RetellCallObject, RetellChatObject } from '@callsync/retell';
import type { Retell } from 'retell-sdk';

/**
 * A call the fake knows, as get-call returns it: retell-sdk's CallResponse, every field but call_id
 * optional (a test sets what it needs), none that Retell does not have.
 */
export type FakeCall = Documented<RetellCallObject> & { call_id: string };
/** A chat the fake knows, as get-chat returns it (retell-sdk's ChatResponse). */
export type FakeChat = Documented<RetellChatObject> & { chat_id: string };

/** A Retell LLM as get-retell-llm returns it (retell-sdk's LlmResponse): id and the tools a test sets. */
export type FakeLlm = Partial<Retell.LlmResponse> & { llm_id: string };

/** How the fake answers get-call for a call (or for every call, with '*'). */
export interface FakeBehaviour {
  /** Answer this status instead of the call. Omit to answer normally (e.g. only add a delay). */
  status?: number;
  /** `retry-after` header, in seconds. */
  retryAfterSec?: number;
  /** `retry-after-ms` header. */
  retryAfterMs?: number;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Apply to this many requests, then fall back to normal. Default: every request. */
  times?: number;
  /** Extra response headers (e.g. `x-should-retry`), on whatever the answer is. */
  headers?: Record<string, string>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  callId?: string;
  chatId?: string;
  authorized: boolean;
  /** 0 until answered. */
  status: number;
  /** When the request arrived (ms epoch). */
  at: number;
}

export interface FakeRetellOptions {
  /** Accepted bearer keys; empty accepts any. */
  apiKeys?: readonly string[];
  /** Status for an unknown call id. Default 422, as Retell answers ("Cannot find requested asset"). */
  notFoundStatus?: 404 | 422;
  /**
   * At most this many API requests in any second; beyond it the answer is 429 with `retry-after-ms`
   * saying when the next one is allowed, as a rate-limited API does. Default: no limit.
   */
  rateLimitPerSecond?: number;
}

/**
 * A call as v3 list-calls lists it (retell-sdk `CallListResponse` items): without `transcript`,
 * `transcript_object`, `transcript_with_tool_calls` and `scrubbed_transcript_with_tool_calls`. Chats
 * are listed whole (`ChatListResponse.Item` is a `ChatResponse`).
 */
export function listedCall(call: FakeCall): Documented<RetellCallListItem> & { call_id: string } {
  const {
    transcript: _t,
    transcript_object: _o,
    transcript_with_tool_calls: _w,
    scrubbed_transcript_with_tool_calls: _s,
    ...item
  } = call;
  return item;
}

/**
 * A real HTTP server that plays Retell's API: `GET /v2/get-call/:id`, `DELETE /v2/delete-call/:id` and
 * `GET /get-chat/:id` from
 * tables of calls and chats, with
 * scripted failures, and a record of every request. Tests drive it in-process; other processes
 * drive it over HTTP under `/__fake/`.
 */
export class FakeRetell {
  readonly calls = new Map<string, FakeCall>();
  readonly chats = new Map<string, FakeChat>();
  readonly agents = new Map<string, Record<string, unknown>>();
  readonly phoneNumbers = new Map<string, Record<string, unknown>>();
  /** Retell LLMs (retell-sdk's LlmResponse) by llm_id: get-retell-llm and update-retell-llm. */
  readonly llms = new Map<string, FakeLlm>();
  readonly requests: RecordedRequest[] = [];
  /** Most get-call requests ever in flight at once (to check a client's concurrency bound). */
  maxInFlight = 0;
  private inFlight = 0;
  /** API requests answered 429 by the rate limit. */
  throttled = 0;
  private readonly behaviours = new Map<string, FakeBehaviour & { used: number }>();
  /** When the requests of the last second arrived (ms epoch), oldest first: the rate limit's window. */
  private readonly window: number[] = [];
  private server?: Server;
  readonly app = express();

  constructor(private readonly options: FakeRetellOptions = {}) {
    if (options.rateLimitPerSecond !== undefined) {
      const limit = options.rateLimitPerSecond;
      this.app.use((req, res, next) => {
        if (req.path.startsWith('/__fake/')) return next();
        const now = Date.now();
        while (this.window.length && this.window[0]! <= now - 1000) this.window.shift();
        if (this.window.length < limit) {
          this.window.push(now);
          return next();
        }
        this.throttled += 1;
        res.set('retry-after-ms', String(this.window[0]! + 1000 - now));
        res.status(429).json({ error_message: `rate limit: ${limit} requests per second` });
      });
    }
    this.app.use(express.json({ limit: '10mb' }));
    this.app.get('/v2/get-call/:callId', (req, res) => {
      this.inFlight += 1;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      res.on('close', () => (this.inFlight -= 1));
      void this.answer('call', req.params.callId, req.get('authorization'), res, req.path);
    });
    this.app.delete('/v2/delete-call/:callId', (req, res) => {
      const authorized = this.authorize(req.get('authorization'));
      const entry: RecordedRequest = {
        method: 'DELETE',
        path: req.path,
        callId: req.params.callId,
        authorized,
        status: 0,
        at: Date.now(),
      };
      this.requests.push(entry);
      if (!authorized) {
        entry.status = 401;
        res.status(401).json({ error_message: 'Unauthorized' });
        return;
      }
      const known = this.calls.delete(req.params.callId);
      entry.status = known ? 204 : (this.options.notFoundStatus ?? 422);
      if (known) res.status(204).end();
      else res.status(entry.status).json({ error_message: 'Cannot find requested asset under given api key.' });
    });
    this.app.get('/get-chat/:chatId', (req, res) => {
      void this.answer('chat', req.params.chatId, req.get('authorization'), res, req.path);
    });
    this.app.post('/v2/list-agents', (req, res) => {
      void this.list('list-agents', [...this.agents.values()], req, res);
    });
    this.app.post('/v3/list-calls', (req, res) => {
      void this.list('list-calls', this.startedIn([...this.calls.values()], req.body).map(listedCall), req, res);
    });
    this.app.post('/v3/list-chats', (req, res) => {
      void this.list('list-chats', this.startedIn([...this.chats.values()], req.body), req, res);
    });
    this.app.get('/v2/list-phone-numbers', (req, res) => {
      void this.list('list-phone-numbers', [...this.phoneNumbers.values()], req, res);
    });
    this.app.get('/get-retell-llm/:llmId', (req, res) => {
      this.llmRequest(req, res, () => this.llms.get(req.params.llmId));
    });
    // Retell's update: the fields sent replace the stored ones (general_tools as a whole).
    this.app.patch('/update-retell-llm/:llmId', (req, res) => {
      this.llmRequest(req, res, () => {
        const llm = this.llms.get(req.params.llmId);
        if (!llm) return undefined;
        const updated: FakeLlm = {
          ...llm,
          ...(req.body as Partial<FakeLlm>),
          llm_id: llm.llm_id,
          version: (llm.version ?? 0) + 1,
          last_modification_timestamp: Date.now(),
        };
        this.llms.set(llm.llm_id, updated);
        return updated;
      });
    });
    this.app.put('/__fake/agents/:agentId', (req, res) => {
      this.agents.set(req.params.agentId, { ...req.body, agent_id: req.params.agentId });
      res.status(204).end();
    });
    this.app.put('/__fake/phone-numbers/:number', (req, res) => {
      this.phoneNumbers.set(req.params.number, { ...req.body, phone_number: req.params.number });
      res.status(204).end();
    });
    this.app.put('/__fake/chats/:chatId', (req, res) => {
      this.setChat({ ...(req.body as FakeChat), chat_id: req.params.chatId });
      res.status(204).end();
    });
    this.app.put('/__fake/calls/:callId', (req, res) => {
      this.setCall({ ...(req.body as FakeCall), call_id: req.params.callId });
      res.status(204).end();
    });
    this.app.delete('/__fake/calls/:callId', (req, res) => {
      this.calls.delete(req.params.callId);
      res.status(204).end();
    });
    this.app.put('/__fake/behaviours/:callId', (req, res) => {
      this.behave(req.params.callId, req.body as FakeBehaviour);
      res.status(204).end();
    });
    this.app.get('/__fake/requests', (_req, res) => {
      res.json(this.requests);
    });
    this.app.post('/__fake/reset', (_req, res) => {
      this.reset();
      res.status(204).end();
    });
    this.app.get('/__fake/health', (_req, res) => {
      res.json({ fake: 'retell', calls: this.calls.size });
    });
  }

  setCall(call: FakeCall): void {
    this.calls.set(call.call_id, call);
  }

  setLlm(llm: FakeLlm): void {
    this.llms.set(llm.llm_id, llm);
  }

  /** An LLM endpoint: recorded, authorized, 404 for an unknown id (behaviours keyed 'llm'). */
  private llmRequest(req: express.Request, res: express.Response, answer: () => FakeLlm | undefined): void {
    const authorized = this.authorize(req.get('authorization'));
    const entry: RecordedRequest = { method: req.method, path: req.path, authorized, status: 0, at: Date.now() };
    this.requests.push(entry);
    if (!authorized) {
      entry.status = 401;
      res.status(401).json({ error_message: 'Unauthorized' });
      return;
    }
    const b = this.takeBehaviour('llm');
    if (b?.status) {
      entry.status = b.status;
      res.status(b.status).json({ error_message: `fake Retell answering ${b.status}` });
      return;
    }
    const llm = answer();
    entry.status = llm ? 200 : 404;
    if (llm) res.json(llm);
    else res.status(404).json({ error_message: 'Not Found' });
  }

  setChat(chat: FakeChat): void {
    this.chats.set(chat.chat_id, chat);
  }

  behave(callId: string | '*', behaviour: FakeBehaviour): void {
    this.behaviours.set(callId, { ...behaviour, used: 0 });
  }

  reset(): void {
    this.calls.clear();
    this.chats.clear();
    this.agents.clear();
    this.phoneNumbers.clear();
    this.llms.clear();
    this.requests.length = 0;
    this.behaviours.clear();
    this.maxInFlight = 0;
  }

  getCallRequests(callId?: string): RecordedRequest[] {
    return this.requests.filter((r) => r.callId !== undefined && (callId === undefined || r.callId === callId));
  }

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server = this.app.listen(port, host, () => resolve());
      this.server.once('error', reject);
    });
    const address = this.server!.address() as { port: number };
    return `http://${host}:${address.port}`;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private takeBehaviour(callId: string): FakeBehaviour | undefined {
    for (const key of [callId, '*']) {
      const b = this.behaviours.get(key);
      if (b && (b.times === undefined || b.used < b.times)) {
        b.used += 1;
        return b;
      }
    }
    return undefined;
  }

  /**
   * list-calls / list-chats: the items whose start_timestamp passes the body's filter (a number filter
   * with op ge/gt/le/lt, or a range with op bt), oldest first.
   */
  private startedIn<T extends FakeCall | FakeChat>(items: T[], body: unknown): T[] {
    const f = (body as { filter_criteria?: { start_timestamp?: { op?: string; value?: unknown } } } | undefined)
      ?.filter_criteria?.start_timestamp;
    const passes = (t: number) => {
      if (!f) return true;
      const v = f.value;
      if (f.op === 'bt' && Array.isArray(v)) return t >= Number(v[0]) && t <= Number(v[1]);
      if (f.op === 'ge') return t >= Number(v);
      if (f.op === 'gt') return t > Number(v);
      if (f.op === 'le') return t <= Number(v);
      if (f.op === 'lt') return t < Number(v);
      return true;
    };
    return items
      .filter((i) => typeof i.start_timestamp === 'number' && passes(i.start_timestamp))
      .sort((a, b) => (a.start_timestamp as number) - (b.start_timestamp as number))
      .map((item) => ({ ...item }));
  }

  private authorize(authorization: string | undefined): boolean {
    const keys = this.options.apiKeys ?? [];
    return keys.length === 0 || keys.some((k) => authorization === `Bearer ${k}`);
  }

  /**
   * A list endpoint: \`{items, has_more, pagination_key}\`, pages of \`limit\` (default 1000) items, the
   * key being the next offset. Behaviours are keyed by the endpoint's name (e.g. 'list-agents').
   */
  private async list(name: string, items: unknown[], req: express.Request, res: express.Response): Promise<void> {
    const authorized = this.authorize(req.get('authorization'));
    const entry: RecordedRequest = { method: req.method, path: req.originalUrl, authorized, status: 0, at: Date.now() };
    this.requests.push(entry);
    if (!authorized) {
      entry.status = 401;
      res.status(401).json({ error_message: 'Unauthorized' });
      return;
    }
    const b = this.takeBehaviour(name);
    if (b?.delayMs) await new Promise((r) => setTimeout(r, b.delayMs));
    if (b?.headers) res.set(b.headers);
    if (b?.status) {
      if (b.retryAfterSec !== undefined) res.set('retry-after', String(b.retryAfterSec));
      if (b.retryAfterMs !== undefined) res.set('retry-after-ms', String(b.retryAfterMs));
      entry.status = b.status;
      res.status(b.status).json({ error_message: `fake Retell answering ${b.status}` });
      return;
    }
    // v2 lists page through the query, v3 lists through the body.
    const paging = { ...req.query, ...(req.body && typeof req.body === 'object' ? req.body : {}) } as Record<
      string,
      unknown
    >;
    const limit = Math.max(1, Math.min(1000, Number(paging.limit ?? 1000) || 1000));
    const offset = Number(paging.pagination_key ?? 0) || 0;
    const page = items.slice(offset, offset + limit);
    const more = offset + limit < items.length;
    entry.status = 200;
    res.json({ items: page, has_more: more, ...(more ? { pagination_key: String(offset + limit) } : {}) });
  }

  /** get-call or get-chat; behaviours are keyed by the call's or chat's id. */
  private async answer(
    kind: 'call' | 'chat',
    callId: string,
    authorization: string | undefined,
    res: express.Response,
    path: string,
  ): Promise<void> {
    const at = Date.now();
    const keys = this.options.apiKeys ?? [];
    const authorized = keys.length === 0 || keys.some((k) => authorization === `Bearer ${k}`);
    // Recorded on arrival (a client may time out before the answer); the status is filled in when sent.
    const entry: RecordedRequest = {
      method: 'GET',
      path,
      ...(kind === 'call' ? { callId } : { chatId: callId }),
      authorized,
      status: 0,
      at,
    };
    this.requests.push(entry);
    const record = (status: number) => (entry.status = status);
    if (!authorized) {
      record(401);
      res.status(401).json({ error_message: 'Unauthorized' });
      return;
    }
    const b = this.takeBehaviour(callId);
    if (b?.delayMs) await new Promise((r) => setTimeout(r, b.delayMs));
    if (b?.headers) res.set(b.headers);
    if (b?.status) {
      if (b.retryAfterSec !== undefined) res.set('retry-after', String(b.retryAfterSec));
      if (b.retryAfterMs !== undefined) res.set('retry-after-ms', String(b.retryAfterMs));
      record(b.status);
      res.status(b.status).json({ error_message: `fake Retell answering ${b.status}` });
      return;
    }
    const call = (kind === 'call' ? this.calls : this.chats).get(callId);
    if (!call) {
      const status = this.options.notFoundStatus ?? 422;
      record(status);
      res.status(status).json({ error_message: 'Cannot find requested asset under given api key.' });
      return;
    }
    record(200);
    res.json(call);
  }
}
