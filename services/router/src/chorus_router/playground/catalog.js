// Models, providers and voices from the router's catalog endpoints, and the pickers they fill.

import { getJson } from "./api.js";

/** Models (with the providers serving each), voices, which providers time words, which clone. */
export async function loadCatalog() {
  const [models, voices] = await Promise.all([
    getJson("/v1/models"),
    getJson("/api/v1/audio/voices/catalog"),
  ]);
  const catalog = {
    models: models.data.map((m) => ({ id: m.id, providers: m.owned_by.split(",").filter(Boolean) })),
    voices: voices.voices,
    timed: new Set(),
    cloners: [],
  };
  try {
    // An admin view: with a speech-only key, the page asks for no word timings and lets the
    // router pick the provider of a voice preview.
    const { providers } = await getJson("/api/v1/audio/providers");
    const timing = providers.filter((p) => p.capabilities?.timestamps === "word");
    catalog.timed = new Set(timing.map((p) => p.name));
    catalog.cloners = providers
      .filter((p) => p.capabilities?.voice_cloning)
      .map((p) => ({ name: p.name, model: ownModel(catalog, p) }));
  } catch {
    // Keeps the defaults above.
  }
  return catalog;
}

/** A model only `provider` serves (so a request for it goes to that provider), else its first. */
function ownModel(catalog, provider) {
  const alone = catalog.models.find((m) => m.providers.length === 1 && m.providers[0] === provider.name);
  return alone?.id || provider.models[0];
}

export const providerNames = (catalog) =>
  [...new Set(catalog.models.flatMap((m) => m.providers))].sort();

function fill(select, options, preferred = "") {
  // Keep the choice where it still fits, else take the preferred one.
  const kept = [select.value, preferred].find((v) => options.some(([value]) => value === v));
  select.replaceChildren(
    ...options.map(([value, label]) => {
      const option = document.createElement("option");
      option.value = value;
      option.textContent = label;
      return option;
    }),
  );
  if (kept !== undefined) select.value = kept;
}

export function fillProviders(select, catalog) {
  fill(select, [["", "Any provider"], ...providerNames(catalog).map((p) => [p, p])]);
}

/** The models `provider` serves (all with no provider), its own-named model first. */
export function fillModels(select, catalog, provider) {
  const models = catalog.models.filter((m) => !provider || m.providers.includes(provider));
  models.sort((a, b) => (b.id === provider) - (a.id === provider));
  fill(select, models.map((m) => [m.id, m.id]));
}

/** The voices of the providers that serve `model`, each labelled with its language. */
export function fillVoices(select, catalog, model, provider) {
  const serving = catalog.models.find((m) => m.id === model)?.providers || [];
  const voices = catalog.voices.filter(
    (v) => serving.includes(v.provider) && (!provider || v.provider === provider),
  );
  fill(
    select,
    voices.map((v) => [v.id, `${v.name} (${v.language || "any language"}) · ${v.provider}`]),
    browserLanguageVoice(voices)?.id,
  );
}

/** The first voice in the browser's language (en-US, else any en), not the alphabet's first. */
function browserLanguageVoice(voices) {
  const wanted = navigator.language.toLowerCase();
  const primary = wanted.split("-")[0];
  const language = (v) => (v.language || "").toLowerCase();
  return (
    voices.find((v) => language(v) === wanted) ||
    voices.find((v) => language(v).split("-")[0] === primary)
  );
}

/** Whether some provider of `model` times words, so word highlighting can be asked for. */
export function timesWords(catalog, model) {
  const serving = catalog.models.find((m) => m.id === model)?.providers || [];
  return serving.some((p) => catalog.timed.has(p));
}
