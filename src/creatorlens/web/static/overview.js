// Overview: headline cards with their change, daily charts, traffic sources; live.

import { chartFigure, echarts } from "./charts.js";
import {
  apiUrl,
  barList,
  card,
  ctx,
  dataTable,
  fmt,
  getJson,
  LABELS,
  markReady,
  periodParams,
  showCards,
  showError,
  showNotes,
  showPeriod,
  slot,
  setLinks,
  SOURCES,
  startLive,
  h,
} from "./common.js";

echarts(); // loads while the data is asked for

const CARDS = [
  "views",
  "profile_views",
  "likes",
  "comments",
  "shares",
  "followers_net",
  "total_watch_ms",
  "reach",
];
const DAILY = ["views", "likes", "comments", "shares", "profile_views", "followers_net", "reach"];
const params = periodParams();
const url = apiUrl(`/v1/creators/${ctx.creator}/overview`, { ...params, compare: true });
const base = `/v1/creators/${ctx.creator}`;
let chosen = "views";
let latest = null;

async function drawDaily() {
  const daily = latest.overview.daily;
  const tabs = slot("daily-metric");
  tabs.replaceChildren(
    ...DAILY.map((metric) =>
      h(
        "button",
        {
          type: "button",
          "aria-pressed": String(metric === chosen),
          onclick: () => {
            chosen = metric;
            drawDaily();
          },
        },
        LABELS[metric],
      ),
    ),
  );
  await chartFigure(slot("daily"), {
    label: `${LABELS[chosen]} by day, ${daily.length} days`,
    option: {
      xAxis: { type: "category", data: daily.map((d) => d.day) },
      yAxis: { type: "value" },
      series: [{ name: LABELS[chosen], type: "line", smooth: true, showSymbol: false,
        areaStyle: { opacity: 0.12 }, data: daily.map((d) => d[chosen]) }],
    },
    table: dataTable(
      [{ key: "day", label: "Day", format: fmt.day },
        ...DAILY.map((m) => ({ key: m, label: LABELS[m], format: fmt.int }))],
      daily,
      "Daily figures",
    ),
  });
}

async function load() {
  const data = await getJson(url);
  latest = data;
  const o = data.overview;
  showNotes(data.notes);
  showPeriod(data.period, o.previous !== null);
  showCards(CARDS.map((m) => card(m, o.totals[m], o.change?.[m])));
  const sources = o.traffic_sources;
  slot("sources").replaceChildren(
    sources.length
      ? barList(sources, {
          label: "source",
          value: "plays",
          labelText: (s) => SOURCES[s] ?? s,
          caption: "Plays by traffic source",
        })
      : h("p", { class: "withheld" }, "No plays in this period."),
  );
  await drawDaily();
  markReady();
}

setLinks(url, apiUrl(`${base}/export`, { ...params, table: "daily", format: "csv" }));
load().catch(showError);
startLive(() => load().catch(showError));
