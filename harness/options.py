"""The run options, declared once for ``certify()``, the command line and the pytest plugin.

``RunConfig`` holds every option with its default and unit; ``OPTIONS`` says
how each is spelled on the command line (``--max-generations``) and as a
pytest option (``--router-max-generations``). ``conformance run`` and the
plugin both build their flags from this table, so the two cannot drift and a
default is written in exactly one place: the ``RunConfig`` field.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["OPTIONS", "Option", "RunConfig", "add_cli_options", "config_from", "flag", "pytest_args"]


@dataclass(frozen=True)
class RunConfig:
    """How one run certifies one profile.

    ``router_url``: the router's base URL as the OpenAI SDK takes it
    (``https://router.example/v1``); ``None`` starts the embedded reference
    router on 127.0.0.1. ``api_key_env``: the environment variable holding
    the API key (keys never travel as arguments). ``seed``: seed of the
    Hypothesis draws (same seed, same requests). ``examples``: Hypothesis draws
    per rule and per model. ``max_generations``: at most this many billable
    (image-generating) requests; ``None`` for no cap. ``fault``: break the
    embedded reference router with this fault. ``models``: only these model
    ids (empty: all). ``headers``: extra ``"Name: value"`` request headers.
    ``timeout``: seconds one request (connect, headers, body; each image
    download) may take in total. ``deadline``: seconds the whole run may
    send requests; cases not sent by then are recorded as not sent and the
    run is not assessed (exit 3). ``workers``:
    requests in flight at once. ``latency``: seconds the embedded reference
    router waits before each answer. ``input_image_url``: a PNG the router can
    fetch, for image-URL input cases. ``allow_private_image_urls``: fetch
    image URLs on loopback or private addresses other than the router's own
    host (refused by default: a router could aim the harness at its network).
    ``large_inputs``: also send the input-image uploads over 8 MiB (a file
    under a 50 MB-class limit, ``max_items`` files of several MB); without
    it they are planned as skipped, their size in the reason. ``cases``:
    send only the cases with these ids (a replay; the plan is the one
    ``seed``, ``examples`` and ``models`` give, so bodies are the same).
    The gate (what makes the exit code 1): a failed MUST requirement; with
    ``strict`` a failed SHOULD too; a failed requirement whose id is in
    ``fail_on``; never one waived by ``ignore`` (``"ID: reason"`` entries: its
    status stays what was measured, results.json and the report say waived).
    ``record``: a folder to write the run's exchanges to, as HAR 1.2
    (``<profile>.har``). ``replay``: a recording to judge instead of sending
    anything (what ``conformance rejudge`` runs).
    """

    router_url: str | None = None
    api_key_env: str = "ROUTER_API_KEY"
    seed: int = 0
    examples: int = 2
    max_generations: int | None = None
    fault: str | None = None
    models: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    timeout: float = 180.0
    deadline: float = 3600.0
    workers: int = 1
    latency: float = 0.0
    input_image_url: str | None = None
    allow_private_image_urls: bool = False
    large_inputs: bool = False
    cases: tuple[str, ...] = ()
    strict: bool = False
    fail_on: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    record: str | None = None
    replay: str | None = None


@dataclass(frozen=True)
class Option:
    """How a :class:`RunConfig` field is spelled as a flag.

    ``flag`` is the ``conformance run`` spelling; the pytest spelling adds the
    ``--router-`` prefix of the plugin's option group (``--router-url`` stays
    as it is). ``parse`` turns the flag's text into the field's value.
    """

    name: str
    flag: str
    help: str
    metavar: str | None = None
    parse: Callable[[str], Any] = str
    repeatable: bool = False
    flag_only: bool = False  # a switch: present means True

    @property
    def pytest_flag(self) -> str:
        return "--router-" + self.flag.removeprefix("--").removeprefix("router-")

    @property
    def default(self) -> Any:
        return _DEFAULTS[self.name]


def _waiver(text: str) -> str:
    rid, _, reason = text.partition(":")
    if not rid.strip() or not reason.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: a waiver is 'REQUIREMENT_ID: the reason it is waived'")
    return f"{rid.strip()}: {reason.strip()}"


def _models(text: str) -> tuple[str, ...]:
    return tuple(m for m in text.split(",") if m)


_DEFAULTS = {f.name: f.default for f in dataclasses.fields(RunConfig)}

OPTIONS: tuple[Option, ...] = (
    Option("router_url", "--router-url", "router base URL as the OpenAI SDK takes it (e.g. https://router.example/v1); "
           "default: the embedded reference router on 127.0.0.1", metavar="URL"),
    Option("api_key_env", "--api-key-env", "environment variable holding the API key (default %(default)s)",
           metavar="VAR"),
    Option("seed", "--seed", "seed of the Hypothesis draws: same seed, same requests (default %(default)s)",
           metavar="N", parse=int),
    Option("examples", "--examples", "Hypothesis draws per rule and per model (default %(default)s)",
           metavar="N", parse=int),
    Option("max_generations", "--max-generations", "send at most N billable (image-generating) requests; "
           "later ones are skipped", metavar="N", parse=int),
    Option("fault", "--fault", "break the embedded reference router with this fault (conformance serve --list-faults)",
           metavar="NAME"),
    Option("models", "--models", "only these models (comma-separated ids)", metavar="M,...", parse=_models),
    Option("headers", "--header", "an extra header for every request, e.g. a gateway route "
           "(repeatable; never the key)", metavar="'Name: value'", repeatable=True),
    Option("timeout", "--timeout", "seconds one request may take in total, connect to last byte, before its case "
           "fails (default %(default)s)", metavar="SECONDS", parse=float),
    Option("deadline", "--deadline", "seconds the whole run may spend sending; later cases are not sent and the "
           "run is not assessed, exit 3 (default %(default)s)", metavar="SECONDS", parse=float),
    Option("workers", "--workers", "send up to N requests at once; the verdict is the same (default %(default)s)",
           metavar="N", parse=int),
    Option("latency", "--latency", "slow the embedded reference router by this many seconds per request (benchmarks)",
           metavar="SECONDS", parse=float),
    Option("input_image_url", "--input-image-url", "a PNG the router can fetch, for image-URL input cases (default "
           "with the embedded router: one it serves; with --router-url and none given, those cases are skipped)",
           metavar="URL"),
    Option("allow_private_image_urls", "--allow-private-image-urls", "fetch data[].url images on loopback or "
           "private addresses other than the router's host (refused by default)", flag_only=True),
    Option("large_inputs", "--large-inputs", "also send input-image uploads over 8 MiB (a 50 MB-class file, "
           "max_items files of several MB; conformance plan shows their size)", flag_only=True),
    Option("strict", "--strict", "a failed SHOULD requirement fails the run too (exit 1), for gates that hold "
           "SHOULD", flag_only=True),
    Option("fail_on", "--fail-on", "these requirements fail the run (exit 1) when they fail, whatever their level "
           "(comma-separated ids)", metavar="ID,...", parse=_models),
    Option("ignore", "--ignore", "waive a requirement: its failure does not fail the run; the report and "
           "results.json show it waived with the reason (repeatable)", metavar="'ID: reason'", repeatable=True,
           parse=_waiver),
    Option("record", "--record", "write every exchange (redacted) to DIR/<profile>.har, HAR 1.2, so conformance "
           "rejudge can judge it again later without sending anything", metavar="DIR"),
    Option("replay", "--replay", "judge the exchanges of this recording instead of sending requests (what "
           "conformance rejudge runs; the plan options must be the recording's)", metavar="FILE.har"),
    Option("cases", "--case", "send only this case, by its id as reports show it (repeatable; a replay: give "
           "the run's --seed, --examples and --models too)", metavar="ID", repeatable=True),
)

_BY_NAME = {option.name: option for option in OPTIONS}


def flag(name: str, *, style: str = "cli") -> str:
    """How option ``name`` is spelled for a user of ``style`` (``cli``, ``pytest`` or ``python``)."""
    option = _BY_NAME[name]
    return {"cli": option.flag, "pytest": option.pytest_flag, "python": f"{name}="}[style]


def add_cli_options(parser: argparse.ArgumentParser | Any, *, names: Iterable[str] | None = None,
                    pytest_style: bool = False) -> None:
    """Add the options ``names`` (default: all) to an argparse parser or a pytest option group.

    Values are parsed as the :class:`RunConfig` field expects, and the
    defaults are the field defaults.
    """
    add = parser.addoption if pytest_style else parser.add_argument
    for option in OPTIONS if names is None else [_BY_NAME[n] for n in names]:
        spelled = option.pytest_flag if pytest_style else option.flag
        text = option.help.replace("%(default)s", str(option.default))
        dest = f"router_{option.name}" if pytest_style else option.name
        if option.flag_only:
            add(spelled, dest=dest, action="store_true", default=option.default, help=text)
        elif option.repeatable:
            add(spelled, dest=dest, action="append", default=[], type=option.parse, metavar=option.metavar, help=text)
        else:
            add(spelled, dest=dest, type=option.parse, default=option.default, metavar=option.metavar, help=text)


def config_from(values: Callable[[str], Any], *, pytest_style: bool = False) -> RunConfig:
    """A :class:`RunConfig` from parsed flags; ``values(dest)`` reads one (``getattr`` or ``getoption``)."""
    read = {o.name: values(f"router_{o.name}" if pytest_style else o.name) for o in OPTIONS}
    read["headers"] = tuple(read["headers"] or ())
    read["models"] = tuple(read["models"] or ())
    read["cases"] = tuple(read["cases"] or ())
    read["ignore"] = tuple(read["ignore"] or ())
    read["fail_on"] = tuple(read["fail_on"] or ())
    return RunConfig(**read)


def pytest_args(config: RunConfig) -> list[str]:
    """The plugin's flags that give ``config`` (only those that differ from the defaults)."""
    args: list[str] = []
    for option in OPTIONS:
        value = getattr(config, option.name)
        if value == option.default:
            continue
        if option.flag_only:
            args.append(option.pytest_flag)
        elif option.repeatable:
            for item in value:
                args += [option.pytest_flag, str(item)]
        elif isinstance(value, tuple):
            args += [option.pytest_flag, ",".join(value)]
        else:
            args += [option.pytest_flag, str(value)]
    return args
