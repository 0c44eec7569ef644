"""Loading profiles: typed model, sources, and file:line errors for broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import ProfileNotFound, SpecError, load_profile
from harness._resources import specs_dir
from harness.derive.schema import request_violations

BASE = (specs_dir() / "profiles" / "worldrouter.yaml").read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str, name: str = "broken.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_worldrouter_rules_cite_the_seed(worldrouter):
    rules = {rule.requirement.id: rule for _op, rule in worldrouter.rules()}
    rule = rules["gen.gpt-image-2.size.multiple-of-16"]
    assert rule.value == 16 and rule.requirement.level == "MUST"
    assert rule.requirement.source.file == "000_ff80a2310c358538.txt"
    assert rule.requirement.source.quote == "Both edges must be multiples of 16px."
    assert rules["gen.gpt-image-2.size.max-pixels"].value == 8_294_400
    assert all(r.requirement.source.quote for r in rules.values())


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    lines = BASE.splitlines()
    broken = lines.index("errors:")
    lines[broken] = lines[broken] + " : : ["
    path = _write(tmp_path, "\n".join(lines))
    with pytest.raises(SpecError) as info:
        load_profile(path)
    (file, line, _key, message), = info.value.problems
    assert file.endswith("broken.yaml") and "YAML syntax error" in message
    assert broken + 1 <= line <= broken + 3


def test_unknown_rule_names_file_line_and_key(tmp_path):
    text = BASE.replace("          max_edge:\n", "          max_edges:\n")
    path = _write(tmp_path, text)
    expected_line = text.splitlines().index("          max_edges:") + 1
    with pytest.raises(SpecError) as info:
        load_profile(path)
    assert f"broken.yaml:{expected_line}: models.gpt-image-2.params.size.dimensions: unknown rule 'max_edges'" in str(info.value)


def test_duplicate_key_is_an_error(tmp_path):
    text = BASE.replace("        cheapest: low\n", "        cheapest: low\n        cheapest: high\n")
    with pytest.raises(SpecError, match="duplicate key 'cheapest'"):
        load_profile(_write(tmp_path, text))


def test_a_rule_without_any_source_is_an_error(tmp_path):
    child = _write(tmp_path, (
        "spec_version: 1\nname: nosource\nextends: worldrouter\n"
        "models:\n  gpt-image-2:\n    params:\n      style:\n        type: string\n        enum: [vivid, natural]\n"
    ), "nosource.yaml")
    with pytest.raises(SpecError, match=r"nosource.yaml:9: models\.gpt-image-2\.params\.style\.enum: missing source"):
        load_profile(child)


def test_a_rule_falls_back_to_its_parameter_source(tmp_path, worldrouter):
    text = BASE.replace('            source: "Both edges must be multiples of 16px."\n', "")
    rule = load_profile(_write(tmp_path, text)).model_endpoint("generations", "gpt-image-2").params["size"].rules["multiple_of"]
    assert rule.requirement.source.quote.startswith("size | no | Output dimensions.")


def test_extends_overrides_one_rule(tmp_path, worldrouter):
    child = _write(tmp_path, (
        "spec_version: 1\nname: strict\nextends: worldrouter\nsource: vendor-doc.txt\n"
        "models:\n  gpt-image-2:\n    params:\n      size:\n        dimensions:\n"
        "          max_edge: {value: 2048, source: 'Edges up to 2048px.'}\n"
    ), "strict.yaml")
    profile = load_profile(child)
    rule = profile.model_endpoint("generations", "gpt-image-2").params["size"].rules["max_edge"]
    assert rule.value == 2048 and rule.requirement.source.file == "vendor-doc.txt"
    assert request_violations(profile, "generations", {"model": "gpt-image-2", "prompt": "p", "size": "2304x1296"})
    assert not request_violations(worldrouter, "generations", {"model": "gpt-image-2", "prompt": "p", "size": "2304x1296"})
    assert profile.sha256 != worldrouter.sha256


def test_unknown_profile_lists_builtins():
    with pytest.raises(ProfileNotFound, match="worldrouter"):
        load_profile("no-such-router")


def test_a_condition_on_an_unknown_parameter_names_file_and_line(tmp_path):
    child = _write(tmp_path, (
        "spec_version: 1\nname: cond\nextends: worldrouter\n"
        "models:\n  gpt-image-2:\n    conditions:\n      - id: bg.needs-png\n"
        "        if: {background: [transparent]}\n        then: {output_format: [png]}\n        source: 'x'\n"
    ), "cond.yaml")
    with pytest.raises(SpecError, match=r"cond.yaml:8: models\.gpt-image-2\.conditions\.0\.if\.background: no parameter 'background'"):
        load_profile(child)


def test_model_extends_an_unknown_model_is_an_error(tmp_path):
    child = _write(tmp_path, (
        "spec_version: 1\nname: ext\nextends: worldrouter\n"
        "models:\n  gpt-image-3:\n    extends: gpt-image-9\n"
    ), "ext.yaml")
    with pytest.raises(SpecError, match=r"ext.yaml:6: models\.gpt-image-3\.extends: no model 'gpt-image-9'"):
        load_profile(child)


def test_null_deletes_an_inherited_rule(tmp_path, worldrouter):
    child = _write(tmp_path, (
        "spec_version: 1\nname: lax\nextends: worldrouter\n"
        "models:\n  gpt-image-2:\n    params:\n      size:\n        dimensions:\n          multiple_of: null\n"
    ), "lax.yaml")
    op = load_profile(child).model_endpoint("generations", "gpt-image-2")
    assert "multiple_of" not in op.params["size"].rules and "max_edge" in op.params["size"].rules
    assert request_violations(load_profile(child), "generations", {"model": "gpt-image-2", "prompt": "p", "size": "1000x1000"}) == {}


def test_the_openai_gpt_image_models_document_a_stream_per_endpoint():
    profile = load_profile("openai")
    gen = profile.model_endpoint("generations", "gpt-image-2").stream
    edit = profile.model_endpoint("edits", "gpt-image-1-mini").stream
    assert (gen.when, gen.partials, gen.media_type) == ("stream", "partial_images", "text/event-stream")
    assert (gen.partial_event, gen.completed_event) == ("image_generation.partial_image", "image_generation.completed")
    assert (edit.partial_event, edit.completed_event) == ("image_edit.partial_image", "image_edit.completed")
    assert "usage" in gen.completed_schema["required"] and "partial_image_index" in gen.partial_schema["required"]
    assert profile.model_endpoint("generations", "dall-e-3").stream is None
    assert profile.model_endpoint("generations", "gpt-image-1").streams_for({"stream": True})
    assert not profile.model_endpoint("generations", "gpt-image-1").streams_for({"stream": "true"})


def _with_stream(tmp_path: Path, stream_yaml: str) -> Path:
    return _write(tmp_path, (
        "spec_version: 1\nname: streams\nextends: openai\n"
        "models:\n  gpt-image-1:\n    response:\n      stream:\n" + stream_yaml
    ), "streams.yaml")


def test_a_stream_naming_a_parameter_the_model_lacks_names_file_and_field(tmp_path):
    path = _with_stream(tmp_path, "        when: streaming\n")
    with pytest.raises(SpecError, match=r"streams.yaml:\d+: models\.gpt-image-1\.response\.stream\.when: "
                                        r"no parameter 'streaming'"):
        load_profile(path)


def test_an_unknown_key_in_a_stream_names_file_line_and_key(tmp_path):
    path = _with_stream(tmp_path, "        chunked: true\n")
    with pytest.raises(SpecError, match=r"streams.yaml:8: models\.gpt-image-1\.response\.stream: .*chunked"):
        load_profile(path)
