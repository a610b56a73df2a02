// Viewers: reach, new vs returning, gender, age, territories, follower vs non-follower.

import {
  apiUrl,
  breakdownPanel,
  card,
  ctx,
  fmt,
  getJson,
  markReady,
  periodParams,
  setLinks,
  showCards,
  showError,
  showNotes,
  showPeriod,
} from "./common.js";
import { splitPanel } from "./splits.js";

const params = periodParams();
const base = `/v1/creators/${encodeURIComponent(ctx.creator)}`;
const url = apiUrl(`${base}/overview`, { ...params, compare: true });
setLinks(url, apiUrl(`${base}/export`, { ...params, table: "audience_country" }));

const CARDS = ["reach", "new_viewers", "returning_viewers", "engaged_audience", "avg_watch_ms"];
const AGE_ORDER = ["13-17", "18-24", "25-34", "35-44", "45-54", "55+", "unknown", "other"];

async function load() {
  const data = await getJson(url);
  const o = data.overview;
  showNotes(data.notes);
  showPeriod(data.period, o.previous !== null);
  showCards(CARDS.map((m) => card(m, o.totals[m], o.change?.[m])));
  splitPanel("splits", o.totals, data.withheld);
  const population = `${fmt.int(o.totals.reach)} viewers in this period`;
  for (const dim of ["gender", "country"]) {
    const b = o.audience[dim];
    breakdownPanel(dim, b.rows, b.withheld, {
      label: dim, value: "reach", caption: `Viewers by ${dim}`, population,
    });
  }
  const age = o.audience.age;
  const byAge = [...age.rows].sort((a, b) => AGE_ORDER.indexOf(a.age) - AGE_ORDER.indexOf(b.age));
  breakdownPanel("age", byAge, age.withheld, {
    label: "age", value: "reach", caption: "Viewers by age", population,
  });
  markReady();
}

load().catch(showError);
