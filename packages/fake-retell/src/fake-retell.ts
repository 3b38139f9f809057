import type { Server } from 'node:http';
import express from 'express';
import type { Documented, RetellCallObject, RetellChatObject } from '@callsync/retell';
import type { Retell } from 'retell-sdk';
import { actOut, Behaviours, type FakeBehaviour } from './behaviours';
import { listedCall, pageOf, startedIn } from './listing';

export type { FakeBehaviour };

/**
 * A call the fake knows, as get-call returns it: retell-sdk's CallResponse, every field but call_id
 * optional (a test sets what it needs), none that Retell does not have.
 */
export type FakeCall = Documented<RetellCallObject> & { call_id: string };
/** A chat the fake knows, as get-chat returns it (retell-sdk's ChatResponse). */
export type FakeChat = Documented<RetellChatObject> & { chat_id: string };

/** A Retell LLM as get-retell-llm returns it (retell-sdk's LlmResponse): id and the tools a test sets. */
export type FakeLlm = Partial<Retell.LlmResponse> & { llm_id: string };

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
  private readonly behaviours = new Behaviours();
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
      void this.answer('call', req.params.callId, req, res);
    });
    this.app.delete('/v2/delete-call/:callId', (req, res) => {
      const entry = this.admit(req, res, { callId: req.params.callId });
      if (!entry) return;
      const known = this.calls.delete(req.params.callId);
      entry.status = known ? 204 : (this.options.notFoundStatus ?? 422);
      if (known) res.status(204).end();
      else res.status(entry.status).json({ error_message: 'Cannot find requested asset under given api key.' });
    });
    this.app.get('/get-chat/:chatId', (req, res) => {
      void this.answer('chat', req.params.chatId, req, res);
    });
    this.app.post('/v2/list-agents', (req, res) => {
      void this.list('list-agents', [...this.agents.values()], req, res);
    });
    this.app.post('/v3/list-calls', (req, res) => {
      void this.list('list-calls', startedIn([...this.calls.values()], req.body).map(listedCall), req, res);
    });
    this.app.post('/v3/list-chats', (req, res) => {
      void this.list('list-chats', startedIn([...this.chats.values()], req.body), req, res);
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
    const entry = this.admit(req, res);
    if (!entry) return;
    const b = this.behaviours.take('llm');
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
    this.behaviours.set(callId, behaviour);
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

  /**
   * Record a request on arrival (a client may time out before the answer; the status is filled in
   * when sent), and answer 401 unless its key is accepted. Null when refused.
   */
  private admit(
    req: express.Request,
    res: express.Response,
    fields: Partial<RecordedRequest> = {},
  ): RecordedRequest | null {
    const authorized = this.authorize(req.get('authorization'));
    const entry: RecordedRequest = {
      method: req.method,
      path: req.path,
      authorized,
      status: 0,
      at: Date.now(),
      ...fields,
    };
    this.requests.push(entry);
    if (authorized) return entry;
    entry.status = 401;
    res.status(401).json({ error_message: 'Unauthorized' });
    return null;
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
    const entry = this.admit(req, res, { path: req.originalUrl });
    if (!entry) return;
    const scripted = await actOut(this.behaviours.take(name), res);
    if (scripted !== null) {
      entry.status = scripted;
      return;
    }
    // v2 lists page through the query, v3 lists through the body.
    const body: unknown = req.body;
    entry.status = 200;
    res.json(pageOf(items, { ...req.query, ...(body && typeof body === 'object' ? body : {}) }));
  }

  /** get-call or get-chat; behaviours are keyed by the call's or chat's id. */
  private async answer(
    kind: 'call' | 'chat',
    callId: string,
    req: express.Request,
    res: express.Response,
  ): Promise<void> {
    const entry = this.admit(req, res, kind === 'call' ? { callId } : { chatId: callId });
    if (!entry) return;
    const record = (status: number) => (entry.status = status);
    const scripted = await actOut(this.behaviours.take(callId), res);
    if (scripted !== null) {
      record(scripted);
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
