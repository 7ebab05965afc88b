import type { User } from "firebase/auth";
import type { Account } from "./api";

/** What the pages share during one visit. The last created key's plaintext is kept in memory only (never
 * stored), so the jobs page can run a job with it right away. */
export interface Session {
  user: User | null;
  admin: boolean;
  lastKey: string | null;
  account: Account | null;
}
