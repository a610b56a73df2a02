// LIVE: while a LIVE runs, GET /v1/creators/{id}/live as its stream sends it (viewers now,
// peak, uniques, minute by minute, the room as the API names it); the last LIVEs' summaries
// from /live/summaries. Every figure is the API's, drawn as it came.

import {
  card,
  ctx,
  dataTable,
  fmt,
  getJson,
  h,
  markReady,
  noCsv,
  notice,
  setLinks,
  showCards,
  showError,
  slot,
} from "./common.js";

const base = `/v1/creators/${encodeURIComponent(ctx.creator)}/live`;
setLinks(base, base);
noCsv();

const when = (iso) => fmt.when(iso);

const MINUTE_COLUMNS = [
  { key: "minute", label: "Minute", format: (m) => `${m + 1}` },
  { key: "viewers", label: "Viewers", format: fmt.int },
  { key: "joins", label: "Joined", format: fmt.int },
  { key: "leaves", label: "Left", format: fmt.int },
  { key: "comments", label: "Comments", format: fmt.int },
  { key: "gifts", label: "Gifts", format: fmt.int },
  { key: "gift_value", label: "Gift value", format: fmt.int },
];

const SUMMARY_COLUMNS = [
  { key: "started_at", label: "Started", format: when },
  { key: "duration_s", label: "Duration", format: (s) => fmt.duration(s * 1000) },
  { key: "peak", label: "Peak", format: fmt.int },
  { key: "average_viewers", label: "Average viewers", format: fmt.int },
  { key: "unique_viewers", label: "Unique viewers", format: fmt.int },
  { key: "new_followers", label: "New followers", format: fmt.int },
  { key: "comments", label: "Comments", format: fmt.int },
  { key: "gifts", label: "Gifts", format: fmt.int },
  { key: "gift_value", label: "Gift value", format: fmt.int },
  { key: "ended_by", label: "Ended", format: (e) => (e === "live_end" ? "by the host" : "idle") },
];

let lastEnded; // the live_id of the last summary drawn: a new one means a LIVE ended

function drawRunning(live, others) {
  const state = slot("live-state");
  state.dataset.state = "running";
  state.dataset.live = live.live_id;
  state.textContent =
    `LIVE now, since ${when(live.started_at)}` +
    (others ? ` (and ${others} more LIVE${others > 1 ? "s" : ""} running)` : "");
  slot("live-now").hidden = false;
  const figure = (metric, label) => card(metric, live[metric], null, { label, compare: false });
  showCards([
    figure("viewers_now", "Viewers now"),
    figure("peak", "Peak so far"),
    figure("unique_viewers", "Unique viewers"),
    figure("comments", "Comments"),
    figure("gifts", "Gifts"),
    figure("gift_value", "Gift value"),
  ]);
  const room = live.room ?? [];
  slot("room").replaceChildren(
    room.length
      ? h(
          "ol",
          { id: "room-list", class: "room" },
          room.map((who) =>
            h("li", { class: who === "a private viewer" ? "private" : "viewer" }, who),
          ),
        )
      : notice("Nobody in the room yet."),
  );
  slot("minutes").replaceChildren(
    dataTable(MINUTE_COLUMNS, live.minutes ?? [], "Each minute from the start of the LIVE"),
  );
}

function drawNone() {
  const state = slot("live-state");
  state.dataset.state = "none";
  delete state.dataset.live;
  state.textContent = "No LIVE now. When you go LIVE, your room and its numbers show here.";
  slot("live-now").hidden = true;
  // The room's names live only while the LIVE runs: none stays in the page after it.
  for (const id of ["cards", "room", "minutes"]) slot(id).replaceChildren();
}

async function drawSummaries() {
  const data = await getJson(`${base}/summaries?limit=5`);
  const box = slot("summaries");
  if (!data.summaries.length) {
    box.replaceChildren(notice("No LIVE has ended yet."));
    return;
  }
  const table = dataTable(SUMMARY_COLUMNS, data.summaries, "Aggregates only: no viewer named");
  table.id = "summary-table";
  table.querySelectorAll("tbody tr").forEach((row, i) => {
    row.dataset.live = data.summaries[i].live_id;
  });
  box.replaceChildren(table);
}

async function draw(view) {
  const running = [...(view.running ?? [])].sort((a, b) =>
    String(b.started_at).localeCompare(String(a.started_at)),
  );
  if (running.length) drawRunning(running[0], running.length - 1);
  else drawNone();
  const ended = view.last?.live_id ?? null;
  if (ended !== lastEnded) {
    lastEnded = ended;
    await drawSummaries();
  }
  markReady();
}

/** The LIVE stream: a `live` event on every change; it ends when no LIVE runs and the
 * browser opens it again (every few seconds), so a LIVE that starts shows by itself. */
function follow() {
  const source = new EventSource(`${base}/stream`);
  source.addEventListener("live", (event) => draw(JSON.parse(event.data)).catch(showError));
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CLOSED) setTimeout(follow, 3000);
  });
  addEventListener("pagehide", () => source.close());
}

getJson(base)
  .then(draw)
  .then(follow)
  .catch(showError);
