import { friendly, keyClient } from "../api";
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
  const listBox = h("div", {});

  function bearer(): string {
    const value = key.value.trim();
    if (!value) throw new Error("Enter one of your API keys first (create one on the API keys page).");
    session.lastKey = value;
    return value;
  }

  async function refresh(): Promise<void> {
    const page = await friendly(keyClient(bearer()).jobs.list({ limit: 50 }));
    listBox.replaceChildren(
      page.data.length
        ? table(
            ["Job", "Type", "Status", "Cost", "Mode", "Result", "Created"],
            page.data.map((job) => [
              h("code", {}, job.job_id),
              document.createTextNode(job.type),
              h("span", { class: `status ${job.status}`, "data-testid": "job-status" }, job.status),
              document.createTextNode(`${job.cost} credits`),
              document.createTextNode(job.livemode ? "live" : "test"),
              document.createTextNode(job.error ?? (job.result ? JSON.stringify(job.result) : text(null))),
              document.createTextNode(when(job.created_at)),
            ]),
            "Your jobs, newest first",
          )
        : h("p", {}, "No jobs yet."),
    );
  }

  const form = h(
    "form",
    { class: "card" },
    h("h2", {}, "Run an echo job"),
    field("API key", key, "Test keys run jobs for free; live keys use credits."),
    field("Input (JSON object)", input),
    h("button", { type: "submit" }, "Run echo job"),
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
      const job = await friendly(client.jobs.create({ type: "echo", input: parsed as Record<string, unknown> }));
      notice(`Job ${job.job_id} queued.`);
      await refresh();
      // Follow it briefly: the echo worker finishes within seconds.
      for (let i = 0; i < 20; i++) {
        await new Promise((r) => window.setTimeout(r, 1000));
        const now = await friendly(client.jobs.get(job.job_id));
        if (now.status === "completed" || now.status === "failed") break;
      }
      await refresh();
    } catch (error) {
      showError(error);
    }
  });
  root.append(form, button("Refresh list", () => refresh()), listBox);
  if (key.value) await refresh();
}
