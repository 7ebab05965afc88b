// The dashboard's API access: the customers' TypeScript client (clients/typescript, `credits-client`) on the
// same origin (`/v1/**` is proxied by `make dev` and rewritten by Firebase Hosting to the `api` function), the
// signed-in user's ID token as bearer; its errors turned into sentences for the page.

import {
  ApiError as ClientError,
  createClient,
  type CreditsClient,
  type components,
} from "credits-client";

type Schemas = components["schemas"];

/** An error the page shows: the client's ApiError in friendlier words. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
  }
}

type TokenSource = () => Promise<string | null>;
let tokenSource: TokenSource = async () => null;

export function setTokenSource(source: TokenSource): void {
  tokenSource = source;
}

/** The signed-in user's client: a fresh ID token on every request. */
export const api: CreditsClient = createClient({ apiKey: () => tokenSource(), baseUrl: "" });

/** A client of one of the user's API keys (the jobs page). */
export function keyClient(key: string): CreditsClient {
  return createClient({ apiKey: key, baseUrl: "" });
}

// Friendlier words for the codes a dashboard user meets; the API's own message is used otherwise.
const FRIENDLY: Record<string, string> = {
  maintenance_mode: "The platform is in maintenance right now. Please try again in a few minutes.",
  insufficient_credits: "Not enough credits for this. Buy a package on the Buy credits page.",
  invalid_id_token: "Your session has expired. Please sign in again.",
  missing_id_token: "Please sign in.",
  admin_required: "Only administrators can do this.",
  connection_error: "The platform could not be reached. Check that it is running and try again.",
};

/** The answer of a client call, its error in the dashboard's words. */
export async function friendly<T>(answer: Promise<T>): Promise<T> {
  try {
    return await answer;
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    const message = FRIENDLY[error.code] ?? error.message;
    throw new ApiError(message, error.status, error.code);
  }
}

export interface CallOptions {
  body?: unknown;
  bearer?: string; // an API key instead of the user's ID token
  idempotencyKey?: string;
}

/** Any operation by method and path, through the client (its retries, errors and Idempotency-Key). */
export function call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
  const client = options.bearer ? keyClient(options.bearer) : api;
  return friendly(client.send<T>(method, path, { body: options.body, idempotencyKey: options.idempotencyKey }));
}

/**
 * One Idempotency-Key per change the user means to make (a purchase of this package with this card, an
 * adjustment of these credits): the same key is sent again when the user retries after a timeout, a
 * network error or a 5xx, which may have applied it already, so the API answers the first result instead
 * of applying it twice. It is forgotten once the API has answered the change (2xx): the next click is a
 * new change. Kept in sessionStorage, so a reload of the tab still retries with the same key.
 */
export class IntentKeys {
  constructor(private readonly storageKey: string) {}

  keyFor(intent: string): string {
    const keys = this.load();
    let key = keys[intent];
    if (!key) {
      key = crypto.randomUUID();
      keys[intent] = key;
      this.save(keys);
    }
    return key;
  }

  answered(intent: string): void {
    const keys = this.load();
    delete keys[intent];
    this.save(keys);
  }

  private load(): Record<string, string> {
    try {
      const parsed: unknown = JSON.parse(window.sessionStorage.getItem(this.storageKey) ?? "{}");
      return parsed && typeof parsed === "object" ? (parsed as Record<string, string>) : {};
    } catch {
      return {};
    }
  }

  private save(keys: Record<string, string>): void {
    try {
      window.sessionStorage.setItem(this.storageKey, JSON.stringify(keys));
    } catch {
      // Storage refused (private mode, quota): the keys then last as long as this page.
    }
  }
}

/** GET that answers null for 404: optional resources (the webhook) and routes that may not exist yet. */
export async function optional<T>(path: string, options: CallOptions = {}): Promise<T | null> {
  try {
    return await call<T>("GET", path, options);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 405)) return null;
    throw error;
  }
}

export interface Page<T> {
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

// The resources, as the API's OpenAPI description (and so the client) types them.
export type Account = Schemas["Account"];
/** A key as listed; a new or rolled key also carries its plaintext once. */
export type ApiKey = Schemas["ApiKey"] & { key?: string; rolled_from?: Schemas["ApiKey"] };
export type Webhook = Schemas["WebhookEndpoint"];
export type Delivery = Schemas["DeliveryAttempt"];
export type PaymentMethod = Schemas["PaymentMethod"];
export type CreditPackage = Schemas["CreditPackage"];
export type Purchase = Schemas["Purchase"];
export type LedgerEntry = Schemas["LedgerEntry"];
export type CreditGrant = Schemas["CreditGrant"];
export type AutoTopUp = Schemas["AutoTopUp"];
export type Job = Schemas["Job"];
export type AdminStats = Schemas["AdminStats"];
export type UsageReport = Schemas["UsageReport"];
export type JobTypeListing = Schemas["JobTypeListing"];
export type JobTypeAdmin = Schemas["JobType"];
export type JobPricing = JobTypeListing["pricing"];

/** "5 credits" or "2 credits per second, at most 100". */
export function priceText(pricing: JobPricing): string {
  if ("credits" in pricing) return `${pricing.credits} credits`;
  return `${pricing.credits_per_unit} credits per ${pricing.unit}, at most ${pricing.max_credits}`;
}
