// Notifications: GET /v1/creators/{id}/notifications, newest first, grouped as the API
// words them; "Mark all as read" posts the newest shown id to /notifications/read. The
// list is read again when the bell's count rises.

import {
  ctx,
  fmt,
  getJson,
  h,
  markReady,
  noCsv,
  postJson,
  setLinks,
  showError,
  showUnread,
  slot,
} from "./common.js";

const base = `/v1/creators/${encodeURIComponent(ctx.creator)}/notifications`;
setLinks(base, base);
noCsv();

const list = slot("notifications");
const more = slot("more");
const markButton = slot("mark-read");
let cursor = null;
let newest = null;
let shownUnread = null;

const when = (iso) => fmt.when(iso, { year: true });

function item(n) {
  const video = n.video_id
    ? h(
        "a",
        { href: `/creators/${encodeURIComponent(ctx.creator)}/videos/${encodeURIComponent(n.video_id)}` },
        `video ${n.video_id}`,
      )
    : null;
  return h(
    "li",
    {
      class: `notification kind-${n.kind}${n.unread ? " unread" : ""}`,
      "data-id": n.id,
      "data-kind": n.kind,
      "data-unread": String(n.unread),
    },
    h("span", { class: "dot", "aria-hidden": "true" }),
    h("p", { class: "notification-text" }, n.message),
    h(
      "p",
      { class: "when" },
      n.unread ? h("span", { class: "visually-hidden" }, "Unread. ") : null,
      h("time", { datetime: String(n.at).replace(" ", "T") }, when(n.at)),
      video ? " · " : null,
      video,
    ),
  );
}

function sayUnread(count) {
  shownUnread = count;
  slot("unread-label").textContent = count ? `${count.toLocaleString("en-US")} unread` : "All read";
  markButton.disabled = count === 0 || newest === null;
}

async function load(next = false) {
  const data = await getJson(`${base}?limit=20${next && cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
  if (!next) {
    newest = data.notifications[0]?.id ?? null;
    list.replaceChildren(
      ...(data.notifications.length
        ? data.notifications.map(item)
        : [h("li", { class: "empty" }, "No notifications yet.")]),
    );
  } else {
    list.append(...data.notifications.map(item));
  }
  list.setAttribute("aria-busy", "false");
  cursor = data.next_cursor;
  more.hidden = !cursor;
  sayUnread(data.unread);
  showUnread(data.unread);
  markReady();
}

markButton.addEventListener("click", async () => {
  markButton.disabled = true;
  try {
    // Up to the newest shown: what arrived since stays unread.
    const left = await postJson(`${base}/read`, { up_to: newest });
    showUnread(left.unread);
    await load();
  } catch (error) {
    showError(error);
  }
});
more.addEventListener("click", () => load(true).catch(showError));
document.addEventListener("unread", (event) => {
  if (shownUnread !== null && event.detail > shownUnread) load().catch(showError);
});

load().catch(showError);
