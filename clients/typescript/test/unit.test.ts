// The TypeScript client's own layer against a scripted server on 127.0.0.1: retries and what they may resend,
// Retry-After, one Idempotency-Key per call, errors as ApiError, RateLimit fields, pagination, webhooks.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Webhook } from "standardwebhooks";
import {
  ApiConnectionError,
  ApiError,
  createClient,
  InsufficientCreditsError,
  RateLimitedError,
  WebhookVerificationError,
  type CreditsClient,
} from "../src/index.js";
import { ScriptedServer } from "./scripted.js";

const JOB = {
  job_id: "job_1",
  type: "echo",
  status: "queued",
  input: { a: 1 },
  result: null,
  error: null,
  failure_reason: null,
  livemode: false,
  cost: 0,
  reserved_credits: 0,
  usage: null,
  attempts: 0,
  max_attempts: 3,
  created_at: 1700000000,
  finished_at: null,
};
const error = (status: number, code: string, headers: Record<string, string> = {}) => ({
  status,
  headers,
  body: { error: { type: "x", code, message: `${code}!` } },
});

const server = new ScriptedServer();
let baseUrl = "";
const waits: number[] = [];
const client = (maxRetries = 4, apiKey = "sk_test_x"): CreditsClient =>
  createClient({ apiKey, baseUrl, maxRetries, sleep: async (s) => void waits.push(s) });

before(async () => {
  baseUrl = await server.start();
});
after(() => server.stop());

test("a job is typed and the response details are kept", async () => {
  server.respond({ status: 201, body: JOB, headers: { "Idempotent-Replayed": "true" } });
  const api = client();
  const job = await api.jobs.create({ type: "echo", input: { a: 1 } });
  assert.equal(job.job_id, "job_1");
  const request = server.received.at(-1)!;
  assert.equal(request.method, "POST");
  assert.equal(request.url, "/api/v1/jobs");
  assert.equal(request.headers.authorization, "Bearer sk_test_x");
  assert.deepEqual(JSON.parse(request.body), { type: "echo", input: { a: 1 } });
  assert.equal(String(request.headers["idempotency-key"]).length, 36);
  assert.equal(job.lastResponse.requestId, "req_1");
  assert.equal(job.lastResponse.idempotentReplayed, true);
  assert.deepEqual(JSON.parse(JSON.stringify(job)), JOB); // the metadata is not part of the resource's JSON
  assert.deepEqual(job.lastResponse.rateLimit, { name: "key", limit: 25, windowS: 1, remaining: 24, resetS: 1 });
});

test("retries reuse one Idempotency-Key and honour Retry-After", async () => {
  const before = server.received.length;
  waits.length = 0;
  server.respond(
    error(503, "service_unavailable", { "Retry-After": "7" }),
    error(429, "rate_limited", { "Retry-After": "2" }),
    error(409, "idempotency_key_in_use", { "Retry-After": "1" }),
    error(500, "internal_error"),
    { status: 201, body: JOB },
  );
  const api = client();
  const job = await api.jobs.create({ type: "echo", input: {} });
  assert.equal(job.job_id, "job_1");
  const sent = server.received.slice(before);
  assert.equal(sent.length, 5);
  assert.equal(new Set(sent.map((r) => r.headers["idempotency-key"])).size, 1);
  assert.deepEqual(waits.slice(0, 3), [7, 2, 1]);
  assert.equal(job.lastResponse.attempts, 5);
});

test("what is not retried", async () => {
  const before = server.received.length;
  const api = client();
  // Maintenance asks for a minute: the caller hears it at once, with when to come back.
  server.respond(error(503, "maintenance_mode", { "Retry-After": "60" }));
  await assert.rejects(api.jobs.get("job_1"), (e: unknown) => e instanceof ApiError && e.code === "maintenance_mode" && e.retryAfterS === 60);
  server.respond(error(409, "idempotency_key_in_use"));
  await assert.rejects(api.jobs.create({ type: "echo", input: {} }, { idempotencyKey: "k1" }), (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 409);
    assert.equal(e.code, "idempotency_key_in_use");
    return true;
  });
  server.respond(error(402, "insufficient_credits"));
  await assert.rejects(api.jobs.create({ type: "echo", input: {} }), (e: unknown) => {
    assert.ok(e instanceof InsufficientCreditsError);
    assert.equal(e.requestId, "req_1");
    assert.equal(e.message, "insufficient_credits!");
    return true;
  });
  // A POST without an Idempotency-Key is not sent again after a 5xx.
  server.respond(error(500, "internal_error"));
  await assert.rejects(api.apiKeys.create({ name: "k" }), (e: unknown) => e instanceof ApiError && e.status === 500);
  assert.equal(server.received.length - before, 4);
});

test("429 after the retries is a typed error; odd error bodies are ApiErrors", async () => {
  const api = client(1);
  server.respond(error(429, "rate_limited", { "Retry-After": "1" }), error(429, "rate_limited", { "Retry-After": "1" }));
  await assert.rejects(api.jobs.get("job_1"), (e: unknown) => {
    assert.ok(e instanceof RateLimitedError);
    assert.equal(e.retryAfterS, 1);
    assert.equal(e.rateLimit?.limit, 25);
    return true;
  });
  server.respond({ status: 502, raw: "<html>bad gateway</html>" }, { status: 502, raw: "<html>bad gateway</html>" });
  await assert.rejects(api.jobs.get("job_1"), (e: unknown) => e instanceof ApiError && e.code === "http_error");
});

test("an unreachable platform is a connection error after the retries", async () => {
  waits.length = 0;
  const api = createClient({ apiKey: "sk_test_x", baseUrl: "http://127.0.0.1:9", maxRetries: 2, sleep: async (s) => void waits.push(s) });
  await assert.rejects(api.jobs.get("job_1"), (e: unknown) => e instanceof ApiConnectionError && e.status === 0);
  assert.equal(waits.length, 2);
});

test("listAll follows the cursors", async () => {
  const before = server.received.length;
  server.respond(
    { status: 200, body: { data: [0, 1, 2].map((i) => ({ ...JOB, job_id: `job_${i}` })), has_more: true, next_cursor: "job_2" } },
    { status: 200, body: { data: [{ ...JOB, job_id: "job_3" }], has_more: false, next_cursor: null } },
  );
  const ids: string[] = [];
  for await (const job of client().jobs.listAll({ limit: 3, status: "queued" })) ids.push(job.job_id);
  assert.deepEqual(ids, ["job_0", "job_1", "job_2", "job_3"]);
  const [first, second] = server.received.slice(before);
  assert.equal(first.url, "/api/v1/jobs?limit=3&status=queued");
  assert.equal(second.url, "/api/v1/jobs?limit=3&status=queued&starting_after=job_2");
});

test("the credential may be a function (fresh ID tokens)", async () => {
  server.respond({ status: 200, body: { user_id: "u", email: null, credits: 3, founding_member: false, founding_member_number: null, created_at: 1 } });
  const api = createClient({ apiKey: async () => "id-token-1", baseUrl });
  assert.equal((await api.account.get()).credits, 3);
  assert.equal(server.received.at(-1)!.headers.authorization, "Bearer id-token-1");
});

test("webhook verification uses standardwebhooks", () => {
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const body = JSON.stringify({ id: "evt_1", type: "job.completed", created: 1, livemode: true, data: { object: JOB } });
  const now = new Date();
  const headers = {
    "Webhook-Id": "msg_1",
    "Webhook-Timestamp": String(Math.floor(now.getTime() / 1000)),
    "Webhook-Signature": new Webhook(secret).sign("msg_1", now, body),
  };
  const event = client().webhooks.verify(headers, body, secret);
  assert.equal(event.type, "job.completed");
  assert.equal(event.job?.job_id, "job_1");
  assert.throws(() => client().webhooks.verify(headers, body.replace("job_1", "job_2"), secret), WebhookVerificationError);
});
