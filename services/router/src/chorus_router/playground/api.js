// The router's public API as this page calls it: the key from session storage, errors in
// OpenAI's shape shown with their Retry-After, and speech read as Server-Sent Events.

const KEY_ITEM = "chorus.apiKey";

export const apiKey = () => sessionStorage.getItem(KEY_ITEM) || "";

export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY_ITEM, key);
  else sessionStorage.removeItem(KEY_ITEM);
}

export class ApiError extends Error {
  constructor(status, message, retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }

  describe() {
    const wait = this.retryAfter ? ` Retry after ${this.retryAfter} s.` : "";
    return `${this.status}: ${this.message}${wait}`;
  }
}

async function failure(response) {
  let message = response.statusText || "Request failed";
  try {
    const body = await response.json();
    message = body.error?.message || message;
  } catch {
    // Not JSON (a proxy's page): the status line says what there is to say.
  }
  return new ApiError(response.status, message, response.headers.get("Retry-After"));
}

/** fetch() with the key, throwing ApiError for anything but a 2xx answer. */
export async function call(path, { method = "GET", json, form, signal } = {}) {
  const headers = {};
  if (apiKey()) headers.Authorization = `Bearer ${apiKey()}`;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  const response = await fetch(path, { method, headers, body, signal });
  if (!response.ok) throw await failure(response);
  return response;
}

export const getJson = async (path) => (await call(path)).json();
export const postJson = async (path, json) => (await call(path, { method: "POST", json })).json();

/** A speech request streamed as SSE: its headers, then its events as they arrive. */
export async function openSpeech(body, signal) {
  const response = await call("/v1/audio/speech", {
    method: "POST",
    json: { ...body, stream_format: "sse" },
    signal,
  });
  return { headers: response.headers, events: sseEvents(response.body) };
}

/** The `data:` events of a Server-Sent Events body, parsed as JSON, as they arrive. */
export async function* sseEvents(stream) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffered += value;
    let end;
    while ((end = buffered.indexOf("\n\n")) >= 0) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      for (const line of block.split("\n")) {
        if (line.startsWith("data: ")) yield JSON.parse(line.slice(6));
      }
    }
  }
}

export function base64Bytes(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Saves a blob the way a download link would, as `name`. */
export function saveBlob(blob, name) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  link.click();
  // The download has its bytes by then; the URL only holds memory.
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

const messageBox = () => document.getElementById("message");

/** Shows an error (ApiError or any other) in the page's alert region. */
export function showError(error) {
  const box = messageBox();
  box.textContent = error instanceof ApiError ? error.describe() : String(error.message || error);
  box.hidden = false;
}

export function clearMessage() {
  const box = messageBox();
  box.textContent = "";
  box.hidden = true;
}

/** Runs an action, showing what it throws; the button stays disabled while it runs. */
export async function guarded(button, action) {
  clearMessage();
  if (button) button.disabled = true;
  try {
    return await action();
  } catch (error) {
    if (error.name !== "AbortError") showError(error);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}
