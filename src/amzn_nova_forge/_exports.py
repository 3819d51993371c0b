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
        "LocalCommandExecutionError",
        "SandboxUnavailableError",
    )
}
MANAGERS = {
    "RuntimeManager": "amzn_nova_forge.manager._base",
    "JobConfig": "amzn_nova_forge.manager._base",
    "SMTJRuntimeManager": "amzn_nova_forge.manager._smtj",
    "SMTJServerlessRuntimeManager": "amzn_nova_forge.manager._serverless",
    "MTRLEvaluationJobs": "amzn_nova_forge.manager._mtrl_ops",
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
    "ModelDeployResult": "amzn_nova_forge.model.result._deployment",
}
CUSTOMIZER = {"NovaModelCustomizer": "amzn_nova_forge.model._customizer"}
TRAINER = {"ForgeTrainer": "amzn_nova_forge.trainer._trainer"}
EVALUATOR = {
    "ForgeEvaluator": "amzn_nova_forge.evaluator._evaluator",
    "EvalTaskConfig": "amzn_nova_forge.evaluator._evaluator",
}
CONFIGS = {
    n: "amzn_nova_forge.core.config"
    for n in ("ForgeConfig", "ValidationConfig", "JobCachingConfig", "DEFAULT_JOB_CACHE_DIR")
}
DATASET = {
    "DatasetLoader": "amzn_nova_forge.dataset._loaders",
    **{
        n: "amzn_nova_forge.dataset._formats"
        for n in (
            "JSONLDatasetLoader",
            "JSONDatasetLoader",
            "CSVDatasetLoader",
            "ParquetDatasetLoader",
            "ArrowDatasetLoader",
        )
    },
    "HuggingFaceDatasetLoader": "amzn_nova_forge.dataset._hf",
    "CloudWatchDatasetLoader": "amzn_nova_forge.dataset._cloudwatch",
}
MONITOR = {
    "CloudWatchLogMonitor": "amzn_nova_forge.monitor._logs",
    "MLflowMonitor": "amzn_nova_forge.monitor._mlflow",
    "MTRLLogMonitor": "amzn_nova_forge.monitor._mtrl",
}
RECIPE = {
    "RecipeBuilder": "amzn_nova_forge.recipe._builder",
    "BuiltRecipe": "amzn_nova_forge.recipe._builder",
    "RecipeConfig": "amzn_nova_forge.recipe._config",
    "ConfigParameter": "amzn_nova_forge.recipe._config",
}
IAM = {
    "create_bedrock_execution_role": "amzn_nova_forge.iam.iam_role_creator",
    "create_sagemaker_execution_role": "amzn_nova_forge.iam.iam_role_creator",
    "create_bedrock_batch_inference_execution_role": "amzn_nova_forge.iam._service_roles",
    "create_sagemaker_invoke_role": "amzn_nova_forge.iam._service_roles",
    "create_smtj_dataprep_execution_role": "amzn_nova_forge.iam._service_roles",
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
#: Only in ``amzn_nova_forge.rft_multiturn`` (as in the official package), not top-level.
RFT_NAMESPACE = {
    "QueueMessageCounts": "amzn_nova_forge.rft_multiturn._queues",
    "LocalRFTInfrastructure": "amzn_nova_forge.rft_multiturn._local",
    "EC2RFTInfrastructure": "amzn_nova_forge.rft_multiturn._remote",
    "ECSRFTInfrastructure": "amzn_nova_forge.rft_multiturn._remote",
    "Sandbox": "amzn_nova_forge.rft_multiturn.sandbox",
    "SandboxLimits": "amzn_nova_forge.rft_multiturn.sandbox",
}
DEPLOYER = {
    "ForgeDeployer": "amzn_nova_forge.deployer._deployer",
    "SageMakerEndpointEnvironment": "amzn_nova_forge.model._deploy_env",
    "InferenceComponentConfig": "amzn_nova_forge.model._deploy_env",
}
INFERENCE = {"ForgeInference": "amzn_nova_forge.inference._inference"}

TOP_LEVEL = {
    **ENUMS,
    **ERRORS,
    **MANAGERS,
    **RESULTS,
    **CUSTOMIZER,
    **TRAINER,
    **EVALUATOR,
    **CONFIGS,
    **DATASET,
    **MONITOR,
    **RECIPE,
    **IAM,
    **UTIL,
    **NOTIFICATIONS,
    **RFT,
    **DEPLOYER,
    **INFERENCE,
}
