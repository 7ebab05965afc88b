// The dashboard's shell: sign-in gate, navigation (hash routes, so static hosting needs one index.html),
// and the pages. Each page renders into <main> and loads its own data.
import "./style.css";
import type { User } from "firebase/auth";
import { call, setTokenSource, type Account } from "./api";
import { idToken, initAuth, isAdmin, logOut } from "./auth";
import { loadConfig } from "./config";
import { adminPage } from "./pages/admin";
import { buyPage } from "./pages/buy";
import { jobsPage } from "./pages/jobs";
import { keysPage } from "./pages/keys";
import { ledgerPage } from "./pages/ledger";
import { overviewPage } from "./pages/overview";
import { paymentMethodsPage } from "./pages/payment_methods";
import { signInPage } from "./pages/sign_in";
import { webhookPage } from "./pages/webhook";
import type { Session } from "./session";
import { button, clearNotice, h, showError } from "./ui";

type Page = (root: HTMLElement, session: Session) => Promise<void>;

const PAGES: { route: string; title: string; page: Page; admin?: boolean }[] = [
  { route: "overview", title: "Overview", page: overviewPage },
  { route: "keys", title: "API keys", page: keysPage },
  { route: "webhook", title: "Webhook", page: webhookPage },
  { route: "payment-methods", title: "Payment methods", page: paymentMethodsPage },
  { route: "buy", title: "Buy credits", page: buyPage },
  { route: "ledger", title: "Credits ledger", page: ledgerPage },
  { route: "jobs", title: "Jobs", page: jobsPage },
  { route: "admin", title: "Admin", page: adminPage, admin: true },
];

const session: Session = { user: null, admin: false, lastKey: null, account: null };
const main = document.getElementById("main") as HTMLElement;
const nav = document.getElementById("nav") as HTMLElement;
const who = document.getElementById("who") as HTMLElement;

function currentRoute(): string {
  return location.hash.replace(/^#\/?/, "") || "overview";
}

function renderNav(): void {
  nav.replaceChildren();
  who.replaceChildren();
  if (!session.user) return;
  const here = currentRoute();
  const list = h("ul", {});
  for (const entry of PAGES) {
    if (entry.admin && !session.admin) continue;
    list.append(
      h("li", {}, h("a", { href: `#/${entry.route}`, "aria-current": entry.route === here ? "page" : undefined }, entry.title)),
    );
  }
  nav.append(list);
  who.append(
    h("span", { "data-testid": "who" }, session.user.email ?? ""),
    button("Sign out", async () => {
      await logOut();
      location.hash = "";
    }),
  );
}

async function render(): Promise<void> {
  clearNotice();
  renderNav();
  main.replaceChildren();
  if (!session.user) {
    document.title = "Sign in · Credits dashboard";
    await signInPage(main, session);
    return;
  }
  const entry = PAGES.find((p) => p.route === currentRoute() && (!p.admin || session.admin)) ?? PAGES[0];
  document.title = `${entry.title} · Credits dashboard`;
  main.append(h("h1", {}, entry.title));
  try {
    await entry.page(main, session);
  } catch (error) {
    showError(error);
  }
}

async function onUser(user: User | null): Promise<void> {
  session.user = user;
  session.admin = false;
  session.account = null;
  if (user) {
    try {
      session.admin = await isAdmin();
      // The account exists from the first sign-in on (idempotent: 201 once, then 200).
      session.account = await call<Account>("POST", "/v1/account");
    } catch (error) {
      showError(error);
    }
  } else {
    session.lastKey = null;
  }
  await render();
}

async function start(): Promise<void> {
  try {
    const config = await loadConfig();
    setTokenSource(idToken);
    initAuth(config, (user) => void onUser(user));
  } catch (error) {
    showError(error);
  }
  window.addEventListener("hashchange", () => {
    void render();
    main.focus();
  });
}

void start();
