// The Compare page: one text to two to four model/voice pairs at once, each measured as it
// streams and then playable on its own.

import { guarded } from "./api.js";
import { formatMs, formatRtf, streamSpeech, wavBlob } from "./audio.js";
import { fillModels, fillVoices } from "./catalog.js";

const MAX_PAIRS = 4;
let catalog = null;

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.append(td);
  return td;
}

function addPair(model) {
  const list = document.getElementById("compare-pairs");
  if (list.children.length >= MAX_PAIRS) return;
  const n = list.children.length + 1;
  const item = document.createElement("li");
  const modelSelect = document.createElement("select");
  const voiceSelect = document.createElement("select");
  modelSelect.className = "compare-model";
  voiceSelect.className = "compare-voice";
  modelSelect.setAttribute("aria-label", `Model of pair ${n}`);
  voiceSelect.setAttribute("aria-label", `Voice of pair ${n}`);
  fillModels(modelSelect, catalog, "");
  if (model) modelSelect.value = model;
  const voices = () => fillVoices(voiceSelect, catalog, modelSelect.value, "");
  modelSelect.addEventListener("change", voices);
  voices();
  item.append(modelSelect, voiceSelect);
  list.append(item);
  document.getElementById("compare-add").disabled = list.children.length >= MAX_PAIRS;
}

export function showCatalogForCompare(loaded) {
  catalog = loaded;
  document.getElementById("compare-pairs").replaceChildren();
  // Start with two different providers' own models where there are such.
  const own = catalog.models.filter((m) => m.providers.includes(m.id)).map((m) => m.id);
  const starting = own.length >= 2 ? own.slice(0, 2) : catalog.models.slice(0, 2).map((m) => m.id);
  for (const model of starting) addPair(model);
}

async function measure(row, body) {
  const pieces = [];
  const result = await streamSpeech(body, { onAudio: (bytes) => pieces.push(bytes) });
  row.cells[2].textContent = formatMs(result.firstAudioMs);
  row.cells[3].textContent = formatRtf(result.rtf);
  row.cells[4].textContent = result.provider;
  row.cells[5].textContent = result.cache;
  const audio = document.createElement("audio");
  audio.controls = true;
  audio.src = URL.createObjectURL(wavBlob(pieces));
  audio.setAttribute("aria-label", `${body.model} ${body.voice}`);
  row.cells[6].replaceChildren(audio);
  row.dataset.state = "done";
}

async function compare(event) {
  event.preventDefault();
  const input = document.getElementById("compare-text").value;
  const tbody = document.querySelector("#compare-results tbody");
  tbody.replaceChildren();
  const runs = [...document.querySelectorAll("#compare-pairs li")].map((item) => {
    const body = {
      model: item.querySelector(".compare-model").value,
      voice: item.querySelector(".compare-voice").value,
      input,
    };
    const row = document.createElement("tr");
    cell(row, body.model);
    cell(row, body.voice);
    for (let i = 0; i < 5; i++) cell(row, "…");
    tbody.append(row);
    return measure(row, body).catch((error) => {
      row.cells[6].textContent = error.message;
      row.dataset.state = "failed";
      throw error;
    });
  });
  await guarded(document.getElementById("compare-go"), () => Promise.all(runs));
}

export function setUpCompare() {
  document.getElementById("compare-form").addEventListener("submit", compare);
  document.getElementById("compare-add").addEventListener("click", () => addPair());
}
