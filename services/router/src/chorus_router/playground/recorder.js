// Microphone recordings for the Voices page (getUserMedia + MediaRecorder): one toggle button
// records, a player plays the take back, and a refused microphone says so plainly.

const EXTENSIONS = { "audio/webm": "webm", "audio/ogg": "ogg", "audio/mp4": "m4a" };

/** Why the microphone could not be used, in words a user can act on. */
function refusal(error) {
  if (error.name === "NotAllowedError" || error.name === "SecurityError") {
    return "The microphone was refused. Allow it for this page in the browser's site settings, or upload a file instead.";
  }
  if (error.name === "NotFoundError") return "No microphone was found. Connect one, or upload a file instead.";
  return `The microphone could not be opened (${error.name}: ${error.message}).`;
}

/** One recording slot: the Record/Stop button, a status line and a playback element. */
export class Recording {
  constructor(button, status, playback) {
    this.button = button;
    this.status = status;
    this.playback = playback;
    this.idleText = button.textContent;
    this.recorder = null;
    this.blob = null;
  }

  /** Starts recording, or stops the recording under way; throws an Error saying why it cannot. */
  async toggle() {
    if (this.recorder) {
      this.recorder.stop();
      return;
    }
    if (!navigator.mediaDevices?.getUserMedia) {
      // Browsers offer the microphone only to secure pages: HTTPS, or localhost.
      throw new Error("This browser offers no microphone to this page: open it over HTTPS (or on localhost).");
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (error) {
      this.status.textContent = "Microphone refused.";
      throw new Error(refusal(error));
    }
    this.record(stream);
  }

  record(stream) {
    const chunks = [];
    const recorder = new MediaRecorder(stream);
    const started = performance.now();
    const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
    const ticker = setInterval(() => {
      this.status.textContent = `Recording… ${seconds()} s`;
    }, 250);
    recorder.addEventListener("dataavailable", (event) => chunks.push(event.data));
    recorder.addEventListener("stop", () => {
      clearInterval(ticker);
      for (const track of stream.getTracks()) track.stop();
      this.blob = new Blob(chunks, { type: recorder.mimeType });
      this.playback.src = URL.createObjectURL(this.blob);
      this.playback.hidden = false;
      this.status.textContent = `Recorded ${seconds()} s.`;
      this.recorder = null;
      this.button.textContent = this.idleText;
      this.button.setAttribute("aria-pressed", "false");
    });
    this.blob = null;
    this.recorder = recorder;
    recorder.start();
    this.button.textContent = "Stop recording";
    this.button.setAttribute("aria-pressed", "true");
  }

  /** The take as a named file for a form, or null when nothing was recorded. */
  file(name) {
    if (!this.blob) return null;
    const extension = EXTENSIONS[this.blob.type.split(";")[0]] || "webm";
    return new File([this.blob], `${name}.${extension}`, { type: this.blob.type });
  }

  clear() {
    this.blob = null;
    this.playback.removeAttribute("src");
    this.playback.hidden = true;
    this.status.textContent = "";
  }
}
