import { call, type Page, type PaymentMethod } from "../api";
import { loadConfig } from "../config";
import type { Session } from "../session";
import { button, h, notice, showError, table } from "../ui";

// The part of Stripe.js the page uses (Stripe's own script in production, localstripe's stand-in locally).
interface CardElement {
  mount(el: HTMLElement): void;
  unmount(): void;
}
interface StripeJs {
  elements(): { create(kind: "card", options?: object): CardElement };
  confirmCardSetup(
    clientSecret: string,
    data: { payment_method: { card: CardElement } },
  ): Promise<{ error?: { message?: string } | null; setupIntent?: { id: string; status: string } }>;
}
declare global {
  interface Window {
    Stripe?: (key: string) => StripeJs;
  }
}

let stripePromise: Promise<StripeJs> | null = null;

/** Loads Stripe.js once, from the configured address (never bundled: Stripe requires its own script). */
function stripe(): Promise<StripeJs> {
  stripePromise ??= loadConfig().then(
    (config) =>
      new Promise<StripeJs>((resolve, reject) => {
        const script = document.createElement("script");
        script.src = config.stripeJsUrl;
        script.onload = () =>
          window.Stripe ? resolve(window.Stripe(config.stripePublishableKey)) : reject(new Error("Stripe.js did not load."));
        script.onerror = () => {
          stripePromise = null;
          reject(new Error("The card form could not be loaded. Please try again."));
        };
        document.head.append(script);
      }),
  );
  return stripePromise;
}

function describe(pm: PaymentMethod): string {
  const brand = pm.brand ? pm.brand[0].toUpperCase() + pm.brand.slice(1) : "Card";
  const exp = pm.exp_month && pm.exp_year ? ` · expires ${String(pm.exp_month).padStart(2, "0")}/${pm.exp_year}` : "";
  return `${brand} ending in ${pm.last4 ?? "????"}${exp}`;
}

export async function paymentMethodsPage(root: HTMLElement, _session: Session): Promise<void> {
  const listBox = h("div", {});
  const addBox = h("section", { class: "card" }, h("h2", {}, "Add a card"));
  root.append(listBox, addBox);

  async function refresh(): Promise<void> {
    const methods = await call<Page<PaymentMethod>>("GET", "/v1/payment_methods?limit=100");
    listBox.replaceChildren(
      methods.data.length
        ? table(
            ["Card", "Default", "Actions"],
            methods.data.map((pm) => [
              h("span", { "data-testid": "card" }, describe(pm)),
              document.createTextNode(pm.is_default ? "Default" : ""),
              h(
                "div",
                { class: "actions" },
                pm.is_default
                  ? null
                  : button("Make default", async () => {
                      await call("POST", `/v1/payment_methods/${pm.payment_method_id}/default`, { body: {} });
                      await refresh();
                    }),
                button(
                  "Remove",
                  async () => {
                    if (!window.confirm(`Remove ${describe(pm)}?`)) return;
                    await call("DELETE", `/v1/payment_methods/${pm.payment_method_id}`);
                    notice("Card removed.");
                    await refresh();
                  },
                  { class: "danger", "aria-label": `Remove ${describe(pm)}` },
                ),
              ),
            ]),
            "Your cards",
          )
        : h("p", {}, "No cards yet."),
    );
  }

  async function startAdding(): Promise<void> {
    const js = await stripe();
    const intent = await call<{ setup_intent_id: string; client_secret: string | null }>(
      "POST",
      "/v1/payment_methods/setup_intent",
      { body: {} },
    );
    const mountPoint = h("div", { class: "card-element", role: "group", "aria-label": "Card details" });
    const card = js.elements().create("card");
    const save = button("Save card", async () => {
      const result = await js.confirmCardSetup(intent.client_secret ?? "", { payment_method: { card } });
      if (result.error) throw new Error(result.error.message ?? "The card was declined.");
      await call("POST", "/v1/payment_methods", { body: { setup_intent_id: intent.setup_intent_id } });
      card.unmount();
      notice("Card added.");
      renderAddButton();
      await refresh();
    });
    addBox.replaceChildren(h("h2", {}, "Add a card"), mountPoint, save);
    card.mount(mountPoint);
    // localstripe's stand-in fields carry only placeholders: give them accessible names too.
    for (const input of Array.from(mountPoint.querySelectorAll("input"))) {
      if (!input.getAttribute("aria-label")) input.setAttribute("aria-label", input.placeholder.replace(/_/g, " "));
    }
    mountPoint.querySelector("input")?.focus();
  }

  function renderAddButton(): void {
    addBox.replaceChildren(
      h("h2", {}, "Add a card"),
      button("Add a card", async () => {
        try {
          await startAdding();
        } catch (error) {
          showError(error);
        }
      }),
    );
  }

  renderAddButton();
  await refresh();
}
