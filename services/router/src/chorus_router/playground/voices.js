// The Voices page: a sample and its consent recording become a custom voice through the
// OpenAI-shaped endpoints; the caller's voices are listed, previewed and deleted.

import { call, getJson, guarded } from "./api.js";

const $ = (id) => document.getElementById(`voice-${id}`);

function form(fields) {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  return data;
}

async function create(event) {
  event.preventDefault();
  await guarded($("create"), async () => {
    const name = $("name").value.trim();
    const consent = await call("/v1/audio/voice_consents", {
      method: "POST",
      form: form({ recording: $("consent").files[0], name, language: $("language").value.trim() }),
    });
    const { id } = await consent.json();
    await call("/v1/audio/voices", {
      method: "POST",
      form: form({ audio_sample: $("sample").files[0], consent: id, name }),
    });
    $("form").reset();
    await list();
  });
}

function button(label, text, action) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = text;
  element.setAttribute("aria-label", label);
  element.addEventListener("click", () => guarded(element, action));
  return element;
}

async function preview(voice) {
  const response = await call(`/api/v1/audio/voices/${encodeURIComponent(voice.id)}/preview`, {
    method: "POST",
    json: { response_format: "mp3" },
  });
  const audio = $("preview");
  audio.src = URL.createObjectURL(await response.blob());
  await audio.play();
}

async function remove(voice) {
  await call(`/v1/audio/voices/${encodeURIComponent(voice.id)}`, { method: "DELETE" });
  await list();
}

export async function list() {
  const { data } = await getJson("/api/v1/audio/voices");
  const rows = data.map((voice) => {
    const row = document.createElement("tr");
    for (const text of [voice.name, voice.id]) {
      row.append(Object.assign(document.createElement("td"), { textContent: text }));
    }
    const actions = document.createElement("td");
    actions.append(
      button(`Preview ${voice.name}`, "Preview", () => preview(voice)),
      " ",
      button(`Delete ${voice.name}`, "Delete", () => remove(voice)),
    );
    row.append(actions);
    return row;
  });
  document.querySelector("#voice-list tbody").replaceChildren(...rows);
}

export function setUpVoices() {
  $("form").addEventListener("submit", create);
}
