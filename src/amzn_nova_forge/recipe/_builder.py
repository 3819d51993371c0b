"""RecipeBuilder: base recipe + run settings + user recipe file + overrides → validated recipe.

Precedence (highest first): user ``overrides`` > user recipe file (``recipe_path``) > values the
SDK fills from the run settings (job name, data/output paths, model path, replicas, MLflow, …) >
catalogue defaults. Building and validating makes no network call (a ``recipe_path`` on S3 is read).

Example:
    >>> from amzn_nova_forge.core.enums import Model, Platform, TrainingMethod
    >>> built = RecipeBuilder(Model.NOVA_LITE_2, TrainingMethod.SFT_LORA, Platform.SMTJ,
    ...                       instance_type="ml.p5.48xlarge", instance_count=4).build(
    ...     run={"job_name": "my-job"}, overrides={"max_steps": 50, "lr": 5e-6})
    >>> built.hyperparameters["lr"], built.recipe["run"]["replicas"]
    (5e-06, 4)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from amzn_nova_forge.core.enums import EvaluationTask, Model, Platform, TrainingMethod
from amzn_nova_forge.errors import InstanceConfigError, RecipeOverrideError, RecipeValidationError
from amzn_nova_forge.recipe import _validate as V
from amzn_nova_forge.recipe._catalogue import Variant, catalogue
from amzn_nova_forge.recipe._recipe import (
    BuiltRecipe,
    RunSettings,
    _copy,
    _get,
    _has,
    _leaves,
    _num,
    _resolve,
    _set,
    load_recipe_file,
    resolve_reference,
)

__all__ = ["BuiltRecipe", "RecipeBuilder", "RunSettings"]

logger = logging.getLogger(__name__)
_MLFLOW_KEYS = ("tracking_uri", "experiment_name", "run_name")
_SMHP_LAMBDA_WORDS = ("SageMaker", "sagemaker", "Sagemaker")


class RecipeBuilder:
    """Builds the final recipe for one (model, method, platform) job.

    Args:
        model: The Nova model.
        method: The training method (``TrainingMethod.EVALUATION`` or any method with ``eval_task``
            / ``batch_inference`` selects an evaluation recipe).
        platform: Where the job runs; ``Platform.LOCAL`` uses the SMTJ recipe (or SMHP where only
            HyperPod offers the method) and skips instance, region and image checks.
        eval_task: Evaluation task for evaluation recipes.
        subtask: Benchmark subtask (``evaluation.subtask``).
        batch_inference: Build a batch-inference (gen_qa) recipe.
        region: AWS region (default: the environment's, else us-east-1).
        instance_type: Instance type; picks the recipe variant and is validated.
        instance_count: Instance count (``run.replicas``); validated.

    Raises:
        UnsupportedFeatureError: the method (or eval task) is not offered for this model on this
            platform; the message says where it is.

    Example:
        >>> b = RecipeBuilder(Model.NOVA_MICRO, TrainingMethod.EVALUATION, Platform.SMTJ,
        ...                   eval_task=EvaluationTask.MMLU, subtask="anatomy")
        >>> b.build(run={"job_name": "eval"}).recipe["evaluation"]["subtask"]
        'anatomy'
    """

    def __init__(
        self,
        model: Model | str,
        method: TrainingMethod | str,
        platform: Platform | str,
        *,
        eval_task: EvaluationTask | str | None = None,
        subtask: str | None = None,
        batch_inference: bool = False,
        region: str | None = None,
        instance_type: str | None = None,
        instance_count: int | None = None,
    ) -> None:
        self.model = model if isinstance(model, Model) else Model.from_model_name(model)
        self.method = TrainingMethod(method)
        self.platform = Platform(platform)
        self.eval_task = EvaluationTask(eval_task) if eval_task is not None else None
        self.subtask = subtask or None
        self.batch_inference = bool(batch_inference)
        self.region = region
        self.instance_type = instance_type
        self.instance_count = instance_count
        if self.method is TrainingMethod.EVALUATION and self.eval_task is None and not self.batch_inference:
            raise RecipeValidationError(
                "TrainingMethod.EVALUATION needs eval_task (e.g. EvaluationTask.MMLU) or batch_inference=True."
            )
        self.key = V.method_key(self.method, eval_task=self.eval_task, batch_inference=self.batch_inference)
        self._check_eval_model()
        self.entry = catalogue().require(self.model, self.key, self.platform)

    # ------------------------------------------------------------------ public
    def build(
        self,
        run: RunSettings | Mapping[str, Any] | None = None,
        overrides: Mapping[str, Any] | None = None,
        recipe_path: str | None = None,
        validate: bool = True,
    ) -> BuiltRecipe:
        """Build (and by default validate) the final recipe.

        Raises:
            RecipeOverrideError: unknown override ("did you mean"), wrong type or out of range.
            RecipeValidationError: a cross-field rule or an evaluation rule is broken.
            InstanceConfigError: instance type or count not allowed (lists the allowed ones).
            UnsupportedRegionError: region not supported (lists the supported ones).
        """
        settings = RunSettings.coerce(run)
        variant = self._variant(validate)
        tid = variant.template_id
        cat = catalogue()
        tpl = cat.template(tid)
        params: dict[str, Any] = tpl["params"]
        recipe = _copy(tpl["recipe"])
        self._fill(recipe, params, settings, tid)
        if recipe_path:
            self._merge_file(recipe, params, load_recipe_file(recipe_path), tid, validate)
        if overrides:
            if validate:
                V.check_finite(dict(overrides), "overrides", recipe=tid)
            aliases = cat.aliases(tid)
            for key, value in overrides.items():
                try:
                    canonical = V.resolve_key(key, aliases, template_id=tid)
                except RecipeOverrideError:
                    if validate:
                        raise
                    logger.warning("Ignoring unknown override %r (validation is off)", key)
                    continue
                spec = params[canonical]
                if validate:
                    value = V.check_value(key, value, spec, template_id=tid)
                for path in spec["paths"]:
                    _set(recipe, path, value)
        region = self.region
        if self.platform is not Platform.LOCAL:
            from amzn_nova_forge._config import default_region

            region = region or default_region()
        replicas = _get(recipe, "run.replicas")
        count = replicas if isinstance(replicas, int) and not isinstance(replicas, bool) else self.instance_count
        if validate:
            self._validate(recipe, params, tid, settings, variant, count, region)
        image = cat.image_uri(tid, self.platform, region) if region else None
        return BuiltRecipe(
            recipe=recipe,
            template_id=tid,
            image_uri=image,
            hyperparameters=self._hyperparameters(recipe, params),
            model=self.model,
            method=self.method,
            platform=self.platform,
            eval_task=self.eval_task,
            region=region,
            instance_type=self.instance_type,
            instance_count=count,
            job_name=settings.job_name,
        )

    def keys(self) -> dict[str, dict[str, Any]]:
        """Accepted override keys of the default (or instance-selected) recipe, with spec and default."""
        variant = self._variant(False)
        tpl = catalogue().template(variant.template_id)
        out = {}
        for key, spec in tpl["params"].items():
            out[key] = {**spec, "default": _get(tpl["recipe"], spec["paths"][0]), "allowed": V.describe_allowed(spec)}
        return out

    # ----------------------------------------------------------------- helpers
    def _check_eval_model(self) -> None:
        task = self.eval_task
        if task is EvaluationTask.INSPECT_LENS:
            raise RecipeValidationError(
                "INSPECT_LENS runs your Inspect AI benchmarks and has no Nova evaluation recipe: use "
                "ForgeEvaluator(...).evaluate(job_name=..., eval_task=EvaluationTask.INSPECT_LENS, "
                "inspect_lens_config=InspectLensConfig(benchmarks_path=..., tasks=[...]))."
            )
        if task is EvaluationTask.MM_LLM_JUDGE and self.model is Model.NOVA_MICRO:
            raise RecipeValidationError(
                "MM_LLM_JUDGE needs a multimodal model; NOVA_MICRO is text-only. "
                "Use NOVA_LITE or NOVA_PRO, or EvaluationTask.LLM_JUDGE."
            )
        if task is EvaluationTask.RFT_MULTITURN_EVAL and self.model is not Model.NOVA_LITE_2:
            raise RecipeValidationError("RFT_MULTITURN_EVAL is supported for NOVA_LITE_2 only.")

    def _variant(self, validate: bool) -> Variant:
        if self.platform is Platform.LOCAL or self.instance_type is None:
            return self.entry.variants[0]
        variant = self.entry.variant_for(self.instance_type)
        if variant is None:
            if not validate:
                return self.entry.variants[0]
            V.validate_instance(
                self.platform,
                self.model,
                self.method,
                self.instance_type,
                self.instance_count or 0,
                eval_task=self.eval_task,
                batch_inference=self.batch_inference,
            )
            raise InstanceConfigError(  # pragma: no cover - validate_instance raised already
                f"Instance type {self.instance_type!r} is not allowed.", instance_type=self.instance_type
            )
        return variant

    def _fill(self, recipe: dict[str, Any], params: Mapping[str, Any], s: RunSettings, tid: str) -> None:
        run = recipe.get("run")
        if isinstance(run, dict):
            if "model_type" in run:
                run["model_type"] = self.model.model_type
            if "model_name_or_path" in run:
                run["model_name_or_path"] = s.model_name_or_path or (
                    run["model_name_or_path"] if run["model_name_or_path"] else self.model.model_path
                )
            for key, value in (
                ("name", s.job_name),
                ("data_s3_path", s.data_s3_path),
                ("output_s3_path", s.output_s3_path),
                ("validation_data_s3_path", s.validation_data_s3_path),
            ):
                if value is not None and key in run:
                    run[key] = value
            count = self.instance_count if self.instance_count is not None else s.replicas
            if count is not None and "replicas" in run and self.platform is not Platform.LOCAL:
                run["replicas"] = count
            for k, v in (s.mlflow or {}).items():
                name = k if k.startswith("mlflow_") else f"mlflow_{k}"
                if name[7:] not in _MLFLOW_KEYS:
                    raise RecipeValidationError(
                        f"Unknown MLflow setting {k!r}; use tracking_uri, experiment_name, run_name."
                    )
                if name in run and v is not None:
                    run[name] = v
        if s.rft_lambda_arn:
            if "reward_lambda_arn" in params:
                for path in params["reward_lambda_arn"]["paths"]:
                    _set(recipe, path, s.rft_lambda_arn)
            elif isinstance(recipe.get("rl_env"), dict):
                recipe["rl_env"]["reward_lambda_arn"] = s.rft_lambda_arn
        if s.processor:
            self._merge_section(recipe, "processor", s.processor, tid, strict=True)
        if s.rl_env:
            self._merge_section(recipe, "rl_env", s.rl_env, tid, strict=False)
        if s.data_mixing:
            mix = V.validate_data_mixing(s.data_mixing, self.platform, self.method)
            sources = {("percent" if k == "customer_data_percent" else k[5:-8]): v for k, v in mix.items()}
            recipe.setdefault("training_config", {})["data_mixing"] = {"sources": sources}
        if self.key.startswith("eval:"):
            ev = recipe.setdefault("evaluation", {})
            task = EvaluationTask.GEN_QA if self.batch_inference else self.eval_task
            assert task is not None
            ev["task"], ev["strategy"], ev["metric"] = task.recipe_task, task.strategy, task.metric
            if self.subtask is not None:
                self._set_subtask(ev, task, tid)

    def _set_subtask(self, ev: dict[str, Any], task: EvaluationTask, tid: str) -> None:
        known = task.subtasks
        if "subtask" not in ev:
            raise RecipeOverrideError(
                f"{task.name} takes no subtask (got {self.subtask!r}).",
                key="subtask",
                value=self.subtask,
                allowed=[],
                recipe=tid,
            )
        if known and self.subtask not in known:
            import difflib

            close = difflib.get_close_matches(str(self.subtask), known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise RecipeOverrideError(
                f"Unknown subtask {self.subtask!r} for {task.name}.{hint} Known subtasks: {', '.join(known)}.",
                key="subtask",
                value=self.subtask,
                allowed=list(known),
                recipe=tid,
            )
        ev["subtask"] = self.subtask

    @staticmethod
    def _merge_section(recipe: dict[str, Any], name: str, values: Mapping[str, Any], tid: str, *, strict: bool) -> None:
        section = recipe.get(name)
        if not isinstance(section, dict):
            where = {"processor": "EvaluationTask.GEN_QA", "rl_env": "EvaluationTask.RFT_EVAL / RFT_MULTITURN_EVAL"}
            raise RecipeValidationError(
                f"{name} is only accepted for {where.get(name, 'other recipes')} (recipe {tid} has no {name} section).",
                recipe=tid,
            )

        def merge(dst: dict[str, Any], src: Mapping[str, Any], prefix: str) -> None:
            for k, v in src.items():
                if strict and k not in dst:
                    raise RecipeOverrideError(
                        f"Unknown {name} key {prefix + k!r}. Allowed: {', '.join(prefix + x for x in dst)}.",
                        key=prefix + k,
                        value=v,
                        allowed=list(dst),
                        recipe=tid,
                    )
                if isinstance(v, Mapping) and isinstance(dst.get(k), dict):
                    merge(dst[k], v, f"{prefix}{k}.")
                else:
                    dst[k] = _copy(v)

        merge(section, values, f"{name}.")

    def _merge_file(
        self, recipe: dict[str, Any], params: Mapping[str, Any], user: dict[str, Any], tid: str, validate: bool
    ) -> None:
        by_path = {p: key for key, spec in params.items() for p in spec["paths"]}
        if validate:
            V.check_finite(user, "recipe file", recipe=tid)
        unknown = []
        for path, value in _leaves(user):
            leaf = path.rsplit(".", 1)[-1]
            if leaf in V.FIXED_KEYS or path.endswith("optim.name") or path.endswith("optim.optimizer"):
                current = _get(recipe, path)
                if current is not None and value != current:
                    logger.warning(
                        "Recipe file sets %s=%r; keeping %r (%s)",
                        path,
                        value,
                        current,
                        V.FIXED_KEYS.get(leaf, "do not change"),
                    )
                continue
            if path == "run.model_name_or_path":
                if isinstance(value, str) and (value.startswith("s3://") or V.MODEL_PACKAGE_ARN.match(value)):
                    _set(recipe, path, value)
                continue
            if path.startswith(("processor.", "rl_env.", "training_config.data_mixing.")) and _has(
                recipe, path.split(".")[0]
            ):
                _set(recipe, path, value)
                continue
            key = by_path.get(path)
            if key is None:
                if _has(recipe, path) and not isinstance(_get(recipe, path), dict):
                    _set(recipe, path, value)  # known non-overridable leaf with no spec: keep user's value
                    continue
                unknown.append(path)
                continue
            if validate:
                value = V.check_value(key, value, params[key], template_id=tid)
            _set(recipe, path, value)
        if unknown and validate:
            known = sorted(by_path)
            import difflib

            hints = [
                f"{u} (did you mean {m[0]}?)" if (m := difflib.get_close_matches(u, known, n=1)) else u for u in unknown
            ]
            raise RecipeValidationError(
                f"Recipe file has keys that recipe {tid} does not accept: {', '.join(hints)}.", recipe=tid
            )

    def _validate(
        self,
        recipe: dict[str, Any],
        params: Mapping[str, Any],
        tid: str,
        s: RunSettings,
        variant: Variant,
        count: int | None,
        region: str | None,
    ) -> None:
        for key, spec in params.items():
            for path in spec["paths"]:
                if _has(recipe, path):
                    value = _get(recipe, path)
                    if V.is_interpolation(value):
                        value = self._dereference(recipe, key, path, value, tid)
                    V.check_value(key, value, spec, template_id=tid)
        self._cross_field(recipe, params, tid)
        if self.platform is not Platform.LOCAL:
            assert region is not None
            V.check_region(region, self.platform)
            if self.instance_type is not None and variant.instances is not None:
                V.validate_instance(
                    self.platform,
                    self.model,
                    self.method,
                    self.instance_type,
                    count if count is not None else 0,
                    eval_task=self.eval_task,
                    batch_inference=self.batch_inference,
                )
        # the local runtime runs benchmarks on the user's own questions (no built-in data locally)
        if (
            self.key.startswith("eval:")
            and self.eval_task is not None
            and not self.batch_inference
            and s.data_s3_path
            and not self.eval_task.is_byod
            and self.platform is not Platform.LOCAL
        ):
            raise RecipeValidationError(
                f"data_s3_path is only used by bring-your-own-data tasks (GEN_QA, judges, RFT_EVAL); "
                f"{self.eval_task.name} runs on its built-in benchmark data. Remove data_s3_path.",
                recipe=tid,
            )
        lam = _get(recipe, "processor.lambda_arn")
        if s.processor and lam and not V.LAMBDA_ARN.match(str(lam)):
            raise RecipeOverrideError(
                f"processor.lambda_arn {lam!r} is not a Lambda function ARN "
                "(arn:aws:lambda:<region>:<account>:function:<name>).",
                key="processor.lambda_arn",
                value=lam,
                recipe=tid,
            )
        arn = s.rft_lambda_arn or (s.rl_env or {}).get("reward_lambda_arn")
        if arn and not (
            V.LAMBDA_ARN.match(arn)
            or (self.platform is Platform.SMTJServerless and V.HUB_CONTENT_ARN.match(arn))
            # local runtime: the reward function may be a local .py file (run in-process)
            or (self.platform is Platform.LOCAL and str(arn).endswith(".py"))
        ):
            raise RecipeOverrideError(
                f"Reward Lambda {arn!r} is not a Lambda function ARN "
                "(arn:aws:lambda:<region>:<account>:function:<name>).",
                key="reward_lambda_arn",
                value=arn,
                recipe=tid,
            )
        if arn and self.platform is Platform.SMHP and not any(w in arn for w in _SMHP_LAMBDA_WORDS):
            raise RecipeOverrideError(
                f"Reward Lambda {arn!r}: lambda_arn must contain one of: {list(_SMHP_LAMBDA_WORDS)} when running on "
                "SMHP platform (HyperPod may only invoke functions whose name says SageMaker).",
                key="reward_lambda_arn",
                value=arn,
                allowed=list(_SMHP_LAMBDA_WORDS),
                recipe=tid,
            )
        vpath = s.validation_data_s3_path
        if vpath and not V.S3_URI.match(vpath) and self.platform is not Platform.LOCAL:
            raise RecipeOverrideError(
                f"validation_data_s3_path {vpath!r} must be an s3://bucket/key URI.",
                key="validation_data_s3_path",
                value=vpath,
                recipe=tid,
            )
        mpath = _get(recipe, "run.model_name_or_path")
        if (
            self.platform is not Platform.LOCAL
            and isinstance(mpath, str)
            and mpath
            and mpath != self.model.model_path
            and not mpath.startswith("s3://")
            and not V.MODEL_PACKAGE_ARN.match(mpath)
        ):
            raise RecipeOverrideError(
                f"model_name_or_path {mpath!r} must be {self.model.model_path!r}, an s3:// checkpoint or a "
                "SageMaker model-package ARN.",
                key="model_name_or_path",
                value=mpath,
                recipe=tid,
            )

    @staticmethod
    def _dereference(recipe: dict[str, Any], key: str, path: str, value: str, tid: str) -> Any:
        """The value a ``${...}`` at ``path`` stands for (checked like a literal), or a refusal."""
        from amzn_nova_forge.recipe._recipe import Unresolvable

        try:
            return resolve_reference(recipe, value)
        except Unresolvable as e:
            raise RecipeOverrideError(
                f"{key} ({path}) is {value!r}, which cannot be resolved: {e}. "
                "Give a value, or a reference to a key the recipe has.",
                key=key,
                value=value,
                recipe=tid,
            ) from None

    def _cross_field(self, recipe: dict[str, Any], params: Mapping[str, Any], tid: str) -> None:
        def val(key: str) -> Any:
            spec = params.get(key)
            return _resolve(recipe, _get(recipe, spec["paths"][0])) if spec else None

        save, steps = val("save_steps"), val("max_steps")
        if _num(save) and _num(steps) and save > steps:
            raise RecipeOverrideError(
                f"save_steps ({save}) must be <= max_steps ({steps}).",
                key="save_steps",
                value=save,
                allowed=f"<= max_steps ({steps})",
                recipe=tid,
            )
        lr, min_lr = val("lr"), val("min_lr")
        if _num(lr) and _num(min_lr) and min_lr > lr:
            raise RecipeOverrideError(
                f"min_lr ({min_lr}) must not exceed lr ({lr}).",
                key="min_lr",
                value=min_lr,
                allowed=f"<= lr ({lr})",
                recipe=tid,
            )
        task = self.eval_task
        sub = _get(recipe, "evaluation.subtask")
        if task is not None and sub and task.subtasks and sub not in task.subtasks:
            import difflib

            close = difflib.get_close_matches(str(sub), task.subtasks, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise RecipeOverrideError(
                f"Unknown subtask {sub!r} for {task.name}.{hint} Known subtasks: {', '.join(task.subtasks)}.",
                key="subtask",
                value=sub,
                allowed=list(task.subtasks),
                recipe=tid,
            )

    @staticmethod
    def _hyperparameters(recipe: dict[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for key, spec in params.items():
            if spec.get("category") == "hyperparameter":
                out[key] = _resolve(recipe, _get(recipe, spec["paths"][0]))
        # one spelling for consumers (the local runtime): Nova 2 recipes write lora_plus_lr_ratio
        if "lora_plus_lr_ratio" in out and "loraplus_lr_ratio" not in out:
            out["loraplus_lr_ratio"] = out["lora_plus_lr_ratio"]
        return out
