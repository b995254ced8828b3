// The Voices page: a sample and its consent recording (uploaded, or recorded from the
// microphone) become a custom voice through the OpenAI-shaped endpoints; the caller's voices
// are listed, previewed and deleted.

import { ApiError, call, getJson, guarded } from "./api.js";
import { Recording } from "./recorder.js";

const $ = (id) => document.getElementById(`voice-${id}`);
const recordings = {};
let catalog = null;

/** The recorded take or the chosen file (whichever came last: each clears the other). */
function chosen(kind, label) {
  const file = recordings[kind].file(kind) || $(kind).files[0];
  if (!file) throw new Error(`Choose a file or record the ${label}.`);
  return file;
}

function form(fields) {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  return data;
}

async function create(event) {
  event.preventDefault();
  await guarded($("create"), async () => {
    const name = $("name").value.trim();
    const sample = chosen("sample", "voice sample");
    const recording = chosen("consent", "consent recording");
    const consent = await call("/v1/audio/voice_consents", {
      method: "POST",
      form: form({ recording, name, language: $("language").value.trim() }),
    });
    const { id } = await consent.json();
    await call("/v1/audio/voices", {
      method: "POST",
      form: form({ audio_sample: sample, consent: id, name }),
    });
    $("form").reset();
    for (const take of Object.values(recordings)) take.clear();
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

/** Resolves once `audio` has played to its end (or cannot play). */
function played(audio) {
  return new Promise((resolve) => {
    audio.addEventListener("ended", resolve, { once: true });
    audio.addEventListener("error", resolve, { once: true });
    audio.play().catch(resolve);
  });
}

/** One preview row: what was asked, who served it, and the audio (or why there is none). */
async function previewOn(voice, cloner) {
  const row = document.createElement("tr");
  const cells = [cloner.name, "…", ""].map((text) =>
    Object.assign(document.createElement("td"), { textContent: text }),
  );
  row.append(...cells);
  $("previews").querySelector("tbody").append(row);
  try {
    const response = await call(`/api/v1/audio/voices/${encodeURIComponent(voice.id)}/preview`, {
      method: "POST",
      json: { response_format: "mp3", model: cloner.model },
    });
    cells[1].textContent = response.headers.get("X-Chorus-Provider") || "–";
    const audio = document.createElement("audio");
    audio.controls = true;
    audio.setAttribute("aria-label", `${voice.name} on ${cloner.name}`);
    audio.src = URL.createObjectURL(await response.blob());
    cells[2].append(audio);
    row.dataset.state = "playing";
    await played(audio);
    row.dataset.state = "played";
  } catch (error) {
    // One cloner failing leaves the others to be heard.
    cells[1].textContent = "–";
    cells[2].textContent = error instanceof ApiError ? error.describe() : String(error.message || error);
    row.dataset.state = "failed";
  }
}

/** The voice on each provider that clones, one after another; with no admin view of the
 * providers, once, on the provider the router picks. */
async function preview(voice) {
  const cloners = catalog?.cloners.length ? catalog.cloners : [{ name: "the router's choice" }];
  $("previews").querySelector("caption").textContent = `Previews of ${voice.name}`;
  $("previews").querySelector("tbody").replaceChildren();
  for (const cloner of cloners) await previewOn(voice, cloner);
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

export function showCatalogForVoices(loaded) {
  catalog = loaded;
}

export function setUpVoices() {
  $("form").addEventListener("submit", create);
  for (const kind of ["sample", "consent"]) {
    const take = new Recording($(`${kind}-record`), $(`${kind}-status`), $(`${kind}-take`));
    recordings[kind] = take;
    $(`${kind}-record`).addEventListener("click", () =>
      guarded(null, async () => {
        await take.toggle();
        $(kind).value = "";
      }),
    );
    $(kind).addEventListener("change", () => take.clear());
  }
}
