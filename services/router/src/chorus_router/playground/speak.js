// The Speak page: pickers, the normalization preview (SSML's compiled for the provider),
// streamed playback with its figures, word highlighting, download, and the same request as code.

import { ApiError, call, guarded, postJson, saveBlob, showError } from "./api.js";
import { formatMs, formatRtf, StreamPlayer, streamSpeech } from "./audio.js";
import { fillModels, fillProviders, fillVoices, timesWords } from "./catalog.js";
import { setUpSsml, showCompiled, showMarkupResult, showProblem, ssmlMode } from "./ssml.js";

const $ = (id) => document.getElementById(`speak-${id}`);
const player = new StreamPlayer();
let catalog = null;
let running = null;
let previewTimer = null;

/** The request the form describes, as the OpenAI API takes it. */
function request() {
  const body = {
    model: $("model").value,
    voice: $("voice").value,
    input: $("text").value,
    speed: Number($("speed").value) || 1,
  };
  const instructions = $("instructions").value.trim();
  if (instructions) body.instructions = instructions;
  if (ssmlMode()) body.input_format = "ssml";
  return body;
}

export function showCatalog(loaded) {
  catalog = loaded;
  fillProviders($("provider"), catalog);
  pickersChanged();
}

function pickersChanged() {
  fillModels($("model"), catalog, $("provider").value);
  fillVoices($("voice"), catalog, $("model").value, $("provider").value);
  formChanged();
}

function formChanged() {
  showSnippets();
  clearTimeout(previewTimer);
  previewTimer = setTimeout(preview, 300);
}

async function preview() {
  const body = request();
  if (!body.input.trim() || !body.model) return;
  try {
    const answer = await postJson("/api/v1/audio/text/normalize", {
      input: body.input,
      model: body.model,
      voice: body.voice || undefined,
      input_format: body.input_format,
    });
    showProblem("");
    $("pieces").replaceChildren(
      ...answer.pieces.map((piece) => Object.assign(document.createElement("li"), { textContent: piece })),
    );
    showCompiled(answer);
  } catch (error) {
    // Text the router cannot read is the user's to fix where they type it, not a page alert.
    if (error instanceof ApiError && error.status === 400) showProblem(error.describe());
    else showError(error);
  }
}

function showSnippets() {
  const body = { ...request(), response_format: $("format").value };
  const origin = window.location.origin;
  // The SDK takes Chorus's own fields through extra_body.
  const { input_format: inputFormat, ...openai } = body;
  const args = Object.entries(openai).map(([name, value]) => `    ${name}=${JSON.stringify(value)},`);
  if (inputFormat) args.push(`    extra_body={"input_format": ${JSON.stringify(inputFormat)}},`);
  $("snippet-python").textContent = [
    "from openai import OpenAI",
    "",
    `client = OpenAI(base_url="${origin}/v1", api_key="YOUR_API_KEY")`,
    "with client.audio.speech.with_streaming_response.create(",
    ...args,
    ") as response:",
    `    response.stream_to_file("speech.${body.response_format}")`,
  ].join("\n");
  const json = JSON.stringify(body).replaceAll("'", "'\\''");
  $("snippet-curl").textContent = [
    `curl ${origin}/v1/audio/speech \\`,
    '  -H "Authorization: Bearer $CHORUS_API_KEY" \\',
    '  -H "Content-Type: application/json" \\',
    `  -d '${json}' \\`,
    `  -o speech.${body.response_format}`,
  ].join("\n");
}

/** Word spans that light up as the player reaches them. */
function highlight(words) {
  const box = $("words");
  for (const word of words) {
    const span = document.createElement("span");
    span.textContent = word.word;
    span.dataset.start = word.start_time;
    span.dataset.end = word.end_time;
    box.append(span, " ");
  }
}

function followWords() {
  const now = player.position();
  for (const span of $("words").querySelectorAll("span")) {
    span.classList.toggle("spoken", Number(span.dataset.end) <= now);
    span.classList.toggle("now", Number(span.dataset.start) <= now && now < Number(span.dataset.end));
  }
  if (running) requestAnimationFrame(followWords);
}

async function speak(event) {
  event.preventDefault();
  running?.abort();
  const controller = new AbortController();
  running = controller;
  for (const figure of ["first-audio", "rtf", "served-by"]) $(figure).textContent = "…";
  $("words").replaceChildren();
  showMarkupResult(null);
  player.start();
  const body = request();
  if (timesWords(catalog, body.model)) body.timestamps = "word";
  requestAnimationFrame(followWords);
  await guarded($("go"), async () => {
    const result = await streamSpeech(body, {
      signal: controller.signal,
      onFirstAudio: (ms) => {
        $("first-audio").textContent = formatMs(ms);
      },
      onAudio: (bytes) => player.push(bytes),
      onWords: highlight,
    });
    $("rtf").textContent = formatRtf(result.rtf);
    $("served-by").textContent = result.provider;
    showMarkupResult(result);
  });
  if (running === controller) running = null;
}

function stop() {
  running?.abort();
  running = null;
  player.stop();
}

async function download() {
  const fmt = $("format").value;
  await guarded($("download"), async () => {
    const response = await call("/v1/audio/speech", {
      method: "POST",
      json: { ...request(), response_format: fmt, stream: false },
    });
    saveBlob(await response.blob(), `speech.${fmt}`);
  });
}

export function setUpSpeak() {
  $("form").addEventListener("submit", speak);
  $("stop").addEventListener("click", stop);
  $("download").addEventListener("click", download);
  $("provider").addEventListener("change", pickersChanged);
  $("model").addEventListener("change", () => {
    fillVoices($("voice"), catalog, $("model").value, $("provider").value);
    formChanged();
  });
  for (const button of document.querySelectorAll("button.copy")) {
    const code = document.getElementById(button.dataset.copy);
    button.addEventListener("click", () => guarded(button, () => navigator.clipboard.writeText(code.textContent)));
  }
  setUpSsml(formChanged);
  for (const id of ["voice", "text", "speed", "format", "instructions"]) {
    $(id).addEventListener("input", formChanged);
  }
}
