"""Generate ``src/amzn_nova_forge/recipe/catalogue.json`` from the reference recipe facts.

This is a developer tool, not part of the SDK: the runtime reads only the generated JSON.
It documents how every number in the catalogue was derived:

* ``recipe``: the reference recipe YAML (aws/sagemaker-hyperpod-recipes, Nova folder), parsed
  with YAML 1.1 and normalised: scientific-notation strings (``1e-5``) become floats.
* ``params``: one entry per overridable recipe leaf, keyed by the leaf name (the SDK's flat
  override keys, e.g. ``lr``, ``max_epochs``, ``loraplus_lr_ratio``). Types/ranges/enums come from
  ``nova_recipe_template_parameters.json`` (the template family of the recipe; its parameter name
  becomes an alias, e.g. ``learning_rate`` -> ``lr``), then from the constraints stated in the
  recipe comments (``RULES`` below), else the type of the default value.
* ``instances``: the tables in ``seeds/readme.txt`` (SMTJ: SFT, RFT, Evaluation; SMHP: CPT, SFT,
  RFT, Evaluation) and ``official-sdk-facts.md`` §3.4 (DPO, RFT multiturn), encoded in
  ``INSTANCES`` below.
* ``images``: ``nova_regional_parameters.json`` (repo:tag per platform) and the escrow
  accounts of ``official-sdk-facts.md`` §3.6 / INDEX.md.

Run from the repository root (needs the reference folder next to the repo)::

    .venv/bin/python bench/recipe_catalogue_gen.py [--ref ../shared/reference/hyperpod-recipes-nova]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "amzn_nova_forge" / "recipe" / "catalogue.json"
DEFAULT_REF = ROOT.parent / "shared" / "reference" / "hyperpod-recipes-nova"

_SCI = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)[eE][+-]?\d+$")

from recipe_catalogue_tables import (  # noqa: E402 - sibling module of this script
    ACCOUNTS,
    AMBIGUOUS_LEAVES,
    BEDROCK_RECIPES,
    EVAL_COUNTS,
    EVAL_IMAGES,
    EVAL_KINDS,
    EVAL_MODELS,
    EVAL_TYPES,
    FAMILY,
    FIXED_LEAVES,
    FIXED_PATHS,
    FORCE,
    INSTANCES,
    RECIPE_TYPES,
    REGIONS,
    RFT_MT_IMAGE,
    RULES_ALL,
    RULES_BY_RECIPE,
    TRAIN_RECIPES,
)

_TYPE = {bool: "boolean", int: "integer", float: "float", str: "string", list: "list", dict: "dict"}


def _norm(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _norm(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_norm(x) for x in v]
    if isinstance(v, str) and _SCI.match(v.strip()):
        return float(v)
    return v


def _leaves(d: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        p = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict) and v:
            out.extend(_leaves(v, p))
        else:
            out.append((p, v))
    return out


def _template_paths(tpl: dict[str, Any], prefix: str = "") -> dict[str, list[str]]:
    """{param name: [yaml paths]} from a recipe_template with '{{param}}' placeholders."""
    out: dict[str, list[str]] = {}
    for k, v in tpl.items():
        p = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict):
            for n, ps in _template_paths(v, p).items():
                out.setdefault(n, []).extend(ps)
        elif isinstance(v, str):
            m = re.fullmatch(r"\{\{(\w+)\}\}", v.strip())
            if m:
                out.setdefault(m.group(1), []).append(p)
    return out


def _family_of(rid: str) -> str | None:
    if rid.endswith("_eval"):
        v2 = "_2_0_" in rid
        for frag, fam in (
            ("general_text_benchmark", "text"),
            ("general_multi_modal_benchmark", "mm"),
            ("bring_your_own_dataset", "byod"),
            ("_llm_judge", "judge"),
        ):
            if frag in rid and not ("rubric" in rid and fam == "judge"):
                key = fam + ("_2_0" if v2 and fam != "judge" else "")
                return FAMILY.get(key)
        return None
    if "pretrain" in rid:
        return FAMILY["pretrain_2_0" if "_2_0_" in rid else "pretrain"]
    if "smtj" in rid and "rft" in rid:
        return FAMILY["smtj_lora_rft" if "lora" in rid else "smtj_rft"]
    if rid.endswith("rft"):
        return FAMILY["lora_rft" if "lora" in rid else "rft"]
    v2 = "_2_0_" in rid
    base = ("lora_" if "lora" in rid else "") + ("dpo" if rid.endswith("dpo") else "sft")
    return FAMILY.get(base + ("_2_0" if v2 else ""))


def _coerce_num(spec: dict[str, Any]) -> None:
    for b in ("min", "max"):
        if b in spec and spec["type"] == "float":
            spec[b] = float(spec[b])


def build_params(rid: str, recipe: dict[str, Any], tfile: dict[str, Any]) -> dict[str, Any]:
    fam = _family_of(rid)
    tmpl = tfile.get(fam) if fam else None
    by_leaf: dict[str, dict[str, Any]] = {}
    leaves = _leaves(recipe)
    counts: dict[str, int] = {}
    for path, _ in leaves:
        counts[path.rsplit(".", 1)[-1]] = counts.get(path.rsplit(".", 1)[-1], 0) + 1
    for path, default in leaves:
        leaf = path.rsplit(".", 1)[-1]
        if leaf in FIXED_LEAVES or path in FIXED_PATHS or leaf in AMBIGUOUS_LEAVES:
            continue
        if path.startswith(("ppo_",)) or leaf == "num_nodes":
            continue
        if leaf == "name" and path != "run.name":
            continue
        spec = by_leaf.setdefault(leaf, {"paths": [], "default": default})
        if spec["paths"] and spec["default"] != default:
            continue  # same leaf name, different meaning (e.g. val_sampling_params.temperature): path only
        spec["paths"].append(path)
        t = _TYPE.get(type(default))
        if t is None and default is None:
            spec.setdefault("nullable", True)
        elif isinstance(default, str) and default.startswith("${"):
            pass
        elif t:
            spec.setdefault("type", t)
        if path.startswith("run."):
            spec["category"] = "run"
    # template family
    if tmpl:
        paths = _template_paths(tmpl["recipe_template"])
        for pname, pspec in tmpl["recipe_override_parameters"].items():
            ppaths = paths.get(pname)
            if not ppaths:
                continue
            for pp in ppaths:
                leaf = pp.rsplit(".", 1)[-1]
                spec = by_leaf.get(leaf)
                if spec is None or (
                    pp not in spec["paths"] and not any(p.endswith(pp.split(".", 1)[-1]) for p in spec["paths"])
                ):
                    continue
                if pname != leaf:
                    spec.setdefault("aliases", [])
                    if pname not in spec["aliases"]:
                        spec["aliases"].append(pname)
                if leaf == "replicas":
                    continue  # validated by the instance matrix
                typ = pspec.get("type")
                if typ in ("integer", "float", "boolean", "string"):
                    spec["type"] = typ
                for b in ("min", "max", "enum"):
                    if b in pspec:
                        spec[b] = pspec[b]
                if pspec.get("required") is False:
                    spec["nullable"] = True
    # comment rules
    rules: dict[str, dict[str, Any]] = {}
    for leaf in by_leaf:
        if leaf in RULES_ALL:
            rules[leaf] = dict(RULES_ALL[leaf])
    for frag, r in RULES_BY_RECIPE:
        if frag in rid:
            for leaf, rr in r.items():
                rules.setdefault(leaf, {}).update(rr)
                rules[leaf]["_force"] = True
    for leaf, r in rules.items():
        spec = by_leaf.get(leaf)
        if spec is None:
            continue
        force = r.pop("_force", False) and leaf in FORCE
        has_template = any(b in spec for b in ("min", "max", "enum"))
        if force:
            for b in ("min", "max", "enum", "multiple_of"):
                spec.pop(b, None)
        if force or not has_template:
            spec.update(r)
    # alias spellings of the LoRA+ ratio
    for a, b in (("loraplus_lr_ratio", "lora_plus_lr_ratio"), ("lora_plus_lr_ratio", "loraplus_lr_ratio")):
        if a in by_leaf:
            by_leaf[a].setdefault("aliases", [])
            if b not in by_leaf[a]["aliases"] and b not in by_leaf:
                by_leaf[a]["aliases"].append(b)
    # the reward Lambda is one setting written to every path that holds it
    lam = by_leaf.get("lambda_arn")
    if lam and "reward_lambda_arn" in by_leaf and "reward_lambda_arn" in lam.get("aliases", []):
        by_leaf["reward_lambda_arn"]["paths"].extend(lam["paths"])
        by_leaf["reward_lambda_arn"].setdefault("aliases", []).append("lambda_arn")
        del by_leaf["lambda_arn"]
    for leaf, spec in by_leaf.items():
        if leaf == "temperature" or (
            spec.get("type") == "integer" and any(isinstance(spec.get(b), float) for b in ("min", "max"))
        ):
            spec["type"] = "float"  # a float-valued quantity whose default happens to be written as an int
        if "enum" in spec and spec.get("type") == "string" and None in spec["enum"]:
            spec["nullable"] = True
        if leaf == "reasoning_effort":
            spec["type"] = "string"
            spec["nullable"] = True
        if leaf in ("subtask",):
            spec["nullable"] = True
        if spec.get("type") is None:
            spec["type"] = "any"
        _coerce_num(spec)
        if "enum" in spec and spec["type"] == "float":
            spec["enum"] = [
                float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else x for x in spec["enum"]
            ]
        if spec.get("category") != "run" and leaf not in (
            "lambda_arn",
            "lambda_type",
            "preset_reward_function",
            "aggregation",
            "subtask",
        ):
            spec["category"] = "hyperparameter"
        spec.setdefault("category", "other")
        spec.pop("default", None)
    return by_leaf


def _check_defaults(rid: str, recipe: dict[str, Any], params: dict[str, Any]) -> list[str]:
    bad = []
    for leaf, spec in params.items():
        for p in spec["paths"]:
            cur: Any = recipe
            for part in p.split("."):
                cur = cur[part]
            if cur is None or (isinstance(cur, str) and (cur.startswith("${") or cur == "")):
                continue
            if "enum" in spec and cur not in spec["enum"]:
                bad.append(f"{rid}: {leaf}={cur!r} not in {spec['enum']}")
            if isinstance(cur, (int, float)) and not isinstance(cur, bool):
                if ("min" in spec and cur < spec["min"]) or ("max" in spec and cur > spec["max"]):
                    bad.append(f"{rid}: {leaf}={cur!r} outside [{spec.get('min')}, {spec.get('max')}]")
    return bad


def _types_for(rid: str) -> list[str]:
    for frag, types in RECIPE_TYPES.items():
        if f"_{frag}" in rid:
            return types
    return ["ml.p5.48xlarge"]


EXPECT = ROOT / "tests" / "recipe" / "data" / "reference_expectations.json"
_ENTRY = re.compile(r"^\*\*\d+\. `([\w.]+)`\*\*")
_PAIR = re.compile(r"`([\w.]+)`=(.*?)(?=; `[\w.]+`=|$)")


def _index_value(text: str) -> Any:
    text = text.strip()
    if text.startswith('"') and text.endswith('"'):
        return text[1:-1]
    if text == "null":
        return None
    if text in ("true", "false"):
        return text == "true"
    if text.startswith("["):
        return json.loads(text)
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def write_expectations(ref: Path, templates: dict[str, Any], yamls: dict[str, Path]) -> None:
    """Frozen test expectations: per recipe, the default values listed in INDEX.md (parsed
    independently of the YAMLs) and the leaf paths of the reference YAML (the structure)."""
    lines = (ref / "INDEX.md").read_text().splitlines()
    values: dict[str, dict[str, Any]] = {}
    for i, line in enumerate(lines):
        m = _ENTRY.match(line)
        if m and i + 1 < len(lines):
            values[m.group(1)] = {k: _index_value(v) for k, v in _PAIR.findall(lines[i + 1])}
    out = {}
    for rid in templates:
        if rid not in yamls:
            continue
        base = rid.removesuffix("_multiturn")
        leaves = [p for p, _ in _leaves(_norm(yaml.safe_load(yamls[base].read_text())))]
        out[rid] = {"values": values.get(base, {}), "leaves": leaves}
    EXPECT.parent.mkdir(parents=True, exist_ok=True)
    EXPECT.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ref", type=Path, default=DEFAULT_REF)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    ref: Path = args.ref
    tfile = json.loads((ref / "launcher/recipe_templatization/nova/nova_recipe_template_parameters.json").read_text())[
        "templates"
    ]
    regional = json.loads((ref / "launcher/recipe_templatization/nova/nova_regional_parameters.json").read_text())
    yamls = {p.stem: p for p in (ref / "recipes_collection/recipes").rglob("*.yaml")}

    templates: dict[str, Any] = {}
    problems: list[str] = []

    def add(
        rid: str,
        recipe: dict[str, Any],
        source: str,
        images: dict[str, str],
        params: dict[str, Any] | None = None,
        patch: dict[str, Any] | None = None,
    ) -> None:
        if params is None:
            params = build_params(rid, recipe, tfile)
        problems.extend(_check_defaults(rid, recipe, params))
        templates[rid] = {"source": source, "recipe": recipe, "params": params, "images": images, **(patch or {})}

    def images_of(rid: str) -> dict[str, str]:
        out = {}
        reg = regional.get(rid, {})
        for plat, key in (("SMHP", "k8s"), ("SMTJ", "sm_jobs")):
            uri = reg.get(key, {}).get("container_image", {}).get("prod", {}).get("us-east-1")
            if uri:
                out[plat] = uri.split("/", 1)[1]
        return out

    def load(rid: str) -> dict[str, Any]:
        return _norm(yaml.safe_load(yamls[rid].read_text()))

    def src(rid: str) -> str:
        return str(yamls[rid].relative_to(ref / "recipes_collection/recipes"))

    # training recipes
    for (_model, _method), rids in TRAIN_RECIPES.items():
        for rid in rids:
            imgs = images_of(rid)
            if "pretrain" in rid and "SMHP" not in imgs:
                imgs["SMHP"] = "nova-fine-tune-repo:" + ("SM-HP-CPT-V2-latest" if "_2_0_" in rid else "HP-CPT-latest")
            add(rid, load(rid), src(rid), imgs)
    for rid in (
        "nova_lite_2_0_p5_gpu_lora_rft",
        "nova_lite_2_0_p5_gpu_rft",
        "nova_lite_v2_smtj_p5_p5en_gpu_lora_rft",
        "nova_lite_v2_smtj_p5_p5en_gpu_rft",
    ):
        imgs = images_of(rid)
        if "smtj" in rid:
            imgs.setdefault("SMTJ", "nova-fine-tune-repo:SM-TJ-RFT-V2-latest")
        else:
            imgs.setdefault("SMHP", "nova-fine-tune-repo:SM-HP-RFT-TRAIN-V2-latest")
        add(rid, load(rid), src(rid), imgs)
    # RFT multiturn on SMHP: the byoo recipes are not in the reference; derived from the HyperPod RFT recipe.
    for lora in (True, False):
        base = "nova_lite_2_0_p5_gpu_lora_rft" if lora else "nova_lite_2_0_p5_gpu_rft"
        rid = base + "_multiturn"
        rec = load(base)
        add(
            rid,
            rec,
            src(base) + " (multiturn: same structure; rollouts come from the RL environment)",
            dict(RFT_MT_IMAGE),
        )
    # RFT multiturn on serverless: the MTRL recipe.
    add("mtrl_nova_lite_2_0_lora", load("mtrl_nova_lite_2_0_lora"), src("mtrl_nova_lite_2_0_lora"), {})
    # evaluation recipes
    for model, prefix in EVAL_MODELS.items():
        for kind, suffix in EVAL_KINDS.items():
            rid = f"{prefix}_p5_48xl_gpu_{suffix}"
            if rid not in yamls:
                continue
            version = 2 if prefix.endswith("2_0") else 1
            add(rid, load(rid), src(rid), dict(EVAL_IMAGES[version]))
    # bedrock
    for rid, spec in BEDROCK_RECIPES.items():
        params = {}
        for k, p in spec["params"].items():
            path = f"training_config.{k}"
            params[k] = {"paths": [path], "category": "hyperparameter", **p}
        for k in ("name", "data_s3_path", "validation_data_s3_path", "output_s3_path", "reward_lambda_arn"):
            if k in spec["recipe"]["run"]:
                params[k] = {"paths": [f"run.{k}"], "type": "string", "category": "run"}
        add(
            rid,
            json.loads(json.dumps(spec["recipe"])),
            "SDK-defined (Bedrock hyperparameters)",
            {"BEDROCK": "bedrock-managed"},
            params=params,
        )

    # entries
    entries: list[dict[str, Any]] = []

    def entry(model: str, method: str, platform: str, variants: list[dict[str, Any]]) -> None:
        entries.append({"model": model, "method": method, "platform": platform, "variants": variants})

    for (model, method), rids in TRAIN_RECIPES.items():
        for platform in ("SMTJ", "SMHP"):
            matrix = INSTANCES[platform].get(model, {}).get(method)
            if not matrix:
                continue
            variants = []
            for rid in rids:
                types = [t for t in _types_for(rid) if t in matrix]
                if types:
                    variants.append({"template": rid, "instances": {t: matrix[t] for t in types}})
            covered = {t for v in variants for t in v["instances"]}
            missing = set(matrix) - covered
            if missing:
                problems.append(f"{platform} {model} {method}: no recipe for {sorted(missing)}")
            entry(model, method, platform, variants)
        if method in ("sft_lora", "sft_full", "dpo_lora", "dpo_full"):
            entry(model, method, "SMTJServerless", [{"template": rids[0], "instances": None}])
    for method, lora in (("rft_lora", True), ("rft_full", False)):
        entry(
            "NOVA_LITE_2",
            method,
            "SMTJ",
            [
                {
                    "template": f"nova_lite_v2_smtj_p5_p5en_gpu_{'lora_' if lora else ''}rft",
                    "instances": INSTANCES["SMTJ"]["NOVA_LITE_2"][method],
                }
            ],
        )
        entry(
            "NOVA_LITE_2",
            method,
            "SMHP",
            [
                {
                    "template": f"nova_lite_2_0_p5_gpu_{'lora_' if lora else ''}rft",
                    "instances": INSTANCES["SMHP"]["NOVA_LITE_2"][method],
                }
            ],
        )
        mt = method.replace("rft_", "rft_multiturn_")
        entry(
            "NOVA_LITE_2",
            mt,
            "SMHP",
            [
                {
                    "template": f"nova_lite_2_0_p5_gpu_{'lora_' if lora else ''}rft_multiturn",
                    "instances": INSTANCES["SMHP"]["NOVA_LITE_2"][mt],
                }
            ],
        )
    entry(
        "NOVA_LITE_2",
        "rft_lora",
        "SMTJServerless",
        [{"template": "nova_lite_v2_smtj_p5_p5en_gpu_lora_rft", "instances": None}],
    )
    entry(
        "NOVA_LITE_2",
        "rft_multiturn_lora",
        "SMTJServerless",
        [{"template": "mtrl_nova_lite_2_0_lora", "instances": None}],
    )
    for model in ("NOVA_MICRO", "NOVA_LITE", "NOVA_PRO", "NOVA_LITE_2"):
        entry(model, "sft_lora", "BEDROCK", [{"template": "bedrock_sft_lora", "instances": None}])
    entry("NOVA_LITE_2", "rft_lora", "BEDROCK", [{"template": "bedrock_rft_lora", "instances": None}])
    # evaluation entries: method "eval:<kind>"
    for model, prefix in EVAL_MODELS.items():
        for kind, suffix in EVAL_KINDS.items():
            rid = f"{prefix}_p5_48xl_gpu_{suffix}"
            if rid not in templates:
                continue
            inst = {t: EVAL_COUNTS for t in EVAL_TYPES[model]}
            for platform in ("SMTJ", "SMHP"):
                entry(model, f"eval:{kind}", platform, [{"template": rid, "instances": inst}])
            entry(model, f"eval:{kind}", "SMTJServerless", [{"template": rid, "instances": None}])

    if problems:
        print("catalogue problems:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    cat = {
        "format": 1,
        "source": "aws/sagemaker-hyperpod-recipes@263199555b2e1f8eb9b17459892e440f3242b5d9 (Nova), "
        "seeds/readme.txt instance tables, official-sdk-facts.md section 3",
        "accounts": ACCOUNTS,
        "regions": REGIONS,
        "templates": templates,
        "entries": entries,
    }
    args.out.write_text(json.dumps(cat, separators=(",", ":"), sort_keys=False) + "\n")
    yamls_mt = {
        **yamls,
        **{f"{r}_multiturn": yamls[r] for r in ("nova_lite_2_0_p5_gpu_lora_rft", "nova_lite_2_0_p5_gpu_rft")},
    }
    write_expectations(ref, templates, yamls_mt)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes, {len(templates)} recipes, {len(entries)} entries)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
