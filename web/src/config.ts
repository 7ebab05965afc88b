// Runtime settings, read from /dashboard-config.json: `make dev` serves it (Auth emulator, localstripe's
// stand-in Stripe.js); a deployment writes it into the hosting folder (docs/dashboard.md). One build for all.

export interface DashboardConfig {
  firebase: { apiKey: string; authDomain?: string; projectId: string };
  authEmulatorUrl: string | null;
  stripeJsUrl: string;
  stripePublishableKey: string;
}

let cached: DashboardConfig | null = null;

export async function loadConfig(): Promise<DashboardConfig> {
  if (cached) return cached;
  const response = await fetch("/dashboard-config.json", { cache: "no-store" });
  if (!response.ok) throw new Error("The dashboard is not configured (dashboard-config.json is missing).");
  cached = (await response.json()) as DashboardConfig;
  return cached;
}
