"""``conformance``: the command line, a thin layer over the pytest plugin.

``run`` certifies routers (the embedded reference router when no URL is
given); ``load`` checks the contract holds under concurrency (Locust); ``serve`` runs the reference router alone as a local mock; ``plan``
shows what a run would send; ``schema``, ``openapi`` and ``profiles`` expose
the specs.

Exit codes of ``run``: 0 every MUST requirement passed; 1 a MUST requirement
failed; 2 usage or spec error; 3 the router could not be assessed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ._errors import EXIT_MUST_FAILED, EXIT_NOT_ASSESSED, EXIT_OK, EXIT_USAGE, HarnessError
from ._resources import builtin_profiles, suites_dir
from .load._cli import add_load_parser, load_command
from .options import add_cli_options, config_from
from .options import pytest_args as pytest_args_for

__all__ = ["main"]

_EXIT_CODES = ("exit codes: 0 every MUST requirement passed; 1 a MUST requirement failed; 2 usage or spec error "
               "(a broken profile, an unknown option, no API key); 3 the router could not be assessed (unreachable, "
               "key rejected, no image endpoint at the base URL, run interrupted)")


class _Defaults(argparse.ArgumentDefaultsHelpFormatter):
    """Help that shows each option's default, except where there is none to show (``None``, a switch)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        return action.help if action.default in (None, False) else super()._get_help_string(action)


def _parser() -> argparse.ArgumentParser:
    from ._version import __version__

    defaults = _Defaults
    parser = argparse.ArgumentParser(prog="conformance", description=__doc__.split("\n\n")[0], epilog=_EXIT_CODES)
    parser.add_argument("--version", action="version", version=f"conformance {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="certify a router and write reports", epilog=_EXIT_CODES)
    run.add_argument("--profile", action="append", dest="profiles", metavar="NAME|PATH",
                     help="profile to certify (repeatable); default: every built-in profile")
    run.add_argument("--report-dir", default="reports", type=Path, help="where reports go (default reports/)")
    run.add_argument("--config", type=Path, metavar="FILE",
                     help="read options from this TOML file (keys: the option names with _, e.g. router_url, "
                          "models, strict); flags given here win; default: ./conformance.toml when there is one")
    loudness = run.add_mutually_exclusive_group()
    loudness.add_argument("--quiet", action="store_true", help="print only each profile's verdict line")
    loudness.add_argument("--verbose", action="store_true", help="list every failed requirement (default: the "
                          "first 15), each with a failing case and its replay line")
    add_cli_options(run)

    serve = sub.add_parser("serve", help="run the reference router alone (a local mock router)", formatter_class=defaults)
    serve.add_argument("--profile", default="worldrouter", metavar="NAME|PATH", help="the profile it serves")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument("--api-key", help="require this bearer key (default: no auth)")
    serve.add_argument("--fault", help="break one rule on purpose (see --list-faults)")
    serve.add_argument("--latency", type=float, default=0.0, metavar="SECONDS", help="delay each answer by this much")
    serve.add_argument("--list-faults", action="store_true", help="list the fault catalogue and exit")
    serve.add_argument("--public-url", metavar="URL",
                       help="the base URL clients reach this router at (behind a gateway: the gateway's, e.g. "
                            "https://gateway.example/v1); image URLs are built from it (default: each request's Host)")

    plan = sub.add_parser("plan", help="list the cases a run would send; sends nothing")
    plan.add_argument("--profile", required=True, metavar="NAME|PATH", help="built-in profile name or YAML path")
    plan.add_argument("--format", choices=("text", "json"), default="text",
                      help="text (default): one line per case ($ = billable); json: every case with its request body")
    plan.add_argument("--show-bodies", action="store_true",
                      help="text: print each case's request body under its line (long strings cut, sizes said)")
    add_cli_options(plan, names=("seed", "examples", "models", "input_image_url", "large_inputs"))

    schema = sub.add_parser("schema", help="print one generated JSON Schema (Draft 2020-12)", formatter_class=defaults)
    schema.add_argument("--profile", required=True, metavar="NAME|PATH", help="built-in profile name or YAML path")
    schema.add_argument("--endpoint", default="generations", help="endpoint name (generations, edits)")
    schema.add_argument("--model", help="model id (default: the profile's first model)")
    schema.add_argument("--kind", choices=("request", "response", "error"), default="request",
                        help="which schema: the request body, the 200 body or the error body")

    openapi = sub.add_parser("openapi", help="print an OpenAPI 3.1 document for a profile (for Schemathesis, Prism, ...)")
    openapi.add_argument("--profile", required=True, metavar="NAME|PATH", help="built-in profile name or YAML path")

    rejudge = sub.add_parser("rejudge", help="judge a recording (run --record) again with today's profile and "
                             "checks; sends nothing, costs nothing", epilog=_EXIT_CODES)
    rejudge.add_argument("recording", type=Path, metavar="DIR|FILE.har",
                         help="a --record folder (each <profile>.har in it) or one .har file")
    rejudge.add_argument("--profile", dest="profile_override", metavar="NAME|PATH",
                         help="judge with this profile (default: the one the recording names)")
    rejudge.add_argument("--report-dir", default="reports-rejudged", type=Path,
                         help="where the new reports go (default reports-rejudged/)")

    add_load_parser(sub)
    sub.add_parser("profiles", help="list the built-in profiles")
    parser.set_defaults(_run_parser=run)
    return parser


def _pytest_exit_to_ours(code: int) -> int:
    if code in (EXIT_OK, EXIT_MUST_FAILED, EXIT_NOT_ASSESSED):
        return code
    return EXIT_USAGE


def _run_one(profile_arg: str, args: argparse.Namespace) -> tuple[int, Path]:
    """Certify one profile through pytest; the exit code and the results.json written."""
    import pytest

    from .spec import load_profile

    from .runner import require_api_key

    profile = load_profile(profile_arg)  # spec errors surface here, before any request
    config = config_from(lambda name: getattr(args, name))
    require_api_key(config)  # so does a missing key: exit 2, naming the variable
    if config.ignore:  # a waiver of a requirement the profile does not have is a typo: say so before sending
        from .checks import catalogue
        from .results import waivers_of

        try:
            waivers_of(config.ignore, catalogue(profile))
        except ValueError as exc:
            print(f"conformance: {exc}", file=sys.stderr)
            return EXIT_USAGE, args.report_dir / profile.name / "results.json"
    if config.cases:  # and an id that is not in this plan
        from ._replay import only_cases
        from .plan import build_plan

        try:
            only_cases(build_plan(profile, seed=config.seed, examples=config.examples, models=config.models,
                                  large_inputs=config.large_inputs), config.cases)
        except ValueError as exc:  # an unknown case id or model id
            print(f"conformance: {exc}", file=sys.stderr)
            return EXIT_USAGE, args.report_dir / profile.name / "results.json"
    out = args.report_dir / profile.name
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").unlink(missing_ok=True)  # a run that writes none must not be summed up by the last one's
    pytest_args = [
        str(suites_dir()), "-p", "no:cacheprovider", "-p", "no:terminal", "--capture=no",
        "--rootdir", str(suites_dir()),
        "--router-profile", profile_arg, "--router-option-style", "cli",
        "--router-results", str(out / "results.json"),
        "--html", str(out / "report.html"), "--self-contained-html",
        "--junitxml", str(out / "junit.xml"),
        "-W", "ignore::harness.pytest_plugin.ConformanceWarning", "-W", "ignore::pytest.PytestAssertRewriteWarning",
        "-W", "ignore::hypothesis.errors.HypothesisSideeffectWarning",  # --case builds the plan before pytest runs
        *pytest_args_for(config),
    ]
    code = _pytest_exit_to_ours(int(pytest.main(pytest_args)))
    _summarize(out / "results.json", out / "report.html", quiet=args.quiet, verbose=args.verbose,
               strict=config.strict, fail_on=config.fail_on)
    return code, out / "results.json"


def _interrupted(results: Path) -> bool:
    """Whether ``results`` (a results.json) records a run cut short (``complete: false``)."""
    try:
        return json.loads(results.read_text(encoding="utf-8")).get("complete") is False
    except (OSError, ValueError):
        return False


def _summarize(results_path: Path, report: Path, *, quiet: bool = False, verbose: bool = False,
               strict: bool = False, fail_on: tuple[str, ...] = ()) -> None:
    from ._console import summary_lines

    try:
        data = json.loads(results_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        print(f"no results written to {results_path}", file=sys.stderr)
        return
    print("\n".join(summary_lines(data, report, quiet=quiet, verbose=verbose, strict=strict, fail_on=fail_on)))


def _cmd_run(args: argparse.Namespace) -> int:
    profiles = args.profiles or list(builtin_profiles())
    if args.fault and args.router_url:
        print("conformance: --fault breaks the embedded reference router; it cannot be used with --router-url",
              file=sys.stderr)
        return EXIT_USAGE
    codes, ran = [], []
    for profile in profiles:
        code, results = _run_one(profile, args)
        codes.append(code)
        if code != EXIT_USAGE:  # a usage error ran nothing: what its folder holds is an earlier run's
            ran.append(results.parent.name)
        if _interrupted(results):
            print("conformance: interrupted; the profiles after this one were not run", file=sys.stderr)
            break
    from .report import write_index

    listed = [p.parent.name for p in sorted(args.report_dir.glob("*/results.json"))]
    if listed:  # a usage error before any run leaves no folder to index
        print(f"index: {write_index(args.report_dir, listed, current=ran)}")
    # usage errors outrank everything, then "not assessed", then MUST failures
    for code in (EXIT_USAGE, EXIT_NOT_ASSESSED, EXIT_MUST_FAILED):
        if code in codes:
            return code
    return EXIT_OK


def _cmd_rejudge(args: argparse.Namespace) -> int:
    from ._rejudge import rejudge

    return rejudge(args, run_one=_run_one)


def _cmd_serve(args: argparse.Namespace) -> int:
    from .reference import FAULTS, get_fault, serve_forever

    if args.list_faults:
        width = max(len(name) for name in FAULTS)
        for fault in FAULTS.values():
            breaks = f"breaks {fault.breaks}" if fault.breaks else "breaks nothing (the harness copes)"
            print(f"{fault.name:<{width}}  {breaks}: {fault.description}")
        return EXIT_OK
    from .spec import load_profile

    profile = load_profile(args.profile)
    serve_forever(profile, api_key=args.api_key, fault=get_fault(args.fault), latency_s=args.latency,
                  host=args.host, port=args.port, public_url=args.public_url)
    return EXIT_OK


def _cmd_plan(args: argparse.Namespace) -> int:
    from .plan import build_plan
    from .spec import load_profile

    try:
        plan = build_plan(load_profile(args.profile), seed=args.seed, examples=args.examples, models=args.models,
                          input_image_url=args.input_image_url, large_inputs=args.large_inputs)
    except ValueError as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    sent = [c for c in plan if not c.skip]
    totals: dict[str, Any] = {"cases": len(plan), "billable_requests": sum(c.billable for c in plan),
                              "images": sum(c.images for c in plan),
                              "upload_bytes": sum(c.upload_bytes for c in sent)}
    if args.format == "json":
        from .evidence import truncate_payloads

        # long strings (4 MB input-image data URIs, 32000-character prompts) are cut, saying how long they were
        print(json.dumps({"cases": [truncate_payloads(c.to_json(), items=None, names=None) for c in plan], "totals": totals}, indent=2))
        return EXIT_OK
    print("$ = billable (generates images on a conformant router); uploads of 100 kB or more are shown")
    for case in plan:
        skip = f"  (skipped: {case.skip})" if case.skip else ""
        upload = f"  [upload {case.upload_bytes / 1e6:.1f} MB]" if case.upload_bytes >= 100_000 and not case.skip else ""
        print(f"{'$' if case.billable else ' '} {case.kind:<7} {case.id}{upload}{skip}")
        if args.show_bodies:
            from .evidence import truncate_payloads

            print(f"      {json.dumps(truncate_payloads(case.body, keep=80), ensure_ascii=False)}")
    by_model: dict[str, list[int]] = {}
    for case in plan:
        row = by_model.setdefault(case.model, [0, 0, 0])
        row[0] += 1
        row[1] += case.billable
        row[2] += case.images
    for model, (cases, billable, images) in by_model.items():
        print(f"{model}: {cases} cases, {billable} billable requests, {images} images")
    print(f"total: {totals['cases']} cases, {totals['billable_requests']} billable requests, {totals['images']} images, "
          f"{totals['upload_bytes'] / 1e6:.1f} MB of input images uploaded")
    return EXIT_OK


def _cmd_schema(args: argparse.Namespace) -> int:
    from .derive.schema import error_schema, request_schema, response_schema
    from .spec import load_profile

    profile = load_profile(args.profile)
    name = args.model or next(iter(profile.models))
    if name not in profile.models:
        print(f"conformance: profile {profile.name!r} has no model {name!r}; models: {', '.join(profile.models)}",
              file=sys.stderr)
        return EXIT_USAGE
    model = profile.models[name]
    op = model.endpoints.get(args.endpoint)
    if args.kind == "request":
        if op is None:
            print(f"conformance: model {name!r} does not serve endpoint {args.endpoint!r}", file=sys.stderr)
            return EXIT_USAGE
        schema = request_schema(profile, op)
    else:
        schema = response_schema(profile, model) if args.kind == "response" else error_schema(profile)
    print(json.dumps(schema, indent=2))
    return EXIT_OK


def _cmd_openapi(args: argparse.Namespace) -> int:
    from .derive.openapi import openapi_document
    from .spec import load_profile

    print(json.dumps(openapi_document(load_profile(args.profile)), indent=2))
    return EXIT_OK


def _cmd_profiles(args: argparse.Namespace) -> int:
    from .spec import load_profile

    for name in builtin_profiles():
        profile = load_profile(name)
        print(f"{name:<14} {profile.title} ({profile.source}); models: {', '.join(profile.models)}")
    return EXIT_OK


def _config_file(argv: list[str] | None) -> Path | None:
    """The ``--config FILE`` of a ``run`` command line, read before the rest so its values become defaults."""
    words = sys.argv[1:] if argv is None else argv
    if not words or words[0] != "run":
        return None
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config", type=Path)
    known, _ = pre.parse_known_args(words[1:])
    if known.config is None and Path("conformance.toml").is_file():
        return Path("conformance.toml")  # the folder's own gate settings
    return known.config


_COMMANDS = {"run": _cmd_run, "rejudge": _cmd_rejudge, "serve": _cmd_serve, "plan": _cmd_plan, "schema": _cmd_schema, "openapi": _cmd_openapi,
             "profiles": _cmd_profiles, "load": load_command}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``conformance`` console script; returns the exit code."""
    parser = _parser()
    try:
        config_file = _config_file(argv)
    except HarnessError as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if config_file is not None:
        from ._config_file import load_config_file

        try:
            parser.get_default("_run_parser").set_defaults(**load_config_file(config_file))
        except HarnessError as exc:
            print(f"conformance: {exc}", file=sys.stderr)
            return EXIT_USAGE
    args = parser.parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except BrokenPipeError:  # the reader stopped early (| head): not an error of ours; no traceback
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's recipe: no second error at exit
        return EXIT_OK
    except HarnessError as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyError as exc:  # unknown fault name
        print(f"conformance: {exc.args[0]}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
