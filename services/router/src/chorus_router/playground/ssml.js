// The Speak page's SSML mode: snippets inserted into the text box, the markup as the chosen
// provider gets it (its compiled segments, what it drops or approximates), and where the
// markup cannot be read, the router's message with its line and column.

const $ = (id) => document.getElementById(`speak-${id}`);

// [before, after, what stands between them when nothing is selected]
const SNIPPETS = {
  break: ['<break time="500ms"/>', "", ""],
  emphasis: ['<emphasis level="strong">', "</emphasis>", "really"],
  "say-as": ['<say-as interpret-as="characters">', "</say-as>", "SSML"],
  phoneme: ['<phoneme alphabet="ipa" ph="təˈmɑːtoʊ">', "</phoneme>", "tomato"],
  prosody: ['<prosody rate="slow">', "</prosody>", "slowly"],
};

export const ssmlMode = () => $("input-format").value === "ssml";

const escapeXml = (text) => text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

/** Wraps the selection (or a placeholder) in a snippet's tags, as if the user had typed it. */
function insert(name) {
  const box = $("text");
  const [before, after, placeholder] = SNIPPETS[name];
  let { selectionStart: start, selectionEnd: end } = box;
  // A caret after the document (where a fresh text box leaves it) means its end, inside it.
  const close = box.value.lastIndexOf("</speak>");
  if (close >= 0 && start > close) start = end = close;
  const selected = box.value.slice(start, end);
  box.focus();
  box.setRangeText(`${before}${selected || placeholder}${after}`, start, end, "end");
  box.dispatchEvent(new Event("input"));
}

function modeChanged(onChange) {
  const ssml = ssmlMode();
  $("ssml-tools").hidden = !ssml;
  const box = $("text");
  if (ssml && !box.value.trimStart().startsWith("<speak")) box.value = `<speak>${escapeXml(box.value)}</speak>`;
  showCompiled(null);
  onChange();
}

export function setUpSsml(onChange) {
  $("input-format").addEventListener("change", () => modeChanged(onChange));
  for (const button of $("ssml-tools").querySelectorAll("button[data-snippet]")) {
    button.addEventListener("click", () => insert(button.dataset.snippet));
  }
}

/** What one compiled segment asks beyond its words, as a listener would say it. */
function styleOf(segment) {
  const parts = [];
  if (segment.pitch) parts.push(`pitch ${segment.pitch}`);
  if (segment.volume_db) parts.push(`volume ${segment.volume_db > 0 ? "+" : ""}${segment.volume_db} dB`);
  if (segment.emphasis) parts.push(`emphasis ${segment.emphasis}`);
  if (segment.language) parts.push(`language ${segment.language}`);
  if (segment.voice) parts.push(`voice ${segment.voice}`);
  if (segment.marks.length) parts.push(`marks ${segment.marks.join(", ")}`);
  return parts.join("; ");
}

function segmentRow(segment) {
  const row = document.createElement("tr");
  const cells = [
    segment.text,
    segment.pause_ms ? `${segment.pause_ms} ms` : "",
    segment.rate === 1 ? "" : `×${segment.rate}`,
    segment.phonemes || "",
    styleOf(segment),
  ];
  row.append(...cells.map((text) => Object.assign(document.createElement("td"), { textContent: text })));
  return row;
}

const listed = (names) => (names.length ? names.join(", ") : "none");

/** The normalize endpoint's answer for SSML (segments, dropped, approximated); null hides it. */
export function showCompiled(answer) {
  const segments = answer?.segments;
  $("compiled").hidden = !segments;
  if (!segments) return;
  $("segments-caption").textContent = `Compiled for ${answer.provider}`;
  $("segments").tBodies[0].replaceChildren(...segments.map(segmentRow));
  $("dropped").textContent = listed(answer.dropped);
  $("approximated").textContent = listed(answer.approximated);
}

/** The router's reason the text cannot be previewed (a 400 names SSML's line and column). */
export function showProblem(message) {
  const problem = $("text-problem");
  problem.textContent = message;
  problem.hidden = !message;
  $("text").setAttribute("aria-invalid", String(Boolean(message)));
}

/** The markup headers of a spoken SSML request (what the provider dropped or approximated);
 * null, or plain text, hides them. */
export function showMarkupResult(result) {
  $("markup-result").hidden = !(result && ssmlMode());
  if (!result) return;
  $("markup-dropped").textContent = result.markupDropped || "none";
  $("markup-approximated").textContent = result.markupApproximated || "none";
}
