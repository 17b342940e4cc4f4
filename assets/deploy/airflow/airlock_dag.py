"""Airflow DAG: plan once, prepare split objects, fan out N airlock shards as one AWS Batch
array job, finalize split objects, then merge the shards' reports (fails the DAG run if any
object failed or a shard did not report).

Uses the job definition in ../batch/job-definition.json (image whose entrypoint is airlock,
EFS at /shared holding config.toml and the plan). Each command below is airlock's argument
list; the argument lists are JSON-style literals so the repository's tests can check every
flag against the binary.
"""

from datetime import datetime

from airflow import DAG
from airflow.providers.amazon.aws.operators.batch import BatchOperator

SHARDS = 8

PLAN_ARGS = ["plan", "-v", "--output", "/shared/{{ ds_nodash }}/plan.json", "--summary"]
PREPARE_ARGS = ["prepare", "-v", "--plan", "/shared/{{ ds_nodash }}/plan.json"]
RUN_ARGS = ["run", "-v", "--plan", "/shared/{{ ds_nodash }}/plan.json", "--report", "s3://airlock-reports/{{ ds_nodash }}/", "--json"]
FINALIZE_ARGS = ["finalize", "-v", "--plan", "/shared/{{ ds_nodash }}/plan.json"]
REPORT_ARGS = ["report", "-v", "s3://airlock-reports/{{ ds_nodash }}/"]

ENVIRONMENT = [
    {"name": "AIRLOCK_CONFIG", "value": "/shared/config.toml"},
    {"name": "AIRLOCK_DATA_DIR", "value": "/tmp/airlock"},
]


def airlock_job(task_id, command, array_size=None):
    """One Batch job (or array job) of the airlock job definition running `command`."""
    environment = list(ENVIRONMENT)
    if array_size:
        # Batch sets AWS_BATCH_JOB_ARRAY_INDEX in each child but not the size: airlock needs both.
        environment.append({"name": "AWS_BATCH_JOB_ARRAY_SIZE", "value": str(array_size)})
    return BatchOperator(
        task_id=task_id,
        job_name=f"airlock-{task_id}-{{{{ ds_nodash }}}}",
        job_queue="airlock",
        job_definition="airlock",
        container_overrides={"command": command, "environment": environment},
        array_properties={"size": array_size} if array_size else None,
        wait_for_completion=True,
    )


with DAG(
    dag_id="airlock_backfill",
    start_date=datetime(2026, 1, 1),
    schedule="@daily",
    catchup=False,
    max_active_runs=1,
    tags=["airlock", "s3"],
) as dag:
    plan = airlock_job("plan", PLAN_ARGS)
    prepare = airlock_job("prepare", PREPARE_ARGS)
    shards = airlock_job("shards", RUN_ARGS, array_size=SHARDS)
    # Runs whatever the shards did: finalize says which parts are missing, report says why.
    finalize = airlock_job("finalize", FINALIZE_ARGS)
    report = airlock_job("report", REPORT_ARGS)
    finalize.trigger_rule = "all_done"
    report.trigger_rule = "all_done"

    plan >> prepare >> shards >> finalize >> report
