"""The outcome model, one idea per module: case preparation, features, base learners, the
stack, calibration, article heads, explanations, and the classifier composing them."""

from casecast.models.outcome.articles import ArticleEstimate, ArticleHeads
from casecast.models.outcome.calibration import TemperatureCalibrator
from casecast.models.outcome.cases import CasePreparer, PreparedCases
from casecast.models.outcome.classifier import FORMAT_VERSION, CaseOutcomeClassifier, OutcomeDetails
from casecast.models.outcome.explain import (
    Effect,
    FieldEffect,
    OcclusionExplainer,
    PassageEffect,
    effect_from_record,
)
from casecast.models.outcome.features import CaseFeatures, CaseMatrices
from casecast.models.outcome.learners import ChiSquaredTrees, NBLogisticRegression
from casecast.models.outcome.stack import StackedCaseClassifier

__all__ = [
    "FORMAT_VERSION",
    "ArticleEstimate",
    "ArticleHeads",
    "CaseFeatures",
    "CaseMatrices",
    "CaseOutcomeClassifier",
    "CasePreparer",
    "ChiSquaredTrees",
    "Effect",
    "FieldEffect",
    "NBLogisticRegression",
    "OcclusionExplainer",
    "OutcomeDetails",
    "PassageEffect",
    "PreparedCases",
    "StackedCaseClassifier",
    "TemperatureCalibrator",
    "effect_from_record",
]
