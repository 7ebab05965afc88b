import { defineConfig } from "vite";

// A static build (web/dist) served by `make dev` (localdev/web.py) and by Firebase Hosting. Nothing is loaded
// from the internet at run time: the Firebase JS SDK is bundled; Stripe.js comes from the runtime config.
export default defineConfig({
  base: "/",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, target: "es2022" },
});
