import { call, IntentKeys, type Account, type CreditPackage, type Page, type PaymentMethod, type Purchase } from "../api";
import type { Session } from "../session";
import { button, field, h, money, notice } from "../ui";

const STATUS_WORDS: Record<string, string> = {
  pending: "Waiting for the payment…",
  processing: "Payment processing…",
  succeeded: "Paid",
  failed: "Payment failed",
  refunded: "Refunded",
  disputed: "Disputed",
};

const purchaseKeys = new IntentKeys("purchase-keys");

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => window.setTimeout(resolve, ms));
}

export async function buyPage(root: HTMLElement, session: Session): Promise<void> {
  const [packages, methods, account] = await Promise.all([
    call<Page<CreditPackage>>("GET", "/v1/credit_packages?limit=100"),
    call<Page<PaymentMethod>>("GET", "/v1/payment_methods?limit=100"),
    call<Account>("GET", "/v1/account"),
  ]);
  const balance = h("p", {}, "Balance: ", h("strong", { "data-testid": "credits" }, String(account.credits)), " credits");
  const status = h("p", { class: "status-line", role: "status", "aria-live": "polite", "data-testid": "purchase-status" });
  root.append(balance);
  if (!methods.data.length) {
    root.append(h("p", {}, "Add a card first: ", h("a", { href: "#/payment-methods" }, "Payment methods"), "."));
  }
  const card = h("select", { name: "payment-method" });
  for (const pm of methods.data) {
    card.append(
      h("option", { value: pm.payment_method_id, selected: pm.is_default }, `${pm.brand ?? "Card"} •••• ${pm.last4 ?? "????"}`),
    );
  }
  if (methods.data.length) root.append(field("Pay with", card));

  async function buy(pkg: CreditPackage): Promise<void> {
    // One key per purchase the user means to make: a click after a timeout or a 502 sends the same key, so
    // the API answers (or finishes) the first purchase instead of charging twice.
    const intent = `${pkg.package}|${card.value}`;
    const purchase = await call<Purchase>("POST", "/v1/purchases", {
      body: { package: pkg.package, payment_method_id: card.value || undefined },
      idempotencyKey: purchaseKeys.keyFor(intent),
    });
    purchaseKeys.answered(intent);
    let current = purchase;
    // Credits arrive when Stripe's payment_intent.succeeded event has been processed: follow it for a while.
    for (let i = 0; i < 60; i++) {
      status.textContent = `${pkg.name}: ${STATUS_WORDS[current.status] ?? current.status}${
        current.status === "succeeded" && !current.credits_granted ? ", adding credits…" : ""
      }`;
      if (current.credits_granted || ["failed", "refunded", "disputed"].includes(current.status)) break;
      await sleep(i < 10 ? 500 : 2000);
      current = await call<Purchase>("GET", `/v1/purchases/${purchase.purchase_id}`);
    }
    if (current.credits_granted) {
      status.textContent = `${pkg.name}: ${current.credits} credits added.`;
      const fresh = await call<Account>("GET", "/v1/account");
      session.account = fresh;
      (balance.querySelector("strong") as HTMLElement).textContent = String(fresh.credits);
      notice(`${current.credits} credits added.`);
    } else if (current.status === "failed") {
      throw new Error(`The payment failed${current.failure_code ? ` (${current.failure_code.replace(/_/g, " ")})` : ""}.`);
    }
  }

  const grid = h("div", { class: "grid" });
  for (const pkg of packages.data) {
    grid.append(
      h(
        "section",
        { class: "card package" },
        h("h2", {}, pkg.name),
        h("p", { class: "big" }, `${pkg.credits} credits`),
        h("p", {}, money(pkg.price, pkg.currency)),
        h("p", {}, pkg.bonus_percent ? h("span", { class: "badge" }, `+${pkg.bonus_percent}% bonus`) : "No bonus"),
        button(`Buy ${pkg.name}`, () => buy(pkg), { disabled: !methods.data.length }),
      ),
    );
  }
  // The status sits above the packages so it stays in view on a phone after a click.
  root.append(status, grid);
}
