// One video: retention and likes by second on one chart, traffic sources, share channels,
// territories, new vs returning and follower vs non-follower viewers, and its likers; live.

import { chartFigure, echarts } from "./charts.js";
import {
  apiUrl,
  breakdownPanel,
  card,
  ctx,
  dataTable,
  fmt,
  getJson,
  h,
  markReady,
  notesAbout,
  notice,
  periodParams,
  postQuery,
  setLinks,
  showCards,
  showError,
  showNotes,
  showPeriod,
  slot,
  SOURCES,
  startLive,
  withheldText,
} from "./common.js";
import { splitPanel } from "./splits.js";

echarts();

const params = periodParams();
const base = `/v1/creators/${encodeURIComponent(ctx.creator)}`;
const url = apiUrl(`${base}/videos/${encodeURIComponent(ctx.video)}`, params);
setLinks(url, apiUrl(`${base}/export`, { ...params, table: "videos" }));
// The video's territories: a question of the query model, as any API client asks it.
const territories = {
  metrics: ["reach", "views"],
  dimensions: ["country"],
  filters: [["is", "video", [ctx.video]]],
  order_by: [["reach", "desc"]],
  ...params,
};

const CARDS = ["views", "likes", "comments", "shares", "saves", "avg_watch_ms", "full_watch_rate", "reach"];

async function drawPositions(video, withheld) {
  const retention = video.retention ?? [];
  const likes = video.likes_by_second?.seconds ?? [];
  const likesNote = notesAbout(withheld, "likes by second");
  const box = slot("retention");
  if (!retention.length) {
    box.replaceChildren(notice("No plays of this video in this period."));
    return;
  }
  const byAt = new Map(likes.map((l) => [l.at_ms, l.likes]));
  const rows = retention.map((r) => ({ at_ms: r.at_ms, share: r.share, likes: byAt.get(r.at_ms) }));
  const series = [
    { name: "Still watching", type: "line", yAxisIndex: 0, showSymbol: false,
      data: retention.map((r) => [fmt.seconds(r.at_ms), r.share * 100]) },
  ];
  if (likes.length) {
    series.push({ name: "Likes", type: "bar", yAxisIndex: 1, barMaxWidth: 14,
      data: likes.map((l) => [fmt.seconds(l.at_ms), l.likes]) });
  }
  await chartFigure(box, {
    label: `Retention: share of plays still watching at each second; ${likes.length ? "likes at each second" : "likes by second withheld"}`,
    option: {
      xAxis: { type: "category", data: retention.map((r) => fmt.seconds(r.at_ms)) },
      yAxis: [
        { type: "value", name: "still watching %", min: 0, max: 100 },
        { type: "value", name: "likes", splitLine: { show: false } },
      ],
      series,
    },
    table: dataTable(
      [
        { key: "at_ms", label: "Second", format: fmt.seconds },
        { key: "share", label: "Still watching", format: (v) => fmt.pct(v) },
        { key: "likes", label: "Likes", format: (v) => (likes.length ? fmt.int(v ?? 0) : "withheld") },
      ],
      rows,
      "Retention and likes by second",
    ),
  });
  for (const note of likesNote) box.append(notice(withheldText(note), { inline: true }));
  const outside = video.likes_by_second?.outside_play;
  if (outside) box.append(notice(`${fmt.int(outside)} likes were given outside a play (from the profile or a list).`, { inline: true }));
}

function drawLikers(likers) {
  const named = likers?.named ?? [];
  const others = likers?.others ?? 0;
  const box = slot("likers");
  if (!named.length && !others) {
    box.replaceChildren(notice("Nobody liked this video yet."));
    return;
  }
  const shown = named.slice(0, 30);
  const more = named.length - shown.length;
  const list = h("ul", { class: "likers", "aria-label": "Named likers" }, shown.map((n) => h("li", {}, n)));
  const summary = [];
  if (more > 0) summary.push(`${fmt.int(more)} more named`);
  if (others > 0) summary.push(`and ${fmt.int(others)} others`);
  const rest = named.length > shown.length
    ? h("details", {}, h("summary", {}, `All ${fmt.int(named.length)} named likers`),
        h("ul", { class: "likers" }, named.map((n) => h("li", {}, n))))
    : null;
  box.replaceChildren(
    named.length ? list : h("p", {}, "No liker can be named (their accounts are private)."),
    h("p", { class: "likers-more", "data-others": others, "data-named": named.length },
      summary.join(", ") || "—"),
    rest,
    h("p", { class: "hint" }, "Likers are named when their account is public, or private and following you; the others are only counted."),
  );
}

async function load() {
  const data = await getJson(url);
  const v = data.video;
  showNotes(data.notes);
  showPeriod(data.period, false);
  slot("video-title").textContent = v.caption || `Video ${v.video}`;
  slot("video-meta").textContent = [
    v.video,
    v.posted_at ? `posted ${fmt.day(v.posted_at.slice(0, 10))}` : null,
    v.duration_ms ? `${(v.duration_ms / 1000).toFixed(0)} s long` : null,
  ].filter(Boolean).join(" · ");
  // The period before, asked of the query model as any API client would.
  const previous = await postQuery({
    metrics: CARDS,
    filters: [["is", "video", [ctx.video]]],
    compare: true,
    ...params,
  }).catch(() => null);
  showCards(
    CARDS.map((m) =>
      card(m, v[m], null, { compare: false, before: previous?.comparison?.[m] ?? null }),
    ),
  );
  breakdownPanel("sources", v.traffic_sources, [], {
    label: "source", value: "plays", labelText: (s) => SOURCES[s] ?? s,
    caption: "Plays by traffic source", empty: "No plays in this period.",
  });
  breakdownPanel("channels", v.share_channels, [], {
    label: "channel", value: "shares", caption: "Shares by channel", empty: "No shares in this period.",
  });
  splitPanel("splits", v, data.withheld);
  drawLikers(v.likers);
  const drawing = drawPositions(v, data.withheld);
  const places = postQuery(territories).then(
    (answer) =>
      breakdownPanel("territories", answer.rows, answer.withheld, {
        label: "country", value: "reach", caption: "Viewers by territory",
        population: `${fmt.int(v.reach)} viewers in this period`,
      }),
    (error) => slot("territories").replaceChildren(notice(`Not shown: ${error.message}.`)),
  );
  await Promise.all([drawing, places]);
  markReady();
}

load().catch(showError);
startLive(() => load().catch(showError));
