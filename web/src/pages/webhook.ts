import { ApiError, call, optional, type Delivery, type Page, type Webhook } from "../api";
import type { Session } from "../session";
import { button, check, field, h, notice, secretOnce, showError, table, text, when } from "../ui";

const EVENTS = [
  "job.completed",
  "job.failed",
  "job.canceled",
  "auto_top_up.succeeded",
  "auto_top_up.failed",
  "credits.low",
  "credit_grant.expiring",
];

function health(hook: Webhook): HTMLElement | null {
  // Shown only when the API reports endpoint health (status, consecutive_failures, backlog).
  if (hook.status === undefined && hook.consecutive_failures === undefined && hook.backlog === undefined) {
    return null;
  }
  return h(
    "dl",
    { class: "health", "data-testid": "webhook-health" },
    h("dt", {}, "Health"),
    h("dd", {}, text(hook.status)),
    h("dt", {}, "Consecutive failures"),
    h("dd", {}, text(hook.consecutive_failures)),
    h("dt", {}, "Backlog"),
    h("dd", {}, text(hook.backlog)),
  );
}

export async function webhookPage(root: HTMLElement, _session: Session): Promise<void> {
  const reveal = h("div", {});
  const body = h("div", {});
  root.append(reveal, body);

  async function refresh(): Promise<void> {
    const hook = await optional<Webhook>("/v1/webhook");
    const url = h("input", { type: "url", name: "webhook-url", required: true, value: hook?.url ?? "", placeholder: "https://example.com/hooks" });
    const boxes = EVENTS.map((event) =>
      h("input", { type: "checkbox", name: "events", value: event, checked: hook ? hook.events.includes(event) : true }),
    );
    const enabled = h("input", { type: "checkbox", name: "enabled", checked: hook ? hook.enabled : true });
    const form = h(
      "form",
      { class: "card" },
      h("h2", {}, hook ? "Your endpoint" : "Set up your endpoint"),
      field("Endpoint URL", url, "We POST signed events (Standard Webhooks) to this address."),
      h(
        "fieldset",
        {},
        h("legend", {}, "Events"),
        ...boxes.map((box) => check(box.value, box)),
      ),
      check("Enabled", enabled),
      h("button", { type: "submit" }, "Save endpoint"),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const saved = await call<Webhook>("PUT", "/v1/webhook", {
          body: { url: url.value.trim(), events: boxes.filter((b) => b.checked).map((b) => b.value), enabled: enabled.checked },
        });
        if (saved.secret) reveal.replaceChildren(secretOnce("Signing secret", saved.secret, "webhook-secret"));
        notice("Endpoint saved.");
        await refresh();
      } catch (error) {
        showError(error);
      }
    });
    body.replaceChildren(form);
    if (!hook) return;
    const status = hook.enabled ? "enabled" : `disabled${hook.disabled_reason ? ` (${hook.disabled_reason})` : ""}`;
    body.append(
      h(
        "section",
        { class: "card" },
        h("h2", {}, "Status"),
        h("p", {}, `This endpoint is ${status}. Last event ${when(hook.last_triggered_at)}, last answer ${text(hook.last_status_code)}.`),
        hook.previous_secret_expires_at
          ? h("p", {}, `The previous secret also signs until ${when(hook.previous_secret_expires_at)}.`)
          : null,
        health(hook),
        h(
          "div",
          { class: "actions" },
          button("Send test event", async () => {
            await call("POST", "/v1/webhook/test", { body: {} });
            notice("Test event queued. It appears under recent deliveries once sent.");
            window.setTimeout(() => void deliveries(), 1500);
          }),
          button("Rotate secret", async () => {
            if (!window.confirm("Rotate the signing secret? The old one keeps signing for 24 hours.")) return;
            const rotated = await call<Webhook>("POST", "/v1/webhook/rotate_secret", { body: {} });
            if (rotated.secret) reveal.replaceChildren(secretOnce("New signing secret", rotated.secret, "webhook-secret"));
            await refresh();
          }),
          button(
            "Delete endpoint",
            async () => {
              if (!window.confirm("Delete this endpoint? Events are no longer sent.")) return;
              await call("DELETE", "/v1/webhook");
              reveal.replaceChildren();
              await refresh();
            },
            { class: "danger" },
          ),
        ),
      ),
    );
    const log = h("section", { class: "card" }, h("h2", {}, "Recent deliveries"));
    const logBody = h("div", {});
    log.append(button("Refresh", () => deliveries()), logBody);
    body.append(log);

    async function deliveries(): Promise<void> {
      try {
        const page = await call<Page<Delivery>>("GET", "/v1/webhook/deliveries?limit=20");
        logBody.replaceChildren(
          page.data.length
            ? table(
                ["Event", "Type", "Attempt", "Status", "Error", "Took", "Next retry", "When"],
                page.data.map((d) => [
                  h("code", {}, d.event_id),
                  document.createTextNode(d.event_type),
                  document.createTextNode(String(d.attempt)),
                  h("span", { class: d.status_code && d.status_code < 300 ? "ok" : "bad", "data-testid": "delivery-status" }, text(d.status_code)),
                  document.createTextNode(text(d.error)),
                  document.createTextNode(`${d.duration_ms} ms`),
                  document.createTextNode(when(d.next_attempt_at)),
                  document.createTextNode(when(d.created_at)),
                ]),
                "Recent delivery attempts",
              )
            : h("p", {}, "No deliveries yet."),
        );
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404)) showError(error);
      }
    }
    await deliveries();
  }
  await refresh();
}
