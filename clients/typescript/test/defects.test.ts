// The TypeScript client's defects an integrating developer met, each against a scripted server on 127.0.0.1:
// timeouts and the caller's AbortSignal, what a POST without a key may resend, every terminal status, expanded
// pages, per-call request metadata, configuration from the environment, cancel and job types, answers that do
// not parse, and webhook headers as Node's http has them with a tolerance.
import assert from "node:assert/strict";
import type { IncomingHttpHeaders } from "node:http";
import { after, before, beforeEach, test } from "node:test";
import { Webhook } from "standardwebhooks";
import {
  ApiConnectionError,
  ApiError,
  ApiTimeoutError,
  ConfigurationError,
  createClient,
  ResponseParseError,
  TERMINAL_JOB_STATUSES,
  WebhookVerificationError,
  type CreditsClient,
} from "../src/index.js";
import { ScriptedServer } from "./scripted.js";

const JOB = {
  job_id: "job_1",
  type: "echo",
  status: "queued",
  input: {},
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
const server = new ScriptedServer();
let baseUrl = "";
const noWait = async (): Promise<void> => undefined;
const client = (options: { maxRetries?: number; timeoutMs?: number } = {}): CreditsClient =>
  createClient({ apiKey: "sk_test_x", baseUrl, sleep: noWait, ...options });
const sentSince = (start: number) => server.received.slice(start);

before(async () => {
  baseUrl = await server.start();
  server.respond({ status: 200, body: JOB });
  await client().jobs.get("job_1"); // the first connection's set-up is not counted against a timeout
});
beforeEach(() => server.clear());
after(() => server.stop());

test("a hung answer is a timeout: the client's default and per call", async () => {
  let start = server.received.length;
  server.respond({ status: 200, body: JOB, delayMs: 2000 });
  await assert.rejects(client({ timeoutMs: 250, maxRetries: 0 }).jobs.get("job_1"), (e: unknown) => {
    assert.ok(e instanceof ApiTimeoutError && e instanceof ApiConnectionError);
    assert.equal(e.code, "timeout");
    return true;
  });
  // A GET is tried again after a timeout; a call's own timeout wins over the client's.
  server.respond({ status: 200, body: JOB, delayMs: 2000 }, { status: 200, body: JOB });
  const job = await client({ timeoutMs: 60_000 }).jobs.get("job_1", { timeoutMs: 250 });
  assert.equal(job.lastResponse.attempts, 2);
  assert.equal(sentSince(start).length, 3);
  start = server.received.length;
  server.respond({ status: 200, body: JOB, delayMs: 300 });
  assert.equal((await client({ timeoutMs: 50 }).jobs.get("job_1", { timeoutMs: 5_000 })).job_id, "job_1");
  assert.equal(sentSince(start).length, 1);
});

test("the caller's abort ends the call at once and is never retried", async () => {
  const start = server.received.length;
  server.respond({ status: 200, body: JOB, delayMs: 2000 }, { status: 200, body: JOB });
  const controller = new AbortController();
  const call = client().jobs.get("job_1", { signal: controller.signal });
  setTimeout(() => controller.abort(), 250);
  await assert.rejects(call, (e: unknown) => e instanceof Error && e.name === "AbortError");
  assert.equal(sentSince(start).length, 1);
  await assert.rejects(client().jobs.get("job_1", { signal: AbortSignal.abort() }), (e: unknown) => (e as Error).name === "AbortError");
  assert.equal(sentSince(start).length, 1);
});

for (const status of [429, 503]) {
  test(`a POST without an Idempotency-Key is not resent after ${status}`, async () => {
    const start = server.received.length;
    server.respond({ status, body: { error: { type: "x", code: "refused", message: "no" } }, headers: { "Retry-After": "1" } });
    await assert.rejects(client().apiKeys.create({ name: "k" }), (e: unknown) => e instanceof ApiError && e.status === status);
    assert.equal(sentSince(start).length, 1);
  });
}

for (const status of TERMINAL_JOB_STATUSES) {
  test(`wait ends on ${status}`, async () => {
    const start = server.received.length;
    server.respond({ status: 200, body: { ...JOB, status: "running" } }, { status: 200, body: { ...JOB, status } });
    const job = await client().jobs.wait("job_1", { intervalS: 0.01, timeoutS: 5 });
    assert.equal(job.status, status);
    assert.equal(sentSince(start).length, 2);
  });
}

test("the terminal statuses are the description's", async () => {
  const { readFile } = await import("node:fs/promises");
  const document = JSON.parse(await readFile(new URL("../../../openapi.json", import.meta.url), "utf8"));
  assert.deepEqual([...TERMINAL_JOB_STATUSES].sort(), [...document.components.schemas.JobStatus["x-terminal"]].sort());
});

test("listAll with expand pages at a size the server allows", async () => {
  const start = server.received.length;
  server.respond({ status: 200, body: { data: [JOB], has_more: false, next_cursor: null } });
  const ids: string[] = [];
  for await (const job of client().jobs.listAll({ expand: ["data.result"] })) ids.push(job.job_id);
  assert.deepEqual(ids, ["job_1"]);
  assert.equal(decodeURIComponent(sentSince(start)[0].url), "/api/v1/jobs?limit=20&expand[]=data.result");
});

test("concurrent calls each carry their own request metadata", async () => {
  server.respond(
    { status: 200, body: JOB, headers: { "Request-Id": "req_a" }, delayMs: 200 },
    { status: 200, body: JOB, headers: { "Request-Id": "req_b" } },
  );
  const api = client();
  const [slow, fast] = await Promise.all([api.jobs.get("job_1"), api.jobs.get("job_1")]);
  assert.deepEqual([slow.lastResponse.requestId, fast.lastResponse.requestId].sort(), ["req_a", "req_b"]);
  assert.notEqual(slow.lastResponse.requestId, fast.lastResponse.requestId);
});

test("configuration from the environment; no base URL is a clear error", async () => {
  const saved = { key: process.env.CREDITS_API_KEY, url: process.env.CREDITS_BASE_URL };
  try {
    process.env.CREDITS_API_KEY = "sk_test_env";
    process.env.CREDITS_BASE_URL = baseUrl;
    server.respond({ status: 200, body: JOB });
    await createClient().jobs.get("job_1");
    assert.equal(server.received.at(-1)!.headers.authorization, "Bearer sk_test_env");
    delete process.env.CREDITS_BASE_URL;
    assert.throws(() => createClient(), (e: unknown) => e instanceof ConfigurationError && /CREDITS_BASE_URL/.test(e.message));
    process.env.CREDITS_BASE_URL = baseUrl;
    delete process.env.CREDITS_API_KEY;
    assert.throws(() => createClient(), (e: unknown) => e instanceof ConfigurationError && /CREDITS_API_KEY/.test(e.message));
  } finally {
    for (const [name, value] of [["CREDITS_API_KEY", saved.key], ["CREDITS_BASE_URL", saved.url]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
});

test("cancel, job types and an answer that does not parse", async () => {
  const start = server.received.length;
  server.respond(
    { status: 200, body: { ...JOB, status: "canceled" } },
    { status: 200, body: { data: [{ type: "echo", description: "Echo", pricing: { credits: 1 } }], has_more: false, next_cursor: null } },
    { status: 200, raw: "not json", headers: { "Content-Type": "application/json", "Request-Id": "req_9" } },
  );
  const api = client();
  assert.equal((await api.jobs.cancel("job_1")).status, "canceled");
  assert.deepEqual((await api.jobTypes.list()).data.map((t) => t.type), ["echo"]);
  await assert.rejects(api.jobs.get("job_1"), (e: unknown) => {
    assert.ok(e instanceof ResponseParseError && e instanceof ApiError);
    assert.equal(e.requestId, "req_9");
    return true;
  });
  assert.deepEqual(
    sentSince(start).map((r) => `${r.method} ${r.url}`),
    ["POST /api/v1/jobs/job_1/cancel", "GET /api/v1/job_types", "GET /api/v1/jobs/job_1"],
  );
});

test("webhooks: Node's IncomingHttpHeaders and a tolerance", () => {
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const body = JSON.stringify({ id: "evt_1", type: "job.canceled", created: 1, livemode: false, data: { object: JOB } });
  const sent = new Date("2026-01-01T00:00:00Z");
  const headers: IncomingHttpHeaders = {
    "webhook-id": "msg_1",
    "webhook-timestamp": String(sent.getTime() / 1000),
    "webhook-signature": new Webhook(secret).sign("msg_1", sent, body),
    "x-forwarded-for": ["a", "b"],
    host: undefined,
  };
  const later = new Date(sent.getTime() + 10 * 60_000);
  const api = client();
  assert.throws(() => api.webhooks.verify(headers, body, secret, { now: later }), /too old/);
  const event = api.webhooks.verify(headers, Buffer.from(body), secret, { now: later, toleranceS: 900 });
  assert.equal(event.job?.job_id, "job_1");
  assert.throws(() => api.webhooks.verify(headers, body + " ", secret, { now: sent }), WebhookVerificationError);
});

test("credit grants and auto top-up", async () => {
  const start = server.received.length;
  const settings = { enabled: true, threshold: 10, package: "starter", monthly_limit_cents: 5000, low_balance_threshold: null };
  server.respond(
    { status: 200, body: { data: [], has_more: false, next_cursor: null } },
    { status: 200, body: { ...settings, disabled_reason: null, month_spent_cents: 0, in_progress: false } },
    { status: 200, body: { ...settings, disabled_reason: null, month_spent_cents: 0, in_progress: false } },
  );
  const api = client();
  assert.deepEqual((await api.creditGrants.list({ limit: 5 })).data, []);
  assert.equal((await api.autoTopUp.set({ enabled: true, threshold: 10, package: "starter", monthly_limit_cents: 5000 })).package, "starter");
  assert.equal((await api.autoTopUp.get()).threshold, 10);
  const sent = sentSince(start);
  assert.deepEqual(sent.map((r) => `${r.method} ${r.url}`), ["GET /api/v1/credit_grants?limit=5", "PUT /api/v1/auto_top_up", "GET /api/v1/auto_top_up"]);
  assert.deepEqual(JSON.parse(sent[1].body), { enabled: true, threshold: 10, package: "starter", monthly_limit_cents: 5000 });
});

test("jobs.create sends runAt as unix seconds", async () => {
  const start = server.received.length;
  server.respond({ status: 201, body: JOB });
  await client().jobs.create({ type: "echo", input: {}, runAt: new Date("2026-01-01T01:00:00Z") });
  assert.deepEqual(JSON.parse(sentSince(start)[0].body), { type: "echo", input: {}, run_at: 1767229200 });
});
