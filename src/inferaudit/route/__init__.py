"""Quality-aware routing: run an eval set through the gateway against candidate models, and recommend per
feature the cheapest route that meets a quality bar (``inferaudit route eval``)."""

from .candidates import Candidate, CandidatesPlan, load_candidates
from .errors import CandidatesError, EvalSetError, RouteError
from .evalset import EvalSet, Item, load_evalset
from .recommend import FeatureRoute, Score, eval_report, recommend
from .routes import route_table, write_routes
from .runner import EvalRun, ItemResult, run_eval, runs_of

__all__ = ["Candidate", "CandidatesError", "CandidatesPlan", "EvalRun", "EvalSet", "EvalSetError", "FeatureRoute",
           "Item", "ItemResult", "RouteError", "Score", "eval_report", "load_candidates", "load_evalset", "recommend", "route_table",
           "run_eval", "runs_of", "write_routes"]
