// Verifying the platform's webhooks (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature): the
// signature is the `standardwebhooks` package's, the timestamp is checked here against the caller's tolerance.

import { Webhook, WebhookVerificationError } from "standardwebhooks";
import type { components } from "./schema.js";

export { WebhookVerificationError };

export const DEFAULT_TOLERANCE_S = 300;

/** A verified event: `{id, type, created, livemode, data: {object}}`. */
export interface WebhookEvent {
  id: string;
  type: string; // job.completed, job.failed, job.canceled, webhook.test...
  created: number; // Unix seconds
  livemode: boolean;
  data: { object: Record<string, unknown> };
  /** The job of a `job.*` event, typed as `client.jobs.get` answers it. */
  job: components["schemas"]["Job"] | null;
}

/** A request's headers as fetch (`Headers`), Node's http (`IncomingHttpHeaders`) or a plain object has them. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** How far the webhook-timestamp may be from now, either way (default 300 s). */
  toleranceS?: number;
  /** The time to check against (default: now). */
  now?: Date;
}

function lowered(headers: WebhookHeaders): Record<string, string> {
  const found: Record<string, string> = {};
  const entries: [string, string | string[] | undefined][] =
    headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
  for (const [name, value] of entries) {
    if (value !== undefined) found[name.toLowerCase()] = Array.isArray(value) ? value.join(" ") : value;
  }
  return found;
}

function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

export class Webhooks {
  /** The event, once its signature (by `secret`, the endpoint's `whsec_...`) and timestamp (within `toleranceS`)
   * check out; throws WebhookVerificationError otherwise. Pass the body exactly as received (a string, or the
   * raw bytes: a Buffer or Uint8Array). */
  verify(headers: WebhookHeaders, body: string | Uint8Array, secret: string, options: VerifyOptions = {}): WebhookEvent {
    const found = lowered(headers);
    const id = found["webhook-id"];
    const timestampText = found["webhook-timestamp"];
    const signatures = found["webhook-signature"];
    if (!id || !timestampText || !signatures) throw new WebhookVerificationError("Missing required headers");
    const timestamp = Number(timestampText);
    if (!/^\d+$/.test(timestampText.trim())) throw new WebhookVerificationError("Invalid Signature Headers");
    const tolerance = options.toleranceS ?? DEFAULT_TOLERANCE_S;
    const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
    if (now - timestamp > tolerance) throw new WebhookVerificationError("Message timestamp too old");
    if (timestamp - now > tolerance) throw new WebhookVerificationError("Message timestamp too new");
    const expected = new Webhook(secret).sign(id, new Date(timestamp * 1000), body);
    if (!signatures.split(" ").some((signature) => sameText(signature, expected))) {
      throw new WebhookVerificationError("No matching signature found");
    }
    const text = typeof body === "string" ? body : new TextDecoder().decode(body);
    let payload: Partial<WebhookEvent> | null;
    try {
      payload = JSON.parse(text) as Partial<WebhookEvent> | null;
    } catch {
      throw new WebhookVerificationError("The payload is not JSON.");
    }
    if (!payload || typeof payload !== "object") throw new WebhookVerificationError("The payload is not a JSON object.");
    const data = { object: (payload.data?.object ?? {}) as Record<string, unknown> };
    const type = String(payload.type ?? "");
    return {
      id: String(payload.id ?? ""),
      type,
      created: Number(payload.created ?? 0),
      livemode: Boolean(payload.livemode),
      data,
      job: type.startsWith("job.") ? (data.object as components["schemas"]["Job"]) : null,
    };
  }
}
