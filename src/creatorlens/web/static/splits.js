// The viewer splits a creator reads together: new vs returning, followers vs not.

import { fmt, h, notesAbout, notice, slot, withheldText } from "./common.js";

function split(title, parts) {
  const total = parts.reduce((sum, p) => sum + (p.value ?? 0), 0);
  const bar = h("div", { class: "split-bar", "aria-hidden": "true" });
  for (const [i, p] of parts.entries()) {
    const piece = h("span", { class: `piece p${i}` });
    piece.style.width = total ? `${(100 * (p.value ?? 0)) / total}%` : "0";
    bar.append(piece);
  }
  return h(
    "div",
    { class: "split" },
    h("h3", {}, title),
    bar,
    h(
      "dl",
      { class: "split-legend" },
      parts.map((p, i) => [
        h("dt", {}, h("span", { class: `dot p${i}`, "aria-hidden": "true" }), p.label),
        h("dd", { "data-value": p.value ?? "" }, fmt.int(p.value)),
      ]),
    ),
  );
}

/** New vs returning and follower vs non-follower viewers of `figures` (an API row). */
export function splitPanel(target, figures, withheld) {
  const box = slot(target);
  const parts = [
    split("New and returning", [
      { label: "New viewers", value: figures.new_viewers },
      { label: "Returning viewers", value: figures.returning_viewers },
    ]),
  ];
  const followerNotes = notesAbout(withheld, "follower split");
  if (figures.follower_viewers === null || figures.follower_viewers === undefined) {
    const text = followerNotes.length
      ? followerNotes.map((n) => withheldText(n)).join(" ")
      : "Followers and non-followers are not told apart in this period.";
    parts.push(h("div", { class: "split" }, h("h3", {}, "Followers and not"), notice(text)));
  } else {
    parts.push(
      split("Followers and not", [
        { label: "Followers", value: figures.follower_viewers },
        { label: "Non-followers", value: figures.non_follower_viewers },
      ]),
    );
  }
  box.replaceChildren(...parts);
}
