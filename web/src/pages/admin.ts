import { call, type AdminStats } from "../api";
import type { Session } from "../session";
import { button, h, notice } from "../ui";

export async function adminPage(root: HTMLElement, _session: Session): Promise<void> {
  const box = h("div", {});
  root.append(box);
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
