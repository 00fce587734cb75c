#!/usr/bin/env bash
# Run the MLflow tracking server that actlab jobs log to, privately on the Ray head (or any
# host of the cluster network). It listens on 127.0.0.1 only: jobs whose driver runs on the
# same host use --tracking-uri http://127.0.0.1:5000, and you reach the UI and the API from
# your machine through the SSH tunnel of cluster/README.md:
#
#   ssh -L 8265:localhost:8265 -L 5000:localhost:5000 HEAD
#
# Usage (on the head):   bash cluster/mlflow-server.sh            # foreground
#                        nohup bash cluster/mlflow-server.sh > ~/mlflow/server.log 2>&1 &
#
# Settings (environment variables):
#   MLFLOW_DIR              local data dir                      (default ~/mlflow)
#   MLFLOW_BACKEND_STORE    runs/params/metrics store           (default sqlite:///$MLFLOW_DIR/mlflow.db)
#                           e.g. postgresql://mlflow:PASSWORD@db.internal:5432/mlflow
#                           (needs psycopg2, which cluster/Dockerfile installs)
#   MLFLOW_ARTIFACTS        where artifacts go; the server proxies uploads, so jobs need no
#                           storage credentials          (default $MLFLOW_DIR/artifacts)
#                           e.g. s3://my-bucket/actlab-mlflow (needs boto3 + AWS credentials here)
#   MLFLOW_HOST             bind address                        (default 127.0.0.1; keep it private:
#                           use the cluster-internal IP only if workers on other hosts must log directly)
#   MLFLOW_PORT             port                                (default 5000)
#
# SQLite and local artifacts die with the head's disk (`ray down` terminates the instance):
# use PostgreSQL and an object store for results that must outlive the cluster.
set -euo pipefail

MLFLOW_DIR="${MLFLOW_DIR:-$HOME/mlflow}"
MLFLOW_BACKEND_STORE="${MLFLOW_BACKEND_STORE:-sqlite:///${MLFLOW_DIR}/mlflow.db}"
MLFLOW_ARTIFACTS="${MLFLOW_ARTIFACTS:-${MLFLOW_DIR}/artifacts}"
MLFLOW_HOST="${MLFLOW_HOST:-127.0.0.1}"
MLFLOW_PORT="${MLFLOW_PORT:-5000}"

mkdir -p "${MLFLOW_DIR}"
case "${MLFLOW_ARTIFACTS}" in
    *://*) ;;                              # object store: nothing to create here
    *) mkdir -p "${MLFLOW_ARTIFACTS}" ;;
esac

echo "MLflow: ${MLFLOW_BACKEND_STORE} (artifacts: ${MLFLOW_ARTIFACTS}) on http://${MLFLOW_HOST}:${MLFLOW_PORT}" >&2
exec mlflow server \
    --host "${MLFLOW_HOST}" \
    --port "${MLFLOW_PORT}" \
    --workers 2 \
    --backend-store-uri "${MLFLOW_BACKEND_STORE}" \
    --artifacts-destination "${MLFLOW_ARTIFACTS}"
