import { call, IntentKeys, priceText, type AdminStats, type JobTypeAdmin, type LedgerEntry, type Page } from "../api";
import type { Session } from "../session";
import { button, field, h, notice, showError, table, when } from "../ui";

const adjustmentKeys = new IntentKeys("adjustment-keys");

/** Correct a customer's balance: an `adjustment` ledger entry whose description (the reason) they see. */
function adjustmentForm(): HTMLElement {
  const user = h("input", { name: "user-id", autocomplete: "off", required: true });
  const amount = h("input", { name: "amount", type: "number", step: "1", required: true });
  const reason = h("input", { name: "reason", maxlength: "500", required: true });
  const result = h("p", { role: "status", "aria-live": "polite", "data-testid": "adjustment" });
  return h(
    "section",
    { class: "card" },
    h("h2", {}, "Adjust a balance"),
    field("User id", user),
    field("Credits", amount, "Positive adds, negative takes (the balance may go below zero)."),
    field("Reason", reason, "Shown to the customer in their ledger."),
    button("Adjust balance", async () => {
      const credits = Number(amount.value);
      if (!user.value.trim() || !Number.isInteger(credits) || credits === 0 || !reason.value.trim()) {
        throw new Error("Give a user id, a whole non-zero number of credits and a reason.");
      }
      const intent = JSON.stringify([user.value.trim(), credits, reason.value]);
      const entry = await call<LedgerEntry>(
        "POST",
        `/v1/admin/users/${encodeURIComponent(user.value.trim())}/credit_adjustments`,
        { body: { amount: credits, reason: reason.value }, idempotencyKey: adjustmentKeys.keyFor(intent) },
      );
      adjustmentKeys.answered(intent);
      result.textContent = `${entry.amount > 0 ? "+" : ""}${entry.amount} credits; balance now ${entry.balance_after}.`;
      notice("Balance adjusted.");
    }),
    result,
  );
}

/** The operator's job types: list, create or replace, rotate the worker secret, delete (docs/jobs.md). */
async function jobTypesSection(root: HTMLElement): Promise<void> {
  const listBox = h("div", {});
  const secretBox = h("div", { "aria-live": "polite" });
  const name = h("input", { name: "job-type-name", placeholder: "transcribe", required: true });
  const url = h("input", { name: "worker-url", type: "url", placeholder: "https://worker.example.com/", required: true });
  const description = h("input", { name: "job-type-description" });
  const pricing = h("textarea", { name: "job-type-pricing", rows: 2 }, '{"credits": 1}');
  const timeout = h("input", { name: "timeout-s", type: "number", min: 1, max: 86400, value: 300 });
  const attempts = h("input", { name: "max-attempts", type: "number", min: 1, max: 10, value: 3 });
  const queueTimeout = h("input", { name: "queue-timeout-s", type: "number", min: 10, max: 604800, value: 3600 });
  const maxConcurrency = h("input", { name: "max-concurrency", type: "number", min: 1, max: 1000, value: 10 });
  const maxRate = h("input", { name: "max-rate-per-s", type: "number", min: 0.1, max: 1000, step: "any", placeholder: "no limit" });
  const completion = h(
    "select",
    { name: "completion" },
    h("option", { value: "response" }, "response (the answer ends the attempt)"),
    h("option", { value: "callback" }, "callback (202, then a callback; up to 24 h)"),
  );
  const testJobs = h(
    "select",
    { name: "test-jobs" },
    h("option", { value: "sample" }, "sample (answered with the sample result)"),
    h("option", { value: "worker" }, "worker (sent with livemode false)"),
  );
  const sampleResult = h("textarea", { name: "sample-result", rows: 2 }, "{}");
  const cancelPolicy = h(
    "select",
    { name: "cancel-policy" },
    h("option", { value: "refund" }, "refund (everything back)"),
    h("option", { value: "charge_started" }, "charge_started (a running job keeps its price or reported units)"),
  );

  // Editing fills the form with the type as stored: saving replaces it (its secret is kept).
  function edit(t: JobTypeAdmin): void {
    name.value = t.type;
    url.value = t.worker_url ?? "";
    description.value = t.description;
    pricing.value = JSON.stringify(t.pricing);
    timeout.value = String(t.timeout_s);
    attempts.value = String(t.max_attempts);
    queueTimeout.value = String(t.queue_timeout_s);
    completion.value = t.completion ?? "response";
    testJobs.value = t.test_jobs ?? "sample";
    sampleResult.value = JSON.stringify(t.sample_result ?? {});
    cancelPolicy.value = t.cancel_policy ?? "refund";
    maxConcurrency.value = String(t.max_concurrency ?? 10);
    maxRate.value = t.max_rate_per_s == null ? "" : String(t.max_rate_per_s);
    name.focus();
  }

  function showSecret(type: JobTypeAdmin): void {
    if (!type.worker_secret) return;
    secretBox.replaceChildren(
      h(
        "p",
        { class: "card" },
        `Worker secret of ${type.type} (shown once; give it to the worker as WORKER_SECRET): `,
        h("code", { "data-testid": "worker-secret" }, type.worker_secret),
      ),
    );
  }

  async function refresh(): Promise<void> {
    const page = await call<Page<JobTypeAdmin>>("GET", "/v1/admin/job_types?limit=100");
    listBox.replaceChildren(
      table(
        ["Type", "Price", "Worker", "Timeout", "Attempts", "Queue timeout", "Completion", "Test jobs", "Cancel", "Concurrency", "Rate", "Updated", ""],
        page.data.map((t) => [
          h("code", {}, t.type),
          document.createTextNode(priceText(t.pricing)),
          document.createTextNode(t.worker_url ?? "no worker: jobs refused until Edit gives it one"),
          document.createTextNode(`${t.timeout_s} s`),
          document.createTextNode(String(t.max_attempts)),
          document.createTextNode(`${t.queue_timeout_s} s`),
          document.createTextNode(t.completion ?? "response"),
          document.createTextNode(
            (t.test_jobs ?? "sample") === "sample" ? `sample ${JSON.stringify(t.sample_result ?? {})}` : "worker",
          ),
          document.createTextNode(t.cancel_policy ?? "refund"),
          document.createTextNode(String(t.max_concurrency)),
          document.createTextNode(t.max_rate_per_s == null ? "—" : `${t.max_rate_per_s}/s`),
          document.createTextNode(t.updated_at ? when(t.updated_at) : "—"),
          h(
            "span",
            {},
            button("Edit", async () => edit(t), { "aria-label": `Edit job type ${t.type}` }),
            button("Rotate secret", async () => {
              if (!window.confirm(`Rotate the worker secret of ${t.type}? The old one signs for 24 h more.`)) return;
              showSecret(await call<JobTypeAdmin>("POST", `/v1/admin/job_types/${t.type}/rotate_secret`, { body: {} }));
            }),
            button("Delete", async () => {
              if (!window.confirm(`Delete ${t.type}? New jobs of it are refused; queued ones still end.`)) return;
              await call("DELETE", `/v1/admin/job_types/${t.type}`);
              notice(`Job type ${t.type} deleted.`);
              await refresh();
            }),
          ),
        ]),
        "Job types",
      ),
    );
  }

  const form = h(
    "form",
    { class: "card" },
    h("h3", {}, "Create or replace a job type"),
    field("Type", name, "a-z, 0-9, '_', '-'"),
    field("Worker URL", url, "The platform POSTs each attempt here, signed with the type's secret."),
    field("Description", description),
    field("Pricing (JSON)", pricing, '{"credits": 5} or {"credits_per_unit": 2, "max_credits": 100, "unit": "second"}'),
    field("Timeout per attempt (s)", timeout),
    field("Max attempts", attempts),
    field("Queue timeout (s)", queueTimeout, "How long a job may wait for its first attempt."),
    field("Completion", completion, "Callback types may take up to 24 h (timeout_s is the callback's deadline)."),
    field("Test-mode jobs", testJobs),
    field("Sample result (JSON object)", sampleResult, "What test-mode jobs complete with when answered by sample."),
    field("Cancel policy", cancelPolicy),
    field("Max concurrency", maxConcurrency, "The most attempts in flight at the worker at once; jobs beyond it wait."),
    field("Max rate (dispatches/s)", maxRate, "Optional; empty: no rate limit."),
    h("button", { type: "submit" }, "Save job type"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      let price: unknown;
      try {
        price = JSON.parse(pricing.value);
      } catch {
        throw new Error("The pricing is not valid JSON.");
      }
      let sample: unknown;
      try {
        sample = JSON.parse(sampleResult.value || "{}");
      } catch {
        throw new Error("The sample result is not valid JSON: write an object such as {\"text\": \"…\"}.");
      }
      const saved = await call<JobTypeAdmin>("PUT", `/v1/admin/job_types/${encodeURIComponent(name.value.trim())}`, {
        body: {
          worker_url: url.value.trim(),
          description: description.value,
          pricing: price,
          timeout_s: Number(timeout.value),
          max_attempts: Number(attempts.value),
          queue_timeout_s: Number(queueTimeout.value),
          completion: completion.value,
          test_jobs: testJobs.value,
          sample_result: sample,
          cancel_policy: cancelPolicy.value,
          max_concurrency: Number(maxConcurrency.value),
          max_rate_per_s: maxRate.value.trim() === "" ? null : Number(maxRate.value),
        },
      });
      notice(`Job type ${saved.type} saved.`);
      showSecret(saved);
      await refresh();
    } catch (error) {
      showError(error);
    }
  });
  root.append(h("section", { class: "card" }, h("h2", {}, "Job types"), secretBox, listBox, form));
  await refresh();
}

export async function adminPage(root: HTMLElement, _session: Session): Promise<void> {
  const box = h("div", {});
  root.append(box, adjustmentForm());
  async function refresh(): Promise<void> {
    const stats = await call<AdminStats>("GET", "/v1/admin/stats");
    box.replaceChildren(
      h(
        "section",
        { class: "card" },
        h("h2", {}, "Platform"),
        h(
          "dl",
          {},
          h("dt", {}, "Users"),
          h("dd", {}, String(stats.total_users)),
          h("dt", {}, "Jobs"),
          h("dd", {}, String(stats.total_jobs)),
          h("dt", {}, "Founding members"),
          h("dd", {}, String(stats.founding_member_count)),
          h("dt", {}, "Maintenance"),
          h("dd", { "data-testid": "maintenance" }, stats.maintenance_mode ? "on" : "off"),
        ),
        button(stats.maintenance_mode ? "Turn maintenance off" : "Turn maintenance on", async () => {
          const enabled = !stats.maintenance_mode;
          if (enabled && !window.confirm("Turn maintenance on? Customers' calls answer 503 until it is off.")) return;
          await call("PUT", "/v1/admin/maintenance", { body: { enabled } });
          notice(`Maintenance ${enabled ? "on" : "off"}.`);
          await refresh();
        }),
      ),
    );
  }
  await refresh();
  await jobTypesSection(root);
}
