// Runtime settings, read from /dashboard-config.json: `make dev` serves it (Auth emulator, localstripe's
// stand-in Stripe.js); a deployment writes it into the hosting folder (localdev/deploy.py). One build for all.

export interface FirebaseWebConfig {
  apiKey: string;
  authDomain?: string;
  projectId: string;
}

export interface DashboardConfig {
  firebase: FirebaseWebConfig;
  authEmulatorUrl: string | null;
  stripeJsUrl: string;
  stripePublishableKey: string;
}

let cached: Promise<DashboardConfig> | null = null;

async function json<T>(path: string): Promise<T> {
  const response = await fetch(path, { cache: "no-store" });
  if (!response.ok) throw new Error(`The dashboard is not configured (${path} is missing).`);
  return (await response.json()) as T;
}

async function load(): Promise<DashboardConfig> {
  const config = await json<Omit<DashboardConfig, "firebase"> & { firebase: FirebaseWebConfig | null }>(
    "/dashboard-config.json",
  );
  // In production Firebase Hosting serves the web app's own config; locally it is in dashboard-config.json.
  const firebase = config.firebase ?? (await json<FirebaseWebConfig>("/__/firebase/init.json"));
  return { ...config, firebase };
}

export function loadConfig(): Promise<DashboardConfig> {
  cached ??= load().catch((error) => {
    cached = null;
    throw error;
  });
  return cached;
}
