// Content: every video of the period in a table sortable by any column.

import {
  apiUrl,
  card,
  ctx,
  fmt,
  getJson,
  h,
  markReady,
  periodParams,
  setLinks,
  showCards,
  showError,
  showNotes,
  showPeriod,
  slot,
} from "./common.js";

const params = periodParams();
const url = apiUrl(`/v1/creators/${ctx.creator}/videos`, { ...params, limit: 100, detail: 0 });
setLinks(url, apiUrl(`/v1/creators/${ctx.creator}/export`, { ...params, table: "videos" }));

const COLUMNS = [
  { key: "caption", label: "Video", text: true },
  { key: "posted_at", label: "Posted", format: (v) => (v ? fmt.day(v.slice(0, 10)) : "—"), text: true },
  { key: "views", label: "Views", format: fmt.int },
  { key: "likes", label: "Likes", format: fmt.int },
  { key: "comments", label: "Comments", format: fmt.int },
  { key: "shares", label: "Shares", format: fmt.int },
  { key: "avg_watch_ms", label: "Avg watch time", format: fmt.duration },
  { key: "full_watch_rate", label: "Watched in full", format: (v) => fmt.pct(v) },
  { key: "reach", label: "Reach", format: fmt.int },
];

let videos = [];
let order = { key: "views", descending: true };

function compare(a, b) {
  const x = a[order.key];
  const y = b[order.key];
  if (x === y) return 0;
  if (x === null || x === undefined) return 1;
  if (y === null || y === undefined) return -1;
  const sign = order.descending ? -1 : 1;
  return (x < y ? -1 : 1) * sign;
}

function videoCell(video) {
  const link = h(
    "a",
    { href: `/creators/${encodeURIComponent(ctx.creator)}/videos/${encodeURIComponent(video.video)}${location.search}` },
    video.caption || video.video,
  );
  return h("th", { scope: "row", class: "video-cell" }, link, h("span", { class: "id" }, video.video));
}

function draw() {
  const sorted = [...videos].sort(compare);
  const head = h(
    "tr",
    {},
    COLUMNS.map((c) => {
      const active = order.key === (c.key === "caption" ? "caption" : c.key);
      const sort = active ? (order.descending ? "descending" : "ascending") : "none";
      return h(
        "th",
        { scope: "col", "aria-sort": sort, class: c.text ? "" : "num" },
        h(
          "button",
          {
            type: "button",
            class: "sort",
            onclick: () => {
              order = {
                key: c.key,
                descending: order.key === c.key ? !order.descending : !c.text,
              };
              draw();
              document.querySelector(`th[aria-sort]:not([aria-sort="none"]) button`)?.focus();
            },
          },
          c.label,
          h("span", { class: "arrow", "aria-hidden": "true" }, sort === "descending" ? " ↓" : sort === "ascending" ? " ↑" : ""),
        ),
      );
    }),
  );
  const rows = sorted.map((v) =>
    h(
      "tr",
      { "data-video": v.video },
      videoCell(v),
      COLUMNS.slice(1).map((c) =>
        h("td", { class: c.text ? "" : "num", "data-key": c.key, "data-value": v[c.key] ?? "" }, c.format(v[c.key])),
      ),
    ),
  );
  slot("videos").replaceChildren(
    videos.length
      ? h(
          "div",
          { class: "scroll" },
          h(
            "table",
            { class: "data videos", id: "videos-table" },
            h("caption", { class: "visually-hidden" }, "Your videos; column buttons sort the table"),
            h("thead", {}, head),
            h("tbody", {}, rows),
          ),
        )
      : h("p", { class: "withheld" }, "No video was played in this period."),
  );
}

// The period's totals and their change are the overview's, as the API compares them.
const compared = apiUrl(`/v1/creators/${ctx.creator}/overview`, { ...params, compare: true });
const TOTALS = ["views", "likes", "comments", "shares", "total_watch_ms", "full_watch_rate"];

async function load() {
  const [data, overview] = await Promise.all([getJson(url), getJson(compared)]);
  const o = overview.overview;
  showNotes(data.notes);
  showPeriod(data.period, o.previous !== null);
  showCards(TOTALS.map((m) => card(m, o.totals[m], o.change?.[m])));
  videos = data.videos;
  draw();
  markReady();
}

load().catch(showError);
