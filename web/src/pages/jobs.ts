import { call, friendly, keyClient, priceText, type Job, type JobTypeListing, type Page } from "../api";
import type { Session } from "../session";
import { button, field, h, notice, showError, table, text, when } from "../ui";

// Jobs are the API-key half of the API: the page runs them with one of the user's keys (the one created in
// this visit is filled in; keys are never stored, so after a reload paste one).
export async function jobsPage(root: HTMLElement, session: Session): Promise<void> {
  const key = h("input", {
    type: "password",
    name: "api-key",
    autocomplete: "off",
    value: session.lastKey ?? "",
    placeholder: "sk_test_…",
  });
  const input = h("textarea", { name: "job-input", rows: 3 }, '{"message": "hello"}');
  const delay = h("input", { name: "job-delay-s", type: "number", min: 0, max: 604800, placeholder: "0" });
  const typeSelect = h("select", { name: "job-type" }, h("option", { value: "echo" }, "echo"));
  const submit = h("button", { type: "submit" }, "Run echo job");
  typeSelect.addEventListener("change", () => {
    submit.textContent = `Run ${typeSelect.value} job`;
  });
  const typesBox = h("div", {});
  const listBox = h("div", {});

  // The types on offer and their prices (signed in: no key needed).
  async function loadTypes(): Promise<void> {
    const page = await call<Page<JobTypeListing>>("GET", "/v1/job_types?limit=100");
    const chosen = typeSelect.value;
    typeSelect.replaceChildren(
      ...page.data.map((t) => h("option", { value: t.type, selected: t.type === chosen }, t.type)),
    );
    typesBox.replaceChildren(
      table(
        ["Type", "Price", "Description"],
        page.data.map((t) => [
          h("code", {}, t.type),
          document.createTextNode(priceText(t.pricing)),
          document.createTextNode(t.description || "—"),
        ]),
        "Job types and their prices",
      ),
    );
  }

  // List items leave input and result out unless expanded: what these read is on both.
  function costText(job: Omit<Job, "input" | "result">): string {
    if (job.cost === null) return `up to ${job.reserved_credits} (reserved)`;
    const usage = job.usage ? ` for ${job.usage.units} ${job.usage.unit}` : "";
    return `${job.cost} credits${usage}`;
  }

  // A callback worker's progress while the job runs; a delayed job's start while it waits.
  function stateText(job: Omit<Job, "input" | "result">): string {
    if (job.status === "running" && job.progress) {
      const message = job.progress.message ? ` ${job.progress.message}` : "";
      return `${job.progress.percent}%${message}`;
    }
    if (job.status === "queued" && job.run_at) return `runs at ${when(job.run_at)}`;
    return job.run_at ? `ran after ${when(job.run_at)}` : "—";
  }

  function cancelButton(job: Omit<Job, "input" | "result">): Node {
    if (job.status !== "queued" && job.status !== "running") return document.createTextNode("");
    return button(
      "Cancel",
      async () => {
        await call<Job>("POST", `/v1/jobs/${job.job_id}/cancel`, { bearer: bearer(), body: {} });
        notice(`Job ${job.job_id} canceled; its credits are back.`);
        await refresh();
      },
      { "aria-label": `Cancel job ${job.job_id}` },
    );
  }

  function bearer(): string {
    const value = key.value.trim();
    if (!value) throw new Error("Enter one of your API keys first (create one on the API keys page).");
    session.lastKey = value;
    return value;
  }

  async function refresh(): Promise<void> {
    // List items carry input and result only when expanded (at most 20 per page then).
    const page = await friendly(keyClient(bearer()).jobs.list({ limit: 20, "expand[]": ["data.result"] }));
    listBox.replaceChildren(
      page.data.length
        ? table(
            ["Job", "Type", "Status", "Progress / run at", "Attempts", "Cost", "Mode", "Result", "Created", ""],
            page.data.map((job) => [
              h("code", {}, job.job_id),
              document.createTextNode(job.type),
              h("span", { class: `status ${job.status}`, "data-testid": "job-status" }, job.status),
              h("span", { "data-testid": "job-progress" }, stateText(job)),
              document.createTextNode(`${job.attempts} of ${job.max_attempts}`),
              document.createTextNode(costText(job)),
              document.createTextNode(job.livemode ? "live" : "test"),
              document.createTextNode(job.error ?? (job.result ? JSON.stringify(job.result) : text(null))),
              document.createTextNode(when(job.created_at)),
              cancelButton(job),
            ]),
            "Your jobs, newest first",
          )
        : h("p", {}, "No jobs yet."),
    );
  }

  const form = h(
    "form",
    { class: "card" },
    h("h2", {}, "Run a job"),
    field("API key", key, "Test keys run jobs for free; live keys use credits."),
    field("Job type", typeSelect, "Metered types reserve their maximum and give back what the work did not use."),
    field("Input (JSON object)", input),
    field("Delay (seconds, optional)", delay, "The job is not started before this; its credits are held at once."),
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      let parsed: unknown;
      try {
        parsed = JSON.parse(input.value || "{}");
      } catch {
        throw new Error("The input is not valid JSON: write an object such as {\"message\": \"hi\"}.");
      }
      const client = keyClient(bearer());
      // One Idempotency-Key for this submission (the client makes it), reused by its retries.
      const delayS = Number(delay.value || "0");
      const runAt = delayS > 0 ? Math.floor(Date.now() / 1000) + delayS : undefined;
      const job = await friendly(
        client.jobs.create({
          type: typeSelect.value,
          input: parsed as Record<string, unknown>,
          ...(runAt !== undefined ? { run_at: runAt } : {}),
        }),
      );
      notice(`Job ${job.job_id} queued.`);
      await refresh();
      // Follow it briefly: the echo worker finishes within seconds.
      for (let i = 0; i < 20; i++) {
        await new Promise((r) => window.setTimeout(r, 1000));
        const now = await friendly(client.jobs.get(job.job_id));
        if (!["queued", "running"].includes(now.status)) break;
      }
      await refresh();
    } catch (error) {
      showError(error);
    }
  });
  root.append(typesBox, form, button("Refresh list", () => refresh()), listBox);
  await loadTypes();
  if (key.value) await refresh();
}
