// Insights: each of GET /v1/creators/{id}/insights's sections as the API gives it, its
// figures as lists and tables, its notes and what it withheld in plain words.

import {
  apiUrl,
  ctx,
  dataTable,
  getJson,
  h,
  markReady,
  notice,
  periodParams,
  sentence,
  setLinks,
  showError,
  showNotes,
  showPeriod,
  slot,
  withheldText,
} from "./common.js";

const params = periodParams();
const url = apiUrl(`/v1/creators/${encodeURIComponent(ctx.creator)}/insights`, params);
// No CSV of its own: the insights are several tables; the page's data is the JSON.
setLinks(url, url);

const SECTIONS = [
  "best_times", "what_works", "virality", "sentiment", "trending", "benchmark", "creator_fund",
];

const words = (key) => {
  const t = key.replaceAll("_", " ").trim();
  return t.charAt(0).toUpperCase() + t.slice(1);
};
const isRecord = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

function shown(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "number") return Number.isInteger(value) ? value.toLocaleString("en") : value.toLocaleString("en", { maximumFractionDigits: 3 });
  if (Array.isArray(value)) return value.map(shown).join(" to ");
  if (isRecord(value)) return Object.entries(value).map(([k, v]) => `${words(k)}: ${shown(v)}`).join(", ");
  return String(value);
}

/** A section: its scalar figures as a list, its lists of records as tables, then its notes. */
function render(name, section) {
  const box = slot(name);
  const facts = [];
  const tables = [];
  const notes = [];
  const walk = (value, prefix) => {
    for (const [key, v] of Object.entries(value)) {
      const label = prefix ? `${prefix} ${key}` : key;
      if (key === "withheld" || key === "note") continue;
      if (Array.isArray(v) && v.length && isRecord(v[0])) {
        // The row's name first (a slot's label, a sound's name, a trait), as the row header.
        const keys = Object.keys(v[0]);
        const head = ["label", "name", "trait", "video_id", "day"].find((k) => keys.includes(k));
        const ordered = head ? [head, ...keys.filter((k) => k !== head)] : keys;
        const columns = ordered.map((k) => ({ key: k, label: words(k), format: shown }));
        tables.push(dataTable(columns, v, words(label)));
      } else if (Array.isArray(v) && !v.length) {
        notes.push(notice(`${words(label)}: none.`, { inline: true }));
      } else if (isRecord(v) && Object.values(v).some((x) => Array.isArray(x) || isRecord(x))) {
        walk(v, label);
      } else {
        facts.push(h("div", { "data-key": label }, h("dt", {}, words(label)), h("dd", {}, shown(v))));
      }
    }
  };
  walk(section, "");
  // The insights say what they withheld as "what: reason".
  const withheld = (section.withheld ?? []).map((w) => {
    const [what, ...reason] = typeof w === "string" ? w.split(": ") : [w.what, w.reason];
    return notice(withheldText({ what, reason: reason.join(": ") }));
  });
  const note = section.note ? [notice(sentence(section.note))] : [];
  box.replaceChildren(...note, ...withheld, h("dl", { class: "facts" }, facts), ...tables, ...notes);
}

async function load() {
  const data = await getJson(url);
  showNotes(data.notes ?? []);
  showPeriod(data.period, false);
  for (const name of SECTIONS) {
    if (data[name]) render(name, data[name]);
    else slot(name).replaceChildren(notice("Not available for this account."));
  }
  markReady();
}

load().catch(showError);
