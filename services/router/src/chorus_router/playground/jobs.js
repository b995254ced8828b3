// The Jobs page: a text or Markdown document becomes a long-form job; its progress arrives as
// Server-Sent Events, and its outputs (one file per chapter, the M4B book) download here.

import { call, guarded, postJson, saveBlob, sseEvents } from "./api.js";
import { fillModels, fillVoices } from "./catalog.js";

const $ = (id) => document.getElementById(`job-${id}`);
const JOBS = "/api/v1/audio/jobs";
// What tests (and curious users) can read: the followed job's status and its events.
const state = { id: null, status: null, events: 0 };
window.chorusPlayground.job = state;

let catalog = null;
let following = null;

function cell(row, content) {
  const td = document.createElement("td");
  td.append(content);
  row.append(td);
}

// The API counts chapters from 0; people count them from 1.
const ordinal = (index) => index + 1;

const slug = (title) => title.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "job";

function fileName(job, output) {
  const base = slug(job.title);
  if (output.kind === "chapter") {
    return `${base}-${String(ordinal(output.chapter)).padStart(2, "0")}.${output.format}`;
  }
  return output.kind === "book" ? `${base}.${output.format}` : `${base}-manifest.${output.format}`;
}

function outputLabel(output) {
  if (output.kind === "chapter") return `Chapter ${ordinal(output.chapter)}: ${output.title}`;
  return output.kind === "book" ? "The whole book (M4B, with chapters)" : "Manifest";
}

function downloadButton(job, output) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "Download";
  button.dataset.kind = output.kind;
  button.setAttribute("aria-label", `Download ${outputLabel(output)}`);
  button.addEventListener("click", () =>
    guarded(button, async () => {
      const response = await call(output.download_path);
      saveBlob(await response.blob(), fileName(job, output));
    }),
  );
  return button;
}

function show(job) {
  state.id = job.id;
  state.status = job.status;
  const { pieces_done: done, pieces_total: total, audio_seconds: seconds } = job.progress;
  const pieces = total ? `, ${done} of ${total} pieces, ${seconds.toFixed(1)} s of audio` : "";
  $("status").textContent = `${job.title}: ${job.status}${pieces}${job.error ? ` (${job.error})` : ""}`;
  $("progress").max = Math.max(total, 1);
  $("progress").value = done;
  $("cancel").disabled = !["queued", "running"].includes(job.status);
  $("chapters").querySelector("tbody").replaceChildren(
    ...job.chapters.map((chapter) => {
      const row = document.createElement("tr");
      const provider = chapter.provider || "–";
      for (const text of [ordinal(chapter.index), chapter.title, chapter.pieces, provider]) cell(row, String(text));
      return row;
    }),
  );
  $("outputs").querySelector("tbody").replaceChildren(
    ...job.outputs.map((output) => {
      const row = document.createElement("tr");
      cell(row, outputLabel(output));
      cell(row, `${output.duration_s.toFixed(1)} s`);
      cell(row, `${(output.bytes / 1024).toFixed(0)} KiB`);
      cell(row, downloadButton(job, output));
      return row;
    }),
  );
}

/** Follows a job's events until the stream ends with the job's end. */
async function follow(id) {
  following?.abort();
  const controller = new AbortController();
  following = controller;
  await guarded(null, async () => {
    const response = await call(`${JOBS}/${encodeURIComponent(id)}/events`, { signal: controller.signal });
    for await (const event of sseEvents(response.body)) {
      state.events += 1;
      show(event.job);
    }
  });
}

async function submit(event) {
  event.preventDefault();
  const job = await guarded($("submit"), () => {
    const body = {
      input: $("text").value,
      model: $("model").value,
      voice: $("voice").value,
      response_format: $("format").value,
    };
    const title = $("title").value.trim();
    if (title) body.title = title;
    return postJson(JOBS, body);
  });
  if (!job) return;
  show(job);
  await follow(job.id);
}

async function cancel() {
  if (!state.id) return;
  await guarded($("cancel"), async () => {
    const response = await call(`${JOBS}/${encodeURIComponent(state.id)}`, { method: "DELETE" });
    show(await response.json());
  });
}

async function loadFile() {
  const file = $("file").files[0];
  if (!file) return;
  $("text").value = await file.text();
  if (!$("title").value.trim()) $("title").value = file.name.replace(/\.[^.]+$/, "");
}

export function showCatalogForJobs(loaded) {
  catalog = loaded;
  fillModels($("model"), catalog, "");
  fillVoices($("voice"), catalog, $("model").value, "");
}

export function setUpJobs() {
  $("form").addEventListener("submit", submit);
  $("cancel").addEventListener("click", cancel);
  $("file").addEventListener("change", () => guarded(null, loadFile));
  $("model").addEventListener("change", () => fillVoices($("voice"), catalog, $("model").value, ""));
}
