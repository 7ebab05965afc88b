import { signIn, signUp } from "../auth";
import type { Session } from "../session";
import { clearNotice, field, h, showError } from "../ui";

export async function signInPage(root: HTMLElement, _session: Session): Promise<void> {
  const email = h("input", { type: "email", autocomplete: "username", required: true, name: "email" });
  const password = h("input", {
    type: "password",
    autocomplete: "current-password",
    required: true,
    minlength: 6,
    name: "password",
  });
  let mode: "in" | "up" = "in";
  const submit = h("button", { type: "submit" }, "Sign in");
  const switcher = h("button", { type: "button", class: "link" }, "New here? Create an account");
  const heading = h("h1", {}, "Sign in");
  const form = h(
    "form",
    { class: "card narrow", "aria-labelledby": "signin-title" },
    field("Email", email),
    field("Password", password, "At least 6 characters."),
    submit,
  );
  heading.id = "signin-title";
  switcher.addEventListener("click", () => {
    mode = mode === "in" ? "up" : "in";
    heading.textContent = mode === "in" ? "Sign in" : "Create your account";
    submit.textContent = mode === "in" ? "Sign in" : "Sign up";
    switcher.textContent = mode === "in" ? "New here? Create an account" : "Have an account? Sign in";
    password.autocomplete = mode === "in" ? "current-password" : "new-password";
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearNotice();
    submit.disabled = true;
    try {
      if (mode === "in") await signIn(email.value.trim(), password.value);
      else await signUp(email.value.trim(), password.value);
    } catch (error) {
      showError(error);
    } finally {
      submit.disabled = false;
    }
  });
  root.append(heading, form, switcher);
  email.focus();
}
