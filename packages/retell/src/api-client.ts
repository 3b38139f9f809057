import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import type { ProviderAgent, ProviderApi, ProviderNumber, TenantSource } from '@callsync/domain';
import { Limiter } from '@callsync/runtime';
import type { z } from 'zod';
import { apiAgentSchema, apiPhoneNumberSchema, listPageSchema, toProviderAgent, toProviderNumber } from './api-tenants';
import {
  apiCallSchema,
  apiChatSchema,
  type ApiCall,
  type ApiChat,
  type GetCallResult,
  type GetChatResult,
} from './api-call';

export interface RetellApiClientOptions {
  baseUrl: string;
  apiKey: string;
  /**
   * Timeout of each try of a single-object request (get-call, get-chat) and of the v2 lists (list-agents,
   * list-phone-numbers). Default 10 s: these answers are small. (retell-sdk 5.66.1 uses its client-wide
   * default for them, `Retell.DEFAULT_TIMEOUT` = 60 s, in `src/client.ts`.) `RETELL_API_TIMEOUT_MS`
   * sets this one.
   */
  timeoutMs?: number;
  /**
   * Timeout of each try of a page of `POST /v3/list-calls` and `POST /v3/list-chats`. Default 300 s, as
   * retell-sdk 5.66.1 gives `call.list` and `chat.list` (`timeout: ... ?? 300000` in
   * `src/resources/call.ts` and `src/resources/chat.ts`): a page of up to 1000 items can be slow.
   * Unlike the SDK, where a client-wide `timeout` replaces the 300 s too, `timeoutMs` leaves it alone.
   */
  listTimeoutMs?: number;
  /**
   * Retries after the first try for 408/409/429/5xx and network errors. Default 4. A response header
   * `x-should-retry: true` or `false` on a non-2xx answer overrides the status, as in retell-sdk.
   */
  maxRetries?: number;
  /** First backoff; doubles each retry, with jitter, capped at maxBackoffMs. Default 500 ms. */
  backoffMs?: number;
  /** Longest single wait, also for retry-after. Default 30 s. */
  maxBackoffMs?: number;
  /** Requests in flight at once. Default 8. */
  concurrency?: number;
  /**
   * A 429 that says when to come back (`retry-after`, `retry-after-ms`) is the API's flow control, not a
   * failed try: it pauses every request of this client until then, and does not count against
   * maxRetries. At most this many such answers per request. Default 100.
   */
  maxThrottledRetries?: number;
  /** For tests. */
  sleep?: (ms: number) => Promise<void>;
}

/** Retell's API could not answer (after retries), or refused us (401/403). */
export class RetellApiError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RetellApiError';
  }
}

const RETRYABLE = (status: number) => status === 408 || status === 409 || status === 429 || status >= 500;

/**
 * Whether a response is worth another try. As retell-sdk 5.66.1's `shouldRetry` (`src/client.ts`), which
 * it asks only for non-2xx answers: the server's `x-should-retry: true` / `false` wins over the status,
 * otherwise 408, 409, 429 and 5xx are retried.
 */
function shouldRetry(status: number, headers: Record<string, unknown>): boolean {
  if (status >= 200 && status < 300) return false;
  const header = headers['x-should-retry'];
  if (header === 'true') return true;
  if (header === 'false') return false;
  return RETRYABLE(status);
}

/** Delay asked for by `retry-after-ms` or `retry-after` (seconds or an HTTP date), if any. */
export function retryAfterMs(headers: Record<string, unknown>, now = Date.now()): number | null {
  const ms = Number(headers['retry-after-ms']);
  if (headers['retry-after-ms'] !== undefined && Number.isFinite(ms) && ms >= 0) return ms;
  const ra = headers['retry-after'];
  if (typeof ra !== 'string' || ra.trim() === '') return null;
  const seconds = Number(ra);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(ra);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** The list filter for "started in [since, until)" (Retell's range filter is inclusive; until - 1). */
function startedBetween(sinceMs: number, untilMs: number): Record<string, unknown> {
  return {
    filter_criteria: { start_timestamp: { type: 'range', op: 'bt', value: [sinceMs, untilMs - 1] } },
    sort_order: 'ascending',
  };
}

/**
 * Retell's API, with bearer auth, timeouts, retries and bounded concurrency: the domain's provider
 * port (get-call, get-chat, list-calls, list-chats; agents and numbers for the tenant sync), and
 * delete-call for erasure.
 */
export class RetellApiClient implements ProviderApi, TenantSource {
  private readonly http: AxiosInstance;
  private readonly limiter: Limiter;
  private readonly settings: Required<Omit<RetellApiClientOptions, 'baseUrl' | 'apiKey'>>;
  /** Until when (ms epoch) the API asked this client to send nothing: the latest 429's retry-after. */
  private pausedUntil = 0;

  constructor(options: RetellApiClientOptions) {
    this.settings = {
      timeoutMs: options.timeoutMs ?? 10_000,
      listTimeoutMs: options.listTimeoutMs ?? 300_000,
      maxRetries: options.maxRetries ?? 4,
      backoffMs: options.backoffMs ?? 500,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      concurrency: options.concurrency ?? 8,
      maxThrottledRetries: options.maxThrottledRetries ?? 100,
      sleep: options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    };
    this.limiter = new Limiter(this.settings.concurrency);
    this.http = axios.create({
      baseURL: options.baseUrl,
      timeout: this.settings.timeoutMs,
      headers: { Authorization: `Bearer ${options.apiKey}`, Accept: 'application/json' },
      // Every status is a result to classify, not an exception.
      validateStatus: () => true,
    });
  }

  /** 200 -> the call; 404 or 422 -> not found; anything else is retried or thrown as RetellApiError. */
  async getCall(callId: string): Promise<GetCallResult> {
    const r = await this.getOne('get-call', `/v2/get-call/${encodeURIComponent(callId)}`, apiCallSchema);
    if (!r.found) return r;
    if (r.value.call_id !== callId)
      throw new RetellApiError(`get-call ${callId}: Retell returned call ${r.value.call_id}`, 200);
    return { found: true, call: r.value };
  }

  /**
   * DELETE /v2/delete-call/{call_id}: Retell removes the call and its recording (erasure on Retell's
   * side). `deleted` true when Retell removed it now, false when it did not know it (404 or 422:
   * already gone); anything else is retried or thrown as RetellApiError.
   */
  async deleteCall(callId: string): Promise<{ deleted: boolean; status: number }> {
    const res = await this.request(`/v2/delete-call/${encodeURIComponent(callId)}`, 'DELETE');
    if (res.status === 404 || res.status === 422) return { deleted: false, status: res.status };
    if (res.status < 200 || res.status >= 300)
      throw new RetellApiError(
        `delete-call ${callId}: Retell answered ${res.status}${res.status === 401 || res.status === 403 ? ' (check RETELL_API_KEY)' : ''}`,
        res.status,
      );
    return { deleted: true, status: res.status };
  }

  /** GET /get-chat/{chat_id}, with get-call's rules. */
  async getChat(chatId: string): Promise<GetChatResult> {
    const r = await this.getOne('get-chat', `/get-chat/${encodeURIComponent(chatId)}`, apiChatSchema);
    if (!r.found) return r;
    if (r.value.chat_id !== chatId)
      throw new RetellApiError(`get-chat ${chatId}: Retell returned chat ${r.value.chat_id}`, 200);
    return { found: true, chat: r.value };
  }

  private async getOne<T>(
    name: string,
    path: string,
    schema: z.ZodType<T>,
  ): Promise<{ found: true; value: T } | { found: false; status: number }> {
    const res = await this.request(path);
    const subject = decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
    if (res.status === 404 || res.status === 422) return { found: false, status: res.status };
    if (res.status !== 200) {
      throw new RetellApiError(
        `${name} ${subject}: Retell answered ${res.status}${res.status === 401 || res.status === 403 ? ' (check RETELL_API_KEY)' : ''}`,
        res.status,
      );
    }
    const parsed = schema.safeParse(res.data);
    if (!parsed.success) {
      throw new RetellApiError(
        `${name} ${subject}: unexpected response: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        res.status,
      );
    }
    return { found: true, value: parsed.data };
  }

  /**
   * Every item of a paginated list endpoint: Retell answers `{items, has_more, pagination_key}`; the
   * key goes back as a query parameter for the next page. `onPage` sees each page's items as it comes.
   */
  async listAll<T>(
    name: string,
    method: 'GET' | 'POST',
    path: string,
    item: z.ZodType<T>,
    options: {
      body?: Record<string, unknown>;
      limit?: number;
      /** Where limit and pagination_key go: the query (v2 lists) or the JSON body (v3 lists). Default query. */
      paging?: 'query' | 'body';
      /** Timeout of each page request. Default the client's `timeoutMs`. */
      timeoutMs?: number;
      onPage?: (items: T[]) => void;
    } = {},
  ): Promise<T[]> {
    const all: T[] = [];
    let key: string | undefined;
    const limit = options.limit ?? 1000;
    for (let page = 0; ; page++) {
      const paging = { limit, ...(key ? { pagination_key: key } : {}) };
      const inBody = options.paging === 'body';
      const query = inBody
        ? ''
        : `?${new URLSearchParams({ limit: String(limit), ...(key ? { pagination_key: key } : {}) })}`;
      const body = method === 'POST' ? { ...options.body, ...(inBody ? paging : {}) } : undefined;
      const res = await this.request(`${path}${query}`, method, body, options.timeoutMs);
      if (res.status !== 200)
        throw new RetellApiError(
          `${name}: Retell answered ${res.status}${res.status === 401 || res.status === 403 ? ' (check RETELL_API_KEY)' : ''}`,
          res.status,
        );
      const parsed = listPageSchema(item).safeParse(res.data);
      if (!parsed.success) {
        throw new RetellApiError(
          `${name} page ${page + 1}: unexpected response: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
          res.status,
        );
      }
      all.push(...parsed.data.items);
      options.onPage?.(parsed.data.items);
      if (!parsed.data.has_more || !parsed.data.pagination_key) return all;
      if (parsed.data.pagination_key === key)
        throw new RetellApiError(`${name}: Retell returned the same pagination_key twice`, res.status);
      key = parsed.data.pagination_key;
    }
  }

  /** POST /v2/list-agents, every page. */
  async listAgents(): Promise<ProviderAgent[]> {
    return (await this.listAll('list-agents', 'POST', '/v2/list-agents', apiAgentSchema)).map(toProviderAgent);
  }

  /**
   * POST /v3/list-calls: every call that started in [sinceMs, untilMs), oldest first (items carry no
   * transcripts). `onPage` sees each page as it arrives. Each page may take up to `listTimeoutMs`.
   */
  listCalls(sinceMs: number, untilMs: number, onPage?: (items: ApiCall[]) => void): Promise<ApiCall[]> {
    return this.listAll('list-calls', 'POST', '/v3/list-calls', apiCallSchema, {
      body: startedBetween(sinceMs, untilMs),
      paging: 'body',
      timeoutMs: this.settings.listTimeoutMs,
      onPage,
    });
  }

  /** POST /v3/list-chats: every chat that started in [sinceMs, untilMs), oldest first; pages as list-calls. */
  listChats(sinceMs: number, untilMs: number, onPage?: (items: ApiChat[]) => void): Promise<ApiChat[]> {
    return this.listAll('list-chats', 'POST', '/v3/list-chats', apiChatSchema, {
      body: startedBetween(sinceMs, untilMs),
      paging: 'body',
      timeoutMs: this.settings.listTimeoutMs,
      onPage,
    });
  }

  /** GET /v2/list-phone-numbers, every page. */
  async listNumbers(): Promise<ProviderNumber[]> {
    const numbers = await this.listAll('list-phone-numbers', 'GET', '/v2/list-phone-numbers', apiPhoneNumberSchema);
    return numbers.map(toProviderNumber);
  }

  private async request(
    path: string,
    method: 'GET' | 'POST' | 'DELETE' = 'GET',
    body?: unknown,
    timeoutMs = this.settings.timeoutMs,
  ): Promise<AxiosResponse> {
    let throttled = 0;
    for (let attempt = 0; ;) {
      // Every request waits out a rate limit another one was told about: sending into it would only
      // be refused, and use up retries.
      const paused = this.pausedUntil - Date.now();
      if (paused > 0) await this.settings.sleep(paused);
      let res: AxiosResponse | undefined;
      let error: unknown;
      try {
        res = await this.limiter.run(() => this.http.request({ url: path, method, data: body, timeout: timeoutMs }));
      } catch (err) {
        error = err; // network error or timeout: retryable
      }
      const headers = (res?.headers ?? {}) as Record<string, unknown>;
      // `x-should-retry: false` ends it here whatever the status (a 429's retry-after included);
      // `true` retries a status that would not be.
      if (res && !shouldRetry(res.status, headers)) return res;
      const asked = res ? retryAfterMs(headers) : null;
      if (res?.status === 429 && asked !== null && throttled < this.settings.maxThrottledRetries) {
        throttled += 1;
        this.pausedUntil = Math.max(this.pausedUntil, Date.now() + Math.min(this.settings.maxBackoffMs, asked));
        continue;
      }
      if (attempt >= this.settings.maxRetries) {
        const why = res ? `status ${res.status}` : (error as Error).message;
        throw new RetellApiError(`${method} ${path} failed after ${attempt + 1} tries: ${why}`, res?.status ?? null, {
          cause: error,
        });
      }
      const backoff =
        Math.min(this.settings.maxBackoffMs, this.settings.backoffMs * 2 ** attempt) * (0.5 + Math.random() / 2);
      attempt += 1;
      // Wait outside the limiter, so a throttled request does not hold a slot.
      await this.settings.sleep(Math.min(this.settings.maxBackoffMs, asked ?? backoff));
    }
  }
}
