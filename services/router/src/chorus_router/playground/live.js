// The Live page: a WebSocket session on /v1/audio/speech/live fed as the user types (a pasted
// text goes in small fragments, as an LLM would send it); audio deltas play as they arrive,
// each turn shows its time to first audio, and Stop barges in with `input_text.clear`.

import { apiKey, base64Bytes, showError } from "./api.js";
import { formatMs, RATE, StreamPlayer } from "./audio.js";
import { fillModels, fillVoices } from "./catalog.js";

const $ = (id) => document.getElementById(`live-${id}`);
// One fragment of a pasted text every FRAGMENT_MS, about an LLM's token rate.
const FRAGMENT_MS = 40;
const STATUS = {
  closed: "Not connected: typing opens a session.",
  connecting: "Connecting…",
  open: "Listening: type, or paste a text.",
  stopping: "Stopping…",
  cleared: "Stopped: the router dropped the rest of the text and its audio.",
};

const player = new StreamPlayer();
// What tests (and curious users) can read: the session's state and what it has played.
const state = { status: "closed", deltas: 0, turns: 0, clears: 0 };
state.queuedSeconds = () => player.queuedSeconds();
window.chorusPlayground.live = state;

let catalog = null;
let socket = null;
let outbox = [];
let sent = ""; // the part of the text box the router has
let feeding = null; // the timer pasting fragments in
let firstTextAt = null; // when a turn begun in silence got its first text
let speaking = null; // the turn whose audio is arriving
let dropping = false; // between a clear and its answer, audio of the dropped turns is ignored
const turns = new Map();

function setStatus(status) {
  state.status = status;
  $("status").textContent = STATUS[status];
}

function sessionSettings() {
  return { model: $("model").value, voice: $("voice").value, response_format: "pcm" };
}

function url() {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  // A browser cannot set headers on a WebSocket: the key travels as `?token=`.
  const token = apiKey() ? `?token=${encodeURIComponent(apiKey())}` : "";
  return `${scheme}://${window.location.host}/v1/audio/speech/live${token}`;
}

function open() {
  setStatus("connecting");
  socket = new WebSocket(url());
  outbox = [{ type: "session.update", session: sessionSettings() }];
  player.start();
  socket.addEventListener("open", () => {
    for (const event of outbox) socket.send(JSON.stringify(event));
    outbox = [];
    setStatus("open");
  });
  socket.addEventListener("message", (message) => receive(JSON.parse(message.data)));
  socket.addEventListener("close", closed);
}

function send(event) {
  if (!socket) open();
  if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(event));
  else outbox.push(event);
}

function closed(event) {
  socket = null;
  sent = $("text").value;
  speaking = null;
  firstTextAt = null;
  setStatus("closed");
  // 1000 is the router's "input ended"; anything else (a refused key, an idle session) says why.
  if (event.code !== 1000) {
    showError(new Error(`The live session closed (${event.code}): ${event.reason || "connection lost"}`));
  }
}

function append(fragment) {
  if (!fragment) return;
  if (firstTextAt === null && speaking === null) firstTextAt = performance.now();
  send({ type: "input_text.append", text: fragment });
}

/** Sends what was added at the end of the text box; an edit before it is not spoken. */
function typed() {
  const text = $("text").value;
  if (text.startsWith(sent)) append(text.slice(sent.length));
  sent = text;
}

function pasted(event) {
  event.preventDefault();
  const fragments = event.clipboardData.getData("text/plain").match(/\S+\s*|\s+/g) || [];
  feed(fragments);
}

function feed(fragments) {
  clearInterval(feeding);
  const box = $("text");
  feeding = setInterval(() => {
    if (!fragments.length) {
      clearInterval(feeding);
      feeding = null;
      return;
    }
    box.value += fragments.shift();
    typed();
  }, FRAGMENT_MS);
}

function turnRow(id) {
  let turn = turns.get(id);
  if (turn) return turn;
  const row = document.createElement("tr");
  const cells = [id, "", "0.0 s", "…", "speaking"].map((text) => {
    const cell = Object.assign(document.createElement("td"), { textContent: text });
    row.append(cell);
    return cell;
  });
  // A turn that began while another was speaking waited for it: its wait is not first audio.
  const firstAudioMs = firstTextAt === null ? null : performance.now() - firstTextAt;
  cells[1].textContent = firstAudioMs === null ? "after the turn before" : formatMs(firstAudioMs);
  turn = { row, cells, seconds: 0 };
  turns.set(id, turn);
  $("turns").querySelector("tbody").append(row);
  firstTextAt = null;
  speaking = id;
  state.turns += 1;
  return turn;
}

function finish(id, outcome, provider) {
  const turn = turns.get(id);
  if (!turn) return;
  turn.row.dataset.state = outcome;
  turn.cells[4].textContent = outcome;
  if (provider) turn.cells[3].textContent = provider;
  if (speaking === id) speaking = null;
}

function receive(event) {
  if (event.type === "speech.audio.delta") {
    if (dropping) return;
    const bytes = base64Bytes(event.audio);
    const turn = turnRow(event.turn_id);
    player.push(bytes);
    turn.seconds += bytes.length / 2 / RATE;
    turn.cells[2].textContent = `${turn.seconds.toFixed(1)} s`;
    state.deltas += 1;
  } else if (event.type === "speech.audio.done") {
    finish(event.turn_id, "done", event.provider);
  } else if (event.type === "input_text.cleared") {
    dropping = false;
    state.clears += 1;
    setStatus("cleared");
  } else if (event.type === "error") {
    if (event.turn_id) finish(event.turn_id, "failed");
    showError(new Error(event.error.message));
  }
}

/** Barge-in: the router drops held text, queued pieces and audio in flight; so does the page. */
function stop() {
  clearInterval(feeding);
  feeding = null;
  player.stop();
  for (const [id, turn] of turns) if (!turn.row.dataset.state) finish(id, "stopped");
  $("text").value = "";
  sent = "";
  firstTextAt = null;
  if (!socket) return;
  dropping = true;
  setStatus("stopping");
  send({ type: "input_text.clear" });
}

export function showCatalogForLive(loaded) {
  catalog = loaded;
  fillModels($("model"), catalog, "");
  fillVoices($("voice"), catalog, $("model").value, "");
}

function settingsChanged() {
  // Applies from the next turn, as the router's session.update does.
  if (socket) send({ type: "session.update", session: sessionSettings() });
}

export function setUpLive() {
  setStatus("closed");
  $("text").addEventListener("input", typed);
  $("text").addEventListener("paste", pasted);
  $("flush").addEventListener("click", () => socket && send({ type: "input_text.flush" }));
  $("stop").addEventListener("click", stop);
  $("model").addEventListener("change", () => {
    fillVoices($("voice"), catalog, $("model").value, "");
    settingsChanged();
  });
  $("voice").addEventListener("change", settingsChanged);
}
