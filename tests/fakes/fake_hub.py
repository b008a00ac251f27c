"""A fake Hugging Face Hub model API on 127.0.0.1, with faults injected per organisation
and per model.

It answers `GET /api/models?author=ORG&expand=...` as the real Hub does: a JSON array of
model records; with `expand`, only `_id`, `id` and the expanded fields (expand replaces
the default fields); pages linked by a GitHub-style `Link: <absolute url>; rel="next"`
header whose URL carries the original query and an opaque `cursor`. An organisation
the fake does not know lists no models (200 and `[]`), as on the real Hub. An `expand`
value the listing does not accept (such as `childrenModelCount`, which only a single
model's route serves) fails the whole request with 400, as on the real Hub.

It answers `GET /api/models/ORG/NAME?expand=...` (huggingface_hub's `model_info`) with
one model record, the same way: `expand` replaces the default fields, and this route
also accepts `baseModels`, `childrenModelCount` and `usedStorage`, which the Hub serves
only when expanded (huggingface_hub PR #2475 documents them as expand values, "following
server-side addition"; PR #3182, that only this route accepts them). The derivative
count comes per kind, e.g. {"adapter": 716, "finetune": 328, "merge": 19, "quantized":
190}. A repository the fake does not know answers as the Hub does for a missing one:
401 to an anonymous request and 404 to an authenticated one, both with
`X-Error-Code: RepoNotFound` (huggingface/datasets PR #4472: "The hub now returns 401
instead of 404 for unauthenticated requests to non-existing repos"; huggingface_hub's
`hf_raise_for_status` reads either as RepositoryNotFoundError).

`safetensors`, asked in the listing's or a model's `expand`, is the parameter count of
the repository's weights as the Hub computes it: per dtype and in total, e.g.
{"parameters": {"BF16": 235093634560}, "total": 235093634560} for Qwen/Qwen3-235B-A22B
(huggingface_hub's ModelInfo reads both keys into SafeTensorsInfo(parameters, total),
hf_api.py; a quantised repository counts its packed integers, {"I32": …, "F16": …}). A
repository without safetensors weights (GGUF only, or older formats) has no such field.

It answers `GET /api/agent-harnesses` as the Hub does: 200 and the registry of AI agent
harnesses that huggingface_hub (>= 1.x, PR #4325 "Dynamic agent harness registry") fetches
at most once a day, while building its request headers, to name the agent running it in
its user agent: `{"standardEnvVars": [...], "harnesses": {id: {"prettyLabel", "envVars",
...}}}` (the shape `huggingface_hub.utils._detect_agent.Registry` reads; a user's log in
https://github.com/huggingface/huggingface_hub/issues/4904 shows the real Hub answering
it "HTTP/1.1 200 OK", and its maintainer quotes an entry of it). A
fake that answered 404, as an unknown route, made every process fetch it again.

Every request is recorded (path, query, headers) so tests can assert what was asked.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qsl, urlencode, urlsplit

Record = dict[str, object]

# What /api/models returns per model when no `expand` is given.
DEFAULT_FIELDS = (
    "modelId",
    "likes",
    "trendingScore",
    "private",
    "downloads",
    "tags",
    "pipeline_tag",
    "library_name",
    "createdAt",
)

# The `expand` values /api/models accepts: those huggingface_hub's `HfApi.list_models`
# documents (v2.4). `baseModels`, `childrenModelCount` and `usedStorage` are accepted
# only by /api/models/{repo_id}; the listing refuses them (huggingface_hub PR #3182,
# "only accepted when using the /api/models/repo_id endpoint", confirmed by the Hub
# team), and the Hub answers an unknown expand value with 400 for the whole request.
LISTING_EXPAND = frozenset(
    {
        "author",
        "cardData",
        "config",
        "createdAt",
        "disabled",
        "downloads",
        "downloadsAllTime",
        "evalResults",
        "gated",
        "gguf",
        "inference",
        "inferenceProviderMapping",
        "lastModified",
        "library_name",
        "likes",
        "mask_token",
        "model-index",
        "pipeline_tag",
        "private",
        "resourceGroup",
        "safetensors",
        "sha",
        "siblings",
        "spaces",
        "tags",
        "transformersInfo",
        "trendingScore",
        "widgetData",
    }
)
# What /api/models/{repo_id} returns when no `expand` is given (among the fields a
# record here holds): never the derivative count, which must be expanded.
MODEL_DEFAULT_FIELDS = (
    "modelId",
    "author",
    "likes",
    "trendingScore",
    "private",
    "downloads",
    "tags",
    "pipeline_tag",
    "library_name",
    "createdAt",
)
# The `expand` values /api/models/{repo_id} accepts: the listing's and three more.
MODEL_EXPAND = LISTING_EXPAND | {"baseModels", "childrenModelCount", "usedStorage"}
# A few entries of the Hub's agent harness registry, in its shape (see the docstring).
AGENT_HARNESSES = {
    "standardEnvVars": ["AI_AGENT", "AGENT"],
    "harnesses": {
        "crush": {
            "prettyLabel": "Crush",
            "repoUrl": "https://github.com/charmbracelet/crush",
            "description": "Charm's open-source AI coding agent for the terminal.",
            "envVars": {"CRUSH": "*"},
        },
        "hi": {"prettyLabel": "hi", "repoUrl": "https://github.com/PipeNetwork/hi"},
    },
}
AGENT_HARNESSES_PATH = "/api/agent-harnesses"


def hub_model(
    repo_id: str,
    downloads: int = 0,
    all_time: int = 0,
    likes: int = 0,
    *,
    created_at: str | None = "2024-09-16T12:00:00.000Z",
    pipeline_tag: str | None = "text-generation",
    tags: Sequence[str] = ("transformers", "safetensors"),
    children: Mapping[str, int] | None = None,
    safetensors: Mapping[str, int] | None = None,
) -> Record:
    """One model record as the Hub stores it (every field the fake can return).

    `children` is its derivative count per kind (`childrenModelCount`); none by default.
    `safetensors` is its parameters per dtype ({"BF16": 8030261248}); None for a
    repository without safetensors weights, which has no `safetensors` field.
    """
    counted: Record = {}
    if safetensors is not None:
        counted["safetensors"] = {
            "parameters": dict(safetensors),
            "total": sum(safetensors.values()),
        }
    return {
        "_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24],
        "id": repo_id,
        "modelId": repo_id,
        "author": repo_id.partition("/")[0],
        "downloads": downloads,
        "downloadsAllTime": all_time,
        "likes": likes,
        "trendingScore": 0,
        "private": False,
        "library_name": "transformers",
        "createdAt": created_at,
        "pipeline_tag": pipeline_tag,
        "tags": list(tags),
        "childrenModelCount": dict(children or {}),
        **counted,
    }


def without(record: Record, *fields: str) -> Record:
    """`record` missing some fields, as the Hub leaves out what it does not know."""
    return {k: v for k, v in record.items() if k not in fields}


@dataclass
class OrgFaults:
    """How the fake misbehaves for one organisation. Faults apply in this order."""

    not_found: bool = False  # every request: 404
    rate_limited: int = 0  # the first N requests: 429 with Retry-After
    retry_after: int = 1
    server_errors: int = 0  # the next N requests: 500
    stall: float = 0.0  # seconds to wait before answering (released when the fake stops)
    stalled_requests: int | None = None  # how many requests stall; None = every one
    fail_page: int | None = None  # this page (1-based) always answers 500
    malformed: bool = False  # 200 with a body that is not JSON


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received."""

    path: str
    query: tuple[tuple[str, str], ...]
    headers: Mapping[str, str]  # names in lower case

    def values(self, name: str) -> list[str]:
        """Every value of query parameter `name` (and of `name[]`)."""
        return [v for k, v in self.query if k in (name, f"{name}[]")]

    def value(self, name: str) -> str | None:
        found = self.values(name)
        return found[0] if found else None

    @property
    def org(self) -> str | None:
        return self.value("author")

    @property
    def repo_id(self) -> str | None:
        """The model a single-model request asked for; None for a listing."""
        prefix = "/api/models/"
        return self.path[len(prefix) :] if self.path.startswith(prefix) else None


@dataclass
class _OrgState:
    models: list[Record] = field(default_factory=list)
    faults: OrgFaults = field(default_factory=OrgFaults)
    requests: int = 0


class FakeHub:
    """The fake Hub server. Use as a context manager, or `start()` and `stop()`."""

    def __init__(self, page_size: int = 3) -> None:
        self.page_size = page_size
        self.requests: list[RecordedRequest] = []
        self._orgs: dict[str, _OrgState] = {}
        self._model_faults: dict[str, OrgFaults] = {}
        self._model_requests: dict[str, int] = {}
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- arranging ---------------------------------------------------------------

    def add(self, org: str, *models: Record) -> FakeHub:
        """List `models` (in this order) under `org`; an org added with none lists `[]`."""
        with self._lock:
            self._orgs.setdefault(org.lower(), _OrgState()).models.extend(models)
        return self

    def replace(self, org: str, *models: Record) -> FakeHub:
        """List exactly `models` under `org` from now on: the Hub on a later day."""
        with self._lock:
            self._orgs.setdefault(org.lower(), _OrgState()).models[:] = list(models)
        return self

    def inject(self, org: str, **faults: object) -> FakeHub:
        """Make `org` misbehave, e.g. `inject("Qwen", rate_limited=2, retry_after=3)`."""
        with self._lock:
            self._orgs.setdefault(org.lower(), _OrgState()).faults = OrgFaults(**faults)  # type: ignore[arg-type]
        return self

    def inject_model(self, repo_id: str, **faults: object) -> FakeHub:
        """Make the single-model route of `repo_id` misbehave (the faults of `inject`;
        `fail_page` does not apply)."""
        with self._lock:
            self._model_faults[repo_id] = OrgFaults(**faults)  # type: ignore[arg-type]
        return self

    # -- asserting ---------------------------------------------------------------

    def requests_for(self, org: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if (r.org or "").lower() == org.lower()]

    def listing_requests(self) -> list[RecordedRequest]:
        """Every request to the paged listing, /api/models."""
        with self._lock:
            return [r for r in self.requests if r.path == "/api/models"]

    def agent_harness_requests(self) -> list[RecordedRequest]:
        """Every request for huggingface_hub's agent harness registry (not ours)."""
        with self._lock:
            return [r for r in self.requests if r.path == AGENT_HARNESSES_PATH]

    def model_requests(self) -> list[RecordedRequest]:
        """Every request to a single model's route, /api/models/{repo_id}."""
        with self._lock:
            return [r for r in self.requests if r.repo_id is not None]

    # -- running -----------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake Hub is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeHub:
        handler = type("Handler", (_Handler,), {"hub": self})
        self._server = _QuietServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="fake-hub", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()  # let stalled handlers finish at once
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- answering (called from handler threads) ---------------------------------

    def _answer(
        self, path: str, query: list[tuple[str, str]], headers: Mapping[str, str]
    ) -> _Answer:
        asked = RecordedRequest(path, tuple(query), headers)
        if path == AGENT_HARNESSES_PATH:
            return _Answer(HTTPStatus.OK, json.dumps(AGENT_HARNESSES).encode(), {})
        if asked.repo_id is not None:
            return self._answer_model(asked)
        if path != "/api/models":
            return _Answer.error(HTTPStatus.NOT_FOUND, f"no route {path} on the fake Hub")
        params = RecordedRequest(path, tuple(query), {})
        org = params.org or ""
        with self._lock:
            state = self._orgs.get(org.lower(), _OrgState())
            state.requests += 1
            nth = state.requests
            models = list(state.models)
        faults = state.faults

        if faults.not_found:
            return _Answer.error(HTTPStatus.NOT_FOUND, f"Organization {org} not found")
        if nth <= faults.rate_limited:
            return _Answer.error(
                HTTPStatus.TOO_MANY_REQUESTS,
                "rate limited",
                headers={"Retry-After": str(faults.retry_after)},
            )
        if nth <= faults.rate_limited + faults.server_errors:
            return _Answer.error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")
        refused = [v for v in params.values("expand") if v not in LISTING_EXPAND]
        if refused:
            return _Answer.error(
                HTTPStatus.BAD_REQUEST, f"Invalid expand value(s) for listing models: {refused}"
            )
        if faults.stall and (faults.stalled_requests is None or nth <= faults.stalled_requests):
            self._released.wait(faults.stall)

        offset = _decode_cursor(params.value("cursor"))
        size = self.page_size
        if (limit := params.value("limit")) is not None:
            size = min(size, int(limit))
        page_number = offset // size + 1
        if faults.fail_page is not None and page_number == faults.fail_page:
            return _Answer.error(HTTPStatus.INTERNAL_SERVER_ERROR, f"page {page_number} failed")
        if faults.malformed:
            return _Answer(HTTPStatus.OK, b'[{"id": "truncated', {})

        expand = params.values("expand")
        fields = ("_id", "id", *expand) if expand else ("_id", "id", *DEFAULT_FIELDS)
        page = [{k: m[k] for k in fields if k in m} for m in models[offset : offset + size]]
        headers = {}
        if offset + size < len(models):
            rest = [(k, v) for k, v in query if k != "cursor"]
            next_query = urlencode([*rest, ("cursor", _encode_cursor(offset + size))])
            headers["Link"] = f'<{self.url}/api/models?{next_query}>; rel="next"'
        return _Answer(HTTPStatus.OK, json.dumps(page).encode(), headers)

    def _answer_model(self, asked: RecordedRequest) -> _Answer:
        repo_id = asked.repo_id or ""
        with self._lock:
            record = next(
                (m for state in self._orgs.values() for m in state.models if m["id"] == repo_id),
                None,
            )
            faults = self._model_faults.get(repo_id, OrgFaults())
            nth = self._model_requests[repo_id] = self._model_requests.get(repo_id, 0) + 1
        if faults.not_found or record is None:
            status = HTTPStatus.NOT_FOUND if "authorization" in asked.headers else 401
            return _Answer.error(
                HTTPStatus(status), "Repository not found", headers={"X-Error-Code": "RepoNotFound"}
            )
        if nth <= faults.rate_limited:
            return _Answer.error(
                HTTPStatus.TOO_MANY_REQUESTS,
                "rate limited",
                headers={"Retry-After": str(faults.retry_after)},
            )
        if nth <= faults.rate_limited + faults.server_errors:
            return _Answer.error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")
        expand = asked.values("expand")
        refused = [v for v in expand if v not in MODEL_EXPAND]
        if refused:
            return _Answer.error(HTTPStatus.BAD_REQUEST, f"Invalid expand value(s): {refused}")
        if faults.stall and (faults.stalled_requests is None or nth <= faults.stalled_requests):
            self._released.wait(faults.stall)
        if faults.malformed:
            return _Answer(HTTPStatus.OK, b'{"id": "truncated', {})
        fields = ("_id", "id", *expand) if expand else ("_id", "id", *MODEL_DEFAULT_FIELDS)
        return _Answer(
            HTTPStatus.OK, json.dumps({k: record[k] for k in fields if k in record}).encode(), {}
        )


@dataclass(frozen=True)
class _Answer:
    status: HTTPStatus
    body: bytes
    headers: Mapping[str, str]

    @classmethod
    def error(
        cls, status: HTTPStatus, message: str, headers: Mapping[str, str] | None = None
    ) -> _Answer:
        return cls(status, json.dumps({"error": message}).encode(), headers or {})


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    return int(json.loads(base64.urlsafe_b64decode(cursor.encode()))["offset"])


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that gave up on a stalled answer closes its socket: expected, not news.
        pass


class _Handler(BaseHTTPRequestHandler):
    hub: FakeHub

    def do_GET(self) -> None:
        split = urlsplit(self.path)
        query = parse_qsl(split.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in self.headers.items()}
        with self.hub._lock:
            self.hub.requests.append(RecordedRequest(split.path, tuple(query), headers))
        answer = self.hub._answer(split.path, query, headers)
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(answer.body)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(answer.body)
        except OSError:
            pass  # the client timed out and hung up while we stalled

    def log_message(self, format: str, *args: object) -> None:
        pass
