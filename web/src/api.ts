// The API client: same origin (`/v1/**` is proxied by `make dev` and rewritten by Firebase Hosting to the
// `api` function), the signed-in user's ID token as bearer, errors turned into sentences.

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

// Friendlier words for the codes a dashboard user meets; the API's own message is used otherwise.
const FRIENDLY: Record<string, string> = {
  maintenance_mode: "The platform is in maintenance right now. Please try again in a few minutes.",
  insufficient_credits: "Not enough credits for this. Buy a package on the Buy credits page.",
  invalid_id_token: "Your session has expired. Please sign in again.",
  missing_id_token: "Please sign in.",
  admin_required: "Only administrators can do this.",
};

export interface CallOptions {
  body?: unknown;
  bearer?: string; // an API key instead of the user's ID token (the jobs page)
  idempotencyKey?: string;
}

export async function call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const token = options.bearer ?? (await tokenSource());
  if (token) headers.Authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError("The platform could not be reached. Check that it is running and try again.", 0, "network");
  }
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = (data as { error?: { code?: string; message?: string } } | null)?.error;
    const code = error?.code ?? "http_error";
    const message =
      FRIENDLY[code] ?? error?.message ?? `The platform answered with an error (HTTP ${response.status}).`;
    throw new ApiError(message, response.status, code);
  }
  return data as T;
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

export interface Account {
  user_id: string;
  email: string | null;
  credits: number;
  founding_member: boolean;
  founding_member_number: number | null;
  created_at: number;
}

export interface ApiKey {
  key_id: string;
  name: string;
  environment: "live" | "test";
  livemode: boolean;
  key_prefix: string;
  status: "active" | "revoked" | "expired";
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
  revoked_at: number | null;
  rolled_to_key_id: string | null;
  key?: string;
  rolled_from?: ApiKey;
}

export interface Webhook {
  webhook_id: string;
  url: string;
  events: string[];
  enabled: boolean;
  disabled_reason: string | null;
  last_triggered_at: number | null;
  last_status_code: number | null;
  previous_secret_expires_at: number | null;
  secret?: string | null;
  // Endpoint health, when the API reports it.
  status?: string;
  consecutive_failures?: number;
  backlog?: number;
}

export interface Delivery {
  event_id: string;
  event_type: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  next_attempt_at: number | null;
  created_at: number;
}

export interface PaymentMethod {
  payment_method_id: string;
  brand: string | null;
  last4: string | null;
  exp_month: number | null;
  exp_year: number | null;
  is_default: boolean;
}

export interface CreditPackage {
  package: string;
  name: string;
  credits: number;
  price: number;
  currency: string;
  bonus_percent?: number;
}

export interface Purchase {
  purchase_id: string;
  package: string;
  credits: number;
  amount: number;
  currency: string;
  status: string;
  credits_granted: boolean;
  failure_code: string | null;
}

export interface LedgerEntry {
  entry_id: string;
  type: string;
  amount: number;
  balance_after: number;
  reference: string | null;
  description: string | null;
  created_at: number;
}

export interface Job {
  job_id: string;
  type: string;
  status: string;
  input: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: string | null;
  failure_reason: string | null;
  livemode: boolean;
  cost: number | null; // null: a metered job not completed yet
  reserved_credits: number;
  usage: { units: number; unit: string } | null;
  attempts: number;
  max_attempts: number;
  created_at: number;
  finished_at: number | null;
}

export type JobPricing = { credits: number } | { credits_per_unit: number; max_credits: number; unit: string };

export interface JobTypeListing {
  type: string;
  description: string;
  pricing: JobPricing;
}

export interface JobTypeAdmin extends JobTypeListing {
  worker_url: string | null;
  timeout_s: number;
  max_attempts: number;
  queue_timeout_s: number;
  legacy: boolean;
  created_at: number | null;
  updated_at: number | null;
  worker_secret?: string | null;
}

/** "5 credits" or "2 credits per second, at most 100". */
export function priceText(pricing: JobPricing): string {
  if ("credits" in pricing) return `${pricing.credits} credits`;
  return `${pricing.credits_per_unit} credits per ${pricing.unit}, at most ${pricing.max_credits}`;
}

export interface AdminStats {
  total_users: number;
  total_jobs: number;
  founding_member_count: number;
  maintenance_mode: boolean;
}
