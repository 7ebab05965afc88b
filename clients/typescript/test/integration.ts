// The TypeScript client against the real local platform, under Node. tests/integration/test_clients.py seeds
// the platform, starts the dropping proxy and runs this with CREDITS_* variables.
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { ApiError, createClient, InsufficientCreditsError, RateLimitedError } from "../src/index.js";

const env = (name: string): string => {
  const value = process.env[name];
  assert.ok(value, `${name} is not set (tests/integration/test_clients.py sets it)`);
  return value;
};
const baseUrl = env("CREDITS_BASE_URL");
const signedIn = createClient({ apiKey: env("CREDITS_ID_TOKEN"), baseUrl });

test("the TypeScript client on the local platform", async (t) => {
  const newKey = await signedIn.apiKeys.create({ name: "node", environment: "live" });
  assert.ok(newKey.key.startsWith("sk_live_"));
  const client = createClient({ apiKey: newKey.key, baseUrl });

  await t.test("a job runs to completion; RateLimit fields are surfaced", async () => {
    const created = await client.jobs.create({ type: "echo", input: { hello: "node" } });
    assert.equal(created.status, "queued");
    assert.equal(created.lastResponse.status, 201);
    assert.ok(created.lastResponse.requestId?.startsWith("req_"));
    assert.equal(created.lastResponse.rateLimit?.name, "key");
    const done = await client.jobs.wait(created.job_id);
    assert.equal(done.status, "completed");
    assert.deepEqual(done.result, { hello: "node" });
  });

  await t.test("250 jobs, page after page", async () => {
    const paged = createClient({ apiKey: env("CREDITS_PAGED_KEY"), baseUrl });
    const ids: string[] = [];
    for await (const job of paged.jobs.listAll()) ids.push(job.job_id);
    assert.equal(ids.length, 250);
    assert.deepEqual([...ids].sort(), JSON.parse(env("CREDITS_PAGED_IDS")));
    const expanded: string[] = [];
    for await (const job of paged.jobs.listAll({ expand: ["data.result"] })) expanded.push(job.job_id);
    assert.deepEqual(expanded, ids);
  });

  await t.test("job types, credit grants, auto top-up and a 409 cancel", async () => {
    assert.ok((await client.jobTypes.list({ limit: 100 })).data.some((listing) => listing.type === "echo"));
    for await (const grant of client.creditGrants.listAll()) assert.ok(grant.remaining <= grant.amount);
    assert.equal((await signedIn.autoTopUp.get()).enabled, false);
    const job = await client.jobs.wait((await client.jobs.create({ type: "echo", input: {} })).job_id);
    await assert.rejects(client.jobs.cancel(job.job_id), (e: unknown) => e instanceof ApiError && e.status === 409);
  });

  await t.test("402 and 429 are typed errors", async () => {
    const poor = createClient({ apiKey: env("CREDITS_POOR_KEY"), baseUrl });
    await assert.rejects(poor.jobs.create({ type: "echo", input: {} }), (e: unknown) => {
      assert.ok(e instanceof InsufficientCreditsError);
      assert.equal(e.status, 402);
      assert.equal(e.code, "insufficient_credits");
      assert.ok(e.requestId?.startsWith("req_"));
      return true;
    });
    const slowKey = (await signedIn.apiKeys.create({ name: "slow", environment: "test", rate_limit: 1 })).key;
    const impatient = createClient({ apiKey: slowKey, baseUrl, maxRetries: 0 });
    let limited: unknown = null;
    for (let i = 0; i < 10 && limited === null; i++) {
      try {
        await impatient.whoami();
      } catch (error) {
        limited = error;
      }
    }
    assert.ok(limited instanceof RateLimitedError, String(limited));
    assert.equal(limited.code, "rate_limited");
    assert.ok((limited.retryAfterS ?? 0) >= 1);
    assert.equal(limited.rateLimit?.remaining, 0);
    assert.ok((await createClient({ apiKey: slowKey, baseUrl }).whoami()).key_id);
  });

  await t.test("a POST whose answer is lost is retried with the same Idempotency-Key", async () => {
    const through = createClient({ apiKey: newKey.key, baseUrl: env("CREDITS_PROXIED_BASE_URL") });
    const retried = await through.jobs.create({ type: "echo", input: { retry: true } });
    assert.equal(retried.lastResponse.attempts, 2);
    assert.equal(retried.lastResponse.idempotentReplayed, true);
  });

  await t.test("a delivered webhook is verified", async () => {
    const received: { headers: IncomingHttpHeaders; body: string }[] = [];
    const receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        received.push({ headers: request.headers, body: Buffer.concat(chunks).toString() });
        response.end("ok");
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const endpoint = await signedIn.webhookEndpoint.set({ url, events: ["job.completed"] });
      assert.ok(endpoint.secret);
      const job = await client.jobs.create({ type: "echo", input: { hook: 1 } });
      await client.jobs.wait(job.job_id);
      const deadline = Date.now() + 30_000;
      let delivery = received.find((r) => r.body.includes(job.job_id));
      while (!delivery && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        delivery = received.find((r) => r.body.includes(job.job_id));
      }
      assert.ok(delivery, "job.completed was not delivered within 30 s");
      const headers = Object.fromEntries(Object.entries(delivery.headers).map(([k, v]) => [k, String(v)]));
      const event = client.webhooks.verify(headers, delivery.body, endpoint.secret);
      assert.equal(event.type, "job.completed");
      assert.equal(event.job?.job_id, job.job_id);
    } finally {
      receiver.closeAllConnections();
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});
