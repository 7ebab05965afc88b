// Credit grants and auto top-up on the ledger page (docs/credits.md), and the banner shown when a failed
// charge turned auto top-up off.
import { call, type AutoTopUp, type CreditGrant, type Page } from "../api";
import { button, check, field, h, notice, table, text, when } from "../ui";

const REASONS: Record<string, string> = {
  card_declined: "your card was declined",
  authentication_required: "your bank asked for authentication, which cannot happen while you are away",
  no_default_card: "you have no default card",
  card_deleted: "your card was removed",
  package_unavailable: "the package is no longer on sale",
};

/** The banner: auto top-up is off because a charge failed; the customer turns it on again. */
export function autoTopUpBanner(state: AutoTopUp): HTMLElement | null {
  if (state.enabled || !state.disabled_reason) return null;
  return h(
    "p",
    { class: "banner bad", role: "alert", "data-testid": "auto-top-up-banner" },
    `Auto top-up is off: ${REASONS[state.disabled_reason] ?? state.disabled_reason}. `,
    h("a", { href: "#/ledger" }, "Check your card and turn it on again"),
    ".",
  );
}

export async function grantsSection(): Promise<HTMLElement> {
  const page = await call<Page<CreditGrant>>("GET", "/v1/credit_grants?limit=100");
  const rows = page.data.map((g) => [
    document.createTextNode(g.name),
    document.createTextNode(g.category),
    h("span", { "data-testid": "grant-remaining" }, `${g.remaining} of ${g.amount}`),
    document.createTextNode(g.status),
    h("span", { "data-testid": "grant-expires" }, g.expires_at ? when(g.expires_at) : "never"),
    document.createTextNode(text(g.priority)),
  ]);
  return h(
    "section",
    { class: "card", "data-testid": "grants" },
    h("h2", {}, "Credit grants"),
    h("p", {}, "Spent by priority (lowest first), then the soonest to expire, promotional before paid, then the oldest."),
    rows.length
      ? table(["Grant", "Kind", "Left", "Status", "Expires", "Priority"], rows, "Your credit grants")
      : h("p", {}, "No credit grants yet."),
  );
}

export async function autoTopUpSection(): Promise<HTMLElement> {
  const state = await call<AutoTopUp>("GET", "/v1/auto_top_up");
  const enabled = h("input", { type: "checkbox", name: "auto-top-up-enabled" });
  enabled.checked = state.enabled;
  const threshold = h("input", { name: "threshold", type: "number", min: 0, step: "1", value: state.threshold });
  const pkg = h("input", { name: "package", value: state.package ?? "", placeholder: "starter" });
  const limit = h("input", { name: "monthly-limit", type: "number", min: 0, step: "1", value: state.monthly_limit_cents });
  const low = h("input", { name: "low-balance", type: "number", min: 0, step: "1", value: state.low_balance_threshold ?? "" });
  const status = h(
    "p",
    { role: "status", "data-testid": "auto-top-up-state" },
    state.enabled ? "On" : "Off",
    ` · spent this month: ${(state.month_spent_cents / 100).toFixed(2)} USD`,
    state.in_progress ? " · a top-up is being charged" : "",
  );
  const banner = autoTopUpBanner(state);
  return h(
    "section",
    { class: "card", "data-testid": "auto-top-up" },
    h("h2", {}, "Auto top-up"),
    banner,
    status,
    check("Buy credits automatically when the balance is low", enabled),
    field("Below (credits)", threshold),
    field("Package", pkg, "One of the packages on the Buy credits page."),
    field("Monthly limit (US cents)", limit),
    field("Tell me below (credits)", low, "A credits.low webhook event; empty: never."),
    button("Save auto top-up", async () => {
      await call<AutoTopUp>("PUT", "/v1/auto_top_up", {
        body: {
          enabled: enabled.checked,
          threshold: Number(threshold.value),
          package: pkg.value.trim() || null,
          monthly_limit_cents: Number(limit.value),
          low_balance_threshold: low.value === "" ? null : Number(low.value),
        },
      });
      notice("Auto top-up saved.");
    }),
  );
}
