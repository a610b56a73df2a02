// What every page of creatorlens studio shares: the creator API, the period, formatting,
// cards, tables, bar lists, withheld notices and the live stream.
//
// The pages compute nothing: every number is a field of a creator API answer, shown as it
// came (formatted for reading), so a page and its JSON link say the same thing.

const body = document.body.dataset;

export const ctx = {
  creator: body.creator,
  page: body.page,
  video: body.video,
  kMin: Number(body.kMin),
  cellMin: Number(body.cellMin),
  csrf: document.querySelector('meta[name="csrf-token"]')?.content ?? "",
};

export const NAMED_PERIODS = ["7d", "28d", "60d", "365d"];

// --- the period ----------------------------------------------------------------------------

/** The period the page's address asks for, as the API's query parameters. */
export function periodParams() {
  const q = new URLSearchParams(location.search);
  const period = q.get("period");
  if (NAMED_PERIODS.includes(period)) return { period };
  const from = q.get("from");
  const to = q.get("to");
  if (from && to) return { from, to };
  return { period: "28d" };
}

/** The period form: shows the page's period and goes to another one on change. */
function setupPeriodForm() {
  const form = document.getElementById("period-form");
  if (!form) return;
  const select = form.querySelector("#period");
  const range = form.querySelector("#custom-range");
  const from = form.querySelector("#from");
  const to = form.querySelector("#to");
  const chosen = periodParams();
  select.value = chosen.period ?? "custom";
  if (chosen.from) {
    from.value = chosen.from;
    to.value = chosen.to;
  }
  const showRange = () => {
    const custom = select.value === "custom";
    range.hidden = !custom;
    from.disabled = to.disabled = !custom;
    from.required = to.required = custom;
  };
  showRange();
  select.addEventListener("change", () => {
    showRange();
    if (select.value !== "custom") form.requestSubmit();
    else from.focus();
  });
  form.addEventListener("submit", (event) => {
    // The address holds the period alone: a custom range as from/to, a named one by name.
    event.preventDefault();
    const next = new URLSearchParams();
    if (select.value === "custom") {
      if (!from.value || !to.value) return;
      next.set("from", from.value);
      next.set("to", to.value);
    } else {
      next.set("period", select.value);
    }
    location.assign(`${location.pathname}?${next}`);
  });
}

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

/** The period before `period` (the API's {from, to}), as the API compares with it. */
export function previousPeriod(period) {
  const start = new Date(`${period.from}T00:00:00Z`);
  const end = new Date(`${period.to}T00:00:00Z`);
  const days = Math.round((end - start) / 86_400_000) + 1;
  const prevEnd = new Date(start.getTime() - 86_400_000);
  const prevStart = new Date(prevEnd.getTime() - (days - 1) * 86_400_000);
  return { from: isoDay(prevStart), to: isoDay(prevEnd), days };
}

function readableDay(iso) {
  return new Date(`${iso}T00:00:00Z`).toLocaleDateString("en-GB", {
    day: "numeric",
    month: "short",
    year: "numeric",
    timeZone: "UTC",
  });
}

/** Say which days the page shows, and which it compares with. */
export function showPeriod(period, compared = true) {
  const label = document.getElementById("period-label");
  if (!label) return;
  const prev = previousPeriod(period);
  const name = period.label ? ` (${period.label})` : "";
  label.textContent =
    `${readableDay(period.from)} – ${readableDay(period.to)}${name}` +
    (compared ? `, compared with ${readableDay(prev.from)} – ${readableDay(prev.to)}` : "");
}

// --- the creator API -----------------------------------------------------------------------

export function apiUrl(path, params = {}) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null) q.set(key, String(value));
  }
  const text = q.toString();
  return text ? `${path}?${text}` : path;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `the server answered ${status}`);
    this.status = status;
    this.code = body?.error?.code;
  }
}

async function answer(response) {
  if (response.status === 401) {
    // The session ended (signed out elsewhere, expired, token revoked): sign in again.
    location.assign("/signin?reason=ended");
    throw new ApiError(401, { error: { message: "signed out" } });
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** A creator API answer, asked with the session cookie. */
export async function getJson(url) {
  return answer(
    await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }),
  );
}

/** A JSON body posted to the API with the session cookie and its CSRF header. */
export async function postJson(url, body) {
  return answer(
    await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": ctx.csrf },
      body: JSON.stringify(body),
    }),
  );
}

/** A query of the query model (POST /v1/query). */
export async function postQuery(query) {
  return postJson("/v1/query", query);
}

/** Point the page's JSON link at the API call behind it and its CSV link at the export. */
export function setLinks(jsonUrl, csvUrl) {
  const json = document.getElementById("json-link");
  const csv = document.getElementById("csv-link");
  if (json) {
    json.href = jsonUrl;
    json.title = `The API call behind this page: GET ${jsonUrl}`;
  }
  if (csv) {
    csv.href = csvUrl;
    csv.title = `Download as CSV: GET ${csvUrl}`;
  }
}

export function showError(error) {
  const box = document.getElementById("page-error");
  if (!box) return;
  box.hidden = false;
  box.textContent =
    error instanceof ApiError && error.status === 404
      ? `Not found: ${error.message}.`
      : `This page could not be loaded: ${error.message}.`;
  document.body.dataset.ready = "error";
}

export function showNotes(notes) {
  const list = document.getElementById("notes");
  if (!list) return;
  list.replaceChildren(...(notes ?? []).map((note) => h("li", {}, sentence(note))));
  list.hidden = !notes || notes.length === 0;
}

// --- formatting ----------------------------------------------------------------------------

export function sentence(text) {
  const t = String(text);
  return t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? "" : ".");
}

export const fmt = {
  int(value) {
    return value === null || value === undefined ? "—" : Number(value).toLocaleString("en-US");
  },
  duration(ms) {
    if (ms === null || ms === undefined) return "—";
    const seconds = ms / 1000;
    if (seconds < 60) return `${seconds.toFixed(1)} s`;
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
    const hours = Math.floor(minutes / 60);
    return `${hours.toLocaleString("en-US")} h ${minutes % 60} min`;
  },
  pct(share, digits = 1) {
    return share === null || share === undefined ? "—" : `${(share * 100).toFixed(digits)}%`;
  },
  change(change) {
    if (change === null || change === undefined) return "no comparison";
    const pct = (change * 100).toFixed(1);
    if (change > 0) return `+${pct}%`;
    if (change < 0) return `−${pct.slice(1)}%`;
    return "±0%";
  },
  day(iso) {
    return readableDay(iso);
  },
  seconds(ms) {
    return `${(ms / 1000).toFixed(0)} s`;
  },
  /** An instant of the API ("2026-10-01 10:00:00+00:00") as a readable local time. */
  when(iso, { year = false } = {}) {
    return new Date(String(iso).replace(" ", "T")).toLocaleString("en-GB", {
      day: "numeric",
      month: "short",
      year: year ? "numeric" : undefined,
      hour: "2-digit",
      minute: "2-digit",
    });
  },
};

export const LABELS = {
  views: "Video views",
  plays: "Plays",
  profile_views: "Profile views",
  likes: "Likes",
  comments: "Comments",
  shares: "Shares",
  saves: "Saves",
  followers_net: "Followers, net",
  followers_gained: "Followers gained",
  followers_lost: "Followers lost",
  followers_total: "Followers",
  total_watch_ms: "Total watch time",
  avg_watch_ms: "Average watch time",
  full_watch_rate: "Watched in full",
  reach: "Reached audience",
  engaged_audience: "Engaged audience",
  new_viewers: "New viewers",
  returning_viewers: "Returning viewers",
  follower_viewers: "Followers who watched",
  non_follower_viewers: "Non-followers who watched",
};

export const SOURCES = {
  for_you: "For You",
  following: "Following",
  profile: "Profile",
  search: "Search",
  hashtag: "Hashtag",
  sound: "Sound",
  share_link: "Shared link",
  embed: "Embed",
  other: "Other",
};

/** A metric's value as text: times as durations, rates as percentages, counts as counts. */
export function formatMetric(metric, value) {
  if (metric.endsWith("_ms")) return fmt.duration(value);
  if (metric.endsWith("_rate")) return fmt.pct(value);
  return fmt.int(value);
}

// --- building the page ---------------------------------------------------------------------

/** An element: h("p", {class: "x"}, "text", child). Text is always text, never HTML. */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function slot(id) {
  return document.getElementById(id);
}

/**
 * A headline card: the figure, and its change against the previous period when given (or,
 * with `before`, the previous period's own figure, for answers that give no change).
 */
export function card(metric, value, change, { label, compare = true, before } = {}) {
  const direction = change > 0 ? "up" : change < 0 ? "down" : "flat";
  return h(
    "div",
    { class: "card", "data-metric": metric },
    h("p", { class: "card-label" }, label ?? LABELS[metric] ?? metric),
    h(
      "p",
      { class: "card-value", "data-value": value ?? "" },
      formatMetric(metric, value),
    ),
    compare
      ? h(
          "p",
          { class: `card-change ${change === null || change === undefined ? "none" : direction}` },
          h("span", { class: "visually-hidden" }, "Change against the previous period: "),
          fmt.change(change),
        )
      : null,
    before !== undefined
      ? h(
          "p",
          { class: "card-change none", "data-before": before ?? "" },
          `Period before: ${formatMetric(metric, before)}`,
        )
      : null,
  );
}

export function showCards(cards) {
  const box = slot("cards");
  box.replaceChildren(...cards);
  box.setAttribute("aria-busy", "false");
}

/** A data table: columns [{key, label, format}], rows of API objects. */
export function dataTable(columns, rows, caption) {
  return h(
    "table",
    { class: "data" },
    caption ? h("caption", {}, caption) : null,
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.label)))),
    h(
      "tbody",
      {},
      rows.map((row) =>
        h(
          "tr",
          {},
          columns.map((c, i) =>
            h(
              i === 0 ? "th" : "td",
              i === 0 ? { scope: "row" } : { "data-value": row[c.key] ?? "" },
              c.format ? c.format(row[c.key], row) : (row[c.key] ?? "—"),
            ),
          ),
        ),
      ),
    ),
  );
}

/**
 * A ranked bar list: a table whose rows are the groups, each with its bar. The table is the
 * chart and its own data-table fallback.
 */
export function barList(rows, { label, value, labelText, format = fmt.int, caption }) {
  const top = Math.max(1, ...rows.map((r) => Number(r[value]) || 0));
  return h(
    "table",
    { class: "bars" },
    h("caption", { class: "visually-hidden" }, caption),
    h(
      "thead",
      { class: "visually-hidden" },
      h("tr", {}, h("th", { scope: "col" }, "Group"), h("th", { scope: "col" }, caption)),
    ),
    h(
      "tbody",
      {},
      rows.map((row) => {
        const bar = h("span", { class: "bar", "aria-hidden": "true" });
        bar.style.width = `${(100 * (Number(row[value]) || 0)) / top}%`;
        const shown = format(row[value]);
        return h(
          "tr",
          { "data-key": row[label] },
          h("th", { scope: "row" }, labelText ? labelText(row[label]) : row[label]),
          h("td", { "data-value": row[value] ?? "" }, bar, h("span", { class: "n" }, shown)),
        );
      }),
    ),
  );
}

/** A notice in plain words where a chart would be, or under it. */
export function notice(text, { inline = false } = {}) {
  return h("p", { class: inline ? "withheld-note" : "withheld", role: "note" }, text);
}

/**
 * Plain words for a note of what was withheld (`{what, reason, detail}` of the API).
 * `population` is what the page knows of the group's size, e.g. "45 viewers in this period".
 */
export function withheldText(note, population) {
  const pop = population ? `: ${population}` : "";
  const detail = note.detail ? ` (${note.detail})` : "";
  switch (note.reason) {
    case "population below k_min":
    case "filtered population below k_min":
      return `Shown when at least ${ctx.kMin} people are in this group${pop}.`;
    case "population mostly minors":
      return "Not shown: most people in this group are 13-17, whose breakdowns are never shown.";
    case "under cell_min":
      if (note.what.startsWith("follower activity"))
        return `An hour is shown when at least ${ctx.cellMin} followers watched then; quieter hours are left out.`;
      return `Groups of fewer than ${ctx.cellMin} people are ${note.detail || "left out"}.`;
    case "beyond top_n":
      return `Only the largest groups are listed; the others are ${note.detail || "left out"}.`;
    case "other under cell_min, counted in the total only":
      return `The remaining groups, fewer than ${ctx.cellMin} people together, count in the total only.`;
    case "follower population below k_min":
    case "fewer than k_min followers":
      return `Shown when at least ${ctx.kMin} people follow you${pop}.`;
    case "engaged audience under cell_min":
      return `The engaged audience is shown when at least ${ctx.cellMin} people engaged.`;
    case "likers under cell_min":
      return `Likes by second are shown when at least ${ctx.cellMin} people liked this video.`;
    case "fewer than k_min creators":
      return `${sentence(note.what).slice(0, -1)}: shown when at least ${ctx.kMin} creators are in the group.`;
    case "words of too few comments":
      return "Words of only a few comments are left out, so no comment is ever quoted.";
    case "window shorter than min_window_days":
      return "Not shown for a period this short: choose a longer one.";
    case "window not whole days in the creator's time zone":
      return "Not shown for part of a day: choose whole days.";
    default:
      return sentence(`${note.what} not shown: ${note.reason}${detail}`);
  }
}

/** The notes among `withheld` about `what` (their `what` starts with it). */
export function notesAbout(withheld, what) {
  return (withheld ?? []).filter((w) => w.what.startsWith(what));
}

/**
 * A breakdown's panel: its bar list, or the plain words saying why it is withheld, with
 * notes under the list for what it leaves out.
 */
export function breakdownPanel(target, rows, withheld, options) {
  const box = slot(target);
  const notes = (withheld ?? []).map((w) => withheldText(w, options.population));
  if (!rows || rows.length === 0) {
    box.replaceChildren(
      notice(notes.length ? notes.join(" ") : options.empty ?? "Nothing in this period."),
    );
    return;
  }
  box.replaceChildren(
    barList(rows, options),
    ...[...new Set(notes)].map((text) => notice(text, { inline: true })),
  );
}

// --- live numbers --------------------------------------------------------------------------

/**
 * Listen to the creator's stream of rollup refreshes and call `onRefresh` after each one;
 * say "Live" while connected, "Reconnecting…" while not.
 */
export function startLive(onRefresh) {
  const status = document.getElementById("live");
  if (!status || typeof EventSource === "undefined") return;
  status.hidden = false;
  let source = null;
  let planned = false; // the server ends each stream after a while; the browser reconnects
  let pending = null;
  const say = (state) => {
    status.dataset.state = state;
    status.textContent = state === "live" ? "Live" : "Reconnecting…";
  };
  const connect = () => {
    source = new EventSource(`/v1/creators/${encodeURIComponent(ctx.creator)}/stream`);
    source.addEventListener("hello", () => say("live"));
    source.addEventListener("bye", () => {
      planned = true;
    });
    source.addEventListener("refreshed", () => {
      say("live");
      clearTimeout(pending);
      pending = setTimeout(onRefresh, 100);
    });
    source.addEventListener("error", () => {
      if (planned) {
        planned = false;
        return;
      }
      say("reconnecting");
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 2000);
    });
  };
  say("reconnecting");
  connect();
  addEventListener("pagehide", () => source?.close());
}

/** Mark the page as drawn: its data shown and every chart rendered. */
export function markReady() {
  if (!performance.getEntriesByName("creatorlens:drawn").length) {
    performance.mark("creatorlens:drawn");
  }
  document.body.dataset.ready = "true";
}

// --- the notifications bell ----------------------------------------------------------------

const BELL_EVERY_MS = 3000;
let bellTimer = null;

/** Show the unread count on the bell; tell the page (an `unread` event) when it changed. */
export function showUnread(count) {
  const bell = document.getElementById("bell");
  const badge = document.getElementById("bell-count");
  if (!bell || !badge) return;
  const before = badge.dataset.unread;
  badge.dataset.unread = String(count);
  badge.textContent = count > 99 ? "99+" : fmt.int(count);
  badge.hidden = count === 0;
  bell.setAttribute("aria-label", count ? `Notifications, ${fmt.int(count)} unread` : "Notifications");
  if (before !== String(count)) document.dispatchEvent(new CustomEvent("unread", { detail: count }));
}

/** Ask the API for the unread count now, then again every few seconds. */
export async function askUnread() {
  clearTimeout(bellTimer);
  if (!document.hidden) {
    try {
      const data = await getJson(
        `/v1/creators/${encodeURIComponent(ctx.creator)}/notifications/unread`,
      );
      showUnread(data.unread);
    } catch {
      // Asked again at the next turn (a 401 has already sent the browser to sign in).
    }
  }
  clearTimeout(bellTimer); // one round of asking, however many asked at once
  bellTimer = setTimeout(askUnread, BELL_EVERY_MS);
}

/** Hide the CSV link of a page whose answer is no table. */
export function noCsv() {
  const csv = document.getElementById("csv-link");
  if (csv) csv.hidden = true;
}

setupPeriodForm();
if (ctx.creator && document.getElementById("bell")) {
  askUnread();
  document.addEventListener("visibilitychange", () => document.hidden || askUnread());
}
