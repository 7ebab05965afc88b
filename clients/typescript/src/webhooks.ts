// Verifying the platform's webhooks (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature) with
// the `standardwebhooks` package.

import { Webhook, WebhookVerificationError } from "standardwebhooks";
import type { components } from "./schema.js";

export { WebhookVerificationError };

/** A verified event: `{id, type, created, livemode, data: {object}}`. */
export interface WebhookEvent {
  id: string;
  type: string; // job.completed, job.failed, webhook.test...
  created: number; // Unix seconds
  livemode: boolean;
  data: { object: Record<string, unknown> };
  /** The job of a `job.*` event, typed as `client.jobs.get` answers it. */
  job: components["schemas"]["Job"] | null;
}

export class Webhooks {
  /** The event, once its signature (by `secret`, the endpoint's `whsec_...`) and timestamp (within 5 minutes)
   * check out; throws WebhookVerificationError otherwise. Pass the body exactly as received. */
  verify(headers: Record<string, string> | Headers, body: string | Uint8Array, secret: string): WebhookEvent {
    const lowered: Record<string, string> = {};
    const entries = headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
    for (const [name, value] of entries) lowered[name.toLowerCase()] = value;
    const text = typeof body === "string" ? body : new TextDecoder().decode(body);
    const payload = new Webhook(secret).verify(text, lowered) as Partial<WebhookEvent> | null;
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
