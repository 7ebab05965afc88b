// The overview's usage chart: requests and credits spent per UTC day over the last 30 days (GET /v1/usage),
// drawn as inline SVG (no chart library) with a title and a summary for screen readers, and the same numbers
// as a table beside it.

import type { UsageReport } from "./api";
import { h, table } from "./ui";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const HEIGHT = 220;
const PAD = { left: 44, right: 44, top: 16, bottom: 28 };

export interface UsageDayTotal {
  date: string; // YYYY-MM-DD (UTC)
  requests: number;
  credits: number;
}

/** Every day from `from` to `to` (the report's bounds), summed over keys; days without usage are 0. */
export function dailyTotals(report: UsageReport): UsageDayTotal[] {
  const byDay = new Map<string, UsageDayTotal>();
  for (let day = new Date(`${report.from}T00:00:00Z`); day <= new Date(`${report.to}T00:00:00Z`); day.setUTCDate(day.getUTCDate() + 1)) {
    const date = day.toISOString().slice(0, 10);
    byDay.set(date, { date, requests: 0, credits: 0 });
  }
  for (const row of report.data) {
    const total = byDay.get(row.date);
    if (!total) continue;
    total.requests += row.requests;
    total.credits += row.credits_spent;
  }
  return [...byDay.values()];
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, ...children: (Node | string)[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  el.append(...children);
  return el;
}

/** A rounded-up axis maximum (1, 2, 5 × 10^n), so the scale reads well. */
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].find((step) => step * power >= value) ?? 10) * power;
}

let chartCounter = 0;

/** The chart (bars: requests, left axis; line: credits spent, right axis) and its table, in one figure. */
export function usageChart(report: UsageReport): HTMLElement {
  const days = dailyTotals(report);
  const id = `usage-${++chartCounter}`;
  const maxRequests = niceMax(Math.max(0, ...days.map((d) => d.requests)));
  const maxCredits = niceMax(Math.max(0, ...days.map((d) => d.credits)));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(days.length, 1);
  const x = (i: number): number => PAD.left + i * slot;
  const yRequests = (v: number): number => PAD.top + plotH - (v / maxRequests) * plotH;
  const yCredits = (v: number): number => PAD.top + plotH - (v / maxCredits) * plotH;

  const totalRequests = days.reduce((sum, d) => sum + d.requests, 0);
  const totalCredits = days.reduce((sum, d) => sum + d.credits, 0);
  const busiest = days.reduce((best, d) => (d.requests > best.requests ? d : best), days[0] ?? { date: "", requests: 0, credits: 0 });
  const summary =
    `${totalRequests} requests and ${totalCredits} credits spent from ${report.from} to ${report.to}` +
    (busiest.requests ? `; the busiest day was ${busiest.date} with ${busiest.requests} requests.` : ".");

  const bars = days.map((d, i) =>
    svg(
      "rect",
      {
        x: (x(i) + slot * 0.15).toFixed(1),
        y: yRequests(d.requests).toFixed(1),
        width: (slot * 0.7).toFixed(1),
        height: (PAD.top + plotH - yRequests(d.requests)).toFixed(1),
        class: "bar",
      },
      svg("title", {}, `${d.date}: ${d.requests} requests, ${d.credits} credits`),
    ),
  );
  const points = days.map((d, i) => `${(x(i) + slot / 2).toFixed(1)},${yCredits(d.credits).toFixed(1)}`).join(" ");
  const labelEvery = Math.ceil(days.length / 6);
  const dayLabels = days
    .map((d, i) => (i % labelEvery === 0 ? svg("text", { x: (x(i) + slot / 2).toFixed(1), y: HEIGHT - 8, "text-anchor": "middle" }, d.date.slice(5)) : null))
    .filter((label): label is SVGTextElement => label !== null);

  const chart = svg(
    "svg",
    { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-labelledby": `${id}-title ${id}-desc`, class: "usage-chart", "data-testid": "usage-chart" },
    svg("title", { id: `${id}-title` }, "Requests and credits spent per day, last 30 days"),
    svg("desc", { id: `${id}-desc` }, `${summary} The table below lists each day.`),
    svg("line", { x1: PAD.left, y1: PAD.top + plotH, x2: WIDTH - PAD.right, y2: PAD.top + plotH, class: "axis" }),
    svg("text", { x: PAD.left - 6, y: PAD.top + 4, "text-anchor": "end" }, String(maxRequests)),
    svg("text", { x: PAD.left - 6, y: PAD.top + plotH, "text-anchor": "end" }, "0"),
    svg("text", { x: WIDTH - PAD.right + 6, y: PAD.top + 4 }, String(maxCredits)),
    svg("text", { x: WIDTH - PAD.right + 6, y: PAD.top + plotH }, "0"),
    ...bars,
    svg("polyline", { points, class: "credits-line", fill: "none" }),
    ...dayLabels,
  );
  const legend = h(
    "p",
    { class: "legend", "aria-hidden": "true" },
    h("span", { class: "key bar-key" }, ""),
    " Requests (left scale) ",
    h("span", { class: "key line-key" }, ""),
    " Credits spent (right scale)",
  );
  const rows = days
    .filter((d) => d.requests || d.credits)
    .map((d) => [document.createTextNode(d.date), document.createTextNode(String(d.requests)), document.createTextNode(String(d.credits))]);
  const details = h(
    "details",
    {},
    h("summary", {}, "Show the numbers as a table"),
    rows.length
      ? table(["Day (UTC)", "Requests", "Credits spent"], rows, "Usage per day (days without usage left out)")
      : h("p", {}, "No usage in these 30 days."),
  );
  return h("figure", { class: "usage" }, chart, legend, h("figcaption", {}, summary), details);
}
