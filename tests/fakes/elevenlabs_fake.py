"""A stand-in for ElevenLabs' TTS API: `python -m fakes.elevenlabs_fake --port N --api-key K`.

Like ElevenLabs: `xi-api-key` auth (401 `invalid_api_key`), FastAPI's 422 for bodies it
cannot validate, `{"detail": {"status", "message"}}` for everything else, voices from
`GET /v1/voices`, and `pcm_<rate>` streamed at exactly that rate.

Instant voice cloning: `POST /v1/voices/add` (multipart `name` and `files`) makes a voice that
TTS calls and the voice list then know, up to the account's voice limit (400
`voice_limit_reached`, set with `POST /_fake/voice-limit`); `DELETE /v1/voices/{id}` frees it.
Each add is recorded with the name and every file's SHA-256, never the audio.

Pronunciation dictionaries: `POST /v1/pronunciation-dictionaries/add-from-rules` takes alias
and phoneme rules (phonemes in "ipa" or "cmu"; 400 for a rule that says nothing, repeats a
string or holds markup) and answers an id and a version; a TTS body's
`pronunciation_dictionary_locators` (at most 3) must name a dictionary and version it made
(404 `pronunciation_dictionary_not_found`). The rules are applied to the text before it is
spoken, an alias as its words and a phoneme as `[[phoneme]]`; `GET /_fake/spoken` lists the
texts as spoken.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile

from fakes.control import FakeControl, Fault, serve
from fakes.speech import speak

MODELS = (
    "eleven_multilingual_v2", "eleven_flash_v2", "eleven_flash_v2_5", "eleven_turbo_v2_5",
    "eleven_v3",
)  # fmt: skip
OutputFormat = Literal[
    "mp3_22050_32", "mp3_44100_64", "mp3_44100_128", "mp3_44100_192", "opus_48000_64",
    "pcm_8000", "pcm_16000", "pcm_22050", "pcm_24000", "pcm_44100", "pcm_48000",
    "ulaw_8000", "alaw_8000",
]  # fmt: skip
VOICES = [
    {"voice_id": "21m00Tcm4TlvDq8ikWAM", "name": "Rachel", "gender": "female", "locale": "en-US"},
    {"voice_id": "JBFqnCBsd6RMkjVDRZzb", "name": "George", "gender": "male", "locale": "en-GB"},
    {"voice_id": "EXAVITQu4vr4xnSDxMaL", "name": "Sarah", "gender": "female", "locale": "en-US"},
]
_STATUS_CODES = {429: "too_many_concurrent_requests", 500: "internal_server_error"}
_BREAK = re.compile(r'\s*<break time="(\d+(?:\.\d+)?)s"\s*/>\s*')
# Instant voices an account may hold on ElevenLabs' smaller plans.
DEFAULT_VOICE_LIMIT = 10


class VoiceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stability: float | None = Field(default=None, ge=0, le=1)
    similarity_boost: float | None = Field(default=None, ge=0, le=1)
    style: float | None = Field(default=None, ge=0, le=1)
    use_speaker_boost: bool | None = None
    speed: float | None = Field(default=None, ge=0.7, le=1.2)


class AliasRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["alias"]
    string_to_replace: str
    alias: str
    case_sensitive: bool = True
    word_boundaries: bool = True


class PhonemeRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["phoneme"]
    string_to_replace: str
    phoneme: str
    alphabet: Literal["ipa", "cmu"]
    case_sensitive: bool = True
    word_boundaries: bool = True


Rule = Annotated[AliasRule | PhonemeRule, Field(discriminator="type")]


class DictionaryBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    rules: list[Rule] = Field(min_length=1)
    description: str | None = None
    workspace_access: Literal["admin", "editor", "viewer"] | None = None


class Locator(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pronunciation_dictionary_id: str
    version_id: str | None = None


class SpeechBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)
    model_id: str = "eleven_multilingual_v2"
    language_code: str | None = Field(default=None, min_length=2, max_length=3)
    voice_settings: VoiceSettings | None = None
    seed: int | None = Field(default=None, ge=0, le=4_294_967_295)
    previous_text: str | None = None
    next_text: str | None = None
    apply_text_normalization: Literal["auto", "on", "off"] | None = None
    pronunciation_dictionary_locators: list[Locator] | None = Field(default=None, max_length=3)


class SpeechQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    output_format: OutputFormat = "mp3_44100_128"
    optimize_streaming_latency: int | None = Field(default=None, ge=0, le=4)
    enable_logging: bool | None = None


def spoken_with_breaks(text: str, rate: int, voice: str, speed: float, language: str) -> bytes:
    """The text spoken, its `<break time="1.5s" />` tags as that much silence. ElevenLabs
    takes pauses of up to 3 s and no other markup, so this fake refuses any other tag."""
    pcm = b""
    for index, part in enumerate(_BREAK.split(text)):
        if index % 2:
            seconds = float(part)
            if seconds > 3:
                raise ValueError(f"a break is at most 3 seconds, not {seconds:g}")
            pcm += bytes(2 * round(seconds * rate))
        elif "<" in part or ">" in part:
            raise ValueError(f"markup other than <break time=...s /> in the text: {part!r}")
        elif part.strip():
            pcm += speak(part, rate, voice, speed, language)
    return pcm


def detail(status: str, message: str) -> dict[str, Any]:
    return {"detail": {"status": status, "message": message}}


def status_error(status: int) -> dict[str, Any]:
    code = _STATUS_CODES.get(status, "internal_server_error")
    return detail(code, f"The fake was told to answer {status}.")


def unprocessable(exc: ValidationError, where: str) -> JSONResponse:
    errors = [{"type": e["type"], "loc": [where, *e["loc"]], "msg": e["msg"]} for e in exc.errors()]
    return JSONResponse({"detail": errors}, 422)


def _random_id() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(20))


def rule_problem(rules: list[AliasRule | PhonemeRule]) -> str | None:
    """Why ElevenLabs would refuse these rules, if it would."""
    seen: set[str] = set()
    for rule in rules:
        said = rule.alias if isinstance(rule, AliasRule) else rule.phoneme
        if not rule.string_to_replace.strip() or not said.strip():
            return "A rule needs a string to replace and what to say instead."
        if rule.string_to_replace in seen:
            return f"The string '{rule.string_to_replace}' has two rules."
        if "<" in said or ">" in said:
            return f"The rule for '{rule.string_to_replace}' holds markup."
        seen.add(rule.string_to_replace)
    return None


class Dictionaries:
    """The account's pronunciation dictionaries: (id, version) -> rules."""

    def __init__(self) -> None:
        self.rules: dict[tuple[str, str], list[AliasRule | PhonemeRule]] = {}

    def add(self, rules: list[AliasRule | PhonemeRule]) -> tuple[str, str]:
        key = (_random_id(), _random_id())
        self.rules[key] = rules
        return key

    def find(self, locator: Locator) -> list[AliasRule | PhonemeRule] | None:
        for (dictionary, version), rules in self.rules.items():
            if dictionary == locator.pronunciation_dictionary_id and locator.version_id in (
                None,
                version,
            ):
                return rules
        return None


def applied(text: str, rules: list[AliasRule | PhonemeRule]) -> str:
    """The text with each rule's string said its way, as whole words where the rule says so."""
    for rule in rules:
        said = rule.alias if isinstance(rule, AliasRule) else f"[[{rule.phoneme}]]"
        pattern = re.escape(rule.string_to_replace)
        if rule.word_boundaries:
            pattern = rf"(?<!\w){pattern}(?!\w)"
        flags = 0 if rule.case_sensitive else re.IGNORECASE
        # A replacement said literally: an alias may hold a backslash.
        text = re.sub(pattern, said.replace("\\", "\\\\"), text, flags=flags)
    return text


class VoiceLimit(BaseModel):
    limit: int = Field(ge=0)


class Clones:
    """The account's cloned voices (id -> name) and how many it may hold."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.limit = DEFAULT_VOICE_LIMIT

    def reset(self) -> None:
        self.names.clear()
        self.limit = DEFAULT_VOICE_LIMIT

    def add(self, name: str) -> str:
        voice_id = _random_id()
        self.names[voice_id] = name
        return voice_id


def voice_list(clones: Clones) -> dict[str, Any]:
    premade = [
        {
            "voice_id": v["voice_id"],
            "name": v["name"],
            "category": "premade",
            "labels": {"gender": v["gender"], "accent": v["locale"]},
            "verified_languages": [
                {"language": "en", "model_id": MODELS[0], "locale": v["locale"]}
            ],
        }
        for v in VOICES
    ]
    cloned = [
        {"voice_id": voice_id, "name": name, "category": "cloned", "labels": {}}
        for voice_id, name in clones.names.items()
    ]
    return {"voices": premade + cloned}


async def uploaded(request: Request) -> tuple[str, list[dict[str, Any]]]:
    """The add-voice form's name and, for each file, what a test may check (not the audio)."""
    await request.body()  # cached first, so the recorder can read it after the form parser
    form = await request.form()
    name = form.get("name")
    files = []
    for part in form.getlist("files"):
        if isinstance(part, UploadFile):
            data = await part.read()
            files.append(
                {
                    "filename": part.filename,
                    "content_type": part.content_type,
                    "bytes": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                }
            )
    return (name if isinstance(name, str) else ""), files


def create_app(api_key: str) -> FastAPI:
    app = FastAPI(title="fake ElevenLabs")
    clones = Clones()
    dictionaries = Dictionaries()
    spoken: list[str] = []

    def reset() -> None:
        clones.reset()
        dictionaries.rules.clear()
        spoken.clear()

    control = FakeControl(status_error, on_reset=reset)
    app.include_router(control.router())

    async def admitted(
        request: Request, extra: dict[str, Any] | None = None
    ) -> tuple[Response | None, Fault]:
        given = request.headers.get("xi-api-key")
        answer, fault = await control.admit(request, authorized=given == api_key, extra=extra)
        if given != api_key:
            return JSONResponse(detail("invalid_api_key", "Invalid API key"), 401), fault
        return answer, fault

    @app.post("/_fake/voice-limit")
    async def set_voice_limit(body: VoiceLimit) -> dict[str, int]:
        clones.limit = body.limit
        return {"limit": clones.limit}

    @app.get("/_fake/spoken")
    async def spoken_texts() -> dict[str, list[str]]:
        return {"spoken": spoken}

    @app.post("/v1/pronunciation-dictionaries/add-from-rules")
    async def add_dictionary(request: Request) -> Response:
        answer, _ = await admitted(request)
        if answer is not None:
            return answer
        try:
            body = DictionaryBody.model_validate_json(await request.body())
        except ValidationError as exc:
            return unprocessable(exc, "body")
        if (problem := rule_problem(body.rules)) is not None:
            return JSONResponse(detail("invalid_pronunciation_rules", problem), 400)
        dictionary, version = dictionaries.add(body.rules)
        return JSONResponse(
            {
                "id": dictionary,
                "name": body.name,
                "version_id": version,
                "version_rules_num": len(body.rules),
                "created_by": "fake",
                "creation_time_unix": 0,
                "description": body.description,
                "permission_on_resource": "admin",
            }
        )

    @app.get("/v1/voices")
    async def voices(request: Request) -> Response:
        answer, _ = await admitted(request)
        return answer or JSONResponse(voice_list(clones))

    @app.post("/v1/voices/add")
    async def add_voice(request: Request) -> Response:
        name, files = await uploaded(request)
        answer, _ = await admitted(request, {"form": {"name": name}, "files": files})
        if answer is not None:
            return answer
        if not name.strip():
            return JSONResponse(detail("invalid_name", "A voice needs a name."), 400)
        if not files or not all(f["bytes"] for f in files):
            return JSONResponse(detail("invalid_files", "Upload at least one audio file."), 400)
        if len(clones.names) >= clones.limit:
            message = (
                f"You have reached your maximum amount of custom voices ({len(clones.names)} / "
                f"{clones.limit}). You can upgrade your subscription to increase your custom "
                "voice limit."
            )
            return JSONResponse(detail("voice_limit_reached", message), 400)
        return JSONResponse({"voice_id": clones.add(name), "requires_verification": False})

    @app.delete("/v1/voices/{voice_id}")
    async def delete_voice(voice_id: str, request: Request) -> Response:
        answer, _ = await admitted(request)
        if answer is not None:
            return answer
        if clones.names.pop(voice_id, None) is None:
            message = f"A voice with the voice_id {voice_id} was not found."
            return JSONResponse(detail("voice_not_found", message), 404)
        return JSONResponse({"status": "ok"})

    @app.post("/v1/text-to-speech/{voice_id}/stream")
    async def stream(voice_id: str, request: Request) -> Response:
        answer, fault = await admitted(request)
        if answer is not None:
            return answer
        try:
            query = SpeechQuery.model_validate(dict(request.query_params))
        except ValidationError as exc:
            return unprocessable(exc, "query")
        try:
            body = SpeechBody.model_validate_json(await request.body())
        except ValidationError as exc:
            return unprocessable(exc, "body")
        voice = next((v for v in VOICES if v["voice_id"] == voice_id), None)
        if voice is None and voice_id not in clones.names:
            message = f"A voice with the voice_id {voice_id} was not found."
            return JSONResponse(detail("voice_not_found", message), 404)
        if body.model_id not in MODELS:
            return JSONResponse(detail("model_not_found", f"No model {body.model_id}."), 400)
        codec, _, rate = query.output_format.partition("_")
        if codec != "pcm":
            return JSONResponse(detail("invalid_output_format", "This fake streams pcm."), 400)
        text = body.text
        for locator in body.pronunciation_dictionary_locators or []:
            rules = dictionaries.find(locator)
            if rules is None:
                message = f"No pronunciation dictionary {locator.pronunciation_dictionary_id}."
                return JSONResponse(detail("pronunciation_dictionary_not_found", message), 404)
            text = applied(text, rules)
        spoken.append(text)
        speed = (body.voice_settings.speed if body.voice_settings else None) or 1.0
        language = "en-gb" if voice is not None and voice["locale"] == "en-GB" else "en-us"
        try:
            pcm = spoken_with_breaks(text, int(rate), voice_id, speed, language)
        except ValueError as exc:
            return JSONResponse(detail("invalid_text", str(exc)), 400)
        return StreamingResponse(control.stream(pcm, fault), media_type="audio/pcm")

    return app


if __name__ == "__main__":
    serve(create_app, "fake ElevenLabs API")
