"""Hand-written facts for ``recipe_catalogue_gen.py``: recipe families, comment-stated rules, the
instance matrix (``seeds/readme.txt`` tables and ``official-sdk-facts.md`` §3.4), images and regions."""

from __future__ import annotations

from typing import Any

MODELS = {
    "nova_micro_1_0": "NOVA_MICRO",
    "nova_lite_1_0": "NOVA_LITE",
    "nova_pro_1_0": "NOVA_PRO",
    "nova_lite_2_0": "NOVA_LITE_2",
    "nova_lite_v2": "NOVA_LITE_2",
    "mtrl_nova_lite_2_0": "NOVA_LITE_2",
}

# Recipe id -> (template family in nova_recipe_template_parameters.json, path of the YAML).
# Families for recipes the template file does not cover are None (rules/defaults only).
FAMILY = {
    "lora_sft": "nova_lora_sft",
    "sft": "nova_sft",
    "lora_dpo": "nova_lora_dpo",
    "dpo": "nova_dpo",
    "lora_sft_2_0": "nova_lora_sft_2_0",
    "sft_2_0": "nova_sft_2_0",
    "pretrain": "nova_pretrain",
    "pretrain_2_0": "nova_pretrain_2_0",
    "lora_rft": "nova_lora_rft",
    "rft": "nova_rft",
    "smtj_lora_rft": "nova_smtj_lora_rft",
    "smtj_rft": "nova_smtj_rft",
    "text": "nova_general_text_benchmark_eval",
    "text_2_0": "nova_general_text_benchmark_2_0_eval",
    "mm": "nova_general_multi_modal_benchmark_eval",
    "mm_2_0": "nova_general_multi_modal_benchmark_2_0_eval",
    "byod": "nova_bring_your_own_dataset_eval",
    "byod_2_0": "nova_bring_your_own_dataset_2_0_eval",
    "judge": "nova_llm_judge_eval",
}

# Leaves that can never be overridden (set by the SDK from model/method/task, or "do not change").
FIXED_LEAVES = {
    "model_type",
    "peft_scheme",
    "task",
    "strategy",
    "metric",
    "task_type",
    "recipe_version",
    "distillation_data",
    "model_name",
    "display_name",
}
FIXED_PATHS = {"training_config.model.optim.name", "training_config.optim.name", "training_config.optim.optimizer"}
# Leaves that appear at several unrelated paths: only settable through structured run settings.
AMBIGUOUS_LEAVES = {"enabled"}
RUN_KEYS = {
    "name",
    "model_name_or_path",
    "replicas",
    "data_s3_path",
    "output_s3_path",
    "validation_data_s3_path",
    "validation_data_s3_path_list",
    "mlflow_tracking_uri",
    "mlflow_experiment_name",
    "mlflow_run_name",
    "reward_lambda_arn",
    "generation_replicas",
    "rollout_worker_replicas",
}

# Constraints stated in the recipe comments (INDEX.md "Constraints stated in recipe comments").
# Applied after the template family so that the template (the launcher's validator) wins on conflict,
# except keys listed in FORCE.
_UNIT = {"min": 0.0, "max": 1.0}
RULES_ALL: dict[str, dict[str, Any]] = {
    "hidden_dropout": _UNIT,
    "attention_dropout": _UNIT,
    "ffn_dropout": _UNIT,
    "adapter_dropout": _UNIT,
    "weight_decay": _UNIT,
    "adam_beta1": _UNIT,
    "adam_beta2": _UNIT,
    "fine_tuned_model": _UNIT,
    "top_p": _UNIT,
    "temperature": {"min": 0.0, "max": 2.0},
    "top_logprobs": {"min": 0, "max": 20},
    "top_k": {"min": -1},
    "max_new_tokens": {"min": 1},
    "warmup_steps": {"min": 0},
    "constant_steps": {"min": 0},
    "min_lr": {"min": 0.0, "max": 1.0},
    "lr": {"min": 0.0, "max": 1.0},
    "eps": {"min": 0.0, "max": 1.0},
    "max_epochs": {"min": 1, "max": 100},
    "max_steps": {"min": 1},
    "save_steps": {"min": 1},
    "save_top_k": {"min": 1},
    "global_batch_size": {"min": 1},
    "max_length": {"min": 1},
    "val_check_interval": {"min": 1},
    "limit_val_batches": {"min": 0},
    "number_generation": {"min": 2, "max": 16},
    "lambda_concurrency_limit": {"min": 1},
    "loraplus_lr_ratio": {"min": 0.0, "max": 100.0},
    "lora_plus_lr_ratio": {"min": 0.0, "max": 100.0},
    "alpha": {"enum": [32, 64, 96, 128, 160, 192]},
    "reasoning_effort": {"enum": [None, "low", "high"]},
    "beta": {"min": 0.001, "max": 0.1},
    "lambda_type": {"enum": ["rft", "custom_metrics"]},
    "aggregation": {"enum": ["average", "min", "max", "sum"]},
    "preset_reward_function": {"enum": ["", "prime_math", "prime_code"]},
    "replicas": {"min": 1},
    "generation_replicas": {"min": 1},
    "rollout_worker_replicas": {"min": 1},
    "refit_freq": {"min": 1},
    "age_tolerance": {"min": 0},
    "clip_ratio_high": _UNIT,
    "ent_coeff": {"min": 0.0},
    "kl_loss_coef": {"min": 0.0},
    "loss_scale": {"min": 0.0},
}
# Per recipe-name-fragment rules (comments in the YAMLs).
RULES_BY_RECIPE: list[tuple[str, dict[str, dict[str, Any]]]] = [
    ("g5_g6_12x_gpu_lora_sft", {"max_length": {"min": 1024, "max": 8192, "multiple_of": 1024}}),
    ("g5_g6_48x_gpu_lora_sft", {"max_length": {"min": 1024, "max": 8192, "multiple_of": 1024}}),
    ("g5_g6_48x_gpu_sft", {"max_length": {"min": 1024, "max": 8192, "multiple_of": 1024}}),
    ("_1_0_p5_p4d_gpu_lora_sft", {"max_length": {"min": 1024, "max": 32768, "multiple_of": 1024}}),
    ("_1_0_p5_p4d_gpu_sft", {"max_length": {"min": 1024, "max": 32768, "multiple_of": 1024}}),
    ("_1_0_p5_gpu_sft", {"max_length": {"min": 1024, "max": 32768, "multiple_of": 1024}}),
    ("g5_g6_12x_gpu_lora_dpo", {"max_length": {"min": 1024, "max": 4096, "multiple_of": 1024}}),
    ("g5_g6_48x_gpu_lora_dpo", {"max_length": {"min": 1024, "max": 4096, "multiple_of": 1024}}),
    ("_p5_p4d_gpu_lora_dpo", {"max_length": {"min": 1024, "max": 32768, "multiple_of": 1024}}),
    ("_p5_p4d_gpu_dpo", {"max_length": {"min": 1024, "max": 32768, "multiple_of": 1024}}),
    ("nova_lite_1_0_p5_p4d_gpu_lora_dpo", {"global_batch_size": {"enum": [16, 32, 64, 128, 256]}}),
    ("nova_lite_1_0_p5_p4d_gpu_dpo", {"global_batch_size": {"enum": [16, 32, 64, 128, 256]}}),
    ("nova_pro_1_0_p5_p4d_gpu_lora_dpo", {"global_batch_size": {"enum": [16, 32, 64, 128]}}),
    ("nova_pro_1_0_p5_p4d_gpu_lora_sft", {"global_batch_size": {"enum": [16, 32]}}),
    ("nova_pro_1_0_p5_gpu_sft", {"global_batch_size": {"enum": [16, 32]}}),
    ("nova_pro_1_0_p5_gpu_dpo", {"max_length": {"min": 1024, "max": 32768, "multiple_of": 1024}}),
    ("nova_pro_1_0_p4d_gpu_dpo", {"max_length": {"min": 1024, "max": 16384, "multiple_of": 1024}}),
    ("nova_lite_2_0_p5_gpu_lora_sft", {"max_length": {"enum": [8192, 16384, 32768, 65536]}, "max_steps": {"min": 4}}),
    ("nova_lite_2_0_p5_gpu_sft", {"max_length": {"enum": [8192, 16384, 32768, 65536]}, "max_steps": {"min": 4}}),
    ("pretrain", {"global_batch_size": {"enum": [32, 64, 128, 256]}}),
    ("smtj_p5_p5en_gpu", {"global_batch_size": {"enum": [16, 32, 64, 128, 256]}}),
]
# Keys where the comment-derived rule replaces the template's range (template too wide / wrong).
FORCE = {"max_length", "global_batch_size"}

# Instance matrix. platform -> model -> method -> {instance type: [counts]}.
_P5, _P5EN, _P4D = "ml.p5.48xlarge", "ml.p5en.48xlarge", "ml.p4d.24xlarge"
_G512, _G548, _G612, _G648 = "ml.g5.12xlarge", "ml.g5.48xlarge", "ml.g6.12xlarge", "ml.g6.48xlarge"
EVAL_TYPES = {
    "NOVA_MICRO": [
        "ml.g5.4xlarge",
        "ml.g5.8xlarge",
        "ml.g5.12xlarge",
        "ml.g5.16xlarge",
        "ml.g5.24xlarge",
        "ml.g6.4xlarge",
        "ml.g6.8xlarge",
        "ml.g6.12xlarge",
        "ml.g6.16xlarge",
        "ml.g6.24xlarge",
        "ml.g6.48xlarge",
        _P5,
    ],
    "NOVA_LITE": [_G512, "ml.g5.24xlarge", _G612, "ml.g6.24xlarge", _G648, _P5],
    "NOVA_LITE_2": [_P4D, _P5],
    "NOVA_PRO": [_P5],
}
EVAL_COUNTS = [1, 2, 4, 8, 16]
INSTANCES: dict[str, dict[str, dict[str, dict[str, list[int]]]]] = {
    "SMTJ": {
        "NOVA_MICRO": {
            "sft_lora": {_G512: [1], _G548: [1], _G612: [1], _G648: [1], _P4D: [2, 4], _P5: [2, 4]},
            "sft_full": {_G548: [1], _G648: [1], _P4D: [2, 4], _P5: [2, 4]},
            # DPO: not in readme; recipe metadata types, SMHP DPO counts (facts §3.4), g5/g6 recipes are 1 node.
            "dpo_lora": {_G512: [1], _G548: [1], _G612: [1], _G648: [1], _P4D: [2, 4, 8], _P5: [2, 4, 8]},
            "dpo_full": {_P4D: [2, 4, 8], _P5: [2, 4, 8]},
        },
        "NOVA_LITE": {
            "sft_lora": {_G512: [1], _G548: [1], _G612: [1], _G648: [1], _P4D: [4, 8, 16], _P5: [4, 8, 16]},
            "sft_full": {_P4D: [4, 8, 16], _P5: [4, 8, 16]},
            "dpo_lora": {_G548: [1], _G648: [1], _P4D: [4, 8, 16], _P5: [4, 8, 16]},
            "dpo_full": {_P4D: [4, 8, 16], _P5: [4, 8, 16]},
        },
        "NOVA_LITE_2": {
            "sft_lora": {_P5: [4, 8, 16], _P5EN: [4, 8, 16]},
            "sft_full": {_P5: [4, 8, 16], _P5EN: [4, 8, 16]},
            "rft_lora": {_P5: [4], _P5EN: [4]},
            "rft_full": {_P5: [4], _P5EN: [4]},
        },
        "NOVA_PRO": {
            "sft_lora": {_P4D: [6, 12, 24], _P5: [6, 12, 48]},
            "sft_full": {_P5: [3, 6, 12, 24]},
            "dpo_lora": {_P4D: [6, 12, 24], _P5: [6, 12, 24]},
            "dpo_full": {_P4D: [12, 24], _P5: [6, 12, 24]},
        },
    },
    "SMHP": {
        "NOVA_MICRO": {
            "cpt": {_P5: [2, 4, 8, 16, 32]},
            "sft_lora": {_P5: [2, 4, 8]},
            "sft_full": {_P5: [2, 4, 8]},
            "dpo_lora": {_P5: [2, 4, 8]},
            "dpo_full": {_P5: [2, 4, 8]},
        },
        "NOVA_LITE": {
            "cpt": {_P5: [4, 8, 16, 32]},
            "sft_lora": {_P5: [4, 8, 16]},
            "sft_full": {_P5: [4, 8, 16]},
            "dpo_lora": {_P5: [4, 8, 16]},
            "dpo_full": {_P5: [4, 8, 16]},
        },
        "NOVA_LITE_2": {
            "cpt": {_P5: [4, 8, 16, 32]},
            "sft_lora": {_P5: [4, 8, 16], _P5EN: [4, 8, 16]},
            "sft_full": {_P5: [4, 8, 16], _P5EN: [4, 8, 16]},
            "rft_lora": {_P5: [2, 4, 8, 16]},
            "rft_full": {_P5: [2, 4, 8, 16]},
            # facts §3.1: RFT multiturn replicas enum [2, 4, 6, 8]
            "rft_multiturn_lora": {_P5: [2, 4, 6, 8]},
            "rft_multiturn_full": {_P5: [2, 4, 6, 8]},
        },
        "NOVA_PRO": {
            "cpt": {_P5: [6, 12, 24]},
            "sft_lora": {_P5: [6, 12, 48]},
            "sft_full": {_P5: [6, 12, 48]},
            "dpo_lora": {_P5: [6, 12, 24]},
            "dpo_full": {_P5: [6, 12, 24]},
        },
    },
}

# Recipes per (model, method) for SMTJ/SMHP; first one containing ml.p5.48xlarge is the default.
TRAIN_RECIPES = {
    ("NOVA_MICRO", "sft_lora"): [
        "nova_micro_1_0_p5_p4d_gpu_lora_sft",
        "nova_micro_1_0_g5_g6_12x_gpu_lora_sft",
        "nova_micro_1_0_g5_g6_48x_gpu_lora_sft",
    ],
    ("NOVA_MICRO", "sft_full"): ["nova_micro_1_0_p5_p4d_gpu_sft", "nova_micro_1_0_g5_g6_48x_gpu_sft"],
    ("NOVA_MICRO", "dpo_lora"): [
        "nova_micro_1_0_p5_p4d_gpu_lora_dpo",
        "nova_micro_1_0_g5_g6_12x_gpu_lora_dpo",
        "nova_micro_1_0_g5_g6_48x_gpu_lora_dpo",
    ],
    ("NOVA_MICRO", "dpo_full"): ["nova_micro_1_0_p5_p4d_gpu_dpo"],
    ("NOVA_MICRO", "cpt"): ["nova_micro_1_0_p5x8_gpu_pretrain"],
    ("NOVA_LITE", "sft_lora"): [
        "nova_lite_1_0_p5_p4d_gpu_lora_sft",
        "nova_lite_1_0_g5_g6_12x_gpu_lora_sft",
        "nova_lite_1_0_g5_g6_48x_gpu_lora_sft",
    ],
    ("NOVA_LITE", "sft_full"): ["nova_lite_1_0_p5_p4d_gpu_sft"],
    ("NOVA_LITE", "dpo_lora"): ["nova_lite_1_0_p5_p4d_gpu_lora_dpo", "nova_lite_1_0_g5_g6_48x_gpu_lora_dpo"],
    ("NOVA_LITE", "dpo_full"): ["nova_lite_1_0_p5_p4d_gpu_dpo"],
    ("NOVA_LITE", "cpt"): ["nova_lite_1_0_p5x16_gpu_pretrain"],
    ("NOVA_PRO", "sft_lora"): ["nova_pro_1_0_p5_p4d_gpu_lora_sft"],
    ("NOVA_PRO", "sft_full"): ["nova_pro_1_0_p5_gpu_sft"],
    ("NOVA_PRO", "dpo_lora"): ["nova_pro_1_0_p5_p4d_gpu_lora_dpo"],
    ("NOVA_PRO", "dpo_full"): ["nova_pro_1_0_p5_gpu_dpo", "nova_pro_1_0_p4d_gpu_dpo"],
    ("NOVA_PRO", "cpt"): ["nova_pro_1_0_p5x24_gpu_pretrain"],
    ("NOVA_LITE_2", "sft_lora"): ["nova_lite_2_0_p5_gpu_lora_sft"],
    ("NOVA_LITE_2", "sft_full"): ["nova_lite_2_0_p5_gpu_sft"],
    ("NOVA_LITE_2", "cpt"): ["nova_lite_2_0_p5x8_gpu_pretrain"],
}
# Which instance types each recipe serves (nova_metadata.json, restricted to the instance matrix).
RECIPE_TYPES = {
    "g5_g6_12x": [_G512, _G612],
    "g5_g6_48x": [_G548, _G648],
    "p5_p4d": [_P5, _P4D, _P5EN],
    "p4d_gpu": [_P4D],
    "p5_gpu": [_P5, _P5EN],
    "p5x": [_P5],
    "smtj_p5_p5en": [_P5, _P5EN],
}
EVAL_KINDS = {
    # kind -> {version: recipe suffix}
    "text_benchmark": "general_text_benchmark_eval",
    "mm_benchmark": "general_multi_modal_benchmark_eval",
    "byod": "bring_your_own_dataset_eval",
    "llm_judge": "llm_judge_eval",
    "rubric_llm_judge": "rubric_llm_judge_eval",
    "rft_eval": "rft_eval",
}
EVAL_MODELS = {
    "NOVA_MICRO": "nova_micro_1_0",
    "NOVA_LITE": "nova_lite_1_0",
    "NOVA_PRO": "nova_pro_1_0",
    "NOVA_LITE_2": "nova_lite_2_0",
}

ACCOUNTS = {
    "us-east-1": "708977205387",
    "us-west-2": "176779409107",
    "ap-northeast-1": "878185805882",
    "eu-west-2": "470633809225",
}
REGIONS = {
    "SMTJ": ["us-east-1", "us-west-2", "eu-west-2", "ap-northeast-1"],
    "SMHP": ["us-east-1", "us-west-2", "eu-west-2", "ap-northeast-1"],
    "SMTJServerless": ["us-east-1", "us-west-2", "ap-southeast-2", "ap-northeast-1", "eu-central-1", "eu-west-1"],
    "BEDROCK": ["us-east-1"],
}
EVAL_IMAGES = {
    1: {"SMTJ": "nova-evaluation-repo:SM-TJ-Eval-V2-latest", "SMHP": "nova-evaluation-repo:SM-HP-Eval-V2-latest"},
    2: {"SMTJ": "nova-evaluation-repo:SM-TJ-Eval-V2-latest", "SMHP": "nova-evaluation-repo:SM-HP-Eval-V2-latest"},
}
RFT_MT_IMAGE = {"SMHP": "nova-fine-tune-repo:SM-HP-RFT-TRAIN-V2-latest"}

# Bedrock: our own minimal recipes (Bedrock takes hyperparameters, not a recipe); ranges from
# nova-data-formats.md §5.1 (SFT) and §4.4 (RFT).
BEDROCK_RECIPES = {
    "bedrock_sft_lora": {
        "recipe": {
            "run": {
                "name": "my-bedrock-sft",
                "model_type": None,
                "model_name_or_path": None,
                "data_s3_path": "",
                "validation_data_s3_path": "",
                "output_s3_path": "",
            },
            "training_config": {"max_epochs": 2, "lr": 1e-05, "warmup_steps": 10, "global_batch_size": None},
        },
        "params": {
            "max_epochs": {"type": "integer", "min": 1, "max": 5, "aliases": ["epochCount"]},
            "lr": {"type": "float", "min": 1e-06, "max": 1e-04, "aliases": ["learning_rate", "learningRate"]},
            "warmup_steps": {"type": "integer", "min": 0, "max": 100, "aliases": ["learningRateWarmupSteps"]},
            "global_batch_size": {"type": "integer", "min": 1, "nullable": True, "aliases": ["batchSize"]},
        },
    },
    "bedrock_rft_lora": {
        "recipe": {
            "run": {
                "name": "my-bedrock-rft",
                "model_type": None,
                "model_name_or_path": None,
                "data_s3_path": "",
                "validation_data_s3_path": "",
                "output_s3_path": "",
                "reward_lambda_arn": "",
            },
            "training_config": {
                "max_epochs": 1,
                "global_batch_size": 64,
                "lr": 1e-05,
                "max_prompt_length": 8192,
                "number_generation": 8,
                "max_new_tokens": 8192,
                "reasoning_effort": "high",
                "eval_interval": 10,
            },
        },
        "params": {
            "max_epochs": {"type": "integer", "min": 1, "max": 50, "aliases": ["epochCount"]},
            "global_batch_size": {"type": "integer", "min": 16, "max": 512, "aliases": ["batchSize"]},
            "lr": {"type": "float", "min": 1e-07, "max": 1e-03, "aliases": ["learning_rate", "learningRate"]},
            "max_prompt_length": {"type": "integer", "min": 1, "aliases": ["maxPromptLength"]},
            "number_generation": {"type": "integer", "min": 2, "max": 16, "aliases": ["trainingSamplePerPrompt"]},
            "max_new_tokens": {"type": "integer", "min": 1, "aliases": ["inferenceMaxTokens"]},
            "reasoning_effort": {"type": "string", "enum": ["low", "medium", "high"], "aliases": ["reasoningEffort"]},
            "eval_interval": {"type": "integer", "min": 1, "max": 100, "aliases": ["evalInterval"]},
        },
    },
}
