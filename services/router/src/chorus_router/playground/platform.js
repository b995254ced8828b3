// The Platform page: provider health, live while the page is shown; with an admin key, the
// API keys and the latest audit events.

import { ApiError, getJson, showError } from "./api.js";

const REFRESH_MS = 5000;
let timer = null;

function fillTable(id, rows) {
  const body = document.querySelector(`#${id} tbody`);
  body.replaceChildren(
    ...rows.map((cells) => {
      const row = document.createElement("tr");
      for (const text of cells) row.append(Object.assign(document.createElement("td"), { textContent: text }));
      return row;
    }),
  );
}

const when = (seconds) => (seconds ? new Date(seconds * 1000).toLocaleString() : "–");

/** An admin table: its rows, or one row saying why there are none. */
async function adminTable(id, path, toRows) {
  try {
    const rows = toRows(await getJson(path));
    fillTable(id, rows.length ? rows : [["None yet."]]);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    fillTable(id, [[error.status === 403 ? "Needs an admin key." : error.describe()]]);
  }
}

export async function refresh() {
  try {
    const health = await getJson("/api/v1/audio/health");
    fillTable(
      "platform-health",
      health.providers.map((p) => [
        p.name,
        p.ready ? "ready" : `not ready${p.readiness_error ? `: ${p.readiness_error}` : ""}`,
        p.breaker,
        p.last_error ? `${p.last_error.code}: ${p.last_error.message}` : "–",
      ]),
    );
  } catch (error) {
    showError(error);
    return;
  }
  await adminTable("platform-keys", "/api/v1/admin/keys", (body) =>
    body.data.map((k) => [k.id, k.user, k.scopes.join(", "), when(k.revoked_at)]),
  );
  await adminTable("platform-audit", "/api/v1/admin/audit?limit=20", (body) =>
    body.data.map((e) => [when(e.created_at), e.actor, e.action, `${e.outcome} (${e.status})`]),
  );
}

/** Refreshes now and every few seconds while shown; `false` stops. */
export function follow(shown) {
  clearInterval(timer);
  timer = null;
  if (!shown) return;
  refresh();
  timer = setInterval(refresh, REFRESH_MS);
}

export function setUpPlatform() {
  document.getElementById("platform-refresh").addEventListener("click", refresh);
}
