"""The outcome model, one idea per module: case preparation, features, base learners, the
stack, calibration, article heads, explanations, and the classifier composing them."""

from models.outcome.articles import ArticleEstimate, ArticleHeads
from models.outcome.calibration import TemperatureCalibrator
from models.outcome.cases import CasePreparer, PreparedCases
from models.outcome.classifier import FORMAT_VERSION, CaseOutcomeClassifier, OutcomeDetails
from models.outcome.explain import Effect, FieldEffect, OcclusionExplainer, PassageEffect
from models.outcome.features import CaseFeatures, CaseMatrices
from models.outcome.learners import ChiSquaredTrees, NBLogisticRegression
from models.outcome.stack import StackedCaseClassifier

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
]
