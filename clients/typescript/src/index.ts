// TypeScript client of the Credits platform API: openapi-fetch over the types openapi-typescript generates
// from the API's OpenAPI description (src/schema.ts, written by clients/generate.py), plus this thin layer:
// one client, typed resource methods, ApiError, retries with one Idempotency-Key per call, timeouts and
// AbortSignal, pagination, each answer's request metadata and webhook verification. ESM and CommonJS; Node 20+
// and browsers.

import createFetchClient, { type Client as FetchClient } from "openapi-fetch";
import { TERMINAL_JOB_STATUSES } from "./described.js";
import type { components, paths } from "./schema.js";
import {
  ApiError,
  ConfigurationError,
  DEFAULT_RETRY_POLICY,
  IDEMPOTENCY_HEADER,
  ResponseParseError,
  type ResponseInfo,
  type RetryPolicy,
  type Sleep,
  realSleep,
  responseInfo,
  retryingFetch,
} from "./http.js";
import { Webhooks } from "./webhooks.js";

export * from "./http.js";
export * from "./webhooks.js";
export { TERMINAL_JOB_STATUSES } from "./described.js";
export type * from "./schema.js";

type Schemas = components["schemas"];
export type Job = Schemas["Job"];
export type JobStatus = Schemas["JobStatus"];

export const API_KEY_VARIABLE = "CREDITS_API_KEY";
export const BASE_URL_VARIABLE = "CREDITS_BASE_URL";
export const DEFAULT_TIMEOUT_MS = 60_000;
// The server's largest page (limit) in general, and when list items carry expanded fields.
const MAX_PAGE_SIZE = 100;
const MAX_EXPANDED_PAGE_SIZE = 20;

/** A bearer credential: an API key, or a function answering one (the dashboard's fresh ID tokens). */
export type Credential = string | (() => string | null | Promise<string | null>);

export interface ClientOptions {
  /** `sk_live_...` / `sk_test_...`, or an ID token (source) for the signed-in user's routes. Default:
   * the CREDITS_API_KEY environment variable (Node). */
  apiKey?: Credential;
  /** The API's address. Default: the CREDITS_BASE_URL environment variable (Node); "" in a browser page served
   * with the API (same origin). */
  baseUrl?: string;
  maxRetries?: number;
  /** Each attempt's timeout, unless a call says otherwise (default 60 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  sleep?: Sleep;
}

/** One call's own settings. */
export interface RequestOptions {
  /** Aborting it ends the call at once (the signal's reason is thrown; never retried). */
  signal?: AbortSignal;
  /** Each attempt's timeout for this call (else the client's). */
  timeoutMs?: number;
}

/** For the calls that make an Idempotency-Key: pass one to keep it across your own restarts. */
export interface IdempotentRequestOptions extends RequestOptions {
  idempotencyKey?: string;
}

/** An answer, with what its response said besides the body (not enumerated: JSON.stringify leaves it out). */
export type WithResponse<T> = T & { readonly lastResponse: ResponseInfo };

export interface Page<T> {
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

type JobsQuery = NonNullable<paths["/v1/jobs"]["get"]["parameters"]["query"]>;
type UsageQuery = NonNullable<paths["/v1/usage"]["get"]["parameters"]["query"]>;
type PageQuery = { limit?: number; starting_after?: string };
export type Expandable = NonNullable<JobsQuery["expand[]"]>[number];

/** One per logical call, reused by every retry of it (as Stripe's libraries do). */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

/** Every item of a list, page after page, following `next_cursor`. */
export async function* paginate<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>): AsyncGenerator<T> {
  let cursor: string | undefined;
  for (;;) {
    const page = await fetchPage(cursor);
    yield* page.data;
    if (!page.has_more || !page.next_cursor) return;
    cursor = page.next_cursor;
  }
}

function environment(name: string): string | undefined {
  const process = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return process?.env?.[name] || undefined;
}

type Answer<T> = { data?: T; error?: unknown; response: Response };
/** What a call hands openapi-fetch: the fetch that runs it (its retries, timeout and signal). */
type Init = { fetch: (request: Request) => Promise<Response> };

export class CreditsClient {
  /** The generated, typed openapi-fetch client, for anything the resources below do not cover. */
  readonly raw: FetchClient<paths>;
  readonly webhooks = new Webhooks();
  private readonly baseFetch: typeof fetch;
  private readonly policy: RetryPolicy;
  private readonly sleep: Sleep;
  private readonly timeoutMs: number;

  constructor(options: ClientOptions = {}) {
    const credential = options.apiKey ?? environment(API_KEY_VARIABLE);
    const baseUrl = options.baseUrl ?? environment(BASE_URL_VARIABLE);
    if (baseUrl === undefined) {
      throw new ConfigurationError(
        `No base URL: pass baseUrl or set ${BASE_URL_VARIABLE} (the API's address, e.g. ` +
          "http://127.0.0.1:5001/demo-platform/us-central1/api for make dev).",
      );
    }
    if (!credential) {
      throw new ConfigurationError(`No credentials: pass apiKey (sk_live_... or sk_test_...) or set ${API_KEY_VARIABLE}.`);
    }
    this.policy = { ...DEFAULT_RETRY_POLICY, maxRetries: options.maxRetries ?? DEFAULT_RETRY_POLICY.maxRetries };
    this.baseFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.sleep = options.sleep ?? realSleep;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.raw = createFetchClient<paths>({ baseUrl: baseUrl.replace(/\/+$/, "") });
    this.raw.use({
      async onRequest({ request }) {
        const token = typeof credential === "function" ? await credential() : credential;
        if (token) request.headers.set("Authorization", `Bearer ${token}`);
        return request;
      },
    });
  }

  /** Runs one openapi-fetch call with this call's options: its data with `lastResponse`, or ApiError. Every
   * resource method goes through here. */
  async run<T>(call: (init: Init) => Promise<Answer<T>>, options: RequestOptions = {}): Promise<WithResponse<T>> {
    let last: { response: Response; attempts: number } | null = null;
    const fetch = retryingFetch(
      this.baseFetch,
      this.policy,
      this.sleep,
      { signal: options.signal, timeoutMs: options.timeoutMs ?? this.timeoutMs },
      (response, attempts) => (last = { response, attempts }),
    );
    let answer: Answer<T>;
    try {
      answer = await call({ fetch });
    } catch (error) {
      const answered = last as { response: Response } | null;
      if (answered && !(error instanceof ApiError) && error instanceof SyntaxError) {
        throw new ResponseParseError(answered.response, error);
      }
      throw error;
    }
    const { data, error, response } = answer;
    if (!response.ok) throw ApiError.fromResponse(response, error);
    const info = responseInfo(response, (last as { attempts: number } | null)?.attempts ?? 1);
    if (data === null || typeof data !== "object") throw new ResponseParseError(response, "not a JSON object");
    Object.defineProperty(data, "lastResponse", { value: info, enumerable: false, configurable: true });
    return data as WithResponse<T>;
  }

  /** An operation by method and path, for routes newer than this client's types (same retries and errors). */
  async send<T>(
    method: string,
    path: string,
    options: { body?: unknown; query?: Record<string, string | number | boolean> } & IdempotentRequestOptions = {},
  ): Promise<WithResponse<T>> {
    const headers: Record<string, string> = {};
    if (options.idempotencyKey) headers[IDEMPOTENCY_HEADER] = options.idempotencyKey;
    const request = this.raw.request as unknown as (
      method: string,
      path: string,
      init: Record<string, unknown>,
    ) => Promise<Answer<T>>;
    return this.run(
      (init) => request(method.toLowerCase(), path, { body: options.body, params: { query: options.query }, headers, ...init }),
      options,
    );
  }

  whoami(options?: RequestOptions): Promise<WithResponse<Schemas["WhoAmI"]>> {
    return this.run((init) => this.raw.GET("/v1/whoami", init), options);
  }

  readonly account = {
    get: (options?: RequestOptions): Promise<WithResponse<Schemas["Account"]>> =>
      this.run((init) => this.raw.GET("/v1/account", init), options),
    create: (options?: RequestOptions): Promise<WithResponse<Schemas["Account"]>> =>
      this.run((init) => this.raw.POST("/v1/account", { body: {}, ...init }), options),
  };

  /** The signed-in user's keys (an ID-token client). */
  readonly apiKeys = {
    create: (body: Schemas["CreateKeyBody"] = {}, options?: RequestOptions): Promise<WithResponse<Schemas["NewApiKey"]>> =>
      this.run((init) => this.raw.POST("/v1/api_keys", { body, ...init }), options),
    list: (query: PageQuery = {}, options?: RequestOptions): Promise<WithResponse<Schemas["ApiKeyPage"]>> =>
      this.run((init) => this.raw.GET("/v1/api_keys", { params: { query }, ...init }), options),
    listAll: (pageSize = MAX_PAGE_SIZE, options?: RequestOptions): AsyncGenerator<Schemas["ApiKey"]> =>
      paginate((cursor) => this.apiKeys.list({ limit: pageSize, starting_after: cursor }, options)),
    revoke: (keyId: string, options?: RequestOptions): Promise<WithResponse<Schemas["ApiKey"]>> =>
      this.run(
        (init) => this.raw.POST("/v1/api_keys/{key_id}/revoke", { params: { path: { key_id: keyId } }, body: {}, ...init }),
        options,
      ),
    roll: (keyId: string, body: Schemas["RollKeyBody"] = {}, options?: RequestOptions): Promise<WithResponse<Schemas["RolledApiKey"]>> =>
      this.run((init) => this.raw.POST("/v1/api_keys/{key_id}/roll", { params: { path: { key_id: keyId } }, body, ...init }), options),
    update: (keyId: string, body: Schemas["UpdateKeyBody"], options?: RequestOptions): Promise<WithResponse<Schemas["ApiKey"]>> =>
      this.run((init) => this.raw.PATCH("/v1/api_keys/{key_id}", { params: { path: { key_id: keyId } }, body, ...init }), options),
  };

  readonly jobs = {
    /** Live keys pay the job's cost. Retried requests carry one Idempotency-Key: never two jobs. */
    create: (
      request: Omit<Schemas["CreateJobRequest"], "run_at"> & { runAt?: Date },
      options: IdempotentRequestOptions = {},
    ): Promise<WithResponse<Job>> => {
      const key = options.idempotencyKey ?? newIdempotencyKey();
      const { runAt, ...rest } = request;
      // run_at: the job is not dispatched before then (unix seconds on the wire).
      const body: Schemas["CreateJobRequest"] = runAt ? { ...rest, run_at: Math.floor(runAt.getTime() / 1000) } : rest;
      return this.run((init) => this.raw.POST("/v1/jobs", { body, params: { header: { [IDEMPOTENCY_HEADER]: key } }, ...init }), options);
    },
    get: (jobId: string, options?: RequestOptions): Promise<WithResponse<Job>> =>
      this.run((init) => this.raw.GET("/v1/jobs/{job_id}", { params: { path: { job_id: jobId } }, ...init }), options),
    /** A queued or running job becomes canceled (its credits come back); a finished one answers 409. */
    cancel: (jobId: string, options?: RequestOptions): Promise<WithResponse<Job>> =>
      this.run((init) => this.raw.POST("/v1/jobs/{job_id}/cancel", { params: { path: { job_id: jobId } }, body: {}, ...init }), options),
    /** Items leave out input and result unless `"expand[]": ["data.input", "data.result"]` asks (limit <= 20). */
    list: (query: JobsQuery = {}, options?: RequestOptions): Promise<WithResponse<Schemas["JobListItemPage"]>> =>
      this.run((init) => this.raw.GET("/v1/jobs", { params: { query }, ...init }), options),
    /** Every job, newest first, fetched a page at a time as the loop goes (20 a page when expanding, the
     * server's largest then; else 100). */
    listAll: (
      query: { status?: JobStatus; expand?: Expandable[]; limit?: number } = {},
      options?: RequestOptions,
    ): AsyncGenerator<Schemas["JobListItem"]> => {
      const { expand, ...rest } = query;
      const limit = query.limit ?? (expand?.length ? MAX_EXPANDED_PAGE_SIZE : MAX_PAGE_SIZE);
      const asked: JobsQuery = { ...rest, limit, ...(expand?.length ? { "expand[]": expand } : {}) };
      return paginate((cursor) => this.jobs.list({ ...asked, starting_after: cursor }, options));
    },
    /** Poll until the job reaches a terminal status (completed, failed, canceled: the description's
     * `x-terminal`); throws after timeoutS. */
    wait: async (
      jobId: string,
      options: RequestOptions & { timeoutS?: number; intervalS?: number } = {},
    ): Promise<WithResponse<Job>> => {
      const { timeoutS = 60, intervalS = 0.5 } = options;
      const deadline = Date.now() + timeoutS * 1000;
      for (;;) {
        const job = await this.jobs.get(jobId, options);
        if (TERMINAL_JOB_STATUSES.includes(job.status)) return job;
        if (Date.now() >= deadline) throw new Error(`Job ${jobId} is still ${job.status} after ${timeoutS} s.`);
        await realSleep(intervalS, options.signal);
      }
    },
  };

  readonly jobTypes = {
    /** The job types this account may create, with their prices. */
    list: (query: PageQuery = {}, options?: RequestOptions): Promise<WithResponse<Schemas["JobTypeListingPage"]>> =>
      this.run((init) => this.raw.GET("/v1/job_types", { params: { query }, ...init }), options),
    listAll: (pageSize = MAX_PAGE_SIZE, options?: RequestOptions): AsyncGenerator<Schemas["JobTypeListing"]> =>
      paginate((cursor) => this.jobTypes.list({ limit: pageSize, starting_after: cursor }, options)),
  };

  readonly ledger = {
    list: (query: PageQuery = {}, options?: RequestOptions): Promise<WithResponse<Schemas["LedgerEntryPage"]>> =>
      this.run((init) => this.raw.GET("/v1/credits/ledger", { params: { query }, ...init }), options),
    listAll: (pageSize = MAX_PAGE_SIZE, options?: RequestOptions): AsyncGenerator<Schemas["LedgerEntry"]> =>
      paginate((cursor) => this.ledger.list({ limit: pageSize, starting_after: cursor }, options)),
  };

  readonly creditGrants = {
    /** The caller's credit grants, newest first, with what is left of each and when it expires. */
    list: (query: PageQuery = {}, options?: RequestOptions): Promise<WithResponse<Schemas["CreditGrantPage"]>> =>
      this.run((init) => this.raw.GET("/v1/credit_grants", { params: { query }, ...init }), options),
    listAll: (pageSize = MAX_PAGE_SIZE, options?: RequestOptions): AsyncGenerator<Schemas["CreditGrant"]> =>
      paginate((cursor) => this.creditGrants.list({ limit: pageSize, starting_after: cursor }, options)),
  };

  /** The signed-in user's auto top-up (an ID-token client). */
  readonly autoTopUp = {
    get: (options?: RequestOptions): Promise<WithResponse<Schemas["AutoTopUp"]>> =>
      this.run((init) => this.raw.GET("/v1/auto_top_up", init), options),
    set: (body: Schemas["AutoTopUpInput"], options?: RequestOptions): Promise<WithResponse<Schemas["AutoTopUp"]>> =>
      this.run((init) => this.raw.PUT("/v1/auto_top_up", { body, ...init }), options),
  };

  readonly usage = {
    /** One page of usage per key and UTC day (YYYY-MM-DD bounds; default the last 30 days). */
    get: (query: UsageQuery = {}, options?: RequestOptions): Promise<WithResponse<Schemas["UsageReport"]>> =>
      this.run((init) => this.raw.GET("/v1/usage", { params: { query }, ...init }), options),
    /** Every row (key and day) of the period, a page at a time. */
    listAll: (query: Omit<UsageQuery, "starting_after"> = {}, options?: RequestOptions): AsyncGenerator<Schemas["UsageDay"]> =>
      paginate((cursor) => this.usage.get({ limit: MAX_PAGE_SIZE, ...query, starting_after: cursor }, options)),
  };

  /** The caller's webhook endpoint (one per account). */
  readonly webhookEndpoint = {
    get: (options?: RequestOptions): Promise<WithResponse<Schemas["WebhookEndpoint"]>> =>
      this.run((init) => this.raw.GET("/v1/webhook", init), options),
    set: (body: Schemas["WebhookEndpointInput"], options?: RequestOptions): Promise<WithResponse<Schemas["WebhookEndpoint"]>> =>
      this.run((init) => this.raw.PUT("/v1/webhook", { body, ...init }), options),
    delete: (options?: RequestOptions): Promise<WithResponse<Schemas["WebhookDeleted"]>> =>
      this.run((init) => this.raw.DELETE("/v1/webhook", init), options),
    rotateSecret: (options?: RequestOptions): Promise<WithResponse<Schemas["WebhookEndpoint"]>> =>
      this.run((init) => this.raw.POST("/v1/webhook/rotate_secret", { body: {}, ...init }), options),
    sendTest: (options?: RequestOptions): Promise<WithResponse<Schemas["WebhookTestEvent"]>> =>
      this.run((init) => this.raw.POST("/v1/webhook/test", { body: {}, ...init }), options),
    deliveries: (query: PageQuery = {}, options?: RequestOptions): Promise<WithResponse<Schemas["DeliveryAttemptPage"]>> =>
      this.run((init) => this.raw.GET("/v1/webhook/deliveries", { params: { query }, ...init }), options),
  };

  readonly paymentMethods = {
    createSetupIntent: (options?: RequestOptions): Promise<WithResponse<Schemas["SetupIntent"]>> =>
      this.run((init) => this.raw.POST("/v1/payment_methods/setup_intent", { body: {}, ...init }), options),
    add: (setupIntentId: string, options?: RequestOptions): Promise<WithResponse<Schemas["PaymentMethod"]>> =>
      this.run((init) => this.raw.POST("/v1/payment_methods", { body: { setup_intent_id: setupIntentId }, ...init }), options),
    list: (query: PageQuery = {}, options?: RequestOptions): Promise<WithResponse<Schemas["PaymentMethodPage"]>> =>
      this.run((init) => this.raw.GET("/v1/payment_methods", { params: { query }, ...init }), options),
    setDefault: (paymentMethodId: string, options?: RequestOptions): Promise<WithResponse<Schemas["PaymentMethod"]>> =>
      this.run(
        (init) =>
          this.raw.POST("/v1/payment_methods/{payment_method_id}/default", {
            params: { path: { payment_method_id: paymentMethodId } },
            body: {},
            ...init,
          }),
        options,
      ),
    delete: (paymentMethodId: string, options?: RequestOptions): Promise<WithResponse<Schemas["PaymentMethodDeleted"]>> =>
      this.run(
        (init) =>
          this.raw.DELETE("/v1/payment_methods/{payment_method_id}", {
            params: { path: { payment_method_id: paymentMethodId } },
            ...init,
          }),
        options,
      ),
  };

  readonly creditPackages = {
    list: (options?: RequestOptions): Promise<WithResponse<Schemas["CreditPackagePage"]>> =>
      this.run((init) => this.raw.GET("/v1/credit_packages", { params: { query: { limit: MAX_PAGE_SIZE } }, ...init }), options),
  };

  readonly purchases = {
    /** Charges the card once, whatever the retries: they all carry one Idempotency-Key. */
    create: (body: Schemas["NewPurchase"], options: IdempotentRequestOptions = {}): Promise<WithResponse<Schemas["Purchase"]>> => {
      const key = options.idempotencyKey ?? newIdempotencyKey();
      return this.run((init) => this.raw.POST("/v1/purchases", { body, params: { header: { [IDEMPOTENCY_HEADER]: key } }, ...init }), options);
    },
    get: (purchaseId: string, options?: RequestOptions): Promise<WithResponse<Schemas["Purchase"]>> =>
      this.run((init) => this.raw.GET("/v1/purchases/{purchase_id}", { params: { path: { purchase_id: purchaseId } }, ...init }), options),
  };
}

/** `createClient()` with CREDITS_API_KEY and CREDITS_BASE_URL set, or `createClient({ apiKey, baseUrl })`. */
export function createClient(options: ClientOptions = {}): CreditsClient {
  return new CreditsClient(options);
}
