// Speech as it streams: the router's PCM (s16le, 24 kHz, mono) scheduled into Web Audio
// piece by piece, and the figures a listener cares about (first audio, real-time factor).

import { base64Bytes, openSpeech } from "./api.js";

export const RATE = 24000;

// What tests (and curious users) can read: seconds of audio handed to the audio graph.
window.chorusPlayground = window.chorusPlayground || { scheduledSeconds: 0 };

function samples(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength >> 1);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(2 * i, true) / 32768;
  return out;
}

/** Plays PCM pieces back to back as they arrive, without gaps between them. */
export class StreamPlayer {
  constructor() {
    this.context = null;
    this.sources = [];
  }

  start() {
    this.stop();
    this.context = this.context || new AudioContext({ sampleRate: RATE });
    this.context.resume();
    this.startedAt = this.context.currentTime + 0.05;
    this.next = this.startedAt;
    this.leftover = new Uint8Array(0);
  }

  push(bytes) {
    // A delta may end inside a sample; its first byte waits for the next delta.
    const joined = new Uint8Array(this.leftover.length + bytes.length);
    joined.set(this.leftover);
    joined.set(bytes, this.leftover.length);
    const whole = joined.length & ~1;
    this.leftover = joined.slice(whole);
    if (whole === 0) return;
    const pcm = samples(joined.subarray(0, whole));
    const buffer = this.context.createBuffer(1, pcm.length, RATE);
    buffer.copyToChannel(pcm, 0);
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.context.destination);
    this.next = Math.max(this.next, this.context.currentTime);
    source.start(this.next);
    this.next += buffer.duration;
    this.sources.push(source);
    window.chorusPlayground.scheduledSeconds += buffer.duration;
  }

  /** Seconds of this stream heard so far. */
  position() {
    return this.context ? Math.max(0, this.context.currentTime - this.startedAt) : 0;
  }

  /** Seconds of audio scheduled and not yet heard. */
  queuedSeconds() {
    return this.context ? Math.max(0, this.next - this.context.currentTime) : 0;
  }

  stop() {
    for (const source of this.sources) source.stop();
    this.sources = [];
    if (this.context) this.next = this.context.currentTime;
  }
}

/**
 * One streamed speech request: `onFirstAudio(ms)` once, `onAudio(bytes)` for each PCM piece,
 * `onWords(words)` for word timings; resolves with the serving provider, cache state, the markup it
 * dropped or approximated, first-audio time and RTF.
 */
export async function streamSpeech(body, { onFirstAudio, onAudio, onWords, signal } = {}) {
  const started = performance.now();
  const { headers, events } = await openSpeech({ ...body, response_format: "pcm" }, signal);
  let firstAudioMs = null;
  let bytes = 0;
  for await (const event of events) {
    if (event.type === "speech.audio.delta") {
      const audio = base64Bytes(event.audio);
      if (firstAudioMs === null) {
        firstAudioMs = performance.now() - started;
        onFirstAudio?.(firstAudioMs);
      }
      bytes += audio.length;
      onAudio?.(audio);
    } else if (event.type === "speech.audio.timestamps") {
      onWords?.(event.timestamps);
    } else if (event.type === "error") {
      throw new Error(event.error.message);
    }
  }
  const audioSeconds = bytes / 2 / RATE;
  const elapsed = (performance.now() - started) / 1000;
  return {
    provider: headers.get("X-Chorus-Provider") || "–",
    cache: headers.get("X-Chorus-Cache") || "–",
    markupDropped: headers.get("X-Chorus-Markup-Dropped") || "",
    markupApproximated: headers.get("X-Chorus-Markup-Approximated") || "",
    firstAudioMs,
    audioSeconds,
    rtf: audioSeconds > 0 ? elapsed / audioSeconds : null,
  };
}

export const formatMs = (ms) => (ms === null ? "–" : `${Math.round(ms)} ms`);
export const formatRtf = (rtf) => (rtf === null ? "–" : rtf.toFixed(2));

/** PCM pieces as a WAV file an <audio> element can play. */
export function wavBlob(pieces) {
  const size = pieces.reduce((sum, p) => sum + p.length, 0);
  const header = new DataView(new ArrayBuffer(44));
  const ascii = (offset, text) => [...text].forEach((c, i) => header.setUint8(offset + i, c.charCodeAt(0)));
  ascii(0, "RIFF");
  header.setUint32(4, 36 + size, true);
  ascii(8, "WAVEfmt ");
  header.setUint32(16, 16, true);
  header.setUint16(20, 1, true);
  header.setUint16(22, 1, true);
  header.setUint32(24, RATE, true);
  header.setUint32(28, RATE * 2, true);
  header.setUint16(32, 2, true);
  header.setUint16(34, 16, true);
  ascii(36, "data");
  header.setUint32(40, size, true);
  return new Blob([header, ...pieces], { type: "audio/wav" });
}
