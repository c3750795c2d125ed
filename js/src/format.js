// Numbers as people read them: tokens with separators, cost with its currency or "n/a", durations.

const INT = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const COMPACT = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 2 });

/** 1234 -> "1,234"; 12345678 -> "12.35M"; missing -> "0". */
export function tokens(n) {
  if (typeof n !== "number" || !Number.isFinite(n)) return "0";
  return Math.abs(n) >= 1e7 ? COMPACT.format(n) : INT.format(n);
}

/** Same rules as the Python report: "$0.001234", "$12.3400", "n/a" when unpriced (never a silent 0). */
export function cost(value, currency = "USD") {
  if (typeof value !== "number" || !Number.isFinite(value)) return "n/a";
  const symbol = currency === "USD" || !currency ? "$" : `${currency} `;
  if (value < 1) return `${symbol}${value.toFixed(6)}`;
  return symbol + value.toLocaleString("en-US", { minimumFractionDigits: 4, maximumFractionDigits: 4 });
}

/** 850 -> "850 ms"; 12300 -> "12.3 s"; 185000 -> "3m 05s". */
export function duration(ms) {
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) return "0 ms";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}h ${String(m).padStart(2, "0")}m` : `${m}m ${s}s`;
}

/** A budget amount in its unit. */
export function budgetAmount(kind, value) {
  if (kind === "usd") return cost(value);
  return tokens(value) + (kind === "calls" ? " calls" : " tokens");
}

/** Percent with no decimals past 10%, one below. */
export function percent(fraction) {
  if (typeof fraction !== "number" || !Number.isFinite(fraction)) return "0%";
  const p = fraction * 100;
  return p >= 10 || p === 0 ? `${Math.round(p)}%` : `${p.toFixed(1)}%`;
}

/** Tags object as "k=v k=v". */
export function tags(obj) {
  if (!obj || typeof obj !== "object") return "";
  return Object.entries(obj).map(([k, v]) => `${k}=${v}`).join(" ");
}
