// The playground's start: the API key field, the tabs, and the catalog every page uses.

import { apiKey, clearMessage, guarded, setApiKey } from "./api.js";
import { loadCatalog } from "./catalog.js";
import { setUpCompare, showCatalogForCompare } from "./compare.js";
import { setUpJobs, showCatalogForJobs } from "./jobs.js";
import { setUpLive, showCatalogForLive } from "./live.js";
import { follow, setUpPlatform } from "./platform.js";
import { setUpSpeak, showCatalog } from "./speak.js";
import { list as listVoices, setUpVoices, showCatalogForVoices } from "./voices.js";

const tabs = [...document.querySelectorAll('[role="tab"]')];

function select(tab) {
  clearMessage();
  for (const other of tabs) {
    const chosen = other === tab;
    other.setAttribute("aria-selected", String(chosen));
    other.tabIndex = chosen ? 0 : -1;
    document.getElementById(other.getAttribute("aria-controls")).hidden = !chosen;
  }
  follow(tab.id === "tab-platform");
  if (tab.id === "tab-voices") guarded(null, listVoices);
}

function onTabKey(event) {
  // Arrow keys move between tabs, as WAI-ARIA's tabs pattern has it.
  const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
  if (!step) return;
  const next = tabs[(tabs.indexOf(event.target) + step + tabs.length) % tabs.length];
  next.focus();
  select(next);
}

async function load() {
  await guarded(null, async () => {
    const catalog = await loadCatalog();
    showCatalog(catalog);
    showCatalogForCompare(catalog);
    showCatalogForLive(catalog);
    showCatalogForJobs(catalog);
    showCatalogForVoices(catalog);
  });
}

const keyField = document.getElementById("api-key");
keyField.value = apiKey();
keyField.addEventListener("change", () => {
  setApiKey(keyField.value.trim());
  load();
});
for (const tab of tabs) {
  tab.addEventListener("click", () => select(tab));
  tab.addEventListener("keydown", onTabKey);
}
setUpSpeak();
setUpCompare();
setUpLive();
setUpJobs();
setUpVoices();
setUpPlatform();
load();
