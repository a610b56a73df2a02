// Followers: total and growth, demographics, activity by hour and weekday, and the videos
// your followers watched.

import { chartFigure, echarts } from "./charts.js";
import {
  apiUrl,
  barList,
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
  setLinks,
  showCards,
  showError,
  showNotes,
  showPeriod,
  slot,
  withheldText,
} from "./common.js";

echarts();

const params = periodParams();
const base = `/v1/creators/${encodeURIComponent(ctx.creator)}`;
const url = apiUrl(`${base}/followers`, params);
setLinks(url, apiUrl(`${base}/export`, { ...params, table: "followers_growth" }));

const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const HOURS = Array.from({ length: 24 }, (_, i) => `${String(i).padStart(2, "0")}:00`);

async function drawGrowth(f) {
  await chartFigure(slot("growth"), {
    label: `Followers by day: ${fmt.int(f.followers_total)} now`,
    option: {
      xAxis: { type: "category", data: f.growth.map((d) => d.day) },
      yAxis: [{ type: "value", name: "followers", scale: true }, { type: "value", name: "net", splitLine: { show: false } }],
      series: [
        { name: "Followers", type: "line", showSymbol: false, data: f.growth.map((d) => d.followers_total) },
        { name: "Net change", type: "bar", yAxisIndex: 1, data: f.growth.map((d) => d.followers_net) },
      ],
    },
    table: dataTable(
      [
        { key: "day", label: "Day", format: fmt.day },
        { key: "followers_total", label: "Followers", format: fmt.int },
        { key: "followers_gained", label: "Gained", format: fmt.int },
        { key: "followers_lost", label: "Lost", format: fmt.int },
        { key: "followers_net", label: "Net", format: fmt.int },
      ],
      f.growth,
      "Followers by day",
    ),
  });
}

async function drawActivity(f, withheld) {
  const box = slot("activity");
  const notes = notesAbout(withheld, "follower activity");
  const population = `${fmt.int(f.followers_total)} followers now`;
  const texts = [...new Set(notes.map((n) => withheldText(n, population)))];
  if (!f.activity.length) {
    box.replaceChildren(notice(texts.join(" ") || "Your followers did not watch in this period."));
  } else {
    // The API's weekday is ISO (1 = Monday); the chart's rows count from 0.
    const cells = f.activity.map((c) => [c.hour, c.weekday - 1, c.followers]);
    await chartFigure(box, {
      label: "Followers watching by hour and weekday, in your time zone",
      height: 300,
      option: {
        tooltip: { position: "top" },
        grid: { left: 48, right: 16, top: 16, bottom: 64, containLabel: true },
        xAxis: { type: "category", data: HOURS, splitArea: { show: false } },
        yAxis: { type: "category", data: WEEKDAYS, inverse: true },
        visualMap: { min: 0, max: Math.max(...cells.map((c) => c[2])), calculable: false,
          orient: "horizontal", left: "center", bottom: 0 },
        series: [{ name: "Followers", type: "heatmap", data: cells }],
      },
      table: dataTable(
        [
          { key: "weekday", label: "Weekday", format: (d) => WEEKDAYS[d - 1] },
          { key: "hour", label: "Hour", format: (hr) => HOURS[hr] },
          { key: "followers", label: "Followers watching", format: fmt.int },
          { key: "plays", label: "Plays", format: fmt.int },
        ],
        f.activity,
        "Followers watching by weekday and hour",
      ),
    });
    for (const text of texts) box.append(notice(text, { inline: true }));
  }
  const days = f.activity_by_weekday.map((d) => ({ ...d, label: WEEKDAYS[d.at - 1] }));
  const hours = f.activity_by_hour.map((d) => ({ ...d, label: HOURS[d.at] }));
  const summary = h("div", { class: "grid two" });
  for (const [title, rows] of [["By weekday", days], ["By hour", hours]]) {
    const part = h("div", { id: `activity-${title.split(" ")[1]}` });
    summary.append(h("div", {}, h("h3", {}, title), part));
    part.append(...(rows.length ? [] : [notice("No hour or day had enough followers watching to show.")]));
    if (rows.length) {
      part.append(barList(rows, { label: "label", value: "followers", caption: `Followers watching ${title.toLowerCase()}` }));
    }
  }
  box.append(summary);
}

function drawWatched(f, withheld) {
  const box = slot("watched");
  const notes = notesAbout(withheld, "videos your followers watched");
  if (!f.videos_followers_watched.length) {
    box.replaceChildren(
      notice(
        notes.length
          ? notes.map((n) => withheldText(n, `${fmt.int(f.followers_total)} followers now`)).join(" ")
          : `A video is listed when at least ${ctx.kMin} of your followers watched it; none did in this period.`,
      ),
    );
    return;
  }
  box.replaceChildren(
    h("div", { class: "scroll" }, dataTable(
      [
        { key: "video", label: "Video" },
        { key: "creator_id", label: "Creator" },
        { key: "followers", label: "Your followers who watched", format: fmt.int },
        { key: "plays", label: "Their plays", format: fmt.int },
      ],
      f.videos_followers_watched,
      "Videos your followers watched",
    )),
  );
}

// The changes against the previous period are the overview's, as the API compares them.
const compared = apiUrl(`${base}/overview`, { ...params, compare: true });

async function load() {
  const [data, overview] = await Promise.all([
    getJson(url),
    getJson(compared).catch(() => null),
  ]);
  const f = data.followers;
  const change = overview?.overview.change ?? {};
  showNotes(data.notes);
  showPeriod(data.period, Boolean(overview?.overview.previous));
  showCards([
    card("followers_total", f.followers_total, null, { compare: false }),
    ...["followers_gained", "followers_lost", "followers_net"].map((m) => card(m, f[m], change[m])),
  ]);
  const population = `${fmt.int(f.followers_total)} followers now`;
  for (const dim of ["gender", "age", "country", "city"]) {
    const b = f[dim];
    breakdownPanel(dim, b.rows, b.withheld, {
      label: "value", value: "followers", caption: `Followers by ${dim}`, population,
    });
  }
  drawWatched(f, data.withheld);
  await Promise.all([drawGrowth(f), drawActivity(f, data.withheld)]);
  markReady();
}

load().catch(showError);
