"""Typed dependencies: state lives on ``app.state``, so every test builds a fresh app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from casecast.serving.access import Permission, Principal, requires
from casecast.serving.metrics import ServiceMetrics
from casecast.serving.services import Services
from casecast.serving.settings import ServingSettings


def get_services(request: Request) -> Services:
    return request.app.state.services


def get_settings(request: Request) -> ServingSettings:
    return request.app.state.services.settings


def get_metrics(request: Request) -> ServiceMetrics:
    return request.app.state.metrics


def get_request_id(request: Request) -> str:
    return request.state.request_id


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[ServingSettings, Depends(get_settings)]
RequestIdDep = Annotated[str, Depends(get_request_id)]
MetricsDep = Annotated[ServiceMetrics, Depends(get_metrics)]

# Who is asking, once their key allows the route's permission.
PredictCaller = Annotated[Principal, Depends(requires(Permission.PREDICT))]
SearchCaller = Annotated[Principal, Depends(requires(Permission.SEARCH))]
CaseReader = Annotated[Principal, Depends(requires(Permission.READ_CASES))]
CardReader = Annotated[Principal, Depends(requires(Permission.READ_MODEL_CARD))]
SimilarCaller = Annotated[Principal, Depends(requires(Permission.SIMILAR))]
RecordReader = Annotated[Principal, Depends(requires(Permission.OWN_RECORDS))]
FeedbackGiver = Annotated[Principal, Depends(requires(Permission.FEEDBACK))]
ModelAdmin = Annotated[Principal, Depends(requires(Permission.ADMIN_MODELS))]
KeyAdmin = Annotated[Principal, Depends(requires(Permission.ADMIN_KEYS))]
