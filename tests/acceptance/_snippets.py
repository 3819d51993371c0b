"""The spec's example texts, copied verbatim (generated once from seeds/api-spec.txt and readme.txt;
the comment above each constant names where it comes from). Do not edit a snippet: the tests
execute exactly this text."""

# api-spec.txt, SMTJRuntimeManager > Constructor > Example (lines 677-681)
SPEC_SMTJ_MANAGER = r"""
from amzn_nova_forge.manager import *
infra = SMTJRuntimeManager(
 instance_type="ml.p5.48xlarge",
 instance_count=2
)
"""

# api-spec.txt, SMHPRuntimeManager > Constructor > Example (lines 744-750)
SPEC_SMHP_MANAGER = r"""
from amzn_nova_forge.manager import *
infra = SMHPRuntimeManager(
 instance_type="ml.p5.48xlarge",
 instance_count=4,
 cluster_name="my-hyperpod-cluster",
 namespace="default"
)
"""

# api-spec.txt, BedrockRuntimeManager > Constructor > Example (lines 902-906)
SPEC_BEDROCK_MANAGER = r"""
from amzn_nova_forge.manager import *
infra = BedrockRuntimeManager(
 execution_role="arn:aws:iam::123456789012:role/BedrockRole",
 base_model_identifier="arn:aws:bedrock:us-east-1::custom-model/amazon.nova-2-lite-v1:0:256k:abcdefghijk" # optional: your custom model ARN for iterative training
)
"""

# api-spec.txt, SMTJServerlessRuntimeManager > Constructor (lines 964-967)
SPEC_SERVERLESS_MANAGER = r"""
from amzn_nova_forge.manager import *
infra = SMTJServerlessRuntimeManager(
  model_package_group_name="model-group",
)
"""

# api-spec.txt, BaseJobResult > get_job_status() > Example (lines 1345-1347)
SPEC_GET_JOB_STATUS = r"""
status, raw_status = result.get_job_status()
if status == JobStatus.COMPLETED:
 print("Job finished!")
"""

# api-spec.txt, BaseJobResult > dump() > Example (lines 1371-1374)
SPEC_DUMP = r"""
result.dump()
# Result will be saved to ./{job_id}_{platform}.json under current dir
result.dump(file_path='/customized/path', file_name='customized_name.json')
# Result will be saved to /customized/path/customized_name.json
"""

# api-spec.txt, BaseJobResult > load() > Example (lines 1393-1393)
SPEC_LOAD = r"""
job_result = BaseJobResult.load('./my_job_result.json')
"""

# api-spec.txt, EvaluationResult > get() > Example (lines 1544-1547)
SPEC_EVAL_GET = r"""
eval_result = customizer.evaluate(...)
# Wait for job to complete
results = eval_result.get()
print(results)
"""

# api-spec.txt, SMTJBatchInferenceResult > get() (lines 1618-1620)
SPEC_BATCH_GET = r"""
inference_result = customizer.batch_inference(...)
# Wait for job to complete
results = inference_result.get(s3_path="s3://my-bucket/formatted-results.jsonl")
"""

# api-spec.txt, CloudWatchLogMonitor > from_job_result() > Example (lines 1924-1925)
SPEC_FROM_JOB_RESULT = r"""
result = customizer.train(job_name="my-job")
monitor = CloudWatchLogMonitor.from_job_result(job_result=result)
"""

# api-spec.txt, CloudWatchLogMonitor > get_logs() > Example (lines 1954-1954)
SPEC_GET_LOGS = r"""
logs = monitor.get_logs(limit=100)
"""

# api-spec.txt, CloudWatchLogMonitor > show_logs() > Example (lines 1977-1977)
SPEC_SHOW_LOGS = r"""
monitor.show_logs(limit=50, start_from_head=True)
"""

# api-spec.txt, Model Enum > from_model_type() > Example (lines 2218-2218)
SPEC_FROM_MODEL_TYPE = r"""
model = Model.from_model_type("amazon.nova-micro-v1:0:128k")
"""

# api-spec.txt, Job Notifications > Using Job Notifications (lines 2538-2557)
SPEC_NOTIFICATIONS = r"""
from amzn_nova_forge_sdk import *

# Start a training job
customizer = NovaModelCustomizer(
    model=Model.NOVA_MICRO,
    method=TrainingMethod.SFT_LORA,
    infra=SMTJRuntimeManager(instance_type="ml.p5.48xlarge", instance_count=2),
    data_s3_path="s3://my-bucket/training-data/",
    output_s3_path="s3://my-bucket/output/"
)

result = customizer.train(job_name="my-training-job")

# Enable notifications
result.enable_job_notifications(
    emails=["user@example.com", "team@example.com"],
    region="us-west-2", # Optional
    kms_key_id="1234abcd-12ab-34cd-56ef-1234567890ab", # Optional customer KMS key
    output_s3_path="s3://my-bucket/custom-output-path/" # Optional output path
)
"""

# api-spec.txt, Error Handling (lines 2724-2729)
SPEC_ERROR_HANDLING = r"""
try:
 result = customizer.train(job_name="my-job")
except ValueError as e:
 print(f"Configuration error: {e}")
except Exception as e:
 print(f"Training failed: {e}")
"""

# api-spec.txt, NovaModelCustomizer > evaluate() > Example (lines 301-324)
SPEC_EVALUATE = r"""
from amzn_nova_forge.recipe import *

# General eval task (with overrides)
eval_result = customizer.evaluate(
    job_name="my-eval-job",
    eval_task=EvaluationTask.MMLU,
    model_path="s3://my-bucket/checkpoints/my-model/",
    overrides={
        'max_new_tokens': 2048,
        'temperature': 0,
        'top_p': 1.0
    }
)
print(f"Evaluation job started: {eval_result.job_id}")

# BYOM eval task (by providing processor config)
byom_eval_result = customizer.evaluate(
    job_name='my-eval-test-byom',
    eval_task=EvaluationTask.GEN_QA,
    data_s3_path="s3://bucket/data",
    processor={
        "lambda_arn": "arn:aws:lambda:<region>:123456789012:function:byom-lambda"
    }
)
"""

# api-spec.txt, SMHPRuntimeManager > scale_cluster() > Example (lines 814-834)
SPEC_SCALE_CLUSTER = r"""
from amzn_nova_forge.manager import *

# Create a runtime manager for your cluster
manager = SMHPRuntimeManager(
    instance_type="ml.p4d.24xlarge",
    instance_count=4,
    cluster_name="my-hyperpod-cluster",
    namespace="default"
)

# Scale up the worker group from 4 to 8 instances
result = manager.scale_cluster(
    instance_group_name="worker-group",
    target_instance_count=8
)

# Scale down to 2 instances
result = manager.scale_cluster(
    instance_group_name="worker-group",
    target_instance_count=2
)
"""

# api-spec.txt, SMHPRuntimeManager > get_instance_groups() > Example (lines 864-875)
SPEC_GET_INSTANCE_GROUPS = r"""
from amzn_nova_forge.manager import *

# Create a runtime manager for your cluster
manager = SMHPRuntimeManager(
    instance_type="ml.p4d.24xlarge",
    instance_count=4,
    cluster_name="my-hyperpod-cluster",
    namespace="default"
)

# Get the instance groups available on the current cluster.
instance_groups = manager.get_instance_groups()
"""

# api-spec.txt, EvaluationResult > upload_tensorboard_results() > Example (lines 1580-1582)
SPEC_UPLOAD_TENSORBOARD = r"""
eval_result.upload_tensorboard_results(
 tensorboard_s3_path="s3://my-bucket/tensorboard/"
)
"""

# api-spec.txt, EvaluationResult > show() > Example (lines 1561-1561)
SPEC_EVAL_SHOW = r"""
eval_result.show()
"""

# api-spec.txt, MLflowMonitor > Constructor > Example (lines 2066-2088)
SPEC_MLFLOW_MONITOR = r"""
from amzn_nova_forge.monitor import *

# With explicit tracking URI
monitor = MLflowMonitor(
    tracking_uri="arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-xxx",
    experiment_name="nova-customization",
    run_name="sft-run-1"
)

# With default tracking URI (if available)
monitor = MLflowMonitor(
    experiment_name="nova-customization",
    run_name="sft-run-1"
)

# Use with NovaModelCustomizer
customizer = NovaModelCustomizer(
    model=Model.NOVA_LITE_2,
    method=TrainingMethod.SFT_LORA,
    infra=runtime_manager,
    data_s3_path="s3://bucket/data",
    mlflow_monitor=monitor
)
"""

# api-spec.txt, MLflowMonitor > get_presigned_url() > Example (lines 2146-2160)
SPEC_PRESIGNED_URL = r"""
monitor = MLflowMonitor(
    tracking_uri="arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-xxx",
    experiment_name="nova-customization"
)

# Generate presigned URL with defaults
# URL expires in 5 minutes, but session lasts 12 hours once accessed
url = monitor.get_presigned_url()
print(f"Access MLflow UI at: {url}")

# Generate URL with custom expiration times
url = monitor.get_presigned_url(
    session_expiration_duration_in_seconds=3600,  # 1 hour session
    expires_in_seconds=60  # URL expires in 1 minute
)
"""

# api-spec.txt, RFT Multiturn Infrastructure > RFTMultiturnInfrastructure > Example (lines 2392-2439)
SPEC_RFT_MULTITURN = r"""
from amzn_nova_forge import RFTMultiturnInfrastructure, CustomEnvironment, VFEnvId

# Option 1: LOCAL with built-in environment
rft_infra = RFTMultiturnInfrastructure(
    stack_name="my-rft-stack",
    region="us-east-1",
    python_venv_name="my_rft_venv",
    vf_env_id=VFEnvId.WORDLE
)

# Option 2: ECS with custom environment and VPC config
custom_env = CustomEnvironment(
    env_id="my-custom-env", 
    output_dir="~/custom_envs/", 
    env_type="single_turn"
).create(overwrite=True)

rft_infra = RFTMultiturnInfrastructure(
    stack_name="my-rft-stack",
    custom_env=custom_env,
    infrastructure_arn="arn:aws:ecs:us-east-1:123456789012:cluster/my-cluster",
    vpc_config={
        "subnets": ["subnet-12345", "subnet-67890"],
        "security_groups": ["sg-12345"]
    },
    cpu="4096",
    memory="8192"
)

# Deploy infrastructure
rft_infra.setup()

# Start training environment
rft_infra.start_training_environment()

# Use with NovaModelCustomizer
customizer = NovaModelCustomizer(
    model=Model.NOVA_LITE_2,
    method=TrainingMethod.RFT_MULTITURN_LORA,
    infra=runtime,
    data_s3_path="s3://bucket/data.jsonl"
)

training_result = customizer.train(
    job_name="rft-training",
    rft_multiturn_infra=rft_infra
)
"""

# readme.txt, code block 12 (line 489)
README_SMTJ_RUNTIME = r"""
from amzn_nova_customization_sdk.manager import *

runtime = SMTJRuntimeManager(
    instance_type="ml.p5.48xlarge",
    instance_count=4
)
"""

# readme.txt, code block 13 (line 533)
README_SMHP_RUNTIME = r"""
from amzn_nova_customization_sdk.manager import *

runtime = SMHPRuntimeManager(
    instance_type="ml.p5.48xlarge",
    instance_count=4,
    cluster_name="my-hyperpod-cluster",
    namespace="kubeflow"
)
"""

# readme.txt, code block 14 (line 589)
README_CUSTOMIZER_OPTIONS = r"""
from amzn_nova_customization_sdk.model import *
from amzn_nova_customization_sdk.monitor import *

# Optional: Setup MLflow monitoring
mlflow_monitor = MLflowMonitor(
    tracking_uri="arn:aws:sagemaker:us-east-1:123456:mlflow-app/app-xxx",
    experiment_name="nova-customization",
    run_name="sft-experiment-1"
)

customizer = NovaModelCustomizer(
    model=Model.NOVA_LITE_2,
    method=TrainingMethod.SFT_LORA,
    infra=runtime_manager,
    data_s3_path="s3://bucket/data.jsonl",
    output_s3_path="s3://bucket/output/",  # Optional
    model_path="custom/model/path",        # Optional
    generated_recipe_dir="directory-path", # Optional
    mlflow_monitor=mlflow_monitor,         # Optional: Enable MLflow tracking
    data_mixing_enabled=True               # Optional: Enable data mixing (CPT and SFT only on HyperPod)
)
"""

# readme.txt, code block 15 (line 625)
README_DATA_MIXING = r"""
# Initialize with data mixing enabled
customizer = NovaModelCustomizer(
    model=Model.NOVA_LITE_2,
    method=TrainingMethod.SFT_LORA,
    infra=SMHPRuntimeManager(...),  # Must use HyperPod
    data_s3_path="s3://bucket/data.jsonl",
    output_s3_path="s3://bucket/output/",  # Optional
    data_mixing_enabled=True
)

# Configure data mixing percentages
customizer.set_data_mixing_config({
    "customer_data_percent": 50,  # 50% your data
    "nova_code_percent": 30,      # 30% Nova code data (30% of Nova's 50%)
    "nova_general_percent": 70    # 70% Nova general data (70% of Nova's 50%)
})

# Or use 100% customer data (no Nova mixing)
customizer.set_data_mixing_config({
    "customer_data_percent": 100,
    "nova_code_percent": 0,
    "nova_general_percent": 0
})
"""

# readme.txt, code block 17 (line 678)
README_EVALUATE = r"""
from amzn_nova_customization_sdk.recipe import *

eval_result = customizer.evaluate(
    job_name="model-evaluation",
    eval_task=EvaluationTask.MMLU,
    model_path="s3://bucket/model-artifacts/",  # Optional model path override
    subtask="abstract_algebra",  # Optional
    processor={ # Optional, only needed for BYOM (Bring your own metric) Eval
        'lambda_arn': 'arn:aws:lambda:<region>:<account_id>:function:<function-name>', 
        'preprocessing': { # Optional, default to True if not provided
            'enabled': True
        },
        'postprocessing': { # Optional, default to True if not provided
            'enabled': True
        },
        # Optional, Built-in aggregation function (valid options: min, max, average, sum), default to average
        'aggregation': 'average'
    },
    rl_env={ # Optional, only needed for RFT Eval
        'reward_lambda_arn': 'arn:aws:lambda:<region>:<account_id>:function:<reward-function-name>'
    },
    overrides={  # Optional overrides
        'max_new_tokens': 2048,
        'temperature': 0.1,
        'top_p': 0.9
    }
)

eval_result.get_job_status()  # This can be run to check the job status of the current evaluation job.

eval_result.dump() # Save job result to current directory with default naming <job_id>_<platform>.json
eval_result.dump(file_path='my/custom/path', file_name='my-custom-name.json') # Save job result to certain path/name that user specified.

from amzn_nova_customization_sdk.model.result import BaseJobResult
eval_result = BaseJobResult.load('my-path/my-job-result.json') # Load job result from the local file
"""

# readme.txt, code block 20 (line 751)
README_BATCH_INFERENCE = r"""
inference_result = customizer.batch_inference(
    job_name="batch-inference",
    input_path="s3://bucket/inference-input.jsonl",
    output_s3_path="s3://bucket/inference-output/",
    model_path="s3://bucket/model-artifacts/" # Optional
)

inference_result.get_job_status() # This can be run to check the job status of the current evaluation job.
inference_result.get("s3://bucket/output/inference_results.jsonl") # After the job status is COMPLETED, this will download a user-friendly "inference_results.jsonl" file to a user-provided s3 location.
"""

# readme.txt, code block 21 (line 765)
README_GET_LOGS = r"""
# View recent logs
customizer.get_logs(limit=100, start_from_head=False)

# View logs from beginning
customizer.get_logs(start_from_head=True)
"""

# readme.txt, code block 22 (line 781)
README_MLFLOW = r"""
from amzn_nova_customization_sdk.monitor import *

# Create MLflow monitor with explicit tracking URI
mlflow_monitor = MLflowMonitor(
    tracking_uri="arn:aws:sagemaker:us-east-1:123456:mlflow-app/app-xxx",
    experiment_name="nova-customization",
    run_name="sft-run-1"
)

# Or use default tracking URI (if available)
mlflow_monitor = MLflowMonitor(
    experiment_name="nova-customization",
    run_name="sft-run-1"
)

# Use with NovaModelCustomizer
customizer = NovaModelCustomizer(
    model=Model.NOVA_LITE_2,
    method=TrainingMethod.SFT_LORA,
    infra=runtime_manager,
    data_s3_path="s3://bucket/data",
    mlflow_monitor=mlflow_monitor
)
"""

# readme.txt, code block 23 (line 816)
README_MONITOR = r"""
from amzn_nova_customization_sdk.monitor import *
from amzn_nova_customization_sdk.model import *

eval_result = customizer.evaluate(
    job_name="model-evaluation",
    eval_task=EvaluationTask.MMLU,
    model_path="s3://bucket/model-artifacts/", # Optional model path override
    subtask="abstract_algebra",  # Optional
    overrides={                  # Optional overrides
        'max_new_tokens': 2048,
        'temperature': 0.1,
        'top_p': 0.9
    }
)

# Create from job result
monitor = CloudWatchLogMonitor.from_job_result(
    job_result=my_evaluation_job_result
)
# Or Create from job id 
from datetime import datetime
monitor = CloudWatchLogMonitor.from_job_id(
    job_id="job-id",
    platform=Platform.SMTJ,
    started_time=datetime(year=2025, month=11, day=1, hour=20), # Optional, job start time
    cluster_name="cluster_name", # Optional, SMHP cluster name, only needed when platform is SMHP,
    namespace="namespace", # Optional, SMHP namespace, only needed when platform is SMHP
)

# View logs
monitor.show_logs(limit=50, start_from_head=False)

# Get raw logs as list
logs = monitor.get_logs(limit=100)
"""

# readme.txt, code block 25 (line 898)
README_DRY_RUN = r"""
# Training dry run
customizer.train(
    job_name="train_dry_run",
    dry_run=True,
    ...
)

# Evaluation dry run
customizer.evaluate(
    job_name="evaluate_dry_run",
    dry_run=True,
    ...
)
"""

# readme.txt, code block 6 (line 284)
README_EXPLICIT_ROLE = r"""
customizer = NovaModelCustomizer(
    infra=SMTJRuntimeManager(
        execution_role='arn:aws:iam::123456789012:role/MyExecutionRole' # Explicitly set execution role
        instance_count=1,
        instance_type='ml.g5.12xlarge',
    ),
    model=Model.NOVA_LITE_2,
    method=TrainingMethod.SFT_LORA,
    data_s3_path='s3://input-bucket/input.jsonl'
)
"""
