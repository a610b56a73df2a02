// Charts with Apache ECharts (served from this server's node_modules, see scripts/setup),
// each with its data table beside it for keyboards, screen readers and copying.

import { h } from "./common.js";

let library = null;

/** The charting library, loaded once (pages start loading it before their data arrives). */
export function echarts() {
  library ??= import("/vendor/echarts/echarts.esm.min.mjs");
  return library;
}

const drawn = new Map(); // element -> option: redrawn when the theme or the width changes

function palette() {
  const css = getComputedStyle(document.documentElement);
  const v = (name) => css.getPropertyValue(name).trim();
  return {
    text: v("--fg"),
    muted: v("--muted"),
    grid: v("--line"),
    series: [v("--accent"), v("--accent-2"), v("--accent-3")],
    heat: [v("--heat-low"), v("--accent")],
  };
}

function themed(option) {
  const p = palette();
  const axis = (a) =>
    a && {
      axisLine: { lineStyle: { color: p.grid } },
      axisLabel: { color: p.muted },
      splitLine: { lineStyle: { color: p.grid } },
      nameTextStyle: { color: p.muted },
      ...a,
    };
  const many = (a) => (Array.isArray(a) ? a.map(axis) : axis(a));
  return {
    animation: false,
    color: p.series,
    textStyle: { color: p.text, fontFamily: "inherit" },
    grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis", confine: true },
    legend: option.series?.length > 1 ? { textStyle: { color: p.text }, top: 0 } : undefined,
    ...option,
    xAxis: many(option.xAxis),
    yAxis: many(option.yAxis),
    visualMap: option.visualMap && {
      ...option.visualMap,
      inRange: { color: p.heat },
      textStyle: { color: p.muted },
    },
  };
}

async function render(element, option) {
  const lib = await echarts();
  const chart = lib.getInstanceByDom(element) ?? lib.init(element, null, { renderer: "canvas" });
  const finished = new Promise((resolve) => {
    chart.on("finished", resolve);
    setTimeout(resolve, 3000); // never wait for ever on a chart
  });
  chart.setOption(themed(option), true);
  await finished;
  chart.off("finished");
}

/**
 * A chart figure in `box`: the chart (an image to assistive technology, its label saying
 * what it shows), then a "data table" disclosure holding the same numbers.
 */
export async function chartFigure(box, { label, option, table, height = 260 }) {
  const element = h("div", { class: "chart", role: "img", "aria-label": label });
  element.style.height = `${height}px`;
  box.replaceChildren(
    h(
      "figure",
      { class: "figure" },
      element,
      h(
        "details",
        { class: "fallback" },
        h("summary", {}, "Data table"),
        h("div", { class: "scroll" }, table),
      ),
    ),
  );
  drawn.set(element, option);
  try {
    await render(element, option);
  } catch (error) {
    // Without the library (scripts/setup not run) the table still holds every number.
    element.replaceChildren(h("p", { class: "withheld" }, "Chart unavailable: see the data table."));
    element.removeAttribute("role");
    console.warn("chart not drawn", error);
  }
}

function redrawAll() {
  for (const [element, option] of drawn) {
    if (!element.isConnected) drawn.delete(element);
    else render(element, option);
  }
}

function resizeAll() {
  if (!library) return;
  library.then((lib) => {
    for (const element of drawn.keys()) lib.getInstanceByDom(element)?.resize();
  });
}

matchMedia("(prefers-color-scheme: dark)").addEventListener("change", redrawAll);
let resizing = null;
addEventListener("resize", () => {
  clearTimeout(resizing);
  resizing = setTimeout(resizeAll, 150);
});
