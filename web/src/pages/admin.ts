import { call, IntentKeys, type AdminStats, type LedgerEntry } from "../api";
import type { Session } from "../session";
import { button, field, h, notice } from "../ui";

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
}
