// The fetch under every call: retries that can never apply a request twice, errors as ApiError, and what each
// response says about the caller's rate limit. No Node-only API: it runs in Node 20+ and in browsers.

export const IDEMPOTENCY_HEADER = "Idempotency-Key";
const IDEMPOTENT_METHODS = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"]);
// Answered before the request did anything: always safe to send again.
const REFUSED_BEFORE_RUNNING = new Set([429, 503]);
const MAX_RETRY_AFTER_S = 60;

export interface RateLimit {
  name: string; // "key" (per API key) or "user" (per signed-in user)
  limit: number; // requests per window
  windowS: number;
  remaining: number;
  resetS: number; // seconds until the limit is full again
}

/** What the response of a call said besides its body (each answer's `lastResponse`). */
export interface ResponseInfo {
  status: number;
  requestId: string | null;
  rateLimit: RateLimit | null;
  idempotentReplayed: boolean;
  attempts: number; // 1 + the retries it took
}

export function parseRateLimit(headers: Headers): RateLimit | null {
  const policy = /^"([^"]*)";q=(\d+);w=(\d+)$/.exec((headers.get("RateLimit-Policy") ?? "").trim());
  const left = /^"([^"]*)";r=(\d+);t=(\d+)$/.exec((headers.get("RateLimit") ?? "").trim());
  if (!policy || !left) return null;
  return {
    name: policy[1],
    limit: Number(policy[2]),
    windowS: Number(policy[3]),
    remaining: Number(left[2]),
    resetS: Number(left[3]),
  };
}

/** `Retry-After` in seconds (delta-seconds or an HTTP date), capped; null when absent or unreadable. */
export function retryAfterS(headers: Headers): number | null {
  const value = headers.get("Retry-After")?.trim();
  if (!value) return null;
  if (/^\d+$/.test(value)) return Math.min(Number(value), MAX_RETRY_AFTER_S);
  const when = Date.parse(value);
  if (Number.isNaN(when)) return null;
  return Math.min(Math.max((when - Date.now()) / 1000, 0), MAX_RETRY_AFTER_S);
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly type: string | null;
  readonly param: string | null;
  readonly requestId: string | null;
  readonly rateLimit: RateLimit | null;
  readonly retryAfterS: number | null;

  constructor(
    status: number,
    code: string,
    message: string,
    details: {
      type?: string | null;
      param?: string | null;
      requestId?: string | null;
      rateLimit?: RateLimit | null;
      retryAfterS?: number | null;
    } = {},
  ) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.type = details.type ?? null;
    this.param = details.param ?? null;
    this.requestId = details.requestId ?? null;
    this.rateLimit = details.rateLimit ?? null;
    this.retryAfterS = details.retryAfterS ?? null;
  }

  /** From an error answer `{"error": {type, code, message, param?}}` (or anything else a proxy answered). */
  static fromResponse(response: Response, body: unknown): ApiError {
    const error = (body as { error?: Record<string, unknown> } | null)?.error;
    const text = (key: string): string | null => (typeof error?.[key] === "string" ? (error[key] as string) : null);
    const Kind = ERROR_CLASSES[response.status] ?? ApiError;
    return new Kind(
      response.status,
      text("code") ?? "http_error",
      text("message") ?? `HTTP ${response.status} without an error body.`,
      {
        type: text("type"),
        param: text("param"),
        requestId: response.headers.get("Request-Id"),
        rateLimit: parseRateLimit(response.headers),
        retryAfterS: retryAfterS(response.headers),
      },
    );
  }
}

/** 400, 404, 409, 413, 415: the request cannot succeed as it is. */
export class InvalidRequestError extends ApiError {}
/** 401: missing, invalid, revoked or expired credentials. */
export class AuthenticationError extends ApiError {}
/** 402: the balance does not cover the job's cost. */
export class InsufficientCreditsError extends ApiError {}
/** 403: these credentials may not do this. */
export class PermissionDeniedError extends ApiError {}
/** 429 after the retries: see `retryAfterS` and `rateLimit`. */
export class RateLimitedError extends ApiError {}
/** 5xx after the retries. */
export class ServerError extends ApiError {}
/** The platform could not be reached (after the retries); `status` is 0. */
export class ApiConnectionError extends ApiError {
  constructor(cause: unknown, code = "connection_error", message = `The platform could not be reached: ${describe(cause)}`) {
    super(0, code, message);
    this.cause = cause;
  }
}
/** No answer within `timeoutMs` (the client's or the call's), after the retries. */
export class ApiTimeoutError extends ApiConnectionError {
  constructor(timeoutMs: number) {
    super(null, "timeout", `The platform did not answer within ${timeoutMs} ms.`);
  }
}
/** A success answer this client cannot read (not JSON): `status` is the answer's, `requestId` identifies it. */
export class ResponseParseError extends ApiError {
  constructor(response: Response, cause: unknown) {
    super(response.status, "unparseable_response", `The answer could not be read: ${describe(cause)}`, {
      requestId: response.headers.get("Request-Id"),
      rateLimit: parseRateLimit(response.headers),
    });
    this.cause = cause;
  }
}
/** The client lacks a setting (an option or its environment variable, which the message names). */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigurationError";
  }
}

const ERROR_CLASSES: Record<number, typeof ApiError> = {
  400: InvalidRequestError,
  401: AuthenticationError,
  402: InsufficientCreditsError,
  403: PermissionDeniedError,
  404: InvalidRequestError,
  409: InvalidRequestError,
  413: InvalidRequestError,
  415: InvalidRequestError,
  429: RateLimitedError,
  500: ServerError,
  502: ServerError,
  503: ServerError,
};

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

/** Sending it again cannot apply it twice: an idempotent method, or a POST with an Idempotency-Key. */
export function replaySafe(request: Request): boolean {
  return IDEMPOTENT_METHODS.has(request.method) || request.headers.has(IDEMPOTENCY_HEADER);
}

async function errorCode(response: Response): Promise<string | null> {
  try {
    const body = (await response.clone().json()) as { error?: { code?: unknown } };
    return typeof body?.error?.code === "string" ? body.error.code : null;
  } catch {
    return null;
  }
}

/** Only what sending again cannot apply twice (an idempotent method, or a POST with its key), and only answers
 * that say the request did not run or may be tried again. */
export async function shouldRetry(request: Request, response: Response): Promise<boolean> {
  if (!replaySafe(request)) return false;
  if (REFUSED_BEFORE_RUNNING.has(response.status)) return true;
  if (response.status === 409) {
    // The same key's first request is still in progress (the server says when to come back); the same key
    // with other parameters has no Retry-After and is the caller's mistake.
    return response.headers.has("Retry-After") && (await errorCode(response)) === "idempotency_key_in_use";
  }
  return response.status >= 500;
}

export interface RetryPolicy {
  maxRetries: number;
  baseDelayS: number;
  maxDelayS: number;
  /** A Retry-After longer than this (maintenance asks for 60 s) is answered to the caller at once, as an
   * ApiError whose retryAfterS says when to come back, rather than waited out inside one call. */
  maxWaitS: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 3, baseDelayS: 0.5, maxDelayS: 8, maxWaitS: 20 };

/** Exponential with full jitter. */
export function backoffS(policy: RetryPolicy, retry: number): number {
  return Math.random() * Math.min(policy.maxDelayS, policy.baseDelayS * 2 ** retry);
}

/** Waits, or rejects with the signal's reason as soon as it aborts. */
export type Sleep = (seconds: number, signal?: AbortSignal) => Promise<void>;
export const realSleep: Sleep = (seconds, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = () => {
      signal?.removeEventListener("abort", aborted);
      resolve();
    };
    const timer = setTimeout(done, seconds * 1000);
    const aborted = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", aborted, { once: true });
  });

/** One call's own settings: the caller's AbortSignal and the timeout of each attempt. */
export interface Attempting {
  signal?: AbortSignal;
  timeoutMs: number;
}

const NO_BODY = new Set([101, 204, 205, 304]);

/** One attempt, answered whole (the body read within the timeout, so that a stalled body is a timeout too). */
async function attempt(baseFetch: typeof fetch, request: Request, call: Attempting): Promise<Response> {
  const controller = new AbortController();
  const callerAborted = () => controller.abort(call.signal?.reason);
  call.signal?.addEventListener("abort", callerAborted, { once: true });
  const timer = setTimeout(() => controller.abort(new ApiTimeoutError(call.timeoutMs)), call.timeoutMs);
  try {
    const response = await baseFetch(request.clone(), { signal: controller.signal });
    const body = NO_BODY.has(response.status) ? null : await response.arrayBuffer();
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  } catch (error) {
    throw controller.signal.aborted ? controller.signal.reason : error;
  } finally {
    clearTimeout(timer);
    call.signal?.removeEventListener("abort", callerAborted);
  }
}

/** A fetch that sends the same Request again (a clone: same Idempotency-Key) after a network error or a timeout,
 * 429, 503, a 409 `idempotency_key_in_use` that says when to come back, or another 5xx, as long as that cannot
 * apply it twice. The caller's abort ends it at once (its reason is thrown, never retried). `answered` learns
 * the last response and how many tries it took. */
export function retryingFetch(
  baseFetch: typeof fetch,
  policy: RetryPolicy,
  sleep: Sleep,
  call: Attempting,
  answered: (response: Response, attempts: number) => void,
): (request: Request) => Promise<Response> {
  return async (request: Request): Promise<Response> => {
    for (let retry = 0; ; retry++) {
      if (call.signal?.aborted) throw call.signal.reason;
      let response: Response;
      try {
        response = await attempt(baseFetch, request, call);
      } catch (error) {
        if (call.signal?.aborted) throw call.signal.reason;
        if (retry >= policy.maxRetries || !replaySafe(request)) {
          throw error instanceof ApiTimeoutError ? error : new ApiConnectionError(error);
        }
        await sleep(backoffS(policy, retry), call.signal);
        continue;
      }
      const waited = retryAfterS(response.headers);
      if (
        retry >= policy.maxRetries ||
        !(await shouldRetry(request, response)) ||
        (waited !== null && waited > policy.maxWaitS)
      ) {
        answered(response, retry + 1);
        return response;
      }
      await sleep(waited ?? backoffS(policy, retry), call.signal);
    }
  };
}

export function responseInfo(response: Response, attempts: number): ResponseInfo {
  return {
    status: response.status,
    requestId: response.headers.get("Request-Id"),
    rateLimit: parseRateLimit(response.headers),
    idempotentReplayed: response.headers.get("Idempotent-Replayed") === "true",
    attempts,
  };
}
