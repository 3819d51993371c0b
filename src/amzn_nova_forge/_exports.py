"""Where every public name lives. Each public namespace re-exports a slice of this table."""

from __future__ import annotations

ENUMS = {
    n: "amzn_nova_forge.core.enums"
    for n in (
        "Model",
        "Version",
        "TrainingMethod",
        "Platform",
        "DeployPlatform",
        "DeploymentMode",
        "EvaluationTask",
        "JobStatus",
        "EnvType",
        "VFEnvId",
        "EvaluationMetric",
        "EvaluationStrategy",
        "ModelStatus",
        "FilterMethod",
        "TransformMethod",
        "ValidateMethod",
        "SMTJRuntimeMode",
    )
}
ERRORS = {
    n: "amzn_nova_forge.errors"
    for n in (
        "NovaForgeError",
        "ConfigError",
        "DataPrepError",
        "DatasetValidationError",
        "RecipeValidationError",
        "RecipeOverrideError",
        "InstanceConfigError",
        "UnsupportedRegionError",
        "UnknownRuntimeError",
        "UnsupportedFeatureError",
        "MissingDependencyError",
        "AWSServiceError",
        "ValidationCheckError",
        "NotificationManagerInfraError",
        "DeploymentError",
        "JobError",
        "JobSubmissionError",
        "JobFailedError",
        "JobTimeoutError",
    )
}
MANAGERS = {
    "RuntimeManager": "amzn_nova_forge.manager._base",
    "JobConfig": "amzn_nova_forge.manager._base",
    "SMTJRuntimeManager": "amzn_nova_forge.manager._smtj",
    "SMTJServerlessRuntimeManager": "amzn_nova_forge.manager._serverless",
    "SMHPRuntimeManager": "amzn_nova_forge.manager._smhp",
    "BedrockRuntimeManager": "amzn_nova_forge.manager._bedrock",
    "LocalRuntimeManager": "amzn_nova_forge.manager._local",
    "SMTJDataPrepRuntimeManager": "amzn_nova_forge.manager._dataprep",
    "DataPrepJobConfig": "amzn_nova_forge.manager._dataprep",
    "GlueRuntimeManager": "amzn_nova_forge.manager._dataprep_glue",
}
RESULTS = {
    "BaseJobResult": "amzn_nova_forge.model.result._base",
    "TrainingResult": "amzn_nova_forge.model.result._training",
    "ModelArtifacts": "amzn_nova_forge.model.result._training",
    "SMTJTrainingResult": "amzn_nova_forge.model.result._training",
    "SMTJServerlessTrainingResult": "amzn_nova_forge.model.result._training",
    "SMHPTrainingResult": "amzn_nova_forge.model.result._training",
    "BedrockTrainingResult": "amzn_nova_forge.model.result._training",
    "LocalTrainingResult": "amzn_nova_forge.model.result._training",
    "EvaluationResult": "amzn_nova_forge.model.result._evaluation",
    "SMTJEvaluationResult": "amzn_nova_forge.model.result._evaluation",
    "SMHPEvaluationResult": "amzn_nova_forge.model.result._evaluation",
    "BedrockEvaluationResult": "amzn_nova_forge.model.result._evaluation",
    "LocalEvaluationResult": "amzn_nova_forge.model.result._evaluation",
    "InferenceResult": "amzn_nova_forge.model.result._inference",
    "SMTJBatchInferenceResult": "amzn_nova_forge.model.result._inference",
    "LocalBatchInferenceResult": "amzn_nova_forge.model.result._inference",
    "SingleInferenceResult": "amzn_nova_forge.model.result._single",
    "DeploymentResult": "amzn_nova_forge.model.result._deployment",
    "EndpointInfo": "amzn_nova_forge.model.result._deployment",
}
CUSTOMIZER = {"NovaModelCustomizer": "amzn_nova_forge.model._customizer"}
CONFIGS = {
    n: "amzn_nova_forge.core.config"
    for n in ("ForgeConfig", "ValidationConfig", "JobCachingConfig", "DEFAULT_JOB_CACHE_DIR")
}
DATASET = {
    n: "amzn_nova_forge.dataset._loaders"
    for n in ("DatasetLoader", "JSONLDatasetLoader", "JSONDatasetLoader", "CSVDatasetLoader", "ParquetDatasetLoader")
}
MONITOR = {
    "CloudWatchLogMonitor": "amzn_nova_forge.monitor._logs",
    "MLflowMonitor": "amzn_nova_forge.monitor._mlflow",
}
RECIPE = {
    "RecipeBuilder": "amzn_nova_forge.recipe._builder",
    "BuiltRecipe": "amzn_nova_forge.recipe._builder",
}
IAM = {
    "create_bedrock_execution_role": "amzn_nova_forge.iam.iam_role_creator",
    "create_sagemaker_execution_role": "amzn_nova_forge.iam.iam_role_creator",
}
UTIL = {"verify_reward_function": "amzn_nova_forge.util._reward"}
NOTIFICATIONS = {
    "NotificationManager": "amzn_nova_forge.notifications._base",
    "SMTJNotificationManager": "amzn_nova_forge.notifications._smtj",
    "SMHPNotificationManager": "amzn_nova_forge.notifications._smhp",
}
RFT = {
    "RFTMultiturnInfrastructure": "amzn_nova_forge.rft_multiturn._infra",
    "CustomEnvironment": "amzn_nova_forge.rft_multiturn._custom_env",
    "list_rft_stacks": "amzn_nova_forge.rft_multiturn._stacks",
    "create_rft_execution_role": "amzn_nova_forge.rft_multiturn._role",
}

TOP_LEVEL = {
    **ENUMS,
    **ERRORS,
    **MANAGERS,
    **RESULTS,
    **CUSTOMIZER,
    **CONFIGS,
    **DATASET,
    **MONITOR,
    **RECIPE,
    **IAM,
    **UTIL,
    **NOTIFICATIONS,
    **RFT,
}
