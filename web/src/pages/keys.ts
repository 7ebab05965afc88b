import { call, optional, type ApiKey, type Page } from "../api";
import type { Session } from "../session";
import { button, field, h, notice, secretOnce, showError, table, text, when } from "../ui";

const GRACE: [string, number][] = [
  ["No grace: the old key stops now", 0],
  ["1 hour", 3600],
  ["24 hours", 86400],
  ["7 days", 7 * 86400],
];

/** Per-key usage, when the API offers it (GET /v1/usage): numeric fields of each key's entry, in words. */
async function usageByKey(): Promise<Map<string, string> | null> {
  let usage: unknown;
  try {
    usage = await optional<unknown>("/v1/usage");
  } catch {
    return null;
  }
  if (!usage || typeof usage !== "object") return null;
  const entries = Array.isArray((usage as { data?: unknown }).data)
    ? ((usage as { data: unknown[] }).data as Record<string, unknown>[])
    : Array.isArray((usage as { keys?: unknown }).keys)
      ? ((usage as { keys: unknown[] }).keys as Record<string, unknown>[])
      : [];
  const out = new Map<string, string>();
  for (const entry of entries) {
    if (typeof entry?.key_id !== "string") continue;
    const parts = Object.entries(entry)
      .filter(([, v]) => typeof v === "number")
      .map(([k, v]) => `${k.replace(/_/g, " ")}: ${v}`);
    out.set(entry.key_id, parts.join(", ") || "—");
  }
  return out;
}

export async function keysPage(root: HTMLElement, session: Session): Promise<void> {
  const reveal = h("div", {});
  const listBox = h("div", {});
  const name = h("input", { type: "text", maxlength: 100, name: "key-name", placeholder: "e.g. production server" });
  const environment = h(
    "select",
    { name: "environment" },
    h("option", { value: "test" }, "Test (jobs cost nothing)"),
    h("option", { value: "live" }, "Live (jobs use credits)"),
  );

  const showKey = (title: string, key: ApiKey): void => {
    if (key.key) session.lastKey = key.key;
    reveal.replaceChildren(secretOnce(title, key.key ?? "", "new-key"));
  };

  async function refresh(): Promise<void> {
    const [keys, usage] = await Promise.all([call<Page<ApiKey>>("GET", "/v1/api_keys?limit=100"), usageByKey()]);
    const headers = ["Name", "Prefix", "Mode", "Status", "Created", "Last used", "Expires", "Actions"];
    if (usage) headers.splice(6, 0, "Usage");
    const rows = keys.data.map((key) => {
      const grace = h("select", { "aria-label": `Grace period when rolling ${key.key_prefix}` });
      for (const [label, seconds] of GRACE) grace.append(h("option", { value: String(seconds) }, label));
      const actions =
        key.status === "active"
          ? h(
              "div",
              { class: "actions" },
              grace,
              button("Roll", async () => {
                const rolled = await call<ApiKey>("POST", `/v1/api_keys/${key.key_id}/roll`, {
                  body: { expires_in: Number(grace.value) },
                });
                showKey("Your new key", rolled);
                notice("Key rolled. Update your servers with the new key.");
                await refresh();
              }),
              button(
                "Revoke",
                async () => {
                  if (!window.confirm(`Revoke ${key.key_prefix}…? Calls with it will be refused.`)) return;
                  await call("POST", `/v1/api_keys/${key.key_id}/revoke`, { body: {} });
                  notice("Key revoked.");
                  await refresh();
                },
                { class: "danger", "aria-label": `Revoke ${key.key_prefix}` },
              ),
            )
          : h("span", {}, "—");
      const cells: Node[] = [
        document.createTextNode(key.name || "(unnamed)"),
        h("code", {}, `${key.key_prefix}…`),
        document.createTextNode(key.livemode ? "live" : "test"),
        h("span", { class: `status ${key.status}`, "data-testid": `status-${key.key_prefix}` }, key.status),
        document.createTextNode(when(key.created_at)),
        document.createTextNode(when(key.last_used_at)),
        document.createTextNode(when(key.expires_at)),
        actions,
      ];
      if (usage) cells.splice(6, 0, document.createTextNode(text(usage.get(key.key_id))));
      return cells;
    });
    listBox.replaceChildren(
      keys.data.length ? table(headers, rows, "Your API keys") : h("p", {}, "No keys yet."),
    );
  }

  const form = h(
    "form",
    { class: "card" },
    h("h2", {}, "Create a key"),
    field("Name", name),
    field("Mode", environment),
    h("button", { type: "submit" }, "Create key"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const created = await call<ApiKey>("POST", "/v1/api_keys", {
        body: { name: name.value.trim(), environment: environment.value },
      });
      showKey("Your new key", created);
      name.value = "";
      await refresh();
    } catch (error) {
      showError(error);
    }
  });
  root.append(form, reveal, listBox);
  await refresh();
}
