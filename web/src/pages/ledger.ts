import { api, friendly } from "../api";
import { autoTopUpSection, grantsSection } from "./credits";
import type { Session } from "../session";
import { button, h, table, text, when } from "../ui";

const TYPE_WORDS: Record<string, string> = {
  purchase: "Purchase",
  job_debit: "Job",
  refund: "Refund",
  adjustment: "Adjustment",
  clawback: "Clawback",
  grant: "Grant",
  expiry: "Expired",
  void: "Voided",
};

export async function ledgerPage(root: HTMLElement, _session: Session): Promise<void> {
  const rows: Node[][] = [];
  const box = h("div", {});
  const more = h("div", {});
  const [grants, autoTopUp] = await Promise.all([grantsSection(), autoTopUpSection()]);
  root.append(grants, autoTopUp, box, more);
  async function load(cursor: string | null): Promise<void> {
    const page = await friendly(api.ledger.list({ limit: 50, starting_after: cursor ?? undefined }));
    for (const e of page.data) {
      rows.push([
        document.createTextNode(when(e.created_at)),
        document.createTextNode(TYPE_WORDS[e.type] ?? e.type),
        h("span", { class: e.amount < 0 ? "bad" : "ok" }, e.amount > 0 ? `+${e.amount}` : String(e.amount)),
        document.createTextNode(String(e.balance_after)),
        document.createTextNode(text(e.description ?? e.reference)),
      ]);
    }
    box.replaceChildren(
      rows.length ? table(["When", "What", "Credits", "Balance", "Details"], rows, "Every credit change") : h("p", {}, "No credit changes yet."),
    );
    more.replaceChildren(page.has_more && page.next_cursor ? button("Load more", () => load(page.next_cursor)) : "");
  }
  await load(null);
}
