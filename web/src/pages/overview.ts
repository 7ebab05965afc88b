import { api, call, friendly, type AutoTopUp } from "../api";
import { autoTopUpBanner } from "./credits";
import type { Session } from "../session";
import { h, when } from "../ui";
import { usageChart } from "../usage_chart";

export async function overviewPage(root: HTMLElement, session: Session): Promise<void> {
  // The chart is extra: the overview still shows when usage cannot be read.
  const [account, usage, autoTopUp] = await Promise.all([
    friendly(api.account.get()),
    friendly(api.usage.get()).catch(() => null),
    call<AutoTopUp>("GET", "/v1/auto_top_up").catch(() => null),
  ]);
  session.account = account;
  const badge = account.founding_member
    ? h(
        "p",
        { class: "badge", "data-testid": "founding" },
        `Founding member #${account.founding_member_number ?? "?"}`,
      )
    : null;
  root.append(
    ...(autoTopUp && autoTopUpBanner(autoTopUp) ? [autoTopUpBanner(autoTopUp) as HTMLElement] : []),
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Credits"),
      h("p", { class: "big", "data-testid": "credits" }, String(account.credits)),
      badge,
      h("p", {}, `Signed in as ${account.email ?? account.user_id} · member since ${when(account.created_at)}`),
      h("p", {}, h("a", { href: "#/buy" }, "Buy credits"), " · ", h("a", { href: "#/keys" }, "Create an API key")),
    ),
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Usage, last 30 days"),
      usage ? usageChart(usage) : h("p", {}, "Usage cannot be shown right now; try again later."),
    ),
  );
}
