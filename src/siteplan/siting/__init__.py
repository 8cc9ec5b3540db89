"""Multi-phase, multi-operator siting: which sites to build and which operator's station
goes where, in which phase, meeting every quota and coverage target at least cost."""

from siteplan.siting.diagnose import Finding
from siteplan.siting.inputs import SitingInputs, SitingWeights, Target, siting_inputs
from siteplan.siting.model import SitingModel, build_siting_model
from siteplan.siting.plan import SitingPlan, plan_sites, served_share, solve_siting

__all__ = [
    "Finding", "SitingInputs", "SitingWeights", "Target", "siting_inputs", "SitingModel", "build_siting_model",
    "SitingPlan", "plan_sites", "served_share", "solve_siting",
]
