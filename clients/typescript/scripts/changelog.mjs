// npm pack's copy of the clients' one changelog (clients/CHANGELOG.md), which lives beside both clients.
import { copyFileSync } from "node:fs";

copyFileSync(new URL("../../CHANGELOG.md", import.meta.url), new URL("../CHANGELOG.md", import.meta.url));
