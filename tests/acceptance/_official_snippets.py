"""Code examples of the official docs (aws/nova-forge-sdk, docs/spec/*.md and samples/*.ipynb), copied verbatim.

Generated from the mirrored repository at HEAD; the comment above each constant names its place.
Do not edit a snippet: the tests execute exactly this text (placeholders are filled by the test,
with the reason in docs/spec-coverage.md)."""

# docs/spec/service-classes.md, ForgeConfig > Example (lines 39-51)
SC_FORGE_CONFIG = r"""
from amzn_nova_forge.core import ForgeConfig, ValidationConfig
from amzn_nova_forge.monitor import MLflowMonitor

config = ForgeConfig(
    output_s3_path="s3://my-bucket/output",
    kms_key_id="my-kms-key-id",
    validation_config=ValidationConfig(iam=True, infra=True, recipe=True),
    mlflow_monitor=MLflowMonitor(
        tracking_uri="arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-xxx",
        experiment_name="nova-customization"
    ),
    enable_job_caching=True
)
"""

# docs/spec/service-classes.md, ForgeTrainer > Constructor > Example (lines 101-114)
SC_TRAINER = r"""
from amzn_nova_forge.trainer import ForgeTrainer
from amzn_nova_forge.core import ForgeConfig
from amzn_nova_forge.manager import SMTJRuntimeManager
from amzn_nova_forge.model.model_enums import Model, TrainingMethod

infra = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2)

trainer = ForgeTrainer(
    model=Model.NOVA_MICRO,
    method=TrainingMethod.SFT_LORA,
    infra=infra,
    training_data_s3_path="s3://my-bucket/training-data/data.jsonl",
    config=ForgeConfig(output_s3_path="s3://my-bucket/output")
)
"""

# docs/spec/service-classes.md, ForgeTrainer > train() > Example (lines 153-163)
SC_TRAIN = r"""
result = trainer.train(
    job_name="my-training-job",
    overrides={
        "max_epochs": 10,
        "lr": 5e-6,
        "warmup_steps": 20,
        "global_batch_size": 128
    }
)
print(f"Training job started: {result.job_id}")
print(f"Checkpoint path: {result.model_artifacts.checkpoint_s3_path}")
"""

# docs/spec/service-classes.md, ForgeTrainer > get_logs() > Example (lines 196-196)
SC_TRAINER_LOGS = r"""
trainer.get_logs(job_result=result, limit=100, start_from_head=True)
"""

# docs/spec/service-classes.md, ForgeEvaluator > Constructor > Example (lines 282-292)
SC_EVALUATOR = r"""
from amzn_nova_forge.evaluator import ForgeEvaluator
from amzn_nova_forge.manager import SMTJRuntimeManager
from amzn_nova_forge.model.model_enums import Model

infra = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2)

evaluator = ForgeEvaluator(
    model=Model.NOVA_MICRO,
    infra=infra,
    data_s3_path="s3://my-bucket/eval-data/data.jsonl"
)
"""

# docs/spec/service-classes.md, ForgeEvaluator > evaluate() > Example (lines 333-352)
SC_EVALUATE = r"""
from amzn_nova_forge.core import EvaluationTask

eval_result = evaluator.evaluate(
    job_name="my-eval-job",
    eval_task=EvaluationTask.MMLU,
    model_path="s3://my-bucket/checkpoints/my-model",
    overrides={
        "max_new_tokens": 2048,
        "temperature": 0,
        "top_p": 1.0
    }
)
print(f"Evaluation job started: {eval_result.job_id}")

# Chain from training result
eval_result = evaluator.evaluate(
    job_name="my-eval-job",
    eval_task=EvaluationTask.MMLU,
    job_result=training_result
)
"""

# docs/spec/service-classes.md, ForgeEvaluator > get_logs() > Example (lines 385-385)
SC_EVALUATOR_LOGS = r"""
evaluator.get_logs(job_result=eval_result, limit=50)
"""

# docs/spec/service-classes.md, End-to-end example (lines 810-860)
SC_END_TO_END = r"""
from amzn_nova_forge.trainer import ForgeTrainer
from amzn_nova_forge.evaluator import ForgeEvaluator
from amzn_nova_forge.deployer import ForgeDeployer
from amzn_nova_forge.inference import ForgeInference
from amzn_nova_forge.core import ForgeConfig
from amzn_nova_forge.manager import SMTJRuntimeManager
from amzn_nova_forge.model.model_enums import Model, TrainingMethod, DeployPlatform
from amzn_nova_forge.core import EvaluationTask

# Shared configuration
config = ForgeConfig(
    output_s3_path="s3://my-bucket/output",
    enable_job_caching=True
)
infra = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2)

# 1. Train
trainer = ForgeTrainer(
    model=Model.NOVA_MICRO,
    method=TrainingMethod.SFT_LORA,
    infra=infra,
    training_data_s3_path="s3://my-bucket/data.jsonl",
    config=config
)
train_result = trainer.train(job_name="my-training-job")

# 2. Evaluate
evaluator = ForgeEvaluator(model=Model.NOVA_MICRO, infra=infra, config=config)
eval_result = evaluator.evaluate(
    job_name="my-eval-job",
    eval_task=EvaluationTask.MMLU,
    job_result=train_result
)

# 3. Deploy
deployer = ForgeDeployer(region="us-east-1", model=Model.NOVA_MICRO)
deployment = deployer.deploy(
    model_artifact_path=train_result.model_artifacts.checkpoint_s3_path,
    deploy_platform=DeployPlatform.BEDROCK_OD,
    endpoint_name="my-nova-endpoint"
)

# 4. Inference
inference_client = ForgeInference(region="us-east-1")
response = inference_client.invoke(
    endpoint_arn=deployment.endpoint.uri,
    request_body={
        "messages": [{"role": "user", "content": "Hello!"}],
        "max_tokens": 100
    }
)
"""

# docs/spec/model-customizer.md, set_data_mixing_config() > Example (lines 153-183)
MC_DATA_MIXING = r"""
# Text datamixing (auto-detection)
customizer = NovaModelCustomizer(
    model=Model.NOVA_LITE_2,
    method=TrainingMethod.SFT_LORA,
    infra=SMHPRuntimeManager(...),
    data_s3_path="s3://bucket/data.jsonl",
    data_mixing_enabled=True,
    # is_multimodal=False,  # Optional: skip auto-detection for performance
)

customizer.set_data_mixing_config({
    "customer_data_percent": 50,
    "nova_code_percent": 30,
    "nova_general_percent": 70
})

# Multimodal datamixing (explicit)
customizer_mm = NovaModelCustomizer(
    model=Model.NOVA_LITE_2,
    method=TrainingMethod.SFT_LORA,
    infra=SMHPRuntimeManager(...),
    data_s3_path="s3://bucket/multimodal_data.jsonl",
    data_mixing_enabled=True,
    is_multimodal=True,
)

customizer_mm.set_data_mixing_config({
    "customer_data_percent": 50,
    "nova_general_percent": 70,
    "nova_code_percent": 30,
})
"""

# docs/spec/model-customizer.md, Constructor > Example (lines 58-99)
MC_CONSTRUCTOR = r"""
from amzn_nova_forge import *

# SageMaker Training Jobs (SMTJ)
infra = SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2)

customizer = NovaModelCustomizer(
 model=Model.NOVA_MICRO,
 method=TrainingMethod.SFT_LORA,
 infra=infra,
 data_s3_path="s3://my-bucket/training-data/data.jsonl",
 output_s3_path="s3://my-bucket/output"
)

# Amazon Bedrock (fully managed)
bedrock_infra = BedrockRuntimeManager(
 execution_role="arn:aws:iam::123456789012:role/BedrockRole",
 base_model_identifier="arn:aws:bedrock:us-east-1::custom-model/amazon.nova-2-lite-v1:0:256k:abcdefghijk"
)

bedrock_customizer = NovaModelCustomizer(
 model=Model.NOVA_MICRO,
 method=TrainingMethod.SFT_LORA,
 infra=bedrock_infra,
 data_s3_path="s3://my-bucket/training-data/data.jsonl",
 output_s3_path="s3://my-bucket/output"
)

# With MLflow monitoring (SageMaker only)
mlflow_monitor = MLflowMonitor(
 tracking_uri="arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-xxx",
 experiment_name="nova-customization",
 run_name="sft-run-1"
)

customizer_with_mlflow = NovaModelCustomizer(
 model=Model.NOVA_MICRO,
 method=TrainingMethod.SFT_LORA,
 infra=infra,
 data_s3_path="s3://my-bucket/training-data/data.jsonl",
 output_s3_path="s3://my-bucket/output",
 mlflow_monitor=mlflow_monitor
)
"""

# samples/nova_quickstart.ipynb, cell 26
NB_QUICKSTART_26 = r"""
# Create trainer
trainer = ForgeTrainer(
    model=Model.NOVA_LITE_2,  # Choose your Nova model
    method=TrainingMethod.SFT_LORA,  # Training method
    infra=runtime,  # Runtime configuration
    training_data_s3_path=train_path,  # Training data path
    config=ForgeConfig(
        output_s3_path=S3_OUTPUT_PATH,  # Output path for artifacts
        mlflow_monitor=mlflow_monitor,  # optional
    ),
)
print("✅ ForgeTrainer initialized")
print(f"   Model: Nova Lite 2.0")
print(f"   Method: SFT with LoRA")
"""

# samples/nova_quickstart.ipynb, cell 30
NB_QUICKSTART_30 = r"""
# Define training hyperparameters - You can edit these by navigating to the Nova Customization public documentation, linked in the ../docs/spec.md document.
training_config = {
    "lr": 5e-6,  # Learning rate
    "warmup_steps": 100,  # Warmup steps
    "global_batch_size": 64,  # Batch size
    "max_length": 8192,  # Max sequence length
}

# Start training
training_result = trainer.train(
    job_name="nova-quickstart-training-nova-2", overrides=training_config
)

# "Dry Run" mode is also supported. This feature is useful whenever you want to test or validate inputs and still have a recipe generated, without starting a job.
# trainer.train(
#     job_name="nova-quickstart-training-dry-run",
#     dry_run=True, <-- Set dry_run parameter
#     overrides=training_config
# )

print("\n🚀 Training job started!")
print(training_result)
print(
    f"   📍 Checkpoint URI where the model will be saved: {training_result.model_artifacts.checkpoint_s3_path}"
)
print(f"   🆔 Job ID: {training_result.job_id}")
print(f"   📂 Output Path: {training_result.model_artifacts.output_s3_path}")

# Save job ID for later
job_id = training_result.job_id
escrow_uri = training_result.model_artifacts.checkpoint_s3_path
output_path = training_result.model_artifacts.output_s3_path
"""

# samples/nova_quickstart.ipynb, cell 33
NB_QUICKSTART_33 = r"""
# View recent training logs
print("📋 Training Logs:")
print("=" * 80)
trainer.get_logs(job_result=training_result, limit=50, start_from_head=False)
"""

# samples/nova_quickstart.ipynb, cell 42
NB_QUICKSTART_42 = r"""
# TODO: Update these values for your environment
S3_BUCKET = S3_BUCKET
S3_DATA_PATH = f"s3://{S3_BUCKET}/demo/input"
S3_OUTPUT_PATH = f"s3://{S3_BUCKET}/demo/output"

eval_infra = SMTJRuntimeManager(
    instance_type="ml.p5.48xlarge",  # Change the instance type if needed (e.g. p5.48xlarge)
    instance_count=1,
)

evaluator = ForgeEvaluator(
    model=Model.NOVA_LITE_2,
    infra=eval_infra,
    data_s3_path=S3_DATA_PATH,  # The data_s3_path is not used in eval job
    config=ForgeConfig(
        output_s3_path=S3_OUTPUT_PATH,  # This will be your eval output path
    ),
)
"""

# samples/nova_quickstart.ipynb, cell 44
NB_QUICKSTART_44 = r"""
mmlu_eval_result = evaluator.evaluate(
    job_name="eval-test-mmlu",  # The job name you specified
    eval_task=EvaluationTask.MMLU,  # The eval task
)

byod_eval_result = evaluator.evaluate(
    job_name="eval-test-byod",
    eval_task=EvaluationTask.GEN_QA,
    task_config=EvalTaskConfig(
        override_data_s3_path="s3://<data-s3-bucket>/nova-customization/gen_qa.jsonl",  # TODO: Replace with your data path
    ),
    # model_path='s3://customer-escrow-<your-model-ckpt-bucket>/your-model-path/' # TODO: Replace with your model path
    overrides={"max_new_tokens": 2048},
)

# byom_eval_result = evaluator.evaluate(
#     job_name='eval-test-byom',
#     eval_task=EvaluationTask.GEN_QA,
#     task_config=EvalTaskConfig(
#         override_data_s3_path='s3://<your-byom-dataset-bucket>/input/eval/byom/byom_data.jsonl', # TODO: Replace with your dataset
#         processor={
#             "lambda_arn": "arn:aws:lambda:<region>:<account>:function:<lambda>" # TODO: Your byom lambda
#         },
#     ),
# )

# llm_judge_eval_result = evaluator.evaluate(
#     job_name='eval-test-llm-judge',
#     eval_task=EvaluationTask.LLM_JUDGE,
#     task_config=EvalTaskConfig(
#         override_data_s3_path='s3://<your-llm-judge-dataset-bucket>/input/eval/llm_judge/llm_judge.jsonl' # TODO: Replace with your dataset
#     ),
# )
"""
