// TypeScript client of the Credits platform API: openapi-fetch over the types openapi-typescript generates
// from the API's OpenAPI description (src/schema.ts, written by clients/generate.py), plus this thin layer:
// one client, typed resource methods, ApiError, retries with one Idempotency-Key per call, pagination,
// RateLimit fields and webhook verification. ESM; Node 20+ and browsers.

import createFetchClient, { type Client as FetchClient } from "openapi-fetch";
import type { components, paths } from "./schema.js";
import {
  ApiError,
  DEFAULT_RETRY_POLICY,
  IDEMPOTENCY_HEADER,
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
export type * from "./schema.js";

type Schemas = components["schemas"];
export type Job = Schemas["Job"];
export type JobStatus = Schemas["JobStatus"];

export const DEFAULT_BASE_URL = "http://127.0.0.1:5001/demo-platform/us-central1/api";
const FINISHED: JobStatus[] = ["completed", "failed"];

/** A bearer credential: an API key, or a function answering one (the dashboard's fresh ID tokens). */
export type Credential = string | (() => string | null | Promise<string | null>);

export interface ClientOptions {
  /** `sk_live_...` / `sk_test_...`, or an ID token (source) for the signed-in user's routes. */
  apiKey: Credential;
  /** Default: the local platform of `make dev`; "" in a browser page served with the API (same origin). */
  baseUrl?: string;
  maxRetries?: number;
  fetch?: typeof fetch;
  sleep?: Sleep;
}

export interface Page<T> {
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

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

type Answer<T> = { data?: T; error?: unknown; response: Response };

export class CreditsClient {
  /** The generated, typed openapi-fetch client, for anything the resources below do not cover. */
  readonly raw: FetchClient<paths>;
  readonly webhooks = new Webhooks();
  private readonly attempts = new WeakMap<Response, number>();
  private last: ResponseInfo | null = null;

  constructor(options: ClientOptions) {
    const credential = options.apiKey;
    const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, maxRetries: options.maxRetries ?? DEFAULT_RETRY_POLICY.maxRetries };
    this.raw = createFetchClient<paths>({
      baseUrl: (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, ""),
      fetch: retryingFetch(options.fetch ?? globalThis.fetch.bind(globalThis), policy, options.sleep ?? realSleep, this.attempts),
    });
    this.raw.use({
      async onRequest({ request }) {
        const token = typeof credential === "function" ? await credential() : credential;
        if (token) request.headers.set("Authorization", `Bearer ${token}`);
        return request;
      },
    });
  }

  /** Status, Request-Id, RateLimit fields and Idempotent-Replayed of the last call answered. */
  get lastResponse(): ResponseInfo | null {
    return this.last;
  }

  /** The answer's data, or ApiError: every resource method goes through here. */
  async unwrap<T>(call: Promise<Answer<T>>): Promise<T> {
    const { data, error, response } = await call;
    this.last = responseInfo(response, this.attempts);
    if (!response.ok) throw ApiError.fromResponse(response, error);
    return data as T;
  }

  /** An operation by method and path, for routes newer than this client's types (same retries and errors). */
  async send<T>(
    method: string,
    path: string,
    options: { body?: unknown; query?: Record<string, string | number | boolean>; idempotencyKey?: string } = {},
  ): Promise<T> {
    const headers: Record<string, string> = {};
    if (options.idempotencyKey) headers[IDEMPOTENCY_HEADER] = options.idempotencyKey;
    const request = this.raw.request as unknown as (
      method: string,
      path: string,
      init: Record<string, unknown>,
    ) => Promise<Answer<T>>;
    return this.unwrap(request(method.toLowerCase(), path, { body: options.body, params: { query: options.query }, headers }));
  }

  whoami(): Promise<Schemas["WhoAmI"]> {
    return this.unwrap(this.raw.GET("/v1/whoami"));
  }

  readonly account = {
    get: (): Promise<Schemas["Account"]> => this.unwrap(this.raw.GET("/v1/account")),
    create: (): Promise<Schemas["Account"]> => this.unwrap(this.raw.POST("/v1/account", { body: {} })),
  };

  /** The signed-in user's keys (an ID-token client). */
  readonly apiKeys = {
    create: (body: Schemas["CreateKeyBody"] = {}): Promise<Schemas["NewApiKey"]> =>
      this.unwrap(this.raw.POST("/v1/api_keys", { body })),
    list: (query: { limit?: number; starting_after?: string } = {}): Promise<Schemas["ApiKeyPage"]> =>
      this.unwrap(this.raw.GET("/v1/api_keys", { params: { query } })),
    listAll: (pageSize = 100): AsyncGenerator<Schemas["ApiKey"]> =>
      paginate((cursor) => this.apiKeys.list({ limit: pageSize, starting_after: cursor })),
    revoke: (keyId: string): Promise<Schemas["ApiKey"]> =>
      this.unwrap(this.raw.POST("/v1/api_keys/{key_id}/revoke", { params: { path: { key_id: keyId } }, body: {} })),
    roll: (keyId: string, body: Schemas["RollKeyBody"] = {}): Promise<Schemas["RolledApiKey"]> =>
      this.unwrap(this.raw.POST("/v1/api_keys/{key_id}/roll", { params: { path: { key_id: keyId } }, body })),
    update: (keyId: string, body: Schemas["UpdateKeyBody"]): Promise<Schemas["ApiKey"]> =>
      this.unwrap(this.raw.PATCH("/v1/api_keys/{key_id}", { params: { path: { key_id: keyId } }, body })),
  };

  readonly jobs = {
    /** Live keys pay the job's cost. Retried requests carry one Idempotency-Key: never two jobs. */
    create: (body: Schemas["CreateJobRequest"], idempotencyKey: string = newIdempotencyKey()): Promise<Job> =>
      this.unwrap(this.raw.POST("/v1/jobs", { body, params: { header: { [IDEMPOTENCY_HEADER]: idempotencyKey } } })),
    get: (jobId: string): Promise<Job> =>
      this.unwrap(this.raw.GET("/v1/jobs/{job_id}", { params: { path: { job_id: jobId } } })),
    list: (query: NonNullable<paths["/v1/jobs"]["get"]["parameters"]["query"]> = {}): Promise<Schemas["JobPage"]> =>
      this.unwrap(this.raw.GET("/v1/jobs", { params: { query } })),
    /** Every job, newest first, fetched a page at a time as the loop goes. */
    listAll: (
      query: Omit<NonNullable<paths["/v1/jobs"]["get"]["parameters"]["query"]>, "starting_after" | "cursor"> = {},
    ): AsyncGenerator<Job> =>
      paginate((cursor) => this.jobs.list({ limit: 100, ...query, starting_after: cursor })),
    /** Poll until the job is completed or failed; throws after timeoutS. */
    wait: async (jobId: string, timeoutS = 60, intervalS = 0.5): Promise<Job> => {
      const deadline = Date.now() + timeoutS * 1000;
      for (;;) {
        const job = await this.jobs.get(jobId);
        if (FINISHED.includes(job.status)) return job;
        if (Date.now() >= deadline) throw new Error(`Job ${jobId} is still ${job.status} after ${timeoutS} s.`);
        await realSleep(intervalS);
      }
    },
  };

  readonly ledger = {
    list: (query: { limit?: number; starting_after?: string } = {}): Promise<Schemas["LedgerEntryPage"]> =>
      this.unwrap(this.raw.GET("/v1/credits/ledger", { params: { query } })),
    listAll: (pageSize = 100): AsyncGenerator<Schemas["LedgerEntry"]> =>
      paginate((cursor) => this.ledger.list({ limit: pageSize, starting_after: cursor })),
  };

  readonly usage = {
    /** Per key and UTC day (YYYY-MM-DD bounds; default the last 30 days). */
    get: (query: NonNullable<paths["/v1/usage"]["get"]["parameters"]["query"]> = {}): Promise<Schemas["UsageReport"]> =>
      this.unwrap(this.raw.GET("/v1/usage", { params: { query } })),
  };

  /** The caller's webhook endpoint (one per account). */
  readonly webhookEndpoint = {
    get: (): Promise<Schemas["WebhookEndpoint"]> => this.unwrap(this.raw.GET("/v1/webhook")),
    set: (body: Schemas["WebhookEndpointInput"]): Promise<Schemas["WebhookEndpoint"]> =>
      this.unwrap(this.raw.PUT("/v1/webhook", { body })),
    delete: (): Promise<Schemas["WebhookDeleted"]> => this.unwrap(this.raw.DELETE("/v1/webhook")),
    rotateSecret: (): Promise<Schemas["WebhookEndpoint"]> =>
      this.unwrap(this.raw.POST("/v1/webhook/rotate_secret", { body: {} })),
    sendTest: (): Promise<Schemas["WebhookTestEvent"]> => this.unwrap(this.raw.POST("/v1/webhook/test", { body: {} })),
    deliveries: (query: { limit?: number; starting_after?: string } = {}): Promise<Schemas["DeliveryAttemptPage"]> =>
      this.unwrap(this.raw.GET("/v1/webhook/deliveries", { params: { query } })),
  };

  readonly paymentMethods = {
    createSetupIntent: (): Promise<Schemas["SetupIntent"]> =>
      this.unwrap(this.raw.POST("/v1/payment_methods/setup_intent", { body: {} })),
    add: (setupIntentId: string): Promise<Schemas["PaymentMethod"]> =>
      this.unwrap(this.raw.POST("/v1/payment_methods", { body: { setup_intent_id: setupIntentId } })),
    list: (query: { limit?: number; starting_after?: string } = {}): Promise<Schemas["PaymentMethodPage"]> =>
      this.unwrap(this.raw.GET("/v1/payment_methods", { params: { query } })),
    setDefault: (paymentMethodId: string): Promise<Schemas["PaymentMethod"]> =>
      this.unwrap(
        this.raw.POST("/v1/payment_methods/{payment_method_id}/default", {
          params: { path: { payment_method_id: paymentMethodId } },
          body: {},
        }),
      ),
    delete: (paymentMethodId: string): Promise<Schemas["PaymentMethodDeleted"]> =>
      this.unwrap(
        this.raw.DELETE("/v1/payment_methods/{payment_method_id}", {
          params: { path: { payment_method_id: paymentMethodId } },
        }),
      ),
  };

  readonly creditPackages = {
    list: (): Promise<Schemas["CreditPackagePage"]> =>
      this.unwrap(this.raw.GET("/v1/credit_packages", { params: { query: { limit: 100 } } })),
  };

  readonly purchases = {
    /** Charges the card once, whatever the retries: they all carry one Idempotency-Key. */
    create: (body: Schemas["NewPurchase"], idempotencyKey: string = newIdempotencyKey()): Promise<Schemas["Purchase"]> =>
      this.unwrap(this.raw.POST("/v1/purchases", { body, params: { header: { [IDEMPOTENCY_HEADER]: idempotencyKey } } })),
    get: (purchaseId: string): Promise<Schemas["Purchase"]> =>
      this.unwrap(this.raw.GET("/v1/purchases/{purchase_id}", { params: { path: { purchase_id: purchaseId } } })),
  };
}

/** `createClient({ apiKey: "sk_test_...", baseUrl })`. */
export function createClient(options: ClientOptions): CreditsClient {
  return new CreditsClient(options);
}
