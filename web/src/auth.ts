// Sign-in with the Firebase JS SDK (bundled). Locally it talks to the Auth emulator; the API verifies the
// same ID tokens with firebase-admin, so nothing differs in production but the config.
import { initializeApp } from "firebase/app";
import {
  type Auth,
  type User,
  connectAuthEmulator,
  createUserWithEmailAndPassword,
  getAuth,
  onAuthStateChanged,
  signInWithEmailAndPassword,
  signOut,
} from "firebase/auth";
import type { DashboardConfig } from "./config";

let auth: Auth | null = null;

export function initAuth(config: DashboardConfig, onChange: (user: User | null) => void): void {
  const app = initializeApp(config.firebase);
  auth = getAuth(app);
  if (config.authEmulatorUrl) connectAuthEmulator(auth, config.authEmulatorUrl, { disableWarnings: true });
  onAuthStateChanged(auth, onChange);
}

function current(): Auth {
  if (!auth) throw new Error("Sign-in is not ready yet.");
  return auth;
}

export async function idToken(): Promise<string | null> {
  const user = auth?.currentUser;
  return user ? user.getIdToken() : null;
}

export async function isAdmin(refresh = false): Promise<boolean> {
  const user = auth?.currentUser;
  if (!user) return false;
  const result = await user.getIdTokenResult(refresh);
  return result.claims.admin === true;
}

// Firebase error codes in words.
const AUTH_ERRORS: Record<string, string> = {
  "auth/email-already-in-use": "An account with this email already exists. Sign in instead.",
  "auth/invalid-email": "That email address does not look right.",
  "auth/weak-password": "Choose a longer password (at least 6 characters).",
  "auth/missing-password": "Enter your password.",
  "auth/invalid-credential": "Wrong email or password.",
  "auth/wrong-password": "Wrong email or password.",
  "auth/user-not-found": "No account with this email. Sign up first.",
  "auth/too-many-requests": "Too many attempts. Wait a minute and try again.",
  "auth/network-request-failed": "The sign-in service could not be reached.",
};

function words(error: unknown): Error {
  const code = (error as { code?: string }).code ?? "";
  return new Error(AUTH_ERRORS[code] ?? "Signing in failed. Please try again.");
}

export async function signUp(email: string, password: string): Promise<void> {
  await createUserWithEmailAndPassword(current(), email, password).catch((e) => {
    throw words(e);
  });
}

export async function signIn(email: string, password: string): Promise<void> {
  await signInWithEmailAndPassword(current(), email, password).catch((e) => {
    throw words(e);
  });
}

export async function logOut(): Promise<void> {
  await signOut(current());
}
