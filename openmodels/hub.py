"""The Hugging Face Hub client: one paged model listing per organisation, and one
model's derivative count.

This is the only module that imports `huggingface_hub`. It turns the Hub's answers
into plain `HubModel` values and every failure into one readable `HubError`.
Retries of 429, 5xx and timeouts are huggingface_hub's own (exponential back-off,
Retry-After honoured); this module only bounds how long one request may stall, and
makes what huggingface_hub logs of them readable (`_quiet_library_logs`): each retry
once, in one line naming the organisation or model asked for.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any

import httpx2
from huggingface_hub import HfApi, ModelInfo, set_client_factory
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError
from huggingface_hub.utils import build_hf_headers, hf_raise_for_status, http_backoff
from huggingface_hub.utils._http import hf_request_event_hook

from openmodels.errors import HubError

if TYPE_CHECKING:
    from openmodels.config import Config

log = logging.getLogger(__name__)

# `expand` replaces the Hub's default fields, so every field we read is named here.
# `childrenModelCount` (derivatives) is not among them: the Hub accepts it only on a
# single model's route, /api/models/{repo_id}, and refuses the whole listing over it
# (huggingface_hub PR #3182 removed it, with `baseModels` and `usedStorage`, from the
# values `list_models` documents). Asking for it would fail every collection, and
# fetching it model by model would multiply the requests a collection makes; so a
# collection leaves derivative counts unknown (None); `HubClient.derivatives` asks the
# single-model route afterwards, for the few models worth it (openmodels.derivative_counts).
#
# `safetensors` (the parameters in the repository's weights, per dtype and in total) is
# accepted by the listing (huggingface_hub documents it among `list_models`' expand values
# and its ModelInfo reads it as SafeTensorsInfo(parameters, total)), so model sizes come
# in the same pages: a collection makes as many requests as without them.
EXPAND_FIELDS = [
    "downloads",
    "downloadsAllTime",
    "likes",
    "createdAt",
    "pipeline_tag",
    "tags",
    "safetensors",
]
DERIVATIVES_FIELD = "childrenModelCount"
# Retries of one model's lookup after its first try (429, 5xx, timeouts). Fewer than the
# listing's five: a count missing for a day is no loss, a stalled collection step is.
DERIVATIVE_RETRIES = 2
_MAX_MESSAGE = 300


@dataclass(frozen=True)
class HubModel:
    """One model as the Hub lists it."""

    repo_id: str
    downloads_30d: int
    downloads_all_time: int
    likes: int
    created_at: str | None
    pipeline_tag: str | None
    tags: tuple[str, ...]
    derivatives: int | None = None  # childrenModelCount, when the Hub gave one
    # The Hub's `safetensors` count: total parameters and the parameters per dtype
    # ({"BF16": 7615616512}); None and () for a repository without safetensors weights.
    parameters: int | None = None
    parameters_by_dtype: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class DerivativeLookup:
    """One model's derivative count, as the single-model route gave it."""

    repo_id: str
    count: int | None  # None: unknown (not reported, not found, or the lookup failed)
    requests: int  # HTTP requests it took, retries included
    problem: str | None = None  # why the count is unknown, in one line
    failed: bool = False  # the Hub or the network failed (rather than answering without one)


class HubClient:
    """Lists the models of Hub organisations, one paged request sequence per organisation."""

    def __init__(self, endpoint: str, token: str | None = None, timeout: float = 30.0) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout
        # token=False stops huggingface_hub from picking up a token saved on this machine:
        # the token comes from our Config or not at all.
        self._api = HfApi(endpoint=self.endpoint, token=token or False)
        self._token = token
        _bound_request_timeouts(timeout)
        _quiet_library_logs()
        # Building headers makes huggingface_hub fetch its registry of AI agents from the
        # Hub (once a process, cached on disk a day: huggingface_hub PR #4325). Done here,
        # once, rather than by each listing thread at once, which all fetched it.
        build_hf_headers(token=token or False)

    @classmethod
    def from_config(cls, config: Config) -> HubClient:
        """The client `config` names: its endpoint, token and timeout."""
        return cls(config.hf_endpoint, token=config.hf_token, timeout=config.hub_timeout)

    def __repr__(self) -> str:  # never show the token
        return f"HubClient(endpoint={self.endpoint!r}, timeout={self.timeout!r})"

    def list_org(self, org: str, on_page: Callable[[int], None] | None = None) -> list[HubModel]:
        """Every model of `org`, from one paged listing (no per-model calls).

        `on_page` is called after each page with the number of models of `org` seen so
        far. An organisation the Hub does not know (404, or an empty listing, as for a
        renamed organisation) lists no models. Anything else that goes wrong, after
        huggingface_hub's own retries, raises `HubError(org, one-line reason)`.
        """
        models: list[HubModel] = []
        requests_made = [0]
        marker = _requests_made.set(requests_made)
        asking = _asking.set(f"listing for '{org}'")
        listing: Iterator[ModelInfo] = iter(
            self._api.list_models(author=org, expand=EXPAND_FIELDS)  # type: ignore[arg-type]
        )
        try:
            requests_seen = 0
            while True:
                try:
                    info = next(listing)
                    model = _hub_model(info)
                except StopIteration:
                    break
                except HfHubHTTPError as exc:
                    if exc.response.status_code == 404 and not models:
                        log.warning("Hub has no organisation '%s' (404): no models listed", org)
                        return []
                    raise HubError(org, self._describe(exc)) from exc
                except Exception as exc:
                    raise HubError(org, self._describe(exc)) from exc
                # A new request since the last model means the previous page is complete.
                if on_page is not None and models and requests_made[0] != requests_seen:
                    on_page(len(models))
                requests_seen = requests_made[0]
                models.append(model)
        finally:
            _requests_made.reset(marker)
            _asking.reset(asking)
            close = getattr(listing, "close", None)
            if close is not None:
                close()
        if on_page is not None:
            on_page(len(models))
        return models

    def derivatives(self, repo_id: str) -> DerivativeLookup:
        """How many models on the Hub name `repo_id` as their base: its
        `childrenModelCount`, from `/api/models/{repo_id}?expand[]=childrenModelCount`
        (the only route that serves it).

        Never raises for what the Hub or the network does: a model that is gone, an
        answer without the count, or a failure after the retries leave the count unknown
        with the reason in `problem`.
        """
        # Built before counting: huggingface_hub may fetch its own registry of AI agents
        # from the Hub while making headers (once a day), a request that is not ours.
        headers = build_hf_headers(token=self._token or False)
        counter = [0]
        marker = _requests_made.set(counter)
        asking = _asking.set(f"lookup of {repo_id}")
        count: int | None = None
        problem: str | None = None
        failed = False
        try:
            response = http_backoff(
                "GET",
                f"{self.endpoint}/api/models/{repo_id}",
                params={"expand": [DERIVATIVES_FIELD]},
                headers=headers,
                timeout=self.timeout,
                max_retries=DERIVATIVE_RETRIES,
            )
            hf_raise_for_status(response)
            body = response.json()
            count = derivative_count(
                body.get(DERIVATIVES_FIELD) if isinstance(body, dict) else None
            )
            if count is None:
                problem = f"the answer held no {DERIVATIVES_FIELD}"
        except RepositoryNotFoundError:
            problem = "not on the Hub (removed, renamed or private)"
        except Exception as exc:
            problem, failed = self._describe(exc), True
        finally:
            _requests_made.reset(marker)
            _asking.reset(asking)
        return DerivativeLookup(repo_id, count, counter[0], problem, failed)

    def _describe(self, exc: BaseException) -> str:
        """A one-line reason for a failed listing, never containing the token."""
        if isinstance(exc, HfHubHTTPError):
            response = exc.response
            # The expand list is ours and the same on every request: leave it out.
            url = response.request.url.copy_remove_param("expand")
            message = f"HTTP {response.status_code} from {url}"
        elif isinstance(exc, httpx2.TimeoutException):
            message = f"timed out after {self.timeout:g}s"
        elif isinstance(exc, json.JSONDecodeError):
            message = "malformed JSON"
        elif isinstance(exc, httpx2.TransportError):
            message = f"cannot reach {self.endpoint} ({type(exc).__name__}: {exc})"
        elif isinstance(exc, (KeyError, TypeError, ValueError, AttributeError)):
            message = f"unexpected listing format ({type(exc).__name__}: {exc})"
        else:
            message = f"{type(exc).__name__}: {exc}"
        message = " ".join(message.split())
        if self._token:
            message = message.replace(self._token, "***")
        return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"


def _hub_model(info: ModelInfo) -> HubModel:
    created = info.created_at
    return HubModel(
        repo_id=info.id,
        downloads_30d=int(info.downloads or 0),
        downloads_all_time=int(info.downloads_all_time or 0),
        likes=int(info.likes or 0),
        created_at=(
            created.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            if created
            else None
        ),
        pipeline_tag=info.pipeline_tag,
        tags=tuple(info.tags or ()),
        derivatives=derivative_count(getattr(info, "children_model_count", None)),
        **_parameters(info.safetensors),
    )


def _parameters(safetensors: object) -> dict[str, Any]:
    """HubModel's parameter fields from huggingface_hub's SafeTensorsInfo (a dict too):
    counts that are not whole numbers are treated as not reported."""
    if not isinstance(safetensors, dict):
        return {}
    total = safetensors.get("total")
    by_dtype = safetensors.get("parameters")
    if not _count(total) or not isinstance(by_dtype, dict):
        return {}
    if not all(isinstance(d, str) and _count(n) for d, n in by_dtype.items()):
        return {}
    return {"parameters": total, "parameters_by_dtype": tuple(sorted(by_dtype.items()))}


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def derivative_count(value: object) -> int | None:
    """The total of a `childrenModelCount` as the Hub sends it, or None if it sent none.

    The Hub sends a count per kind of derivative, e.g. {"adapter": 716, "finetune": 328,
    "merge": 19, "quantized": 190} (huggingface_hub types it as an int, so a bare
    number is accepted too). Anything else is treated as not reported.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, dict):
        counts = list(value.values())
        if all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in counts):
            return sum(counts)
    return None


# The requests made by the listing or lookup running in this thread; lets `list_org` tell
# pages apart although huggingface_hub yields models, not pages, and counts a lookup's
# retries.
_requests_made: ContextVar[list[int] | None] = ContextVar("_requests_made", default=None)


def _count_request(request: httpx2.Request) -> None:
    counter = _requests_made.get()
    if counter is not None:
        counter[0] += 1


# What the Hub is being asked in this thread ("listing for 'Qwen'"), for the retry lines.
_asking: ContextVar[str | None] = ContextVar("_asking", default=None)


class _RetryLines(logging.Filter):
    """huggingface_hub says each retry in two warnings, "HTTP Error 500 thrown while
    requesting GET <url>" then "Retrying in 1s [Retry 1/5]."; this says it in one, naming
    what was asked: "Hub listing for 'Qwen': HTTP 500 from GET <url>; retry 1 of 5 in 1s".
    The cause of a last attempt, followed by no retry, is left out: the `HubError` that
    follows says it. Both warnings come from the thread making the request, in order."""

    _cause = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if " thrown while requesting " in message:
            self._cause.text = _short_cause(message)
            return False
        retry = _RETRY.match(message)
        if retry is None:
            return True
        cause = getattr(self._cause, "text", None)
        self._cause.text = None
        what = _asking.get()
        wait, number, most = retry.group("wait", "number", "most")
        limited = "rate limited; " if message.startswith("Rate limited") else ""
        record.msg = (
            f"Hub {what or 'request'}: {cause or 'failed'}; "
            f"{limited}retry {number} of {most} in {float(wait):g}s"
        )
        record.args = ()
        return True


_RETRY = re.compile(
    r"(?:Retrying in|Rate limited\. Waiting) (?P<wait>[\d.]+)s(?: before retry)? "
    r"\[Retry (?P<number>\d+)/(?P<most>\d+)\]"
)
_CAUSE = re.compile(r"HTTP Error (?P<status>\d+) thrown while requesting (?P<request>.+)")


def _short_cause(message: str) -> str:
    """'HTTP 500 from GET <url>' from huggingface_hub's 'HTTP Error 500 thrown while
    requesting GET <url>'; an exception's own text otherwise."""
    found = _CAUSE.match(message)
    if found is not None:
        return f"HTTP {found.group('status')} from {found.group('request')}"
    return message.split(" thrown while requesting ", 1)[0].strip("'")


_quieted = False


def _quiet_library_logs() -> None:
    """Make huggingface_hub's log lines reach our handlers once each, retries in one line.

    huggingface_hub puts a handler of its own on its library logger, which also passes
    every record on to the root logger: with the root's handler (`logging.basicConfig`,
    or `serve`'s) each warning was printed twice, its own way then ours. Its handler goes.
    httpx2 logs every request at INFO ("HTTP Request: GET …"), so a retried request
    showed twice more: it is kept to warnings unless debug logging is on. Idempotent.
    """
    global _quieted
    with _factory_lock:
        if _quieted:
            return
        library = logging.getLogger("huggingface_hub")
        for handler in list(library.handlers):
            if type(handler) is logging.StreamHandler:
                library.removeHandler(handler)
        logging.getLogger("huggingface_hub.utils._http").addFilter(_RetryLines())
        if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
            logging.getLogger("httpx2").setLevel(logging.WARNING)
        _quieted = True


_factory_lock = threading.Lock()
_installed_timeout: float | None = None


def _bound_request_timeouts(timeout: float) -> None:
    """Make every request huggingface_hub sends give up after `timeout` seconds of silence.

    huggingface_hub's default httpx2 client has timeout=None, so a stalled socket hangs a
    collection forever. Its pager also passes `timeout=None` explicitly on each request,
    which overrides a client-level timeout; so besides building the client with a timeout
    we fill in any unset per-request timeout in a request hook. The client is shared by
    the whole process, so the last timeout installed wins. Installing again with the
    same timeout does nothing (set_client_factory closes the shared client, which would
    break requests in flight).
    """
    global _installed_timeout
    with _factory_lock:
        if _installed_timeout == timeout:
            return
        bound = httpx2.Timeout(timeout)

        def fill_timeouts(request: httpx2.Request) -> None:
            current = request.extensions.get("timeout") or {}
            filled = {
                phase: current.get(phase) if current.get(phase) is not None else limit
                for phase, limit in bound.as_dict().items()
            }
            request.extensions = {**request.extensions, "timeout": filled}

        def client_factory() -> httpx2.Client:
            # As huggingface_hub's default_client_factory, plus the timeout and our hooks.
            return httpx2.Client(
                event_hooks={"request": [hf_request_event_hook, fill_timeouts, _count_request]},
                follow_redirects=True,
                timeout=bound,
            )

        set_client_factory(client_factory)
        _installed_timeout = timeout
