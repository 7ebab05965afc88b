import { call, type Account } from "../api";
import type { Session } from "../session";
import { h, when } from "../ui";

export async function overviewPage(root: HTMLElement, session: Session): Promise<void> {
  const account = await call<Account>("GET", "/v1/account");
  session.account = account;
  const badge = account.founding_member
    ? h(
        "p",
        { class: "badge", "data-testid": "founding" },
        `Founding member #${account.founding_member_number ?? "?"}`,
      )
    : null;
  root.append(
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Credits"),
      h("p", { class: "big", "data-testid": "credits" }, String(account.credits)),
      badge,
      h("p", {}, `Signed in as ${account.email ?? account.user_id} · member since ${when(account.created_at)}`),
      h("p", {}, h("a", { href: "#/buy" }, "Buy credits"), " · ", h("a", { href: "#/keys" }, "Create an API key")),
    ),
  );
}
