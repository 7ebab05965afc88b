// Small DOM helpers: no framework, every element built with labels and real buttons (keyboard-usable).

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | boolean | number | EventListener | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "value" && "value" in el) {
      (el as HTMLInputElement).value = String(value);
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child);
  }
  return el;
}

let fieldCounter = 0;

/** A labelled form field: the label's `for` names the control, so screen readers and clicks both work. */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, hint?: string): HTMLElement {
  if (!control.id) control.id = `f${++fieldCounter}`;
  const wrap = h("div", { class: "field" }, h("label", { for: control.id }, label), control);
  if (hint) {
    const hintId = `${control.id}-hint`;
    control.setAttribute("aria-describedby", hintId);
    wrap.append(h("small", { id: hintId }, hint));
  }
  return wrap;
}

/** A checkbox with its label beside it (clicking the label toggles it). */
export function check(label: string, box: HTMLInputElement): HTMLElement {
  if (!box.id) box.id = `f${++fieldCounter}`;
  return h("div", { class: "check" }, box, h("label", { for: box.id }, label));
}

export function button(label: string, onClick: () => void | Promise<void>, attrs: Attrs = {}): HTMLButtonElement {
  const b = h("button", { type: "button", ...attrs }, label);
  b.addEventListener("click", async () => {
    b.disabled = true;
    try {
      await onClick();
    } catch (error) {
      showError(error);
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

/** Shows an error in words (API errors carry a message for people; anything else gets a plain sentence). */
export function showError(error: unknown): void {
  const message = error instanceof Error ? error.message : "Something went wrong. Please try again.";
  notice(message, "error");
}

export function notice(message: string, kind: "error" | "ok" = "ok"): void {
  const box = document.getElementById("notice");
  if (!box) return;
  box.className = kind;
  box.textContent = message;
  if (kind === "ok") {
    window.setTimeout(() => {
      if (box.textContent === message) box.textContent = "";
    }, 6000);
  }
}

export function clearNotice(): void {
  const box = document.getElementById("notice");
  if (box) {
    box.textContent = "";
    box.className = "";
  }
}

export function when(unix: number | null | undefined): string {
  if (!unix) return "—";
  return new Date(unix * 1000).toLocaleString();
}

export function money(cents: number, currency: string): string {
  return new Intl.NumberFormat(undefined, { style: "currency", currency: currency.toUpperCase() }).format(cents / 100);
}

export function table(headers: string[], rows: Node[][], caption: string): HTMLTableElement {
  return h(
    "table",
    {},
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, ...headers.map((t) => h("th", { scope: "col" }, t)))),
    // data-label: on a phone the header row is hidden and each cell shows its column name (style.css).
    h("tbody", {}, ...rows.map((cells) => h("tr", {}, ...cells.map((c, i) => h("td", { "data-label": headers[i] }, c))))),
  );
}

/** A secret shown once: read-only field, copy button, and a reminder that it will not be shown again. */
export function secretOnce(title: string, value: string, testId: string): HTMLElement {
  const input = h("input", { type: "text", readonly: true, value, "data-testid": testId, class: "secret" });
  const copy = button("Copy", async () => {
    await navigator.clipboard.writeText(value).then(
      () => notice("Copied to the clipboard."),
      () => {
        input.select();
        notice("Select the text and copy it (the browser refused clipboard access).", "error");
      },
    );
  });
  return h(
    "section",
    { class: "once", "aria-live": "polite" },
    h("h3", {}, title),
    h("p", {}, "Copy it now: it is shown only this once."),
    field(title, input),
    copy,
  );
}

export function text(value: unknown): string {
  return value === null || value === undefined ? "—" : String(value);
}
